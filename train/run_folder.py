"""One folder per training run: its configuration, command line, metrics and model.

A run folder is named ``<env>__<agent>__seed<S>__<UTC time>`` with the id's slash
spelled as a dash (as rl-zoo3 does), and holds:

- ``config.json``: the exact configuration, the opsgym version and the run's status;
- ``command.txt``: the command line that started it;
- ``evaluations.csv``: one row per periodic evaluation (step, wall time, return and
  the environment's domain metrics, each averaged over the evaluation episodes);
- the model: ``model.zip`` (SB3) or ``agent.npz`` (hand-written agents), and
  ``vecnormalize.npz`` when observations were normalized.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

from opsgym.agents.atomic import append_line, write_text
from opsgym.agents.schema import read_json

CONFIG_FILE = "config.json"
EVALUATIONS_FILE = "evaluations.csv"
# what every reader of config.json needs; each kind of run adds its own keys
CONFIG_SPEC = {"env_id": str, "agent": str, "seed": int, "status": str}


def package_version() -> str:
    try:
        return metadata.version("opsgym")
    except metadata.PackageNotFoundError:
        return "unknown"


def run_name(env_id: str, agent: str, seed: int) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return f"{env_id.replace('/', '-')}__{agent}__seed{seed}__{stamp}"


class RunFolder:
    """Creates and fills one run folder.

    Args:
        root: the folder that holds the runs (created if missing).
        config: the run's configuration; it must name ``env_id``, ``agent`` and ``seed``.
    """

    def __init__(self, root: str | Path, config: dict) -> None:
        base = Path(root) / run_name(config["env_id"], config["agent"], config["seed"])
        path, suffix = base, 1
        while True:
            try:
                path.mkdir(parents=True)
                break
            except FileExistsError:  # another run started within the same second
                suffix += 1
                path = base.with_name(f"{base.name}-{suffix}")
        self.path = path
        self.config = {**config, "opsgym_version": package_version(), "status": "running"}
        self._write_config()
        write_text(path / "command.txt", shlex.join(sys.argv) + "\n")
        self._columns: list[str] | None = None

    def record_evaluation(self, row: dict[str, float]) -> None:
        """Append one evaluation row; the header is fixed by the first row."""
        file = self.path / EVALUATIONS_FILE
        if self._columns is None:
            self._columns = list(row)
            write_text(file, _csv_line(self._columns) + "\n")
        append_line(file, _csv_line([row.get(column, "") for column in self._columns]))

    def finish(self, status: str, **details) -> None:
        """Record how the run ended (``"finished"`` or ``"interrupted"``) and its totals."""
        self.config.update(status=status, **details)
        self._write_config()

    def _write_config(self) -> None:
        write_config(self.path, self.config)


def _csv_line(values: list) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(values)
    return line.getvalue()


def write_config(path: str | Path, config: dict) -> None:
    """Replace the ``config.json`` of the run folder ``path`` atomically."""
    text = json.dumps(config, indent=2, sort_keys=True, default=str)
    write_text(Path(path) / CONFIG_FILE, text + "\n")


def read_config(path: str | Path) -> dict:
    """The ``config.json`` of a run folder, with an error naming what is wrong."""
    file = Path(path) / CONFIG_FILE
    if not file.is_file():
        raise ValueError(f"{path} is not a run folder: {CONFIG_FILE} is missing")
    return read_json(file, CONFIG_SPEC)


def read_evaluations(path: str | Path) -> list[dict[str, float]]:
    """The rows of a run folder's ``evaluations.csv`` as floats (empty if none yet).

    Raises:
        ValueError: naming the file and line: a row that is not a number per column.
    """
    file = Path(path) / EVALUATIONS_FILE
    if not file.is_file():
        return []
    try:
        with file.open(newline="", encoding="utf-8", errors="replace") as handle:
            lines = list(csv.reader(handle))
    except csv.Error as error:
        raise ValueError(f"{file}: not a CSV file ({error})") from error
    if not lines:
        return []
    header, rows = lines[0], []
    for number, values in enumerate(lines[1:], start=2):
        if len(values) != len(header):
            raise ValueError(
                f"{file}:{number}: {len(values)} values for {len(header)} columns {header}"
            )
        try:
            rows.append({key: float(value) for key, value in zip(header, values)})
        except ValueError as error:
            raise ValueError(f"{file}:{number}: {error}") from error
    return rows


def interrupt_unfinished(root: str | Path) -> None:
    """Mark the run folders in ``root`` that are still ``"running"`` as ``"interrupted"``.

    Only for folders no live process is writing to (their trainer was stopped).
    """
    root = Path(root)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            config = read_config(folder)
        except ValueError:
            continue  # not a run folder, or one stopped before its config was written
        if config["status"] == "running":
            write_config(folder, {**config, "status": "interrupted"})

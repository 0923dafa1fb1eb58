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
import json
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

CONFIG_FILE = "config.json"
EVALUATIONS_FILE = "evaluations.csv"


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
        while path.exists():  # two runs started within the same second
            suffix += 1
            path = base.with_name(f"{base.name}-{suffix}")
        path.mkdir(parents=True)
        self.path = path
        self.config = {**config, "opsgym_version": package_version(), "status": "running"}
        self._write_config()
        (path / "command.txt").write_text(shlex.join(sys.argv) + "\n")
        self._columns: list[str] | None = None

    def record_evaluation(self, row: dict[str, float]) -> None:
        """Append one evaluation row; the header is fixed by the first row."""
        file = self.path / EVALUATIONS_FILE
        if self._columns is None:
            self._columns = list(row)
            with file.open("w", newline="") as handle:
                csv.writer(handle).writerow(self._columns)
        with file.open("a", newline="") as handle:
            csv.writer(handle).writerow([row.get(column, "") for column in self._columns])

    def finish(self, status: str, **details) -> None:
        """Record how the run ended (``"finished"`` or ``"interrupted"``) and its totals."""
        self.config.update(status=status, **details)
        self._write_config()

    def _write_config(self) -> None:
        text = json.dumps(self.config, indent=2, sort_keys=True, default=str)
        (self.path / CONFIG_FILE).write_text(text + "\n")


def read_config(path: str | Path) -> dict:
    """The ``config.json`` of a run folder, with an error naming what is wrong."""
    file = Path(path) / CONFIG_FILE
    if not file.is_file():
        raise ValueError(f"{path} is not a run folder: {CONFIG_FILE} is missing")
    try:
        config = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{file}: corrupt JSON ({error})") from error
    for key in ("env_id", "agent", "seed"):
        if key not in config:
            raise ValueError(f"{file}: missing {key!r}")
    return config


def read_evaluations(path: str | Path) -> list[dict[str, float]]:
    """The rows of a run folder's ``evaluations.csv`` as floats (empty if none yet)."""
    file = Path(path) / EVALUATIONS_FILE
    if not file.is_file():
        return []
    with file.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return [{key: float(value) for key, value in row.items()} for row in rows]
    except ValueError as error:
        raise ValueError(f"{file}: {error}") from error

"""TensorBoard logging of a run folder (``opsgym train --tensorboard``).

One event file under ``<run folder>/tensorboard`` holds every evaluation row as
``eval/<column>`` scalars at the row's step (the return, the wall time and each domain
metric, the same numbers as ``evaluations.csv``) and, for SB3 algorithms, SB3's own
training statistics (``rollout/``, ``train/``), written through the same writer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat

TENSORBOARD_FOLDER = "tensorboard"


def require_tensorboard() -> None:
    """Raise a ValueError that says how to install TensorBoard when it is missing."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ValueError(
            "--tensorboard needs TensorBoard, which is not installed: "
            "pip install 'opsgym[tensorboard]'"
        )


class EvaluationBoard:
    """The event file of one run folder; :meth:`sb3_logger` shares it with SB3."""

    def __init__(self, run_path: Path) -> None:
        self.output = TensorBoardOutputFormat(str(Path(run_path) / TENSORBOARD_FOLDER))

    def write(self, row: dict[str, float]) -> None:
        """Log every column of an evaluation row but ``step``, at that step."""
        values = {f"eval/{name}": value for name, value in row.items() if name != "step"}
        self.output.write(values, dict.fromkeys(values), step=int(row["step"]))

    def sb3_logger(self) -> Logger:
        """An SB3 logger writing its training statistics into the same event file."""
        return Logger(folder=str(self.output.writer.log_dir), output_formats=[self.output])

    def close(self) -> None:
        self.output.close()

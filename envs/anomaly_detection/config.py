"""The arguments of opsgym/AnomalyDetection, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opsgym.envs.anomaly_detection.simulator import SYNTHETIC_METRICS, history_length
from opsgym.envs.core.config import EnvConfig, setting, when
from opsgym.envs.core.kinds import Choice, Integer, OrNone, Real, Text

WORKLOADS = ("synthetic", "nyc_taxi", "csv")
MAX_STEPS = 1_000_000  # an episode keeps each step's features
MAX_WINDOW = 100_000  # [steps]
SYNTHETIC = when("workload", "synthetic")
CSV = when("workload", "csv")


@dataclass(frozen=True, kw_only=True)
class AnomalyDetectionConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.anomaly_detection.env.AnomalyDetectionEnv`."""

    workload: str = setting(
        "synthetic",
        Choice(WORKLOADS),
        "synthetic metrics, NAB's NYC taxi series, or a CSV of `timestamp,value,label`",
    )
    csv_path: str | None = setting(
        None, OrNone(Text()), "the `timestamp,value,label` file to replay", CSV, required=True
    )
    episode_length: int = setting(1000, Integer(1, MAX_STEPS), "scored steps per episode")
    steps_per_day: int = setting(48, Integer(1, 1440), "steps per day (48: every 30 minutes)")
    history_weeks: int = setting(2, Integer(1, 52), "weeks of history behind the seasonal baseline")
    rolling_window: int = setting(
        48, Integer(2, MAX_WINDOW), "steps in the rolling mean and deviation"
    )
    anomalies_per_week: float = setting(2.0, Real(0.0, 1000.0), "mean rate of anomalies", SYNTHETIC)
    min_window: int = setting(4, Integer(1, MAX_WINDOW), "shortest anomaly [steps]", SYNTHETIC)
    max_window: int = setting(16, Integer(1, MAX_WINDOW), "longest anomaly [steps]", SYNTHETIC)
    tp_weight: float = setting(1.0, Real(0.0), "reward of a detection at a window's start")
    fp_weight: float = setting(0.11, Real(0.0), "cost of a false alert")
    fn_weight: float = setting(1.0, Real(0.0), "cost of a missed window")

    def validate(self) -> None:
        if self.workload == "synthetic" and self.max_window < self.min_window:
            raise ValueError(
                f"max_window must be >= min_window, got {self.max_window} < {self.min_window}"
            )

    @cached_property
    def history(self) -> int:
        """Steps of past data the features need before the first scored step."""
        return history_length(self.steps_per_day, self.history_weeks, self.rolling_window)

    @cached_property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics observed: the synthetic service's, or a replayed series' value."""
        return SYNTHETIC_METRICS if self.workload == "synthetic" else ("value",)

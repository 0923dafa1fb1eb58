"""The alerting rules operators run today, acting on AnomalyDetection observations.

Every rule reads only the observation's squashed z-scores (see
:class:`opsgym.envs.anomaly_detection.AnomalyDetectionEnv`) and alerts when any metric
crosses its limit; the privileged reference is
:class:`opsgym.envs.anomaly_detection.LabelOracle`. The learned detectors, isolation
forests refit online (scikit-learn, ``opsgym[ml]``), are in
:mod:`opsgym.baselines.isolation_forest`.
"""

from __future__ import annotations

import math

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.baselines.isolation_forest import IsolationForestDetector
from opsgym.envs.anomaly_detection import AnomalyDetectionEnv, LabelOracle
from opsgym.envs.anomaly_detection.simulator import squash, unsquash
from opsgym.envs.core import validation


class _ZRule:
    """Alert when any metric's chosen z-score exceeds ``limit`` in absolute value."""

    feature = "level"
    limit = 3.0

    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, AnomalyDetectionEnv, f"{type(self).__name__}")
        fields = unwrapped.observation_fields()
        self.indices = [i for name, i in fields.items() if name.endswith("." + self.feature)]
        self.threshold = float(squash(self.limit))  # the limit in observation units

    def act(self, observation) -> int:
        threshold = self.threshold
        return int(any(abs(observation[i]) > threshold for i in self.indices))


class StaticThreshold(_ZRule):
    """A fixed limit on each raw metric: 4 standard deviations from its historical mean."""

    feature = "level"
    limit = 4.0


class RollingZScore(_ZRule):
    """The 3-sigma rule against the rolling mean and deviation of the recent window."""

    feature = "rolling"
    limit = 3.0


class SeasonalZScore(_ZRule):
    """The 3-sigma rule on the residual from the same hour of the week in past weeks."""

    feature = "seasonal"
    limit = 3.0


class EwmaChart(_ZRule):
    """An EWMA control chart on each metric's seasonal z-score.

    The statistic ``e = lam * z + (1 - lam) * e`` of in-control N(0, 1) scores has
    asymptotic standard deviation ``sqrt(lam / (2 - lam))``; the chart alerts beyond
    ``L`` of those. ``lam = 0.2`` and ``L = 3`` are the textbook choice (Montgomery,
    Introduction to Statistical Quality Control, 7th ed., section 9.2): small persistent
    shifts are caught that a 3-sigma rule on single points misses.
    """

    feature = "seasonal"
    smoothing = 0.2
    width = 3.0

    def __init__(self, env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        lam = self.smoothing
        self.control_limit = self.width * math.sqrt(lam / (2.0 - lam))
        self.statistics = [0.0] * len(self.indices)

    def act(self, observation) -> int:
        lam, limit = self.smoothing, self.control_limit
        alert = False
        for j, i in enumerate(self.indices):
            z = min(max(unsquash(float(observation[i])), -1e6), 1e6)
            e = lam * z + (1.0 - lam) * self.statistics[j]
            self.statistics[j] = e
            alert = alert or abs(e) > limit
        return int(alert)


POLICIES = {
    "random": RandomPolicy,
    "static_threshold": StaticThreshold,
    "rolling_zscore": RollingZScore,
    "seasonal_zscore": SeasonalZScore,
    "ewma_chart": EwmaChart,
    "isolation_forest": IsolationForestDetector,
    "isolation_forest_multivariate": lambda env, seed=None: IsolationForestDetector(
        env, seed, multivariate=True
    ),
    "oracle": seedless(LabelOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "static_threshold"

"""The Gymnasium environment around :mod:`opsgym.envs.anomaly_detection.simulator`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.anomaly_detection.config import AnomalyDetectionConfig
from opsgym.envs.anomaly_detection.simulator import (
    FEATURES_PER_METRIC,
    TIME_FEATURES,
    AlertScorer,
    detector_features,
    nyc_taxi,
    read_labelled_csv,
    synthetic_metrics,
)
from opsgym.envs.configured import ConfiguredEnv

FEATURE_NAMES = ("level", "rolling", "seasonal", "change")


class AnomalyDetectionEnv(ConfiguredEnv[np.ndarray, int], config_class=AnomalyDetectionConfig):
    """Decide at every step whether a service's metrics deserve paging a human.

    ## Description

    A service emits metrics every step (30 minutes by default) with daily and weekly
    cycles. Each step the agent sees detector features of the latest values and decides
    whether to raise an alert. Ground-truth anomaly windows are labelled, and alerts are
    scored as the Numenta Anomaly Benchmark (NAB, Lavin and Ahmad 2015) scores them:
    the first alert in a window earns most at the window's start and less later, repeated
    alerts in a window count once, an alert outside every window is a false page, and a
    window that ends without an alert is a miss.

    With `workload="synthetic"` (seeded) the metrics are request rate, CPU, memory and
    response time; anomalies arrive at `anomalies_per_week` and are spikes in one metric,
    drops in traffic, or broken correlations (CPU per request doubles, so CPU stops
    tracking requests). With `workload="nyc_taxi"` the episode replays a slice of NAB's
    NYC taxi series (passengers per 30 min, July 2014 to January 2015) containing at
    least one of its five labelled windows (marathon, Thanksgiving, Christmas, New Year,
    blizzard). With `workload="csv"` it replays `csv_path`, a file of
    `timestamp,value,label` at `steps_per_day` rows per day. Each episode is preceded by
    `history_weeks` weeks and `rolling_window` steps of unscored history, from which the
    baselines are computed.

    ## Action Space

    `Discrete(2)`: 0 stays quiet, 1 raises an alert for the current step.

    ## Observation Space

    A float32 `Box` in [-1, 1] of shape `(4M + 4,)` with M metrics (4 synthetic, 1 in a
    replay). Z-scores are squashed by z / (3 + |z|), so a 3-sigma deviation is 0.5.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 4m | metric m's z-score against the history before the episode (level) | -1 | 1 |
    | 4m + 1 | its z-score against the previous `rolling_window` steps | -1 | 1 |
    | 4m + 2 | its residual from the same step in the previous `history_weeks` weeks, over their recent RMS | -1 | 1 |
    | 4m + 3 | its change since the previous step over the rolling standard deviation | -1 | 1 |
    | 4M, 4M + 1 | sin, cos of the time of day | -1 | 1 |
    | 4M + 2, 4M + 3 | sin, cos of the time of week | -1 | 1 |

    ## Rewards

    `reward = tp_weight * detection + fp_weight * false_alert + fn_weight * miss`, with
    the components in `info["rewards"]`: `detection` is the credit of a window's first
    alert, NAB's scaled sigmoid of its position renormalized to 1 at the window's first
    step; `false_alert` is -1 for an alert outside every window; `miss` is -1 at the last
    step of a window without an alert. The defaults are NAB's standard profile (1, 0.11,
    1). The best return is `tp_weight` times the number of windows.

    ## Starting State

    The series is drawn (synthetic) or sliced (replay) at reset, from the seed; the first
    observation describes the first scored step.

    ## Episode End

    1. Truncation: `episode_length` steps have been scored.

    The environment never terminates. On the last step `info["episode_metrics"]` holds
    window-level precision, recall and F1, NAB's normalized score (0 for never alerting,
    100 for perfect), the mean detection delay [steps] of the detected windows (0 when none
    is detected) and the counts of windows, alerts
    and false alerts.

    {ARGUMENTS}

    {VECTOR_ENV}

    ## Version History

    * v0: Initial release.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/AnomalyDetection-v0"
    example = {"workload": "nyc_taxi"}

    def _set_up(self, config: AnomalyDetectionConfig) -> None:
        self._replay = prepared_replay(config)
        self._features = np.zeros((1, self.observation_space.shape[0]), dtype=np.float32)
        self.windows: list[tuple[int, int]] = []
        self.scorer = AlertScorer([], config.episode_length)
        self._step = 0

    @staticmethod
    def spaces(config: AnomalyDetectionConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        n_features = FEATURES_PER_METRIC * len(config.metric_names) + TIME_FEATURES
        return spaces.Discrete(2), spaces.Box(-1.0, 1.0, shape=(n_features,), dtype=np.float32)

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        self._features, self.scorer = draw_episode(self.config, self.np_random, self._replay)
        self.windows = self.scorer.windows
        self._step = 0
        return self._features[0].copy(), {}

    def _advance(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        alert = action == 1
        config = self.config
        k = self._step
        scorer = self.scorer
        rewards = scorer.record(k, alert)
        reward = step_reward(config, rewards)
        info: dict[str, Any] = {
            "alert": alert,
            "anomalous": scorer.window_of[k] >= 0,
            "rewards": rewards,
        }
        self._step = k + 1
        truncated = self._step == config.episode_length
        observation = self._features[k if truncated else self._step].copy()
        return observation, reward, False, truncated, info

    def episode_metrics(self) -> dict[str, float]:
        """Window-level precision, recall, F1, detection delay and NAB's score so far."""
        return self.scorer.metrics()

    @property
    def current_step(self) -> int:
        """The index of the step the next action decides, from 0."""
        return self._step

    @property
    def features(self) -> np.ndarray:
        """The observation of every step of the episode, the future too (read-only; for
        pictures and tests: a policy sees one step at a time)."""
        view = self._features.view()
        view.flags.writeable = False
        return view

    def observation_fields(self) -> dict[str, int]:
        """Where each metric's features sit in the observation, as ``"metric.feature"``."""
        return {
            f"{metric}.{feature}": FEATURES_PER_METRIC * m + f
            for m, metric in enumerate(self.config.metric_names)
            for f, feature in enumerate(FEATURE_NAMES)
        }

    def _text_frame(self) -> str:
        k = min(self._step, self.config.episode_length - 1)
        state = "anomalous" if self.scorer.window_of[k] >= 0 else "normal"
        return (
            f"step {self._step}/{self.config.episode_length} ({state}), score {self.scorer.score:.3f}, "
            f"{self.scorer.alerts} alerts, {self.scorer.false_alerts} false"
        )


def prepared_replay(config: AnomalyDetectionConfig) -> tuple[np.ndarray, Any, np.ndarray] | None:
    """A replayed series' detector features, its labelled windows and the episode starts
    a reset may draw; None for synthetic metrics."""
    if config.workload == "synthetic":
        return None
    series = nyc_taxi() if config.workload == "nyc_taxi" else read_labelled_csv(config.csv_path)[1]
    total, history, length = len(series.values), config.history, config.episode_length
    last_start = total - length
    if last_start < history:
        raise ValueError(
            f"episode_length must be <= {total - history} for this series of {total} "
            f"steps after {history} steps of history, got {length}"
        )
    features = detector_features(
        series.values, history, config.steps_per_day, config.history_weeks, config.rolling_window
    )
    starts = np.arange(history, last_start + 1)
    containing = np.zeros(len(starts), dtype=bool)
    for a, b in series.windows:
        containing |= (starts <= a) & (b <= starts + length)
    if containing.any():
        starts = starts[containing]
    return features, series.windows, starts


def draw_episode(
    config: AnomalyDetectionConfig, rng: np.random.Generator, replay
) -> tuple[np.ndarray, AlertScorer]:
    """An episode's observations and the scorer of its anomaly windows, drawn from
    ``rng``: a synthetic series and its detector features, or a window of the
    :func:`prepared_replay` ``replay``."""
    count = config.episode_length
    if replay is None:
        window_lengths = (config.min_window, config.max_window)
        series, _ = synthetic_metrics(
            rng,
            config.history,
            count,
            config.steps_per_day,
            config.anomalies_per_week,
            window_lengths,
        )
        features = detector_features(
            series.values,
            config.history,
            config.steps_per_day,
            config.history_weeks,
            config.rolling_window,
        )
        windows = list(series.windows)
    else:
        all_features, all_windows, starts = replay
        start = int(starts[rng.integers(len(starts))])
        offset = start - config.history
        features = all_features[offset : offset + count]
        windows = [(a - start, b - start) for a, b in all_windows]
    scorer = AlertScorer(windows, count, config.tp_weight, config.fp_weight, config.fn_weight)
    return features, scorer


def step_reward(config: AnomalyDetectionConfig, rewards: dict):
    """The reward of a step from its components (numbers, or arrays over instances)."""
    return (
        config.tp_weight * rewards["detection"]
        + config.fp_weight * rewards["false_alert"]
        + config.fn_weight * rewards["miss"]
    )

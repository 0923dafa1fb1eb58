"""N anomaly detectors advanced together with numpy batch operations.

Each instance draws its episode at reset from its own generator with the single env's
simulator functions (a synthetic series and its detector features, or a window of the
replayed series) and builds its :class:`AlertScorer`; the steps then score the alerts
of all instances at once, from the scorers' per-step tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.anomaly_detection.env import (
    AnomalyDetectionEnv,
    draw_episode,
    prepared_replay,
    step_reward,
)
from opsgym.envs.anomaly_detection.simulator import AlertScorer
from opsgym.envs.vector import BatchedVectorEnv


class AnomalyDetectionVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/AnomalyDetection-v0 in numpy arrays."""

    single_env_class = AnomalyDetectionEnv

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        config = self.config
        count = config.episode_length
        features = self.single_observation_space.shape[0]
        self.replay = prepared_replay(config)
        self.features = np.zeros((num_envs, count, features), dtype=np.float32)
        self.scorers: list[AlertScorer | None] = [None] * num_envs
        self.window_of = np.zeros((num_envs, count), dtype=np.int64)
        self.credit = np.zeros((num_envs, count))
        self.last_step_of = np.zeros((num_envs, count), dtype=np.int64)
        self.detected_at = np.zeros((num_envs, 1), dtype=np.int64)
        self.alerts = np.zeros(num_envs, dtype=np.int64)
        self.false_alerts = np.zeros(num_envs, dtype=np.int64)
        self.score = np.zeros(num_envs)
        self.step_index = np.zeros(num_envs, dtype=np.int64)

    def _reset_rows(self, rows: np.ndarray) -> None:
        for i in rows:
            self.features[i], scorer = draw_episode(self.config, self.generators[i], self.replay)
            self.scorers[i] = scorer
            self.window_of[i] = scorer.window_of
            self.credit[i] = scorer.credit
            self.last_step_of[i] = scorer.last_step_of
            if len(scorer.windows) > self.detected_at.shape[1]:
                extra = len(scorer.windows) - self.detected_at.shape[1]
                self.detected_at = np.pad(self.detected_at, ((0, 0), (0, extra)))
        self.detected_at[rows] = -1
        self.alerts[rows] = 0
        self.false_alerts[rows] = 0
        self.score[rows] = 0.0
        self.step_index[rows] = 0

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        k = self.step_index[rows]
        alert = actions == 1
        window = self.window_of[rows, k]
        inside = window >= 0
        column = np.where(inside, window, 0)
        false_alert = alert & ~inside
        first = alert & inside & (self.detected_at[rows, column] < 0)
        self.detected_at[rows[first], window[first]] = k[first]
        ending = self.last_step_of[rows, k]
        ends = ending >= 0
        missed = ends & (self.detected_at[rows, np.where(ends, ending, 0)] < 0)
        rewards = {
            "detection": np.where(first, self.credit[rows, k], 0.0),
            "false_alert": np.where(false_alert, -1.0, 0.0),
            "miss": np.where(missed, -1.0, 0.0),
        }
        reward = step_reward(config, rewards)
        self.score[rows] += reward
        self.alerts[rows] += alert
        self.false_alerts[rows] += false_alert
        info = {"alert": alert, "anomalous": inside, "rewards": rewards}
        self.step_index[rows] = k + 1
        return reward, k + 1 == config.episode_length, info

    def _observations(self) -> np.ndarray:
        last = self.config.episode_length - 1
        return self.features[self._all_rows, np.minimum(self.step_index, last)]

    def _instance_metrics(self, i: int) -> dict[str, float]:
        scorer = self.scorers[i]
        scorer.detected_at = self.detected_at[i, : len(scorer.windows)].tolist()
        scorer.alerts = int(self.alerts[i])
        scorer.false_alerts = int(self.false_alerts[i])
        scorer.score = float(self.score[i])
        return scorer.metrics()

"""N anomaly detectors advanced together with numpy batch operations.

Each instance draws its episode at reset from its own generator with the single env's
simulator functions (a synthetic series and its detector features, or a window of the
replayed series) and its scorer; the steps then score the alerts of all instances at
once (:class:`~opsgym.envs.anomaly_detection.simulator.AlertScorers`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.anomaly_detection.config import AnomalyDetectionConfig
from opsgym.envs.anomaly_detection.env import AnomalyDetectionEnv, draw_episode, prepared_replay
from opsgym.envs.anomaly_detection.simulator import AlertScorers
from opsgym.envs.vector import BatchedVectorEnv


class AnomalyDetectionVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/AnomalyDetection-v0 in numpy arrays."""

    single_env_class = AnomalyDetectionEnv

    def _set_up(self, config: AnomalyDetectionConfig, num_envs: int) -> None:
        count = config.episode_length
        features = self.single_observation_space.shape[0]
        self.replay = prepared_replay(config)
        self.features = np.zeros((num_envs, count, features), dtype=np.float32)
        weights = (config.tp_weight, config.fp_weight, config.fn_weight)
        self.scorers = AlertScorers(num_envs, count, weights)
        self.step_index = np.zeros(num_envs, dtype=np.int64)

    def _reset_rows(self, rows: np.ndarray) -> None:
        for i in rows.tolist():
            self.features[i], scorer = draw_episode(self.config, self.generators[i], self.replay)
            self.scorers.load(i, scorer)
        self.step_index[rows] = 0

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        k = self.step_index[rows]
        alert = actions == 1
        reward, rewards = self.scorers.record(rows, k, alert)
        anomalous = self.scorers.window_of[rows, k] >= 0
        info = {"alert": alert, "anomalous": anomalous, "rewards": rewards}
        self.step_index[rows] = k + 1
        return reward, k + 1 == self.config.episode_length, info

    def _observations(self) -> np.ndarray:
        last = self.config.episode_length - 1
        return self.features[self._all_rows, np.minimum(self.step_index, last)]

    def _instance_metrics(self, i: int) -> dict[str, float]:
        return self.scorers.metrics(i)

"""N request routers advanced together with numpy batch operations.

Each instance draws its drift and then all its requests at reset from its own generator,
with the single env's code (which draws the requests block by block as they are reached,
from the same generator in the same order, so the values agree); the replicas' FCFS
queues of all instances are one :class:`~opsgym.envs.core.fcfs.FcfsQueues`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core.drift import ramp_fraction
from opsgym.envs.service_routing import simulator as model
from opsgym.envs.service_routing.config import ServiceRoutingConfig
from opsgym.envs.service_routing.env import ServiceRoutingEnv, draw_drift, request_source
from opsgym.envs.service_routing.simulator import REQUEST_TYPES
from opsgym.envs.vector import BatchedVectorEnv


class ServiceRoutingVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/ServiceRouting-v0 in numpy arrays."""

    single_env_class = ServiceRoutingEnv

    def _set_up(self, config: ServiceRoutingConfig, num_envs: int) -> None:
        count = config.episode_length
        self.type_names = np.array(REQUEST_TYPES, dtype=object)
        self.queues = model.ServiceFleets(num_envs, config)
        self.requests_source = request_source(config)
        self.times = np.zeros((num_envs, count))
        self.types = np.zeros((num_envs, count), dtype=np.int64)
        self.sizes = np.zeros((num_envs, count))
        self.regions = np.zeros((num_envs, count), dtype=np.int64)
        self.priorities = np.zeros((num_envs, count), dtype=bool)
        self.drift_step = np.full(num_envs, -1, dtype=np.int64)
        self.drift_pair = np.zeros((num_envs, 2), dtype=np.int64)
        self.step_index = np.zeros(num_envs, dtype=np.int64)
        self.latencies = np.zeros((num_envs, count))
        self.timeouts = np.zeros((num_envs, count), dtype=bool)

    def _reset_rows(self, rows: np.ndarray) -> None:
        config = self.config
        for i in rows:
            rng = self.generators[i]
            self.drift_step[i], self.drift_pair[i] = draw_drift(config, rng)
            requests = self.requests_source.episode(rng).all()
            self.times[i] = requests.times
            self.types[i] = requests.types
            self.sizes[i] = requests.sizes
            self.regions[i] = requests.regions
            self.priorities[i] = requests.priorities
        self.queues.reset(rows)
        self.step_index[rows] = 0
        self._arrive(rows, np.zeros(rows.size, dtype=np.int64))

    def _arrive(self, rows: np.ndarray, k: np.ndarray) -> None:
        """Move the clocks of ``rows`` to their requests ``k``, swapping profiles first
        (or moving them along the swap's ramp) where the drift is due."""
        config = self.config
        swapping = model.swapping(config, k, self.drift_step[rows])
        for i, step in zip(rows[swapping].tolist(), k[swapping].tolist()):
            fraction = float(ramp_fraction(step, int(self.drift_step[i]), config.drift_ramp))
            a, b = self.drift_pair[i]
            self.queues.service_ms[i, [a, b]] = model.swapped_profiles(config, (a, b), fraction)
        self.queues.advance(rows, self.times[rows, k])

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        k = self.step_index[rows]
        kinds = self.types[rows, k]
        priority = self.priorities[rows, k]
        latency_ms = self.queues.send(
            rows, actions, kinds, self.sizes[rows, k], self.regions[rows, k]
        )
        timed_out = latency_ms > config.timeout_ms
        self.latencies[rows, k] = latency_ms
        self.timeouts[rows, k] = timed_out
        reward, rewards = model.step_rewards(config, latency_ms, timed_out, priority)
        info = {
            "latency_ms": latency_ms,
            "replica": actions,
            "request_type": self.type_names[kinds],
            "timed_out": timed_out,
            "rewards": rewards,
        }
        k = k + 1
        self.step_index[rows] = k
        truncated = k == config.episode_length
        self._arrive(rows[~truncated], k[~truncated])
        return reward, truncated, info

    def _observations(self) -> np.ndarray:
        config = self.config
        k = np.minimum(self.step_index, config.episode_length - 1)
        rows = self._all_rows
        size = self.sizes[rows, k]
        scale = config.time_scale
        work = self.queues.work_left()
        latency = self.queues.latency_ewma
        columns = [
            np.eye(len(REQUEST_TYPES))[self.types[rows, k]],
            (size / (size + 1.0))[:, None],
            np.eye(config.n_regions)[self.regions[rows, k]],
            self.priorities[rows, k][:, None],
            work / (work + scale),
            latency / (latency + scale),
        ]
        return np.concatenate(columns, axis=1).astype(np.float32)

    def _episode_metrics(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return model.episode_metrics(
            self.latencies[rows], self.timeouts[rows], self.priorities[rows]
        )

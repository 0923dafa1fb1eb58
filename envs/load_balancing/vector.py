"""N load balancers advanced together with numpy batch operations.

Each instance keeps its own random generator and draws its workload in the same
blocks as the single env; only the dispatching, the delivery of responses and the
observations are batched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.load_balancing import simulator as model
from opsgym.envs.load_balancing.config import LoadBalancingConfig
from opsgym.envs.load_balancing.env import LoadBalancingEnv
from opsgym.envs.load_balancing.simulator import DRAW_BLOCK
from opsgym.envs.vector import BatchedVectorEnv


class LoadBalancingVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/LoadBalancing-v0 in numpy arrays."""

    single_env_class = LoadBalancingEnv

    def _set_up(self, config: LoadBalancingConfig, num_envs: int) -> None:
        self.episode_length = config.episode_length
        self.queues = model.LoadBalancers(num_envs, config)
        # the workload blocks, one row per instance
        self._arrivals = np.zeros((num_envs, DRAW_BLOCK))
        self._sizes = np.zeros((num_envs, DRAW_BLOCK))
        self._failure_draws = np.zeros((num_envs, DRAW_BLOCK))
        self._position = np.zeros(num_envs, dtype=np.int64)
        self._step = np.zeros(num_envs, dtype=np.int64)
        self._drift_step = np.full(num_envs, -1, dtype=np.int64)
        self._drift_backend = np.zeros(num_envs, dtype=np.int64)
        self._phase = np.zeros(num_envs)
        self._response_times = np.zeros((num_envs, self.episode_length))
        self._failed = np.zeros((num_envs, self.episode_length), dtype=bool)

    def _reset_rows(self, rows: np.ndarray) -> None:
        for i in rows.tolist():
            start = model.draw_episode_start(self.config, self.generators[i])
            self._phase[i], self._drift_step[i], self._drift_backend[i] = start
            self._draw_block(i, 0.0)
        self.queues.reset(rows, self._arrivals[rows, 0])
        self._step[rows] = 0

    def _draw_block(self, i: int, start: float) -> None:
        self._arrivals[i], self._sizes[i], self._failure_draws[i] = model.draw_workload_block(
            self.config, self.generators[i], float(self._phase[i]), start
        )
        self._position[i] = 0

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        steps = self._step[rows]
        drift_steps = self._drift_step[rows]
        drifting = (steps >= drift_steps) & (steps < drift_steps + max(config.drift_ramp, 1))
        if drifting.any():
            queues = self.queues
            values = queues.rates if config.drift == "slowdown" else queues.failure_probs
            for row, step in zip(rows[drifting].tolist(), steps[drifting].tolist()):
                backend = int(self._drift_backend[row])
                fraction = config.drift_fraction(step, int(self._drift_step[row]))
                values[row, backend] = config.drifted_value(backend, fraction)

        positions = self._position[rows]
        response_times, failed = self.queues.send(
            rows, actions, self._sizes[rows, positions], self._failure_draws[rows, positions]
        )
        self._response_times[rows, steps] = response_times
        self._failed[rows, steps] = failed
        reward, rewards = model.step_rewards(config, response_times, failed)

        self._step[rows] = steps + 1
        truncated = steps + 1 == self.episode_length
        going_on = rows[~truncated]
        self._position[going_on] += 1
        for i in going_on[self._position[going_on] == DRAW_BLOCK].tolist():
            self._draw_block(i, float(self._arrivals[i, DRAW_BLOCK - 1]))
        self.queues.advance(going_on, self._arrivals[going_on, self._position[going_on]])
        info = {
            "response_time": response_times,
            "backend": actions,
            "failed": failed,
            "rewards": rewards,
        }
        return reward, truncated, info

    def _observations(self) -> np.ndarray:
        scale = self.config.time_scale
        state = self.queues
        latency = state.latency_ewma / (state.latency_ewma + scale)
        if self.config.mode == "feedback":
            return np.concatenate([latency, state.error_ewma], axis=1).astype(np.float32)
        queues = state.count / (state.count + 1.0)
        work = state.work_left()
        sizes = self._sizes[self._all_rows, self._position]
        sizes = np.where(self._autoreset, 0.0, sizes)[:, None]  # no next job after the end
        return np.concatenate(
            [queues, work / (work + scale), latency, state.error_ewma, sizes / (sizes + 1.0)],
            axis=1,
        ).astype(np.float32)

    def _episode_metrics(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return model.episode_metrics(self._response_times[rows], self._failed[rows])

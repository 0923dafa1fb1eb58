"""N self-tuning services advanced together with numpy batch operations.

The dynamics are those of :class:`~opsgym.envs.config_tuning.env.ConfigTuningEnv`,
operation for operation: instance i of a vector env reset with seed s + i follows
exactly the trajectory of the single env reset with seed s + i under the same actions.
Each instance draws its episode at reset from its own generator with the single env's
:func:`~opsgym.envs.config_tuning.env.draw_episode`; the steps are then deterministic.
The service model is deterministic too, and a configuration meets few workloads (burst
or not, times the I/O shares before, during and after the drift's ramp), so its
performance is computed once, by the same model as the single env's, into a table that
the steps index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.config_tuning.env import (
    KNOBS,
    ConfigTuningEnv,
    draw_episode,
    summarize_intervals,
)
from opsgym.envs.config_tuning.simulator import ServiceModel, performance
from opsgym.envs.core.drift import interpolate
from opsgym.envs.vector import BatchedVectorEnv

# the columns of the performance table
P95, ERRORS, THROUGHPUT, MEMORY, CPU, POOL, THREADS = range(7)


class ConfigTuningVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/ConfigTuning-v0 in numpy arrays.

    Takes the single env's arguments; infos as :class:`BatchedVectorEnv` says.
    """

    single_env_class = ConfigTuningEnv

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        config = self.config
        self.model = ServiceModel(cores=config.cores)
        self.options = [np.array(o) for o in config.knob_options]
        self.sizes = np.array([len(o) for o in config.knob_options])
        # flat configuration number = sum of index x stride (the last knob varies fastest)
        self.strides = np.cumprod(np.concatenate(([1], self.sizes[:0:-1])))[::-1].copy()
        self.knob_scale = np.maximum(1, self.sizes - 1).astype(np.float64)
        self.rates = (config.request_rate, config.request_rate * config.burst_factor)
        # the I/O share at each step of the drift's ramp, as the single env interpolates it
        self.ramp = max(config.drift_ramp, 1)
        self.mixes = np.array(
            [
                interpolate(config.io_share, config.io_share_after, level / self.ramp)
                for level in range(self.ramp + 1)
            ]
        )
        configurations = int(np.prod(self.sizes))
        workloads = 2 * (self.ramp + 1)  # burst or not, times the ramp's levels
        self.table = np.zeros((configurations, workloads, 7))  # by configuration, workload
        self.known = np.zeros((configurations, workloads), dtype=bool)

        length = config.episode_length
        self.indices = np.zeros((num_envs, len(KNOBS)), dtype=np.int64)
        self.interval = np.zeros(num_envs, dtype=np.int64)
        self.drift_at = np.zeros(num_envs, dtype=np.int64)
        self.burst_starts = np.zeros((num_envs, length + 1), dtype=bool)
        self.burst_end = np.zeros(num_envs, dtype=np.int64)
        self.latency_factors = np.zeros((num_envs, length + 1))
        self.noise = np.zeros((num_envs, length + 1, 2))
        self.measured = np.zeros((num_envs, 3))  # p95 [s], error rate, throughput
        self.workload = np.zeros((num_envs, 2))  # rate [requests/s], I/O share
        self.utilization = np.zeros((num_envs, 3))  # cpu, pool, threads
        self.memory = np.zeros(num_envs)
        self.history = np.zeros((num_envs, length, 4))  # p95 [s], errors, throughput, GB

    def _reset_rows(self, rows: np.ndarray) -> None:
        config = self.config
        for i in rows:
            drift_at, starts, factors, noise = draw_episode(config, self.generators[i])
            self.drift_at[i] = drift_at
            self.burst_starts[i] = starts
            self.latency_factors[i] = factors
            self.noise[i] = noise
        self.indices[rows] = config.initial_indices
        self.burst_end[rows] = 0
        self.interval[rows] = 0
        self._serve(rows)
        self.interval[rows] = 1

    def _performance(self, rows: np.ndarray, workloads: np.ndarray) -> np.ndarray:
        """The table rows of the instances' configurations under their workloads."""
        flat = self.indices[rows] @ self.strides
        missing = ~self.known[flat, workloads]
        if missing.any():
            for number, workload in set(zip(flat[missing].tolist(), workloads[missing].tolist())):
                indices = tuple(int(x) for x in np.unravel_index(number, tuple(self.sizes)))
                burst, level = divmod(workload, self.ramp + 1)
                truth = performance(
                    self.model,
                    self.config.config_at(indices),
                    self.rates[burst],
                    float(self.mixes[level]),
                )
                self.table[number, workload] = (
                    truth.p95_latency,
                    truth.error_rate,
                    truth.throughput,
                    truth.memory_gb,
                    truth.cpu_utilization,
                    truth.pool_utilization,
                    truth.thread_utilization,
                )
                self.known[number, workload] = True
        return self.table[flat, workloads]

    def _serve(self, rows: np.ndarray) -> np.ndarray:
        """Serve the current interval of ``rows``; returns their measurements."""
        config = self.config
        k = self.interval[rows]
        starting = self.burst_starts[rows, k]
        self.burst_end[rows[starting]] = k[starting] + config.burst_length
        burst = k < self.burst_end[rows]
        level = np.clip(k - self.drift_at[rows] + 1, 0, self.ramp)
        rate = np.where(burst, self.rates[1], self.rates[0])
        self.workload[rows, 0] = rate
        self.workload[rows, 1] = self.mixes[level]
        truth = self._performance(rows, burst * (self.ramp + 1) + level)
        z = self.noise[rows, k]
        requests = rate * config.interval_seconds
        p95 = truth[:, P95] * self.latency_factors[rows, k]
        error = truth[:, ERRORS]
        spread = np.sqrt(error * (1.0 - error) / requests)
        errors = np.minimum(1.0, np.maximum(0.0, error + spread * z[:, 0]))
        good = truth[:, THROUGHPUT]
        spread = np.sqrt(good / config.interval_seconds)
        throughput = np.maximum(0.0, good + spread * z[:, 1])
        measured = np.stack([p95, errors, throughput], axis=1)
        self.measured[rows] = measured
        self.utilization[rows] = truth[:, CPU:]
        self.memory[rows] = truth[:, MEMORY]
        return measured

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        moving = actions > 0
        if moving.any():
            movers = rows[moving]
            knob, up = np.divmod(actions[moving] - 1, 2)
            moved = self.indices[movers, knob] + np.where(up == 1, 1, -1)
            valid = (moved >= 0) & (moved < self.sizes[knob])
            self.indices[movers[valid], knob[valid]] = moved[valid]
        p95, errors, throughput = self._serve(rows).T
        memory = self.memory[rows]
        overshoot = np.maximum(0.0, p95 - config.latency_target)
        rewards, reward = config.interval_rewards(overshoot, errors, memory)
        k = self.interval[rows]
        self.history[rows, k - 1] = np.stack([p95, errors, throughput, memory], axis=1)
        indices = self.indices[rows]
        info = {
            "p95_latency_ms": 1000.0 * p95,
            "error_rate": errors,
            "throughput": throughput,
            "memory_gb": memory,
            "config": {name: self.options[j][indices[:, j]] for j, name in enumerate(KNOBS)},
            "rewards": rewards,
        }
        self.interval[rows] = k + 1
        return reward, k == config.episode_length, info

    def _observations(self) -> np.ndarray:
        p95, errors, throughput = self.measured.T
        rate, io_share = self.workload.T
        target, scale = self.config.latency_target, self.config.request_rate
        columns = [
            self.indices / self.knob_scale,
            (p95 / (p95 + target))[:, None],
            errors[:, None],
            (throughput / (throughput + scale))[:, None],
            (rate / (rate + scale))[:, None],
            io_share[:, None],
            np.minimum(1.0, self.utilization),
        ]
        return np.concatenate(columns, axis=1).astype(np.float32)

    def _instance_metrics(self, i: int) -> dict[str, float]:
        return summarize_intervals(self.history[i], self.config.latency_target)

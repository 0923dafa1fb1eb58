"""N self-tuning services advanced together with numpy batch operations.

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

from opsgym.envs.config_tuning.config import ConfigTuningConfig
from opsgym.envs.config_tuning.env import (
    KNOBS,
    ConfigTuningEnv,
    draw_episode,
    measure,
    summarize_intervals,
)
from opsgym.envs.config_tuning.simulator import PerformanceTable
from opsgym.envs.core.elementwise import ARRAY
from opsgym.envs.vector import BatchedVectorEnv

# where the measured values, the memory and the utilizations sit in the table's rows
MEASURED = slice(0, PerformanceTable.COLUMNS.index("throughput") + 1)
MEMORY = PerformanceTable.COLUMNS.index("memory_gb")
UTILIZATIONS = slice(PerformanceTable.COLUMNS.index("cpu_utilization"), None)


class ConfigTuningVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/ConfigTuning-v0 in numpy arrays."""

    single_env_class = ConfigTuningEnv

    def _set_up(self, config: ConfigTuningConfig, num_envs: int) -> None:
        self.table = PerformanceTable(config)
        self.options = [np.array(o) for o in config.knob_options]
        self.knob_scale = np.maximum(1, self.table.sizes - 1).astype(np.float64)
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

    def _serve(self, rows: np.ndarray) -> np.ndarray:
        """Serve the current interval of ``rows``; returns their measurements."""
        config = self.config
        k = self.interval[rows]
        starting = self.burst_starts[rows, k]
        self.burst_end[rows[starting]] = k[starting] + config.burst_length
        burst = k < self.burst_end[rows]
        table = self.table
        level = np.clip(k - self.drift_at[rows] + 1, 0, table.ramp)
        rate = np.where(burst, table.rates[1], table.rates[0])
        self.workload[rows, 0] = rate
        self.workload[rows, 1] = table.mixes[level]
        truth = table.lookup(self.indices[rows], burst, level)
        factors, noise = self.latency_factors[rows, k], self.noise[rows, k].T
        measured = np.stack(
            measure(ARRAY, self.config, rate, truth[:, MEASURED].T, factors, noise), axis=1
        )
        self.measured[rows] = measured
        self.utilization[rows] = truth[:, UTILIZATIONS]
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
            valid = (moved >= 0) & (moved < self.table.sizes[knob])
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

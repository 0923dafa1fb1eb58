"""N autoscaled fleets advanced together with numpy batch operations.

The dynamics are those of :class:`~opsgym.envs.autoscaling.env.AutoscalingEnv`. Each
instance starts its episode from its own generator with the single env's workload
(:meth:`EpisodeWorkload.start`, which also computes the history and the first rate)
and then draws the rest of its noise in one call, the same numbers the single env draws
block by block. The later rates (:meth:`EpisodeWorkload.rates_at`) and the M/M/c
outcomes (:meth:`ServiceModel.outcomes`) are computed for all instances at once with
numpy, whose exponential and logarithm may differ from the standard library's in the
last bit: instance i reset with seed s + i follows the single env reset with seed s + i
to rounding (a relative 1e-9), not bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.autoscaling.env import (
    TOTALS,
    AutoscalingEnv,
    episode_start,
    observed_fields,
    service_model,
    step_totals,
    summarize_totals,
)
from opsgym.envs.autoscaling.simulator import Fleets
from opsgym.envs.autoscaling.workload import EpisodeWorkload
from opsgym.envs.core.elementwise import ARRAY
from opsgym.envs.vector import BatchedVectorEnv


class AutoscalingVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/Autoscaling-v0 in numpy arrays."""

    single_env_class = AutoscalingEnv

    def _set_up(self, config: AutoscalingConfig, num_envs: int) -> None:
        self.workload = EpisodeWorkload(config)
        self.service = service_model(config)
        self.synthetic = config.workload == "synthetic"
        self.fleets = Fleets(
            num_envs,
            config.min_instances,
            config.max_instances,
            config.boot_steps,
            config.cooldown_steps,
        )
        self.step_index = np.zeros(num_envs, dtype=np.int64)
        self.start_seconds = np.zeros(num_envs)
        self.offset = np.zeros(num_envs, dtype=np.int64)
        self.drift_at = np.zeros(num_envs, dtype=np.int64)
        self.log_noise = np.zeros(num_envs)
        self.normals = np.zeros((num_envs, max(0, config.episode_steps - 1)))
        self.crowd_starts = np.zeros((num_envs, 0))
        self.crowd_sizes = np.zeros((num_envs, 0))
        self.next_rate = np.zeros(num_envs)
        self.attacked = config.attack != "none"
        length = config.window + config.episode_steps
        self.extra = np.zeros((num_envs, length if self.attacked else 0))  # attack load
        self.last = np.zeros((num_envs, 4))  # utilization, load, latency quantile, dropped
        self.recent = np.zeros((num_envs, config.window))
        self.totals = np.zeros((num_envs, len(TOTALS)))  # in the order of TOTALS

    def _reset_rows(self, rows: np.ndarray) -> None:
        config = self.config
        window, steps = config.window, config.episode_steps
        for i in rows:
            rng = self.generators[i]
            episode = self.workload.start(rng)
            running, self.last[i], self.recent[i] = episode_start(
                config, self.service, episode.rates
            )
            self.fleets.reset(i, running)
            self.next_rate[i] = episode.rates[window]
            self.start_seconds[i] = episode.start_seconds
            self.offset[i] = episode.start - config.window
            self.drift_at[i] = episode.drift_at
            if self.attacked:
                self.extra[i] = episode.extra
            if self.synthetic:
                self.log_noise[i] = episode.log_noise
                if config.noise > 0.0 and steps > 1:
                    self.normals[i] = rng.standard_normal(steps - 1)
                self._set_crowds(i, episode.crowds)
        self.step_index[rows] = 0
        self.totals[rows] = 0.0

    def _set_crowds(self, i: int, crowds: list[tuple[float, float]]) -> None:
        known = self.crowd_sizes.shape[1]
        if len(crowds) > known:  # widen, padding every row with crowds of size 0
            extra = np.zeros((self.num_envs, len(crowds) - known))
            self.crowd_starts = np.concatenate([self.crowd_starts, extra], axis=1)
            self.crowd_sizes = np.concatenate([self.crowd_sizes, extra], axis=1)
        self.crowd_sizes[i] = 0.0
        for j, (start, size) in enumerate(crowds):
            self.crowd_starts[i, j] = start
            self.crowd_sizes[i, j] = size

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        at = self._index(rows)
        fleets = self.fleets
        change = fleets.scale(at, actions - config.max_step_change)
        rate = self.next_rate[rows]  # copies: the infos keep them
        running = fleets.running[rows]
        booting = fleets.booting[at].sum(axis=1)
        billed = running + booting if config.bill_booting else running
        outcome = self.service.outcomes(running, rate)
        utilization, dropped_rate, violated, latency, _ = outcome
        step_cost = config.instance_cost(billed) + config.penalty(dropped_rate, violated)
        info = config.step_info(rate, running, booting, billed, change, outcome)
        increments = step_totals(config, rate, billed, step_cost, info, outcome)
        self.totals[at] += np.stack(increments, axis=1)
        fleets.advance(at)
        dropped_share = dropped_rate / np.where(rate > 0, rate, 1.0)  # nothing dropped of 0
        self.last[at] = np.stack([utilization, rate, latency, dropped_share], axis=1)
        recent = self.recent[at]
        self.recent[at] = np.concatenate(
            [recent[:, 1:], (rate / (rate + config.full_capacity))[:, None]], axis=1
        )
        t = self.step_index[at] + 1
        self.step_index[at] = t
        truncated = t == config.episode_steps
        if truncated.any():
            self._draw_next_rates(rows[~truncated], t[~truncated])
        else:
            self._draw_next_rates(rows, t)
        return -step_cost, truncated, info

    def _draw_next_rates(self, rows: np.ndarray, t: np.ndarray) -> None:
        """The rates of step ``t`` (> 0) of ``rows``."""
        if not rows.size:
            return
        index = self.config.window + t
        at = self._index(rows)
        self.next_rate[at], self.log_noise[at] = self.workload.rates_at(
            index,
            self.offset[at],
            self.drift_at[at],
            self.log_noise[at],
            self.normals[rows, t - 1],
            self.crowd_starts[at],
            self.crowd_sizes[at],
            self.extra[rows, index] if self.attacked else None,
        )

    def _observations(self) -> np.ndarray:
        config, fleets = self.config, self.fleets
        seconds = self.start_seconds + self.step_index * config.step_seconds
        fields = observed_fields(
            ARRAY,
            config,
            fleets.running,
            fleets.booting.sum(axis=1),
            fleets.cooldown_left,
            self.last.T,
            seconds,
        )
        return np.column_stack([*fields, self.recent]).astype(np.float32)

    def _instance_metrics(self, i: int) -> dict[str, float]:
        totals = dict(zip(TOTALS, self.totals[i].tolist()))
        return summarize_totals(totals, int(self.step_index[i]))

"""N clusters advanced together with numpy batch operations.

Each instance draws its episode at reset from its own generator with the single env's
:meth:`~opsgym.envs.resource_allocation.env.ResourceAllocationEnv.draw_episode`; the
synthetic jobs of all instances reset together are then built at once by
:func:`~opsgym.envs.resource_allocation.workloads.synthetic_columns`.
The clusters of all instances are one
:class:`~opsgym.envs.resource_allocation.simulator.Clusters`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core.batch import builtin_sum
from opsgym.envs.core.masks import info_mask
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.resource_allocation.config import ResourceAllocationConfig
from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
from opsgym.envs.resource_allocation.simulator import Clusters, episode_metrics
from opsgym.envs.vector import BatchedVectorEnv


class ResourceAllocationVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/ResourceAllocation-v0 in numpy arrays.

    Batches the cluster grids, the slots and backlogs, the running jobs, the action
    masks and the observations of all instances, and the drawing of the synthetic jobs
    of the instances reset together; it follows the single env bit for bit. It refuses
    no argument: every one fixes shapes for the whole run (R, H, M, the episode's job
    count; a trace shorter than `n_jobs` gives every episode the whole trace), and a
    surge, a job-mix drift or a trace only changes the jobs drawn at reset. Trace
    windows are cut per instance by the single env's code.

    Takes the single env's arguments; infos as :class:`BatchedVectorEnv` says,
    with ``action_mask`` as ``(num_envs, n_slots + 1)`` int8 and ``utilization`` as
    ``(num_envs, R)`` floats where ``SyncVectorEnv`` gives an object array of lists.
    """

    single_env_class = ResourceAllocationEnv

    def _set_up(self, config: ResourceAllocationConfig, num_envs: int) -> None:
        # the single env reads the trace and draws the episodes' jobs
        self.model = ResourceAllocationEnv(config=config)
        self.n_jobs = jobs = config.n_jobs
        if config.workload == "trace":  # a trace shorter than n_jobs gives shorter episodes
            self.n_jobs = jobs = len(self.model.episode_jobs(0, None))
        # synthetic jobs arrive at least one step apart
        spaced = config.workload == "synthetic"
        self.clusters = Clusters(
            num_envs,
            config.capacities,
            config.horizon,
            config.n_slots,
            jobs,
            spaced,
            config.queue_limit,
        )
        r = config.n_resources
        self.features = np.zeros((num_envs, jobs + 1, r + 1))  # demands / capacity, d / H
        # units / capacity in float32, by table look-up
        tables = [(np.arange(c + 1) / c).astype(np.float32) for c in config.capacities]
        self._fractions = np.concatenate(tables)
        self._fraction_offsets = np.cumsum([0] + [c + 1 for c in config.capacities[:-1]])[:, None]

    def _reset_rows(self, rows: np.ndarray) -> None:
        config = self.config
        starts, uniforms = [], []
        for i in rows.tolist():
            start, numbers = self.model.draw_episode(self.generators[i])
            starts.append(start)
            uniforms.append(numbers)
        if config.workload == "synthetic":
            arrivals, durations, demands = workloads.synthetic_columns(
                np.stack(uniforms),
                config.arrival_probability,
                config.surge_probability,
                config.mix_shift(np.array(starts)),
            )
        else:
            episodes = [self.model.episode_jobs(start, None) for start in starts]
            arrivals = np.array([jobs.arrivals for jobs in episodes])
            durations = np.array([jobs.durations for jobs in episodes])
            demands = np.array([jobs.demands for jobs in episodes])
        jobs = self.n_jobs
        demands = demands.reshape(rows.size, jobs, config.n_resources)
        self.features[rows, :jobs, :-1] = demands / self.clusters.capacities
        self.features[rows, :jobs, -1] = durations / config.horizon
        self.clusters.reset(rows, arrivals, durations, demands)

    def _reset_infos(self, rows: np.ndarray) -> dict[str, Any]:
        return self._infos(rows, np.zeros(rows.size, dtype=bool))

    def _terminated(self, rows: np.ndarray) -> np.ndarray:
        return self.clusters.done(rows)

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        clusters, n_slots = self.clusters, self.config.n_slots
        placing = clusters.masks[rows, actions] & (actions < n_slots)
        rewards = np.zeros(rows.size)
        if placing.any():
            clusters.place(rows[placing], actions[placing])
        advancing = ~placing
        if advancing.any():
            moving = rows[advancing]
            rewards[advancing] = -clusters.in_system_weight[moving]
            clusters.advance(moving)
        clusters.update_masks(rows)
        truncated = (
            ~clusters.done(rows)
            & (clusters.next_arrival[rows] == self.n_jobs)
            & (clusters.now[rows] >= clusters.last_arrival[rows] + self.config.time_limit)
        )
        return rewards, truncated, self._infos(rows, advancing & (actions < n_slots))

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now for each instance, as the single env's
        ``action_masks()`` gives them (``(num_envs, n_slots + 1)`` booleans)."""
        return self.clusters.masks.copy()

    def _infos(self, rows: np.ndarray, invalid: np.ndarray) -> dict[str, Any]:
        c = self.clusters
        finished = c.n_finished[rows]
        some = np.maximum(finished, 1)  # the totals are 0 while no job has finished
        return {
            "action_mask": info_mask(c.masks[rows]),
            "invalid_action": invalid,
            "time": c.now[rows],
            "jobs_waiting": c.waiting(rows),
            "jobs_finished": finished,
            "mean_slowdown": c.total_slowdown[rows] / some,
            "mean_completion_time": c.total_completion_time[rows] / some,
            "utilization": c.utilization(rows),
            "jobs_dropped": c.n_dropped[rows],
        }

    def _observations(self) -> np.ndarray:
        config, c = self.config, self.clusters
        count, horizon, r = self.num_envs, config.horizon, config.n_resources
        observations = np.empty((count, self.single_observation_space.shape[0]), np.float32)
        grid = observations[:, : r * horizon].reshape(count, r, horizon)  # views
        grid[:] = np.take(self._fractions, c.occupancy[:, :, :-1] + self._fraction_offsets)
        slots = c.flat_slots(self._all_rows)
        features = observations[:, r * horizon : -2].reshape(count, config.n_slots, r + 2)
        features[:, :, :-1] = np.take(self.features.reshape(-1, r + 1), slots, axis=0)
        waits = c.now[:, None] - np.take(c.arrival, slots)
        features[:, :, -1] = np.where(c.slot_job < self.n_jobs, waits / (waits + horizon), 0.0)
        backlog = np.minimum(c.n_admitted - c.backlog_start, config.backlog_size)
        observations[:, -2] = backlog / config.backlog_size
        since = c.now - c.last_arrival
        observations[:, -1] = since / (since + horizon)
        return observations

    def _episode_metrics(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        # every job has arrived; the single env lists them finished (in finishing order),
        # running (in placement order), then waiting (in arrival order); dropped jobs,
        # which it leaves out, are put last here
        jobs, c = self.n_jobs, self.clusters
        count = rows.size
        placed = c.placed[rows]
        keys = np.where(placed >= 0, jobs + placed, 2 * jobs + np.arange(jobs))
        dropped = c.n_dropped[rows]
        if dropped.any():
            kept = np.zeros((count, jobs + 1), dtype=bool)
            kept[np.arange(count)[:, None], c.admitted[rows]] = True
            keys[~kept[:, :jobs]] += jobs
        which, position = np.nonzero(np.arange(jobs) < c.n_finished[rows][:, None])
        keys[which, c.finished[rows[which], position]] = position
        now = c.now[rows]
        arrival = c.arrival[rows, :jobs]
        times = np.where(keys < jobs, c.completion[rows], now[:, None]) - arrival
        order = np.argsort(keys, axis=1)
        completion = np.take_along_axis(times, order, axis=1)
        slowdowns = completion / np.take_along_axis(c.duration[rows], order, axis=1)
        completion = completion.astype(np.float64)
        utilization = c.utilization(rows)
        unfinished = jobs - c.n_finished[rows] - dropped
        if dropped.any():  # rows of different lengths: one at a time
            rows_metrics = [
                episode_metrics(
                    slowdowns[i, : jobs - dropped[i]],
                    completion[i, : jobs - dropped[i]],
                    utilization[i].tolist(),
                    unfinished[i],
                    dropped[i],
                )
                for i in range(count)
            ]
            return {name: np.array([m[name] for m in rows_metrics]) for name in rows_metrics[0]}
        # one call for both: np.percentile's overhead outweighs its work here
        p50, p95 = np.percentile(np.concatenate([slowdowns, completion]), [50, 95], axis=1)
        metrics = {
            "mean_slowdown": slowdowns.mean(axis=1),
            "p50_slowdown": p50[:count],
            "p95_slowdown": p95[:count],
            "max_slowdown": slowdowns.max(axis=1),
            "mean_completion_time": completion.mean(axis=1),
            "p95_completion_time": p95[count:],
            "mean_utilization": builtin_sum(utilization.T) / utilization.shape[1],
        }
        for r in range(self.config.n_resources):
            metrics[f"utilization_{r}"] = utilization[:, r]
        metrics["unfinished_jobs"] = unfinished.astype(np.float64)
        metrics["dropped_jobs"] = dropped.astype(np.float64)
        return metrics

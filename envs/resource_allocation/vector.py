"""N clusters advanced together with numpy batch operations.

The dynamics are those of
:class:`~opsgym.envs.resource_allocation.env.ResourceAllocationEnv`, operation for
operation: instance i of a vector env reset with seed s + i follows exactly the
trajectory of the single env reset with seed s + i under the same actions. Each instance
draws its episode at reset from its own generator with the single env's
:meth:`~opsgym.envs.resource_allocation.env.ResourceAllocationEnv.draw_episode`; the
synthetic jobs of all instances reset together are then built at once by
:func:`~opsgym.envs.resource_allocation.workloads.synthetic_columns`.

An episode's jobs are a fixed sequence, so every per-job value is an array of
``(instances, jobs)``, and the waiting queue needs no list: jobs start only from the
visible slots, so the waiting jobs past the slots are always the consecutive admitted
jobs (those not dropped; all of them by default) from admission ``backlog_start`` to the
last. A running job completes within the horizon H, so the running jobs sit in H lists
by completion step modulo H, each in placement order; the sums of 1 / duration and of
slowdowns are updated one finishing job at a time, in that order, so that they round as
the single env's do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core.batch import builtin_sum
from opsgym.envs.core.masks import info_mask
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
from opsgym.envs.resource_allocation.simulator import episode_metrics
from opsgym.envs.vector import BatchedVectorEnv

NEVER = np.iinfo(np.int64).max // 4  # [step] the arrival of no job (an empty slot's)


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

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        config = self.config
        # the single env reads the trace and draws the episodes' jobs
        self.model = ResourceAllocationEnv(config=config)
        self.n_jobs = jobs = config.n_jobs
        if config.workload == "trace":  # a trace shorter than n_jobs gives shorter episodes
            self.n_jobs = jobs = len(self.model.episode_jobs(0, None))
        r, h, m = config.n_resources, config.horizon, config.n_slots
        self.capacities = np.array(config.capacities, dtype=np.int64)
        # per job; column `jobs` stands for an empty slot: it never arrives nor fits
        self.arrival = np.full((num_envs, jobs + 1), NEVER, dtype=np.int64)
        self.duration = np.ones((num_envs, jobs), dtype=np.int64)
        self.inverse_duration = np.ones((num_envs, jobs))
        self.demand = np.zeros((num_envs, jobs + 1, r), dtype=np.int64)
        self.demand[:, jobs] = self.capacities + 1
        self.features = np.zeros((num_envs, jobs + 1, r + 1))  # demands / capacity, d / H
        self.completion = np.zeros((num_envs, jobs), dtype=np.int64)  # [step] once started
        # the job admitted n-th (not dropped) at admitted[:, n]; column `jobs` stays empty
        self.admitted = np.full((num_envs, jobs + 1), jobs, dtype=np.int64)
        # the waiting jobs: the visible slots, then admissions backlog_start .. n_admitted - 1
        self.slot_job = np.full((num_envs, m), jobs, dtype=np.int64)
        # the per-instance counts, in one array that a reset zeroes at once
        self._counts = np.zeros((num_envs, 10), dtype=np.int64)
        (
            self.n_visible,
            self.backlog_start,
            self.next_arrival,
            self.n_admitted,
            self.n_dropped,
            self.n_placed,
            self.n_finished,
            self.now,  # [step]
            self.last_arrival,  # [step]
            self.total_completion_time,  # [steps] over finished jobs
        ) = self._counts.T
        self._sums = np.zeros((num_envs, 2))
        # sum of 1 / duration over the jobs in the system, and of finished jobs' slowdowns
        self.in_system_weight, self.total_slowdown = self._sums.T
        # the running jobs by completion step t, in placement order, at ending[:, t % H];
        # a width that doubles when full
        self.ending = np.zeros((num_envs, h, 1), dtype=np.int64)
        self.n_ending = np.zeros((num_envs, h), dtype=np.int64)
        self.placed = np.zeros((num_envs, jobs), dtype=np.int64)  # placement order, or -1
        self.finished = np.zeros((num_envs, jobs), dtype=np.int64)  # in finishing order
        # units held t steps from now, t < H; column H stays 0 (shifted in on advance)
        self.occupancy = np.zeros((num_envs, r, h + 1), dtype=np.int64)
        self.busy_units = np.zeros((num_envs, r), dtype=np.int64)
        self.masks = np.ones((num_envs, m + 1), dtype=bool)
        self._slots = np.arange(m)
        # the slots that move up when slot s empties, by s (the last one is refilled)
        self._shifts = np.minimum(self._slots + (self._slots >= self._slots[:, None]), m - 1)
        self._steps = np.arange(h + 1)
        # row i's job k at flat position i * (jobs + 1) + k, for np.take
        self._job_base = (np.arange(num_envs) * (jobs + 1))[:, None]
        # units / capacity in float32, by table look-up
        tables = [(np.arange(c + 1) / c).astype(np.float32) for c in config.capacities]
        self._fractions = np.concatenate(tables)
        self._fraction_offsets = np.cumsum([0] + [c + 1 for c in config.capacities[:-1]])[:, None]

    # ------------------------------------------------------------------------------------
    # Episodes
    # ------------------------------------------------------------------------------------

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
        jobs, horizon = self.n_jobs, config.horizon
        demands = demands.reshape(rows.size, jobs, config.n_resources)
        self.arrival[rows, :jobs] = arrivals
        self.duration[rows] = durations
        self.inverse_duration[rows] = 1.0 / durations
        self.demand[rows, :jobs] = demands
        self.features[rows, :jobs, :-1] = demands / self.capacities
        self.features[rows, :jobs, -1] = durations / horizon
        self.slot_job[rows] = jobs
        self.admitted[rows] = jobs
        self._counts[rows] = 0
        self._sums[rows] = 0.0
        self.n_ending[rows] = 0
        self.placed[rows] = -1
        self.occupancy[rows] = 0
        self.busy_units[rows] = 0
        self._admit_arrivals(rows)
        self._update_masks(rows)

    def _reset_infos(self, rows: np.ndarray) -> dict[str, Any]:
        return self._infos(rows, np.zeros(rows.size, dtype=bool))

    def _terminated(self, rows: np.ndarray) -> np.ndarray:
        return self.n_finished[rows] + self.n_dropped[rows] == self.n_jobs

    # ------------------------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------------------------

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        n_slots = self.config.n_slots
        placing = self.masks[rows, actions] & (actions < n_slots)
        rewards = np.zeros(rows.size)
        if placing.any():
            self._place(rows[placing], actions[placing])
        advancing = ~placing
        if advancing.any():
            moving = rows[advancing]
            rewards[advancing] = -self.in_system_weight[moving]
            self._advance(moving)
        self._update_masks(rows)
        now = self.now[rows]
        truncated = (
            (self.n_finished[rows] + self.n_dropped[rows] < self.n_jobs)
            & (self.next_arrival[rows] == self.n_jobs)
            & (now >= self.last_arrival[rows] + self.config.time_limit)
        )
        return rewards, truncated, self._infos(rows, advancing & (actions < n_slots))

    def _place(self, rows: np.ndarray, slots: np.ndarray) -> None:
        """Start the job in slot ``slots`` of each of ``rows`` now (each fits)."""
        jobs = self.slot_job[rows, slots]
        durations = self.duration[rows, jobs]
        held = (self._steps < durations[:, None])[:, None, :]
        self.occupancy[rows] += self.demand[rows, jobs][:, :, None] * held
        completions = self.now[rows] + durations
        self.completion[rows, jobs] = completions
        columns = completions % self.config.horizon
        count = self.n_ending[rows, columns]
        if count.max() == self.ending.shape[2]:
            self.ending = np.concatenate([self.ending, np.zeros_like(self.ending)], axis=2)
        self.ending[rows, columns, count] = jobs
        self.n_ending[rows, columns] = count + 1
        self.placed[rows, jobs] = self.n_placed[rows]
        self.n_placed[rows] += 1
        # the slots after the started one move up; the first backlog job, if any, fills
        # the last slot
        moved = self.slot_job[rows[:, None], self._shifts[slots]]
        first = self.backlog_start[rows]
        backlog = first < self.n_admitted[rows]
        moved[:, -1] = self.admitted[rows, first]  # `jobs`, the empty slot, past the last
        self.slot_job[rows] = moved
        self.backlog_start[rows] += backlog
        self.n_visible[rows] -= ~backlog

    def _advance(self, rows: np.ndarray) -> None:
        """Move the clocks of ``rows`` one step: finish jobs, shift the grid, admit."""
        index = self._index(rows)
        occupancy = self.occupancy if rows.size == self.num_envs else self.occupancy.take(rows, 0)
        self.busy_units[index] += occupancy[:, :, 0]
        self.occupancy[index, :, :-1] = occupancy[:, :, 1:]
        self.now[rows] += 1
        columns = self.now[rows] % self.config.horizon
        counts = self.n_ending[rows, columns]
        ending = counts > 0
        if ending.any():
            done, columns, counts = rows[ending], columns[ending], counts[ending]
            self.n_ending[done, columns] = 0
            self._finish(done, columns, counts)
            # drop the rounding residue of the sum when the system empties
            empty = (self.n_placed[done] == self.n_finished[done]) & (self.n_visible[done] == 0)
            self.in_system_weight[done[empty]] = 0.0
        self._admit_arrivals(rows)

    def _finish(self, rows: np.ndarray, columns: np.ndarray, counts: np.ndarray) -> None:
        """Finish the first ``counts`` jobs of ``ending[rows, columns]``, in that order."""
        i, at_columns = rows, columns
        for k in range(int(counts.max())):
            if k:
                at = counts > k
                i, at_columns = rows[at], columns[at]
            j = self.ending[i, at_columns, k]
            spent = self.now[i] - self.arrival[i, j]  # they complete now
            self.in_system_weight[i] -= self.inverse_duration[i, j]
            self.total_slowdown[i] += spent / self.duration[i, j]
            self.total_completion_time[i] += spent
            finished = self.n_finished[i]
            self.finished[i, finished] = j
            self.n_finished[i] = finished + 1

    def _admit_arrivals(self, rows: np.ndarray) -> None:
        """Admit (or drop, at a full queue), one at a time, the jobs of ``rows`` that
        have arrived by now."""
        n_slots = len(self._slots)
        limit = self.config.queue_limit
        # synthetic jobs arrive at least one step apart: one round admits them all
        rounds = 1 if self.config.workload == "synthetic" else self.n_jobs
        for _ in range(rounds):
            following = self.next_arrival[rows]
            due = self.arrival[rows, following] <= self.now[rows]
            rows, jobs = rows[due], following[due]
            if not rows.size:
                return
            self.last_arrival[rows] = self.now[rows]
            self.next_arrival[rows] = jobs + 1
            entering = rows
            if limit is not None:
                waiting = self.n_visible[rows] + self.n_admitted[rows] - self.backlog_start[rows]
                full = waiting >= limit
                self.n_dropped[rows[full]] += 1
                entering, jobs = rows[~full], jobs[~full]
            self.in_system_weight[entering] += self.inverse_duration[entering, jobs]
            position = self.n_admitted[entering]
            self.admitted[entering, position] = jobs
            self.n_admitted[entering] = position + 1
            shown = self.n_visible[entering] < n_slots
            seen = entering[shown]
            self.slot_job[seen, self.n_visible[seen]] = jobs[shown]
            self.n_visible[seen] += 1
            self.backlog_start[seen] = position[shown] + 1

    def _update_masks(self, rows: np.ndarray) -> None:
        """The valid actions of ``rows``: slots holding a job that fits now, and advancing."""
        index = self._index(rows)
        free = self.capacities - self.occupancy[index, :, 0]
        demands = np.take(self.demand.reshape(-1, free.shape[1]), self._flat_slots(rows), axis=0)
        fits = demands[:, :, 0] <= free[:, None, 0]
        for r in range(1, free.shape[1]):
            fits &= demands[:, :, r] <= free[:, None, r]
        self.masks[index, :-1] = fits

    def action_masks(self) -> np.ndarray:
        """Which actions are valid now for each instance, as the single env's
        ``action_masks()`` gives them (``(num_envs, n_slots + 1)`` booleans)."""
        return self.masks.copy()

    def _flat_slots(self, rows: np.ndarray) -> np.ndarray:
        """The flat positions of the slots' jobs of ``rows`` in the per-job arrays."""
        index = self._index(rows)
        return self._job_base[index] + self.slot_job[index]

    # ------------------------------------------------------------------------------------
    # What the agent sees
    # ------------------------------------------------------------------------------------

    def _infos(self, rows: np.ndarray, invalid: np.ndarray) -> dict[str, Any]:
        finished = self.n_finished[rows]
        some = np.maximum(finished, 1)  # the totals are 0 while no job has finished
        now = self.now[rows]
        return {
            "action_mask": info_mask(self.masks[rows]),
            "invalid_action": invalid,
            "time": now,
            "jobs_waiting": self.n_visible[rows] + self.n_admitted[rows] - self.backlog_start[rows],
            "jobs_finished": finished,
            "mean_slowdown": self.total_slowdown[rows] / some,
            "mean_completion_time": self.total_completion_time[rows] / some,
            "utilization": self._utilization(rows),
            "jobs_dropped": self.n_dropped[rows],
        }

    def _utilization(self, rows: np.ndarray) -> np.ndarray:
        """The fraction of each resource's unit-steps in use from step 0 to now."""
        now = np.maximum(self.now[rows], 1)[:, None]  # nothing is busy at step 0
        return self.busy_units[rows] / (self.capacities * now)

    def _observations(self) -> np.ndarray:
        config = self.config
        count, horizon, r = self.num_envs, config.horizon, config.n_resources
        observations = np.empty((count, self.single_observation_space.shape[0]), np.float32)
        grid = observations[:, : r * horizon].reshape(count, r, horizon)  # views
        grid[:] = np.take(self._fractions, self.occupancy[:, :, :-1] + self._fraction_offsets)
        slots = self._flat_slots(self._all_rows)
        features = observations[:, r * horizon : -2].reshape(count, len(self._slots), r + 2)
        features[:, :, :-1] = np.take(self.features.reshape(-1, r + 1), slots, axis=0)
        waits = self.now[:, None] - np.take(self.arrival, slots)
        features[:, :, -1] = np.where(self.slot_job < self.n_jobs, waits / (waits + horizon), 0.0)
        backlog = np.minimum(self.n_admitted - self.backlog_start, config.backlog_size)
        observations[:, -2] = backlog / config.backlog_size
        since = self.now - self.last_arrival
        observations[:, -1] = since / (since + horizon)
        return observations

    def _episode_metrics(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        # every job has arrived; the single env lists them finished (in finishing order),
        # running (in placement order), then waiting (in arrival order); dropped jobs,
        # which it leaves out, are put last here
        jobs = self.n_jobs
        count = rows.size
        placed = self.placed[rows]
        keys = np.where(placed >= 0, jobs + placed, 2 * jobs + np.arange(jobs))
        dropped = self.n_dropped[rows]
        if dropped.any():
            kept = np.zeros((count, jobs + 1), dtype=bool)
            kept[np.arange(count)[:, None], self.admitted[rows]] = True
            keys[~kept[:, :jobs]] += jobs
        which, position = np.nonzero(np.arange(jobs) < self.n_finished[rows][:, None])
        keys[which, self.finished[rows[which], position]] = position
        now = self.now[rows]
        arrival = self.arrival[rows, :jobs]
        times = np.where(keys < jobs, self.completion[rows], now[:, None]) - arrival
        order = np.argsort(keys, axis=1)
        completion = np.take_along_axis(times, order, axis=1)
        slowdowns = completion / np.take_along_axis(self.duration[rows], order, axis=1)
        completion = completion.astype(np.float64)
        utilization = self._utilization(rows)
        unfinished = jobs - self.n_finished[rows] - dropped
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

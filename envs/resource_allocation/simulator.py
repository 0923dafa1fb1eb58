"""A cluster of R resource types that runs jobs packed by a scheduler, in discrete time.

The setting of DeepRM (Mao, Alizadeh, Menache and Kandula, "Resource Management with Deep
Reinforcement Learning", HotNets 2016): each job needs a fixed amount of every resource
for a fixed number of time steps, and runs as soon as it is placed if it fits. Time
advances in unit steps only when the scheduler says so; between two advances it may place
any number of jobs. All quantities are integers (resource units, time steps), so the
accounting is exact.

A job that arrives at ``a``, starts at ``s >= a`` and lasts ``d`` steps completes at
``s + d``; its slowdown is ``(s + d - a) / d >= 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NEVER = np.iinfo(np.int64).max // 4  # [step] the arrival of no job (an empty slot's)


class Job:
    """One job: its arrival [step], duration [steps], demand per resource [units]."""

    __slots__ = ("index", "arrival", "duration", "demands", "start", "completion")

    def __init__(self, index: int, arrival: int, duration: int, demands: tuple[int, ...]):
        self.index = index
        self.arrival = arrival
        self.duration = duration
        self.demands = demands
        self.start = -1
        self.completion = -1

    @property
    def slowdown(self) -> float:
        """Completion time over duration; only meaningful once the job has finished."""
        return (self.completion - self.arrival) / self.duration


@dataclass
class JobSequence:
    """An episode's jobs as columns, sorted by arrival; a :class:`Job` is built on arrival.

    Attributes:
        arrivals: each job's arrival [step], non-decreasing.
        durations: each job's duration [steps], >= 1.
        demands: every job's demand of each resource [units], flat: job k's R demands
            are ``demands[k * R : (k + 1) * R]`` (one flat list is much cheaper to build).
        n_resources: R.
    """

    arrivals: list[int]
    durations: list[int]
    demands: list[int]
    n_resources: int

    def __len__(self) -> int:
        return len(self.arrivals)

    def demands_of(self, k: int) -> tuple[int, ...]:
        """Job k's demand of each resource [units]."""
        r = self.n_resources
        return tuple(self.demands[k * r : (k + 1) * r])

    def job(self, k: int) -> tuple[int, int, tuple[int, ...]]:
        """Job k's arrival [step], duration [steps] and demands [units]."""
        return self.arrivals[k], self.durations[k], self.demands_of(k)

    def columns(self) -> JobSequence:
        """The sequence itself (a lazily drawn workload materializes here)."""
        return self


class ClusterSimulator:
    """The cluster, the queue of waiting jobs, and the clock.

    Args:
        capacities: units of each resource type; their number sets R.
        horizon: how many steps ahead the occupancy grid looks [steps]; no job may last
            longer.
        queue_limit: if given, a job that arrives when this many jobs wait is dropped:
            it never enters the system, and only ``dropped`` counts it.

    ``occupancy[r][t]`` is the number of units of resource r held at step ``now + t`` by
    the jobs already placed. Placed jobs never move, so each row is non-increasing in t,
    and a job fits for its whole duration exactly when it fits now.
    """

    def __init__(
        self, capacities: Sequence[int], horizon: int, queue_limit: int | None = None
    ) -> None:
        self.capacities = tuple(capacities)
        self.n_resources = len(self.capacities)
        self.horizon = horizon
        self.queue_limit = queue_limit
        self.reset(JobSequence([], [], [], self.n_resources))

    def reset(self, jobs: JobSequence) -> None:
        """Empty the cluster, set the clock to 0 and admit the jobs arriving at step 0.

        Args:
            jobs: the episode's jobs: a :class:`JobSequence`, or anything with its
                ``__len__``, ``job(k)`` (asked for in order) and ``columns()``.
        """
        self.jobs = jobs
        self.n_jobs = len(jobs)
        self.now = 0
        self.occupancy = [[0] * self.horizon for _ in range(self.n_resources)]
        self.waiting: list[Job] = []  # in arrival order
        self.running: list[Job] = []
        self.finished: list[Job] = []
        self.dropped = 0  # jobs that arrived to a full queue
        self.busy_units = [0] * self.n_resources  # units x steps used so far
        self.last_arrival = 0
        self.total_slowdown = 0.0  # over finished jobs
        self.total_completion_time = 0  # over finished jobs [steps]
        self._next_arrival = 0
        self._next_job = jobs.job(0) if self.n_jobs else None
        # sum of 1 / duration over the jobs that have arrived and not finished
        self.in_system_weight = 0.0
        self._admit_arrivals()

    def fits(self, job: Job) -> bool:
        """Whether ``job`` can start now: every resource has its demand free."""
        for demand, used, capacity in zip(job.demands, self.occupancy, self.capacities):
            if used[0] + demand > capacity:
                return False
        return True

    def place(self, position: int) -> Job:
        """Start the waiting job at ``position`` (0 = oldest) now.

        Raises:
            ValueError: there is no such waiting job, or it does not fit.
        """
        if not 0 <= position < len(self.waiting):
            raise ValueError(f"no waiting job at position {position}")
        job = self.waiting[position]
        if not self.fits(job):
            raise ValueError(f"job {job.index} does not fit now")
        del self.waiting[position]
        job.start = self.now
        job.completion = self.now + job.duration
        self.running.append(job)
        for demand, row in zip(job.demands, self.occupancy):
            if demand:
                for t in range(job.duration):
                    row[t] += demand
        return job

    def advance(self) -> float:
        """Move the clock one step: finish jobs, shift the grid, admit new arrivals.

        Returns:
            The sum of 1 / duration over the jobs in the system during the step that
            ends (arrived, not finished): the step's share of their slowdowns.
        """
        weight = self.in_system_weight
        for r, row in enumerate(self.occupancy):
            self.busy_units[r] += row[0]
            row.pop(0)
            row.append(0)
        self.now += 1
        now = self.now
        if self.running:
            still_running = []
            for job in self.running:
                if job.completion <= now:
                    self.finished.append(job)
                    self.in_system_weight -= 1.0 / job.duration
                    self.total_slowdown += job.slowdown
                    self.total_completion_time += job.completion - job.arrival
                else:
                    still_running.append(job)
            self.running = still_running
            if not self.running and not self.waiting:
                self.in_system_weight = 0.0  # drop the rounding residue of the sum
        self._admit_arrivals()
        return weight

    @property
    def done(self) -> bool:
        """Whether every job of the episode has finished or been dropped."""
        return len(self.finished) + self.dropped == self.n_jobs

    @property
    def arrivals_left(self) -> int:
        """The number of jobs still to arrive."""
        return self.n_jobs - self._next_arrival

    def _admit_arrivals(self) -> None:
        now = self.now
        while self._next_job is not None and self._next_job[0] <= now:
            arrival, duration, demands = self._next_job
            k = self._next_arrival
            if self.queue_limit is not None and len(self.waiting) >= self.queue_limit:
                self.dropped += 1
            else:
                self.waiting.append(Job(k, arrival, duration, demands))
                self.in_system_weight += 1.0 / duration
            self.last_arrival = now
            self._next_arrival = k = k + 1
            self._next_job = self.jobs.job(k) if k < self.n_jobs else None


def episode_metrics(
    slowdowns: np.ndarray,
    completion: np.ndarray,
    utilization: Sequence[float],
    unfinished: int,
    dropped: int,
) -> dict[str, float]:
    """An episode's metrics from its jobs' slowdowns and completion times [steps] (float
    arrays, the same jobs in the same order), each resource's utilization, and the
    numbers of unfinished and of dropped jobs."""
    p50, p95 = np.percentile(slowdowns, [50, 95])
    metrics = {
        "mean_slowdown": float(slowdowns.mean()),
        "p50_slowdown": float(p50),
        "p95_slowdown": float(p95),
        "max_slowdown": float(slowdowns.max()),
        "mean_completion_time": float(completion.mean()),
        "p95_completion_time": float(np.percentile(completion, 95)),
        "mean_utilization": float(sum(utilization) / len(utilization)),
    }
    for r, value in enumerate(utilization):
        metrics[f"utilization_{r}"] = float(value)
    metrics["unfinished_jobs"] = float(unfinished)
    metrics["dropped_jobs"] = float(dropped)
    return metrics


class Clusters:
    """:class:`ClusterSimulator` for many clusters at once, in numpy arrays (for vector
    envs), placing, advancing and admitting as it does, job for job.

    An episode's jobs are a fixed sequence, so every per-job value is an array of
    ``(instances, jobs)``; column ``jobs`` stands for an empty slot: it never arrives nor
    fits. The waiting queue needs no list: jobs start only from the visible slots, so
    the waiting jobs past the slots are always the consecutive admitted jobs (those not
    dropped; all of them by default) from admission ``backlog_start`` to the last. A
    running job completes within the horizon H, so the running jobs sit in H lists by
    completion step modulo H (``ending``), each in placement order; the sums of
    1 / duration and of slowdowns are updated one finishing job at a time, in that
    order, so that they round as the single simulator's do.

    Args:
        instances: the number of clusters.
        capacities: units of each resource type.
        horizon: H, as :class:`ClusterSimulator`'s.
        n_slots: how many waiting jobs are visible, the ones a scheduler may place.
        jobs: the number of jobs of every episode.
        spaced: whether jobs arrive at least one step apart (then one round of
            admission per step admits them all).
        queue_limit: as :class:`ClusterSimulator`'s: with this many jobs waiting, an
            arrival is dropped.
    """

    def __init__(
        self,
        instances: int,
        capacities: Sequence[int],
        horizon: int,
        n_slots: int,
        jobs: int,
        spaced: bool,
        queue_limit: int | None = None,
    ) -> None:
        self.instances, self.horizon, self.n_jobs, self.spaced = instances, horizon, jobs, spaced
        self.queue_limit = queue_limit
        self.capacities = np.array(capacities, dtype=np.int64)
        r = len(capacities)
        self._jobs(instances, jobs, r)
        # the waiting jobs: the visible slots, then admissions backlog_start .. n_admitted - 1
        self.slot_job = np.full((instances, n_slots), jobs, dtype=np.int64)
        self._counters(instances)
        self._running_jobs(instances, r)
        self.masks = np.ones((instances, n_slots + 1), dtype=bool)
        self._slots = np.arange(n_slots)
        # the slots that move up when slot s empties, by s (the last one is refilled)
        self._shifts = np.minimum(self._slots + (self._slots >= self._slots[:, None]), n_slots - 1)
        # row i's job k at flat position i * (jobs + 1) + k, for np.take
        self._job_base = (np.arange(instances) * (jobs + 1))[:, None]

    def _jobs(self, instances: int, jobs: int, r: int) -> None:
        # every episode job's values, and column `jobs`: the empty slot that never fits
        self.arrival = np.full((instances, jobs + 1), NEVER, dtype=np.int64)
        self.duration = np.ones((instances, jobs), dtype=np.int64)
        self.inverse_duration = np.ones((instances, jobs))
        self.demand = np.zeros((instances, jobs + 1, r), dtype=np.int64)
        self.demand[:, jobs] = self.capacities + 1
        self.completion = np.zeros((instances, jobs), dtype=np.int64)  # [step] once started
        # the job admitted n-th (not dropped) at admitted[:, n]; column `jobs` stays empty
        self.admitted = np.full((instances, jobs + 1), jobs, dtype=np.int64)

    def _counters(self, instances: int) -> None:
        # the per-instance counts, in one array that a reset zeroes at once
        self._counts = np.zeros((instances, 10), dtype=np.int64)
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
        self._sums = np.zeros((instances, 2))
        # sum of 1 / duration over the jobs in the system, and of finished jobs' slowdowns
        self.in_system_weight, self.total_slowdown = self._sums.T

    def _running_jobs(self, instances: int, r: int) -> None:
        h, jobs = self.horizon, self.n_jobs
        # the running jobs by completion step t, in placement order, at ending[:, t % H];
        # a width that doubles when full
        self.ending = np.zeros((instances, h, 1), dtype=np.int64)
        self.n_ending = np.zeros((instances, h), dtype=np.int64)
        self.placed = np.zeros((instances, jobs), dtype=np.int64)  # placement order, or -1
        self.finished = np.zeros((instances, jobs), dtype=np.int64)  # in finishing order
        # units held t steps from now, t < H; column H stays 0 (shifted in on advance)
        self.occupancy = np.zeros((instances, r, h + 1), dtype=np.int64)
        self.busy_units = np.zeros((instances, r), dtype=np.int64)
        self._steps = np.arange(h + 1)

    def _index(self, rows: np.ndarray) -> np.ndarray | slice:
        """``rows`` (sorted, distinct) as an index: a slice when they are every row."""
        return slice(None) if rows.size == self.instances else rows

    def reset(
        self, rows: np.ndarray, arrivals: np.ndarray, durations: np.ndarray, demands: np.ndarray
    ) -> None:
        """Start new episodes in ``rows`` with these jobs (one row of each per row)."""
        jobs = self.n_jobs
        self.arrival[rows, :jobs] = arrivals
        self.duration[rows] = durations
        self.inverse_duration[rows] = 1.0 / durations
        self.demand[rows, :jobs] = demands
        self.slot_job[rows] = jobs
        self.admitted[rows] = jobs
        self._counts[rows] = 0
        self._sums[rows] = 0.0
        self.n_ending[rows] = 0
        self.placed[rows] = -1
        self.occupancy[rows] = 0
        self.busy_units[rows] = 0
        self.admit_arrivals(rows)
        self.update_masks(rows)

    def place(self, rows: np.ndarray, slots: np.ndarray) -> None:
        """Start the job in slot ``slots`` of each of ``rows`` now (each fits)."""
        jobs = self.slot_job[rows, slots]
        durations = self.duration[rows, jobs]
        held = (self._steps < durations[:, None])[:, None, :]
        self.occupancy[rows] += self.demand[rows, jobs][:, :, None] * held
        completions = self.now[rows] + durations
        self.completion[rows, jobs] = completions
        columns = completions % self.horizon
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

    def advance(self, rows: np.ndarray) -> None:
        """Move the clocks of ``rows`` one step: finish jobs, shift the grid, admit."""
        index = self._index(rows)
        occupancy = self.occupancy if rows.size == self.instances else self.occupancy.take(rows, 0)
        self.busy_units[index] += occupancy[:, :, 0]
        self.occupancy[index, :, :-1] = occupancy[:, :, 1:]
        self.now[rows] += 1
        columns = self.now[rows] % self.horizon
        counts = self.n_ending[rows, columns]
        ending = counts > 0
        if ending.any():
            done, columns, counts = rows[ending], columns[ending], counts[ending]
            self.n_ending[done, columns] = 0
            self._finish(done, columns, counts)
            # drop the rounding residue of the sum when the system empties
            empty = (self.n_placed[done] == self.n_finished[done]) & (self.n_visible[done] == 0)
            self.in_system_weight[done[empty]] = 0.0
        self.admit_arrivals(rows)

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

    def admit_arrivals(self, rows: np.ndarray) -> None:
        """Admit (or drop, at a full queue), one at a time, the jobs of ``rows`` that
        have arrived by now."""
        n_slots = len(self._slots)
        rounds = 1 if self.spaced else self.n_jobs
        for _ in range(rounds):
            following = self.next_arrival[rows]
            due = self.arrival[rows, following] <= self.now[rows]
            rows, jobs = rows[due], following[due]
            if not rows.size:
                return
            self.last_arrival[rows] = self.now[rows]
            self.next_arrival[rows] = jobs + 1
            entering = rows
            if self.queue_limit is not None:
                full = self.waiting(rows) >= self.queue_limit
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

    def waiting(self, rows: np.ndarray) -> np.ndarray:
        """The number of jobs waiting in ``rows``: the visible ones and the backlog."""
        return self.n_visible[rows] + self.n_admitted[rows] - self.backlog_start[rows]

    def done(self, rows: np.ndarray) -> np.ndarray:
        """Whether every job of the episode of ``rows`` has finished or been dropped."""
        return self.n_finished[rows] + self.n_dropped[rows] == self.n_jobs

    def update_masks(self, rows: np.ndarray) -> None:
        """The valid actions of ``rows``: slots holding a job that fits now, and advancing."""
        index = self._index(rows)
        free = self.capacities - self.occupancy[index, :, 0]
        demands = np.take(self.demand.reshape(-1, free.shape[1]), self.flat_slots(rows), axis=0)
        fits = demands[:, :, 0] <= free[:, None, 0]
        for r in range(1, free.shape[1]):
            fits &= demands[:, :, r] <= free[:, None, r]
        self.masks[index, :-1] = fits

    def flat_slots(self, rows: np.ndarray) -> np.ndarray:
        """The flat positions of the slots' jobs of ``rows`` in the per-job arrays."""
        index = self._index(rows)
        return self._job_base[index] + self.slot_job[index]

    def utilization(self, rows: np.ndarray) -> np.ndarray:
        """The fraction of each resource's unit-steps in use from step 0 to now."""
        now = np.maximum(self.now[rows], 1)[:, None]  # nothing is busy at step 0
        return self.busy_units[rows] / (self.capacities * now)

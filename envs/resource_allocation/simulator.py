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

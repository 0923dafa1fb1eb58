"""The arguments of opsgym/ResourceAllocation, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Flag, Integer, Items, OrNone, Real, Text
from opsgym.envs.resource_allocation import workloads

WORKLOADS = ("synthetic", "trace")
DRIFTS = ("none", "mix")
MAX_CAPACITY = 10_000  # [units] per resource; the observation looks fractions up in a table
LOAD = 0.7  # the default offered load
MAX_JOBS = 1_000_000  # an episode keeps each job's arrival, demands and completion
SYNTHETIC = when("workload", "synthetic")
MIX_DRIFT = when("drift", "mix")
TRACE = when("workload", "trace")


@dataclass(frozen=True, kw_only=True)
class ResourceAllocationConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.resource_allocation.env.ResourceAllocationEnv`."""

    capacities: tuple[int, ...] = setting(
        (10, 10),
        Items(Integer(1, MAX_CAPACITY), max_length=64),
        "units of each resource (count resources in coarser units beyond the limit); their number sets R",
    )
    horizon: int = setting(
        20, Integer(1, 10_000), "steps of the occupancy grid; the longest job allowed"
    )
    n_slots: int = setting(5, Integer(1, 1000), "visible job slots M")
    backlog_size: int = setting(
        60, Integer(1, MAX_JOBS), "backlog count at which the backlog fill reads 1"
    )
    load: float = setting(
        LOAD,
        POSITIVE,
        "offered load: arrival probability x mean demand x mean duration / capacity (of the smallest resource), at most the load at which a job arrives every step (1.845 for 2 x 10 units)",
        SYNTHETIC,
    )
    job_probability: float | None = setting(
        None,
        OrNone(Real(0.0, 1.0, open_low=True)),
        "if set, the arrival probability per step (DeepRM's new_job_rate), given instead of load",
        SYNTHETIC,
    )
    drop_full_backlog: bool = setting(
        False,
        Flag(),
        "drop a job that arrives to n_slots + backlog_size waiting jobs, as DeepRM does, and count it; otherwise it waits unseen",
    )
    n_jobs: int = setting(100, Integer(1, MAX_JOBS), "jobs per episode, dropped ones included")
    time_limit: int = setting(
        500, Integer(1, 10_000_000), "steps after the last arrival before truncation"
    )
    surge_load: float | None = setting(
        None,
        OrNone(POSITIVE),
        "if set, the middle third of the jobs arrive at this load, unannounced",
        SYNTHETIC,
    )
    drift: str = setting("none", Choice(DRIFTS), "whether the share of long jobs shifts", SYNTHETIC)
    long_fraction_after: float = setting(
        0.5, PROBABILITY, "the share of long jobs after the drift", MIX_DRIFT
    )
    drift_ramp: int = ramp_setting(MAX_JOBS, "jobs over which the mix shifts linearly", MIX_DRIFT)
    workload: str = setting("synthetic", Choice(WORKLOADS), "DeepRM's jobs, or a trace's")
    trace_path: str | None = setting(
        None, OrNone(Text()), "the CSV trace to replay", TRACE, required=True
    )

    def validate(self) -> None:
        if self.workload != "synthetic":
            return
        if self.job_probability is not None and self.load != LOAD:
            raise ValueError(
                f"give load or job_probability, not both: got load={self.load!r} and "
                f"job_probability={self.job_probability!r}"
            )
        loads = [("surge_load", self.surge_load)]
        if self.job_probability is None:
            loads.insert(0, ("load", self.load))
        for name, load in loads:
            if load is not None and load > self.max_load:
                raise ValueError(
                    f"{name} must be in (0, {self.max_load:g}], the load at which a job "
                    f"arrives every step, got {load!r}"
                )
        largest = workloads.DOMINANT_DEMAND[1]
        for r, capacity in enumerate(self.capacities):
            if capacity < largest:
                raise ValueError(
                    f"capacities[{r}] must be >= {largest}, the largest demand of the "
                    f"synthetic workload, got {capacity}"
                )
        longest = workloads.LONG_DURATION[1]
        if self.horizon < longest:
            raise ValueError(
                f"horizon must be >= {longest}, the longest job of the synthetic workload, "
                f"got {self.horizon}"
            )

    @cached_property
    def n_resources(self) -> int:
        return len(self.capacities)

    @cached_property
    def max_load(self) -> float:
        """The load at which a synthetic job arrives every step."""
        return workloads.max_load(self.capacities)

    @cached_property
    def arrival_probability(self) -> float:
        """The synthetic jobs' arrival probability per step."""
        if self.job_probability is not None:
            return self.job_probability
        return workloads.arrival_probability(self.load, self.capacities)

    @cached_property
    def queue_limit(self) -> int | None:
        """The waiting jobs at which an arrival is dropped, or None if none is."""
        return self.n_slots + self.backlog_size if self.drop_full_backlog else None

    @cached_property
    def surge_probability(self) -> float | None:
        """The arrival probability during the surge, or None without one."""
        if self.surge_load is None:
            return None
        return workloads.arrival_probability(self.surge_load, self.capacities)

    @property
    def max_episode_steps(self) -> int | None:
        """The most steps an episode can take: one per job placed and one per time step
        until ``time_limit`` after the last arrival, at its latest when every gap is the
        longest the workload draws. None for a trace, whose arrivals are in its file."""
        if self.workload != "synthetic":
            return None
        scales = [1.0]
        if self.drift == "mix":
            scales.append(
                workloads.mean_duration() / workloads.mean_duration(self.long_fraction_after)
            )
        probabilities = [self.arrival_probability, self.surge_probability]
        slowest = min(
            min(1.0, p * scale) for p in probabilities if p is not None for scale in scales
        )
        last_arrival = (self.n_jobs - 1) * workloads.longest_gap(slowest)
        return self.n_jobs + last_arrival + self.time_limit

    def mix_shift(self, start):
        """The job-mix drift from its first job ``start`` (one, or one per episode):
        ``(start, ramp, long share)``, or None without drift."""
        if self.drift == "none":
            return None
        return start, self.drift_ramp, self.long_fraction_after

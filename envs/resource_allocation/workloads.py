"""The jobs of an episode: DeepRM's synthetic workload, or rows of a CSV trace.

The synthetic workload is the one of Mao et al., "Resource Management with Deep
Reinforcement Learning" (HotNets 2016), section 4: one job may arrive per time step, with
probability p (Bernoulli arrivals); 80% of jobs are short (1 to 3 steps) and 20% long
(10 to 15 steps); each job has one dominant resource, drawn uniformly, with a demand of
5 to 10 units, and a demand of 1 to 2 units of every other resource. All ranges are
inclusive and uniform.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from opsgym.envs.core.traces import TraceError
from opsgym.envs.resource_allocation.simulator import JobSequence

SHORT_DURATION = (1, 3)  # [steps]
LONG_DURATION = (10, 15)  # [steps]
LONG_FRACTION = 0.2
DOMINANT_DEMAND = (5, 10)  # [units]
OTHER_DEMAND = (1, 2)  # [units]


def mean_demand(n_resources: int) -> float:
    """The expected demand of one job on one resource [units]."""
    dominant = sum(DOMINANT_DEMAND) / 2
    other = sum(OTHER_DEMAND) / 2
    return (dominant + (n_resources - 1) * other) / n_resources


def mean_duration() -> float:
    """The expected duration of one job [steps]: 0.8 * 2 + 0.2 * 12.5 = 4.1."""
    return (1 - LONG_FRACTION) * sum(SHORT_DURATION) / 2 + LONG_FRACTION * sum(LONG_DURATION) / 2


def arrival_probability(load: float, capacities: Sequence[int]) -> float:
    """The Bernoulli arrival probability per step that offers ``load`` to the cluster.

    The load of resource r is ``p * mean_demand * mean_duration / capacity_r``, the
    fraction of its unit-steps that the arriving work asks for (DeepRM's definition); the
    load given here is that of the smallest resource, the most loaded one.
    """
    return load * min(capacities) / (mean_demand(len(capacities)) * mean_duration())


def max_load(capacities: Sequence[int]) -> float:
    """The load at which a job arrives every step (p = 1)."""
    return mean_demand(len(capacities)) * mean_duration() / min(capacities)


def synthetic_jobs(
    rng: np.random.Generator, count: int, probability: float, n_resources: int
) -> JobSequence:
    """Draw ``count`` jobs of the synthetic workload; the first arrives at step 0.

    Gaps between Bernoulli(p) arrivals are geometric on {1, 2, ...}.
    """
    gaps = rng.geometric(probability, size=count)
    gaps[0] = 0
    # One uniform draw per choice (cheaper than a call per choice): rows are long or
    # short, the duration, the dominant resource, its demand, then each other demand.
    uniform = rng.random((4 + n_resources, count))
    durations = np.where(
        uniform[0] < LONG_FRACTION,
        _uniform_integers(uniform[1], LONG_DURATION),
        _uniform_integers(uniform[1], SHORT_DURATION),
    )
    dominant = (uniform[2] * n_resources).astype(np.int64)
    demands = _uniform_integers(uniform[4:], OTHER_DEMAND)
    demands[dominant, np.arange(count)] = _uniform_integers(uniform[3], DOMINANT_DEMAND)
    return JobSequence(
        np.cumsum(gaps).tolist(), durations.tolist(), demands.T.ravel().tolist(), n_resources
    )


def _uniform_integers(uniform: np.ndarray, bounds: tuple[int, int]) -> np.ndarray:
    """Integers uniform on [low, high] (inclusive) from uniform [0, 1) numbers."""
    low, high = bounds
    return low + (uniform * (high - low + 1)).astype(np.int64)


def read_job_trace(path: str | Path, capacities: Sequence[int], horizon: int) -> JobSequence:
    """Read jobs from a CSV trace, sorted by arrival (stable).

    The header is ``arrival,duration`` followed by one demand column per resource (their
    names are free). Every field is an integer: arrival >= 0 [step], 1 <= duration <=
    ``horizon`` [steps], 0 <= demand <= that resource's capacity [units]. Real cluster
    traces must be scaled to these units first.

    Raises:
        TraceError: the file cannot be read or a line is malformed; the message names the
            file and the 1-based line.
    """
    path = Path(path)
    n_resources = len(capacities)
    width = 2 + n_resources
    rows_read: list[tuple[int, int, tuple[int, ...]]] = []
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise TraceError(f"{path}: the trace is empty")
            names = [name.strip().lower() for name in header]
            if len(names) != width or names[:2] != ["arrival", "duration"]:
                raise TraceError(
                    f"{path}: line 1: the header must be arrival,duration and {n_resources} "
                    f"demand columns, got {header}"
                )
            for number, row in enumerate(rows, start=2):
                if not row:
                    continue
                rows_read.append(_job(path, number, row, capacities, horizon))
    except OSError as error:
        raise TraceError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not rows_read:
        raise TraceError(f"{path}: the trace has no jobs")
    rows_read.sort(key=lambda job: job[0])
    arrivals, durations, demands = zip(*rows_read)
    flat = [units for job in demands for units in job]
    return JobSequence(list(arrivals), list(durations), flat, n_resources)


def _job(
    path: Path, number: int, row: list[str], capacities: Sequence[int], horizon: int
) -> tuple[int, int, tuple[int, ...]]:
    where = f"{path}: line {number}"
    if len(row) != 2 + len(capacities):
        raise TraceError(f"{where}: expected {2 + len(capacities)} fields, got {row}")
    try:
        arrival, duration, *demands = (int(field) for field in row)
    except ValueError:
        raise TraceError(f"{where}: every field must be an integer, got {row}") from None
    if arrival < 0:
        raise TraceError(f"{where}: arrival must be >= 0, got {arrival}")
    if not 1 <= duration <= horizon:
        raise TraceError(
            f"{where}: duration must be in [1, horizon={horizon}], got {duration} "
            "(raise horizon or rescale the trace's time unit)"
        )
    for r, (demand, capacity) in enumerate(zip(demands, capacities)):
        if not 0 <= demand <= capacity:
            raise TraceError(
                f"{where}: the demand of resource {r} must be in [0, capacities[{r}]="
                f"{capacity}], got {demand}"
            )
    return arrival, duration, tuple(demands)


def window(jobs: JobSequence, start: int, count: int) -> JobSequence:
    """``count`` consecutive jobs from ``start``, shifted to arrive from step 0."""
    end = start + count
    offset = jobs.arrivals[start]
    r = jobs.n_resources
    return JobSequence(
        [arrival - offset for arrival in jobs.arrivals[start:end]],
        jobs.durations[start:end],
        jobs.demands[start * r : end * r],
        r,
    )

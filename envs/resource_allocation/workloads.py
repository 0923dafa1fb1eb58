"""The jobs of an episode: DeepRM's synthetic workload, or rows of a CSV trace.

The synthetic workload is the one of Mao et al., "Resource Management with Deep
Reinforcement Learning" (HotNets 2016), section 4: one job may arrive per time step, with
probability p (Bernoulli arrivals); 80% of jobs are short (1 to 3 steps) and 20% long
(10 to 15 steps); each job has one dominant resource, drawn uniformly, with a demand of
5 to 10 units, and a demand of 1 to 2 units of every other resource. All ranges are
inclusive and uniform.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from opsgym.envs.core.data_files import DataFileError, csv_rows, parse_number, read_text
from opsgym.envs.core.drift import interpolate, ramp_fraction
from opsgym.envs.resource_allocation.simulator import JobSequence

SHORT_DURATION = (1, 3)  # [steps]
LONG_DURATION = (10, 15)  # [steps]
LONG_FRACTION = 0.2
DOMINANT_DEMAND = (5, 10)  # [units]
OTHER_DEMAND = (1, 2)  # [units]
# Indexed by a uniform number: each short duration has probability 0.8 / 3 = 8 / 30 and
# each long one 0.2 / 6 = 1 / 30.
DURATION_TABLE = tuple(range(1, 4)) * 8 + tuple(range(10, 16))
DURATIONS = np.array(DURATION_TABLE)


def mean_demand(n_resources: int) -> float:
    """The expected demand of one job on one resource [units]."""
    dominant = sum(DOMINANT_DEMAND) / 2
    other = sum(OTHER_DEMAND) / 2
    return (dominant + (n_resources - 1) * other) / n_resources


def mean_duration(long_fraction: float = LONG_FRACTION) -> float:
    """The expected duration of one job [steps]: 0.8 * 2 + 0.2 * 12.5 = 4.1 by default."""
    return (1 - long_fraction) * sum(SHORT_DURATION) / 2 + long_fraction * sum(LONG_DURATION) / 2


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


def draw_uniforms(rng: np.random.Generator, count: int, n_resources: int) -> np.ndarray:
    """The uniform numbers of ``count`` synthetic jobs: a (count, 3 + R) array."""
    return rng.random(count * (3 + n_resources)).reshape(count, 3 + n_resources)


class SyntheticJobs:
    """The synthetic workload, drawn lazily: its uniforms at once, each job when asked.

    Job k reads its own ``3 + R`` uniform numbers: its gap after job k - 1 (geometric
    on {1, 2, ...}, by inversion: ``1 + floor(log(1 - u) / log(1 - p))``), its duration
    (an index into :data:`DURATION_TABLE`), its dominant resource and that demand (one
    index into the R x 6 pairs), and each other demand. Drawing one block of uniforms
    at reset and building jobs as they arrive keeps ``reset`` cheap;
    :func:`synthetic_columns` builds every job of many episodes at once, the same jobs.

    Args:
        uniforms: the episode's uniform numbers, from :func:`draw_uniforms`; their
            number sets the number of jobs (the first arrives at step 0).
        probability: the Bernoulli arrival probability p per step, in (0, 1].
        n_resources: R.
        surge_probability: if given, the middle third of the jobs (from job count // 3
            to job 2 * count // 3) arrive with this probability instead: a load surge.
        mix_shift: if given, ``(start, ramp, long_fraction)``: from job ``start`` on the
            share of long jobs moves from 0.2 to ``long_fraction``, at once (``ramp`` 0)
            or linearly over ``ramp`` jobs; the arrival probability is scaled by the
            ratio of the mean durations (at most 1), so the offered load stays the same.
    """

    def __init__(
        self,
        uniforms: np.ndarray,
        probability: float,
        n_resources: int,
        surge_probability: float | None = None,
        mix_shift: tuple[int, int, float] | None = None,
    ) -> None:
        self.n_resources = n_resources
        self.width = 3 + n_resources
        self.count = count = uniforms.size // self.width
        self.uniforms = uniforms.ravel().tolist()
        self.log_stay = _log_stay(probability)
        self.surge = (count // 3, 2 * count // 3) if surge_probability is not None else (0, 0)
        self.probability = probability
        self.surge_probability = surge_probability
        self.surge_log_stay = _log_stay(surge_probability or 1.0)
        self.mix_shift = mix_shift
        self.arrivals = [0]  # of the jobs reached so far

    def __len__(self) -> int:
        return self.count

    def job(self, k: int) -> tuple[int, int, tuple[int, ...]]:
        """Job k's arrival [step], duration [steps] and demands [units]."""
        u, width = self.uniforms, self.width
        arrivals = self.arrivals
        while len(arrivals) <= k:
            arrivals.append(arrivals[-1] + self._gap(len(arrivals), u[len(arrivals) * width]))
        base = k * width
        long_fraction = self._long_fraction(k)
        if long_fraction == LONG_FRACTION:
            duration = DURATION_TABLE[int(u[base + 1] * len(DURATION_TABLE))]
        else:
            duration = _duration(u[base + 1], long_fraction)
        low, high = DOMINANT_DEMAND
        choices = high - low + 1
        dominant, extra = divmod(int(u[base + 2] * self.n_resources * choices), choices)
        other_low, other_high = OTHER_DEMAND
        spread = other_high - other_low + 1
        demands = [other_low + int(x * spread) for x in u[base + 3 : base + width]]
        demands[dominant] = low + extra
        return arrivals[k], duration, tuple(demands)

    def columns(self) -> JobSequence:
        """Every job of the episode, as columns."""
        jobs = [self.job(k) for k in range(self.count)]
        return JobSequence(
            [job[0] for job in jobs],
            [job[1] for job in jobs],
            [units for job in jobs for units in job[2]],
            self.n_resources,
        )

    def _gap(self, k: int, uniform: float) -> int:
        """Job k's gap after job k - 1 [steps], geometric on {1, 2, ...} by inversion."""
        surging = self.surge[0] <= k < self.surge[1]
        log_stay = self.surge_log_stay if surging else self.log_stay
        long_fraction = self._long_fraction(k)
        if long_fraction != LONG_FRACTION:
            probability = self.surge_probability if surging else self.probability
            scale = mean_duration() / mean_duration(long_fraction)
            log_stay = _log_stay(min(1.0, probability * scale))
        if log_stay == -math.inf:  # p = 1: a job every step
            return 1
        return 1 + int(math.log1p(-uniform) / log_stay)

    def _long_fraction(self, k: int) -> float:
        """The share of long jobs when job k is drawn."""
        if self.mix_shift is None:
            return LONG_FRACTION
        start, ramp, after = self.mix_shift
        return interpolate(LONG_FRACTION, after, float(ramp_fraction(k, start, ramp)))


def synthetic_columns(
    uniforms: np.ndarray,
    probability: float,
    surge_probability: float | None = None,
    mix_shift: tuple[np.ndarray, int, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every job of several episodes at once: :class:`SyntheticJobs`' jobs, as arrays.

    The same operations on the same numbers, so the same jobs bit for bit (the
    logarithms of the gaps come from :func:`math.log1p`, as there, not numpy's).

    Args:
        uniforms: (episodes, count, 3 + R) numbers, each episode's from
            :func:`draw_uniforms`.
        probability: the Bernoulli arrival probability p per step, in (0, 1].
        surge_probability: as for :class:`SyntheticJobs`.
        mix_shift: as for :class:`SyntheticJobs`, with one first job per episode.

    Returns:
        Each job's arrival [step] and duration [steps], (episodes, count) arrays, and its
        demands [units], an (episodes, count, R) array, all int64.
    """
    episodes, count, width = uniforms.shape
    n_resources = width - 3
    surging = np.zeros(count, dtype=bool)
    if surge_probability is not None:
        surging[count // 3 : 2 * count // 3] = True
    log_stay = np.where(surging, _log_stay(surge_probability or 1.0), _log_stay(probability))
    durations = DURATIONS[(uniforms[:, :, 1] * len(DURATIONS)).astype(np.int64)]
    if mix_shift is not None:
        starts, ramp, after = mix_shift
        fractions = ramp_fraction(np.arange(count)[None, :], np.asarray(starts)[:, None], ramp)
        long_fractions = interpolate(LONG_FRACTION, after, fractions)
        shifted = long_fractions != LONG_FRACTION
        if shifted.any():
            probabilities = np.where(surging, surge_probability or probability, probability)
            scale = mean_duration() / mean_duration(long_fractions[shifted])
            stay = np.minimum(1.0, np.broadcast_to(probabilities, shifted.shape)[shifted] * scale)
            log_stay = np.repeat(log_stay[None, :], episodes, axis=0)
            log_stay[shifted] = [_log_stay(p) for p in stay.tolist()]
            durations[shifted] = _durations(uniforms[:, :, 1][shifted], long_fractions[shifted])
    logs = np.fromiter(map(math.log1p, (-uniforms[:, :, 0]).ravel().tolist()), np.float64)
    logs = logs.reshape(durations.shape)
    # with p = 1 the quotient is 0 (log_stay is -inf): a job every step
    gaps = 1 + (logs / log_stay).astype(np.int64)
    gaps[:, 0] = 0
    arrivals = np.cumsum(gaps, axis=1)

    low, high = DOMINANT_DEMAND
    choices = high - low + 1
    dominant, extra = np.divmod(
        (uniforms[:, :, 2] * n_resources * choices).astype(np.int64), choices
    )
    other_low, other_high = OTHER_DEMAND
    demands = other_low + (uniforms[:, :, 3:] * (other_high - other_low + 1)).astype(np.int64)
    demands.reshape(-1, n_resources)[np.arange(dominant.size), dominant.ravel()] = (
        low + extra
    ).ravel()
    return arrivals, durations, demands


def _duration(uniform: float, long_fraction: float) -> int:
    """A duration [steps], long with probability ``long_fraction``, each range uniform."""
    short_fraction = 1.0 - long_fraction
    if uniform < short_fraction:
        low, high = SHORT_DURATION
        return low + int(uniform / short_fraction * (high - low + 1))
    low, high = LONG_DURATION
    return low + min(high - low, int((uniform - short_fraction) / long_fraction * (high - low + 1)))


def _durations(uniforms: np.ndarray, long_fractions: np.ndarray) -> np.ndarray:
    """:func:`_duration` of each uniform number and long share."""
    short_fractions = 1.0 - long_fractions
    short = uniforms < short_fractions
    durations = np.empty(uniforms.shape, dtype=np.int64)
    low, high = SHORT_DURATION
    durations[short] = low + (uniforms[short] / short_fractions[short] * (high - low + 1)).astype(
        np.int64
    )
    low, high = LONG_DURATION
    over = (uniforms[~short] - short_fractions[~short]) / long_fractions[~short]
    durations[~short] = low + np.minimum(high - low, (over * (high - low + 1)).astype(np.int64))
    return durations


def longest_gap(probability: float) -> int:
    """The longest gap between two arrivals [steps] that the inversion draws at arrival
    probability ``probability``: the one at the largest uniform number below 1."""
    largest_uniform = 1.0 - 2.0**-53  # numpy's random() is a multiple of 2**-53 in [0, 1)
    log_stay = _log_stay(probability)
    return 1 if log_stay == -math.inf else 1 + int(math.log1p(-largest_uniform) / log_stay)


def _log_stay(probability: float) -> float:
    """log(1 - p), the log-probability that no job arrives in a step."""
    return math.log1p(-probability) if probability < 1 else -math.inf


def read_job_trace(path: str | Path, capacities: Sequence[int], horizon: int) -> JobSequence:
    """Read jobs from a CSV trace, sorted by arrival (stable).

    The header is ``arrival,duration`` followed by one demand column per resource (their
    names are free). Every field is an integer: arrival >= 0 [step], 1 <= duration <=
    ``horizon`` [steps], 0 <= demand <= that resource's capacity [units]. Real cluster
    traces must be scaled to these units first. Two identical rows are two jobs.

    Raises:
        DataFileError: the file cannot be read or a line is malformed; the message names
            the file and the 1-based line.
    """
    n_resources = len(capacities)
    width = 2 + n_resources
    rows = csv_rows(read_text(path))
    header_line, header = next(rows, (1, []))
    names = [name.strip().lower() for name in header]
    if len(names) != width or names[:2] != ["arrival", "duration"]:
        raise DataFileError(
            path,
            f"the header must be arrival,duration and {n_resources} demand columns, got {header}",
            line=header_line,
        )
    jobs = [_job(path, number, row, capacities, horizon) for number, row in rows]
    if not jobs:
        raise DataFileError(path, "the trace has no jobs")
    jobs.sort(key=lambda job: job[0])
    arrivals, durations, demands = zip(*jobs)
    flat = [units for job in demands for units in job]
    return JobSequence(list(arrivals), list(durations), flat, n_resources)


def _job(
    path: str | Path, line: int, row: list[str], capacities: Sequence[int], horizon: int
) -> tuple[int, int, tuple[int, ...]]:
    if len(row) != 2 + len(capacities):
        raise DataFileError(path, f"expected {2 + len(capacities)} fields, got {row}", line=line)
    arrival = parse_number(row[0], "arrival [step]", path, line, integer=True, low=0)
    duration = parse_number(row[1], "duration [steps]", path, line, integer=True)
    if not 1 <= duration <= horizon:
        raise DataFileError(
            path,
            f"duration must be in [1, horizon={horizon}], got {duration} "
            "(raise horizon or rescale the trace's time unit)",
            line=line,
        )
    demands = []
    for r, (field, capacity) in enumerate(zip(row[2:], capacities)):
        demand = parse_number(field, f"the demand of resource {r}", path, line, integer=True)
        if not 0 <= demand <= capacity:
            raise DataFileError(
                path,
                f"the demand of resource {r} must be in [0, capacities[{r}]={capacity}], "
                f"got {demand}",
                line=line,
            )
        demands.append(demand)
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

"""The arguments of opsgym/Caching, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Integer, OrNone, Real, Text
from opsgym.envs.core.traces import FORMATS

SYNTHETIC = ("zipf", "drift", "periodic", "scan", "one_hit_wonders", "flood")
WORKLOADS = (*SYNTHETIC, "web07", "trace")
SIZE_DISTRIBUTIONS = ("unit", "lognormal")
REWARD_METRICS = ("hits", "bytes")
MAX_REQUESTS = 10_000_000  # an episode keeps each request's object and size
MAX_OBJECTS = 10_000_000  # a Zipf catalog is an alias table of 16 bytes an object
LOGNORMAL = when("size_distribution", "lognormal")
DRIFT_WORKLOAD = when("workload", "drift")
FLOOD = when("workload", "flood")
ONE_HIT_WONDERS = when("workload", "one_hit_wonders")
PERIODIC = when("workload", "periodic")
SCAN = when("workload", "scan")
SCAN_OR_FLOOD = when("workload", "scan", "flood")
TRACE = when("workload", "trace")
SYNTHETIC_WORKLOAD = when("workload", *SYNTHETIC)


@dataclass(frozen=True, kw_only=True)
class CachingConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.caching.env.CachingEnv`."""

    capacity: int = setting(
        100, Integer(1, 1_000_000_000), "cache size [bytes]; objects, with unit sizes"
    )
    n_candidates: int = setting(
        8, Integer(1, 1000), "eviction candidates per decision (Redis's default sample is 5)"
    )
    workload: str = setting("zipf", Choice(WORKLOADS), "the request stream, see Description")
    episode_length: int = setting(10_000, Integer(1, MAX_REQUESTS), "requests per episode")
    catalog_size: int = setting(
        10_000, Integer(1, MAX_OBJECTS), "objects of the Zipf catalog", SYNTHETIC_WORKLOAD
    )
    zipf_exponent: float = setting(
        0.9, Real(0.0), "Zipf exponent of popularity (web traffic: 0.6 to 1)", SYNTHETIC_WORKLOAD
    )
    drift_period: int = setting(
        2_000, Integer(1, MAX_REQUESTS), "requests between popularity shifts", DRIFT_WORKLOAD
    )
    drift_shift: int = setting(
        500, Integer(0, MAX_OBJECTS), "popularity ranks shifted at each period", DRIFT_WORKLOAD
    )
    drift_ramp: int = ramp_setting(
        MAX_REQUESTS, "requests over which each shift phases in, <= `drift_period`", DRIFT_WORKLOAD
    )
    scan_every: int = setting(
        2_000,
        Integer(2, MAX_REQUESTS),
        "requests from one scan's (or flood's) start to the next's",
        SCAN_OR_FLOOD,
    )
    scan_length: int = setting(
        300, Integer(1, MAX_REQUESTS), "requests of one scan, < `scan_every`", SCAN
    )
    flood_objects: int = setting(100, Integer(1, MAX_OBJECTS), "objects of one flood", FLOOD)
    flood_repeats: int = setting(
        3,
        Integer(1, MAX_REQUESTS),
        "requests per flooded object; `flood_objects * flood_repeats` < `scan_every`",
        FLOOD,
    )
    loop_size: int = setting(80, Integer(1, MAX_OBJECTS), "objects in the loop", PERIODIC)
    loop_fraction: float = setting(
        0.3, PROBABILITY, "fraction of requests going round the loop", PERIODIC
    )
    one_hit_fraction: float = setting(
        0.3, PROBABILITY, "fraction of one-hit-wonder requests", ONE_HIT_WONDERS
    )
    size_distribution: str = setting(
        "unit", Choice(SIZE_DISTRIBUTIONS), "object sizes (a trace's own sizes come first)"
    )
    size_median: float = setting(100.0, POSITIVE, "median lognormal object size [bytes]", LOGNORMAL)
    size_sigma: float = setting(
        1.0, Real(0.0, 5.0), "sigma of the log of lognormal sizes", LOGNORMAL
    )
    trace_path: str | None = setting(
        None, OrNone(Text()), "the trace file to replay", TRACE, required=True
    )
    trace_format: str | None = setting(
        None,
        OrNone(Choice(FORMATS)),
        "the trace's format; guessed from the file name if None",
        TRACE,
    )
    count_half_life: float = setting(
        0.0, Real(0.0), "half-life of request counts [requests]; 0 for raw counts"
    )
    reward_metric: str = setting(
        "hits", Choice(REWARD_METRICS), "what a step's reward counts: hits or bytes hit"
    )

    def validate(self) -> None:
        if self.workload == "drift" and self.drift_ramp > self.drift_period:
            raise ValueError(
                f"drift_ramp must be <= drift_period ({self.drift_period}), got {self.drift_ramp!r}"
            )
        if self.workload == "scan" and self.scan_length >= self.scan_every:
            raise ValueError(
                f"scan_length must be < scan_every ({self.scan_every}), got {self.scan_length!r}"
            )
        if self.workload == "flood" and self.flood_objects * self.flood_repeats >= self.scan_every:
            raise ValueError(
                f"flood_objects * flood_repeats must be < scan_every ({self.scan_every}), got "
                f"{self.flood_objects} * {self.flood_repeats}"
            )

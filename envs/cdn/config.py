"""The arguments of opsgym/CDN, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, unless, when
from opsgym.envs.core.kinds import Choice, Integer, Items, Real

POPULARITIES = ("web07", "zipf")
EVICTIONS = ("lru", "fifo")
WEB07_OBJECTS = 20_484  # distinct objects of the shipped Web07 trace
MAX_EDGES = 100
MAX_OBJECTS = 1_000_000  # the catalogue's per-object arrays, times E rate memories
MAX_INTERVALS = 100_000  # ten weeks of minutes: reset draws the whole episode's events
MAX_CANDIDATES = 1_000
ZIPF = when("popularity", "zipf")
VIRAL = unless("viral_per_hour", 0.0)
FLASH_CROWDS = unless("flash_crowds_per_day", 0.0)


@dataclass(frozen=True, kw_only=True)
class CDNConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.cdn.env.CDNEnv`."""

    utc_offsets: tuple[float, ...] = setting(
        (-5.0, 1.0, 8.0, -8.0),
        Items(Real(-12.0, 14.0), max_length=MAX_EDGES),
        "each edge's local time [hours from UTC]; one edge per entry",
    )
    peak_rps: tuple[float, ...] = setting(
        (5.0, 4.0, 3.0, 2.5),
        Items(POSITIVE, max_length=MAX_EDGES),
        "each edge's request rate at its daily peak [requests/s], one per edge",
    )
    daily_trough: float = setting(
        0.25, Real(0.0, 1.0, open_low=True), "an edge's night-time rate as a fraction of its peak"
    )
    capacity_mb: float = setting(256.0, POSITIVE, "each edge's cache [MB]")
    eviction: str = setting("lru", Choice(EVICTIONS), "each edge's eviction, byte-aware")
    max_pull_mb: float = setting(
        1.0,
        Real(0.0),
        "the largest object an edge caches on a miss [MB]; larger ones only when pushed",
    )
    catalog_size: int = setting(
        4000,
        Integer(1, MAX_OBJECTS),
        f"objects of the catalogue (<= {WEB07_OBJECTS:,} with web07 popularity)",
    )
    popularity: str = setting(
        "web07",
        Choice(POPULARITIES),
        "`web07`: the Web07 trace's rank-frequency; `zipf`: Zipf(`zipf_exponent`)",
    )
    zipf_exponent: float = setting(
        0.8, Real(0.0, 5.0), "Zipf exponent of the popularity (web traffic: 0.6 to 1)", ZIPF
    )
    regional_share: float = setting(
        0.3,
        PROBABILITY,
        "share of a region's requests that follow its own ranking, the rest the global one",
    )
    size_median_kb: float = setting(
        200.0, POSITIVE, "median catalogue object size [kB] (lognormal)"
    )
    size_sigma: float = setting(
        1.0, Real(0.0, 3.0), "sigma of the log of object sizes (0: every object the median size)"
    )
    viral_per_hour: float = setting(
        2.0, Real(0.0, 60.0), "new viral objects per hour of simulated time"
    )
    viral_share: float = setting(
        0.03,
        Real(0.0, 0.5),
        "peak share of its first region's requests a viral object takes",
        VIRAL,
    )
    viral_size_mb: float = setting(
        4.0, POSITIVE, "median size of viral and flash-crowd objects [MB] (lognormal, sigma 0.5)"
    )
    viral_lifetime_minutes: float = setting(
        120.0, POSITIVE, "decay time constant of a viral object's demand [minutes]", VIRAL
    )
    spread_delay_minutes: float = setting(
        60.0,
        Real(0.0),
        "mean delay before a viral object reaches another region [minutes]",
        VIRAL,
    )
    flash_crowds_per_day: float = setting(
        0.0, Real(0.0, 1440.0), "flash crowds per day of simulated time, at every edge at once"
    )
    flash_crowd_size: float = setting(
        3.0,
        Real(0.0, 100.0),
        "a flash crowd's extra requests at its peak, as a multiple of the edge's rate",
        FLASH_CROWDS,
    )
    flash_crowd_objects: int = setting(
        5, Integer(1, MAX_OBJECTS), "new objects a flash crowd's extra requests share", FLASH_CROWDS
    )
    origin_mbps: float = setting(
        12.0, POSITIVE, "the origin link's rate, shared by misses and pushes [Mbit/s]"
    )
    origin_timeout_seconds: float = setting(
        30.0, POSITIVE, "the origin refuses a transfer it could not deliver within this time [s]"
    )
    interval_seconds: float = setting(
        60.0, Real(1.0, 3600.0), "simulated time between two decisions [s]"
    )
    episode_length: int = setting(720, Integer(1, MAX_INTERVALS), "decision intervals per episode")
    n_candidates: int = setting(8, Integer(1, MAX_CANDIDATES), "push candidates shown per interval")
    egress_cost: float = setting(
        0.5, PROBABILITY, "cost of one origin egress byte, in bytes served"
    )
    push_cost: float = setting(0.1, Real(0.0), "extra cost of one pushed byte, in bytes served")

    def validate(self) -> None:
        if len(self.peak_rps) != len(self.utc_offsets):
            raise ValueError(
                f"peak_rps must have {len(self.utc_offsets)} elements, one rate per edge "
                f"(utc_offsets), got {len(self.peak_rps)}"
            )
        if self.popularity == "web07" and self.catalog_size > WEB07_OBJECTS:
            raise ValueError(
                f"catalog_size must be <= {WEB07_OBJECTS} (the Web07 trace's objects) with "
                f"popularity='web07', got {self.catalog_size}"
            )

    @cached_property
    def n_edges(self) -> int:
        return len(self.utc_offsets)

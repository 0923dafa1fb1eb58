"""The arguments of CDN-v0: one frozen, validated dataclass, the docstring table's source.

``gymnasium.make("opsgym/CDN-v0", **kwargs)`` builds a :class:`CDNConfig` from its
keyword arguments, so they stay JSON-able; numpy scalars and arrays are accepted where a
Python number or list is (an Optuna or ``np.arange`` sweep passes ``np.int64``). A bad
value raises ``ValueError`` (or ``TypeError`` for a wrong type) naming the field.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field, fields

import numpy as np

from opsgym.envs.core import validation

POPULARITIES = ("web07", "zipf")
EVICTIONS = ("lru", "fifo")
WEB07_OBJECTS = 20_484  # distinct objects of the shipped Web07 trace


def _arg(default: object, doc: str):
    """A field with its default and its one-line documentation (the docstring table's)."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class CDNConfig:
    """Every argument of CDN-v0, each documented in its field's ``metadata["doc"]``."""

    utc_offsets: tuple[float, ...] = _arg(
        (-5.0, 1.0, 8.0, -8.0), "each edge's local time [hours from UTC]; one edge per entry"
    )
    peak_rps: tuple[float, ...] = _arg(
        (5.0, 4.0, 3.0, 2.5), "each edge's request rate at its daily peak [requests/s]"
    )
    daily_trough: float = _arg(0.25, "an edge's night-time rate as a fraction of its peak")
    capacity_mb: float = _arg(256.0, "each edge's cache [MB]")
    eviction: str = _arg("lru", "each edge's eviction, byte-aware: `lru` or `fifo`")
    max_pull_mb: float = _arg(
        1.0, "the largest object an edge caches on a miss [MB]; larger ones only when pushed"
    )
    catalog_size: int = _arg(4000, "objects of the catalogue (<= 20,484 with web07 popularity)")
    popularity: str = _arg(
        "web07", "`web07`: the Web07 trace's rank-frequency; `zipf`: Zipf(`zipf_exponent`)"
    )
    zipf_exponent: float = _arg(0.8, "Zipf exponent of `popularity=zipf` (web traffic: 0.6 to 1)")
    regional_share: float = _arg(
        0.3, "share of a region's requests that follow its own ranking, the rest the global one"
    )
    size_median_kb: float = _arg(200.0, "median catalogue object size [kB] (lognormal)")
    size_sigma: float = _arg(
        1.0, "sigma of the log of object sizes (0: every object the median size)"
    )
    viral_per_hour: float = _arg(2.0, "new viral objects per hour of simulated time")
    viral_share: float = _arg(
        0.03, "peak share of its first region's requests a viral object takes"
    )
    viral_size_mb: float = _arg(
        4.0, "median size of viral and flash-crowd objects [MB] (lognormal, sigma 0.5)"
    )
    viral_lifetime_minutes: float = _arg(
        120.0, "decay time constant of a viral object's demand [minutes]"
    )
    spread_delay_minutes: float = _arg(
        60.0, "mean delay before a viral object reaches another region [minutes]"
    )
    flash_crowds_per_day: float = _arg(
        0.0, "flash crowds per day of simulated time, at every edge at once"
    )
    flash_crowd_size: float = _arg(
        3.0, "a flash crowd's extra requests at its peak, as a multiple of the edge's rate"
    )
    flash_crowd_objects: int = _arg(5, "new objects a flash crowd's extra requests share")
    origin_mbps: float = _arg(12.0, "the origin link's rate, shared by misses and pushes [Mbit/s]")
    origin_timeout_seconds: float = _arg(
        30.0, "the origin refuses a transfer it could not deliver within this time [s]"
    )
    interval_seconds: float = _arg(60.0, "simulated time between two decisions [s]")
    episode_length: int = _arg(720, "decision intervals per episode")
    n_candidates: int = _arg(8, "push candidates shown per interval")
    egress_cost: float = _arg(0.5, "cost of one origin egress byte, in bytes served; in [0, 1]")
    push_cost: float = _arg(0.1, "extra cost of one pushed byte, in bytes served")

    def __post_init__(self) -> None:
        check = {
            "daily_trough": lambda n, v: validation.in_range(n, v, 0.0, 1.0, open_low=True),
            "capacity_mb": validation.positive,
            "eviction": lambda n, v: validation.choice(n, v, EVICTIONS),
            "catalog_size": lambda n, v: validation.integer(n, v, minimum=1),
            "popularity": lambda n, v: validation.choice(n, v, POPULARITIES),
            "zipf_exponent": lambda n, v: validation.in_range(n, v, 0.0, 5.0),
            "regional_share": validation.probability,
            "size_median_kb": validation.positive,
            "size_sigma": lambda n, v: validation.in_range(n, v, 0.0, 3.0),
            "viral_per_hour": lambda n, v: validation.in_range(n, v, 0.0, 60.0),
            "viral_share": lambda n, v: validation.in_range(n, v, 0.0, 0.5),
            "viral_size_mb": validation.positive,
            "viral_lifetime_minutes": validation.positive,
            "spread_delay_minutes": validation.non_negative,
            "flash_crowds_per_day": lambda n, v: validation.in_range(n, v, 0.0, 1440.0),
            "flash_crowd_size": lambda n, v: validation.in_range(n, v, 0.0, 100.0),
            "flash_crowd_objects": lambda n, v: validation.integer(n, v, minimum=1),
            "max_pull_mb": validation.non_negative,
            "origin_mbps": validation.positive,
            "origin_timeout_seconds": validation.positive,
            "interval_seconds": lambda n, v: validation.in_range(n, v, 1.0, 3600.0),
            "episode_length": lambda n, v: validation.integer(n, v, minimum=1),
            "n_candidates": lambda n, v: validation.integer(n, v, minimum=1),
            "egress_cost": validation.probability,
            "push_cost": validation.non_negative,
        }
        for name, rule in check.items():
            object.__setattr__(self, name, rule(name, _plain(getattr(self, name))))
        offsets = validation.sequence(
            "utc_offsets",
            _plain(self.utc_offsets),
            lambda n, v: validation.in_range(n, v, -12.0, 14.0),
        )
        rates = validation.sequence(
            "peak_rps", _plain(self.peak_rps), validation.positive, length=len(offsets)
        )
        object.__setattr__(self, "utc_offsets", offsets)
        object.__setattr__(self, "peak_rps", rates)
        if self.popularity == "web07" and self.catalog_size > WEB07_OBJECTS:
            raise ValueError(
                f"catalog_size must be <= {WEB07_OBJECTS} (the Web07 trace's objects) with "
                f"popularity='web07', got {self.catalog_size}"
            )

    @property
    def n_edges(self) -> int:
        return len(self.utc_offsets)


def _plain(value: object) -> object:
    """A numpy scalar as a Python number, a numpy array as a list; anything else as is."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def arguments_table() -> str:
    """The Markdown table of every argument: name, type, default and documentation."""
    rows = [
        "| Parameter | Type | Default | Description |",
        "|-----------|------|---------|-------------|",
    ]
    for item in fields(CDNConfig):
        default = json.dumps(item.default)  # as gym.make would be given it
        rows.append(f"| `{item.name}` | {item.type} | `{default}` | {item.metadata['doc']} |")
    return "\n".join(rows)


def keyword_signature(*extra: inspect.Parameter) -> inspect.Signature:
    """The keyword arguments a constructor that builds a :class:`CDNConfig` takes.

    ``inspect.signature`` of the env class then lists every field, so tools that check
    keywords against it (``opsgym``'s ``make_env``) accept them.
    """
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter(f.name, keyword, default=f.default) for f in fields(CDNConfig)]
    return inspect.Signature([*parameters, *extra])

"""The arguments of opsgym/IndexSelection, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from opsgym.envs.core.config import POSITIVE, EnvConfig, setting, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Integer, Items, Real
from opsgym.envs.index_selection.cost_model import PAGE_BYTES, column_sets

DRIFTS = ("none", "shuffle")
BACKENDS = ("model", "sqlite")
MAX_COLUMNS = 8
MAX_WINDOWS = 1_000_000
SQLITE = when("backend", "sqlite")
SHUFFLED = when("drift", "shuffle")


@dataclass(frozen=True, kw_only=True)
class IndexSelectionConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.index_selection.env.IndexSelectionEnv`."""

    column_distinct: tuple[int, ...] = setting(
        (100_000, 20_000, 5_000, 1_000, 200, 100),
        Items(Integer(1), max_length=MAX_COLUMNS),
        "distinct values per column, non-increasing",
    )
    table_rows: int = setting(1_000_000, Integer(1), "rows in the modelled table")
    row_bytes: int = setting(100, Integer(1, PAGE_BYTES), "bytes per row, at most one page")
    storage_budget_mb: float = setting(
        50.0,
        POSITIVE,
        "space the indexes may use [MB] (a single-column index takes 15.3 MB, a pair 23.0 MB)",
    )
    window: int = setting(200, Integer(1, 1_000_000_000), "operations per step")
    write_share: float = setting(0.2, Real(0.0, 1.0, open_high=True), "expected share of writes")
    zipf_exponent: float = setting(1.0, Real(0.0), "skew of template popularity")
    drift: str = setting(
        "shuffle", Choice(DRIFTS), "whether a new popularity ranking comes every phase"
    )
    phase_length: int = setting(
        50, Integer(1, MAX_WINDOWS), "windows per popularity phase", SHUFFLED
    )
    drift_ramp: int = ramp_setting(
        MAX_WINDOWS,
        "windows over which a new phase's popularity phases in, <= `phase_length`",
        SHUFFLED,
    )
    episode_length: int = setting(200, Integer(1, MAX_WINDOWS), "windows per episode")
    build_weight: float = setting(
        1.0, Real(0.0), "reward weight of the pages spent building indexes"
    )
    backend: str = setting(
        "model",
        Choice(BACKENDS),
        "who picks the access paths: the cost model, or the planner of a real SQLite table",
    )
    sqlite_rows: int = setting(20_000, Integer(1, 1_000_000), "rows in the SQLite table", SQLITE)

    def validate(self) -> None:
        distinct = self.column_distinct
        if any(b > a for a, b in zip(distinct, distinct[1:])):
            raise ValueError(f"column_distinct must be non-increasing, got {list(distinct)}")
        if self.drift == "shuffle" and self.drift_ramp > self.phase_length:
            raise ValueError(
                f"drift_ramp must be <= phase_length ({self.phase_length}), got {self.drift_ramp!r}"
            )

    @property
    def storage_limit_mb(self) -> float:
        """The storage budget plus the rounding that a sum of index sizes may exceed it
        by [MB]: a set of indexes fits when its size is at most this."""
        return self.storage_budget_mb + 1e-9

    @cached_property
    def candidates(self) -> list[tuple[int, ...]]:
        """The candidate indexes (and query templates), as column tuples, in action order."""
        return column_sets(len(self.column_distinct))

    @cached_property
    def popularity_by_rank(self) -> np.ndarray:
        """The templates' Zipf probabilities, the most popular first."""
        ranks = np.arange(1, len(self.candidates) + 1, dtype=float) ** -self.zipf_exponent
        return ranks / ranks.sum()

"""The access paths SQLite's query planner picks, for checking the cost model's.

An in-memory SQLite database (Python's built-in ``sqlite3``) holds a table with the same
columns as the modelled one but fewer rows, and distinct-value counts scaled down with
the rows so that every predicate keeps the modelled selectivity; indexes are really
created and dropped, ``ANALYZE`` gives the planner its statistics, and ``EXPLAIN QUERY
PLAN`` says which index, matching which columns, serves each query template.
"""

from __future__ import annotations

import re
import sqlite3
from typing import NamedTuple

import numpy as np


class Plan(NamedTuple):
    """The access path SQLite chose for a query."""

    index: tuple[int, ...] | None  # None: a full scan
    matched: tuple[int, ...]  # the query's columns the index matches by equality
    skip_scan: bool  # the index's leading column is skipped (ANY), not matched


_SEARCH = re.compile(r"^SEARCH t USING (?:COVERING )?INDEX (\w+) \((.*)\)$")


def index_name(index: tuple[int, ...]) -> str:
    return "ix_" + "_".join(f"c{c}" for c in index)


class SqlitePlanner:
    """A live SQLite table whose planner is asked how it would answer each query.

    Args:
        distinct: each column's number of distinct values in the modelled table.
        rows: the number of rows to load (values uniform, drawn from a fixed seed: the
            data is part of the configuration, not of an episode).
        modelled_rows: the modelled table's rows; distinct counts are scaled by
            ``rows / modelled_rows`` (at least 1).
    """

    def __init__(self, distinct: tuple[int, ...], rows: int, modelled_rows: int) -> None:
        self.distinct = tuple(max(1, round(d * rows / modelled_rows)) for d in distinct)
        self.rows = rows
        self.built: list[tuple[int, ...]] = []
        self._plans: dict[tuple, Plan] = {}
        self._connect()

    def _connect(self) -> None:
        columns = [f"c{c}" for c in range(len(self.distinct))]
        self.connection = sqlite3.connect(":memory:")
        self.connection.execute(
            f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(columns)}, payload TEXT)"
        )
        rng = np.random.default_rng(0)
        values = np.stack([rng.integers(0, d, self.rows) for d in self.distinct], axis=1)
        marks = ", ".join("?" * len(columns))
        self.connection.executemany(
            f"INSERT INTO t ({', '.join(columns)}, payload) VALUES ({marks}, ?)",
            [(*row, "x" * 64) for row in values.tolist()],
        )
        for index in self.built:
            self._create(index)
        self.connection.execute("ANALYZE")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["connection"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._connect()

    def _create(self, index: tuple[int, ...]) -> None:
        columns = ", ".join(f"c{c}" for c in index)
        self.connection.execute(f"CREATE INDEX {index_name(index)} ON t ({columns})")

    def set_indexes(self, indexes: list[tuple[int, ...]]) -> None:
        """Create and drop indexes so that exactly ``indexes`` exist, then re-ANALYZE."""
        wanted = set(indexes)
        if wanted == set(self.built):
            return
        for index in self.built:
            if index not in wanted:
                self.connection.execute(f"DROP INDEX {index_name(index)}")
        for index in indexes:
            if index not in self.built:
                self._create(index)
        self.built = list(indexes)
        self.connection.execute("ANALYZE")

    def plan(self, query: tuple[int, ...]) -> Plan:
        """How SQLite answers ``query`` with the indexes that exist now."""
        key = (tuple(sorted(self.built)), query)
        if key not in self._plans:
            where = " AND ".join(f"c{c} = ?" for c in query)
            rows = self.connection.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM t WHERE {where}", [1] * len(query)
            ).fetchall()
            self._plans[key] = _matched(rows[-1][3])
        return self._plans[key]


def _matched(detail: str) -> Plan:
    """Parse ``SEARCH t USING INDEX ix_c0_c1 (c0=? AND c1=?)``, ``(ANY(c0) AND c1=?)``
    (a skip-scan) or ``SCAN t``."""
    found = _SEARCH.match(detail)
    if found is None:
        if not detail.startswith("SCAN"):
            raise ValueError(f"unexpected query plan {detail!r}")
        return Plan(None, (), False)
    index = tuple(int(part[1:]) for part in found.group(1).split("_")[1:])
    terms = found.group(2).split(" AND ")
    skip_scan = terms[0].startswith("ANY(")
    matched = tuple(int(term.split("=")[0].strip()[1:]) for term in terms if "=" in term)
    return Plan(index, matched, skip_scan)

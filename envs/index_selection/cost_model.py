"""Page-access costs of queries, writes and index builds on one table with B-tree indexes.

The textbook cost model of access path selection (P. G. Selinger et al., "Access path
selection in a relational database management system", SIGMOD 1979; R. Ramakrishnan and
J. Gehrke, *Database Management Systems*, 3rd ed., chapters 8 and 12), counting page
accesses. Its assumptions, stated once:

- The table has `rows` rows of `row_bytes` bytes on pages of `PAGE_BYTES`; a full scan
  reads every page.
- A query is a conjunction of equality predicates on one or two columns. Columns are
  independent and uniformly distributed, so an equality predicate on a column with d
  distinct values keeps rows / d rows, and a conjunction the product of the fractions.
- An index is a B-tree on one column or on an ordered pair of columns. It serves a query
  when its leading column has a predicate (the prefix rule); a pair index whose both
  columns have predicates matches on both. A lookup descends the tree (its height), reads
  the matching leaf entries, and fetches each matching row from its own page (the index
  is not clustered); remaining predicates are checked on the fetched rows.
- The planner takes the cheapest access path: a full scan or one index (no index
  intersection).
- A write (an insert, or an update of indexed columns) writes one table page and
  descends and writes a leaf of every index.
- Building an index scans the table and writes the sorted leaves twice (one merge pass
  of an external sort); dropping one is free.

Candidate indexes and query templates are the same column sets: every single column and
every pair (a, b) with a before b in the table's column order. Columns are listed from the
most to the least selective, so a pair index leads with its more selective column.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

PAGE_BYTES = 4096
KEY_BYTES = 8  # one indexed column value
POINTER_BYTES = 8  # a row id in an index entry


@dataclass(frozen=True)
class Table:
    """The table's shape: its size and its columns' distinct-value counts."""

    rows: int
    row_bytes: int
    distinct: tuple[int, ...]  # per column, most selective first

    @property
    def pages(self) -> float:
        return self.rows / (PAGE_BYTES // self.row_bytes)


def column_sets(columns: int) -> list[tuple[int, ...]]:
    """Every single column, then every ordered pair (a, b) with a < b."""
    return [(c,) for c in range(columns)] + list(itertools.combinations(range(columns), 2))


def entries_per_page(index: tuple[int, ...]) -> int:
    """How many entries of ``index`` fit on a leaf page."""
    return PAGE_BYTES // (KEY_BYTES * len(index) + POINTER_BYTES)


def leaf_pages(table: Table, index: tuple[int, ...]) -> float:
    return table.rows / entries_per_page(index)


def index_megabytes(table: Table, index: tuple[int, ...]) -> float:
    """An index's size: its leaf pages (inner pages add about 1 %, ignored) [MB]."""
    return leaf_pages(table, index) * PAGE_BYTES / 2**20


def height(table: Table, index: tuple[int, ...]) -> float:
    """The pages a lookup reads from the root down to the first leaf."""
    fanout = entries_per_page(index)
    return 1.0 + math.ceil(math.log(max(leaf_pages(table, index), 1.0)) / math.log(fanout))


def matched_columns(index: tuple[int, ...], query: tuple[int, ...]) -> tuple[int, ...]:
    """The prefix of ``index`` whose columns all have predicates in ``query``."""
    matched = []
    for column in index:
        if column not in query:
            break
        matched.append(column)
    return tuple(matched)


def lookup_cost(table: Table, index: tuple[int, ...], query: tuple[int, ...]) -> float:
    """Pages read to answer ``query`` through ``index``; infinite if it cannot serve it."""
    matched = matched_columns(index, query)
    if not matched:
        return math.inf
    rows = table.rows / math.prod(table.distinct[c] for c in matched)
    return height(table, index) + rows / entries_per_page(index) + rows


def skip_scan_cost(table: Table, index: tuple[int, ...], query: tuple[int, ...]) -> float:
    """Pages read by a skip-scan: ``query`` constrains a pair index's second column but
    not its leading one, so the lookup is repeated for every leading value.

    Not a choice of the model's planner (textbook planners do not skip-scan); SQLite's
    planner makes it when statistics show a leading column with few values, and the
    SQLite backend costs that choice here.
    """
    leading, second = index
    rows = table.rows / table.distinct[second]
    return table.distinct[leading] * height(table, index) + rows / entries_per_page(index) + rows


def query_cost(
    table: Table, indexes: list[tuple[int, ...]], query: tuple[int, ...]
) -> tuple[float, tuple[int, ...] | None]:
    """The cheapest access path for ``query`` given the built ``indexes``.

    Returns:
        Its cost [pages] and the index used, or None for a full scan. Ties go to the
        index listed first.
    """
    best_cost, best_index = table.pages, None
    for index in indexes:
        cost = lookup_cost(table, index, query)
        if cost < best_cost:
            best_cost, best_index = cost, index
    return best_cost, best_index


def write_cost(table: Table, indexes: list[tuple[int, ...]]) -> float:
    """Pages one write touches: its table page, and for every index a descent to a leaf
    and the leaf's write."""
    return 1.0 + sum(height(table, index) + 1.0 for index in indexes)


def build_cost(table: Table, index: tuple[int, ...]) -> float:
    """Pages read and written to build ``index``: a table scan and a one-pass sort."""
    return table.pages + 2.0 * leaf_pages(table, index)

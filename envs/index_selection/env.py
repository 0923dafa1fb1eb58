"""The Gymnasium environment around :mod:`opsgym.envs.index_selection.cost_model`."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.drift import interpolate, ramp_fraction
from opsgym.envs.index_selection import cost_model
from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.cost_model import Table
from opsgym.envs.index_selection.sqlite_planner import SqlitePlanner


def summarize_windows(
    totals: np.ndarray, builds: int, storage_sum: float, windows: int
) -> dict[str, float]:
    """Episode metrics from the running totals of ``windows`` windows: queries, their
    pages, writes, their pages, queries an index served (and queries whose plans agreed,
    unused here), the indexes built and the sum of each window's storage [MB]."""
    queries, query_pages, writes, write_pages, served, _ = totals.tolist()
    return {
        "pages_per_query": query_pages / queries if queries else 0.0,
        "pages_per_write": write_pages / writes if writes else 0.0,
        "index_builds": float(builds),
        "storage_mb": storage_sum / windows,
        "indexed_query_share": served / queries if queries else 0.0,
    }


def window_rewards(
    config: IndexSelectionConfig, pages, writes, write_cost, build_pages, table_pages
):
    """The reward, its components and the totals (queries, their pages, writes, their
    pages, queries an index served) of windows from their pages and queries an index
    served (``pages``), their writes, the pages of one write and of the index built
    (scalars, or arrays over instances)."""
    all_pages, served = pages
    queries = config.window - writes
    write_pages = writes * write_cost
    query_pages = all_pages - write_pages
    scale = config.window * table_pages
    rewards = {
        "query": -query_pages / scale,
        "maintenance": -write_pages / scale,
        "build": -build_pages / scale,
    }
    reward = rewards["query"] + rewards["maintenance"] + config.build_weight * rewards["build"]
    return reward, rewards, (queries, query_pages, writes, write_pages, served)


class IndexSelectionEnv(ConfiguredEnv[np.ndarray, int], config_class=IndexSelectionConfig):
    """Choose which B-tree indexes a table keeps, under a storage budget, as queries drift.

    ## Description

    A table of `table_rows` rows and C columns receives windows of `window` operations:
    queries with equality predicates on one column or on a pair of columns (one template
    per column set), and a share `write_share` of writes. Template popularity follows a
    Zipf law with exponent `zipf_exponent` over a random ranking; with `drift="shuffle"`
    the ranking is redrawn every `phase_length` windows, so the popular predicates move:
    at once (`drift_ramp=0`) or gradually, the template probabilities moving linearly
    from the old phase's to the new one's over the phase's first `drift_ramp` windows.
    Columns have the distinct-value counts `column_distinct`, most selective first.

    Each step the agent creates one candidate index (on a column, or on a pair of columns
    leading with the more selective one), drops one, or holds; then the window is served.
    Costs come from the textbook page-access model (see the cost model's docstring): a
    query is answered by a full scan or by the cheapest index whose leading column it
    constrains; a write also updates every index; building an index scans the table and
    sorts. The indexes must fit in `storage_budget_mb`: a create that would overflow it is
    refused (nothing happens).

    With `backend="sqlite"` the built indexes are also really created in an in-memory SQLite
    table (Python's `sqlite3`, `sqlite_rows` rows with the same columns and selectivities,
    and `ANALYZE` statistics), each query uses the access path SQLite's planner picks
    (`EXPLAIN QUERY PLAN`), costed by the model, and `info["plan_agreement"]` reports the
    share of queries where SQLite and the model chose an index matching the same columns.

    ## Action Space

    `Discrete(1 + 2K)` with K the number of candidate indexes (C single columns then the
    C(C-1)/2 pairs, in `candidates()` order; K = 21 with the default 6 columns): 0 holds,
    `1 + 2k` creates candidate k, `2 + 2k` drops it. Creating a built index, dropping an
    absent one, or creating past the budget does nothing.

    ## Observation Space

    A float32 `Box` of shape `(2K + 2,)` in [0, 1]:

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 .. K-1 | 1 if candidate k is built, else 0 | 0 | 1 |
    | K .. 2K-1 | share of the last window's operations that were queries of template k (templates in candidate order) | 0 | 1 |
    | 2K | share of the last window's operations that were writes | 0 | 1 |
    | 2K+1 | storage used, as a share of the budget | 0 | 1 |

    The observation holds the last window only. The greedy advisor, the best heuristic,
    also remembers: it acts on an exponentially weighted mix of all windows so far and
    keeps the recommendation it committed to until a new one repays its builds. A policy
    of the current observation alone therefore cannot always do what it does: behaviour
    cloning of the advisor (`opsgym imitate`, PPO's network, 200,000 labelled states and
    8 DAgger rounds) fits only 73% of the advisor's labels and does what it does on 66% of
    the states it visits, yet reaches a normalized score of 0.90 to the advisor's 0.95
    (0.87 with 100,000 states and 4 rounds). A learner that needs the memory itself can
    stack observations (Gymnasium's `FrameStackObservation`) or use a recurrent policy.

    ## Rewards

    `reward = -(query_pages + maintenance_pages + build_weight * build_pages) /
    (window * table_pages)`: the window's page accesses, in units of one full scan per
    operation, so a window of queries all answered by scans costs about 1. The
    components are in `info["rewards"]` as `query`, `maintenance` and `build` (each minus
    its normalized pages).

    ## Starting State

    No index. The observation shows the expected shares of the first window's
    popularity and an empty storage. The popularity rankings and every window's
    operations are drawn from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_length` windows have been served.

    The environment never terminates. On the last step `info["episode_metrics"]` holds
    the mean pages per query and per write, the number of index builds, the mean storage
    used [MB], the share of queries an index served and, with `backend="sqlite"`, the
    plan agreement.

    {ARGUMENTS}

    ## Vector Environment

    `gym.make_vec("opsgym/IndexSelection-v0", num_envs=N,
    vectorization_mode="vector_entry_point")` advances N instances in numpy arrays
    (`opsgym.envs.index_selection.vector`), with the cost-model backend only (the SQLite
    planner is one connection whose indexes are set per query). It follows this env in
    distribution: the windows' query counts of all instances come from one generator.

    ## Version History

    * v0: Initial release. `drift_ramp` added later; its default keeps the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/IndexSelection-v0"
    example = {"write_share": 0.5, "storage_budget_mb": 100}

    def _set_up(self, config: IndexSelectionConfig) -> None:
        self.table = Table(config.table_rows, config.row_bytes, config.column_distinct)
        candidates = config.candidates
        self.sizes_mb = [cost_model.index_megabytes(self.table, c) for c in candidates]
        self.build_pages = [cost_model.build_cost(self.table, c) for c in candidates]
        self.planner = None
        if config.backend == "sqlite":
            self.planner = SqlitePlanner(
                config.column_distinct, config.sqlite_rows, config.table_rows
            )
        self._costs: dict[int, np.ndarray] = {}  # path costs per set of built indexes (a mask)
        self._observation_base: dict[int, np.ndarray] = {}  # the observation's part per set
        self._per_window = 1.0 / config.window
        self.built_mask = 0
        self.storage_mb = 0.0
        self._probabilities = np.zeros(len(candidates) + 1)  # templates then writes, this window
        self._phase_probabilities = (self._probabilities, self._probabilities)  # old, new
        self._window_index = 0
        self._counts = np.zeros(len(candidates) + 1)
        # queries, query pages, writes, write pages, served, agreed
        self._totals = [0.0] * 6
        self._builds = 0
        self._storage_sum = 0.0

    @staticmethod
    def spaces(config: IndexSelectionConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        k = len(config.candidates)
        observations = spaces.Box(0.0, 1.0, shape=(2 * k + 2,), dtype=np.float32)
        return spaces.Discrete(1 + 2 * k), observations

    def candidates(self) -> list[tuple[int, ...]]:
        """The candidate indexes (and query templates), as column tuples, in action order."""
        return list(self.config.candidates)

    def built(self) -> list[int]:
        """The candidates currently built, by number."""
        return [k for k in range(len(self.config.candidates)) if self.built_mask >> k & 1]

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        self.built_mask = 0
        self.storage_mb = 0.0
        self._window_index = 0
        self._totals = [0.0] * 6
        self._builds = 0
        self._storage_sum = 0.0
        self._draw_phase()
        self._counts = self._probabilities * self.config.window
        return self._observation(), {}

    def _advance(self, index: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        build_pages, refused = 0.0, False
        if index > 0:
            candidate, drop = divmod(index - 1, 2)
            bit = 1 << candidate
            if drop:
                if self.built_mask & bit:
                    self.built_mask ^= bit
                    self.storage_mb = sum(self.sizes_mb[k] for k in self.built())
            elif not self.built_mask & bit:
                if self.storage_mb + self.sizes_mb[candidate] <= config.storage_limit_mb:
                    self.built_mask |= bit
                    self.storage_mb = sum(self.sizes_mb[k] for k in self.built())
                    build_pages = self.build_pages[candidate]
                    self._builds += 1
                else:
                    refused = True

        if self.planner is not None:
            self.planner.set_indexes([self.config.candidates[k] for k in self.built()])
        per_operation = self.path_costs(self.built_mask)
        counts = self.np_random.multinomial(config.window, self._probabilities)
        self._counts = counts
        all_pages, served_queries, agreed_queries = (counts @ per_operation).tolist()
        write_cost = float(per_operation[-1, 0])
        reward, rewards, totals = window_rewards(
            config,
            (all_pages, served_queries),
            int(counts[-1]),
            write_cost,
            build_pages,
            self.table.pages,
        )
        queries, query_pages = totals[0], totals[1]
        self._totals = list(map(operator.add, self._totals, (*totals, agreed_queries)))
        self._storage_sum += self.storage_mb
        info: dict[str, Any] = {
            "pages_per_query": query_pages / queries if queries else 0.0,
            "pages_per_write": write_cost,
            "indexed_query_share": served_queries / queries if queries else 0.0,
            "storage_mb": self.storage_mb,
            "refused": refused,
            "rewards": rewards,
        }
        if self.planner is not None:
            info["plan_agreement"] = agreed_queries / queries if queries else 1.0

        self._window_index += 1
        truncated = self._window_index == config.episode_length
        if not truncated and config.drift == "shuffle":
            into_phase = self._window_index % config.phase_length
            if into_phase == 0:
                self._draw_phase()
            elif into_phase < config.drift_ramp:
                old, new = self._phase_probabilities
                fraction = float(ramp_fraction(into_phase, 0, config.drift_ramp))
                self._probabilities = interpolate(old, new, fraction)
        return self._observation(), reward, False, truncated, info

    def upcoming_probabilities(self) -> np.ndarray:
        """Each template's and a write's probability in the next window (privileged)."""
        return self._probabilities

    def expected_window_pages(self, mask: int, probabilities: np.ndarray) -> float:
        """The expected page accesses of a window served with the indexes in ``mask``."""
        return self.config.window * float(probabilities @ self.path_costs(mask)[:, 0])

    def mask_of(self, candidates: Sequence[int]) -> int:
        return sum(1 << k for k in set(candidates))

    def episode_metrics(self) -> dict[str, float]:
        """Means over the windows served so far, in database units."""
        if self._window_index == 0:
            return {}
        totals = np.array(self._totals)
        metrics = summarize_windows(totals, self._builds, self._storage_sum, self._window_index)
        if self.planner is not None:
            queries, agreed = self._totals[0], self._totals[5]
            metrics["plan_agreement"] = float(agreed / queries) if queries else 1.0
        return metrics

    def _text_frame(self) -> str:
        names = [
            "(" + ", ".join(f"c{c}" for c in self.config.candidates[k]) + ")" for k in self.built()
        ]
        return (
            f"window {self._window_index}/{self.config.episode_length}: indexes {', '.join(names) or '-'}"
            f" ({self.storage_mb:.1f} of {self.config.storage_budget_mb:g} MB)"
        )

    def _draw_phase(self) -> None:
        probabilities = self.draw_phase(self.np_random)
        old = probabilities if self._window_index == 0 else self._phase_probabilities[1]
        self._phase_probabilities = (old, probabilities)
        self._probabilities = interpolate(
            old, probabilities, float(ramp_fraction(0, 0, self.config.drift_ramp))
        )

    def draw_phase(self, rng: np.random.Generator) -> np.ndarray:
        """A new phase's probabilities of each template, then of a write: the Zipf ranks
        shuffled with ``rng`` under the ``"shuffle"`` drift, in candidate order without
        (before any ramp from the previous phase's)."""
        k = len(self.config.candidates)
        ranks = rng.permutation(k) if self.config.drift == "shuffle" else np.arange(k)
        probabilities = np.empty(k + 1)
        probabilities[:k] = self.config.popularity_by_rank[ranks] * (1.0 - self.config.write_share)
        probabilities[k] = self.config.write_share
        return probabilities

    def path_costs(self, mask: int) -> np.ndarray:
        """Per template then per write: pages, whether an index serves it, and (sqlite)
        whether the two planners agree; one row each, for the built set ``mask``."""
        cached = self._costs.get(mask)
        if cached is None:
            cached = self._compute_path_costs(mask)
            self._costs[mask] = cached
        return cached

    def _compute_path_costs(self, mask: int) -> np.ndarray:
        table = self.table
        indexes = [c for k, c in enumerate(self.config.candidates) if mask >> k & 1]
        costs = np.zeros((len(self.config.candidates) + 1, 3))
        if self.planner is not None:
            self.planner.set_indexes(indexes)
        for t, query in enumerate(self.config.candidates):
            cost, used = cost_model.query_cost(table, indexes, query)
            model_match = cost_model.matched_columns(used, query) if used else ()
            if self.planner is not None:
                plan = self.planner.plan(query)
                used = plan.index
                if used is None:
                    cost = table.pages
                elif plan.skip_scan:
                    cost = cost_model.skip_scan_cost(table, used, query)
                else:
                    cost = cost_model.lookup_cost(table, used, query)
                agree = not plan.skip_scan and set(plan.matched) == set(model_match)
                costs[t, 2] = float(agree)
            costs[t, 0] = cost
            costs[t, 1] = float(used is not None)
        costs[-1, 0] = cost_model.write_cost(table, indexes)
        if self.planner is not None and mask != self.built_mask:  # a what-if: restore
            self.planner.set_indexes([self.config.candidates[k] for k in self.built()])
        return costs

    def _observation(self) -> np.ndarray:
        k = len(self.config.candidates)
        observation = self._observation_base.get(self.built_mask)
        if observation is None:  # the part that depends only on the built set
            observation = np.zeros(2 * k + 2, dtype=np.float32)
            observation[:k] = [self.built_mask >> i & 1 for i in range(k)]
            observation[2 * k + 1] = min(1.0, self.storage_mb / self.config.storage_budget_mb)
            self._observation_base[self.built_mask] = observation
        observation = observation.copy()
        observation[k : 2 * k + 1] = self._counts * self._per_window
        return observation

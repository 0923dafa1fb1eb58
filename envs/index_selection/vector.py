"""N index advisers advanced together with numpy batch operations (cost-model backend).

The dynamics are those of :class:`~opsgym.envs.index_selection.env.IndexSelectionEnv`
with ``backend="model"``: the same actions, storage budget, path costs (the single
env's :meth:`~IndexSelectionEnv.path_costs`, computed once per set of built indexes)
and phases (each instance draws its rankings from its own generator, seeded s + i,
with the single env's :meth:`~IndexSelectionEnv.draw_phase`, and ramps between them as
the single env does). The windows' query counts are drawn for all instances in one
multinomial call from a generator of the vector env, so the instances match the single
env in distribution, not draw for draw: the first phase is the single env's, the later
ones differ because the single env draws its counts from the generator it shuffles
with.

The SQLite backend cannot be batched: its planner is one SQLite connection whose
indexes are set per query, one instance at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core import batch
from opsgym.envs.core.drift import ramp_fraction
from opsgym.envs.core.lazy_table import LazyTable
from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.env import IndexSelectionEnv, summarize_windows, window_rewards
from opsgym.envs.vector import BatchedVectorEnv


class IndexSelectionVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/IndexSelection-v0 (``backend="model"``)."""

    single_env_class = IndexSelectionEnv

    def _set_up(self, config: IndexSelectionConfig, num_envs: int) -> None:
        if config.backend != "model":
            raise ValueError(
                f"backend: the vector env supports only 'model', got {config.backend!r}"
            )
        # the single env computes the path costs and draws the phases
        self.model = model = IndexSelectionEnv(config=config)
        k = self.candidates = len(model.candidates())
        self.bits = np.int64(1) << np.arange(k, dtype=np.int64)
        self.sizes_mb = np.array(model.sizes_mb)
        self.build_pages = np.array(model.build_pages)
        self.table_pages = model.table.pages
        # the single env's path costs of each set of built indexes, by the set's mask
        self.path_costs = LazyTable(model.path_costs, (k + 1, 3))
        self.sampler = np.random.default_rng()
        self.built = np.zeros(num_envs, dtype=np.int64)
        self.storage = np.zeros(num_envs)
        self.probabilities = np.zeros((num_envs, k + 1))  # this window's
        self.phases = np.zeros((2, num_envs, k + 1))  # the previous phase's and this one's
        self.counts = np.zeros((num_envs, k + 1))
        self.per_operation = np.zeros((num_envs, k + 1, 3))  # path costs of the built set
        self.window_index = np.zeros(num_envs, dtype=np.int64)
        self.totals = np.zeros((num_envs, 6))
        self.builds = np.zeros(num_envs, dtype=np.int64)
        self.storage_sum = np.zeros(num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            seeds = [s for s in batch.instance_seeds(seed, self.num_envs) if s is not None]
            self.sampler = np.random.default_rng([len(seeds), *seeds])
        return super().reset(seed=seed, options=options)

    def _reset_rows(self, rows: np.ndarray) -> None:
        for i in rows:
            self.phases[:, i] = self.model.draw_phase(self.generators[i])
        self.probabilities[rows] = self.phases[1, rows]
        self.built[rows] = 0
        self.per_operation[rows] = self.path_costs.lookup(np.zeros(1, dtype=np.int64))
        self.storage[rows] = 0.0
        self.window_index[rows] = 0
        self.totals[rows] = 0.0
        self.builds[rows] = 0
        self.storage_sum[rows] = 0.0
        self.counts[rows] = self.probabilities[rows] * self.config.window

    def _storage(self, masks: np.ndarray) -> np.ndarray:
        return ((masks[:, None] & self.bits) != 0) @ self.sizes_mb

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        at = self._index(rows)
        built = self.built[rows]  # copies: the infos keep storage
        storage = self.storage[rows]
        candidate, drop = np.divmod(actions - 1, 2)
        candidate = np.where(actions > 0, candidate, 0)
        bit = self.bits[candidate]
        has = (built & bit) != 0
        dropping = (actions > 0) & (drop == 1) & has
        adding = (actions > 0) & (drop == 0) & ~has
        fits = storage + self.sizes_mb[candidate] <= config.storage_limit_mb
        building = adding & fits
        refused = adding & ~fits
        built = np.where(dropping | building, built ^ bit, built)
        changed = dropping | building
        if changed.any():
            storage[changed] = self._storage(built[changed])
            self.per_operation[rows[changed]] = self.path_costs.lookup(built[changed])
        build_pages = np.where(building, self.build_pages[candidate], 0.0)
        self.built[at] = built
        self.storage[at] = storage
        self.builds[at] += building

        per_operation = self.per_operation[at]
        # numpy draws each row by conditional binomials in C, ~1.7 us a row of 22; K - 1
        # binomial calls across all rows measured slower at N = 64 and 1024
        counts = self.sampler.multinomial(config.window, self.probabilities[at])
        self.counts[at] = counts
        pages, served, _ = (counts[:, None, :] @ per_operation)[:, 0, :].T
        write_cost = per_operation[:, -1, 0]
        reward, rewards, totals = window_rewards(
            config, (pages, served), counts[:, -1], write_cost, build_pages, self.table_pages
        )
        queries, query_pages = totals[0], totals[1]
        self.totals[at, :5] += np.stack(totals, axis=1)
        self.storage_sum[at] += storage
        some = np.maximum(queries, 1)
        info = {
            "pages_per_query": np.where(queries > 0, query_pages / some, 0.0),
            "pages_per_write": write_cost,
            "indexed_query_share": np.where(queries > 0, served / some, 0.0),
            "storage_mb": storage,
            "refused": refused,
            "rewards": rewards,
        }
        done = self.window_index[at] + 1
        self.window_index[at] = done
        truncated = done == config.episode_length
        if config.drift == "shuffle":
            self._next_phase(rows[~truncated], done[~truncated])
        return reward, truncated, info

    def _next_phase(self, rows: np.ndarray, windows: np.ndarray) -> None:
        """Start a new phase, or move along the ramp into it, as the single env does."""
        config = self.config
        into_phase = windows % config.phase_length
        for i in rows[into_phase == 0]:
            self.phases[0, i] = self.phases[1, i]
            self.phases[1, i] = self.model.draw_phase(self.generators[i])
        ramping = into_phase < max(config.drift_ramp, 1)
        if not ramping.any():
            return
        rows, into_phase = rows[ramping], into_phase[ramping]
        fraction = ramp_fraction(into_phase, 0, config.drift_ramp)[:, None]
        old, new = self.phases[0, rows], self.phases[1, rows]
        self.probabilities[rows] = np.where(fraction >= 1.0, new, old + fraction * (new - old))

    def _observations(self) -> np.ndarray:
        config = self.config
        k = self.candidates
        observations = np.empty(self.observation_space.shape, dtype=np.float32)
        observations[:, :k] = (self.built[:, None] & self.bits) != 0
        observations[:, k:-1] = self.counts * (1.0 / config.window)
        observations[:, -1] = np.minimum(1.0, self.storage / config.storage_budget_mb)
        return observations

    def _instance_metrics(self, i: int) -> dict[str, float]:
        windows = int(self.window_index[i])
        return summarize_windows(self.totals[i], int(self.builds[i]), self.storage_sum[i], windows)

"""The ceiling of IndexSelection: the best static index set of each popularity phase."""

from __future__ import annotations

import itertools
import math

import numpy as np

from opsgym.envs.core import validation
from opsgym.envs.index_selection.env import IndexSelectionEnv

MAX_SUBSETS = 100_000  # beyond this the exhaustive search takes too long to be a reference


def subset_bound(env: IndexSelectionEnv) -> int:
    """How many candidate sets the exhaustive search may visit: every set of at most as
    many indexes as the budget holds of the smallest."""
    fits = min(len(env.sizes_mb), int(env.config.storage_budget_mb // min(env.sizes_mb)))
    return sum(math.comb(len(env.sizes_mb), size) for size in range(fits + 1))


def best_index_set(env: IndexSelectionEnv, probabilities: np.ndarray) -> tuple[int, ...]:
    """The candidates whose expected window cost is lowest, among the sets that fit.

    Exhaustive over every subset of candidates within the storage budget (with the
    defaults, at most three indexes fit: 1,562 subsets). Build costs are left out: this
    is the best set to *hold* through a phase. Ties go to the smaller, earlier subset.
    """
    sizes, limit = env.sizes_mb, env.config.storage_limit_mb
    best, best_pages = (), env.expected_window_pages(0, probabilities)
    for count in range(1, len(sizes) + 1):
        fits_any = False
        for subset in itertools.combinations(range(len(sizes)), count):
            if sum(sizes[k] for k in subset) > limit:
                continue
            fits_any = True
            pages = env.expected_window_pages(env.mask_of(subset), probabilities)
            if pages < best_pages:
                best, best_pages = subset, pages
        if not fits_any:
            break
    return best


class PhaseBestOracle:
    """Walks to the best static index set of the phase about to be served.

    Reads the environment, not the observation: the next window's true template
    probabilities. Each step it drops an index the target does not hold (freeing space
    first) or else builds the target index that lowers the expected window cost most, so
    it pays for its builds as any policy does.

    Args:
        env: the environment to read; wrappers are looked through.

    Raises:
        ValueError: the budget admits too many index sets for an exhaustive search.
    """

    def __init__(self, env) -> None:
        unwrapped = validation.unwrapped_as(env, IndexSelectionEnv, "PhaseBestOracle")
        bound = subset_bound(unwrapped)
        if bound > MAX_SUBSETS:
            raise ValueError(
                f"the exhaustive ceiling would visit up to {bound:,} index sets "
                f"(limit {MAX_SUBSETS:,}): lower storage_budget_mb or use fewer columns"
            )
        self.env = unwrapped
        self._targets: dict[bytes, tuple[int, ...]] = {}

    def target(self) -> tuple[int, ...]:
        probabilities = self.env.upcoming_probabilities()
        key = probabilities.tobytes()
        if key not in self._targets:
            self._targets[key] = best_index_set(self.env, probabilities)
        return self._targets[key]

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        target = self.target()
        built = env.built()
        for k in built:
            if k not in target:
                return 2 + 2 * k
        missing = [k for k in target if k not in built]
        if not missing:
            return 0
        probabilities = env.upcoming_probabilities()
        mask = env.built_mask
        best = min(missing, key=lambda k: env.expected_window_pages(mask | 1 << k, probabilities))
        return 1 + 2 * best

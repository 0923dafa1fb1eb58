"""How databases are indexed today, acting on IndexSelection observations.

The rules read only the observation (built indexes, the last window's operation mix,
storage used), plus what a database administrator has at hand: the candidate list, the
index sizes, the budget, and the database's own what-if cost estimates (the optimizer
interface index advisors call). The privileged reference is
:class:`opsgym.envs.index_selection.PhaseBestOracle`.
"""

from __future__ import annotations

import numpy as np

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.core import validation
from opsgym.envs.index_selection import IndexSelectionEnv, PhaseBestOracle

HOLD = 0


def create(candidate: int) -> int:
    return 1 + 2 * candidate


def drop(candidate: int) -> int:
    return 2 + 2 * candidate


class _Rule:
    """Tracks the workload mix (an exponentially weighted average of the windows) and
    walks the built set toward a goal: drops first (they free space), then builds."""

    def __init__(self, env, seed: int | None = None, smoothing: float = 0.2) -> None:
        unwrapped = validation.unwrapped_as(env, IndexSelectionEnv, f"{type(self).__name__}")
        self.env = unwrapped
        self.candidates = unwrapped.candidates()
        self.k = len(self.candidates)
        self.sizes = unwrapped.sizes_mb
        self.budget = unwrapped.config.storage_budget_mb
        self.smoothing = smoothing
        self.mix: np.ndarray | None = None  # templates then writes, per operation

    def observe(self, observation) -> list[int]:
        """Update the mix estimate; return the built candidates."""
        window = np.asarray(observation[self.k : 2 * self.k + 1], dtype=float)
        if self.mix is None:
            self.mix = window
        else:
            self.mix = self.mix + self.smoothing * (window - self.mix)
        return [k for k in range(self.k) if observation[k] > 0.5]

    def walk(self, built: list[int], goal: list[int]) -> int:
        for k in built:
            if k not in goal:
                return drop(k)
        for k in goal:
            if k not in built:
                return create(k)
        return HOLD


class NoIndexes:
    """Never build an index: every query scans the table."""

    def __init__(self, env, seed: int | None = None) -> None:
        validation.unwrapped_as(env, IndexSelectionEnv, "NoIndexes")

    def act(self, observation) -> int:
        return HOLD


class FrequentColumns(_Rule):
    """Index the columns that appear most often in predicates, one column per index.

    A column's frequency is the share of queries with a predicate on it; the most
    frequent columns get single-column indexes, in order, while they fit the budget.
    """

    def goal(self) -> list[int]:
        frequency = [0.0] * self.k
        for template, columns in enumerate(self.candidates):
            for column in columns:
                frequency[column] += self.mix[template]
        singles = [k for k, columns in enumerate(self.candidates) if len(columns) == 1]
        ranked = sorted(singles, key=lambda k: -frequency[self.candidates[k][0]])
        goal, used = [], 0.0
        for k in ranked:
            if frequency[self.candidates[k][0]] > 0 and used + self.sizes[k] <= self.budget:
                goal.append(k)
                used += self.sizes[k]
        return goal

    def act(self, observation) -> int:
        built = self.observe(observation)
        return self.walk(built, self.goal())


class GreedyAdvisor(_Rule):
    """The greedy benefit-per-megabyte index advisor.

    Adds, one at a time, the candidate with the largest estimated saving per megabyte
    (from the database's what-if costs under the observed mix) while the budget allows
    and the saving is positive: the knapsack heuristic of the DB2 Advisor (G. Valentin et
    al., "DB2 Advisor: an optimizer smart enough to recommend its own indexes", ICDE
    2000). It switches to a new recommendation only when the estimated saving over
    ``horizon`` windows pays for the builds it needs, so that noise does not make it churn.

    Args:
        env: the environment, for the candidates, sizes, budget and what-if costs.
        seed: unused; the advisor is deterministic.
        smoothing: the weight of the newest window in the mix estimate.
        horizon: the windows over which a new recommendation must repay its builds.
    """

    def __init__(
        self, env, seed: int | None = None, smoothing: float = 0.2, horizon: int = 20
    ) -> None:
        super().__init__(env, seed, smoothing)
        self.horizon = horizon
        self.goal: list[int] = []

    def recommend(self) -> list[int]:
        env, mix = self.env, self.mix
        chosen: list[int] = []
        used = 0.0
        pages = env.expected_window_pages(0, mix)
        while True:
            best, best_ratio, best_pages = None, 0.0, pages
            for k in range(self.k):
                if k in chosen or used + self.sizes[k] > self.budget:
                    continue
                with_k = env.expected_window_pages(env.mask_of([*chosen, k]), mix)
                ratio = (pages - with_k) / self.sizes[k]
                if ratio > best_ratio:
                    best, best_ratio, best_pages = k, ratio, with_k
            if best is None:
                return chosen
            chosen.append(best)
            used += self.sizes[best]
            pages = best_pages

    def act(self, observation) -> int:
        built = self.observe(observation)
        env, mix = self.env, self.mix
        proposal = self.recommend()
        if set(proposal) != set(self.goal):
            saving = env.expected_window_pages(env.mask_of(self.goal), mix) - (
                env.expected_window_pages(env.mask_of(proposal), mix)
            )
            builds = sum(env.build_pages[k] for k in proposal if k not in built)
            if saving * self.horizon > builds:
                self.goal = proposal
        return self.walk(built, self.goal)


POLICIES = {
    "random": RandomPolicy,
    "no_indexes": NoIndexes,
    "frequent_columns": FrequentColumns,
    "greedy_advisor": GreedyAdvisor,
    "oracle": seedless(PhaseBestOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "greedy_advisor"

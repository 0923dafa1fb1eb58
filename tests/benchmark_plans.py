"""Small benchmark plans for the tests: each names only what differs from the smallest."""

from __future__ import annotations

from opsgym.train.benchmark import BenchmarkPlan


def small_plan(*envs: str, **changes) -> BenchmarkPlan:
    """The plan over ``envs`` of every reference policy with one seed and one evaluation
    episode, and no learner, but for ``changes`` (any field of :class:`BenchmarkPlan`)."""
    smallest = {"policies": None, "seeds": 1, "budget": 0, "episodes": 1, "sb3_algorithms": ()}
    return BenchmarkPlan(envs=envs, **(smallest | changes))

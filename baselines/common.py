"""Reference policies that fit every environment."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np


class RandomPolicy:
    """Uniformly random actions: the 0 of every normalized score.

    Args:
        env: the environment whose ``Discrete`` action space is sampled.
        seed: the seed of the policy's own random generator.
    """

    def __init__(self, env, seed: int | None = None) -> None:
        self.n_actions = int(env.action_space.n)
        self.rng = np.random.default_rng(seed)

    def act(self, observation) -> int:
        return int(self.rng.integers(self.n_actions))


def seedless(policy_class: type) -> Callable:
    """The ``POLICIES`` factory ``(env, seed)`` of a policy that draws nothing, such as an
    oracle: the seed is not passed on."""
    return lambda env, seed=None: policy_class(env)


def argmin_random_tie(values, rng: np.random.Generator) -> int:
    """The index of the smallest value, ties broken uniformly at random."""
    best = min(values)
    ties = [i for i, value in enumerate(values) if value == best]
    return ties[0] if len(ties) == 1 else ties[int(rng.integers(len(ties)))]


def require_sklearn() -> None:
    """Raise ``ValueError`` with the install hint if scikit-learn is not installed (the
    learned reference policies need it; opsgym has it as the optional extra ``ml``)."""
    if importlib.util.find_spec("sklearn") is None:
        raise ValueError("needs scikit-learn, which is not installed: pip install 'opsgym[ml]'")

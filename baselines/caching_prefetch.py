"""Prefetch rules acting on CachingPrefetch observations.

Each rule reads only the observation: which candidate slots hold an object, how often
each followed the current object, and whether it is cached. The privileged reference is
:class:`opsgym.envs.caching_prefetch.SoonestUseOracle`.
"""

from __future__ import annotations

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.caching_prefetch import CachingPrefetchEnv, SoonestUseOracle
from opsgym.envs.core import validation

NO_PREFETCH = 0
NEXT_ID = 1
TOP_SUCCESSOR = 2


class NoPrefetch:
    """Never prefetch: the plain demand cache."""

    def __init__(self, env, seed: int | None = None) -> None:
        validation.unwrapped_as(env, CachingPrefetchEnv, "NoPrefetch")

    def act(self, observation) -> int:
        return NO_PREFETCH


class SequentialPrefetch(NoPrefetch):
    """Always prefetch the next object id (one-block readahead, as file systems do)."""

    def act(self, observation) -> int:
        return NEXT_ID


class MarkovPrefetch:
    """Prefetch the most frequent observed successor of the current object, if it has one.

    The first-order successor prefetcher (Griffioen and Appleton, USENIX Summer 1994)
    without a probability threshold: it fetches whenever the table names a successor.
    """

    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, CachingPrefetchEnv, type(self).__name__)
        self.observed = unwrapped.observation_fields()["observed"]

    def act(self, observation) -> int:
        return TOP_SUCCESSOR if observation[self.observed][TOP_SUCCESSOR - 1] > 0 else NO_PREFETCH


POLICIES = {
    "random": RandomPolicy,
    "no_prefetch": NoPrefetch,
    "sequential": SequentialPrefetch,
    "markov": MarkovPrefetch,
    "oracle": seedless(SoonestUseOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "markov"

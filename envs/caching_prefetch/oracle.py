"""The privileged reference policy for CachingPrefetch: prefetch what comes back soonest."""

from __future__ import annotations

import math

import numpy as np

from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv
from opsgym.envs.core import validation


class SoonestUseOracle:
    """Prefetch the candidate requested again soonest, if sooner than what it would evict.

    Reads the episode's future requests, not the observation. Among the candidates not
    yet cached it takes the one whose next request comes first, and fetches it only if
    that request comes before the next request of the object the fetch would evict
    (Belady's rule applied to the exchange), and only if a prefetch costs less than the
    one hit it can earn. A heuristic ceiling with foresight, not an upper bound: it looks
    one exchange ahead and does not plan the whole schedule of prefetches and evictions.

    Args:
        env: the environment to read; wrappers are looked through.
    """

    def __init__(self, env) -> None:
        self.env = validation.unwrapped_as(env, CachingPrefetchEnv, "SoonestUseOracle")

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        if env.prefetch_cost >= 1.0:
            return 0
        cache = env.simulator.cache
        best, best_use = 0, math.inf
        for j, x in enumerate(env.candidates()):
            if x not in cache:
                use = env.next_request(x)
                if use < best_use:
                    best, best_use = j + 1, use
        victim = env.simulator.victim()
        if best and victim is not None and env.next_request(victim) <= best_use:
            return 0
        return best

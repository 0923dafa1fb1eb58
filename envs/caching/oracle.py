"""The privileged reference policy for Caching: Belady's rule on the candidates shown."""

from __future__ import annotations

import numpy as np

from opsgym.envs.caching.env import CachingEnv
from opsgym.envs.configured import EnvOracle


class BeladyOracle(EnvOracle):
    """Drop whichever of the candidates and the newcomer is requested again furthest ahead.

    Reads the episode's future requests, not the observation. Among the candidates and
    the requested object it picks the one whose next request comes last (or never): the
    candidate is evicted, or the newcomer bypassed. When the decision shows every cached
    object (``n_candidates >= capacity`` with unit sizes) this is Belady's MIN with
    bypass and reaches the episode's ``belady_hit_ratio`` exactly; with fewer candidates
    it is the best choice among those shown, and with variable sizes a heuristic.
    """

    env_class = CachingEnv

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        sim = env.simulator
        if not sim.pending:
            return env.config.n_candidates
        following = env.next_use()
        last_seen = sim.last_seen
        upcoming = [following[last_seen[x]] for x in sim.candidates]
        upcoming.append(following[sim.now])
        return upcoming.index(max(upcoming))

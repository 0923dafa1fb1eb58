"""The privileged reference policy for CachingPrefetch: prefetch what comes back soonest."""

from __future__ import annotations

import numpy as np

from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv
from opsgym.envs.configured import EnvOracle


class SoonestUseOracle(EnvOracle):
    """Prefetch the candidate requested again soonest, if that is within ``capacity`` requests.

    Reads the episode's future requests, not the observation. Among the candidates not
    yet cached it takes the one whose next request comes first, and fetches it if that
    request comes within the next ``capacity`` requests, when it is most likely still
    cached, and if a prefetch costs less than the one hit it can earn. (The window was
    chosen over Belady's exchange rule, fetch if needed before the object the fetch
    evicts, and over windows of 0.5 to 2 capacities: it earned the most on every
    workload, 2 episodes each.) A heuristic ceiling with foresight, not an upper bound:
    it does not plan the whole schedule of prefetches and evictions.
    """

    env_class = CachingPrefetchEnv

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        if env.config.prefetch_cost >= 1.0:
            return 0
        sim = env.simulator
        best, best_use = 0, sim.now + env.config.capacity + 1
        for j, x in enumerate(env.candidates()):
            if x not in sim.cache:
                use = env.next_request(x)
                if use < best_use:
                    best, best_use = j + 1, use
        return best

"""The privileged reference policy for LoadBalancing: greedy on the true expected cost."""

from __future__ import annotations

import numpy as np

from opsgym.envs.configured import EnvOracle
from opsgym.envs.load_balancing.env import LoadBalancingEnv


class ExpectedCostOracle(EnvOracle):
    """Shortest expected delay with privileged knowledge.

    Reads the simulator, not the observation: the backends' true current rates and
    failure probabilities (after any drift) and their exact remaining work. It sends each
    request where its own expected cost, ``latency_weight * (work left + size / rate) +
    error_weight * failure probability``, is lowest. Greedy, so it is a strong reference
    rather than the optimum: it ignores how its choice delays later requests (for a
    single backend there is no choice, and the M/M/1 closed form is the ceiling).
    """

    env_class = LoadBalancingEnv

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        sim, config = env.simulator, env.config
        size = env.next_request_size
        costs = [
            config.latency_weight * (work + size / rate) + config.error_weight * p_fail
            for work, rate, p_fail in zip(sim.work_left(), sim.rates, sim.failure_probs)
        ]
        return int(np.argmin(costs))

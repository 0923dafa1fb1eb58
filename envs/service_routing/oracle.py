"""The privileged reference policy for ServiceRouting: greedy on the true latency."""

from __future__ import annotations

import numpy as np

from opsgym.envs.configured import EnvOracle
from opsgym.envs.service_routing.env import ServiceRoutingEnv


class TrueLatencyOracle(EnvOracle):
    """The replica with the lowest true latency for the waiting request.

    Reads the fleet, not the observation: every replica's current (drifted) profile and
    exact queue, so it knows the latency each choice would give (exact under FCFS).
    Greedy, so a strong reference rather than the optimum: it ignores how its choice
    delays later requests.
    """

    env_class = ServiceRoutingEnv

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        kind, size, region, _ = env.current_request
        latencies = [
            env.fleet.expected_latency_ms(i, kind, size, region)
            for i in range(env.config.n_replicas)
        ]
        return int(np.argmin(latencies))

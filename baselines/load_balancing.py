"""The dispatching rules load balancers run today, acting on LoadBalancing observations.

Every rule reads only the observation (and the backends' configured, nominal rates, as
an operator configures weights); the privileged reference is
:class:`opsgym.envs.load_balancing.ExpectedCostOracle`. Rules that read queues need
``mode="full"`` and say so when built on a ``feedback`` environment.
"""

from __future__ import annotations

import numpy as np

from opsgym.baselines.common import RandomPolicy, argmin_random_tie, seedless
from opsgym.envs.core import validation
from opsgym.envs.load_balancing import ExpectedCostOracle, LoadBalancingEnv


def _unsquash(value: float, scale: float) -> float:
    """Invert the env's x / (x + scale) squashing."""
    return scale * value / (1.0 - value) if value < 1.0 else float("inf")


class _Rule:
    needs_full_observation = False

    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, LoadBalancingEnv, f"{type(self).__name__}")
        config = unwrapped.config
        if self.needs_full_observation and config.mode != "full":
            raise ValueError(
                f"{type(self).__name__} reads queue state and needs mode='full', "
                f"got mode={config.mode!r}"
            )
        self.n = config.n_backends
        self.rates = config.service_rates
        self.fields = unwrapped.observation_fields()
        self.rng = np.random.default_rng(seed)


class RoundRobin(_Rule):
    """Backends in turn."""

    def __init__(self, env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.next = 0

    def act(self, observation) -> int:
        backend = self.next
        self.next = (backend + 1) % self.n
        return backend


class WeightedRoundRobin(_Rule):
    """Smooth weighted round-robin (as in nginx), weights proportional to nominal rates.

    Each turn every backend's credit grows by its weight; the backend with the most credit
    is chosen and pays back the total weight. Over any window each backend gets its share
    of requests, interleaved rather than in bursts.
    """

    def __init__(self, env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.credit = [0.0] * self.n
        self.total = sum(self.rates)

    def act(self, observation) -> int:
        credit = self.credit
        for i, weight in enumerate(self.rates):
            credit[i] += weight
        backend = max(range(self.n), key=credit.__getitem__)
        credit[backend] -= self.total
        return backend


class LeastConnections(_Rule):
    """Join the shortest queue: the backend with the fewest requests in flight."""

    needs_full_observation = True

    def act(self, observation) -> int:
        return argmin_random_tie(observation[self.fields["queue_length"]].tolist(), self.rng)


class PowerOfTwoChoices(_Rule):
    """Sample two distinct backends at random; join the shorter queue (Mitzenmacher, 2001)."""

    needs_full_observation = True

    def act(self, observation) -> int:
        if self.n == 1:
            return 0
        first, second = self.rng.choice(self.n, size=2, replace=False).tolist()
        queues = observation[self.fields["queue_length"]]
        return first if queues[first] <= queues[second] else second


class LeastWorkLeft(_Rule):
    """The backend that will be idle soonest (needs the work each backend holds)."""

    needs_full_observation = True

    def act(self, observation) -> int:
        return argmin_random_tie(observation[self.fields["work_left"]].tolist(), self.rng)


class ShortestExpectedDelay(_Rule):
    """The backend minimizing (requests in system + 1) / nominal rate."""

    needs_full_observation = True

    def act(self, observation) -> int:
        queues = observation[self.fields["queue_length"]].tolist()
        delays = [(_unsquash(q, 1.0) + 1.0) / rate for q, rate in zip(queues, self.rates)]
        return argmin_random_tie(delays, self.rng)


class PowerOfTwoLatency(_Rule):
    """Sample two distinct backends; take the one with the lower recent latency (EWMA).

    The latency-aware rule of Finagle and Linkerd (P2C over an EWMA), without their
    in-flight count so that it also runs on feedback observations. Choosing among two
    random backends rather than the single best avoids herding every request onto the
    backend whose feedback is stale.
    """

    def act(self, observation) -> int:
        if self.n == 1:
            return 0
        first, second = self.rng.choice(self.n, size=2, replace=False).tolist()
        latency = observation[self.fields["latency"]]
        return first if latency[first] <= latency[second] else second


POLICIES = {
    "random": RandomPolicy,
    "round_robin": RoundRobin,
    "weighted_round_robin": WeightedRoundRobin,
    "least_connections": LeastConnections,
    "power_of_two_choices": PowerOfTwoChoices,
    "least_work_left": LeastWorkLeft,
    "shortest_expected_delay": ShortestExpectedDelay,
    "p2c_latency": PowerOfTwoLatency,
    "oracle": seedless(ExpectedCostOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "least_work_left"

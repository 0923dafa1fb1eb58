"""The routing rules networks run today, acting on Routing observations.

Every rule reads only the observation: per candidate path its validity, propagation
delay, hop count, utilizations and headroom. The privileged reference is
:class:`opsgym.envs.routing.GreedyDelayOracle`.
"""

from __future__ import annotations

import numpy as np

from opsgym.baselines.common import seedless
from opsgym.envs.core import validation
from opsgym.envs.routing import GreedyDelayOracle, RoutingEnv


class _Rule:
    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, RoutingEnv, f"{type(self).__name__}")
        self.fields = unwrapped.observation_fields()
        self.rng = np.random.default_rng(seed)

    def valid(self, observation) -> list[int]:
        return [i for i, j in enumerate(self.fields["valid"]) if observation[j] > 0.5]

    def feature(self, observation, name: str, i: int) -> float:
        return float(observation[self.fields[name][i]])


class RandomValidPath(_Rule):
    """A uniformly random valid candidate."""

    def act(self, observation) -> int:
        valid = self.valid(observation)
        return valid[int(self.rng.integers(len(valid)))]


class ShortestDelay(_Rule):
    """OSPF with distance weights: always the lowest-delay path (candidate 0)."""

    def act(self, observation) -> int:
        return 0


class ShortestHop(_Rule):
    """The fewest hops (RIP, or OSPF with unit costs), ties to the lower delay."""

    def act(self, observation) -> int:
        return min(self.valid(observation), key=lambda i: self.feature(observation, "hops", i))


class ECMP(_Rule):
    """Equal-cost multipath on hop counts: a random candidate among those with fewest hops.

    Routers hash flows onto equal-cost next hops (RFC 2992); a random choice per flow is
    the same spread. Costs are hop counts, as OSPF's default cost (reference bandwidth /
    link bandwidth) gives on equal-speed links.
    """

    def act(self, observation) -> int:
        valid = self.valid(observation)
        hops = [self.feature(observation, "hops", i) for i in valid]
        ties = [i for i, h in zip(valid, hops) if h == min(hops)]
        return ties[int(self.rng.integers(len(ties)))]


class LeastUtilized(_Rule):
    """Widest path: the candidate whose busiest link is least utilized, ties to lower delay."""

    def act(self, observation) -> int:
        return min(
            self.valid(observation),
            key=lambda i: self.feature(observation, "max_utilization", i),
        )


POLICIES = {
    "random": RandomValidPath,
    "shortest_hop": ShortestHop,
    "shortest_delay": ShortestDelay,
    "ecmp": ECMP,
    "least_utilized": LeastUtilized,
    "oracle": seedless(GreedyDelayOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "ecmp"

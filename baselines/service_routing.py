"""The routing rules services run today, acting on ServiceRouting observations.

Every rule reads only the observation (and the replicas' configured regions, as an
operator knows them); the privileged reference is
:class:`opsgym.envs.service_routing.TrueLatencyOracle`.
"""

from __future__ import annotations

import numpy as np

from opsgym.baselines.common import RandomPolicy, argmin_random_tie, seedless
from opsgym.envs.core import validation
from opsgym.envs.service_routing import ServiceRoutingEnv, TrueLatencyOracle


class _Rule:
    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, ServiceRoutingEnv, f"{type(self).__name__}")
        self.n = unwrapped.config.n_replicas
        self.regions = unwrapped.config.regions
        fields = unwrapped.observation_fields()
        self.type_slice = fields["type"]
        self.region_slice = fields["region"]
        self.work_slice = fields["work_left"]
        self.rng = np.random.default_rng(seed)

    def request_type(self, observation) -> int:
        return int(np.argmax(observation[self.type_slice]))

    def client_region(self, observation) -> int:
        return int(np.argmax(observation[self.region_slice]))


class RoundRobin(_Rule):
    """Replicas in turn."""

    def __init__(self, env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.next = 0

    def act(self, observation) -> int:
        replica = self.next
        self.next = (replica + 1) % self.n
        return replica


class LeastLoaded(_Rule):
    """The replica with the least work queued, whatever the request."""

    def act(self, observation) -> int:
        return argmin_random_tie(observation[self.work_slice].tolist(), self.rng)


class NearestRegion(_Rule):
    """The least-loaded replica in the client's region, or overall if none is there."""

    def act(self, observation) -> int:
        region = self.client_region(observation)
        work = observation[self.work_slice].tolist()
        local = [i for i in range(self.n) if self.regions[i] == region]
        if not local:
            return argmin_random_tie(work, self.rng)
        return local[argmin_random_tie([work[i] for i in local], self.rng)]


class StaticTable(_Rule):
    """A table of the two best replicas per request type, fitted on a warm-up period.

    For the first ``warmup`` requests it routes round-robin and averages the reward per
    (request type, replica). From then on it sends each request to the less loaded of
    its type's two best replicas (a primary and a secondary, as routing tables list
    them), and never revises the table, as a hand-written table is not revised.

    Its ``update`` sees rewards, so the runner treats it as online (it must, to fit).
    """

    online = True
    warmup = 300
    choices = 2

    def __init__(self, env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.sums = [[0.0] * self.n for _ in range(3)]
        self.counts = [[0] * self.n for _ in range(3)]
        self.seen = 0
        self.table: list[list[int]] | None = None

    def act(self, observation) -> int:
        if self.table is None:
            return self.seen % self.n
        candidates = self.table[self.request_type(observation)]
        work = observation[self.work_slice]
        return candidates[argmin_random_tie([work[i] for i in candidates], self.rng)]

    def update(self, observation, action, reward, next_observation, terminated) -> None:
        if self.table is not None:
            return
        kind = self.request_type(observation)
        self.sums[kind][action] += reward
        self.counts[kind][action] += 1
        self.seen += 1
        if self.seen >= self.warmup:
            self.table = [self._best(k) for k in range(3)]

    def _best(self, kind: int) -> list[int]:
        sums, counts = self.sums[kind], self.counts[kind]
        means = [sums[i] / counts[i] if counts[i] else -np.inf for i in range(self.n)]
        return sorted(range(self.n), key=lambda i: -means[i])[: self.choices]


POLICIES = {
    "random": RandomPolicy,
    "round_robin": RoundRobin,
    "least_loaded": LeastLoaded,
    "nearest_region": NearestRegion,
    "static_table": StaticTable,
    "oracle": seedless(TrueLatencyOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "least_loaded"

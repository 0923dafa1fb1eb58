"""The eviction rules sampled caches run, acting on Caching observations.

Each rule reads only the candidates' features in the observation, as Redis's
``allkeys-lru`` and ``allkeys-lfu`` do with the keys they sample: their approximate LRU
and LFU. The full-information versions are the exact simulators of
:mod:`opsgym.envs.core.exact_caches`; the privileged reference is
:class:`opsgym.envs.caching.BeladyOracle`.
"""

from __future__ import annotations

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.caching import BeladyOracle, CachingEnv
from opsgym.envs.core import validation


class _Rule:
    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, CachingEnv, f"{type(self).__name__}")
        fields = unwrapped.observation_fields()
        self.recency = fields["recency"]
        self.frequency = fields["frequency"]
        self.age = fields["age"]
        self.incoming_frequency = fields["incoming_frequency"].start


class FirstInFirstOut(_Rule):
    """Evict the candidate admitted longest ago."""

    def act(self, observation) -> int:
        ages = observation[self.age].tolist()
        return ages.index(max(ages))


class LeastRecentlyUsed(_Rule):
    """Evict the candidate requested least recently."""

    def act(self, observation) -> int:
        recency = observation[self.recency].tolist()
        return recency.index(max(recency))


class LeastFrequentlyUsed(_Rule):
    """Evict the candidate with the fewest requests since admission, LRU among ties."""

    def act(self, observation) -> int:
        keys = list(
            zip(
                observation[self.frequency].tolist(),
                (-r for r in observation[self.recency].tolist()),
            )
        )
        return keys.index(min(keys))


class FrequencyAdmission(LeastFrequentlyUsed):
    """LFU eviction behind TinyLFU's admission rule (Einziger et al., ACM ToS 2017).

    The newcomer is admitted only if it has been requested more often than the LFU
    victim; otherwise it is bypassed. Scans and one-hit wonders then never displace
    objects that earn hits.
    """

    def act(self, observation) -> int:
        victim = super().act(observation)
        victim_count = observation[self.frequency][victim]
        if observation[self.incoming_frequency] <= victim_count:
            return len(observation[self.frequency])
        return victim


POLICIES = {
    "random": RandomPolicy,
    "fifo": FirstInFirstOut,
    "lru": LeastRecentlyUsed,
    "lfu": LeastFrequentlyUsed,
    "lfu_admission": FrequencyAdmission,
    "oracle": seedless(BeladyOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "lfu_admission"

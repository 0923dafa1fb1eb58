"""The arguments of opsgym/CachingPrefetch, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass

from opsgym.envs.caching_prefetch.simulator import REPLACEMENTS
from opsgym.envs.core.config import PROBABILITY, EnvConfig, setting, when
from opsgym.envs.core.kinds import Choice, Integer, Real

WORKLOADS = ("markov", "sequential", "loops", "zipf")
MAX_REQUESTS = 10_000_000  # an episode keeps each request's object
MAX_OBJECTS = 10_000_000  # a Zipf catalog is an alias table of 16 bytes an object
LOOPS = when("workload", "loops")
MARKOV = when("workload", "markov")
SEQUENTIAL = when("workload", "sequential")


@dataclass(frozen=True, kw_only=True)
class CachingPrefetchConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.caching_prefetch.env.CachingPrefetchEnv`."""

    capacity: int = setting(100, Integer(1, MAX_OBJECTS), "cache size [objects]")
    n_successors: int = setting(3, Integer(1, 1000), "observed successors offered as candidates")
    prefetch_cost: float = setting(0.1, Real(0.0), "reward lost per object prefetched [hits]")
    replacement: str = setting("lru", Choice(REPLACEMENTS), "the demand cache's eviction policy")
    workload: str = setting("markov", Choice(WORKLOADS), "the request stream, see Description")
    episode_length: int = setting(10_000, Integer(2, MAX_REQUESTS), "requests per episode")
    catalog_size: int = setting(
        1_000, Integer(1, MAX_OBJECTS), 'objects of the catalog (files, for `"sequential"`)'
    )
    zipf_exponent: float = setting(
        0.9, Real(0.0), "Zipf exponent of popularity (jumps, files, IRM requests)"
    )
    successors_per_object: int = setting(
        3, Integer(1, 1000), "likely successors of each object", MARKOV
    )
    jump_probability: float = setting(
        0.1, PROBABILITY, "probability of a jump to a popular object", MARKOV
    )
    n_readers: int = setting(4, Integer(1, 10_000), "interleaved readers", SEQUENTIAL)
    file_blocks: int = setting(32, Integer(1, MAX_OBJECTS), "blocks per file", SEQUENTIAL)
    loop_size: int = setting(150, Integer(1, MAX_OBJECTS), "objects in the loop", LOOPS)
    loop_fraction: float = setting(
        0.5, PROBABILITY, "fraction of requests going round the loop", LOOPS
    )

    @property
    def max_episode_steps(self) -> int:
        """Reset serves the first request; each step serves one more."""
        return self.episode_length - 1

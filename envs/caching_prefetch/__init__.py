"""opsgym/CachingPrefetch: a demand cache that learns which object to prefetch next."""

from opsgym.envs.caching_prefetch.config import CachingPrefetchConfig
from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv
from opsgym.envs.caching_prefetch.oracle import SoonestUseOracle
from opsgym.envs.caching_prefetch.simulator import PrefetchCache

__all__ = ["CachingPrefetchConfig", "CachingPrefetchEnv", "PrefetchCache", "SoonestUseOracle"]

"""opsgym/CachingPrefetch: a demand cache that learns which object to prefetch next."""

from opsgym.envs.caching_prefetch.config import CachingPrefetchConfig
from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv
from opsgym.envs.caching_prefetch.oracle import SoonestUseOracle
from opsgym.envs.caching_prefetch.simulator import PrefetchCache

ENV = CachingPrefetchEnv
SCENARIOS = {
    "sequential": (
        "4 interleaved readers read 32-block files in order: next-block prefetch pays",
        {"workload": "sequential"},
    ),
    "loops": (
        "half the requests go round a 150-object loop in a fixed shuffled order",
        {"workload": "loops"},
    ),
    "irm": (
        "independent Zipf requests: the order carries nothing and prefetching should not pay",
        {"workload": "zipf"},
    ),
}

__all__ = ["CachingPrefetchConfig", "CachingPrefetchEnv", "PrefetchCache", "SoonestUseOracle"]

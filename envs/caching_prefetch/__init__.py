"""opsgym/CachingPrefetch: a demand cache that learns which object to prefetch next."""

from opsgym.envs.caching_prefetch.config import CachingPrefetchConfig
from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv
from opsgym.envs.caching_prefetch.oracle import SoonestUseOracle
from opsgym.envs.caching_prefetch.simulator import PrefetchCache

ID = "opsgym/CachingPrefetch-v0"
ENV = CachingPrefetchEnv
VECTOR_ENV = None
CONFIG = CachingPrefetchConfig
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

POLICIES = "opsgym.baselines.caching_prefetch"
NODE_VARIATIONS: list[dict] = []

__all__ = [
    "CONFIG",
    "CachingPrefetchConfig",
    "CachingPrefetchEnv",
    "ENV",
    "ID",
    "NODE_VARIATIONS",
    "POLICIES",
    "PrefetchCache",
    "SCENARIOS",
    "SoonestUseOracle",
    "VECTOR_ENV",
]

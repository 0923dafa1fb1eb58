"""opsgym/Caching: eviction and admission decisions on real and synthetic request streams."""

from opsgym.envs.caching.config import CachingConfig
from opsgym.envs.caching.env import CachingEnv
from opsgym.envs.caching.oracle import BeladyOracle
from opsgym.envs.caching.simulator import DecisionCache

ENV = CachingEnv
SCENARIOS = {
    "web07": (
        "windows of a real e-commerce product-page trace (Web07, cache2k), 500 objects cached",
        {"workload": "web07", "capacity": 500},
    ),
    "scans": (
        "Zipf traffic cut by scans of one-off objects that flush recency-based caches",
        {"workload": "scan"},
    ),
    "drift": (
        "the popular set shifts every 2,000 requests: old counts mislead LFU",
        {"workload": "drift"},
    ),
    "drift-gradual": (
        "the popular set shifts every 2,000 requests, phasing in over 1,000 requests each time",
        {"workload": "drift", "drift_ramp": 1000},
    ),
    "adversary-flood": (
        "every 2,000 requests an adversary asks for 100 new objects 3 times each: LFU keeps them",
        {"workload": "flood"},
    ),
    "loops": (
        "30% of requests loop over 80 objects, a cycle LRU always misses and MIN exploits",
        {"workload": "periodic"},
    ),
    "variable-sizes": (
        "lognormal object sizes in a 10 kB cache; the reward counts bytes hit",
        {"size_distribution": "lognormal", "capacity": 10_000, "reward_metric": "bytes"},
    ),
}

# Federated nodes: caches whose popularity is more or less skewed and drifts at different
# speeds (the drift workload: its arguments are refused under any other).
NODE_VARIATIONS = [
    {"workload": "drift", "zipf_exponent": 0.9},
    {"workload": "drift", "zipf_exponent": 0.7, "drift_shift": 1000},
    {"workload": "drift", "zipf_exponent": 1.1, "drift_period": 4000},
    {"workload": "drift", "zipf_exponent": 0.8, "drift_shift": 250},
]

__all__ = ["BeladyOracle", "CachingConfig", "CachingEnv", "DecisionCache"]

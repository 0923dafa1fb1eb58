"""opsgym/LoadBalancing: dispatching requests to heterogeneous, failure-prone backends."""

from opsgym.envs.load_balancing.config import LoadBalancingConfig
from opsgym.envs.load_balancing.env import LoadBalancingEnv
from opsgym.envs.load_balancing.oracle import ExpectedCostOracle
from opsgym.envs.load_balancing.simulator import LoadBalancerSimulator
from opsgym.envs.load_balancing.vector import LoadBalancingVectorEnv

ENV = LoadBalancingEnv
VECTOR_ENV = LoadBalancingVectorEnv
SCENARIOS = {
    "drift-slowdown": (
        "a backend slows to a quarter of its rate mid-episode, unannounced",
        {"drift": "slowdown"},
    ),
    "drift-failures": (
        "a backend starts failing half its requests mid-episode, unannounced",
        {"drift": "failures"},
    ),
    "drift-slowdown-gradual": (
        "a backend slows to a quarter of its rate over 250 requests from mid-episode, unannounced",
        {"drift": "slowdown", "drift_ramp": 250},
    ),
    "drift-failures-gradual": (
        "a backend's failure rate climbs to one half over 250 requests from mid-episode",
        {"drift": "failures", "drift_ramp": 250},
    ),
    "heavy-tail": (
        "Pareto(1.5) job sizes (infinite variance) at load 0.9, as in the Park benchmark",
        {"size_distribution": "pareto", "load": 0.9},
    ),
    "feedback-only": (
        "only response latencies and errors are observed, as by a learning load balancer",
        {"mode": "feedback"},
    ),
}

# Federated nodes: backends of different speeds, each site's fastest one another backend.
NODE_VARIATIONS = [
    {"service_rates": [100.0, 80.0, 60.0, 40.0, 20.0]},
    {"service_rates": [20.0, 100.0, 80.0, 60.0, 40.0]},
    {"service_rates": [40.0, 20.0, 100.0, 80.0, 60.0]},
    {"service_rates": [60.0, 40.0, 20.0, 100.0, 80.0]},
    {"service_rates": [80.0, 60.0, 40.0, 20.0, 100.0]},
]

__all__ = ["ExpectedCostOracle", "LoadBalancerSimulator", "LoadBalancingConfig", "LoadBalancingEnv"]

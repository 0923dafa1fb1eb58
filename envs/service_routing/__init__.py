"""opsgym/ServiceRouting: routing requests to replicas by what the requests are."""

from opsgym.envs.service_routing.config import ServiceRoutingConfig
from opsgym.envs.service_routing.env import ServiceRoutingEnv
from opsgym.envs.service_routing.oracle import TrueLatencyOracle
from opsgym.envs.service_routing.simulator import DEFAULT_SERVICE_MS, ServiceFleet
from opsgym.envs.service_routing.vector import ServiceRoutingVectorEnv

ENV = ServiceRoutingEnv
VECTOR_ENV = ServiceRoutingVectorEnv
SCENARIOS = {
    "drift-swap": (
        "two replicas swap their service profiles mid-episode, unannounced",
        {"drift": "swap"},
    ),
    "drift-swap-gradual": (
        "two replicas' service profiles morph into each other's over 250 requests, unannounced",
        {"drift": "swap", "drift_ramp": 250},
    ),
}

# Federated nodes: replicas of different speeds per request type, the profiles rotated
# between the replicas (node i's replica j has the default profile of replica j - i).
NODE_VARIATIONS = [
    {"service_ms": [list(DEFAULT_SERVICE_MS[j - i]) for j in range(len(DEFAULT_SERVICE_MS))]}
    for i in range(len(DEFAULT_SERVICE_MS))
]

__all__ = ["ServiceFleet", "ServiceRoutingConfig", "ServiceRoutingEnv", "TrueLatencyOracle"]

"""opsgym/ServiceRouting: routing requests to replicas by what the requests are."""

from opsgym.envs.service_routing.config import ServiceRoutingConfig
from opsgym.envs.service_routing.env import ServiceRoutingEnv
from opsgym.envs.service_routing.oracle import TrueLatencyOracle
from opsgym.envs.service_routing.simulator import ServiceFleet

__all__ = ["ServiceFleet", "ServiceRoutingConfig", "ServiceRoutingEnv", "TrueLatencyOracle"]

"""opsgym/Routing-v1: flows routed on real backbone topologies, against the LP optimum."""

from opsgym.envs.routing.config import RoutingConfig
from opsgym.envs.routing.env import RoutingEnv
from opsgym.envs.routing.lp import min_max_utilization
from opsgym.envs.routing.oracle import GreedyDelayOracle
from opsgym.envs.routing.topology import Topology, great_circle_km, load_topology

__all__ = [
    "GreedyDelayOracle",
    "RoutingConfig",
    "RoutingEnv",
    "Topology",
    "great_circle_km",
    "load_topology",
    "min_max_utilization",
]

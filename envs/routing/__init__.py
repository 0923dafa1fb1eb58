"""opsgym/Routing-v1: flows routed on real backbone topologies, against the LP optimum."""

from opsgym.envs.routing.config import RoutingConfig
from opsgym.envs.routing.env import RoutingEnv
from opsgym.envs.routing.lp import min_max_utilization
from opsgym.envs.routing.oracle import GreedyDelayOracle
from opsgym.envs.routing.topology import Topology, great_circle_km, load_topology
from opsgym.envs.routing.vector import RoutingVectorEnv

ENV = RoutingEnv
VECTOR_ENV = RoutingVectorEnv
SCENARIOS = {
    "drift-hotspot": (
        "one node's traffic grows fivefold mid-episode, unannounced",
        {"drift": "hotspot"},
    ),
    "drift-hotspot-move": (
        "the hot spot (a node with five times the traffic) moves to another node mid-episode",
        {"drift": "hotspot_move"},
    ),
    "drift-hotspot-move-gradual": (
        "the hot spot moves to another node over 250 flows from mid-episode, unannounced",
        {"drift": "hotspot_move", "drift_ramp": 250},
    ),
}

__all__ = [
    "GreedyDelayOracle",
    "RoutingConfig",
    "RoutingEnv",
    "Topology",
    "great_circle_km",
    "load_topology",
    "min_max_utilization",
]

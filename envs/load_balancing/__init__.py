"""opsgym/LoadBalancing: dispatching requests to heterogeneous, failure-prone backends."""

from opsgym.envs.load_balancing.config import LoadBalancingConfig
from opsgym.envs.load_balancing.env import LoadBalancingEnv
from opsgym.envs.load_balancing.oracle import ExpectedCostOracle
from opsgym.envs.load_balancing.simulator import LoadBalancerSimulator

__all__ = [
    "ExpectedCostOracle",
    "LoadBalancerSimulator",
    "LoadBalancingConfig",
    "LoadBalancingEnv",
]

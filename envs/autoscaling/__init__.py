"""opsgym/Autoscaling: scaling a fleet to seasonal and real request load."""

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.autoscaling.env import AutoscalingEnv
from opsgym.envs.autoscaling.oracle import PerfectForesightOracle, optimal_plan
from opsgym.envs.autoscaling.simulator import Fleet, ServiceModel

__all__ = [
    "AutoscalingConfig",
    "AutoscalingEnv",
    "Fleet",
    "PerfectForesightOracle",
    "ServiceModel",
    "optimal_plan",
]

"""opsgym/ResourceAllocation: packing multi-resource jobs onto a cluster (DeepRM)."""

from opsgym.envs.resource_allocation.config import ResourceAllocationConfig
from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
from opsgym.envs.resource_allocation.oracle import (
    episode_slowdown_bound,
    mean_slowdown_lower_bound,
)
from opsgym.envs.resource_allocation.simulator import ClusterSimulator, Job, JobSequence

__all__ = [
    "ClusterSimulator",
    "Job",
    "JobSequence",
    "ResourceAllocationConfig",
    "ResourceAllocationEnv",
    "episode_slowdown_bound",
    "mean_slowdown_lower_bound",
]

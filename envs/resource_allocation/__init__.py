"""opsgym/ResourceAllocation: packing multi-resource jobs onto a cluster (DeepRM)."""

from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
from opsgym.envs.resource_allocation.simulator import ClusterSimulator, Job, JobSequence

__all__ = ["ClusterSimulator", "Job", "JobSequence", "ResourceAllocationEnv"]

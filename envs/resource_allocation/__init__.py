"""opsgym/ResourceAllocation: packing multi-resource jobs onto a cluster (DeepRM)."""

from opsgym.envs.resource_allocation.config import ResourceAllocationConfig
from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
from opsgym.envs.resource_allocation.oracle import (
    episode_slowdown_bound,
    mean_slowdown_lower_bound,
)
from opsgym.envs.resource_allocation.simulator import ClusterSimulator, Job, JobSequence
from opsgym.envs.resource_allocation.vector import ResourceAllocationVectorEnv

ENV = ResourceAllocationEnv
VECTOR_ENV = ResourceAllocationVectorEnv
SCENARIOS = {
    "high-load": (
        "DeepRM's synthetic jobs at load 1.2: queues build and the packing order matters",
        {"load": 1.2},
    ),
    "surge": (
        "load 0.5, then the middle third of the jobs arrive at load 1.5, unannounced",
        {"load": 0.5, "surge_load": 1.5},
    ),
    "drift-mix": (
        "from a job mid-episode half the jobs are long instead of a fifth, at the same load",
        {"drift": "mix"},
    ),
    "drift-mix-gradual": (
        "the share of long jobs rises from a fifth to a half over 25 jobs, at the same load",
        {"drift": "mix", "drift_ramp": 25},
    ),
}
# DeepRM's published setting (docs/results/deeprm.md), at three arrival probabilities
DEEPRM = {"capacities": [10, 10], "horizon": 20, "n_slots": 10, "backlog_size": 60}
SCENARIOS |= {
    f"deeprm-p{p}": (
        f"DeepRM's published setting: 10 visible slots, a backlog of 60 beyond which "
        f"arrivals are dropped, a job arriving with probability {p} per step (load {load})",
        DEEPRM | {"drop_full_backlog": True, "job_probability": p},
    )
    for p, load in ((0.3, "0.55"), (0.5, "0.92"), (0.7, "1.29"))
}

__all__ = [
    "ClusterSimulator",
    "Job",
    "JobSequence",
    "ResourceAllocationConfig",
    "ResourceAllocationEnv",
    "episode_slowdown_bound",
    "mean_slowdown_lower_bound",
]

"""opsgym environments. Importing this module registers every id under ``opsgym/``.

>>> import gymnasium as gym
>>> import opsgym.envs
>>> env = gym.make("opsgym/LoadBalancing-v0")

``gymnasium.make("opsgym.envs:opsgym/LoadBalancing-v0")`` imports this module first and
works without the explicit import.

Native vector environments (``vector_entry_point``, built by ``gymnasium.make_vec(id,
num_envs=N, vectorization_mode="vector_entry_point")``) advance N instances with numpy
batch operations, with the bookkeeping of :mod:`opsgym.envs.vector`:
LoadBalancing, ConfigTuning, AnomalyDetection, ServiceRouting, ResourceAllocation and
Routing (without LP snapshots) follow their single env bit for bit (instance i seeded
s + i); Autoscaling to rounding (numpy's exp is not libm's); IndexSelection (cost-model
backend only) in distribution (one multinomial draw for all instances). The others have
none, because their state is not a fixed-shape array: Caching keeps per-object records
of the cached objects, and serves a varying number of requests between two decisions;
CachingPrefetch, an ordered dictionary of the cached objects and a table of each
object's observed successors.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from opsgym.envs import cdn
from opsgym.envs.scenarios import register_scenario


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    # Re-importing (e.g. after importlib.reload) must not re-register: gymnasium warns.
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)


# ----------------------------------------------------------------------------------------
# Load balancing
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/LoadBalancing-v0",
    "opsgym.envs.load_balancing:LoadBalancingEnv",
    vector_entry_point="opsgym.envs.load_balancing.vector:LoadBalancingVectorEnv",
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "drift-slowdown",
    "a backend slows to a quarter of its rate mid-episode, unannounced",
    drift="slowdown",
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "drift-failures",
    "a backend starts failing half its requests mid-episode, unannounced",
    drift="failures",
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "drift-slowdown-gradual",
    "a backend slows to a quarter of its rate over 250 requests from mid-episode, unannounced",
    drift="slowdown",
    drift_ramp=250,
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "drift-failures-gradual",
    "a backend's failure rate climbs to one half over 250 requests from mid-episode",
    drift="failures",
    drift_ramp=250,
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "heavy-tail",
    "Pareto(1.5) job sizes (infinite variance) at load 0.9, as in the Park benchmark",
    size_distribution="pareto",
    load=0.9,
)
register_scenario(
    "opsgym/LoadBalancing-v0",
    "feedback-only",
    "only response latencies and errors are observed, as by a learning load balancer",
    mode="feedback",
)

# ----------------------------------------------------------------------------------------
# Autoscaling
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/Autoscaling-v0",
    "opsgym.envs.autoscaling:AutoscalingEnv",
    vector_entry_point="opsgym.envs.autoscaling.vector:AutoscalingVectorEnv",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "nasa",
    "replay of the NASA Kennedy Space Center web server's requests per minute (1995)",
    workload="nasa",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "slow-boot",
    "instances boot for 10 minutes: a rule that only reacts is ten minutes late",
    boot_steps=10,
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "drift-level",
    "the load jumps by half mid-episode (a launch), unannounced",
    drift="level",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "drift-shape",
    "the daily pattern runs three hours later from mid-episode on, unannounced",
    drift="shape",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "drift-level-gradual",
    "the load grows by half over six hours from mid-episode (users migrate in), unannounced",
    drift="level",
    drift_ramp=360,
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "drift-shape-gradual",
    "the daily pattern slides three hours later over six hours from mid-episode on",
    drift="shape",
    drift_ramp=360,
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "adversary-trough",
    "an adversary sends three 5-minute bursts of half the peak a night, where forecasts are low",
    attack="trough",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "adversary-off-period",
    "5-minute bursts of half the peak every 7 hours: a rhythm no daily forecast learns",
    attack="off_period",
)
register_scenario(
    "opsgym/Autoscaling-v0",
    "week",
    "a week of minutes: weekdays, the weekend and their transitions",
    episode_steps=10_080,
)

# ----------------------------------------------------------------------------------------
# Caching
# ----------------------------------------------------------------------------------------

_register("opsgym/Caching-v0", "opsgym.envs.caching:CachingEnv")
register_scenario(
    "opsgym/Caching-v0",
    "web07",
    "windows of a real e-commerce product-page trace (Web07, cache2k), 500 objects cached",
    workload="web07",
    capacity=500,
)
register_scenario(
    "opsgym/Caching-v0",
    "scans",
    "Zipf traffic cut by scans of one-off objects that flush recency-based caches",
    workload="scan",
)
register_scenario(
    "opsgym/Caching-v0",
    "drift",
    "the popular set shifts every 2,000 requests: old counts mislead LFU",
    workload="drift",
)
register_scenario(
    "opsgym/Caching-v0",
    "drift-gradual",
    "the popular set shifts every 2,000 requests, phasing in over 1,000 requests each time",
    workload="drift",
    drift_ramp=1000,
)
register_scenario(
    "opsgym/Caching-v0",
    "adversary-flood",
    "every 2,000 requests an adversary asks for 100 new objects 3 times each: LFU keeps them",
    workload="flood",
)
register_scenario(
    "opsgym/Caching-v0",
    "loops",
    "30% of requests loop over 80 objects, a cycle LRU always misses and MIN exploits",
    workload="periodic",
)
register_scenario(
    "opsgym/Caching-v0",
    "variable-sizes",
    "lognormal object sizes in a 10 kB cache; the reward counts bytes hit",
    size_distribution="lognormal",
    capacity=10_000,
    reward_metric="bytes",
)

_register("opsgym/CachingPrefetch-v0", "opsgym.envs.caching_prefetch:CachingPrefetchEnv")
register_scenario(
    "opsgym/CachingPrefetch-v0",
    "sequential",
    "4 interleaved readers read 32-block files in order: next-block prefetch pays",
    workload="sequential",
)
register_scenario(
    "opsgym/CachingPrefetch-v0",
    "loops",
    "half the requests go round a 150-object loop in a fixed shuffled order",
    workload="loops",
)
register_scenario(
    "opsgym/CachingPrefetch-v0",
    "irm",
    "independent Zipf requests: the order carries nothing and prefetching should not pay",
    workload="zipf",
)

# ----------------------------------------------------------------------------------------
# Self-tuning systems
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/ConfigTuning-v0",
    "opsgym.envs.config_tuning:ConfigTuningEnv",
    vector_entry_point="opsgym.envs.config_tuning.vector:ConfigTuningVectorEnv",
)
register_scenario(
    "opsgym/ConfigTuning-v0",
    "stationary",
    "the workload mix never changes: the default's I/O shift switched off",
    drift="none",
)
register_scenario(
    "opsgym/ConfigTuning-v0",
    "drift-gradual",
    "the I/O-bound share rises from 20% to 80% over 50 intervals (a gradual rollout)",
    drift_ramp=50,
)
_register(
    "opsgym/IndexSelection-v0",
    "opsgym.envs.index_selection:IndexSelectionEnv",
    vector_entry_point="opsgym.envs.index_selection.vector:IndexSelectionVectorEnv",
)
register_scenario(
    "opsgym/IndexSelection-v0",
    "stationary",
    "one popularity ranking for the whole episode: the default's shuffles switched off",
    drift="none",
)
register_scenario(
    "opsgym/IndexSelection-v0",
    "drift-gradual",
    "each new popularity ranking phases in over the first 25 windows of its phase",
    drift_ramp=25,
)

# ----------------------------------------------------------------------------------------
# Resource allocation
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/ResourceAllocation-v0",
    "opsgym.envs.resource_allocation:ResourceAllocationEnv",
    vector_entry_point="opsgym.envs.resource_allocation.vector:ResourceAllocationVectorEnv",
)
register_scenario(
    "opsgym/ResourceAllocation-v0",
    "high-load",
    "DeepRM's synthetic jobs at load 1.2: queues build and the packing order matters",
    load=1.2,
)
register_scenario(
    "opsgym/ResourceAllocation-v0",
    "surge",
    "load 0.5, then the middle third of the jobs arrive at load 1.5, unannounced",
    load=0.5,
    surge_load=1.5,
)
register_scenario(
    "opsgym/ResourceAllocation-v0",
    "drift-mix",
    "from a job mid-episode half the jobs are long instead of a fifth, at the same load",
    drift="mix",
)
register_scenario(
    "opsgym/ResourceAllocation-v0",
    "drift-mix-gradual",
    "the share of long jobs rises from a fifth to a half over 25 jobs, at the same load",
    drift="mix",
    drift_ramp=25,
)
for _p, _load in ((0.3, "0.55"), (0.5, "0.92"), (0.7, "1.29")):
    register_scenario(
        "opsgym/ResourceAllocation-v0",
        f"deeprm-p{_p}",
        f"DeepRM's published setting: 10 visible slots, a backlog of 60 beyond which "
        f"arrivals are dropped, a job arriving with probability {_p} per step (load {_load})",
        capacities=[10, 10],
        horizon=20,
        n_slots=10,
        backlog_size=60,
        drop_full_backlog=True,
        job_probability=_p,
    )

# ----------------------------------------------------------------------------------------
# Anomaly detection
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/AnomalyDetection-v0",
    "opsgym.envs.anomaly_detection:AnomalyDetectionEnv",
    vector_entry_point="opsgym.envs.anomaly_detection.vector:AnomalyDetectionVectorEnv",
)
register_scenario(
    "opsgym/AnomalyDetection-v0",
    "nyc-taxi",
    "NAB's NYC taxi series with its five labelled windows (marathon, holidays, blizzard)",
    workload="nyc_taxi",
)

# ----------------------------------------------------------------------------------------
# Service routing
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/ServiceRouting-v0",
    "opsgym.envs.service_routing:ServiceRoutingEnv",
    vector_entry_point="opsgym.envs.service_routing.vector:ServiceRoutingVectorEnv",
)
register_scenario(
    "opsgym/ServiceRouting-v0",
    "drift-swap",
    "two replicas swap their service profiles mid-episode, unannounced",
    drift="swap",
)
register_scenario(
    "opsgym/ServiceRouting-v0",
    "drift-swap-gradual",
    "two replicas' service profiles morph into each other's over 250 requests, unannounced",
    drift="swap",
    drift_ramp=250,
)

# ----------------------------------------------------------------------------------------
# Routing
# ----------------------------------------------------------------------------------------

_register(
    "opsgym/Routing-v1",
    "opsgym.envs.routing:RoutingEnv",
    vector_entry_point="opsgym.envs.routing.vector:RoutingVectorEnv",
)
register_scenario(
    "opsgym/Routing-v1",
    "drift-hotspot",
    "one node's traffic grows fivefold mid-episode, unannounced",
    drift="hotspot",
)
register_scenario(
    "opsgym/Routing-v1",
    "drift-hotspot-move",
    "the hot spot (a node with five times the traffic) moves to another node mid-episode",
    drift="hotspot_move",
)
register_scenario(
    "opsgym/Routing-v1",
    "drift-hotspot-move-gradual",
    "the hot spot moves to another node over 250 flows from mid-episode, unannounced",
    drift="hotspot_move",
    drift_ramp=250,
)


# ----------------------------------------------------------------------------------------
# Content delivery
# ----------------------------------------------------------------------------------------

_register("opsgym/CDN-v0", "opsgym.envs.cdn:CDNEnv")
for _name, (_description, _kwargs) in cdn.SCENARIOS.items():
    register_scenario("opsgym/CDN-v0", _name, _description, **_kwargs)


def opsgym_ids() -> list[str]:
    """Every registered opsgym environment id, sorted."""
    return sorted(env_id for env_id in registry if env_id.startswith("opsgym/"))

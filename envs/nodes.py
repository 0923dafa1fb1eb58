"""Node configurations: N sites running the same environment on their own workloads.

Federated learning trains one model across sites that each see a different world. Node
``i`` of an environment gets the variation ``i`` of the table below (cycled when there
are more nodes than variations) and its own seeds; an environment without an entry
gives every node the default configuration, so nodes differ only by their seeds.

>>> from opsgym.envs.nodes import node_configs
>>> node_configs("opsgym/LoadBalancing-v0", 2)[1]["service_rates"]
[20.0, 100.0, 80.0, 60.0, 40.0]
"""

from __future__ import annotations

from opsgym.envs import cdn
from opsgym.envs.service_routing.simulator import DEFAULT_SERVICE_MS


def _rotations(values) -> list[list]:
    """Every rotation of ``values``: the same items, a different one first."""
    values = list(values)
    return [values[-i:] + values[:-i] if i else list(values) for i in range(len(values))]


# For each env id: the keyword(s) that differ between nodes, and their values per node.
VARIATIONS: dict[str, list[dict]] = {
    # backends of different speeds: each site's fastest backend is another one
    "opsgym/LoadBalancing-v0": [
        {"service_rates": r} for r in _rotations([100.0, 80.0, 60.0, 40.0, 20.0])
    ],
    # replicas of different speeds per request type: the profiles move between replicas
    "opsgym/ServiceRouting-v0": [
        {"service_ms": [list(p) for p in r]} for r in _rotations(DEFAULT_SERVICE_MS)
    ],
    # sites in other time zones (the daily cycle shifted against the shared UTC clock),
    # of different size and daily shape (peak, office-hours boost, lunch peak)
    "opsgym/Autoscaling-v0": [
        {"utc_offset_hours": 0.0, "peak_rate": 1200.0},
        {"utc_offset_hours": -5.0, "peak_rate": 800.0, "business_boost": 0.2, "lunch_peak": 0.3},
        {"utc_offset_hours": 8.0, "peak_rate": 1600.0, "business_boost": 0.6, "lunch_peak": 0.05},
        {"utc_offset_hours": 1.0, "peak_rate": 1000.0, "daily_trough": 0.4, "weekend_factor": 0.8},
    ],
    # caches whose popularity is more or less skewed and drifts at different speeds
    "opsgym/Caching-v0": [
        {"zipf_exponent": 0.9},
        {"zipf_exponent": 0.7, "drift_shift": 1000},
        {"zipf_exponent": 1.1, "drift_period": 4000},
        {"zipf_exponent": 0.8, "drift_shift": 250},
    ],
    "opsgym/CDN-v0": cdn.NODE_VARIATIONS,
}


def node_configs(env_id: str, n_nodes: int, env_kwargs: dict | None = None) -> list[dict]:
    """The constructor arguments of ``n_nodes`` nodes of ``env_id``.

    Args:
        env_id: a registered opsgym id.
        n_nodes: the number of nodes.
        env_kwargs: arguments every node shares; a node's own variation overrides them.
    """
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes!r}")
    variations = VARIATIONS.get(env_id, [{}])
    shared = dict(env_kwargs or {})
    return [shared | variations[i % len(variations)] for i in range(n_nodes)]

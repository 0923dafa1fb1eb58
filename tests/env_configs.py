"""What the shared env tests need to know of each environment, beyond its package's
exports: hypothesis strategies of valid constructor arguments, one per registered opsgym
id, and for the ids with a native vector env, short episodes and how closely the vector
env follows its single env.

A test fails when a registered id has no entry here, so every new environment is fuzzed
and its vector env compared from the day it is registered.
"""

import dataclasses
import functools
import math
from types import SimpleNamespace
from typing import NamedTuple

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator
from hypothesis import strategies as st

import opsgym.envs  # noqa: F401
from opsgym.envs.core.config import settings
from opsgym.envs.packages import PACKAGES


def _load_balancing() -> st.SearchStrategy[dict]:
    def build(n: int) -> st.SearchStrategy[dict]:
        rates = st.lists(st.floats(0.5, 1000.0), min_size=n, max_size=n)
        probs = st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)
        return st.fixed_dictionaries(
            {
                "service_rates": rates,
                "failure_probs": probs,
                "load": st.floats(0.01, 0.99),
                "size_distribution": st.sampled_from(["exponential", "pareto"]),
                "pareto_shape": st.floats(1.05, 5.0),
                "arrival_amplitude": st.floats(0.0, 0.95),
                "arrival_period": st.floats(0.01, 100.0),
                "mode": st.sampled_from(["full", "feedback"]),
                "episode_length": st.integers(1, 300),
                "drift": st.sampled_from(["none", "slowdown", "failures"]),
                "drift_factor": st.floats(0.01, 1.0),
                "drift_ramp": st.integers(0, 100),
                "error_weight": st.floats(0.0, 10.0),
            }
        )

    return st.integers(1, 6).flatmap(build)


def _with_latency_target(config: dict) -> dict:
    # the SLA target must exceed the service time's own quantile, or no fleet meets it
    factor = config.pop("target_over_service_quantile")
    service_quantile = -math.log(1.0 - config["latency_quantile"]) / config["capacity_per_instance"]
    return {**config, "latency_target": factor * service_quantile}


def _autoscaling() -> st.SearchStrategy[dict]:
    def build(bounds: tuple[int, int]) -> st.SearchStrategy[dict]:
        low, high = bounds
        return st.fixed_dictionaries(
            {
                "workload": st.sampled_from(["synthetic", "nasa"]),
                "peak_rate": st.floats(1.0, 1e5),
                "daily_trough": st.floats(0.0, 1.0),
                "business_boost": st.floats(0.0, 2.0),
                "lunch_peak": st.floats(0.0, 1.0),
                "weekend_factor": st.floats(0.01, 1.0),
                "utc_offset_hours": st.floats(-12.0, 14.0),
                "noise": st.floats(0.0, 1.0),
                "flash_crowd_rate": st.floats(0.0, 50.0),
                "flash_crowd_size": st.floats(0.0, 10.0),
                "step_seconds": st.sampled_from([60.0, 120.0, 300.0]),
                "episode_steps": st.integers(1, 300),
                "window": st.integers(1, 30),
                "capacity_per_instance": st.floats(0.5, 1e4),
                "min_instances": st.just(low),
                "max_instances": st.just(high),
                "max_step_change": st.integers(1, 4),
                "boot_steps": st.integers(0, 6),
                "cooldown_steps": st.integers(0, 5),
                "bill_booting": st.booleans(),
                "latency_quantile": st.floats(0.5, 0.999),
                "max_utilization": st.floats(0.05, 0.999),
                "drift": st.sampled_from(["none", "level", "shape"]),
                "drift_factor": st.floats(0.1, 10.0),
                "drift_shift_hours": st.floats(0.0, 24.0),
                "drift_ramp": st.integers(0, 100),
                "attack": st.sampled_from(["none", "trough", "off_period"]),
                "attack_size": st.floats(0.01, 5.0),
                "attack_steps": st.integers(1, 30),
                "sla_weight": st.floats(0.0, 10.0),
                "target_over_service_quantile": st.floats(1.01, 100.0),
            }
        ).map(_with_latency_target)

    bounds = st.tuples(st.integers(1, 5), st.integers(0, 40)).map(lambda b: (b[0], b[0] + b[1]))
    return bounds.flatmap(build)


def _ramp_within(config: dict, period: str) -> dict:
    # a gradual drift must phase in within its period
    share = config.pop("ramp_share")
    return {**config, "drift_ramp": int(share * config[period])}


def _caching() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "capacity": st.integers(1, 500),
            "n_candidates": st.integers(1, 16),
            "workload": st.sampled_from(
                ["zipf", "drift", "periodic", "scan", "one_hit_wonders", "flood", "web07"]
            ),
            "episode_length": st.integers(1, 400),
            "catalog_size": st.integers(1, 2000),
            "zipf_exponent": st.floats(0.0, 2.0),
            "drift_period": st.integers(1, 500),
            "drift_shift": st.integers(0, 100),
            "scan_every": st.just(100),
            "scan_length": st.integers(1, 99),
            "flood_objects": st.integers(1, 20),
            "flood_repeats": st.integers(1, 4),
            "loop_size": st.integers(1, 300),
            "loop_fraction": st.floats(0.0, 1.0),
            "one_hit_fraction": st.floats(0.0, 1.0),
            "size_distribution": st.sampled_from(["unit", "lognormal"]),
            "size_median": st.floats(1.0, 200.0),
            "size_sigma": st.floats(0.0, 3.0),
            "count_half_life": st.sampled_from([0.0, 1.0, 50.0, 1e6]),
            "reward_metric": st.sampled_from(["hits", "bytes"]),
            "ramp_share": st.floats(0.0, 1.0),
        }
    ).map(lambda c: _ramp_within(c, "drift_period"))


def _caching_prefetch() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "capacity": st.integers(1, 300),
            "n_successors": st.integers(1, 6),
            "prefetch_cost": st.floats(0.0, 2.0),
            "replacement": st.sampled_from(["lru", "fifo"]),
            "workload": st.sampled_from(["markov", "sequential", "loops", "zipf"]),
            "episode_length": st.integers(2, 400),
            "catalog_size": st.integers(1, 2000),
            "zipf_exponent": st.floats(0.0, 2.0),
            "successors_per_object": st.integers(1, 5),
            "jump_probability": st.floats(0.0, 1.0),
            "n_readers": st.integers(1, 8),
            "file_blocks": st.integers(1, 64),
            "loop_size": st.integers(1, 300),
            "loop_fraction": st.floats(0.0, 1.0),
        }
    )


def _config_tuning() -> st.SearchStrategy[dict]:
    def grid(low: float, high: float, integers: bool) -> st.SearchStrategy[list]:
        values = st.integers(int(low), int(high)) if integers else st.floats(low, high)
        return st.lists(values, min_size=1, max_size=5, unique=True).map(sorted)

    grids = st.tuples(
        grid(1, 300, True), grid(1, 64, True), grid(0.0, 8192.0, False), grid(1.0, 60000.0, False)
    )

    def build(knobs: tuple) -> st.SearchStrategy[dict]:
        threads, pool, cache, timeout = knobs
        return st.fixed_dictionaries(
            {
                "cores": st.integers(1, 64),
                "request_rate": st.floats(0.1, 20000.0),
                "io_share": st.floats(0.0, 1.0),
                "io_share_after": st.floats(0.0, 1.0),
                "drift": st.sampled_from(["none", "io_shift"]),
                "drift_ramp": st.integers(0, 50),
                "burst_prob": st.floats(0.0, 1.0),
                "burst_factor": st.floats(1.0, 10.0),
                "burst_length": st.integers(1, 20),
                "thread_options": st.just(threads),
                "pool_options": st.just(pool),
                "cache_options_mb": st.just(cache),
                "timeout_options_ms": st.just(timeout),
                "initial_config": st.tuples(*(st.sampled_from(g) for g in knobs)).map(list),
                "episode_length": st.integers(1, 300),
                "interval_seconds": st.floats(0.01, 3600.0),
                "latency_noise": st.floats(0.0, 1.0),
                "latency_target_ms": st.floats(0.1, 10000.0),
                "error_weight": st.floats(0.0, 100.0),
            }
        )

    return grids.flatmap(build)


def _index_selection() -> st.SearchStrategy[dict]:
    distinct = st.lists(st.integers(1, 10**6), min_size=1, max_size=5).map(
        lambda values: sorted(values, reverse=True)
    )
    return st.fixed_dictionaries(
        {
            "column_distinct": distinct,
            "table_rows": st.integers(1, 10**8),
            "row_bytes": st.integers(1, 4096),
            "storage_budget_mb": st.floats(0.001, 10_000.0),
            "window": st.integers(1, 1000),
            "write_share": st.floats(0.0, 0.99),
            "zipf_exponent": st.floats(0.0, 4.0),
            "drift": st.sampled_from(["none", "shuffle"]),
            "phase_length": st.integers(1, 100),
            "episode_length": st.integers(1, 300),
            "build_weight": st.floats(0.0, 10.0),
            "backend": st.sampled_from(["model", "model", "model", "sqlite"]),
            "sqlite_rows": st.integers(1, 500),
            "ramp_share": st.floats(0.0, 1.0),
        }
    ).map(lambda c: _ramp_within(c, "phase_length"))


def _resource_allocation() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "capacities": st.lists(st.integers(10, 20), min_size=1, max_size=4),
            "horizon": st.integers(15, 40),
            "n_slots": st.integers(1, 10),
            "backlog_size": st.integers(1, 100),
            "load": st.floats(0.01, 0.6),  # below max_load for every capacity drawn
            "n_jobs": st.integers(1, 60),
            "time_limit": st.integers(1, 100),
            "surge_load": st.none() | st.floats(0.01, 0.6),
            "drift": st.sampled_from(["none", "mix"]),
            "long_fraction_after": st.floats(0.0, 1.0),
            "drift_ramp": st.integers(0, 60),
            "job_probability": st.none() | st.floats(0.01, 1.0),
            "drop_full_backlog": st.booleans(),
        }
    ).map(_load_or_job_probability)


def _load_or_job_probability(config: dict) -> dict:
    if config["job_probability"] is None:
        return config
    return {key: value for key, value in config.items() if key != "load"}


def _routing() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "topology": st.sampled_from(["Abilene", "Abilene", "Renater2001"]),
            "k_paths": st.integers(1, 8),
            "load": st.floats(0.01, 3.0),
            "flow_rate_mbps": st.floats(100.0, 20000.0),
            "holding_time": st.floats(0.01, 10000.0),
            "daily_amplitude": st.floats(0.0, 0.95),
            "day_length": st.floats(1.0, 1e6),
            "endpoints": st.sampled_from(["gravity", "uniform"]),
            "drift": st.sampled_from(["none", "hotspot", "hotspot_move"]),
            "drift_ramp": st.integers(0, 100),
            "hotspot_factor": st.floats(0.01, 100.0),
            "packet_bytes": st.floats(40.0, 9000.0),
            "episode_length": st.integers(1, 300),
            "lp_snapshots": st.integers(0, 2),
            "blocking_weight": st.floats(0.0, 100.0),
        }
    )


def _anomaly_detection() -> st.SearchStrategy[dict]:
    def build(windows: tuple[int, int]) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries(
            {
                "workload": st.sampled_from(["synthetic", "synthetic", "nyc_taxi"]),
                "episode_length": st.integers(1, 300),
                "steps_per_day": st.integers(1, 48),
                "history_weeks": st.integers(1, 3),
                "rolling_window": st.integers(2, 100),
                "anomalies_per_week": st.floats(0.0, 50.0),
                "min_window": st.just(windows[0]),
                "max_window": st.just(windows[1]),
                "tp_weight": st.floats(0.0, 10.0),
                "fp_weight": st.floats(0.0, 10.0),
                "fn_weight": st.floats(0.0, 10.0),
            }
        )

    return (
        st.tuples(st.integers(1, 50), st.integers(0, 50))
        .map(lambda pair: (pair[0], pair[0] + pair[1]))
        .flatmap(build)
    )


def _service_routing() -> st.SearchStrategy[dict]:
    def build(n: int) -> st.SearchStrategy[dict]:
        profile = st.lists(st.floats(0.01, 1000.0), min_size=3, max_size=3)
        return st.fixed_dictionaries(
            {
                "service_ms": st.lists(profile, min_size=n, max_size=n),
                "regions": st.lists(st.integers(0, 4), min_size=n, max_size=n),
                "load": st.floats(0.01, 0.99),
                "type_mix": st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(
                    lambda mix: sum(mix) > 0.01
                ),
                "priority_share": st.floats(0.0, 1.0),
                "remote_delay_ms": st.floats(0.0, 500.0),
                "timeout_ms": st.floats(0.1, 10_000.0),
                "drift": st.sampled_from(["none", "swap"]),
                "drift_ramp": st.integers(0, 100),
                "episode_length": st.integers(1, 300),
            }
        )

    return st.integers(1, 6).flatmap(build)


def _cdn() -> st.SearchStrategy[dict]:
    def build(n: int) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries(
            {
                "utc_offsets": st.lists(st.floats(-12.0, 14.0), min_size=n, max_size=n),
                "peak_rps": st.lists(st.floats(0.01, 10.0), min_size=n, max_size=n),
                "daily_trough": st.floats(0.01, 1.0),
                "capacity_mb": st.floats(0.01, 500.0),
                "eviction": st.sampled_from(["lru", "fifo"]),
                "max_pull_mb": st.floats(0.0, 50.0),
                "catalog_size": st.integers(1, 3000),
                "popularity": st.sampled_from(["web07", "zipf"]),
                "zipf_exponent": st.floats(0.0, 2.0),
                "regional_share": st.floats(0.0, 1.0),
                "size_median_kb": st.floats(1.0, 2000.0),
                "size_sigma": st.floats(0.0, 2.0),
                "viral_per_hour": st.floats(0.0, 20.0),
                "viral_share": st.floats(0.0, 0.5),
                "viral_size_mb": st.floats(0.1, 50.0),
                "viral_lifetime_minutes": st.floats(1.0, 600.0),
                "spread_delay_minutes": st.floats(0.0, 300.0),
                "flash_crowds_per_day": st.floats(0.0, 100.0),
                "flash_crowd_size": st.floats(0.0, 10.0),
                "flash_crowd_objects": st.integers(1, 10),
                "origin_mbps": st.floats(0.1, 1000.0),
                "origin_timeout_seconds": st.floats(1.0, 300.0),
                "interval_seconds": st.floats(1.0, 120.0),
                "episode_length": st.integers(1, 200),
                "n_candidates": st.integers(1, 10),
                "egress_cost": st.floats(0.0, 1.0),
                "push_cost": st.floats(0.0, 2.0),
            }
        )

    return st.integers(1, 5).flatmap(build)


def without_unused(env_id: str, config: dict) -> dict:
    """``config`` without the arguments that its own modes leave unused (which the env
    refuses: an argument that does nothing is a mistake)."""
    config_class = load_env_creator(gym.spec(env_id).entry_point).config_class
    declared = settings(config_class)
    defaults = {item.name: item.default for item in dataclasses.fields(config_class)}
    values = SimpleNamespace(**{**defaults, **config})
    return {
        name: value
        for name, value in config.items()
        if declared[name].used_when is None or declared[name].used_when.holds(values)
    }


_STRATEGIES = {
    "opsgym/LoadBalancing-v0": _load_balancing(),
    "opsgym/Autoscaling-v0": _autoscaling(),
    "opsgym/Caching-v0": _caching(),
    "opsgym/CachingPrefetch-v0": _caching_prefetch(),
    "opsgym/ConfigTuning-v0": _config_tuning(),
    "opsgym/IndexSelection-v0": _index_selection(),
    "opsgym/ResourceAllocation-v0": _resource_allocation(),
    "opsgym/AnomalyDetection-v0": _anomaly_detection(),
    "opsgym/ServiceRouting-v0": _service_routing(),
    "opsgym/Routing-v1": _routing(),
    "opsgym/CDN-v0": _cdn(),
}
CONFIG_STRATEGIES = {
    env_id: strategy.map(functools.partial(without_unused, env_id))
    for env_id, strategy in _STRATEGIES.items()
}


VECTOR_IDS = [env_id for env_id, package in PACKAGES.items() if package.VECTOR_ENV is not None]


class ShortEpisodes(NamedTuple):
    """Arguments of an id with a native vector env whose episodes end within a few dozen
    steps, so that a test crosses autoresets, and the domain metric its tests compare in
    distribution."""

    kwargs: dict
    metric: str


SHORT_EPISODES = {
    "opsgym/LoadBalancing-v0": ShortEpisodes({"episode_length": 40}, "mean_latency_ms"),
    "opsgym/ConfigTuning-v0": ShortEpisodes({"episode_length": 30}, "p95_latency_ms"),
    "opsgym/Autoscaling-v0": ShortEpisodes({"episode_steps": 60}, "objective_usd"),
    "opsgym/IndexSelection-v0": ShortEpisodes(
        {"episode_length": 30, "phase_length": 10}, "pages_per_query"
    ),
    "opsgym/ServiceRouting-v0": ShortEpisodes({"episode_length": 40}, "mean_latency_ms"),
    "opsgym/AnomalyDetection-v0": ShortEpisodes(
        {"episode_length": 60, "anomalies_per_week": 40.0}, "reward_score"
    ),
    "opsgym/ResourceAllocation-v0": ShortEpisodes({"n_jobs": 10, "load": 1.2}, "mean_slowdown"),
    "opsgym/Routing-v1": ShortEpisodes({"episode_length": 60}, "mean_delay_ms"),
}
# The vector envs that do not follow their single env bit for bit (instance i seeded
# s + i), as their docstrings say: to rounding (a relative tolerance) or in distribution.
VECTOR_TO_ROUNDING = {"opsgym/Autoscaling-v0": 1e-6}
VECTOR_IN_DISTRIBUTION = {"opsgym/IndexSelection-v0"}
EXACT_VECTOR_IDS = [
    env_id
    for env_id in VECTOR_IDS
    if env_id not in VECTOR_TO_ROUNDING and env_id not in VECTOR_IN_DISTRIBUTION
]

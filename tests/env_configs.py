"""Hypothesis strategies of valid constructor arguments, one per registered opsgym id.

The shared env tests draw configurations from here; a test fails when a registered id
has no strategy, so every new environment is fuzzed from the day it is registered.
"""

import math

from hypothesis import strategies as st


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
                "sla_weight": st.floats(0.0, 10.0),
                "target_over_service_quantile": st.floats(1.01, 100.0),
            }
        ).map(_with_latency_target)

    bounds = st.tuples(st.integers(1, 5), st.integers(0, 40)).map(lambda b: (b[0], b[0] + b[1]))
    return bounds.flatmap(build)


CONFIG_STRATEGIES = {
    "opsgym/LoadBalancing-v0": _load_balancing(),
    "opsgym/Autoscaling-v0": _autoscaling(),
}

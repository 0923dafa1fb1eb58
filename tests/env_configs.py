"""Hypothesis strategies of valid constructor arguments, one per registered opsgym id.

The shared env tests draw configurations from here; a test fails when a registered id
has no strategy, so every new environment is fuzzed from the day it is registered.
"""

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


def _caching() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "capacity": st.integers(1, 500),
            "n_candidates": st.integers(1, 16),
            "workload": st.sampled_from(
                ["zipf", "drift", "periodic", "scan", "one_hit_wonders", "web07"]
            ),
            "episode_length": st.integers(1, 400),
            "catalog_size": st.integers(1, 2000),
            "zipf_exponent": st.floats(0.0, 2.0),
            "drift_period": st.integers(1, 500),
            "drift_shift": st.integers(0, 100),
            "scan_every": st.just(100),
            "scan_length": st.integers(1, 99),
            "loop_size": st.integers(1, 300),
            "loop_fraction": st.floats(0.0, 1.0),
            "one_hit_fraction": st.floats(0.0, 1.0),
            "size_distribution": st.sampled_from(["unit", "lognormal"]),
            "size_median": st.floats(1.0, 200.0),
            "size_sigma": st.floats(0.0, 3.0),
            "count_half_life": st.sampled_from([0.0, 1.0, 50.0, 1e6]),
            "reward_metric": st.sampled_from(["hits", "bytes"]),
        }
    )


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
        }
    )


CONFIG_STRATEGIES = {
    "opsgym/LoadBalancing-v0": _load_balancing(),
    "opsgym/Caching-v0": _caching(),
    "opsgym/ResourceAllocation-v0": _resource_allocation(),
}

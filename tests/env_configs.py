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
        }
    )


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
            "drift": st.sampled_from(["none", "hotspot"]),
            "hotspot_factor": st.floats(0.01, 100.0),
            "packet_bytes": st.floats(40.0, 9000.0),
            "episode_length": st.integers(1, 300),
            "lp_snapshots": st.integers(0, 2),
            "blocking_weight": st.floats(0.0, 100.0),
        }
    )


CONFIG_STRATEGIES = {
    "opsgym/LoadBalancing-v0": _load_balancing(),
    "opsgym/Caching-v0": _caching(),
    "opsgym/ConfigTuning-v0": _config_tuning(),
    "opsgym/IndexSelection-v0": _index_selection(),
    "opsgym/Routing-v0": _routing(),
}

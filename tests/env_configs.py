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


CONFIG_STRATEGIES = {
    "opsgym/LoadBalancing-v0": _load_balancing(),
}

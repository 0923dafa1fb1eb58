"""The load balancer's simulator against queueing theory, its rules against hand traces."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from opsgym.baselines import make_policy, policy_names
from opsgym.envs import make_kwargs
from opsgym.envs.load_balancing import LoadBalancingEnv
from opsgym.envs.load_balancing.simulator import LoadBalancerSimulator, job_sizes
from opsgym.train.runner import run_episode


def _mean_response(env: LoadBalancingEnv, policy, seeds) -> float:
    latencies = []
    for seed in seeds:
        latencies.append(run_episode(env, policy, seed).metrics["mean_latency_ms"])
    return float(np.mean(latencies)) / 1000.0


def test_single_backend_matches_mm1_closed_form():
    mu, rho = 10.0, 0.8
    env = LoadBalancingEnv(
        service_rates=[mu], failure_probs=[0.0], load=rho, episode_length=200_000
    )
    measured = _mean_response(env, make_policy(env, "round_robin"), seeds=[1])
    expected = 1.0 / (mu - rho * mu)  # M/M/1: E[T] = 1 / (mu - lambda)
    assert measured == pytest.approx(expected, rel=0.05)


def test_single_backend_deterministic_sizes_match_pollaczek_khinchine():
    # M/D/1 through the simulator directly: E[T] = 1/mu + rho / (2 mu (1 - rho)).
    mu, rho, n = 5.0, 0.7, 200_000
    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.exponential(1.0 / (rho * mu), size=n))
    sim = LoadBalancerSimulator((mu,), (0.0,), feedback_smoothing=0.1)
    total = 0.0
    for t in arrivals:
        sim.advance_to(float(t))
        total += sim.dispatch(0, 1.0, 1.0)[0]
    expected = 1.0 / mu + rho / (2.0 * mu * (1.0 - rho))
    assert total / n == pytest.approx(expected, rel=0.04)


def test_two_identical_backends_random_split_behave_as_mm1_at_half_load():
    mu, rho = 10.0, 0.8  # arrival rate 2 * rho * mu; each backend sees rho * mu
    env = LoadBalancingEnv(
        service_rates=[mu, mu], failure_probs=[0.0, 0.0], load=rho, episode_length=200_000
    )
    # At rho 0.8 the per-backend mean of one 200k-request episode still varies by a few
    # percent between seeds (seeds 0-5 give 0.49 to 0.53 overall against 0.5).
    env.reset(seed=2)
    policy = make_policy(env, "random", seed=2)
    per_backend = [[], []]
    for _ in range(env.config.episode_length):
        _, _, _, _, info = env.step(policy.act(None))
        per_backend[info["backend"]].append(info["response_time"])
    expected = 1.0 / (mu - rho * mu)
    for times in per_backend:
        assert np.mean(times) == pytest.approx(expected, rel=0.06)
    assert len(per_backend[0]) / env.config.episode_length == pytest.approx(0.5, abs=0.01)


def test_pareto_sizes_have_mean_one_and_the_requested_tail():
    sizes = job_sizes(np.random.default_rng(0), 400_000, "pareto", 1.5)
    assert sizes.min() == pytest.approx(1.0 / 3.0, rel=1e-3)
    assert np.median(sizes) == pytest.approx((1.0 / 3.0) * 2 ** (1 / 1.5), rel=0.02)
    assert np.mean(sizes) == pytest.approx(1.0, rel=0.1)  # infinite variance: loose


def test_response_time_is_wait_plus_service_under_fcfs():
    sim = LoadBalancerSimulator((2.0,), (0.0,), feedback_smoothing=1.0)
    sim.advance_to(0.0)
    assert sim.dispatch(0, 1.0, 0.5)[0] == pytest.approx(0.5)  # idle: service only
    sim.advance_to(0.1)
    assert sim.dispatch(0, 1.0, 0.5)[0] == pytest.approx(0.4 + 0.5)  # waits 0.4
    assert sim.queue_lengths() == [2]
    assert sim.work_left() == [pytest.approx(0.9)]
    sim.advance_to(0.5)  # the first answer is back; the second is still in service
    assert sim.queue_lengths() == [1]
    assert sim.latency_ewma == [pytest.approx(0.5)]


def test_feedback_is_delayed_until_the_response_returns():
    sim = LoadBalancerSimulator((1.0,), (1.0,), feedback_smoothing=0.5)
    sim.advance_to(0.0)
    _, failed = sim.dispatch(0, 1.0, 0.3)
    assert failed
    sim.advance_to(0.99)
    assert sim.error_ewma == [0.0] and sim.latency_ewma == [0.0]
    sim.advance_to(1.0)
    assert sim.error_ewma == [0.5] and sim.latency_ewma == [0.5]


def test_round_robin_and_weighted_round_robin_follow_hand_traces():
    env = LoadBalancingEnv(service_rates=[5.0, 1.0, 1.0], failure_probs=[0.0] * 3)
    env.reset(seed=0)
    rr = make_policy(env, "round_robin")
    assert [rr.act(None) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    # nginx smooth weighted round-robin with weights 5, 1, 1: a a b a c a a
    wrr = make_policy(env, "weighted_round_robin")
    assert [wrr.act(None) for _ in range(7)] == [0, 0, 1, 0, 2, 0, 0]


def test_queue_rules_read_the_observation():
    env = LoadBalancingEnv(service_rates=[4.0, 1.0], failure_probs=[0.0, 0.0])
    env.reset(seed=0)
    fields = env.observation_fields()
    obs = np.zeros(env.observation_space.shape, dtype=np.float32)
    obs[fields["queue_length"]] = [3 / 4, 1 / 2]  # 3 and 1 requests
    obs[fields["work_left"]] = [0.5, 0.5]  # equal work left [s] after unsquashing
    assert make_policy(env, "least_connections", seed=0).act(obs) == 1
    assert make_policy(env, "shortest_expected_delay", seed=0).act(obs) == 0  # (3+1)/4 < 2/1
    obs[fields["work_left"]] = [0.6, 0.5]
    assert make_policy(env, "least_work_left", seed=0).act(obs) == 1


def _mean_latency(policy_name: str, env_kwargs: dict, seeds=range(6)) -> float:
    env_id = "opsgym/LoadBalancing-v0"
    env = gym.make(env_id, **make_kwargs(env_id, env_kwargs))  # episodes beyond the id's
    policy = make_policy(env, policy_name, seed=0)
    return float(np.mean([run_episode(env, policy, s).metrics["mean_latency_ms"] for s in seeds]))


def test_join_shortest_queue_beats_random_and_round_robin_at_high_load():
    config = {
        "service_rates": [50.0] * 4,
        "failure_probs": [0.0] * 4,
        "load": 0.95,
        "episode_length": 3000,
    }
    jsq = _mean_latency("least_connections", config)
    assert jsq < 0.5 * _mean_latency("random", config)
    assert jsq < 0.8 * _mean_latency("round_robin", config)


def test_shortest_expected_delay_beats_join_shortest_queue_on_heterogeneous_backends():
    config = {"load": 0.85, "episode_length": 3000}
    assert _mean_latency("shortest_expected_delay", config) < 0.95 * _mean_latency(
        "least_connections", config
    )


def test_oracle_is_at_least_as_good_as_every_heuristic():
    config = {"episode_length": 2000}
    env = gym.make("opsgym/LoadBalancing-v0", **config)
    oracle = _mean_latency("oracle", config)
    for name in policy_names(env):
        if name != "oracle":
            assert oracle <= 1.02 * _mean_latency(name, config), name


def test_feedback_mode_offers_only_feedback_rules():
    env = gym.make("opsgym/LoadBalancing-v0", mode="feedback")
    names = policy_names(env)
    assert "least_connections" not in names and "random" in names
    with pytest.raises(ValueError, match="mode='full'"):
        make_policy(env, "least_connections")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"service_rates": [10.0, 0.0]}, "service_rates"),
        ({"service_rates": [10.0, -1.0]}, "service_rates"),
        ({"failure_probs": [0.1, 0.1]}, "failure_probs"),
        ({"failure_probs": [0.1, 1.5, 0, 0, 0]}, "failure_probs"),
        ({"load": 1.0}, "load"),
        ({"load": 0.0}, "load"),
        ({"size_distribution": "lognormal"}, "size_distribution"),
        ({"pareto_shape": 1.0}, "pareto_shape"),
        ({"mode": "partial"}, "mode"),
        ({"episode_length": 0}, "episode_length"),
        ({"drift": "sometimes"}, "drift"),
        ({"drift_factor": 0.0}, "drift_factor"),
        ({"arrival_amplitude": 1.0}, "arrival_amplitude"),
    ],
)
def test_bad_configuration_names_the_argument(kwargs, field):
    with pytest.raises(ValueError, match=field):
        LoadBalancingEnv(**kwargs)


def test_overload_is_accepted_only_when_asked_for():
    env = LoadBalancingEnv(load=1.3, allow_overload=True, episode_length=5000)
    policy = make_policy(env, "least_work_left")
    first = run_episode(env, policy, 0).metrics["mean_latency_ms"]
    assert np.isfinite(first) and first > 100  # queues grow without bound


@pytest.mark.parametrize("drift", ["slowdown", "failures"])
def test_drift_degrades_one_backend_mid_episode(drift):
    env = LoadBalancingEnv(drift=drift, episode_length=400)
    env.reset(seed=11)
    k, backend = env._drift_step, env._drift_backend
    assert 100 <= k < 300
    for _ in range(k + 1):
        env.step(0)
    if drift == "slowdown":
        assert env.simulator.rates[backend] == pytest.approx(
            env.config.service_rates[backend] * 0.25
        )
    else:
        assert env.simulator.failure_probs[backend] == 0.5


def test_modulated_arrivals_follow_the_rate_curve():
    from opsgym.envs.core.arrivals import poisson_arrival_times

    times = poisson_arrival_times(
        np.random.default_rng(0), 200_000, 100.0, amplitude=0.8, period=10.0
    )
    assert np.all(np.diff(times) > 0)
    phase = (times % 10.0) / 10.0
    peak_share = np.mean((phase > 0.15) & (phase < 0.35))  # around sin = 1
    trough_share = np.mean((phase > 0.65) & (phase < 0.85))  # around sin = -1
    assert peak_share / trough_share == pytest.approx(
        (1 + 0.8 * np.sinc(0.2)) / (1 - 0.8 * np.sinc(0.2)), rel=0.1
    )

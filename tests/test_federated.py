"""Federated averaging: exact pooling, visit-weighted averages, DP-FedAvg and its
accountant, node configurations, and the ``opsgym federated`` comparison."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cli_runner import run_cli
from gymnasium import spaces

from opsgym.agents import bandits, tabular
from opsgym.agents.federated import (
    PrivacySettings,
    clip_update,
    federated_average,
    privacy_epsilon,
)
from opsgym.train.federated import (
    FederatedSettings,
    federated_table,
    node_configs,
    run_federated,
)


def _stream(seed: int, n: int, arms: int, dim: int = 0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=dim), int(rng.integers(arms)), float(rng.normal(1.0, 2.0)))
        for _ in range(n)
    ]


def _feed(learner, stream) -> None:
    for context, action, reward in stream:
        learner.update(context, action, reward, context, False)


@pytest.mark.parametrize(
    "build",
    [
        lambda: bandits.EpsilonGreedy(3, seed=0),
        lambda: bandits.UCB1(3, seed=0, reward_range=(-10.0, 10.0)),
        lambda: bandits.ThompsonGaussian(3, seed=0),
        lambda: bandits.LinUCB(3, 2, seed=0, ridge=2.0),
    ],
    ids=["epsilon_greedy", "ucb1", "thompson_gaussian", "linucb"],
)
def test_pooling_two_nodes_equals_one_node_that_saw_both_streams(build):
    first, second = _stream(1, 200, 3, 2), _stream(2, 300, 3, 2)
    start = build().shared_state()
    node_a, node_b, both = build(), build(), build()
    _feed(node_a, first)
    _feed(node_b, second)
    _feed(both, first + second)
    pooled = build()
    combined = federated_average(
        start, [node_a.shared_state(), node_b.shared_state()], pooled.weight_key
    )
    pooled.load_shared_state(combined)
    for name, array in both.shared_state().items():
        np.testing.assert_allclose(combined[name], array, rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(pooled.values, both.values, rtol=1e-9, atol=1e-12)
    assert pooled.t == both.t == 500
    if isinstance(both, bandits.LinUCB):
        np.testing.assert_allclose(pooled.covariance, both.covariance, atol=1e-12)
        context = np.array([0.3, -1.0])
        np.testing.assert_allclose(pooled.predict(context), both.predict(context), atol=1e-9)
    if isinstance(both, bandits.ThompsonGaussian):
        np.testing.assert_allclose(pooled.squares, both.squares, rtol=1e-9)


def test_q_tables_average_weighted_by_this_rounds_visits():
    agent = tabular.QLearning(spaces.Discrete(3), 2, seed=0, initial_value=1.0)
    start = {"q/0": np.array([0.5, 0.5]), "visits/0": np.array([2.0, 0.0])}
    node_a = {
        "q/0": np.array([1.5, 9.0]),  # action 1 changed without a visit: weight 0
        "visits/0": np.array([3.0, 0.0]),
    }
    node_b = start | {
        "q/0": np.array([3.5, 4.0]),
        "visits/0": np.array([5.0, 1.0]),
        "q/2": np.array([-1.0, 2.0]),
        "visits/2": np.array([0.0, 4.0]),
    }
    combined = federated_average(start, [node_a, node_b], agent.weight_key)
    # action 0: node a visited it once (q 1.5), node b three times (q 3.5)
    np.testing.assert_allclose(combined["q/0"], [(1 * 1.5 + 3 * 3.5) / 4, 4.0])
    np.testing.assert_allclose(combined["visits/0"], [6.0, 1.0])
    # a state only node b saw: its row (unvisited actions keep the initial value)
    np.testing.assert_allclose(combined["q/2"], [0.0, 2.0])
    agent.load_shared_state(combined)
    np.testing.assert_allclose(agent.q[0], [4.0, 5.0])  # offsets from initial_value 1
    assert agent.visits[2].tolist() == [0, 4]
    assert agent.shared_state().keys() == combined.keys()


def test_tabular_shared_state_round_trips_through_a_trained_agent():
    space = spaces.Box(0.0, 1.0, (2,), dtype=np.float32)
    trained = tabular.QLearning(space, 3, seed=0, initial_value=2.0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, y = rng.random(2), rng.random(2)
        trained.update(x, int(rng.integers(3)), float(rng.normal()), y, False)
    copy = tabular.QLearning(space, 3, seed=1, initial_value=2.0)
    copy.load_shared_state(trained.shared_state())
    assert sorted(copy.q) == sorted(trained.q)
    for key in trained.q:
        np.testing.assert_array_equal(copy.q[key], trained.q[key])
        np.testing.assert_array_equal(copy.visits[key], trained.visits[key])


def test_clipping_bounds_every_update_and_keeps_small_ones():
    update = {"a": np.array([3.0, 4.0]), "b": np.array([[12.0]])}  # norm 13
    clipped = clip_update(update, 6.5)
    norm = math.sqrt(sum(float(np.sum(v**2)) for v in clipped.values()))
    assert norm == pytest.approx(6.5)
    np.testing.assert_allclose(clipped["a"], [1.5, 2.0])  # the direction is kept
    small = clip_update(update, 100.0)
    np.testing.assert_array_equal(small["b"], update["b"])
    # without noise, the pooled change is at most participants * clip
    start = {"a": np.zeros(2), "b": np.zeros((1, 1))}
    privacy = PrivacySettings(clip=1.0, noise=0.0)
    combined = federated_average(
        start, [update, update], lambda key: None, privacy, np.random.default_rng(0)
    )
    assert math.sqrt(sum(float(np.sum(v**2)) for v in combined.values())) == pytest.approx(2.0)


def test_privacy_noise_has_the_stated_scale():
    start = {"x": np.zeros(20_000)}
    nodes = [{"x": np.zeros(20_000)}] * 3
    combined = federated_average(
        start, nodes, lambda key: None, PrivacySettings(0.5, 2.0), np.random.default_rng(0)
    )
    assert np.std(combined["x"]) == pytest.approx(1.0, rel=0.03)  # z * C


def test_privacy_needs_fixed_keys():
    start = {"q/0": np.zeros(2), "visits/0": np.zeros(2)}
    node = start | {"q/5": np.ones(2), "visits/5": np.ones(2)}
    with pytest.raises(ValueError, match="fixed set of shared arrays"):
        federated_average(
            start, [node], lambda k: None, PrivacySettings(1, 1), np.random.default_rng(0)
        )


def test_epsilon_is_the_minimum_over_renyi_orders_and_falls_with_noise():
    delta, rounds = 1e-5, 10
    for z in (0.7, 1.0, 3.0):
        orders = np.linspace(1.001, 2000.0, 2_000_000)
        brute = np.min(rounds * orders / (2 * z**2) + math.log(1 / delta) / (orders - 1))
        assert privacy_epsilon(z, rounds, delta) == pytest.approx(brute, rel=1e-6)
    epsilons = [privacy_epsilon(z, rounds, delta) for z in (0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in zip(epsilons, epsilons[1:]))
    assert privacy_epsilon(1.0, 20, delta) > privacy_epsilon(1.0, 10, delta)
    assert privacy_epsilon(0.0, 1, delta) == math.inf


@pytest.mark.parametrize("cls", [bandits.SlidingWindowUCB, bandits.DiscountedUCB])
def test_forgetting_bandits_refuse_to_federate(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__} cannot federate"):
        cls(3).shared_state()


def test_nodes_get_their_own_fastest_backend_and_a_generic_fallback():
    configs = node_configs("opsgym/LoadBalancing-v0", 6, {"load": 0.7})
    fastest = [int(np.argmax(c["service_rates"])) for c in configs]
    assert fastest == [0, 1, 2, 3, 4, 0]
    assert all(c["load"] == 0.7 for c in configs)
    assert node_configs("opsgym/Routing-v1", 3) == [{}, {}, {}]
    with pytest.raises(ValueError, match="n_nodes"):
        node_configs("opsgym/Routing-v1", 0)


SMALL = dict(nodes=3, rounds=2, steps_per_round=300, eval_episodes=1, backend="local")


def test_same_seed_same_comparison_and_every_regime_on_every_node():
    settings = FederatedSettings("opsgym/ServiceRouting-v0", "q_learning", seed=3, **SMALL)
    first, second = run_federated(settings), run_federated(settings)
    assert first["regimes"] == second["regimes"]
    assert [len(rows) for rows in first["regimes"].values()] == [3, 3, 3]
    table = federated_table(first)
    assert "centralized" in table and "mean_latency_ms" in table


def test_dp_run_reports_its_epsilon_and_validates_settings():
    settings = FederatedSettings(
        "opsgym/LoadBalancing-v0",
        "epsilon_greedy",
        dp_clip=50.0,
        dp_noise=1.0,
        participation=0.67,
        **SMALL,
    )
    result = run_federated(settings)
    assert result["privacy"]["epsilon"] == pytest.approx(privacy_epsilon(1.0, 2, 1e-5))
    assert "eps=" in federated_table(result)
    with pytest.raises(ValueError, match="dp_clip and dp_noise"):
        run_federated(FederatedSettings("opsgym/LoadBalancing-v0", "ucb1", dp_clip=1.0))
    with pytest.raises(ValueError, match="participation"):
        run_federated(FederatedSettings("opsgym/LoadBalancing-v0", "ucb1", participation=0))


def test_ray_nodes_give_the_same_numbers_as_local_nodes():
    pytest.importorskip("ray")
    settings = FederatedSettings("opsgym/LoadBalancing-v0", "ucb1", participation=0.67, **SMALL)
    local = run_federated(settings)
    settings.backend = "ray"
    remote = run_federated(settings)
    assert remote["settings"]["backend"] == "ray"
    assert remote["regimes"] == local["regimes"]


def test_cli_prints_the_comparison_as_json():
    completed = run_cli(
        "federated",
        "--env",
        "opsgym/LoadBalancing-v0",
        "--agent",
        "ucb1",
        "--nodes",
        "2",
        "--rounds",
        "1",
        "--steps-per-round",
        "200",
        "--eval-episodes",
        "1",
        "--backend",
        "local",
        "--json",
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert set(result["regimes"]) == {"isolated", "federated", "centralized"}
    bad = run_cli(
        "federated",
        "--env",
        "opsgym/LoadBalancing-v0",
        "--agent",
        "sw_ucb",
        "--nodes",
        "2",
        "--backend",
        "local",
    )
    assert bad.returncode == 2 and "cannot federate" in bad.stderr


def test_sb3_parameters_average_weighted_by_steps():
    from opsgym.train.federated import SB3Learner

    learner = SB3Learner("a2c", "opsgym/LoadBalancing-v0", {}, 0, {}, steps_per_round=2000)
    start = learner.shared_state()
    node_a = {k: v + 1.0 for k, v in start.items() if k != "steps"} | {"steps": np.array(100.0)}
    node_b = {k: v + 3.0 for k, v in start.items() if k != "steps"} | {"steps": np.array(300.0)}
    combined = federated_average(start, [node_a, node_b], learner.weight_key)
    learner.load_shared_state(combined)
    assert learner.model.num_timesteps == 400
    for key, value in learner.shared_state().items():
        if key != "steps":
            np.testing.assert_allclose(value, start[key] + 2.5, rtol=1e-6, err_msg=key)


def test_sb3_nodes_train_on_the_native_vector_env_in_rollouts_that_fit_a_round():
    from opsgym.baselines.vec_env import VecEnvAdapter
    from opsgym.train.federated import SB3Learner

    block = {"n_envs": 128, "n_steps": 64}  # one rollout: 8,192 steps, four rounds' worth
    learner = SB3Learner("ppo", "opsgym/LoadBalancing-v0", {}, 0, block, steps_per_round=2000)
    assert learner.n_envs == 32  # 32 instances x 64 steps: one rollout covers a round
    assert isinstance(learner.model.get_env().unwrapped, VecEnvAdapter)
    learner.learn(2000)
    assert learner.model.num_timesteps == 2048

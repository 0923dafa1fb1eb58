"""Bandits that start from the rule's play (``ucb1_warm``, ...): the replay of a log,
on small problems whose optimum is known, and through ``opsgym train``."""

from __future__ import annotations

import json
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

from opsgym.agents import make_agent
from opsgym.agents.bandits import EXP3, UCB1, LinUCB, spread_pulls
from opsgym.baselines import default_teacher
from opsgym.train import agent_warm_start
from opsgym.train.agent_warm_start import DEFAULT_PULLS
from opsgym.train.benchmark import FULL
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.cli import build_parser
from opsgym.train.rule_comparison import starts_from_rule
from opsgym.train.rule_started import agent_rule_started_names, expand
from opsgym.train.runner import evaluation_seeds, make_env
from opsgym.train.training import AGENT_FILE, TrainSettings, train

LOAD_BALANCING = "opsgym/LoadBalancing-v0"
BANDITS = ["ucb1", "sw_ucb", "epsilon_greedy", "thompson_beta"]


def _rule_log(means, shares, pulls: int, seed: int):
    """A rule that plays arm ``k`` with probability ``shares[k]`` on Bernoulli arms."""
    rng = np.random.default_rng(seed)
    arms = rng.choice(len(means), pulls, p=shares)
    rewards = (rng.random(pulls) < np.asarray(means)[arms]).astype(float)
    return arms, rewards


def _serve(bandit, means, steps: int, seed: int):
    """The bandit's arms over ``steps`` pulls of Bernoulli arms, and its regret."""
    rng = np.random.default_rng(1000 + seed)
    means = np.asarray(means)
    arms = np.zeros(steps, dtype=np.int64)
    for t in range(steps):
        arms[t] = bandit.act(None)
        bandit.update(None, arms[t], float(rng.random() < means[arms[t]]), None, False)
    return arms, float(np.sum(means.max() - means[arms]))


def _bandit(name: str, seed: int, log=None):
    """The agent ``name`` on three arms, started from ``log`` (arms, rewards) if given."""
    bandit = make_agent(name, SimpleNamespace(action_space=gym.spaces.Discrete(3)), seed=seed)
    if log is not None:
        arms, rewards = log
        bandit.replay([None] * len(arms), arms, rewards, DEFAULT_PULLS)
    return bandit


def test_spread_pulls_keeps_each_arms_pulls_spread_over_the_log_in_order():
    arms = np.array([0, 1, 0, 0, 1, 0, 0])
    # arm 0 was pulled at 0, 2, 3, 5, 6: two spread evenly are the first and the last
    assert spread_pulls(arms, 3, 2).tolist() == [0, 1, 4, 6]
    assert spread_pulls(arms, 3, 3).tolist() == [0, 1, 3, 4, 6]  # 0, 3 (the middle), 6
    assert spread_pulls(arms, 3, 9).tolist() == list(range(7))


def test_a_replayed_arm_holds_its_mean_with_the_capped_count():
    bandit = UCB1(3, reward_range=(0.0, 10.0))
    arms = np.array([0, 0, 0, 1, 0])
    rewards = np.array([10.0, 0.0, 5.0, 2.0, 10.0])
    replayed = bandit.replay([None] * 5, arms, rewards, 3)
    # arm 0's pulls 0, 1, 2, 4 spread to three: the first, the third (position 1.5,
    # rounded to even) and the last, rewards 10, 5 and 10
    assert replayed.tolist() == [3, 1, 0]
    np.testing.assert_allclose(bandit.values, [25 / 3, 2.0, 0.0])
    assert bandit.counts.tolist() == [3, 1, 0] and bandit.t == 4
    assert bandit.act(None) == 2  # the arm the log never pulled comes first


def test_linucb_replaying_the_rules_contexts_is_ridge_regression():
    rng = np.random.default_rng(0)
    contexts = rng.normal(size=(60, 2))
    arms = rng.integers(0, 2, 60)
    rewards = contexts @ np.array([1.0, -2.0]) * (arms == 0) + rng.normal(0, 0.1, 60)
    bandit = LinUCB(2, 2, ridge=0.5)
    bandit.replay(contexts, arms, rewards, 1000)
    for arm in (0, 1):
        x = np.column_stack([contexts[arms == arm], np.ones((arms == arm).sum())])
        theta = np.linalg.solve(0.5 * np.eye(3) + x.T @ x, x.T @ rewards[arms == arm])
        probe = np.array([0.3, -1.2])
        assert bandit.predict(probe)[arm] == pytest.approx(theta @ np.append(probe, 1.0))


@pytest.mark.parametrize(
    "arms, rewards, message",
    [
        ([0, 3], [1.0, 1.0], r"logged arm 3 \(pull 1\) is not in \[0, 3\)"),
        ([0, 1], [1.0, np.nan], "logged reward of pull 1 is not finite"),
        ([0, 1], [1.0], "one context, arm and reward per pull"),
        ([0.5, 1], [1.0, 1.0], "logged arms must be integers"),
    ],
)
def test_a_bad_log_is_refused_naming_the_pull(arms, rewards, message):
    with pytest.raises(ValueError, match=message):
        UCB1(3).replay([None] * len(arms), np.array(arms), rewards, 10)


def test_exp3_refuses_another_policys_log():
    with pytest.raises(ValueError, match="EXP3 cannot learn from another policy's log"):
        EXP3(3).replay([None], np.array([0]), [1.0], 10)


@pytest.mark.parametrize("name", BANDITS)
def test_a_warm_bandit_starts_with_what_the_rule_plays_most(name):
    means, shares = [0.2, 0.8, 0.4], [0.1, 0.8, 0.1]  # the rule's favourite is the best
    for seed in range(3):
        warm = _bandit(name, seed, _rule_log(means, shares, 2000, seed))
        arms, _ = _serve(warm, means, 20, seed)
        assert np.bincount(arms, minlength=3).argmax() == 1
    if name != "thompson_beta":  # UCB and epsilon-greedy try every arm first from scratch
        assert sorted(_serve(_bandit(name, 0), means, 3, 0)[0].tolist()) == [0, 1, 2]


@pytest.mark.parametrize("name", ["ucb1", "thompson_beta"])
def test_a_warm_bandit_leaves_a_second_best_favourite_with_less_regret_than_a_cold_one(name):
    # the rule plays arm 1 (0.7) and sometimes arm 0 (0.5), never the best arm 2 (0.8)
    means, shares = [0.5, 0.7, 0.8], [0.1, 0.9, 0.0]
    warm_regret = cold_regret = 0.0
    for seed in range(5):
        warm = _bandit(name, seed, _rule_log(means, shares, 2000, seed))
        arms, regret = _serve(warm, means, 3000, seed)
        assert np.bincount(arms[-500:], minlength=3).argmax() == 2
        warm_regret += regret
        cold_regret += _serve(_bandit(name, seed), means, 3000, seed)[1]
    assert warm_regret < 0.8 * cold_regret


def _train(tmp_path, agent="ucb1_warm", seed=0, **overrides):
    return train(
        TrainSettings(
            env_id=LOAD_BALANCING,
            agent=agent,
            seed=seed,
            timesteps=300,
            overrides={"warm_samples": 400} | overrides,
            eval_every=300,
            eval_episodes=1,
            out=str(tmp_path),
            progress=False,
        )
    )


def test_ucb1_warm_trains_from_the_rules_play_and_evaluates_from_step_zero(tmp_path):
    run = _train(tmp_path, warm_pulls=30)
    start = json.loads((run / "config.json").read_text())["rule_start"]
    assert start["init_from"] == default_teacher(LOAD_BALANCING)
    assert start["samples"] == 400 and start["warm_pulls"] == 30
    assert max(start["replayed_pulls"]) == 30
    rows = (run / "evaluations.csv").read_text().splitlines()
    assert rows[1].startswith("0.0,")  # the bandit before its first step
    _, agent = load_trained_policy(run, make_env(LOAD_BALANCING))
    assert agent.t == 300 + sum(start["replayed_pulls"])


@pytest.mark.parametrize("name", BANDITS)
def test_a_warm_bandits_checkpoint_round_trips(tmp_path, name):
    means = [0.2, 0.8, 0.4]
    warm = _bandit(name, 0, _rule_log(means, [0.1, 0.8, 0.1], 2000, 0))
    warm.save(tmp_path / "agent.npz")
    loaded = _bandit(name, 5)
    loaded.load(tmp_path / "agent.npz")
    assert _serve(loaded, means, 200, 1)[0].tolist() == _serve(warm, means, 200, 1)[0].tolist()


def test_the_same_seed_gives_the_same_warm_bandit_bit_for_bit(tmp_path):
    files = [
        np.load(_train(tmp_path / str(i), "thompson_beta_warm") / AGENT_FILE) for i in range(2)
    ]
    assert sorted(files[0].files) == sorted(files[1].files)
    for name in files[0].files:
        np.testing.assert_array_equal(files[0][name], files[1][name])


def test_the_rule_plays_training_seeds_only(monkeypatch):
    seeds = []

    def recording_env(env_id, env_kwargs):
        env = make_env(env_id, env_kwargs)
        reset = env.reset

        def seeded_reset(*, seed=None, options=None):
            seeds.append(seed)
            return reset(seed=seed, options=options)

        env.reset = seeded_reset
        return env

    monkeypatch.setattr(agent_warm_start, "make_env", recording_env)
    agent_warm_start.play_rule(LOAD_BALANCING, {}, "least_work_left", 7, 3000)
    assert seeds == list(range(7, 7 + len(seeds))) and len(seeds) > 1
    assert not set(seeds) & set(evaluation_seeds(7, 1000))


@pytest.mark.parametrize(
    "agent, overrides, message",
    [
        ("ucb1_warm", {"warm_pulls": 0}, "warm_pulls must be an integer >= 1, got 0"),
        ("ucb1_warm", {"warm_samples": "many"}, "warm_samples must be an integer >= 1"),
        ("ucb1_warm", {"init_from": "no_such_rule"}, "init_from: unknown policy 'no_such_rule'"),
        ("ucb1", {"warm_pulls": 5}, r"\['warm_pulls', 'warm_samples'\] need --set init_from"),
        ("q_learning_warm", {"warm_pulls": 5}, "warm_pulls: only bandits"),
        ("exp3", {"init_from": "default"}, "EXP3 cannot learn"),
        ("ucb1_adwin", {"init_from": "default"}, "init_from: only bandits and tabular agents"),
    ],
)
def test_bad_warm_start_settings_are_refused_naming_the_key(tmp_path, agent, overrides, message):
    with pytest.raises(ValueError, match=message):
        _train(tmp_path, agent, **overrides)
    assert not any(tmp_path.iterdir())  # no run folder is left behind


def test_the_warm_bandits_are_named_wherever_learners_are_listed(capsys):
    names = agent_rule_started_names()
    assert {"ucb1_warm", "sw_ucb_warm", "epsilon_greedy_warm", "linucb_warm"} <= set(names)
    assert set(names) <= set(FULL["agents"])
    assert all(starts_from_rule(name) for name in names)
    assert expand("sw_ucb_warm") == ("sw_ucb", {"init_from": "default"})
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    train_help = " ".join(capsys.readouterr().out.split())
    assert all(name in train_help for name in names)
    arguments = build_parser().parse_args(["benchmark", "--agents", *names])
    assert arguments.agents == names

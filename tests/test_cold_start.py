"""Cold-start regret: the learner's first training rewards against a reference's."""

from __future__ import annotations

import numpy as np
import pytest
from benchmark_plans import small_plan
from quiet_training import quiet_training

import opsgym.envs  # noqa: F401  (registers the ids)
from opsgym.agents import make_agent
from opsgym.baselines import agent_hyperparams, make_policy
from opsgym.train.benchmark import run_benchmark
from opsgym.train.benchmark_summary import write_summary
from opsgym.train.cold_start import (
    cold_start_regret,
    read_rewards,
    reference_rewards,
    rollout_rewards,
)
from opsgym.train.runner import make_env
from opsgym.train.training import train

LB = "opsgym/LoadBalancing-v0"
SHORT = {"episode_length": 40, "mode": "feedback"}


def test_regret_is_the_reference_total_minus_the_learner_total():
    assert cold_start_regret([-1.0, -2.0, -3.0], [-0.5, -2.0, -1.0]) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="same steps"):
        cold_start_regret([-1.0], [-1.0, -2.0])


def test_a_rollout_spans_episodes_reset_as_training_resets_them():
    env = make_env(LB, {"episode_length": 3})
    policy = make_policy(env, "round_robin")
    rewards = rollout_rewards(env, policy, seed=7, steps=7, reseed_episodes=True)
    by_episode, round_robin = [], make_policy(env, "round_robin")
    for seed in (7, 8, 9):  # three episodes of three steps, the last one cut after one
        observation, _ = env.reset(seed=seed)
        for _ in range(3):
            observation, reward, *_ = env.step(round_robin.act(observation))
            by_episode.append(float(reward))
    assert rewards == by_episode[:7]
    unseeded = rollout_rewards(env, make_policy(env, "round_robin"), 7, 7, reseed_episodes=False)
    assert unseeded[:3] == rewards[:3] and unseeded[3:] != rewards[3:]


def test_training_records_the_rewards_a_replay_of_the_learner_reproduces(tmp_path):
    run = train(
        quiet_training(
            tmp_path, LB, "ucb1", seed=3, timesteps=150, env_kwargs=SHORT, cold_start_steps=100
        )
    )
    recorded, reseed = read_rewards(run)
    env = make_env(LB, SHORT)
    agent = make_agent("ucb1", env, seed=3, **agent_hyperparams.load("ucb1", LB))  # as trained
    replay = rollout_rewards(env, agent, 3, 100, reseed)
    assert reseed and len(recorded) == 100 and recorded == replay


def test_the_reference_is_the_oracle_or_the_best_heuristic_in_hindsight():
    name, rewards = reference_rewards(LB, SHORT, 0, 60, True)
    assert name == "oracle" and len(rewards) == 60
    name, rewards = reference_rewards("opsgym/ResourceAllocation-v0", {}, 0, 50, True)
    heuristic = name.removeprefix("best heuristic (").removesuffix(")")
    env = make_env("opsgym/ResourceAllocation-v0")
    totals = {
        other: sum(rollout_rewards(env, make_policy(env, other, seed=0), 0, 50, True))
        for other in ("first_fit_fifo", "sjf", "sjf_hold_long", "packer", "tetris")
    }
    assert sum(rewards) == max(totals.values()) == totals[heuristic]


def test_the_benchmark_writes_the_cold_start_regret(tmp_path):
    plan = small_plan(
        LB,
        policies=("ucb1",),
        seeds=2,
        budget=120,
        agents=("ucb1",),
        scenarios=("default",),
        curve_points=1,
        curve_episodes=1,
        cold_start_steps=80,
    )
    records = run_benchmark(plan, tmp_path)
    assert all(r["status"] == "ok" for r in records), records
    for record in records:
        rewards, reseed = read_rewards(record["run_folder"])
        _, oracle = reference_rewards(LB, {}, record["seed"], 80, reseed)
        assert record["cold_start_steps"] == 80 and record["cold_start_reference"] == "oracle"
        assert record["cold_start_regret"] == pytest.approx(np.sum(oracle) - np.sum(rewards))
    text = write_summary(records, tmp_path)
    assert (
        "### Cold start" in text and "cold_start_regret" in (tmp_path / "summary.csv").read_text()
    )

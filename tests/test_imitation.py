"""Behaviour cloning: a PPO policy network fitted to a reference policy's actions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from quiet_training import quiet_training
from stable_baselines3 import PPO

from opsgym.baselines import default_teacher, make_policy, policy_names, sb3
from opsgym.envs import opsgym_ids
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.cold_start import read_rewards, rollout_rewards
from opsgym.train.imitation import cloning_report
from opsgym.train.runner import make_env
from opsgym.train.training import train

LB = "opsgym/LoadBalancing-v0"
SHORT = {"episode_length": 200}


def clone(tmp_path, timesteps=4000, env_id=LB, env_kwargs=SHORT, **overrides):
    return train(
        quiet_training(
            tmp_path, env_id, "bc", timesteps=timesteps, overrides=overrides, env_kwargs=env_kwargs
        )
    )


def agreement(env_id, env_kwargs, teacher_name, policy, seeds) -> float:
    """How often ``policy`` does what the teacher would, on the teacher's own episodes."""
    env = make_env(env_id, env_kwargs)
    teacher = make_policy(env, teacher_name, seed=0)
    same = total = 0
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            action = teacher.act(observation)
            same += policy.act(observation) == action
            total += 1
            observation, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return same / total


def test_a_clone_is_ppos_network_loaded_as_ppo_and_acts_as_its_teacher(tmp_path):
    run = clone(tmp_path, teacher="least_work_left")
    env = make_env(LB, SHORT)
    _, policy = load_trained_policy(run, env)
    assert isinstance(policy, sb3.SB3Policy) and isinstance(policy.model, PPO)
    block = sb3.load_hyperparams("ppo", LB)
    reference = PPO(block["policy"], env, policy_kwargs=block.get("policy_kwargs"))
    shapes = {k: v.shape for k, v in reference.policy.state_dict().items()}
    assert {k: v.shape for k, v in policy.model.policy.state_dict().items()} == shapes
    # least-work-left is an argmin over five observation fields; chance agrees 1 time in 5
    assert agreement(LB, SHORT, "least_work_left", policy, [1_000_000, 1_000_001]) > 0.5
    config = json.loads((run / "config.json").read_text())
    assert config["agent"] == "bc" and config["algorithm"] == "ppo"
    assert config["imitation"]["teacher"] == "least_work_left"
    assert config["rounds"][0]["train_accuracy"] > 0.5


def test_dagger_rounds_aggregate_the_teachers_labels_of_the_learners_states(tmp_path):
    run = clone(tmp_path, timesteps=901, teacher="least_connections", dagger_rounds=2)
    rounds = json.loads((run / "config.json").read_text())["rounds"]
    assert [r["samples"] for r in rounds] == [301, 300, 300]
    assert [r["aggregated"] for r in rounds] == [301, 601, 901]
    assert rounds[0]["learner_agreement"] is None
    assert all(0.0 <= r["learner_agreement"] <= 1.0 for r in rounds[1:])


def test_the_same_seed_gives_the_same_clone(tmp_path):
    first = PPO.load(clone(tmp_path / "a", timesteps=600, dagger_rounds=1) / "model.zip")
    second = PPO.load(clone(tmp_path / "b", timesteps=600, dagger_rounds=1) / "model.zip")
    for (name, a), (_, b) in zip(
        first.policy.state_dict().items(), second.policy.state_dict().items()
    ):
        assert torch.equal(a, b), name


def test_observation_normalization_is_fitted_to_the_teachers_states_and_saved(tmp_path):
    run = clone(tmp_path, timesteps=600, norm_obs=True)
    env = make_env(LB, SHORT)
    normalizer = sb3.ObservationNormalizer.load(
        run / "vecnormalize.npz", env.observation_space.shape
    )
    teacher = make_policy(env, "least_work_left", seed=0)
    observations = []
    observation, _ = env.reset(seed=0)
    for _ in range(200):
        observations.append(observation)
        observation, *_ = env.step(teacher.act(observation))
    observations = np.array(observations)
    # the first 200 of the 600 states the statistics were fitted on
    assert np.allclose(normalizer.mean, np.mean(observations, axis=0), atol=0.2)
    _, policy = load_trained_policy(run, env)
    assert policy.normalizer is not None


def test_net_arch_widens_the_clone_and_the_run_says_so(tmp_path):
    run = clone(tmp_path, timesteps=300, net_arch=[48, 24])
    _, policy = load_trained_policy(run, make_env(LB, SHORT))
    weights = policy.model.policy.state_dict()
    assert weights["mlp_extractor.policy_net.0.weight"].shape[0] == 48
    assert weights["mlp_extractor.policy_net.2.weight"].shape == (24, 48)
    assert json.loads((run / "config.json").read_text())["imitation"]["net_arch"] == [48, 24]


def test_every_id_has_a_default_teacher_among_its_reference_policies():
    for env_id in opsgym_ids():
        teacher = default_teacher(env_id)
        env = make_env(env_id)
        assert teacher in policy_names(env) and teacher not in ("random", "oracle")
        env.close()


def test_bad_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown bc setting.*'epoch'"):
        clone(tmp_path, epoch=3)
    with pytest.raises(ValueError, match="unknown teacher 'lru'.*least_work_left"):
        clone(tmp_path, teacher="lru")
    with pytest.raises(ValueError, match="dagger_rounds"):
        clone(tmp_path, dagger_rounds=-1)
    with pytest.raises(ValueError, match=r"net_arch must be .*got \[64, 0\]"):
        clone(tmp_path, net_arch=[64, 0])


def test_the_report_compares_clone_and_teacher_on_normalized_scores(tmp_path):
    (row,) = cloning_report(
        [LB],
        timesteps=2000,
        episodes=2,
        overrides={"teacher": "least_connections"},
        out=str(tmp_path),
    )
    assert row["teacher"] == "least_connections"
    assert row["ratio"] == pytest.approx(row["bc_score"] / row["teacher_score"])
    assert 0.5 < row["teacher_score"] <= 1.0


def test_a_clones_cold_start_rewards_are_its_teachers_own_play(tmp_path):
    run = train(
        quiet_training(
            tmp_path,
            LB,
            "bc",
            timesteps=600,
            overrides={"dagger_rounds": 1},
            env_kwargs=SHORT,
            cold_start_steps=250,  # more than one episode: the second is reseeded
        )
    )
    rewards, reseeded = read_rewards(run)
    env = make_env(LB, SHORT)
    teacher = make_policy(env, "least_work_left", seed=0)
    assert reseeded and rewards == rollout_rewards(env, teacher, 0, 250, reseed_episodes=True)

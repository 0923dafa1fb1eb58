"""RLlib trains an opsgym environment with no adapter (runs where RLlib is installed)."""

from __future__ import annotations

import math

import pytest


def test_rllib_ppo_trains_one_iteration_on_an_opsgym_id():
    pytest.importorskip("ray.rllib", exc_type=ImportError)
    from ray.rllib.algorithms.ppo import PPOConfig

    from opsgym.train.ray_backend import init_ray

    # build_algo's own ray.init() would attach to RAY_ADDRESS (the suite sets a dead
    # one) and retry for minutes: start a private local instance first, as opsgym does
    init_ray()
    config = (
        PPOConfig()
        # the module:id form makes every RLlib worker import opsgym.envs itself
        .environment("opsgym.envs:opsgym/LoadBalancing-v0", env_config={"episode_length": 200})
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=400, minibatch_size=100, num_epochs=1)
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    episode_return = result["env_runners"]["episode_return_mean"]
    assert math.isfinite(episode_return) and episode_return < 0

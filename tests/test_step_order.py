"""Every env refuses a step when no episode runs: before the first reset, after the end."""

from __future__ import annotations

import importlib.util
import pkgutil

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator

import opsgym.envs
from opsgym.envs.vector import BatchedVectorEnv

ENV_IDS = opsgym.envs.opsgym_ids()
VECTOR_IDS = [env_id for env_id in ENV_IDS if gym.spec(env_id).vector_entry_point is not None]
MAX_EPISODE_STEPS = 20_000  # every default episode ends well before


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_raw_env_refuses_a_step_before_reset_and_after_the_end(env_id):
    env = gym.make(env_id).unwrapped  # the raw class, without OrderEnforcing
    with pytest.raises(RuntimeError, match=r"before reset\(\); call reset\(\) first"):
        env.step(0)
    first, _ = env.reset(seed=3)
    fresh = gym.make(env_id).unwrapped
    assert np.array_equal(first, fresh.reset(seed=3)[0])
    for _ in range(MAX_EPISODE_STEPS):
        step = env.step(0)
        assert np.array_equal(step[0], fresh.step(0)[0])  # the refusal changed nothing
        if step[2] or step[3]:
            break
    else:
        pytest.fail(f"{env_id}: no episode end in {MAX_EPISODE_STEPS} steps")
    with pytest.raises(RuntimeError, match=r"after the episode ended; call reset\(\) first"):
        env.step(0)
    env.reset(seed=4)
    env.step(0)


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_native_vector_env_refuses_a_step_before_reset(env_id):
    env = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    actions = np.zeros(2, dtype=np.int64)
    with pytest.raises(RuntimeError, match=r"before reset\(\); call reset\(\) first"):
        env.step(actions)
    env.reset(seed=0)
    observations, *_ = env.step(actions)
    assert env.observation_space.contains(observations)


def test_the_sweep_reaches_every_native_vector_env():
    for package in pkgutil.iter_modules(opsgym.envs.__path__):
        module = f"opsgym.envs.{package.name}.vector"
        if package.ispkg and importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    swept = {load_env_creator(gym.spec(env_id).vector_entry_point) for env_id in VECTOR_IDS}
    assert swept == set(BatchedVectorEnv.__subclasses__())

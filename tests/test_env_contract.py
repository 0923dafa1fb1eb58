"""What every registered opsgym environment must satisfy, parametrized over the registry.

The tests of a configuration's behaviour run on every registered id, scenarios
included (ALL_IDS); those of the environment class (its docstring, its arguments, its
random configurations) on each environment's own id (ENV_IDS)."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from env_configs import CONFIG_STRATEGIES
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import opsgym.envs

ENV_IDS = opsgym.envs.opsgym_ids()
ALL_IDS = opsgym.envs.registered_ids()
SECTIONS = (
    "## Description",
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Starting State",
    "## Episode End",
    "## Arguments",
    "## Vector Environment",
    "## Version History",
)
# Warnings gymnasium's checker may raise that are by design: none so far.
ALLOWED_WARNINGS: tuple[str, ...] = ()


def rollout(env: gym.Env, seed: int, steps: int) -> list:
    """Observations, rewards, flags and infos of ``steps`` steps of seeded random actions."""
    env.action_space.seed(seed)
    observation, info = env.reset(seed=seed)
    trajectory = [(observation, info)]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trajectory.append((observation, reward, terminated, truncated, info))
        if terminated or truncated:
            observation, info = env.reset()
            trajectory.append((observation, info))
    return trajectory


def assert_same(a, b, path="trajectory") -> None:
    """Exact, recursive equality of nested tuples, dicts, arrays and scalars."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"{path}: {a} != {b}"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for key in a:
            assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} != {b!r}"


def test_registry_is_not_empty_and_every_id_has_a_config_strategy():
    assert "opsgym/LoadBalancing-v0" in ENV_IDS
    assert set(ENV_IDS) <= set(CONFIG_STRATEGIES), set(ENV_IDS) - set(CONFIG_STRATEGIES)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_env_checker(env_id):
    env = gym.make(env_id).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=False)
    unexpected = [
        str(w.message) for w in caught if not any(a in str(w.message) for a in ALLOWED_WARNINGS)
    ]
    assert unexpected == []


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_stable_baselines3_env_checker(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(gym.make(env_id).unwrapped, warn=True)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_same_seed_same_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=123, steps=300)
    second = rollout(gym.make(env_id), seed=123, steps=300)
    assert_same(first, second)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_different_seed_different_trajectory(env_id):
    first = rollout(gym.make(env_id), seed=1, steps=100)
    second = rollout(gym.make(env_id), seed=2, steps=100)
    with pytest.raises(AssertionError):
        assert_same(first, second)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_observations_stay_in_space_over_long_rollouts(env_id):
    env = gym.make(env_id)
    for step in rollout(env, seed=7, steps=3000):
        observation = step[0]
        assert env.observation_space.contains(observation), observation
        if len(step) == 5:
            assert np.isfinite(step[1])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_finite_and_in_space_under_random_valid_configurations(env_id):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(config=CONFIG_STRATEGIES[env_id], seed=st.integers(0, 2**31 - 1))
    def check(config, seed):
        env = gym.make(env_id, **config)
        for step in rollout(env, seed=seed, steps=150):
            assert env.observation_space.contains(step[0]), (config, step[0])
            if len(step) == 5:
                assert np.isfinite(step[1]), (config, step[1])

    check()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pickle_round_trip_continues_identically(env_id):
    env = gym.make(env_id)
    env.reset(seed=5)
    env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    action = int(env.action_space.sample())
    assert_same(env.step(action), clone.step(action))


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_spec_json_round_trip(env_id):
    env = gym.make(env_id)
    restored = EnvSpec.from_json(env.spec.to_json())
    assert restored == env.spec
    assert gym.make(restored).spec.id == env_id


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_docstring_has_gymnasium_sections(env_id):
    doc = type(gym.make(env_id).unwrapped).__doc__
    missing = [section for section in SECTIONS if section not in doc]
    assert missing == []
    positions = [doc.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "sections out of order"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_unknown_argument_and_out_of_range_action_are_named(env_id):
    with pytest.raises(TypeError, match="not_an_argument"):
        gym.make(env_id, not_an_argument=1)
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(env.action_space.n)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_unsupported_render_mode_is_a_type_error_naming_it(env_id):
    # TypeError is what SB3's make_vec_env and rl-zoo3 expect, to retry without rendering
    env_class = gym.spec(env_id).entry_point
    creator = gym.envs.registration.load_env_creator(env_class)
    with pytest.raises(TypeError, match="render_mode"):
        creator(render_mode="human")

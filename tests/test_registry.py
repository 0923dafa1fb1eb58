"""The registry reads the packages' surface: every environment and scenario is an id, with
its configuration's horizon as ``max_episode_steps``."""

from __future__ import annotations

import importlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import VectorEnv
from test_env_contract import assert_same, rollout

from opsgym.envs import make_kwargs, opsgym_ids, registered_ids
from opsgym.envs.core.config import EnvConfig
from opsgym.envs.packages import PACKAGES, SURFACE
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.scenarios import scenarios

SCENARIOS = [scenario for env_id in opsgym_ids() for scenario in scenarios(env_id).values()]
VECTOR_SCENARIOS = [s for s in SCENARIOS if PACKAGES[s.env_id].VECTOR_ENV is not None]
# Episodes whose step count depends on the policy: a decision per miss (Caching), per
# placement and per time step (ResourceAllocation); max_episode_steps bounds them.
VARIABLE_LENGTH = {"opsgym/Caching-v0", "opsgym/ResourceAllocation-v0"}


def test_the_registry_lists_exactly_the_packages_exports():
    expected = {}
    for env_id, package in PACKAGES.items():
        expected[env_id] = (package, {})
        for name, (_, kwargs) in package.SCENARIOS.items():
            namespace_name, version = env_id.rsplit("-v", 1)
            expected[f"{namespace_name}-{name}-v{version}"] = (package, kwargs)
    assert registered_ids() == sorted(expected)
    for env_id, (package, kwargs) in expected.items():
        spec = gym.spec(env_id)
        assert gym.envs.registration.load_env_creator(spec.entry_point) is package.ENV
        vector = spec.vector_entry_point
        assert (vector and gym.envs.registration.load_env_creator(vector)) is (
            package.VECTOR_ENV or None
        )
        assert spec.kwargs == kwargs
        assert spec.description


@pytest.mark.parametrize("env_id", opsgym_ids())
def test_every_package_exports_the_surface(env_id):
    package = PACKAGES[env_id]
    assert all(hasattr(package, name) for name in SURFACE)
    assert issubclass(package.ENV, gym.Env) and package.ENV.config_class is package.CONFIG
    assert issubclass(package.CONFIG, EnvConfig)
    assert package.VECTOR_ENV is None or issubclass(package.VECTOR_ENV, VectorEnv)
    policies = importlib.import_module(package.POLICIES)
    assert policies.TEACHER in policies.POLICIES
    for description, kwargs in package.SCENARIOS.values():
        assert description and package.CONFIG.build(**kwargs)
    for variation in package.NODE_VARIATIONS:
        package.CONFIG.build(**variation)


def test_a_scenario_id_carries_its_environments_version_and_description():
    spec = gym.spec("opsgym/Routing-drift-hotspot-v1")
    assert spec.kwargs == {"drift": "hotspot"}
    assert spec.description == "one node's traffic grows fivefold mid-episode, unannounced"
    assert gym.spec("opsgym/Caching-adversary-flood-v0").kwargs == {"workload": "flood"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_a_scenario_id_makes_the_base_id_with_its_arguments_bit_for_bit(scenario):
    by_id = rollout(gym.make(scenario.id), seed=11, steps=60)
    by_kwargs = rollout(gym.make(scenario.env_id, **scenario.env_kwargs), seed=11, steps=60)
    assert_same(by_id, by_kwargs)


@pytest.mark.parametrize("scenario", VECTOR_SCENARIOS, ids=lambda s: s.id)
def test_every_scenario_of_a_vector_env_has_it(scenario):
    by_id = gym.make_vec(scenario.id, num_envs=2, vectorization_mode="vector_entry_point")
    by_kwargs = gym.make_vec(
        scenario.env_id,
        num_envs=2,
        vectorization_mode="vector_entry_point",
        **make_kwargs(scenario.env_id, scenario.env_kwargs),
    )
    assert isinstance(by_id, PACKAGES[scenario.env_id].VECTOR_ENV)
    assert by_id.config == by_kwargs.config
    assert_same(by_id.reset(seed=3), by_kwargs.reset(seed=3))


def _episode(env: gym.Env, seed: int) -> tuple[int, dict]:
    env.action_space.seed(seed)
    env.reset(seed=seed)
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        if terminated or truncated:
            return steps, info


@pytest.mark.parametrize("env_id", opsgym_ids())
def test_max_episode_steps_is_the_length_of_the_episode_the_env_ends_itself(env_id):
    env = gym.make(env_id)
    steps, info = _episode(env, seed=0)
    assert "episode_metrics" in info  # the env's own end, not TimeLimit's
    if env_id in VARIABLE_LENGTH:
        assert steps <= env.spec.max_episode_steps
    else:
        assert steps == env.spec.max_episode_steps


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_a_scenario_registers_its_configurations_horizon(scenario):
    config = PACKAGES[scenario.env_id].CONFIG.build(**scenario.env_kwargs)
    assert gym.spec(scenario.id).max_episode_steps == config.max_episode_steps
    assert gym.spec("opsgym/Autoscaling-week-v0").max_episode_steps == 10_080


def test_a_longer_episode_needs_max_episode_steps_and_make_kwargs_gives_it():
    env_id = "opsgym/LoadBalancing-v0"
    assert gym.spec(env_id).max_episode_steps == 1000
    assert make_kwargs(env_id, {"episode_length": 1010}) == {
        "episode_length": 1010,
        "max_episode_steps": 1010,
    }
    steps, info = _episode(gym.make(env_id, **make_kwargs(env_id, {"episode_length": 1010})), 0)
    assert steps == 1010 and "episode_metrics" in info
    # without it, gymnasium's TimeLimit ends the episode at the registered step
    steps, info = _episode(gym.make(env_id, episode_length=1010), 0)
    assert steps == 1000 and "episode_metrics" not in info
    # a shorter one needs nothing: the env ends it first
    steps, info = _episode(gym.make(env_id, episode_length=30), 0)
    assert steps == 30 and "episode_metrics" in info


def test_a_native_vector_env_ends_its_episodes_on_its_configurations_step():
    vector = gym.make_vec(
        "opsgym/ServiceRouting-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        episode_length=1003,
    )
    vector.reset(seed=0)
    for step in range(1, 1004):
        _, _, terminated, truncated, _ = vector.step(vector.action_space.sample())
        assert not terminated.any() and truncated.all() == (step == 1003)


def test_make_kwargs_sets_no_time_limit_where_the_configuration_bounds_no_episode(tmp_path):
    trace = tmp_path / "jobs.csv"
    trace.write_text("arrival,duration,cpu,memory\n0,2,3,4\n5,1,1,1\n")
    kwargs = {"workload": "trace", "trace_path": str(trace)}
    assert make_kwargs("opsgym/ResourceAllocation-v0", kwargs)["max_episode_steps"] == -1


@pytest.mark.parametrize("probability", [0.02, 0.3, 0.9, 1.0])
def test_the_resource_allocation_bound_uses_the_longest_gap_the_workload_draws(probability):
    largest = np.full((4, 5), 1.0 - 2.0**-53)  # every uniform at its largest: longest gaps
    jobs = workloads.SyntheticJobs(largest, probability, n_resources=2)
    gaps = np.diff([jobs.job(k)[0] for k in range(4)])
    assert gaps.tolist() == [workloads.longest_gap(probability)] * 3
    smaller = np.full((2, 5), 0.999)
    assert workloads.SyntheticJobs(smaller, probability, 2).job(1)[0] <= gaps[0]

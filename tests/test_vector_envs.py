"""Native vector environments against their single versions, for every id that has one."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import opsgym.envs

VECTOR_IDS = [
    env_id for env_id in opsgym.envs.opsgym_ids() if gym.spec(env_id).vector_entry_point is not None
]
# Short episodes, so that autoreset happens within a few hundred steps.
SHORT_EPISODES = {
    "opsgym/LoadBalancing-v0": {"episode_length": 40},
    "opsgym/ConfigTuning-v0": {"episode_length": 30},
    "opsgym/Autoscaling-v0": {"episode_steps": 60},
    "opsgym/IndexSelection-v0": {"episode_length": 30, "phase_length": 10},
}
# Ids whose vector env follows the single env bit for bit (instance i seeded s + i).
EXACT_IDS = {"opsgym/LoadBalancing-v0", "opsgym/ConfigTuning-v0"}
# The domain metric compared in distribution, per id.
METRIC = {
    "opsgym/LoadBalancing-v0": "mean_latency_ms",
    "opsgym/ConfigTuning-v0": "p95_latency_ms",
    "opsgym/Autoscaling-v0": "objective_usd",
    "opsgym/IndexSelection-v0": "pages_per_query",
}


def make_vector(env_id: str, num_envs: int, vectorization: str = "vector_entry_point", **kwargs):
    kwargs = {**SHORT_EPISODES.get(env_id, {}), **kwargs}
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=vectorization, **kwargs)


def random_actions(env: gym.vector.VectorEnv, seed: int, steps: int) -> list[np.ndarray]:
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(steps)]


def masked_equal(a: dict, b: dict, path: str = "info") -> None:
    """``a`` and ``b`` agree on every entry their ``_key`` masks mark present."""
    for key, value in b.items():
        if key.startswith("_"):
            continue
        mask = b["_" + key]
        assert np.array_equal(a["_" + key], mask), f"{path}[_{key}]"
        if isinstance(value, dict):
            masked_equal(a[key], value, f"{path}[{key}]")
        else:
            assert np.array_equal(np.asarray(a[key])[mask], value[mask]), f"{path}[{key}]"


@pytest.fixture(params=VECTOR_IDS)
def env_id(request) -> str:
    return request.param


def test_loadbalancing_has_a_vector_entry_point():
    assert "opsgym/LoadBalancing-v0" in VECTOR_IDS


def test_spaces_metadata_and_shapes(env_id):
    env = make_vector(env_id, 3)
    single = gym.make(env_id, **SHORT_EPISODES.get(env_id, {}))
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space == batch_space(single.observation_space, 3)
    assert env.action_space == batch_space(single.action_space, 3)
    observations, _ = env.reset(seed=0)
    assert observations in env.observation_space
    observations, rewards, terminated, truncated, _ = env.step(env.action_space.sample())
    assert observations in env.observation_space
    assert rewards.shape == terminated.shape == truncated.shape == (3,)
    assert terminated.dtype == truncated.dtype == np.bool_


@pytest.mark.parametrize("num_envs", [1, 5])
def test_same_trajectory_as_sync_vector_env(env_id, num_envs):
    if env_id not in EXACT_IDS:
        pytest.skip(f"{env_id}'s vector env matches its single env in distribution only")
    native = make_vector(env_id, num_envs)
    sync = make_vector(env_id, num_envs, vectorization="sync")
    first_native, _ = native.reset(seed=7)
    first_sync, _ = sync.reset(seed=7)
    assert np.array_equal(first_native, first_sync)
    ended = 0
    for actions in random_actions(sync, 7, 300):
        a = native.step(actions)
        b = sync.step(actions)
        for x, y in zip(a[:4], b[:4]):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        masked_equal(a[4], b[4])
        ended += int(b[3].sum())
    assert ended >= num_envs  # the comparison crossed autoresets


def test_same_seed_same_trajectory(env_id):
    one, two = make_vector(env_id, 4), make_vector(env_id, 4)
    assert np.array_equal(one.reset(seed=3)[0], two.reset(seed=3)[0])
    for actions in random_actions(one, 3, 120):
        a, b = one.step(actions), two.step(actions)
        for x, y in zip(a[:4], b[:4]):
            assert np.array_equal(x, y)
    other = make_vector(env_id, 4)
    assert not np.array_equal(other.reset(seed=4)[0], one.reset(seed=3)[0])


def test_observations_stay_in_space_across_autoresets(env_id):
    env = make_vector(env_id, 8)
    env.reset(seed=1)
    for actions in random_actions(env, 1, 200):
        observations, rewards, _, _, _ = env.step(actions)
        assert observations in env.observation_space
        assert np.isfinite(rewards).all()


def test_next_step_autoreset(env_id):
    env = make_vector(env_id, 4)
    env.reset(seed=2)
    actions = random_actions(env, 2, 400)
    for k, action in enumerate(actions):
        _, _, terminated, truncated, info = env.step(action)
        ended = terminated | truncated
        if ended.any():
            assert info["_episode_metrics"][ended].all()
            observations, rewards, terminated, truncated, _ = env.step(actions[k + 1])
            assert (rewards[ended] == 0.0).all()
            assert not (terminated[ended] | truncated[ended]).any()
            assert observations in env.observation_space
            return
    pytest.fail("no episode ended in 400 steps")


def test_domain_metrics_match_the_single_env_in_distribution(env_id):
    episodes, metric = 96, METRIC[env_id]
    vector = make_vector(env_id, episodes)
    vector.reset(seed=0)
    ended = np.zeros(episodes, dtype=bool)
    vector_values = np.zeros(episodes)
    vector.action_space.seed(0)
    while not ended.all():
        _, _, terminated, truncated, info = vector.step(vector.action_space.sample())
        done = (terminated | truncated) & ~ended
        if not done.any():
            continue
        vector_values[done] = info["episode_metrics"][metric][done]
        ended |= done
    single = gym.make(env_id, **SHORT_EPISODES.get(env_id, {}))
    single.action_space.seed(0)
    single_values = []
    for seed in range(100_000, 100_000 + episodes):
        single.reset(seed=seed)
        while True:
            _, _, terminated, truncated, info = single.step(single.action_space.sample())
            if terminated or truncated:
                single_values.append(info["episode_metrics"][metric])
                break
    single_values = np.array(single_values)
    # the two 95% confidence intervals of the mean overlap
    half_widths = [1.96 * v.std(ddof=1) / np.sqrt(episodes) for v in (vector_values, single_values)]
    assert abs(vector_values.mean() - single_values.mean()) < sum(half_widths)
    assert vector_values.mean() > 0.0


def test_out_of_range_actions_are_named(env_id):
    env = make_vector(env_id, 2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0, env.single_action_space.n]))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"load": 1.5, "allow_overload": True, "episode_length": 300},  # queues past 16
        {"mode": "feedback", "drift": "slowdown", "episode_length": 60},
        {"drift": "failures", "arrival_amplitude": 0.5, "size_distribution": "pareto"},
    ],
)
def test_loadbalancing_configurations_match_sync_vector_env(kwargs):
    native = make_vector("opsgym/LoadBalancing-v0", 3, **kwargs)
    sync = make_vector("opsgym/LoadBalancing-v0", 3, vectorization="sync", **kwargs)
    assert np.array_equal(native.reset(seed=11)[0], sync.reset(seed=11)[0])
    for actions in random_actions(sync, 11, 400):
        a, b = native.step(actions), sync.step(actions)
        for x, y in zip(a[:4], b[:4]):
            assert np.array_equal(x, y)
        masked_equal(a[4], b[4])
    assert native.unwrapped._capacity > 16 or kwargs.get("load", 0) < 1

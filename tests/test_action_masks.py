"""Action masks as their two readers take them: ``info["action_mask"]`` as int8 for
Gymnasium's ``action_space.sample(mask=...)``, ``action_masks()`` as booleans for
sb3-contrib's MaskablePPO; swept over every registered id that masks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs


def _masks(env_id: str) -> bool:
    _, info = gym.make(env_id).reset(seed=0)
    return "action_mask" in info


MASKING_IDS = [env_id for env_id in opsgym.envs.opsgym_ids() if _masks(env_id)]
VECTOR_MASKING_IDS = [env_id for env_id in MASKING_IDS if gym.spec(env_id).vector_entry_point]
# configurations where the mask restricts: every pair of Abilene has 4 paths, not 8
RESTRICTING = {"opsgym/Routing-v1": {"k_paths": 8}}


def test_the_sweep_finds_the_masking_envs():
    assert {
        "opsgym/ResourceAllocation-v0",
        "opsgym/Routing-v1",
        "opsgym/CachingPrefetch-v0",
    } <= set(MASKING_IDS)


class ValidActionsOnly(gym.Wrapper):
    """Counts the steps, and fails on an action its ``action_masks()`` marks invalid."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps = 0

    def step(self, action):
        valid = self.env.unwrapped.action_masks()
        assert valid[int(action)], f"invalid action {action} under mask {valid}"
        self.steps += 1
        return self.env.step(action)


@pytest.mark.parametrize("env_id", MASKING_IDS)
def test_masked_sampling_takes_only_valid_actions(env_id):
    env = ValidActionsOnly(gym.make(env_id, **RESTRICTING.get(env_id, {})))
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    sampled = set()
    restricted = 0
    for _ in range(500):
        mask = info["action_mask"]
        assert mask.dtype == np.int8 and mask.shape == (env.action_space.n,)
        valid = env.unwrapped.action_masks()
        assert valid.dtype == np.bool_ and np.array_equal(mask, valid.astype(np.int8))
        restricted += int(not valid.all())
        action = int(env.action_space.sample(mask=mask))
        sampled.add(action)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset()
    assert restricted > 0  # the sweep saw states where the mask matters
    assert len(sampled) > 1


@pytest.mark.parametrize("env_id", VECTOR_MASKING_IDS)
def test_vector_infos_carry_int8_masks_that_sample_valid_actions(env_id):
    env = gym.make_vec(
        env_id, num_envs=3, vectorization_mode="vector_entry_point", **RESTRICTING.get(env_id, {})
    )
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    restricted = 0
    for _ in range(100):
        masks = info["action_mask"]
        assert masks.dtype == np.int8 and masks.shape == (3, env.single_action_space.n)
        restricted += int((masks == 0).any())
        actions = env.action_space.sample(mask=tuple(masks))
        assert all(masks[i, a] == 1 for i, a in enumerate(actions))
        _, _, _, _, info = env.step(actions)
    assert restricted > 0


@pytest.mark.parametrize("env_id", MASKING_IDS)
def test_maskable_ppo_trains_on_the_masks_and_never_takes_an_invalid_action(env_id):
    sb3_contrib = pytest.importorskip("sb3_contrib")
    from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported

    env = ValidActionsOnly(gym.make(env_id, **RESTRICTING.get(env_id, {})))
    assert is_masking_supported(env)
    env.reset(seed=0)
    assert get_action_masks(env).dtype == np.bool_
    model = sb3_contrib.MaskablePPO(
        "MlpPolicy",
        env,
        n_steps=64,
        batch_size=64,
        n_epochs=2,
        policy_kwargs={"net_arch": [32]},
        seed=0,
    )
    model.learn(total_timesteps=256)
    assert env.steps >= 256

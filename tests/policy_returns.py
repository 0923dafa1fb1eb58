"""The reference policies of an environment, scored as its tests compare them."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from opsgym.baselines import make_policy, policy_names
from opsgym.train.runner import run_episode


def reference_returns(env_id: str, env_kwargs: dict, seeds=range(3)) -> dict[str, float]:
    """Each reference policy of ``env_id`` configured by ``env_kwargs`` (built with seed 0):
    its mean return over the episodes seeded ``seeds``."""
    env = gym.make(env_id, **env_kwargs)
    return {
        name: float(
            np.mean([run_episode(env, make_policy(env, name, 0), s).episode_return for s in seeds])
        )
        for name in policy_names(env)
    }

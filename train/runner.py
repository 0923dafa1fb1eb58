"""Running a policy through episodes: the one evaluation path every policy shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym

from opsgym.agents.protocol import MaskAwareCaller, Policy
from opsgym.envs import make_kwargs, registered_ids

# Evaluation seeds live far from the small integers used for training, so a policy is
# never evaluated on an episode it trained on.
EVALUATION_SEED_OFFSET = 1_000_000


# Validation seeds score tuning trials: between the training seeds (small integers) and
# the evaluation seeds (from EVALUATION_SEED_OFFSET up), so that hyperparameters are never
# chosen on the episodes that the benchmark and ``opsgym train`` report.
VALIDATION_SEED_OFFSET = 500_000


def evaluation_seeds(seed: int, episodes: int) -> list[int]:
    """The episode seeds of an evaluation with base ``seed``: disjoint from training seeds."""
    return [EVALUATION_SEED_OFFSET + seed * 10_000 + i for i in range(episodes)]


def validation_seeds(episodes: int) -> list[int]:
    """The episode seeds that score tuning trials: disjoint from training and evaluation seeds.

    Raises:
        ValueError: so many episodes that they would reach the evaluation seeds.
    """
    if not 1 <= episodes <= EVALUATION_SEED_OFFSET - VALIDATION_SEED_OFFSET:
        raise ValueError(f"validation episodes must be between 1 and 500,000, got {episodes}")
    return [VALIDATION_SEED_OFFSET + i for i in range(episodes)]


@dataclass
class EpisodeResult:
    """What one episode produced: its return, its length and the env's domain metrics."""

    episode_return: float
    length: int
    metrics: dict[str, float] = field(default_factory=dict)


def is_online(policy: Policy) -> bool:
    """Whether ``policy`` keeps learning while it serves (bandits do)."""
    return bool(getattr(policy, "online", False))


def run_episode(env: gym.Env, policy: Policy, seed: int, learn: bool = False) -> EpisodeResult:
    """Run ``policy`` for one episode of ``env`` seeded with ``seed``.

    With ``learn=True`` the policy's ``update`` sees every transition, as an online
    learner in production keeps learning while it serves. The domain metrics are the
    ``info["episode_metrics"]`` the env reports on its last step.
    """
    caller = MaskAwareCaller(policy)
    observation, info = env.reset(seed=seed)
    total, length = 0.0, 0
    while True:
        action = caller.act(observation, info)
        next_observation, reward, terminated, truncated, info = env.step(action)
        if learn:
            caller.update(observation, action, float(reward), next_observation, terminated, info)
        observation = next_observation
        total += float(reward)
        length += 1
        if terminated or truncated:
            return EpisodeResult(total, length, dict(info.get("episode_metrics", {})))


def make_env(env_id: str, env_kwargs: dict | None = None) -> gym.Env:
    """``gymnasium.make`` an opsgym id, with errors that list what would have been valid.

    Raises:
        ValueError: the id is not a registered opsgym environment.
        TypeError: a keyword is not one of the environment's arguments (the environment's
            configuration lists the valid ones).
    """
    ids = registered_ids()
    if env_id not in ids:
        raise ValueError(f"unknown environment {env_id!r}; choose from {ids}")
    return gym.make(env_id, **make_kwargs(env_id, env_kwargs))

"""Cold start: what a learner gives up while it learns, against a reference on the same steps.

A learner records the rewards of its first N training steps in its run folder
(:data:`COLD_START_FILE`). The reference then plays the same N steps: the same
environment configuration and the same episode seeds, reset the way training reset
them. Hand-written agents reset episode i with seed ``seed + i``; an SB3 vector env
seeds its first env with ``seed`` once and lets later resets continue that env's
generator, and its first env is the one recorded: with n envs in parallel, a budget of B
steps records at most B/n of them, over which the learner trained on all B. What the two share is the world's
randomness (arrivals, request sizes, object requests, failures); the states differ,
because each policy's actions move queues and caches its own way.

The cold-start regret is the reference's total reward minus the learner's over those
steps (positive: the learner lost reward while learning). The reference is the oracle
where the environment has one, and otherwise the reference heuristic with the highest
total over those same steps (the best in hindsight); the record names which. Most
oracles are per-step policies with privileged knowledge (Belady's MIN, a perfect-foresight
schedule), not a bound on every step, so a regret can be negative.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np

from opsgym.agents.atomic import write_text
from opsgym.agents.protocol import MaskAwareCaller, Policy
from opsgym.agents.schema import read_json
from opsgym.baselines import make_policy, policy_names
from opsgym.train.runner import is_online, make_env

COLD_START_FILE = "cold_start.json"


def write_rewards(folder: str | Path, rewards: list[float], reseed_episodes: bool) -> None:
    """Save the first training rewards and how training reset its episodes."""
    data = {"rewards": [float(r) for r in rewards], "reseed_episodes": reseed_episodes}
    write_text(Path(folder) / COLD_START_FILE, json.dumps(data) + "\n")


def read_rewards(folder: str | Path) -> tuple[list[float], bool]:
    """The rewards :func:`write_rewards` saved, and whether episodes were reseeded."""
    file = Path(folder) / COLD_START_FILE
    if not file.is_file():
        raise ValueError(f"{folder}: no {COLD_START_FILE}; train with cold_start_steps > 0")
    data = read_json(file, {"rewards": [float], "reseed_episodes": bool})
    return [float(r) for r in data["rewards"]], data["reseed_episodes"]


def rollout_rewards(
    env: gym.Env, policy: Policy, seed: int, steps: int, reseed_episodes: bool
) -> list[float]:
    """The rewards of ``policy`` over ``steps`` steps of the training stream of ``seed``.

    Episode i starts with ``reset(seed=seed + i)`` if ``reseed_episodes``, else only the
    first reset is seeded. An online policy learns as it goes, as it did in training.
    """
    caller = MaskAwareCaller(policy)
    learn = is_online(policy)
    observation, info = env.reset(seed=seed)
    rewards, episode = [], 0
    while len(rewards) < steps:
        action = caller.act(observation, info)
        next_observation, reward, terminated, truncated, info = env.step(action)
        if learn:
            caller.update(observation, action, float(reward), next_observation, terminated, info)
        rewards.append(float(reward))
        observation = next_observation
        if terminated or truncated:
            episode += 1
            observation, info = env.reset(seed=seed + episode if reseed_episodes else None)
    return rewards


def reference_rewards(
    env_id: str, env_kwargs: dict, seed: int, steps: int, reseed_episodes: bool
) -> tuple[str, list[float]]:
    """The reference's name and its rewards over the same steps (see the module doc)."""
    env = make_env(env_id, env_kwargs)
    names = policy_names(env)
    candidates = ["oracle"] if "oracle" in names else [n for n in names if n != "random"]
    best_name, best = "", []
    for name in candidates:
        rewards = rollout_rewards(
            env, make_policy(env, name, seed=seed), seed, steps, reseed_episodes
        )
        if not best_name or sum(rewards) > sum(best):
            best_name, best = name, rewards
    env.close()
    label = best_name if best_name == "oracle" else f"best heuristic ({best_name})"
    return label, best


def cold_start_regret(learner: list[float], reference: list[float]) -> float:
    """The reference's total reward minus the learner's, over the same steps."""
    if len(learner) != len(reference):
        raise ValueError(
            f"the learner has {len(learner)} rewards and the reference {len(reference)}: "
            "a regret compares the same steps"
        )
    return float(np.sum(reference) - np.sum(learner))

"""Raw environment speed, as a ratio to Gymnasium's CartPole-v1 measured in the same run.

This machine's speed drifts from minute to minute, so absolute steps per second mean
little; the ratio to CartPole, measured interleaved in the same process, is what to
compare. Both environments go through ``gymnasium.make`` with its default wrappers, with
random actions drawn before the clock starts.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from opsgym.train.runner import make_env

REFERENCE_ID = "CartPole-v1"


@dataclass
class Throughput:
    """Steps and resets per second of one environment."""

    steps_per_second: float
    resets_per_second: float


def measure(env: gym.Env, steps: int, resets: int = 500, seed: int = 0) -> Throughput:
    """Time ``steps`` random steps of ``env``, then ``resets`` resets.

    Steps are timed apart from the resets between episodes, so the step rate does not
    depend on how often a random policy ends an episode.
    """
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    step_time = 0.0
    taken = episode = 0
    while taken < steps:
        env.reset(seed=seed + episode)
        episode += 1
        start = time.perf_counter()
        while taken < steps:
            _, _, terminated, truncated, _ = env.step(actions[taken])
            taken += 1
            if terminated or truncated:
                break
        step_time += time.perf_counter() - start
    start = time.perf_counter()
    for i in range(resets):
        env.reset(seed=seed + i)
    reset_time = time.perf_counter() - start
    return Throughput(steps / step_time, resets / reset_time)


def compare(env_id: str, steps: int = 20_000, rounds: int = 3, env_kwargs: dict | None = None):
    """Measure ``env_id`` and CartPole-v1 interleaved, ``rounds`` times each.

    Returns:
        A dict with the median steps and resets per second of both, and their ratios.
    """
    env = make_env(env_id, env_kwargs)
    reference = gym.make(REFERENCE_ID)
    ours, theirs = [], []
    for round_index in range(rounds):
        theirs.append(measure(reference, steps, seed=round_index))
        ours.append(measure(env, steps, seed=round_index))
    env.close()
    reference.close()

    def median(results: list[Throughput], attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in results)

    step_ratios = [o.steps_per_second / t.steps_per_second for o, t in zip(ours, theirs)]
    reset_ratios = [o.resets_per_second / t.resets_per_second for o, t in zip(ours, theirs)]
    return {
        "env_steps_per_second": median(ours, "steps_per_second"),
        "env_resets_per_second": median(ours, "resets_per_second"),
        "reference_steps_per_second": median(theirs, "steps_per_second"),
        "reference_resets_per_second": median(theirs, "resets_per_second"),
        "step_ratio": float(np.median(step_ratios)),
        "reset_ratio": float(np.median(reset_ratios)),
    }

"""How much one eviction decision is worth on Caching-v0, against the noise of a return.

From states the rule (``lfu_admission``) reaches on training seeds, every action is tried
on a copy of the environment and the rule plays on for ``HORIZON`` decisions; the
discounted return (PPO's gamma on Caching, 0.98) is each action's value under the rule.
The copies share the future requests (common random numbers), so the differences are the
decisions' own worth. Then the rule's action is replayed from the same state under
``FUTURES`` other futures (the copy's random streams reseeded): their spread is the noise
a Monte Carlo return carries from that state. Prints Markdown.

    python docs/results/caching-credit/measure.py
"""

from __future__ import annotations

import copy
import random

import gymnasium as gym
import numpy as np

import opsgym  # noqa: F401  (registers the ids)
from opsgym.baselines import make_policy

ENV_ID = "opsgym/Caching-v0"
RULE = "lfu_admission"
GAMMA = 0.98
HORIZON = 300  # decisions; 0.98 ** 300 < 0.003
FUTURES = 8
SEEDS = range(4)
FIRST, EVERY, STATES_PER_SEED = 1_000, 100, 50


def rule_return(env, rule, observation) -> float:
    """The discounted return of the rule's play from ``env``'s state, over HORIZON decisions."""
    total = 0.0
    for t in range(HORIZON):
        observation, reward, _, truncated, _ = env.step(rule.act(observation))
        total += GAMMA**t * reward
        if truncated:
            break
    return total


def action_value(env, rule, action: int) -> float:
    probe = copy.deepcopy(env)
    observation, reward, _, truncated, _ = probe.step(action)
    return reward + (0.0 if truncated else GAMMA * rule_return(probe, rule, observation))


def reseeded(env, seed: int):
    """A copy of ``env`` whose future requests and candidate draws come from ``seed``."""
    probe = copy.deepcopy(env)
    probe._stream.rng.bit_generator.state = np.random.PCG64(seed).state
    probe.simulator.rng = random.Random(seed)
    return probe


def measure_state(env, rule, observation, seed: int) -> dict:
    values = np.array([action_value(env, rule, a) for a in range(env.action_space.n)])
    chosen = rule.act(observation)
    others = np.delete(values, chosen)
    futures = [action_value(reseeded(env, seed * 1_000 + f), rule, chosen) for f in range(FUTURES)]
    return {
        "rule_minus_others": values[chosen] - others.mean(),
        "best_minus_rule": values.max() - values[chosen],
        "rule_is_best": values[chosen] >= values.max() - 1e-9,
        "future_spread": float(np.std(futures, ddof=1)),
        "value": values[chosen],
    }


def measure() -> list[dict]:
    rows = []
    for seed in SEEDS:
        env = gym.make(ENV_ID).unwrapped
        rule = make_policy(env, RULE, seed=seed)
        observation, _ = env.reset(seed=seed)
        for decision in range(FIRST + EVERY * STATES_PER_SEED):
            if decision >= FIRST and (decision - FIRST) % EVERY == 0:
                rows.append(measure_state(env, rule, observation, seed * 100 + decision))
            observation, _, _, truncated, _ = env.step(rule.act(observation))
            if truncated:
                break
    return rows


def main() -> None:
    rows = measure()
    column = {key: np.array([r[key] for r in rows], dtype=float) for key in rows[0]}
    gap = column["rule_minus_others"].mean()
    noise = column["future_spread"].mean()
    print(f"{len(rows)} states of {ENV_ID} reached by {RULE} on seeds {list(SEEDS)}; ")
    print(f"gamma {GAMMA}, {HORIZON} decisions per return, {FUTURES} futures per state\n")
    print("| quantity | mean | median |")
    print("|---|---|---|")
    for key, label in (
        ("value", "the rule's discounted return from the state (hits)"),
        ("rule_minus_others", "rule's action minus the mean of the others (same future)"),
        ("best_minus_rule", "best action minus the rule's (same future)"),
        ("future_spread", "std of the rule's return over other futures"),
    ):
        print(f"| {label} | {column[key].mean():.3f} | {np.median(column[key]):.3f} |")
    print(
        f"| states where the rule's action is (one of) the best | {column['rule_is_best'].mean():.2f} | |"
    )
    print(f"\nsignal / noise: {gap / noise:.4f}; returns needed per state to see the rule's")
    print(f"gap at two standard errors: {(2 * noise / gap) ** 2:,.0f}")


if __name__ == "__main__":
    main()

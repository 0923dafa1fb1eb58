"""Hand-written agents that start from the rule: ``<agent>_warm``.

``opsgym train --agent ucb1 --set init_from=default`` (``ucb1_warm`` in the benchmark)
lets the rule (``default``: the id's teacher, :func:`~opsgym.baselines.default_teacher`)
play ``warm_samples`` steps from training seeds ``seed, seed + 1, ...`` (the ones the
agent then trains on; evaluation seeds are never played), and starts the agent from
what it did and earned, before the agent's first step:

- a bandit replays the rule's pulls as if it had made them
  (:meth:`~opsgym.agents.bandits.Bandit.replay`): each arm the rule played starts at its
  mean reward over at most ``warm_pulls`` of its pulls (default :data:`DEFAULT_PULLS`),
  spread over the play, with the count of those pulls as its confidence; the cap keeps
  the bandit free to move away from the rule. An arm the rule played rarely keeps a low
  count, hence a wide UCB bonus or Thompson posterior; an arm it never played keeps no
  estimate and is tried first (UCB, epsilon-greedy), or sampled from the flat prior
  (Thompson). That is optimism only where the rule is unsure. Arms the rule played more
  than ``warm_pulls`` times all start equally sure: the cap hides which of them it
  preferred, and the bandit starts with the one that earned most. The rule's actions usually depend on the state and a
  context-free bandit has none: it takes the rule's marginal play, each arm's average
  over the states in which the rule chose it, which flatters an arm the rule keeps for
  the states where it does well. LinUCB keeps the context: replaying the rule's
  (context, arm, reward) is the ridge regression of each arm's reward on the context.
- a tabular agent's Q-table is filled with the rule's values (:func:`start_table_from_rule`).

The rule's steps are its logs in production: they are not counted in the training budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from opsgym.agents.bandits import Bandit
from opsgym.baselines import make_policy
from opsgym.train.imitation import Dataset, Rollouts
from opsgym.train.runner import make_env
from opsgym.train.warm_start import (
    DEFAULT_SAMPLES,
    discounted_returns,
    require_count,
    resolve_rule,
)

DEFAULT_PULLS = 100  # the most pulls of one arm a bandit replays from the rule's play
KEYS = {"init_from": "init_from", "warm_samples": "samples", "warm_pulls": "pulls"}


@dataclass(frozen=True)
class AgentWarmStart:
    """The ``--set`` keys that start a hand-written agent from the rule."""

    init_from: str
    samples: int  # the rule's steps (warm_samples)
    pulls: int | None = None  # bandits' warm_pulls (None: DEFAULT_PULLS)

    def __post_init__(self) -> None:
        require_count("warm_samples", self.samples, 1)
        if self.pulls is not None:
            require_count("warm_pulls", self.pulls, 1)


def take_agent_warm_start(
    env_id: str, env_kwargs: dict, hyperparams: dict, timesteps: int
) -> AgentWarmStart | None:
    """Remove the rule-start keys from an agent's ``hyperparams`` and read them (None
    without ``init_from``); ``warm_samples`` defaults to the budget, at most 20,000.

    Raises:
        ValueError: a bad value or an unknown rule (naming the key), or a ``warm_*`` key
            without ``init_from``.
    """
    values = {KEYS[key]: hyperparams.pop(key) for key in list(hyperparams) if key in KEYS}
    if not values:
        return None
    if "init_from" not in values:
        named = sorted(key for key, field in KEYS.items() if field in values)
        raise ValueError(f"{named} need --set init_from=<policy>")
    warm = AgentWarmStart(**({"samples": min(DEFAULT_SAMPLES, timesteps)} | values))
    return replace(warm, init_from=resolve_rule(env_id, env_kwargs, warm.init_from, "init_from"))


@dataclass
class RulePlay:
    """The rule's play: each step's observation, action and reward, and whether the step
    ended its episode."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    ends: np.ndarray


def play_rule(env_id: str, env_kwargs: dict, rule: str, seed: int, steps: int) -> RulePlay:
    """``steps`` steps of ``rule``, in episodes from training seeds ``seed, seed + 1, ...``."""
    env = make_env(env_id, env_kwargs)
    rollouts = Rollouts(env, make_policy(env, rule, seed=seed), seed)
    dataset = Dataset()
    rollouts.collect(steps, dataset)
    env.close()
    observations, actions = dataset.arrays()
    return RulePlay(
        observations, actions, np.asarray(rollouts.rewards), np.asarray(rollouts.ends, bool)
    )


def start_agent_from_rule(
    agent, env_id: str, env_kwargs: dict, warm: AgentWarmStart, seed: int
) -> dict:
    """Start ``agent`` (a bandit or a tabular agent) from the rule's play.

    Returns:
        What the run folder's configuration records of it.

    Raises:
        ValueError: an agent that cannot start from the rule, or ``warm_pulls`` for one
            that is not a bandit.
    """
    if not isinstance(agent, Bandit) and not hasattr(agent, "discretize"):
        raise ValueError(
            f"init_from: only bandits and tabular agents start from the rule, not "
            f"{type(agent).__name__}"
        )
    if not isinstance(agent, Bandit) and warm.pulls is not None:
        raise ValueError(
            f"warm_pulls: only bandits replay the rule's pulls, not {type(agent).__name__}"
        )
    play = play_rule(env_id, env_kwargs, warm.init_from, seed, warm.samples)
    if isinstance(agent, Bandit):
        cap = warm.pulls or DEFAULT_PULLS
        replayed = agent.replay(play.observations, play.actions, play.rewards, cap)
        fitted = {"warm_pulls": cap, "replayed_pulls": replayed.tolist()}
    else:
        fitted = start_table_from_rule(agent, play)
    return {"init_from": warm.init_from, "samples": len(play.actions)} | fitted


def start_table_from_rule(agent, play: RulePlay) -> dict:
    """Fill a tabular agent's Q-table with the rule's estimates from its play.

    In every (discretized) state the rule visited, its most frequent action there is
    valued at the mean discounted return that followed the state (the rule's value of
    it); every other action at that value plus ``(1 - 2c)`` standard deviations of all
    returns, where ``c`` is the most frequent action's share: below the rule's choice
    where the rule is sure (``c`` above 1/2), so that the greedy table acts as the rule
    does, and optimistic where it is unsure. The rule's actions count as visits (for a
    1/visits learning rate). States it never visited keep the agent's ``initial_value``.
    """
    returns = discounted_returns(play.rewards, play.ends, agent.gamma)
    spread = float(returns.std())
    counts: dict[int, np.ndarray] = {}
    sums: dict[int, float] = {}
    for observation, action, value in zip(play.observations, play.actions, returns):
        state = agent.discretize(observation)
        if state not in counts:
            counts[state] = np.zeros(agent.n_actions, dtype=np.int64)
            sums[state] = 0.0
        counts[state][action] += 1
        sums[state] += value
    for state, count in counts.items():
        row = agent.values(state)
        value = sums[state] / count.sum()
        certainty = count.max() / count.sum()
        row[:] = value + (1 - 2 * certainty) * spread
        row[int(np.argmax(count))] = value
        agent.visits[state][:] = count
    return {"states": len(counts)}

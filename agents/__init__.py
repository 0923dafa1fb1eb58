"""Hand-written learners: bandits and tabular TD control, by name.

>>> import gymnasium as gym
>>> import opsgym.envs
>>> from opsgym.agents import make_agent
>>> env = gym.make("opsgym/LoadBalancing-v0", mode="feedback")
>>> agent = make_agent("ucb1", env, seed=0)
>>> observation, _ = env.reset(seed=0)
>>> action = agent.act(observation)

Every agent follows :class:`opsgym.agents.protocol.Learner`. Bandits are online
learners (``agent.online``): they keep learning while they serve. Tabular agents train,
then act greedily (``agent.greedy = True``) when evaluated.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym

from opsgym.agents import bandits, tabular
from opsgym.agents.drift import Adwin, DriftResetLearner, PageHinkley
from opsgym.agents.protocol import Learner


def _arms(env: gym.Env) -> int:
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(f"hand-written agents need a Discrete action space, got {space}")
    return int(space.n)


def _bandit(cls, **defaults) -> Callable[..., Learner]:
    def build(env, seed=None, **kwargs):
        return cls(_arms(env), seed=seed, **(defaults | kwargs))

    return build


def _tabular(cls, **defaults) -> Callable[..., Learner]:
    def build(env, seed=None, **kwargs):
        return cls(env.observation_space, _arms(env), seed=seed, **(defaults | kwargs))

    return build


def _linucb(env, seed=None, **kwargs):
    dim = int(gym.spaces.flatdim(env.observation_space))
    return bandits.LinUCB(_arms(env), dim, seed=seed, **kwargs)


def _ucb_with_drift_reset(env, seed=None, threshold: float = 50.0, delta: float = 0.005, **kw):
    return DriftResetLearner(
        lambda: bandits.UCB1(_arms(env), seed=seed, **kw), PageHinkley(delta, threshold)
    )


def _ucb_with_adwin(env, seed=None, delta: float = 0.002, max_window: int = 2000, **kw):
    return DriftResetLearner(
        lambda: bandits.UCB1(_arms(env), seed=seed, **kw), Adwin(delta, max_window)
    )


# agents built around another one, by that agent's name: they take its tuned
# hyperparameters (baselines/hyperparams/agents.yml), so that what they add is compared
# at equal settings
WRAPS = {"ucb1_drift_reset": "ucb1", "ucb1_adwin": "ucb1"}

AGENTS: dict[str, Callable[..., Learner]] = {
    "epsilon_greedy": _bandit(bandits.EpsilonGreedy, epsilon=0.1),
    "epsilon_greedy_decay": _bandit(bandits.EpsilonGreedy, epsilon=1.0, decay=50.0),
    "ucb1": _bandit(bandits.UCB1),
    "thompson_beta": _bandit(bandits.ThompsonBernoulli),
    "thompson_gaussian": _bandit(bandits.ThompsonGaussian),
    "sw_ucb": _bandit(bandits.SlidingWindowUCB, window=500),
    "discounted_ucb": _bandit(bandits.DiscountedUCB, gamma=0.998, c=0.5),
    "exp3": _bandit(bandits.EXP3, gamma=0.1),
    "linucb": _linucb,
    "ucb1_drift_reset": _ucb_with_drift_reset,
    "ucb1_adwin": _ucb_with_adwin,
    "q_learning": _tabular(tabular.QLearning, bins=3, gamma=0.9),
    "q_learning_visits": _tabular(
        tabular.QLearning, bins=3, gamma=0.9, learning_rate={"kind": "visits", "start": 1.0}
    ),
    "sarsa": _tabular(tabular.SARSA, bins=3, gamma=0.9),
    "expected_sarsa": _tabular(tabular.ExpectedSARSA, bins=3, gamma=0.9),
}


def agent_names() -> list[str]:
    """Every hand-written agent's name."""
    return list(AGENTS)


def make_agent(name: str, env: gym.Env, seed: int | None = None, **kwargs) -> Learner:
    """Build the agent ``name`` for ``env``; ``kwargs`` override its hyperparameters.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or bad arguments.
    """
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; choose from {agent_names()}")
    try:
        return AGENTS[name](env, seed, **kwargs)
    except TypeError as error:
        raise ValueError(f"bad arguments for agent {name!r}: {error}") from error

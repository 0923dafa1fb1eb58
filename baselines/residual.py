"""The residual form of a learner: the rule acts unless the learner chooses to deviate.

:class:`ResidualEnv` wraps an environment with ``n`` actions into one with ``n + 1``:
actions ``0 .. n-1`` are the environment's own, and action ``n`` ("follow") does what
the rule does in that state. The observation is the environment's with the rule's
proposed action appended as a one-hot vector, so a learner can tell when a deviation
differs from the rule. A policy that always chooses "follow" is the rule, step for step;
doing nothing new is the default a residual learner has to beat. Any SB3 algorithm
trains on it unchanged; the "follow" action is always valid, the others as the
environment's ``action_mask`` says (MaskablePPO reads the extended mask).

:class:`ResidualPolicy` plays a learner trained on the wrapper in the plain environment,
so that evaluation and the benchmark run it like any other policy.

The rule is built once per wrapped instance and sees every state in order, as it would
serving; a rule that learns online (a bandit) learns from what was actually done.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env

from opsgym.agents.protocol import MaskAwareCaller, Policy
from opsgym.baselines import make_policy
from opsgym.baselines.vec_env import MAKE_VEC_ENV, TrainingEnv


def residual_spaces(env: gym.Env) -> tuple[gym.spaces.Box, gym.spaces.Discrete]:
    """The observation and action spaces of ``env`` in the residual form."""
    space = env.observation_space
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(f"residual: needs a Discrete action space, got {env.action_space}")
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"residual: needs a flat Box observation space, got {space}")
    actions = int(env.action_space.n)
    observation_space = gym.spaces.Box(
        np.concatenate([space.low, np.zeros(actions, dtype=space.dtype)]),
        np.concatenate([space.high, np.ones(actions, dtype=space.dtype)]),
        dtype=space.dtype,
    )
    return observation_space, gym.spaces.Discrete(actions + 1)


class RuleProposals:
    """The rule's proposed action per state, and how a residual choice resolves.

    Shared by the wrapper (training) and the policy (evaluation), so both see the same
    observations and resolve the same choices.
    """

    def __init__(self, rule: Policy, actions: int) -> None:
        self.rule = MaskAwareCaller(rule)
        self.online = bool(getattr(rule, "online", False))
        self.actions = actions
        self.proposal = 0

    def observe(self, observation: np.ndarray, info: dict) -> np.ndarray:
        """Ask the rule for its action; return the observation with it appended."""
        self.proposal = int(self.rule.act(observation, info))
        one_hot = np.zeros(self.actions, dtype=observation.dtype)
        one_hot[self.proposal] = 1
        return np.concatenate([observation, one_hot])

    def resolve(self, choice: int) -> int:
        """The environment's action for a residual ``choice``."""
        choice = int(choice)
        if not 0 <= choice <= self.actions:
            raise ValueError(f"action: expected 0..{self.actions} (the last follows the rule)")
        return self.proposal if choice == self.actions else choice

    def learn(self, observation, action, reward, next_observation, terminated, info) -> None:
        """Let an online rule learn from what was done."""
        if self.online:
            self.rule.update(observation, action, reward, next_observation, terminated, info)

    def extend_mask(self, mask: np.ndarray | None) -> np.ndarray | None:
        """The environment's action mask with the always-valid "follow" action added."""
        if mask is None:
            return None
        return np.append(np.asarray(mask, dtype=np.int8), np.int8(1))


class ResidualEnv(gym.Wrapper):
    """``env`` with the extra action "follow the rule" (see the module docstring).

    Args:
        env: a single environment with Discrete actions and flat Box observations.
        rule: the name of one of its reference policies.
        seed: the rule's seed.
    """

    def __init__(self, env: gym.Env, rule: str, seed: int | None = None) -> None:
        super().__init__(env)
        self.observation_space, self.action_space = residual_spaces(env)
        self.proposals = RuleProposals(make_policy(env, rule, seed=seed), int(env.action_space.n))
        self.rule_name = rule
        self._observation: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self._observation = observation
        return self.proposals.observe(observation, info), self._extend(info)

    def step(self, action):
        executed = self.proposals.resolve(action)
        observation, reward, terminated, truncated, info = self.env.step(executed)
        self.proposals.learn(
            self._observation, executed, float(reward), observation, terminated, info
        )
        self._observation = observation
        residual_observation = self.proposals.observe(observation, info)
        return residual_observation, reward, terminated, truncated, self._extend(info)

    def _extend(self, info: dict) -> dict:
        if "action_mask" not in info:
            return info
        return info | {"action_mask": self.proposals.extend_mask(info["action_mask"])}

    def action_masks(self) -> np.ndarray:
        """The environment's valid actions, and "follow" (always valid)."""
        inner = getattr(self.env.unwrapped, "action_masks", None)
        mask = inner() if inner is not None else np.ones(self.proposals.actions, dtype=np.int8)
        return self.proposals.extend_mask(mask)


class ResidualPolicy:
    """A learner trained on :class:`ResidualEnv`, playing the plain environment.

    Args:
        learner: the trained policy; it acts on residual observations.
        rule: a fresh instance of the rule it was trained with.
        actions: the number of the environment's own actions.
    """

    def __init__(self, learner: Policy, rule: Policy, actions: int) -> None:
        self.learner = MaskAwareCaller(learner)
        self.proposals = RuleProposals(rule, actions)
        self.online = self.proposals.online

    def act(self, observation: np.ndarray, action_mask: np.ndarray | None = None) -> int:
        info: dict[str, Any] = {} if action_mask is None else {"action_mask": action_mask}
        residual = self.proposals.observe(np.asarray(observation), info)
        extended = self.proposals.extend_mask(action_mask)
        choice = self.learner.act(residual, {} if extended is None else {"action_mask": extended})
        return self.proposals.resolve(choice)

    def update(
        self, observation, action, reward, next_observation, terminated, next_action_mask=None
    ) -> None:
        info = {} if next_action_mask is None else {"action_mask": next_action_mask}
        self.proposals.learn(observation, action, reward, next_observation, terminated, info)


def residual_training_env(
    env_id: str, n_envs: int, seed: int | None, env_kwargs: dict, rule: str
) -> TrainingEnv:
    """``n_envs`` residual instances for SB3 (the rule runs per instance, in Python)."""
    venv = make_vec_env(
        env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"render_mode": None, **env_kwargs},
        wrapper_class=ResidualEnv,
        wrapper_kwargs={"rule": rule, "seed": seed},
    )
    return TrainingEnv(venv, MAKE_VEC_ENV, "the residual form runs the rule in every instance")


def residual_policy(learner: Policy, env: gym.Env, rule: str, seed: int | None) -> ResidualPolicy:
    """``learner``, trained on ``ResidualEnv(env, rule)``, playing ``env`` with a fresh rule."""
    return ResidualPolicy(learner, make_policy(env, rule, seed=seed), int(env.action_space.n))

"""The one protocol every opsgym policy follows.

Heuristics, hand-written learners, wrapped SB3 models and oracles are all driven by the
same runner through these methods. They are structural (``typing.Protocol``): anything
with the right methods is a policy, without importing this module.

Environments with invalid actions (ResourceAllocation, Routing) put the valid ones in
``info["action_mask"]``. A policy whose ``act`` takes an ``action_mask`` keyword gets that
mask and chooses among the valid actions only (the invalid action masking of Huang and
Ontañón, "A closer look at invalid action masking in policy gradient algorithms", 2022);
a learner whose ``update`` takes ``next_action_mask`` gets the next state's mask, so that
it bootstraps on valid actions only. :class:`MaskAwareCaller` is how runners call both.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """Anything that maps an observation to an action."""

    def act(self, observation: Any) -> int:
        """Return the action to take for ``observation``."""
        ...


@runtime_checkable
class Learner(Policy, Protocol):
    """A policy that improves from experience and can be checkpointed safely.

    Checkpoints are numpy ``.npz`` arrays with a JSON header, never pickle.
    """

    def update(
        self,
        observation: Any,
        action: int,
        reward: float,
        next_observation: Any,
        terminated: bool,
    ) -> None:
        """Learn from one transition."""
        ...

    def save(self, path: str | Path) -> None:
        """Write the learner's state to ``path``."""
        ...

    def load(self, path: str | Path) -> None:
        """Restore the learner's state from ``path``."""
        ...


def _takes(method: Any, keyword: str) -> bool:
    return method is not None and keyword in inspect.signature(method).parameters


def _mask(info: dict) -> np.ndarray | None:
    mask = info.get("action_mask")
    return None if mask is None else np.asarray(mask, dtype=bool)


class MaskAwareCaller:
    """Calls a policy's ``act`` and ``update`` with the env's action masks where they
    take them, and without where they do not.

    Args:
        policy: any policy; ``update`` is only needed if :meth:`update` is called.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.masked_act = _takes(policy.act, "action_mask")
        self.masked_update = _takes(getattr(policy, "update", None), "next_action_mask")

    def act(self, observation: Any, info: dict) -> int:
        """The policy's action for ``observation``; ``info`` is the step's (or reset's)."""
        if self.masked_act:
            return self.policy.act(observation, action_mask=_mask(info))
        return self.policy.act(observation)

    def update(
        self,
        observation: Any,
        action: int,
        reward: float,
        next_observation: Any,
        terminated: bool,
        next_info: dict,
    ) -> None:
        """Feed one transition to the policy; ``next_info`` is the step's ``info``."""
        if self.masked_update:
            self.policy.update(
                observation,
                action,
                reward,
                next_observation,
                terminated,
                next_action_mask=_mask(next_info),
            )
        else:
            self.policy.update(observation, action, reward, next_observation, terminated)

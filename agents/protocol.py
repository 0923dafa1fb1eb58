"""The one protocol every opsgym policy follows.

Heuristics, hand-written learners, wrapped SB3 models and oracles are all driven by the
same runner through these methods. They are structural (``typing.Protocol``): anything
with the right methods is a policy, without importing this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable


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

"""Hand-written learning agents and the policy protocol they share."""

from opsgym.agents.protocol import Learner, Policy

__all__ = ["Learner", "Policy"]

"""Rewards on the scale of the problem, mapped to what a bandit expects.

Bandit theory mostly assumes rewards in [0, 1]; opsgym rewards are latencies, costs and
hit counts. :class:`RewardScaler` maps them into [0, 1] either with a range the user
states (exact, and what the regret bounds need) or, when none is given, with the range
observed so far (adaptive, a heuristic, documented as such).

The map is affine, so a mean of rewards maps as the rewards do: a learner that keeps raw
means and maps them when it decides (:meth:`RewardScaler.normalize`) weighs every past
reward on the range known now. One that needs each reward in [0, 1] as it arrives (a
Bernoulli draw, an importance weight) calls the scaler itself; under an adaptive range
its first rewards are then mapped with a narrower range than later ones.
"""

from __future__ import annotations

import math

import numpy as np


class RewardScaler:
    """Map rewards into [0, 1].

    Args:
        reward_range: ``(low, high)`` when the rewards' range is known; ``None`` to use
            the smallest and largest reward seen so far.
    """

    def __init__(self, reward_range: tuple[float, float] | None = None) -> None:
        if reward_range is not None:
            low, high = (float(x) for x in reward_range)
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(
                    f"reward_range must be finite with low < high, got {reward_range!r}"
                )
            self.low, self.high, self.fixed = low, high, True
        else:
            self.low, self.high, self.fixed = math.inf, -math.inf, False

    def observe(self, reward: float) -> float:
        """Widen an adaptive range to hold ``reward``; return the reward as a mean should
        count it (clipped to a stated range)."""
        if self.fixed:
            return min(self.high, max(self.low, reward))
        self.low = min(self.low, reward)
        self.high = max(self.high, reward)
        return reward

    def normalize(self, value):
        """A reward or a mean of rewards (or an array of them) mapped into [0, 1] by the
        range so far; 0.5 while the range holds a single value."""
        if self.high <= self.low:
            return np.full(np.shape(value), 0.5)[()]
        return np.clip((np.asarray(value, dtype=float) - self.low) / (self.high - self.low), 0, 1)

    def __call__(self, reward: float) -> float:
        """Observe ``reward`` and return it mapped into [0, 1]."""
        return float(self.normalize(self.observe(reward)))

    def state(self) -> dict:
        return {"low": self.low, "high": self.high, "fixed": self.fixed}

    def restore(self, state: dict) -> None:
        self.low, self.high, self.fixed = state["low"], state["high"], state["fixed"]

"""Rewards on the scale of the problem, mapped to what a bandit expects.

Bandit theory mostly assumes rewards in [0, 1]; opsgym rewards are latencies, costs and
hit counts. :class:`RewardScaler` maps them into [0, 1] either with a range the user
states (exact, and what the regret bounds need) or, when none is given, with the range
observed so far (adaptive: early rewards are rescaled as the range widens, so it is a
heuristic, documented as such).
"""

from __future__ import annotations

import math


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

    def __call__(self, reward: float) -> float:
        if not self.fixed:
            self.low = min(self.low, reward)
            self.high = max(self.high, reward)
        if self.high <= self.low:
            return 0.5
        return min(1.0, max(0.0, (reward - self.low) / (self.high - self.low)))

    def state(self) -> dict:
        return {"low": self.low, "high": self.high, "fixed": self.fixed}

    def restore(self, state: dict) -> None:
        self.low, self.high, self.fixed = state["low"], state["high"], state["fixed"]

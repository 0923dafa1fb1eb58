"""Drift schedules: when a change of the world begins and how fast it takes over.

Every environment with a ``drift`` argument draws the start of its change with
:func:`drift_start` and, with ``drift_ramp`` > 0, phases it in linearly over that many
steps (gradual drift) instead of at once (abrupt drift, ``drift_ramp=0``), a field each
configuration declares with :func:`ramp_setting`. A changed
*parameter* (a service rate, a load level) is interpolated by :func:`ramp_fraction`; a
changed *distribution* (popularity, traffic endpoints) becomes a mixture in which each
draw comes from the new distribution with that fraction's probability (:func:`mix`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core.config import When, setting
from opsgym.envs.core.kinds import Integer


def drift_start(rng: np.random.Generator, steps: int) -> int:
    """A step drawn uniformly from the middle half of an episode of ``steps`` steps."""
    quarter = steps // 4
    return int(rng.integers(quarter, max(quarter + 1, 3 * steps // 4)))


def ramp_fraction(step, start: int, ramp: int):
    """The fraction of the change in effect at ``step`` (a number or an array).

    0 before ``start``; with ``ramp`` = 0 (abrupt), 1 from ``start`` on; otherwise
    ``(step - start + 1) / ramp``, reaching 1 at step ``start + ramp - 1``.
    """
    if isinstance(step, (int, float)):  # one step, as envs ask every step: plain floats
        return min(max((float(step) - start + 1.0) / max(ramp, 1), 0.0), 1.0)
    return np.clip((np.asarray(step, dtype=np.float64) - start + 1.0) / max(ramp, 1), 0.0, 1.0)


def mix(rng: np.random.Generator, old: np.ndarray, new: np.ndarray, fraction) -> np.ndarray:
    """Per element, ``new`` with probability ``fraction``, else ``old``.

    Random numbers are drawn only where the fraction is strictly between 0 and 1, so an
    abrupt schedule consumes none and leaves the rest of the episode's draws unchanged.
    """
    fraction = np.broadcast_to(np.asarray(fraction, dtype=np.float64), np.shape(old))
    take_new = fraction >= 1.0
    partial = (fraction > 0.0) & (fraction < 1.0)
    if partial.any():
        take_new = take_new.copy()
        take_new[partial] = rng.random(int(partial.sum())) < fraction[partial]
    return np.where(take_new, new, old)


def interpolate(old: float, new: float, fraction):
    """The value ``fraction`` of the way from ``old`` to ``new``; exactly ``new`` at 1.

    ``fraction`` is a number or an array (then so is the value).
    """
    if isinstance(fraction, (int, float)):
        return new if fraction >= 1.0 else old + fraction * (new - old)
    return np.where(fraction >= 1.0, new, old + fraction * (new - old))


def ramp_setting(maximum: int, doc: str, used_when: When | None = None) -> Any:
    """Declare a ``drift_ramp`` field: the steps over which a drift phases in, at most
    ``maximum``; 0, the default, is abrupt. ``doc`` says what the steps are."""
    return setting(0, Integer(0, maximum), f"{doc} (0: abrupt)", used_when)

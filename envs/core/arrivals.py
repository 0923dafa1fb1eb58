"""Arrival processes: Poisson streams, optionally modulated by a periodic rate."""

from __future__ import annotations

import numpy as np


def poisson_arrival_times(
    rng: np.random.Generator,
    count: int,
    rate: float,
    *,
    amplitude: float = 0.0,
    period: float = 1.0,
    phase: float = 0.0,
    start: float = 0.0,
) -> np.ndarray:
    """Draw the first ``count`` arrival times of a (possibly modulated) Poisson process.

    The rate at time t is ``rate * (1 + amplitude * sin(2 pi t / period + phase))``.
    With ``amplitude == 0`` this is a homogeneous Poisson process; otherwise it is drawn
    by thinning (Lewis and Shedler, 1979): candidates arrive at the peak rate and each is
    kept with probability rate(t) / peak rate.

    Args:
        rng: the random generator every draw comes from.
        count: how many arrivals to return.
        rate: the mean arrival rate [arrivals per time unit].
        amplitude: the relative modulation depth, in [0, 1).
        period: the modulation period [time units].
        phase: the modulation phase at t = 0 [radians].
        start: the time the stream continues from; the process is memoryless, so
            drawing in blocks, each starting at the previous block's last arrival,
            gives the same process as one long draw.

    Returns:
        A float64 array of ``count`` increasing arrival times, starting after ``start``.
    """
    if amplitude == 0.0:
        return start + np.cumsum(rng.exponential(1.0 / rate, size=count))
    peak = rate * (1.0 + amplitude)
    kept: list[np.ndarray] = []
    total = 0
    while total < count:
        batch = max(16, int((count - total) * (1.0 + amplitude) * 1.2))
        candidates = start + np.cumsum(rng.exponential(1.0 / peak, size=batch))
        start = float(candidates[-1])
        intensity = rate * (1.0 + amplitude * np.sin(2.0 * np.pi * candidates / period + phase))
        accepted = candidates[rng.random(batch) * peak < intensity]
        kept.append(accepted)
        total += accepted.size
    return np.concatenate(kept)[:count]

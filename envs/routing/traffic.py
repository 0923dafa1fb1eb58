"""Flow workloads: gravity-model endpoints, exponential rates and holding times."""

from __future__ import annotations

import numpy as np


def gravity_pair_probabilities(masses: np.ndarray) -> np.ndarray:
    """P(source i, target j) proportional to m_i * m_j for i != j, flattened row-major.

    The gravity model of traffic matrices (Roughan, "Simplifying the synthesis of Internet
    traffic matrices", ACM CCR 2005, draws the masses from an exponential distribution).
    """
    weights = np.outer(masses, masses)
    np.fill_diagonal(weights, 0.0)
    return (weights / weights.sum()).ravel()


def draw_pairs(rng: np.random.Generator, probabilities: np.ndarray, n: int, count: int):
    """``count`` (source, target) pairs drawn from flattened pair probabilities.

    The same draws as ``rng.choice(n * n, size=count, p=probabilities)`` (inverse CDF of
    ``count`` uniforms), without its checks of ``probabilities``, which cost more here.
    """
    cdf = np.cumsum(probabilities)
    cdf /= cdf[-1]
    flat = cdf.searchsorted(rng.random(count), side="right")
    return flat // n, flat % n


def draw_rates_kbps(rng: np.random.Generator, mean_kbps: float, count: int) -> np.ndarray:
    """Exponential flow rates [kbit/s], rounded to whole kbit/s and at least 1."""
    return np.maximum(1, np.rint(rng.exponential(mean_kbps, size=count))).astype(np.int64)

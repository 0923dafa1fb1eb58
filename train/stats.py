"""Summary statistics with confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The sample mean and the half-width of its Student-t confidence interval.

    The half-width is NaN for fewer than two values (no spread to estimate) and 0 for a
    constant sample.
    """
    sample = np.asarray(values, dtype=float)
    if sample.size == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = float(sample.mean())
    if sample.size < 2:
        return mean, math.nan
    sem = float(sample.std(ddof=1)) / math.sqrt(sample.size)
    return mean, float(stats.t.ppf(0.5 + confidence / 2.0, sample.size - 1)) * sem

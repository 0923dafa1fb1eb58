"""Synthetic request load with the daily and weekly rhythm of a business web service.

The load is a deterministic weekly profile (a daily cycle, a weekday business-hours
boost, a lunch peak, quieter weekends) times correlated log-normal noise (an AR(1) in
log space with a 10-minute correlation time, divided by its mean) and occasional flash
crowds. Time 0 is Monday 00:00.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY
NOISE_CORRELATION_TIME = 600.0  # [s] the log-noise forgets its past over about 10 minutes
FLASH_CROWD_RISE = 300.0  # [s] a flash crowd builds up linearly over 5 minutes
FLASH_CROWD_DECAY = 1_800.0  # [s] then decays exponentially with a 30-minute time constant


@dataclass(frozen=True)
class SeasonalShape:
    """The shape of the weekly profile; every field is relative to the weekday peak.

    Attributes:
        daily_trough: the night-time low of the daily cycle, as a fraction of its high.
        business_boost: extra load during weekday business hours (09:00 to 17:30).
        lunch_peak: the height of the lunch-time bump around 12:30.
        weekend_factor: Saturday and Sunday load as a fraction of a weekday's.
    """

    daily_trough: float = 0.2
    business_boost: float = 0.4
    lunch_peak: float = 0.15
    weekend_factor: float = 0.55


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _daily_terms(shape: SeasonalShape, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The daily cycle plus lunch bump, and the business-hours boost, at ``hours``.

    The daily cycle is a raised cosine with its low at 04:00 and its high at 16:00; the
    business-hours boost has logistic edges 45 minutes wide; the lunch bump is a Gaussian
    of standard deviation 45 minutes.
    """
    daily = shape.daily_trough + (1.0 - shape.daily_trough) * 0.5 * (
        1.0 - np.cos(2.0 * np.pi * (hours - 4.0) / 24.0)
    )
    lunch = shape.lunch_peak * np.exp(-0.5 * ((hours - 12.5) / 0.75) ** 2)
    business = (
        shape.business_boost * _logistic((hours - 9.0) / 0.75) * _logistic((17.5 - hours) / 0.75)
    )
    return daily + lunch, business


def weekly_profile(shape: SeasonalShape, seconds: np.ndarray) -> np.ndarray:
    """The profile at ``seconds`` since Monday 00:00, scaled so its weekday peak is 1."""
    hours = (seconds % SECONDS_PER_DAY) / 3600.0
    weekday = (seconds // SECONDS_PER_DAY) % 7 < 5
    base, business = _daily_terms(shape, hours)
    profile = np.where(weekday, base + business, shape.weekend_factor * base)
    # the weekday peak on a 1-minute grid: the profile's maximum is 1 within 1e-4
    grid_base, grid_business = _daily_terms(shape, np.arange(0.0, 24.0, 1.0 / 60.0))
    return profile / float(np.max(grid_base + grid_business))


def noise_correlation(step_seconds: float) -> float:
    """The lag-one correlation of the log-noise between steps of ``step_seconds``."""
    return math.exp(-step_seconds / NOISE_CORRELATION_TIME)


def flash_crowd_shape(since: float) -> float:
    """The relative height of a flash crowd ``since`` seconds after it began (peak 1).

    A linear 5-minute rise, then an exponential decay with a 30-minute time constant.
    """
    if since <= 0.0:
        return 0.0
    if since < FLASH_CROWD_RISE:
        return since / FLASH_CROWD_RISE
    return math.exp(-(since - FLASH_CROWD_RISE) / FLASH_CROWD_DECAY)


def flash_crowd_shapes(since: np.ndarray) -> np.ndarray:
    """:func:`flash_crowd_shape` of each element."""
    rising = since / FLASH_CROWD_RISE
    decaying = np.exp(-np.maximum(since - FLASH_CROWD_RISE, 0.0) / FLASH_CROWD_DECAY)
    return np.where(since < 0.0, 0.0, np.where(since < FLASH_CROWD_RISE, rising, decaying))

"""The request rate of one autoscaling episode: synthetic or a trace window, with drift."""

from __future__ import annotations

import numpy as np

from opsgym.envs.core.seasonal import (
    SECONDS_PER_WEEK,
    SeasonalShape,
    correlated_log_noise,
    flash_crowds,
    weekly_profile,
)
from opsgym.envs.core.traces import load_trace

DRIFTS = ("none", "level", "shape")
TRACE_PEAK_PERCENTILE = 99.9  # a trace without trace_scale is scaled so this maps to peak_rate


class EpisodeWorkload:
    """Draws each episode's request rate [requests/s] per step.

    An episode has ``history + steps`` rates: the ``history`` before its first step fill
    the observation's window of recent load, so no episode starts blind.

    Args:
        source: ``"synthetic"``, a packaged trace (``"nasa"``) or a CSV path.
        step_seconds: the step length [s].
        steps: the episode's length [steps].
        history: rates drawn before the first step.
        peak_rate: the synthetic weekday peak [requests/s]; for a trace without
            ``trace_scale``, what its 99.9th percentile is scaled to.
        trace_scale: the factor a trace's rates are multiplied by, or ``None``.
        shape: the synthetic weekly profile.
        noise: the standard deviation of the synthetic log-noise.
        flash_crowd_rate: synthetic flash crowds per day.
        flash_crowd_size: the mean relative height of a flash crowd.
        drift: ``"none"``; ``"level"`` (the load is multiplied by ``drift_factor`` from a
            step in the middle half of the episode on); or ``"shape"`` (from that step on,
            the daily pattern runs ``drift_shift_steps`` later).
        drift_factor: the level change of a ``"level"`` drift.
        drift_shift_steps: the delay of a ``"shape"`` drift [steps].
    """

    def __init__(
        self,
        source: str,
        step_seconds: float,
        steps: int,
        history: int,
        peak_rate: float,
        trace_scale: float | None,
        shape: SeasonalShape,
        noise: float,
        flash_crowd_rate: float,
        flash_crowd_size: float,
        drift: str,
        drift_factor: float,
        drift_shift_steps: int,
    ) -> None:
        self.source = source
        self.step_seconds = step_seconds
        self.steps = steps
        self.history = history
        self.noise = noise
        self.flash_crowd_rate = flash_crowd_rate
        self.flash_crowd_size = flash_crowd_size
        self.drift = drift
        self.drift_factor = drift_factor
        self.shift = drift_shift_steps if drift == "shape" else 0
        if source == "synthetic":
            week_steps = round(SECONDS_PER_WEEK / step_seconds)
            self.profile = peak_rate * weekly_profile(shape, np.arange(week_steps) * step_seconds)
            self.peak_rate = peak_rate
            return
        trace = load_trace(source, step_seconds)
        clean = trace.rates[~trace.missing]
        if clean.size == 0 or not clean.any():
            raise ValueError(f"workload: trace {trace.name} has no recorded load")
        if trace_scale is None:
            trace_scale = peak_rate / float(np.percentile(clean, TRACE_PEAK_PERCENTILE))
        self.rates = trace.rates * trace_scale
        self.trace_start_seconds = trace.start_seconds
        self.peak_rate = float(clean.max()) * trace_scale
        # a start s is usable when rows s - history - shift .. s + steps - 1 are all recorded
        span_before = history + self.shift
        gaps = np.concatenate(([0], np.cumsum(trace.missing)))
        first = np.arange(0, len(self.rates) - span_before - steps + 1)
        if first.size:
            clean_windows = gaps[first + span_before + steps] == gaps[first]
            self.starts = first[clean_windows] + span_before
        else:
            self.starts = first
        if self.starts.size == 0:
            raise ValueError(
                f"episode_steps: trace {trace.name} has no gap-free window of "
                f"{span_before + steps} steps of {step_seconds:g} s"
            )

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """The episode's rates (history first) and the time of its first step.

        Returns:
            ``history + steps`` rates [requests/s] and the time of step 0 since a Monday
            00:00 [s].
        """
        offsets = np.arange(-self.history, self.steps)
        if self.source == "synthetic":
            start = int(rng.integers(len(self.profile)))
            base = self.profile.take(start + offsets, mode="wrap")
            shifted = self.profile.take(start + offsets - self.shift, mode="wrap")
            count = len(offsets)
            factor = correlated_log_noise(rng, count, self.noise, self.step_seconds)
            factor *= flash_crowds(
                rng, count, self.step_seconds, self.flash_crowd_rate, self.flash_crowd_size
            )
            base *= factor
            shifted *= factor
            start_seconds = start * self.step_seconds
        else:
            start = int(self.starts[int(rng.integers(len(self.starts)))])
            base = self.rates[start + offsets]
            shifted = self.rates[start + offsets - self.shift]
            start_seconds = self.trace_start_seconds + start * self.step_seconds
        if self.drift != "none":
            quarter = self.steps // 4
            at = self.history + int(rng.integers(quarter, max(quarter + 1, 3 * self.steps // 4)))
            if self.drift == "level":
                base[at:] *= self.drift_factor
            else:
                base[at:] = shifted[at:]
        return base, start_seconds % SECONDS_PER_WEEK

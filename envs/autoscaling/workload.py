"""The request rate of one autoscaling episode: synthetic or a trace window, with drift."""

from __future__ import annotations

import math

import numpy as np

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.core.drift import drift_start, interpolate, ramp_fraction
from opsgym.envs.core.load_traces import load_trace
from opsgym.envs.core.seasonal import (
    SECONDS_PER_DAY,
    SECONDS_PER_WEEK,
    flash_crowd_shape,
    flash_crowd_shapes,
    noise_correlation,
    weekly_profile,
)

ATTACK_PERIOD_HOURS = 7.0  # [h] shares no multiple with a day under a week (7 * 24 = 168)
TROUGH_HOURS = 6.0  # [h] trough bursts start between 00:00 and this time of day
TRACE_PEAK_PERCENTILE = 99.9  # a trace without trace_scale is scaled so this maps to peak_rate
BLOCK = 64  # rates generated at a time after the first step


class EpisodeWorkload:
    """The configuration of an env's load, from which each episode's load is started.

    Built once per env: it computes the synthetic weekly profile, or reads and scales the
    trace and finds the starts of its gap-free windows; :meth:`start` then begins an
    episode's :class:`EpisodeLoad`.

    An episode has ``history + steps`` rates: the ``history`` (the observation's
    ``window``) before its first step fill the observation's window of recent load, so no
    episode starts blind.

    The load follows ``config`` (see its fields): with a ``"level"`` drift, it is
    multiplied by ``drift_factor`` from a step in the middle half of the episode on; with
    a ``"shape"`` drift, from that step on, the daily pattern runs ``drift_shift_hours``
    later; either phases in linearly over ``drift_ramp`` steps (the level moves from 1 to
    ``drift_factor``, the delay from 0 to its full value). An ``"trough"`` attack starts
    ``attack_bursts`` bursts a day at random times between 00:00 and 06:00, the daily
    low; an ``"off_period"`` attack, a burst every ``ATTACK_PERIOD_HOURS`` hours, a rhythm
    no daily or weekly memory can learn. ``utc_offset_hours`` shifts the synthetic profile
    ahead of the clock (a site's time zone); the clock, and so the observation and the
    attacks, stay in UTC.

    Args:
        config: the environment's configuration.
    """

    def __init__(self, config: AutoscalingConfig) -> None:
        self.source = config.workload
        self.step_seconds = config.step_seconds
        self.steps = config.episode_steps
        self.history = config.window
        self.noise = config.noise
        self.flash_crowd_rate = config.flash_crowd_rate
        self.flash_crowd_size = config.flash_crowd_size
        self.drift = config.drift
        self.drift_factor = config.drift_factor
        shift_steps = round(config.drift_shift_hours * 3600.0 / config.step_seconds)
        self.shift = shift_steps if config.drift == "shape" else 0
        self.drift_ramp = config.drift_ramp
        self.attack = config.attack
        self.attack_height = config.attack_size * config.peak_rate  # [requests/s]
        self.attack_steps = config.attack_steps
        self.attack_bursts = config.attack_bursts
        if self.source == "synthetic":
            self._prepare_profile(config)
        else:
            self._prepare_trace(config)

    def _prepare_profile(self, config: AutoscalingConfig) -> None:
        step_seconds = self.step_seconds
        week_steps = round(SECONDS_PER_WEEK / step_seconds)
        local_seconds = np.arange(week_steps) * step_seconds + config.utc_offset_hours * 3600.0
        self.profile = config.peak_rate * weekly_profile(config.seasonal_shape, local_seconds)
        self.profile_list = self.profile.tolist()
        self.phi = noise_correlation(step_seconds)
        self.peak_rate = config.peak_rate

    def _prepare_trace(self, config: AutoscalingConfig) -> None:
        trace = load_trace(self.source, self.step_seconds)
        clean = trace.rates[~trace.missing]
        if clean.size == 0 or not clean.any():
            raise ValueError(f"workload: trace {trace.name} has no recorded load")
        trace_scale = config.trace_scale
        if trace_scale is None:
            # a mostly idle trace has a 99.9th percentile of 0: scale its maximum instead
            reference = float(np.percentile(clean, TRACE_PEAK_PERCENTILE)) or float(clean.max())
            trace_scale = config.peak_rate / reference
        self.trace_rates = trace.rates * trace_scale
        self.rates_list = self.trace_rates.tolist()
        self.trace_start_seconds = trace.start_seconds
        self.peak_rate = float(clean.max()) * trace_scale
        # a start s is usable when rows s - history - shift .. s + steps - 1 are all recorded
        span_before, steps = self.history + self.shift, self.steps
        gaps = np.concatenate(([0], np.cumsum(trace.missing)))
        first = np.arange(0, len(self.rates_list) - span_before - steps + 1)
        if first.size:
            clean_windows = gaps[first + span_before + steps] == gaps[first]
            self.starts = first[clean_windows] + span_before
        else:
            self.starts = first
        if self.starts.size == 0:
            raise ValueError(
                f"episode_steps: trace {trace.name} has no gap-free window of "
                f"{span_before + steps} steps of {self.step_seconds:g} s"
            )

    def start(self, rng: np.random.Generator) -> EpisodeLoad:
        """Draw a new episode's start, flash crowds and drift step."""
        return EpisodeLoad(self, rng)

    def rates_at(
        self,
        index: np.ndarray,
        offset: np.ndarray,
        drift_at: np.ndarray,
        log_noise: np.ndarray,
        normals: np.ndarray,
        crowd_starts: np.ndarray,
        crowd_sizes: np.ndarray,
        extra: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rate at ``index`` (> 0) of many episodes at once, as :class:`EpisodeLoad`
        computes it one episode at a time (equal to rounding: numpy's exp is not libm's).

        Args:
            index: each episode's rate index (its history first).
            offset: each episode's start minus the history length.
            drift_at: each episode's first drifted index.
            log_noise: each episode's log-noise at ``index - 1`` (synthetic load).
            normals: each episode's standard normal for ``index`` (synthetic load).
            crowd_starts, crowd_sizes: each episode's flash crowds, shape
                ``(episodes, most crowds)``, padded with size 0.
            extra: each episode's attack load at ``index``, or None without attack.

        Returns:
            The rates [requests/s] and the log-noise at ``index``.
        """
        drifted = index >= drift_at
        fraction = ramp_fraction(index, drift_at, self.drift_ramp)  # as EpisodeLoad._drift
        shift = np.where(drifted, np.round(fraction * self.shift).astype(np.int64), 0)
        position = offset + index - shift
        if self.drift == "level":
            factor = self.drift_factor
            level = np.where(fraction >= 1.0, factor, 1.0 + fraction * (factor - 1.0))
        else:
            level = np.ones(index.shape)
        if self.source != "synthetic":
            rates = self.trace_rates[position]
        else:
            sigma = self.noise
            innovation = sigma * math.sqrt(1.0 - self.phi * self.phi)
            log_noise = self.phi * log_noise + innovation * normals
            rates = np.exp(log_noise - 0.5 * sigma * sigma)
            if crowd_sizes.size:
                since = (index * self.step_seconds)[:, None] - crowd_starts
                rates = rates * (1.0 + (crowd_sizes * flash_crowd_shapes(since)).sum(axis=1))
            rates = rates * self.profile[position % len(self.profile)]
        rates = np.where(drifted, rates * level, rates)
        return (rates if extra is None else rates + extra), log_noise


class EpisodeLoad:
    """One episode's rates [requests/s], history first, generated in blocks as needed.

    Generating on demand keeps a reset cheap. The blocks have fixed sizes (the history
    plus the first step, then ``BLOCK`` steps) and draw from the generator in a fixed
    order, so the rates do not depend on when they are asked for: an oracle that reads
    the whole episode at once sees the same rates the steps will.
    """

    def __init__(self, workload: EpisodeWorkload, rng: np.random.Generator) -> None:
        self.workload = workload
        self.rng = rng
        self.length = workload.history + workload.steps
        self.rates: list[float] = []
        step = workload.step_seconds
        if workload.source == "synthetic":
            self.start = int(rng.integers(len(workload.profile_list)))
            self.start_seconds = self.start * step
            duration = self.length * step
            count = 0
            if workload.flash_crowd_rate > 0.0 and workload.flash_crowd_size > 0.0:
                count = int(rng.poisson(workload.flash_crowd_rate * duration / SECONDS_PER_DAY))
            self.crowds: list[tuple[float, float]] = []
            if count:
                starts = rng.uniform(0.0, duration, size=count).tolist()
                sizes = rng.uniform(0.5, 1.5, size=count) * workload.flash_crowd_size
                self.crowds = list(zip(starts, sizes.tolist()))
        else:
            self.start = int(workload.starts[int(rng.integers(len(workload.starts)))])
            self.start_seconds = workload.trace_start_seconds + self.start * step
        self.start_seconds %= SECONDS_PER_WEEK
        self.drift_at = self.length  # the index of the first drifted rate
        if workload.drift != "none":
            self.drift_at = workload.history + drift_start(rng, workload.steps)
        self.extra = self._attack_load(rng) if workload.attack != "none" else None
        self.log_noise = 0.0
        self.extend(workload.history + 1)

    def _attack_load(self, rng: np.random.Generator) -> list[float]:
        """The adversary's extra load at every index [requests/s]."""
        workload = self.workload
        step = workload.step_seconds
        day_steps = round(SECONDS_PER_DAY / step)
        if workload.attack == "trough":
            # index i falls at start_seconds + (i - history) * step
            first_day = math.floor((self.start_seconds - workload.history * step) / SECONDS_PER_DAY)
            days = self.length // day_steps + 2
            in_day = rng.uniform(0.0, TROUGH_HOURS * 3600.0, size=(days, workload.attack_bursts))
            times = (first_day + np.arange(days))[:, None] * SECONDS_PER_DAY + in_day
        else:
            period = ATTACK_PERIOD_HOURS * 3600.0
            offset = self.start_seconds - workload.history * step + rng.uniform(0.0, period)
            times = offset + period * np.arange(math.ceil(self.length * step / period) + 1)
        starts = np.floor((times.ravel() - self.start_seconds) / step + workload.history).astype(
            np.int64
        )
        extra = np.zeros(self.length)
        for start in starts[(starts > -workload.attack_steps) & (starts < self.length)]:
            extra[max(start, 0) : start + workload.attack_steps] = workload.attack_height
        return extra.tolist()

    def extend(self, count: int) -> list[float]:
        """Generate the rates up to index ``count`` (at most the episode's length)."""
        count = min(count, self.length)
        while len(self.rates) < count:
            begin = len(self.rates)
            size = BLOCK if begin else self.workload.history + 1
            self._block(begin, min(size, self.length - begin))
        return self.rates

    def _drift(self, i: int) -> tuple[int, float]:
        """The delay [steps] and the level factor of the load at index ``i``."""
        workload = self.workload
        fraction = float(ramp_fraction(i, self.drift_at, workload.drift_ramp))
        if workload.drift == "level":
            return 0, interpolate(1.0, workload.drift_factor, fraction)
        return round(fraction * workload.shift), 1.0

    def _block(self, begin: int, size: int) -> None:
        workload = self.workload
        offset = self.start - workload.history
        rates = self.rates
        if workload.source != "synthetic":
            trace = workload.rates_list
            for i in range(begin, begin + size):
                if i < self.drift_at:
                    rates.append(trace[offset + i])
                else:
                    shift, level = self._drift(i)
                    rates.append(trace[offset + i - shift] * level)
            self._add_attack(begin)
            return
        profile = workload.profile_list
        period = len(profile)
        sigma = workload.noise
        normals = self.rng.standard_normal(size).tolist() if sigma > 0.0 else [0.0] * size
        phi = workload.phi
        innovation = sigma * math.sqrt(1.0 - phi * phi)
        mean_correction = 0.5 * sigma * sigma
        step = workload.step_seconds
        log_noise = self.log_noise
        for j, i in enumerate(range(begin, begin + size)):
            # the first value is drawn from the stationary distribution
            log_noise = phi * log_noise + innovation * normals[j] if i else sigma * normals[j]
            rate = math.exp(log_noise - mean_correction)
            if self.crowds:
                now = i * step
                rate *= 1.0 + sum(h * flash_crowd_shape(now - s) for s, h in self.crowds)
            if i < self.drift_at:
                rates.append(rate * profile[(offset + i) % period])
            else:
                shift, level = self._drift(i)
                rates.append(rate * profile[(offset + i - shift) % period] * level)
        self.log_noise = log_noise
        self._add_attack(begin)

    def _add_attack(self, begin: int) -> None:
        if self.extra is not None:
            rates = self.rates
            for i in range(begin, len(rates)):
                rates[i] += self.extra[i]

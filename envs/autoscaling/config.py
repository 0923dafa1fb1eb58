"""The arguments of opsgym/Autoscaling, one validated field each."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, unless, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Flag, Integer, OrNone, Real, Text
from opsgym.envs.core.seasonal import SECONDS_PER_DAY, SeasonalShape

DRIFTS = ("none", "level", "shape")
ATTACKS = ("none", "trough", "off_period")
INITIAL_UTILIZATION = 0.7  # the default starting fleet runs the first load at this utilization
MAX_STEPS = 1_000_000  # two years of minutes
MAX_INSTANCES = 100_000
SYNTHETIC = when("workload", "synthetic")
ATTACKED = unless("attack", "none")
DRIFTING = unless("drift", "none")
REPLAYED = unless("workload", "synthetic")
TROUGH_ATTACK = when("attack", "trough")
LEVEL_DRIFT = when("drift", "level")
SHAPE_DRIFT = when("drift", "shape")


@dataclass(frozen=True, kw_only=True)
class AutoscalingConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.autoscaling.env.AutoscalingEnv`."""

    workload: str = setting("synthetic", Text(), '"synthetic", "nasa", or the path of a CSV trace')
    peak_rate: float = setting(
        1200.0,
        POSITIVE,
        "synthetic weekday peak [requests/s]; a trace's 99.9th percentile when `trace_scale` is unset",
    )
    trace_scale: float | None = setting(
        None, OrNone(POSITIVE), "multiplier of a trace's rates", REPLAYED
    )
    daily_trough: float = setting(
        0.2, PROBABILITY, "night low as a fraction of the daily high", SYNTHETIC
    )
    business_boost: float = setting(
        0.4, Real(0.0), "extra load in weekday business hours", SYNTHETIC
    )
    lunch_peak: float = setting(0.15, Real(0.0), "lunch-time bump", SYNTHETIC)
    weekend_factor: float = setting(
        0.55, Real(0.0, 1.0, open_low=True), "weekend load relative to weekdays", SYNTHETIC
    )
    utc_offset_hours: float = setting(
        0.0,
        Real(-12.0, 14.0),
        "the site's time zone: its daily and weekly pattern runs this many hours ahead of the observation's (UTC) clock",
        SYNTHETIC,
    )
    noise: float = setting(
        0.05,
        Real(0.0, 2.0),
        "standard deviation of the log-noise (10-minute correlation)",
        SYNTHETIC,
    )
    flash_crowd_rate: float = setting(0.5, Real(0.0, 1000.0), "flash crowds per day", SYNTHETIC)
    flash_crowd_size: float = setting(
        1.0, Real(0.0), "mean relative height of a flash crowd", SYNTHETIC
    )
    step_seconds: float = setting(
        60.0, Real(0.0, SECONDS_PER_DAY, open_low=True), "step length [s]; must divide a day"
    )
    episode_steps: int = setting(
        1440, Integer(1, MAX_STEPS), "steps per episode (a day of minutes)"
    )
    window: int = setting(15, Integer(1, 10_080), "steps of recent load in the observation")
    capacity_per_instance: float = setting(
        100.0, POSITIVE, "requests per second one instance serves"
    )
    min_instances: int = setting(1, Integer(1, MAX_INSTANCES), "fewest instances")
    max_instances: int = setting(20, Integer(1, MAX_INSTANCES), "most instances")
    initial_instances: int | None = setting(
        None,
        OrNone(Integer(1, MAX_INSTANCES)),
        "running instances at reset (None: enough for the first load at 70% utilization)",
    )
    max_step_change: int = setting(2, Integer(1, 1000), "k: the largest change per step")
    boot_steps: int = setting(
        3, Integer(0, 10_000), "steps a launched instance boots before it serves"
    )
    cooldown_steps: int = setting(
        0, Integer(0, MAX_STEPS), "steps after a scaling action during which actions are ignored"
    )
    bill_booting: bool = setting(True, Flag(), "whether booting instances are billed")
    instance_price: float = setting(0.10, Real(0.0), "price of an instance-hour [$]")
    latency_target: float = setting(
        0.05, POSITIVE, "SLA latency target [s]; above the service time's own quantile"
    )
    latency_quantile: float = setting(
        0.95,
        Real(0.0, 1.0, open_low=True, open_high=True),
        "the response-time quantile the SLA bounds",
    )
    max_utilization: float = setting(
        0.98,
        Real(0.0, 1.0, open_low=True, open_high=True),
        "admission limit; the excess is dropped",
    )
    drift: str = setting("none", Choice(DRIFTS), "how the load changes mid-episode")
    drift_factor: float = setting(1.5, POSITIVE, "load multiplier of a level drift", LEVEL_DRIFT)
    drift_shift_hours: float = setting(
        3.0, Real(0.0, 24.0), "delay of the daily pattern in a shape drift [h]", SHAPE_DRIFT
    )
    drift_ramp: int = ramp_setting(
        MAX_STEPS, "steps over which the drift phases in linearly", DRIFTING
    )
    attack: str = setting("none", Choice(ATTACKS), "adversarial bursts, see Description")
    attack_size: float = setting(
        0.5, POSITIVE, "a burst's extra load as a fraction of `peak_rate`", ATTACKED
    )
    attack_steps: int = setting(5, Integer(1, MAX_STEPS), "a burst's length [steps]", ATTACKED)
    attack_bursts: int = setting(3, Integer(1, 1000), "bursts per day", TROUGH_ATTACK)
    cost_weight: float = setting(1.0, Real(0.0), "reward weight of the instance bill")
    sla_weight: float = setting(0.05, Real(0.0), "reward weight of a violated step [$]")
    drop_weight: float = setting(
        0.01, Real(0.0), "reward weight of a thousand dropped requests [$]"
    )

    @property
    def max_episode_steps(self) -> int:
        return self.episode_steps

    def validate(self) -> None:
        steps_per_day = SECONDS_PER_DAY / self.step_seconds
        if abs(steps_per_day - round(steps_per_day)) > 1e-9:
            raise ValueError(f"step_seconds must divide a day (86400 s), got {self.step_seconds!r}")
        if self.max_instances < self.min_instances:
            raise ValueError(
                f"max_instances must be >= min_instances ({self.min_instances}), "
                f"got {self.max_instances!r}"
            )
        initial = self.initial_instances
        if initial is not None and not self.min_instances <= initial <= self.max_instances:
            raise ValueError(
                f"initial_instances must be in [min_instances, max_instances] "
                f"([{self.min_instances}, {self.max_instances}]), got {initial!r}"
            )
        service_quantile = -math.log(1.0 - self.latency_quantile) / self.capacity_per_instance
        if self.latency_target <= service_quantile:
            raise ValueError(
                f"latency_target must exceed the service time's own {self.latency_quantile:g} "
                f"quantile ({service_quantile:g} s), or no fleet meets it; got "
                f"{self.latency_target!r}"
            )

    @cached_property
    def seasonal_shape(self) -> SeasonalShape:
        """The synthetic weekly profile's shape."""
        return SeasonalShape(
            daily_trough=self.daily_trough,
            business_boost=self.business_boost,
            lunch_peak=self.lunch_peak,
            weekend_factor=self.weekend_factor,
        )

    @cached_property
    def price_per_step(self) -> float:
        """The price of one instance for one step [$]."""
        return self.instance_price * self.step_seconds / 3600.0

    @cached_property
    def full_capacity(self) -> float:
        """What the largest fleet serves [requests/s], the scale of observed rates."""
        return self.max_instances * self.capacity_per_instance

    def initial_fleet(self, first_rate: float) -> int:
        """The running instances at reset, when the first step's load is ``first_rate``."""
        if self.initial_instances is not None:
            return self.initial_instances
        running = math.ceil(first_rate / (INITIAL_UTILIZATION * self.capacity_per_instance))
        return min(max(running, self.min_instances), self.max_instances)

    def instance_cost(self, billed):
        """The weighted instance term of a step's cost (minus its reward's cost part);
        for a number or an array of them, as the vector env asks."""
        return self.cost_weight * billed * self.price_per_step

    def penalty(self, dropped_rate, violated):
        """The weighted SLA and drop terms of a step's cost (numbers or arrays)."""
        dropped_thousands = dropped_rate * self.step_seconds / 1000.0
        return self.sla_weight * violated + self.drop_weight * dropped_thousands

    def step_info(self, rate, running, booting, billed, change, outcome: tuple) -> dict[str, Any]:
        """A step's info from its load, fleet and service outcome (numbers, or arrays
        over the vector env's instances)."""
        utilization, dropped_rate, violated, latency, mean_latency = outcome
        dropped = dropped_rate * self.step_seconds
        cost = billed * self.price_per_step
        return {
            "cost_usd": cost,
            "latency_ms": 1000.0 * latency,
            "mean_latency_ms": 1000.0 * mean_latency,
            "dropped": dropped,
            "violated": violated,
            "running": running,
            "booting": booting,
            "utilization": utilization,
            "load": rate,
            "change": change,
            "rewards": {"cost": -cost, "sla": -1.0 * violated, "drop": -dropped / 1000.0},
        }

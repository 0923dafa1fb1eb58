"""The Gymnasium environment around :mod:`opsgym.envs.autoscaling.simulator`."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from opsgym.envs.autoscaling.simulator import Fleet, ServiceModel
from opsgym.envs.autoscaling.workload import ATTACKS, DRIFTS, EpisodeLoad, EpisodeWorkload
from opsgym.envs.core import validation
from opsgym.envs.core.episode_guard import EpisodeGuard
from opsgym.envs.core.seasonal import SECONDS_PER_DAY, SECONDS_PER_WEEK, SeasonalShape

INITIAL_UTILIZATION = 0.7  # the starting fleet runs the first load at this utilization
TOTALS = (
    "objective",
    "cost",
    "violations",
    "requests",
    "dropped",
    "instances",
    "utilization",
    "latency",
)
FIELDS = (
    "running",
    "booting",
    "utilization",
    "load",
    "latency",
    "dropped",
    "cooldown",
    "day_sin",
    "day_cos",
    "week_sin",
    "week_cos",
)


def summarize_totals(totals: dict[str, float], steps: int) -> dict[str, float]:
    """Episode metrics from the running ``totals`` (keyed by :data:`TOTALS`) of
    ``steps`` steps."""
    served = totals["requests"] - totals["dropped"]
    return {
        "objective_usd": totals["objective"],
        "instance_cost_usd": totals["cost"],
        "sla_attainment": 1.0 - totals["violations"] / steps,
        "dropped_fraction": totals["dropped"] / totals["requests"]
        if totals["requests"] > 0
        else 0.0,
        "mean_instances": totals["instances"] / steps,
        "mean_utilization": totals["utilization"] / steps,
        "mean_latency_ms": 1000.0 * totals["latency"] / served if served > 0 else 0.0,
    }


class AutoscalingEnv(gym.Env[np.ndarray, int]):
    """Scale a fleet of identical instances to a request load that rises and falls.

    ## Description

    A fleet of identical instances serves a request load that follows the day and the
    week. Each step (default one minute) the agent scales the fleet down, holds, or
    scales up by a few instances. A launched instance boots for `boot_steps` steps before
    it serves, so a rule that only reacts is always late and forecasting pays; an idle
    instance costs money, and a fleet too small for the load breaks the latency SLA and
    drops requests.

    The load is either synthetic (`workload="synthetic"`): a weekly profile with a daily
    cycle, a weekday business-hours boost, a lunch peak and quieter weekends, times
    correlated noise, with occasional flash crowds; or a replayed trace:
    `workload="nasa"` is the NASA Kennedy Space Center web server's requests per minute
    (July and August 1995, shipped with the package), and any other value is a path to a
    CSV of `timestamp,value` (requests per row interval; see
    `opsgym.envs.core.load_traces`). A trace is scaled by `trace_scale`, or, by default, so
    that its 99.9th percentile is `peak_rate`. Each reset draws a random start: a time of
    the week for synthetic load, a window of the trace that holds no missing data (log
    gaps are skipped, never replayed as zero load).

    The running instances form an M/M/c queue with `capacity_per_instance` requests per
    second each. Admission control admits at most `max_utilization` of the running
    capacity and drops the rest; the mean and the quantile of the response time come
    from the Erlang C formulas. A step violates the SLA when its `latency_quantile`
    response time exceeds `latency_target` or when requests are dropped.

    Scaling down cancels the newest booting instances first, then stops running ones; the
    fleet (running plus booting) stays within `[min_instances, max_instances]`. After a
    scaling action, actions are ignored for `cooldown_steps` steps. Booting instances are
    billed like running ones (as cloud providers bill from launch) unless
    `bill_booting=False`.

    With `drift="level"` the load is multiplied by `drift_factor` from a random step in
    the middle half of the episode on (a launch, a migration of users onto the service);
    with `drift="shape"` the daily pattern runs `drift_shift_hours` later from that step
    on (users in another time zone). The change is abrupt (`drift_ramp=0`) or phases in
    linearly over `drift_ramp` steps. Policies are not told.

    With `attack` an adversary adds bursts of `attack_size * peak_rate` requests/s lasting
    `attack_steps` steps, timed against a seasonal forecast: `"trough"` sends
    `attack_bursts` bursts a day at random times between 00:00 and 06:00, where the
    daily pattern (and so the forecast) is lowest; `"off_period"` sends one every 7
    hours, a rhythm that never repeats at the same time of day within a week.

    ## Action Space

    `Discrete(2k + 1)` with k = `max_step_change`: action i asks for i - k instances more
    (negative: fewer). Action k holds.

    ## Observation Space

    A float32 `Box` of shape `(11 + window,)`. Rates are normalized by the full fleet's
    capacity `max_instances * capacity_per_instance` and squashed by x / (1 + x); the
    latency is the SLA quantile divided by `latency_target`, squashed the same way (0.5
    is on target).

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 | running instances / `max_instances` | 0 | 1 |
    | 1 | booting instances / `max_instances` | 0 | 1 |
    | 2 | utilization of the running instances in the last step | 0 | 1 |
    | 3 | request rate in the last step, normalized and squashed | 0 | 1 |
    | 4 | SLA-quantile latency in the last step / target, squashed | 0 | 1 |
    | 5 | fraction of the last step's requests dropped | 0 | 1 |
    | 6 | cooldown steps left / `cooldown_steps` (0 without cooldown) | 0 | 1 |
    | 7, 8 | sine and cosine of the time of day | -1 | 1 |
    | 9, 10 | sine and cosine of the time of the week (Monday 00:00 is angle 0) | -1 | 1 |
    | 11 .. 10 + window | request rate of each of the last `window` steps, oldest first, normalized and squashed | 0 | 1 |

    ## Rewards

    `reward = -(cost_weight * cost + sla_weight * violation + drop_weight * dropped)`,
    where `cost` is the step's instance bill [$] (`instance_price` per instance-hour),
    `violation` is 1 if the step violates the SLA and `dropped` the step's dropped
    requests in thousands. With the default weights, a violated minute costs $0.05 (half
    an instance-hour) and a thousand dropped requests $0.01 on top. The components are in
    `info["rewards"]` (`cost`, `sla`, `drop`, each <= 0), and `info` carries the step's
    `cost_usd`, `latency_ms` (the SLA quantile), `mean_latency_ms`, `dropped` requests,
    `violated`, `running`, `booting`, `utilization`, `load` [requests/s] and the
    `change` actually made.

    ## Starting State

    The fleet starts with `initial_instances` running (by default the count that serves
    the first step's load at 70% utilization, within the bounds), none booting and no
    cooldown. The observation's window holds the real load of the `window` steps before
    the first step. Everything random (the start time or trace window, noise, flash
    crowds, the drift step) comes from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_steps` steps have passed.

    The environment never terminates: autoscaling is a continuing task. On the last step
    `info["episode_metrics"]` holds the episode's `objective_usd` (minus the return:
    the weighted instance cost plus penalties, in $ when `cost_weight` is 1), `instance_cost_usd`,
    `sla_attainment` (fraction of steps without violation), `dropped_fraction` (of all
    requests), `mean_instances` (billed), `mean_utilization` and `mean_latency_ms`
    (request-weighted).

    ## Arguments

    | Parameter | Type | Default | Description |
    |-----------|------|---------|-------------|
    | `workload` | str | `"synthetic"` | `"synthetic"`, `"nasa"`, or the path of a CSV trace |
    | `peak_rate` | float | `1200.0` | synthetic weekday peak [requests/s]; a trace's 99.9th percentile when `trace_scale` is unset |
    | `trace_scale` | float or None | `None` | multiplier of a trace's rates |
    | `daily_trough` | float | `0.2` | synthetic night low as a fraction of the daily high |
    | `business_boost` | float | `0.4` | synthetic extra load in weekday business hours |
    | `lunch_peak` | float | `0.15` | synthetic lunch-time bump |
    | `weekend_factor` | float | `0.55` | synthetic weekend load relative to weekdays, in (0, 1] |
    | `utc_offset_hours` | float | `0.0` | the site's time zone: its synthetic daily and weekly pattern runs this many hours ahead of the observation's (UTC) clock, in [-12, 14] |
    | `noise` | float | `0.05` | standard deviation of the synthetic log-noise (10-minute correlation) |
    | `flash_crowd_rate` | float | `0.5` | synthetic flash crowds per day |
    | `flash_crowd_size` | float | `1.0` | mean relative height of a flash crowd |
    | `step_seconds` | float | `60.0` | step length [s]; must divide a day |
    | `episode_steps` | int | `1440` | steps per episode (one day of minutes) |
    | `window` | int | `15` | steps of recent load in the observation |
    | `capacity_per_instance` | float | `100.0` | requests per second one instance serves |
    | `min_instances` | int | `1` | fewest instances |
    | `max_instances` | int | `20` | most instances |
    | `initial_instances` | int or None | `None` | running instances at reset |
    | `max_step_change` | int | `2` | k: the largest change per step |
    | `boot_steps` | int | `3` | steps a launched instance boots before it serves |
    | `cooldown_steps` | int | `0` | steps after a scaling action during which actions are ignored |
    | `bill_booting` | bool | `True` | whether booting instances are billed |
    | `instance_price` | float | `0.10` | price of an instance-hour [$] |
    | `latency_target` | float | `0.05` | SLA latency target [s] |
    | `latency_quantile` | float | `0.95` | the response-time quantile the SLA bounds |
    | `max_utilization` | float | `0.98` | admission limit; the excess is dropped |
    | `drift` | str | `"none"` | `"none"`, `"level"` or `"shape"` |
    | `drift_factor` | float | `1.5` | load multiplier of a level drift |
    | `drift_shift_hours` | float | `3.0` | delay of the daily pattern in a shape drift [h] |
    | `drift_ramp` | int | `0` | steps over which the drift phases in linearly (0: abrupt) |
    | `attack` | str | `"none"` | `"none"`, `"trough"` or `"off_period"` (adversarial bursts) |
    | `attack_size` | float | `0.5` | a burst's extra load as a fraction of `peak_rate` |
    | `attack_steps` | int | `5` | a burst's length [steps] |
    | `attack_bursts` | int | `3` | bursts per day of a `"trough"` attack |
    | `cost_weight` | float | `1.0` | reward weight of the instance bill |
    | `sla_weight` | float | `0.05` | reward weight of a violated step [$] |
    | `drop_weight` | float | `0.01` | reward weight of a thousand dropped requests [$] |

    A week of minutes: `episode_steps=10080`; a week of 5-minute steps:
    `step_seconds=300, episode_steps=2016` (with `boot_steps=1`).

    >>> import gymnasium as gym
    >>> import opsgym.envs
    >>> env = gym.make("opsgym/Autoscaling-v0", workload="nasa", boot_steps=5)
    >>> observation, info = env.reset(seed=0)
    >>> observation.shape
    (26,)

    ## Vector Environment

    `gym.make_vec("opsgym/Autoscaling-v0", num_envs=N,
    vectorization_mode="vector_entry_point")` advances N instances in numpy arrays
    (`opsgym.envs.autoscaling.vector`); instance i reset with seed s + i follows this env
    reset with seed s + i to rounding (numpy's exp and log are not the standard
    library's: rewards agree to a relative 1e-9).

    ## Version History

    * v0: Initial release. `drift_ramp`, `attack` and `utc_offset_hours` added later;
      their defaults keep the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        workload: str = "synthetic",
        peak_rate: float = 1200.0,
        trace_scale: float | None = None,
        daily_trough: float = 0.2,
        business_boost: float = 0.4,
        lunch_peak: float = 0.15,
        weekend_factor: float = 0.55,
        utc_offset_hours: float = 0.0,
        noise: float = 0.05,
        flash_crowd_rate: float = 0.5,
        flash_crowd_size: float = 1.0,
        step_seconds: float = 60.0,
        episode_steps: int = 1440,
        window: int = 15,
        capacity_per_instance: float = 100.0,
        min_instances: int = 1,
        max_instances: int = 20,
        initial_instances: int | None = None,
        max_step_change: int = 2,
        boot_steps: int = 3,
        cooldown_steps: int = 0,
        bill_booting: bool = True,
        instance_price: float = 0.10,
        latency_target: float = 0.05,
        latency_quantile: float = 0.95,
        max_utilization: float = 0.98,
        drift: str = "none",
        drift_factor: float = 1.5,
        drift_shift_hours: float = 3.0,
        drift_ramp: int = 0,
        attack: str = "none",
        attack_size: float = 0.5,
        attack_steps: int = 5,
        attack_bursts: int = 3,
        cost_weight: float = 1.0,
        sla_weight: float = 0.05,
        drop_weight: float = 0.01,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(workload, str) or not workload:
            raise ValueError(
                f"workload must be 'synthetic', 'nasa' or a CSV path, got {workload!r}"
            )
        peak_rate = validation.positive("peak_rate", peak_rate)
        if trace_scale is not None:
            trace_scale = validation.positive("trace_scale", trace_scale)
        shape = SeasonalShape(
            daily_trough=validation.probability("daily_trough", daily_trough),
            business_boost=validation.non_negative("business_boost", business_boost),
            lunch_peak=validation.non_negative("lunch_peak", lunch_peak),
            weekend_factor=validation.in_range(
                "weekend_factor", weekend_factor, 0.0, 1.0, open_low=True
            ),
        )
        noise = validation.in_range("noise", noise, 0.0, 2.0)
        flash_crowd_rate = validation.non_negative("flash_crowd_rate", flash_crowd_rate)
        flash_crowd_size = validation.non_negative("flash_crowd_size", flash_crowd_size)
        self.step_seconds = validation.in_range(
            "step_seconds", step_seconds, 0.0, SECONDS_PER_DAY, open_low=True
        )  # [s]
        steps_per_day = SECONDS_PER_DAY / self.step_seconds
        if abs(steps_per_day - round(steps_per_day)) > 1e-9:
            raise ValueError(f"step_seconds must divide a day (86400 s), got {step_seconds!r}")
        self.episode_steps = validation.integer("episode_steps", episode_steps, minimum=1)
        self.window = validation.integer("window", window, minimum=1)
        self.capacity = validation.positive("capacity_per_instance", capacity_per_instance)
        self.min_instances = validation.integer("min_instances", min_instances, minimum=1)
        self.max_instances = validation.integer(
            "max_instances", max_instances, minimum=self.min_instances
        )
        if initial_instances is not None:
            initial_instances = validation.integer(
                "initial_instances", initial_instances, minimum=self.min_instances
            )
            if initial_instances > self.max_instances:
                raise ValueError(
                    f"initial_instances must be <= max_instances ({self.max_instances}), "
                    f"got {initial_instances!r}"
                )
        self.initial_instances = initial_instances
        self.max_step_change = validation.integer("max_step_change", max_step_change, minimum=1)
        self.boot_steps = validation.integer("boot_steps", boot_steps, minimum=0)
        self.cooldown_steps = validation.integer("cooldown_steps", cooldown_steps, minimum=0)
        if not isinstance(bill_booting, bool):
            raise TypeError(f"bill_booting must be a bool, got {bill_booting!r}")
        self.bill_booting = bill_booting
        self.instance_price = validation.non_negative("instance_price", instance_price)  # [$/h]
        self.latency_quantile = validation.in_range(
            "latency_quantile", latency_quantile, 0.0, 1.0, open_low=True, open_high=True
        )
        self.latency_target = validation.positive("latency_target", latency_target)  # [s]
        service_quantile = -math.log(1.0 - self.latency_quantile) / self.capacity
        if self.latency_target <= service_quantile:
            raise ValueError(
                f"latency_target must exceed the service time's own {self.latency_quantile:g} "
                f"quantile ({service_quantile:g} s), or no fleet meets it; got {latency_target!r}"
            )
        max_utilization = validation.in_range(
            "max_utilization", max_utilization, 0.0, 1.0, open_low=True, open_high=True
        )
        drift = validation.choice("drift", drift, DRIFTS)
        drift_factor = validation.positive("drift_factor", drift_factor)
        drift_shift_hours = validation.in_range("drift_shift_hours", drift_shift_hours, 0.0, 24.0)
        drift_ramp = validation.integer("drift_ramp", drift_ramp, minimum=0)
        utc_offset_hours = validation.in_range("utc_offset_hours", utc_offset_hours, -12.0, 14.0)
        attack = validation.choice("attack", attack, ATTACKS)
        attack_size = validation.positive("attack_size", attack_size)
        attack_steps = validation.integer("attack_steps", attack_steps, minimum=1)
        attack_bursts = validation.integer("attack_bursts", attack_bursts, minimum=1)
        self.cost_weight = validation.non_negative("cost_weight", cost_weight)
        self.sla_weight = validation.non_negative("sla_weight", sla_weight)
        self.drop_weight = validation.non_negative("drop_weight", drop_weight)
        self.render_mode = validation.render_mode(render_mode, self.metadata["render_modes"])

        self.workload = EpisodeWorkload(
            workload,
            self.step_seconds,
            self.episode_steps,
            self.window,
            peak_rate,
            trace_scale,
            shape,
            noise,
            flash_crowd_rate,
            flash_crowd_size,
            drift,
            drift_factor,
            round(drift_shift_hours * 3600.0 / self.step_seconds),
            drift_ramp,
            attack,
            attack_size,
            attack_steps,
            attack_bursts,
            utc_offset_hours * 3600.0,
        )
        self.fleet = Fleet(
            self.min_instances, self.max_instances, self.boot_steps, self.cooldown_steps
        )
        self.service = ServiceModel(
            self.capacity, max_utilization, self.latency_target, self.latency_quantile
        )
        self.price_per_step = self.instance_price * self.step_seconds / 3600.0  # [$]
        self.full_capacity = self.max_instances * self.capacity  # [requests/s]

        k = self.max_step_change
        self.action_space = spaces.Discrete(2 * k + 1)
        self._guard = EpisodeGuard()
        size = len(FIELDS) + self.window
        low = np.zeros(size, dtype=np.float32)
        low[FIELDS.index("day_sin") : FIELDS.index("week_cos") + 1] = -1.0
        self.observation_space = spaces.Box(low, np.ones(size, dtype=np.float32), dtype=np.float32)

        self._episode: EpisodeLoad | None = None
        self._load: list[float] = []
        self._start_seconds = 0.0
        self._step = 0
        self._last = (0.0, 0.0, 0.0, 0.0)  # utilization, load, latency quantile, dropped fraction
        self._recent: list[float] = []
        self._totals: dict[str, float] = {}

    # ------------------------------------------------------------------ Gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._episode = self.workload.start(self.np_random)
        self._start_seconds = self._episode.start_seconds
        self._load = self._episode.rates
        history = self._load[: self.window]
        first = history[-1]
        if self.initial_instances is None:
            running = math.ceil(first / (INITIAL_UTILIZATION * self.capacity))
            running = min(max(running, self.min_instances), self.max_instances)
        else:
            running = self.initial_instances
        self.fleet.reset(running)
        self._step = 0
        scale = self.full_capacity
        self._recent = [rate / (rate + scale) for rate in history]
        utilization, dropped, _, latency, _ = self.service.outcome(running, first)
        self._last = (utilization, first, latency, dropped / first if first > 0 else 0.0)
        self._totals = dict.fromkeys(TOTALS, 0.0)
        self._guard.start()
        return self._observation(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self._guard.check()
        action_index = validation.action_index(action, self.action_space.n)
        t = self._step
        fleet = self.fleet
        change = fleet.scale(action_index - self.max_step_change)
        index = self.window + t
        if index >= len(self._load):
            self._episode.extend(index + 1)
        rate = self._load[index]
        running = fleet.running
        booting = fleet.total - running
        billed = running + booting if self.bill_booting else running
        service = self.service
        outcome = service.outcome(running, rate)
        utilization, dropped_rate, violated, latency, mean_latency = outcome
        step_cost = self.instance_cost(billed) + self.penalty(dropped_rate, violated)
        info = self.step_info(rate, running, booting, billed, change, outcome)
        requests = rate * self.step_seconds
        dropped, cost = info["dropped"], info["cost_usd"]
        totals = self._totals
        totals["objective"] += step_cost
        totals["cost"] += cost
        totals["violations"] += float(violated)
        totals["requests"] += requests
        totals["dropped"] += dropped
        totals["instances"] += billed
        totals["utilization"] += utilization
        totals["latency"] += mean_latency * (requests - dropped)

        fleet.advance()
        self._last = (utilization, rate, latency, dropped_rate / rate if rate > 0 else 0.0)
        recent = self._recent
        recent.pop(0)
        recent.append(rate / (rate + self.full_capacity))
        self._step = t + 1
        truncated = self._step == self.episode_steps
        if truncated:
            self._guard.end()
            info["episode_metrics"] = self.episode_metrics()
        return self._observation(), -step_cost, False, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            from opsgym.envs.autoscaling.render import rgb_frame  # Pillow loads on demand

            return rgb_frame(self)
        if self.render_mode != "ansi":
            return None
        fleet = self.fleet
        utilization, rate, latency, dropped = self._last
        return (
            f"step {self._step}/{self.episode_steps}: {fleet.running} running, "
            f"{fleet.total - fleet.running} booting, load {rate:.1f}/s, "
            f"utilization {utilization:.2f}, p{100 * self.latency_quantile:g} "
            f"{1000 * latency:.1f} ms, dropped {100 * dropped:.1f}%"
        )

    # ------------------------------------------------------------------ costs and state

    def instance_cost(self, billed: int) -> float:
        """The weighted instance term of a step's cost (minus its reward's cost part);
        for a number or an array of them, as the vector env asks."""
        return self.cost_weight * billed * self.price_per_step

    def penalty(self, dropped_rate: float, violated: bool) -> float:
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

    @property
    def current_step(self) -> int:
        """The index of the next step of the episode."""
        return self._step

    def episode_load(self) -> list[float]:
        """The request rate of every step of the episode [requests/s] (privileged)."""
        return self._episode.extend(self._episode.length)[self.window :]

    def observation_fields(self) -> dict[str, int | slice]:
        """Where each feature sits in the observation, by name."""
        fields: dict[str, int | slice] = {name: i for i, name in enumerate(FIELDS)}
        fields["window"] = slice(len(FIELDS), len(FIELDS) + self.window)
        return fields

    def unsquash_rate(self, value: float) -> float:
        """A request rate [requests/s] from its normalized, squashed observation."""
        return self.full_capacity * value / (1.0 - value) if value < 1.0 else math.inf

    def episode_metrics(self) -> dict[str, float]:
        """Cost, SLA attainment and drops over the steps taken so far."""
        if self._step == 0:
            return {}
        return summarize_totals(self._totals, self._step)

    def _observation(self) -> np.ndarray:
        fleet = self.fleet
        utilization, rate, latency, dropped = self._last
        ratio = latency / self.latency_target
        seconds = self._start_seconds + self._step * self.step_seconds
        day = 2.0 * math.pi * (seconds % SECONDS_PER_DAY) / SECONDS_PER_DAY
        week = 2.0 * math.pi * (seconds % SECONDS_PER_WEEK) / SECONDS_PER_WEEK
        size = self.max_instances
        cooldown = fleet.cooldown_left / self.cooldown_steps if self.cooldown_steps else 0.0
        return np.array(
            [
                fleet.running / size,
                (fleet.total - fleet.running) / size,
                utilization,
                rate / (rate + self.full_capacity),
                ratio / (1.0 + ratio),
                dropped,
                cooldown,
                math.sin(day),
                math.cos(day),
                math.sin(week),
                math.cos(week),
                *self._recent,
            ],
            dtype=np.float32,
        )

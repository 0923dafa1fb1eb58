"""The Gymnasium environment around :mod:`opsgym.envs.autoscaling.simulator`."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.autoscaling.simulator import Fleet, ServiceModel
from opsgym.envs.autoscaling.workload import EpisodeLoad, EpisodeWorkload
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.elementwise import SCALAR
from opsgym.envs.core.seasonal import SECONDS_PER_DAY, SECONDS_PER_WEEK

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


def service_model(config: AutoscalingConfig) -> ServiceModel:
    """The M/M/c model of ``config``'s running instances."""
    return ServiceModel(
        config.capacity_per_instance,
        config.max_utilization,
        config.latency_target,
        config.latency_quantile,
    )


def episode_start(config: AutoscalingConfig, service: ServiceModel, rates: list[float]):
    """The fleet an episode starts with, its last step's (utilization, load, latency
    quantile, dropped share) and its window of squashed rates, from its rates (the
    window's history first)."""
    first = rates[config.window - 1]
    running = config.initial_fleet(first)
    utilization, dropped, _, latency, _ = service.outcome(running, first)
    last = (utilization, first, latency, dropped / first if first > 0 else 0.0)
    return running, last, [rate / (rate + config.full_capacity) for rate in rates[: config.window]]


def observed_fields(xp, config: AutoscalingConfig, running, booting, cooldown_left, last, seconds):
    """The values of :data:`FIELDS`, from the fleet, the last step's (utilization, load,
    latency quantile, dropped share) and the clock [s] (scalars, or arrays over
    instances; ``xp`` as :mod:`opsgym.envs.core.elementwise` says)."""
    utilization, rate, latency, dropped = last
    ratio = latency / config.latency_target
    day = 2.0 * math.pi * (seconds % SECONDS_PER_DAY) / SECONDS_PER_DAY
    week = 2.0 * math.pi * (seconds % SECONDS_PER_WEEK) / SECONDS_PER_WEEK
    size = config.max_instances
    steps = config.cooldown_steps
    return (
        running / size,
        booting / size,
        utilization,
        rate / (rate + config.full_capacity),
        ratio / (1.0 + ratio),
        dropped,
        cooldown_left / steps if steps else 0.0 * cooldown_left,
        xp.sin(day),
        xp.cos(day),
        xp.sin(week),
        xp.cos(week),
    )


def step_totals(config: AutoscalingConfig, rate, billed, step_cost, info, outcome) -> tuple:
    """What a step adds to each of :data:`TOTALS`, in that order, from its request rate,
    billed instances, cost, info and service outcome (scalars, or arrays over instances)."""
    utilization, _, violated, _, mean_latency = outcome
    requests = rate * config.step_seconds
    dropped = info["dropped"]
    return (
        step_cost,
        info["cost_usd"],
        1.0 * violated,
        requests,
        dropped,
        billed,
        utilization,
        mean_latency * (requests - dropped),
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


class AutoscalingEnv(ConfiguredEnv[np.ndarray, int], config_class=AutoscalingConfig):
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

    {ARGUMENTS}

    A week of minutes: `episode_steps=10080`; a week of 5-minute steps:
    `step_seconds=300, episode_steps=2016` (with `boot_steps=1`).

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
    env_id = "opsgym/Autoscaling-v0"
    example = {"workload": "nasa", "boot_steps": 5}

    def _set_up(self, config: AutoscalingConfig) -> None:
        self.workload = EpisodeWorkload(config)
        self.fleet = Fleet(
            config.min_instances, config.max_instances, config.boot_steps, config.cooldown_steps
        )
        self.service = service_model(config)
        self._episode: EpisodeLoad | None = None
        self._load: list[float] = []
        self._start_seconds = 0.0
        self._step = 0
        self._last = (0.0, 0.0, 0.0, 0.0)  # utilization, load, latency quantile, dropped fraction
        self._recent: list[float] = []
        self._totals = [0.0] * len(TOTALS)  # in the order of TOTALS

    @staticmethod
    def spaces(config: AutoscalingConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        size = len(FIELDS) + config.window
        low = np.zeros(size, dtype=np.float32)
        low[FIELDS.index("day_sin") : FIELDS.index("week_cos") + 1] = -1.0
        observations = spaces.Box(low, np.ones(size, dtype=np.float32), dtype=np.float32)
        return spaces.Discrete(2 * config.max_step_change + 1), observations

    # ------------------------------------------------------------------ Gymnasium API

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        self._episode = self.workload.start(self.np_random)
        self._start_seconds = self._episode.start_seconds
        self._load = self._episode.rates
        running, self._last, self._recent = episode_start(self.config, self.service, self._load)
        self.fleet.reset(running)
        self._step = 0
        self._totals = [0.0] * len(TOTALS)
        return self._observation(), {}

    def _advance(self, action_index: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        t = self._step
        fleet = self.fleet
        change = fleet.scale(action_index - config.max_step_change)
        index = config.window + t
        if index >= len(self._load):
            self._episode.extend(index + 1)
        rate = self._load[index]
        running = fleet.running
        booting = fleet.total - running
        billed = running + booting if config.bill_booting else running
        service = self.service
        outcome = service.outcome(running, rate)
        utilization, dropped_rate, violated, latency, _ = outcome
        step_cost = config.instance_cost(billed) + config.penalty(dropped_rate, violated)
        info = config.step_info(rate, running, booting, billed, change, outcome)
        increments = step_totals(config, rate, billed, step_cost, info, outcome)
        self._totals = list(map(operator.add, self._totals, increments))

        fleet.advance()
        self._last = (utilization, rate, latency, dropped_rate / rate if rate > 0 else 0.0)
        recent = self._recent
        recent.pop(0)
        recent.append(rate / (rate + config.full_capacity))
        self._step = t + 1
        truncated = self._step == config.episode_steps
        return self._observation(), -step_cost, False, truncated, info

    def _text_frame(self) -> str:
        fleet = self.fleet
        utilization, rate, latency, dropped = self._last
        return (
            f"step {self._step}/{self.config.episode_steps}: {fleet.running} running, "
            f"{fleet.total - fleet.running} booting, load {rate:.1f}/s, "
            f"utilization {utilization:.2f}, p{100 * self.config.latency_quantile:g} "
            f"{1000 * latency:.1f} ms, dropped {100 * dropped:.1f}%"
        )

    # ------------------------------------------------------------------ costs and state

    @property
    def current_step(self) -> int:
        """The index of the next step of the episode."""
        return self._step

    def episode_load(self) -> list[float]:
        """The request rate of every step of the episode [requests/s] (privileged)."""
        return self._episode.extend(self._episode.length)[self.config.window :]

    def observation_fields(self) -> dict[str, int | slice]:
        """Where each feature sits in the observation, by name."""
        fields: dict[str, int | slice] = {name: i for i, name in enumerate(FIELDS)}
        fields["window"] = slice(len(FIELDS), len(FIELDS) + self.config.window)
        return fields

    def unsquash_rate(self, value: float) -> float:
        """A request rate [requests/s] from its normalized, squashed observation."""
        return self.config.full_capacity * value / (1.0 - value) if value < 1.0 else math.inf

    def episode_metrics(self) -> dict[str, float]:
        """Cost, SLA attainment and drops over the steps taken so far."""
        if self._step == 0:
            return {}
        return summarize_totals(dict(zip(TOTALS, self._totals)), self._step)

    def _observation(self) -> np.ndarray:
        fleet, config = self.fleet, self.config
        seconds = self._start_seconds + self._step * config.step_seconds
        fields = observed_fields(
            SCALAR,
            config,
            fleet.running,
            fleet.total - fleet.running,
            fleet.cooldown_left,
            self._last,
            seconds,
        )
        return np.array([*fields, *self._recent], dtype=np.float32)

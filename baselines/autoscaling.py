"""The scaling rules operators run today, acting on Autoscaling observations.

Every rule reads only the observation, plus static configuration an operator knows
(capacity per instance, fleet bounds, boot time, step length, the historical peak). The
privileged reference is :class:`opsgym.envs.autoscaling.PerfectForesightOracle`.
Each rule's default utilization target is the best of a sweep over 0.5-0.9 in steps of
0.05, by mean episode cost on training seeds 0-19 of the default configuration
(static_peak 0.9, hpa 0.7, predictive 0.7).
"""

from __future__ import annotations

import math

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.autoscaling import AutoscalingEnv, PerfectForesightOracle
from opsgym.envs.core import validation
from opsgym.envs.core.seasonal import SECONDS_PER_WEEK


class _Rule:
    def __init__(self, env, target_utilization: float) -> None:
        unwrapped = validation.unwrapped_as(env, AutoscalingEnv, f"{type(self).__name__}")
        self.env = unwrapped
        self.target = target_utilization
        self.k = unwrapped.config.max_step_change
        self.size = unwrapped.config.max_instances
        self.fields = unwrapped.observation_fields()

    def counts(self, observation) -> tuple[int, int]:
        """Running and booting instances, read back from the observation."""
        fields = self.fields
        running = round(float(observation[fields["running"]]) * self.size)
        booting = round(float(observation[fields["booting"]]) * self.size)
        return running, booting

    def instances_for(self, rate: float, target: float | None = None) -> int:
        """The fewest instances that serve ``rate`` at ``target`` utilization (default: the
        rule's), in bounds."""
        config = self.env.config
        utilization = self.target if target is None else target
        wanted = math.ceil(rate / (utilization * config.capacity_per_instance) - 1e-9)
        return min(max(wanted, config.min_instances), config.max_instances)

    def action_towards(self, desired: int, total: int) -> int:
        """The action whose change moves the fleet toward ``desired``, at most k a step."""
        return min(max(desired - total, -self.k), self.k) + self.k

    def scale_for(self, observation, rate: float, target: float | None = None) -> int:
        """The action toward the fleet that serves ``rate`` at ``target`` utilization
        (default: the rule's), from the fleet the observation shows."""
        running, booting = self.counts(observation)
        return self.action_towards(self.instances_for(rate, target), running + booting)

    def window_loads(self, observation) -> list[float]:
        """The loads of the observation's window, oldest first, in requests per second."""
        return [self.env.unsquash_rate(float(x)) for x in observation[self.fields["window"]]]

    def week_slot(self, observation, period: int) -> int:
        """The slot of the step about to be taken, in a week of ``period`` slots, read
        from the observation's week clock."""
        fields = self.fields
        angle = math.atan2(
            float(observation[fields["week_sin"]]), float(observation[fields["week_cos"]])
        )
        return round(angle / (2.0 * math.pi) * period) % period


class StaticPeak(_Rule):
    """Provision once for the historical peak load, at the target utilization, and hold.

    The peak is the synthetic profile's configured weekday peak, or a trace's largest
    recorded rate: what an operator sizing a fixed fleet would plan for.
    """

    def __init__(self, env, seed: int | None = None, target_utilization: float = 0.9) -> None:
        super().__init__(env, target_utilization)
        self.desired = self.instances_for(self.env.workload.peak_rate)

    def act(self, observation) -> int:
        running, booting = self.counts(observation)
        return self.action_towards(self.desired, running + booting)


class HorizontalPodAutoscaler(_Rule):
    """The Kubernetes HPA rule on utilization.

    With r = utilization / target over the running (ready) instances: hold while
    |r - 1| <= ``tolerance``, else desire ceil(r * running). When that would scale up
    while instances are still booting, the booting ones count at 0% utilization: the
    ratio is recomputed over all instances, and the fleet holds if it is then within
    tolerance or below 1, and otherwise never shrinks. A scale-down follows the largest
    recommendation of the last ``stabilization_seconds`` (the scale-down stabilization
    window). Source: Kubernetes documentation, "Horizontal Pod Autoscaling", algorithm
    details, and its replica calculator (defaults: tolerance 0.1, scale-down
    stabilization window 300 s).
    """

    def __init__(
        self,
        env,
        seed: int | None = None,
        target_utilization: float = 0.7,
        tolerance: float = 0.1,
        stabilization_seconds: float = 300.0,
    ) -> None:
        super().__init__(env, target_utilization)
        self.tolerance = tolerance
        self.window = max(1, round(stabilization_seconds / self.env.config.step_seconds))
        self.recommendations: list[int] = []

    def act(self, observation) -> int:
        running, booting = self.counts(observation)
        total = running + booting
        ready_ratio = float(observation[self.fields["utilization"]]) / self.target
        if booting == 0 or ready_ratio <= 1.0:
            if abs(ready_ratio - 1.0) <= self.tolerance:
                desired = total
            else:
                desired = math.ceil(ready_ratio * running)
        else:
            ratio = ready_ratio * running / total  # booting instances at 0%
            if abs(ratio - 1.0) <= self.tolerance or ratio < 1.0:
                desired = total
            else:
                desired = max(total, math.ceil(ratio * total))
        desired = min(max(desired, self.env.config.min_instances), self.env.config.max_instances)
        recent = self.recommendations
        recent.append(desired)
        if len(recent) > self.window:
            recent.pop(0)
        return self.action_towards(max(recent), total)


class HoltPredictive(_Rule):
    """Forecast the load one boot delay ahead and provision for it now.

    Holt's linear-trend exponential smoothing (Holt, 1957) runs over the observation's
    window of recent load and forecasts h = boot_steps + 1 steps ahead; the fleet is
    sized, at the target utilization, for the larger of the forecast and the highest
    load of the last ``stabilization_seconds`` (an instance launched now serves only
    h - 1 steps later, so scale-ups follow the forecast; one stopped now stops now, so
    scale-downs wait out the same window as the HPA's, and minute-to-minute noise does
    not make the fleet flap).
    """

    def __init__(
        self,
        env,
        seed: int | None = None,
        target_utilization: float = 0.7,
        level_smoothing: float = 0.5,
        trend_smoothing: float = 0.2,
        stabilization_seconds: float = 300.0,
    ) -> None:
        super().__init__(env, target_utilization)
        self.alpha = level_smoothing
        self.beta = trend_smoothing
        self.horizon = self.env.config.boot_steps + 1
        self.recent = max(1, round(stabilization_seconds / self.env.config.step_seconds))

    def forecast(self, loads: list[float]) -> float:
        """Holt's forecast ``horizon`` steps after the last of ``loads``."""
        level, trend = loads[0], loads[1] - loads[0] if len(loads) > 1 else 0.0
        alpha, beta = self.alpha, self.beta
        for load in loads[1:]:
            previous = level
            level = alpha * load + (1.0 - alpha) * (level + trend)
            trend = beta * (level - previous) + (1.0 - beta) * trend
        return level + self.horizon * trend

    def act(self, observation) -> int:
        loads = self.window_loads(observation)
        return self.scale_for(observation, max(max(loads[-self.recent :]), self.forecast(loads)))


class SeasonalPredictive(HoltPredictive):
    """Seasonal naive forecast with a level adjustment, learned from the loads it sees.

    Like a cloud's predictive scaler, which forecasts from the past weeks of its own
    metrics, it remembers the load of every step of the week it has observed (across
    episodes: an exponentially weighted mean per time-of-week slot, read from the
    observation's week clock). It forecasts the load h = boot_steps + 1 steps ahead as
    the remembered load of that slot, scaled by the ratio of the last ``level_steps``
    observed loads to the remembered loads of their slots (so a changed level carries
    over). Where a needed slot has never been seen, it falls back to Holt's trend. The
    fleet is then sized as by :class:`HoltPredictive`.
    """

    def __init__(
        self,
        env,
        seed: int | None = None,
        target_utilization: float = 0.7,
        memory_smoothing: float = 0.3,
        level_steps: int = 5,
        **holt,
    ) -> None:
        super().__init__(env, seed, target_utilization, **holt)
        self.gamma = memory_smoothing
        self.level_steps = min(level_steps, self.env.config.window)
        self.period = round(SECONDS_PER_WEEK / self.env.config.step_seconds)
        self.memory: list[float | None] = [None] * self.period

    def act(self, observation) -> int:
        loads = self.window_loads(observation)
        now = self.week_slot(observation, self.period)
        memory, period = self.memory, self.period
        for back, load in enumerate(reversed(loads), start=1):
            slot = (now - back) % period
            known = memory[slot]
            memory[slot] = load if known is None else known + self.gamma * (load - known)
        # the level ratio compares the last loads with what the slots held before them
        recent = loads[-self.level_steps :]
        remembered = [memory[(now - back) % period] for back in range(len(recent), 0, -1)]
        ahead = memory[(now + self.horizon - 1) % period]
        forecast = self.forecast(loads)
        if ahead is not None and sum(remembered) > 0.0:
            forecast = ahead * sum(recent) / sum(remembered)
        return self.scale_for(observation, max(max(loads[-self.recent :]), forecast))


def forest_forecast(env, seed: int | None = None):
    """The learned-forecast autoscaler of :mod:`opsgym.baselines.ml_forecast` (scikit-learn,
    ``opsgym[ml]``), which falls back to the HPA above."""
    from opsgym.baselines.ml_forecast import ForestForecastAutoscaler

    return ForestForecastAutoscaler(env, seed)


POLICIES = {
    "random": RandomPolicy,
    "static_peak": StaticPeak,
    "hpa": HorizontalPodAutoscaler,
    "predictive": HoltPredictive,
    "seasonal": SeasonalPredictive,
    "ml_forecast": forest_forecast,
    "oracle": seedless(PerfectForesightOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "hpa"

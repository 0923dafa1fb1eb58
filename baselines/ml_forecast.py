"""A learned-forecast autoscaler for Autoscaling: a random forest for the weekly pattern,
a linear trend for what the pattern misses, the HPA while it knows too little.

The predictive autoscaler of the exercises, on scikit-learn's ``RandomForestRegressor``.
It reads only the observation: the request rates of its window and the week clock. It
keeps a week of history, the last load it observed at every minute of the week (across
episodes, as a cloud's predictive scaler forecasts from past weeks of its own metrics),
and on a schedule fits a forest on (minute of day, day of week) to the log of that load:
the pattern. Since its inputs take only one value per minute of the week, the fitted
forest is tabulated once per fit, with the spread of its trees, so a step costs a table
look-up. The trend is a least-squares line through the residuals (log load minus
pattern) of the last ``trend_steps`` steps, extrapolated: it carries a level drift or a
day that runs hotter than the pattern.

A forecast h steps ahead is pattern plus trend; its uncertainty, in log units, combines
the trees' spread at the target minute with how much the residual has moved over h
steps in the recent past, so confidence falls with the horizon. The fleet is sized, at
the target utilization, for the forecast one standard deviation up, over the steps until
an instance launched now serves (h = 1 .. boot_steps + 1), and never below the highest
load of the last ``stabilization_seconds`` (as :class:`HoltPredictive` does). It falls back
to the HPA while it has no fit, while a target minute of the day has never been seen,
while the current stretch of observations is shorter than ``trend_steps`` (a new episode
starts at another time of the week), or while the uncertainty exceeds
``max_uncertainty``.
"""

from __future__ import annotations

import math

import numpy as np

from opsgym.baselines.autoscaling import HorizontalPodAutoscaler
from opsgym.baselines.common import require_sklearn
from opsgym.envs.core import validation
from opsgym.envs.core.seasonal import SECONDS_PER_DAY, SECONDS_PER_WEEK


class ForestForecastAutoscaler(HorizontalPodAutoscaler):
    """Scales for a random-forest forecast of the load, or as the HPA when unsure.

    Args:
        env: an Autoscaling env (its fleet bounds, capacity, boot delay and clock).
        seed: seeds the forest.
        target_utilization: the utilization the fleet is sized for on a forecast (the
            fallback HPA keeps its own tuned target, 0.7).
        refit_hours: hours between refits of the forest.
        trees: trees of the forest.
        trend_steps: recent residuals the trend line is fitted through.
        max_uncertainty: the largest standard deviation of a log-load forecast it acts
            on (0.15: about 15% of the load); above it, the HPA decides.
    """

    def __init__(
        self,
        env,
        seed: int | None = None,
        target_utilization: float = 0.8,
        refit_hours: float = 6.0,
        trees: int = 10,
        trend_steps: int = 30,
        max_uncertainty: float = 0.15,
    ) -> None:
        super().__init__(env, seed)  # the fallback: the HPA as tuned, at its own target
        require_sklearn()
        self.forecast_target = validation.in_range(
            "target_utilization", target_utilization, 0.0, 1.0, open_low=True
        )
        from sklearn.ensemble import RandomForestRegressor

        self.forest_class = RandomForestRegressor
        self.seed = seed
        step = self.env.config.step_seconds
        self.steps_per_day = round(SECONDS_PER_DAY / step)
        self.period = round(SECONDS_PER_WEEK / step)
        self.refit_steps = max(
            1, round(validation.positive("refit_hours", refit_hours) * 3600 / step)
        )
        self.trees = validation.integer("trees", trees, minimum=1)
        self.trend_steps = validation.integer("trend_steps", trend_steps, minimum=2)
        self.max_uncertainty = validation.positive("max_uncertainty", max_uncertainty)
        self.horizon = self.env.config.boot_steps + 1
        self.history = np.full(self.period, np.nan)  # log1p(load) last seen at each slot
        self.pattern: np.ndarray | None = None  # the forest's mean at every slot
        self.spread = np.zeros(self.period)  # the variance of its trees there
        self.memory = 10 * self.trend_steps  # recent residuals the uncertainty is read from
        self.stretch = 0  # consecutive steps observed up to the current one
        self.slot: int | None = None
        self.since_fit = 0
        self.used_forecast = False

    def act(self, observation) -> int:
        reactive = super().act(observation)  # keeps the HPA's stabilization window current
        slot = self.week_slot(observation, self.period)
        loads = self.window_loads(observation)
        continuing = self.slot is not None and slot == (self.slot + 1) % self.period
        fresh = loads[-1:] if continuing else loads
        for back, load in enumerate(reversed(fresh), start=1):
            self.history[(slot - back) % self.period] = math.log1p(load)
        self.stretch = self.stretch + 1 if continuing else len(loads)
        self.slot = slot

        self.since_fit += 1
        observed = np.count_nonzero(~np.isnan(self.history))
        if observed >= self.steps_per_day and (
            self.pattern is None or self.since_fit >= self.refit_steps
        ):
            self._refit()
        forecasts = self.forecast(self.horizon)
        self.used_forecast = forecasts is not None
        if forecasts is None:
            return reactive
        upper = max(math.expm1(mean + math.sqrt(var)) for mean, var in forecasts)
        return self.scale_for(
            observation, max(max(loads[-self.window :]), upper), self.forecast_target
        )

    def forecast(self, horizon: int) -> list[tuple[float, float]] | None:
        """The forecasts of log1p(load) 1 .. ``horizon`` steps after the last observed
        step, each as (mean, variance); None where the forecaster cannot vouch for one."""
        seen = min(self.stretch, self.memory)
        if self.pattern is None or seen < max(self.trend_steps, horizon + 2):
            return None  # too short a stretch to fit the trend or see moves over h steps
        recent = self.residuals()
        trend = np.polyfit(np.arange(self.trend_steps), recent[-self.trend_steps :], 1)
        forecasts = []
        for h in range(1, horizon + 1):
            target = (self.slot + h - 1) % self.period
            if np.isnan(self.history[target % self.steps_per_day :: self.steps_per_day]).all():
                return None  # this minute of the day was never seen
            moved = recent[h:] - recent[:-h]
            variance = self.spread[target] + float(np.mean(moved * moved))
            if math.sqrt(variance) > self.max_uncertainty:
                return None
            level = np.polyval(trend, self.trend_steps - 1 + h)
            forecasts.append((float(self.pattern[target] + level), variance))
        return forecasts

    def residuals(self) -> np.ndarray:
        """Log load minus pattern over the current stretch's last steps, oldest first."""
        slots = (self.slot - np.arange(min(self.stretch, self.memory), 0, -1)) % self.period
        return self.history[slots] - self.pattern[slots]

    def _refit(self) -> None:
        seen = np.flatnonzero(~np.isnan(self.history))
        forest = self.forest_class(
            n_estimators=self.trees,
            min_samples_leaf=3,
            max_samples=0.5,
            random_state=self.seed,
        )
        forest.fit(self._inputs(seen), self.history[seen])
        every = self._inputs(np.arange(self.period))
        per_tree = np.stack([tree.predict(every) for tree in forest.estimators_])
        self.pattern = per_tree.mean(axis=0)
        self.spread = per_tree.var(axis=0)
        self.since_fit = 0

    def _inputs(self, slots: np.ndarray) -> np.ndarray:
        """(minute of day, day of week) of each slot, as the forest reads them."""
        day, step = np.divmod(slots, self.steps_per_day)
        return np.stack([step * 1440.0 / self.steps_per_day, day], axis=1).astype(np.float32)

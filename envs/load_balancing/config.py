"""The arguments of opsgym/LoadBalancing, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, unless, when
from opsgym.envs.core.drift import interpolate, ramp_fraction, ramp_setting
from opsgym.envs.core.kinds import Choice, Flag, Integer, Items, Real

MODES = ("full", "feedback")
SIZE_DISTRIBUTIONS = ("exponential", "pareto")
DRIFTS = ("none", "slowdown", "failures")
MAX_BACKENDS = 1_000
MAX_REQUESTS = 10_000_000  # an episode keeps each request's latency: 9 bytes a request
MODULATED = unless("arrival_amplitude", 0.0)
DRIFTING = unless("drift", "none")
FAILURES_DRIFT = when("drift", "failures")
SLOWDOWN_DRIFT = when("drift", "slowdown")
PARETO = when("size_distribution", "pareto")


@dataclass(frozen=True, kw_only=True)
class LoadBalancingConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.load_balancing.env.LoadBalancingEnv`."""

    service_rates: tuple[float, ...] = setting(
        (100.0, 80.0, 60.0, 40.0, 20.0),
        Items(POSITIVE, max_length=MAX_BACKENDS),
        "each backend's rate [work units/s]; their number sets N",
    )
    failure_probs: tuple[float, ...] = setting(
        (0.05, 0.01, 0.01, 0.002, 0.002),
        Items(PROBABILITY, max_length=MAX_BACKENDS),
        "each backend's error probability per request, one per backend",
    )
    load: float = setting(
        0.85,
        POSITIVE,
        "mean arrival rate as a fraction of `sum(service_rates)`; < 1 unless `allow_overload`",
    )
    allow_overload: bool = setting(
        False, Flag(), "accept `load >= 1` (queues then grow without bound)"
    )
    size_distribution: str = setting(
        "exponential", Choice(SIZE_DISTRIBUTIONS), "the distribution of job sizes, mean 1"
    )
    pareto_shape: float = setting(
        1.5, Real(1.0, 1e6, open_low=True), "shape of the Pareto sizes", PARETO
    )
    arrival_amplitude: float = setting(
        0.0,
        Real(0.0, 1.0, open_high=True),
        "relative depth of a sinusoidal modulation of the arrival rate",
    )
    arrival_period: float = setting(2.0, POSITIVE, "period of that modulation [s]", MODULATED)
    mode: str = setting("full", Choice(MODES), "what the agent observes (see Observation Space)")
    episode_length: int = setting(1000, Integer(1, MAX_REQUESTS), "requests per episode")
    drift: str = setting("none", Choice(DRIFTS), "how one backend degrades mid-episode")
    drift_factor: float = setting(
        0.25,
        Real(0.0, 1.0, open_low=True),
        "rate multiplier of the degraded backend",
        SLOWDOWN_DRIFT,
    )
    drift_failure_prob: float = setting(
        0.5, PROBABILITY, "failure probability of the degraded backend", FAILURES_DRIFT
    )
    drift_ramp: int = ramp_setting(
        MAX_REQUESTS, "requests over which the drift phases in linearly", DRIFTING
    )
    latency_weight: float = setting(1.0, Real(0.0), "reward weight of the response time [1/s]")
    error_weight: float = setting(
        0.25, Real(0.0), "reward weight of a failed request [s of latency]"
    )
    feedback_smoothing: float = setting(
        0.1,
        Real(0.0, 1.0, open_low=True),
        "weight of the newest answer in the recent latency and error rate",
    )

    def validate(self) -> None:
        if len(self.failure_probs) != len(self.service_rates):
            raise ValueError(
                f"failure_probs must have one probability per backend "
                f"({len(self.service_rates)}), got {len(self.failure_probs)}"
            )
        if self.load >= 1.0 and not self.allow_overload:
            raise ValueError(
                f"load must be < 1 (queues grow without bound), got {self.load!r}; "
                "set allow_overload=True to run overloaded"
            )

    @cached_property
    def n_backends(self) -> int:
        return len(self.service_rates)

    @cached_property
    def arrival_rate(self) -> float:
        """The mean arrival rate [requests/s]."""
        return self.load * sum(self.service_rates)

    @cached_property
    def time_scale(self) -> float:
        """The mean service time [s], the scale of the observed times."""
        return self.n_backends / sum(self.service_rates)

    def drifted_value(self, backend: int, fraction: float) -> float:
        """The rate (slowdown) or failure probability (failures) of the drifting
        ``backend`` when ``fraction`` of the drift is in effect."""
        if self.drift == "slowdown":
            nominal = self.service_rates[backend]
            return interpolate(nominal, nominal * self.drift_factor, fraction)
        return interpolate(self.failure_probs[backend], self.drift_failure_prob, fraction)

    def drift_fraction(self, k: int, drift_step: int) -> float | None:
        """The drift's fraction in effect at request ``k``, or None if it does not change."""
        if drift_step <= k < drift_step + max(self.drift_ramp, 1):
            return float(ramp_fraction(k, drift_step, self.drift_ramp))
        return None

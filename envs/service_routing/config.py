"""The arguments of opsgym/ServiceRouting, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, unless, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Integer, Items, Real
from opsgym.envs.service_routing.simulator import (
    DEFAULT_REGIONS,
    DEFAULT_SERVICE_MS,
    REQUEST_TYPES,
    capacity,
)

DRIFTS = ("none", "swap")
MAX_REPLICAS = 1_000
MAX_REQUESTS = 10_000_000  # an episode keeps each request's latency and features
PRIORITIES = unless("priority_share", 0.0)
SWAP_DRIFT = when("drift", "swap")


@dataclass(frozen=True, kw_only=True)
class ServiceRoutingConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.service_routing.env.ServiceRoutingEnv`."""

    service_ms: tuple[tuple[float, ...], ...] = setting(
        DEFAULT_SERVICE_MS,
        Items(Items(POSITIVE, length=len(REQUEST_TYPES)), max_length=MAX_REPLICAS),
        "each replica's mean service time [ms] per type (read, write, search); their number sets S",
    )
    regions: tuple[int, ...] = setting(
        DEFAULT_REGIONS,
        Items(Integer(0, MAX_REPLICAS - 1), max_length=MAX_REPLICAS),
        "each replica's region, one per replica",
    )
    load: float = setting(
        0.7,
        Real(0.0, 1.0, open_low=True, open_high=True),
        "arrival rate as a fraction of the fleet's capacity",
    )
    type_mix: tuple[float, ...] = setting(
        (0.6, 0.2, 0.2),
        Items(Real(0.0), length=len(REQUEST_TYPES)),
        "relative frequency of read, write, search (a positive sum)",
    )
    priority_share: float = setting(
        0.2, PROBABILITY, "probability that a request has high priority"
    )
    priority_weight: float = setting(
        1.0, Real(0.0), "extra reward weight of a high-priority request", PRIORITIES
    )
    local_delay_ms: float = setting(1.0, Real(0.0), "network delay inside a region [ms]")
    remote_delay_ms: float = setting(40.0, Real(0.0), "network delay across regions [ms]")
    timeout_ms: float = setting(250.0, POSITIVE, "latency beyond which a request times out [ms]")
    latency_weight: float = setting(1.0, Real(0.0), "reward weight of the latency [1/s]")
    timeout_weight: float = setting(1.0, Real(0.0), "reward weight of a timeout")
    drift: str = setting("none", Choice(DRIFTS), "whether two replicas swap profiles")
    drift_ramp: int = ramp_setting(
        MAX_REQUESTS, "requests over which the swap phases in linearly", SWAP_DRIFT
    )
    episode_length: int = setting(1000, Integer(1, MAX_REQUESTS), "requests per episode")
    feedback_smoothing: float = setting(
        0.1, Real(0.0, 1.0, open_low=True), "weight of the newest answer in the recent latency"
    )

    def validate(self) -> None:
        if len(self.regions) != len(self.service_ms):
            raise ValueError(
                f"regions must have one region per replica ({len(self.service_ms)}), "
                f"got {len(self.regions)}"
            )
        if sum(self.type_mix) <= 0:
            raise ValueError(f"type_mix must have a positive sum, got {list(self.type_mix)}")

    @cached_property
    def n_replicas(self) -> int:
        return len(self.service_ms)

    @cached_property
    def n_regions(self) -> int:
        return max(self.regions) + 1

    @cached_property
    def arrival_rate(self) -> float:
        """The mean arrival rate [requests/s]."""
        return self.load * capacity(self.service_ms, self.type_mix)

    @cached_property
    def time_scale(self) -> float:
        """The mean service time [s], the scale of the observed times."""
        return self.n_replicas / capacity(self.service_ms, self.type_mix)

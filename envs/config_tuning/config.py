"""The arguments of opsgym/ConfigTuning, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from opsgym.envs.config_tuning.simulator import Config
from opsgym.envs.core.config import POSITIVE, PROBABILITY, EnvConfig, setting, unless, when
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Integer, Items, Real

KNOBS = ("threads", "pool", "cache_mb", "timeout_ms")
DRIFTS = ("none", "io_shift")
MAX_INTERVALS = 100_000  # an episode keeps each interval's measurements
MAX_GRID = 1_000  # values per knob
MAX_CONFIGURATIONS = 1_000_000  # grid points of the four knobs: a vector env tables them
GRID_FIELDS = ("thread_options", "pool_options", "cache_options_mb", "timeout_options_ms")
BURSTY = unless("burst_prob", 0.0)
IO_SHIFT = when("drift", "io_shift")


@dataclass(frozen=True, kw_only=True)
class ConfigTuningConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.config_tuning.env.ConfigTuningEnv`."""

    cores: int = setting(8, Integer(1, 4096), "the machine's cores")
    request_rate: float = setting(600.0, POSITIVE, "the arrival rate outside bursts [requests/s]")
    io_share: float = setting(0.2, PROBABILITY, "the share of I/O-bound requests at the start")
    io_share_after: float = setting(0.8, PROBABILITY, "that share after the drift", IO_SHIFT)
    drift: str = setting("io_shift", Choice(DRIFTS), "how the workload mix changes")
    drift_ramp: int = ramp_setting(
        MAX_INTERVALS, "intervals over which the I/O share moves linearly", IO_SHIFT
    )
    burst_prob: float = setting(0.02, PROBABILITY, "probability that a burst starts at an interval")
    burst_factor: float = setting(
        1.3, Real(1.0, 100.0), "arrival rate multiplier during a burst", BURSTY
    )
    burst_length: int = setting(5, Integer(1, MAX_INTERVALS), "intervals a burst lasts", BURSTY)
    thread_options: tuple[int, ...] = setting(
        (4, 8, 16, 32, 64, 128, 200),
        Items(Integer(1, 100_000), max_length=MAX_GRID),
        "the threads knob's grid, increasing",
    )
    pool_options: tuple[int, ...] = setting(
        (2, 4, 6, 10, 16, 24, 32),
        Items(Integer(1, 100_000), max_length=MAX_GRID),
        "the pool knob's grid [connections], increasing",
    )
    cache_options_mb: tuple[float, ...] = setting(
        (0.0, 64.0, 256.0, 1024.0, 4096.0),
        Items(Real(0.0), max_length=MAX_GRID),
        "the cache knob's grid [MB], increasing",
    )
    timeout_options_ms: tuple[float, ...] = setting(
        (100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 30000.0),
        Items(POSITIVE, max_length=MAX_GRID),
        "the timeout knob's grid [ms], increasing",
    )
    initial_config: tuple[float, ...] = setting(
        (200, 10, 256.0, 30000.0),
        Items(Real(0.0), length=len(KNOBS)),
        "the starting threads, pool, cache [MB] and timeout [ms], each on its grid",
    )
    episode_length: int = setting(200, Integer(1, MAX_INTERVALS), "tuning intervals per episode")
    interval_seconds: float = setting(
        60.0, POSITIVE, "traffic per interval [s]; sets the measurement noise of counts"
    )
    latency_noise: float = setting(
        0.05, Real(0.0, 10.0), "log-normal noise of the measured p95 (its log's standard deviation)"
    )
    latency_target_ms: float = setting(50.0, POSITIVE, "the p95 latency target [ms]")
    latency_weight: float = setting(1.0, Real(0.0), "reward weight of the relative p95 overshoot")
    error_weight: float = setting(20.0, Real(0.0), "reward weight of the error rate")
    memory_weight: float = setting(0.05, Real(0.0), "reward weight of memory [1/GB]")

    def validate(self) -> None:
        for name, grid in zip(GRID_FIELDS, self.knob_options):
            if any(b <= a for a, b in zip(grid, grid[1:])):
                raise ValueError(f"{name} must be strictly increasing, got {list(grid)}")
        size = 1
        for grid in self.knob_options:
            size *= len(grid)
        if size > MAX_CONFIGURATIONS:
            raise ValueError(
                f"{', '.join(GRID_FIELDS)} make {size:,} configurations together; "
                f"at most {MAX_CONFIGURATIONS:,}"
            )
        for name, value, grid in zip(KNOBS, self.initial_config, self.knob_options):
            if value not in grid:
                raise ValueError(f"initial_config {name}={value:g} is not on its grid {list(grid)}")

    @cached_property
    def knob_options(self) -> tuple[tuple[float, ...], ...]:
        """The four knobs' grids, in the order of :data:`KNOBS`."""
        return tuple(getattr(self, name) for name in GRID_FIELDS)

    @cached_property
    def initial_indices(self) -> tuple[int, ...]:
        """Each knob's starting position on its grid."""
        return tuple(
            grid.index(value) for value, grid in zip(self.initial_config, self.knob_options)
        )

    @cached_property
    def latency_target(self) -> float:
        """The p95 latency target [s]."""
        return self.latency_target_ms / 1000

    def config_at(self, indices) -> Config:
        """The simulator's configuration for grid ``indices`` (one per knob)."""
        threads, pool, cache, timeout_ms = (o[i] for o, i in zip(self.knob_options, indices))
        return Config(int(threads), int(pool), cache, timeout_ms / 1000.0)

    def interval_rewards(self, overshoot, errors, memory) -> tuple[dict, Any]:
        """The reward components and the reward of an interval, from its p95 overshoot
        over the target [s], error rate and memory [GB] (numbers, or arrays over the
        vector env's instances)."""
        rewards = {"latency": -overshoot / self.latency_target, "error": -errors, "cost": -memory}
        reward = (
            self.latency_weight * rewards["latency"]
            + self.error_weight * rewards["error"]
            + self.memory_weight * rewards["cost"]
        )
        return rewards, reward

    def interval_cost(self, p95: float, error_rate: float, memory_gb: float) -> float:
        """Minus the reward of an interval with these measurements."""
        over = max(0.0, p95 - self.latency_target) / self.latency_target
        return (
            self.latency_weight * over
            + self.error_weight * error_rate
            + self.memory_weight * memory_gb
        )

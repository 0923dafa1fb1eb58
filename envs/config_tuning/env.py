"""The Gymnasium environment around :mod:`opsgym.envs.config_tuning.simulator`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.config_tuning.config import KNOBS, ConfigTuningConfig
from opsgym.envs.config_tuning.simulator import (
    Performance,
    ServiceModel,
    memory_gb,
    performance,
)
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.drift import drift_start, interpolate, ramp_fraction
from opsgym.envs.core.elementwise import SCALAR


class ConfigTuningEnv(ConfiguredEnv[np.ndarray, int], config_class=ConfigTuningConfig):
    """Tune a service's worker threads, connection pool, cache size and timeout online.

    ## Description

    A service on a machine with `cores` cores answers a Poisson stream of requests, a mix
    of CPU-bound requests (10 ms of CPU, 1 database call) and I/O-bound ones (2 ms of CPU,
    5 database calls of 4 ms each). Four knobs set how it runs: worker `threads`, database
    connection `pool` size, result `cache_mb` (which answers a saturating share of the
    database calls), and the request `timeout_ms`. Each step is a tuning interval
    (`interval_seconds` of traffic): the agent moves one knob one notch along its grid, or
    holds, then sees the interval's p95 latency, throughput, error rate, utilizations and
    workload mix.

    Performance follows a layered queueing model (see the simulator's docstring): threads
    beyond the cores add CPU contention, a pool with fewer connections than threads queues
    database calls (and more connections than the database can run slow every call), a
    short timeout turns slow requests into errors, and a long one lets the rare hung
    database call hold a thread and a connection until it is cut off. The measurements
    carry the sampling noise of a finite interval.

    The workload drifts. With `drift="io_shift"` (the default) the I/O-bound share jumps
    from `io_share` to `io_share_after` at a random interval in the middle half of the
    episode (a new feature makes requests I/O-heavy), so the best configuration moves and
    a setting tuned once decays; with `drift_ramp` > 0 the share moves linearly over
    that many intervals instead (the feature rolls out gradually). Independently, bursts raise the arrival rate by
    `burst_factor` for `burst_length` intervals; one starts at each interval with
    probability `burst_prob`.

    The episode starts from the shipped defaults of common Java stacks: 200 threads
    (Tomcat's `maxThreads`), 10 connections (HikariCP's `maximumPoolSize`), 256 MB of
    cache and a 30 s timeout.

    ## Action Space

    `Discrete(9)`: 0 holds; action `1 + 2k` moves knob k one notch down and `2 + 2k` one
    notch up, with knobs in the order threads, pool, cache_mb, timeout_ms. A move past
    either end of a knob's grid leaves it where it is.

    ## Observation Space

    A float32 `Box` of shape `(12,)` in [0, 1]. Unbounded quantities x are squashed by
    x / (x + scale). All measurements are of the interval just served.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 .. 3 | each knob's position on its grid, index / (grid size - 1) | 0 | 1 |
    | 4 | p95 latency, squashed with scale `latency_target_ms` | 0 | 1 |
    | 5 | error rate (rejected or timed out) | 0 | 1 |
    | 6 | throughput without errors [requests/s], squashed with scale `request_rate` | 0 | 1 |
    | 7 | arrival rate [requests/s], squashed with scale `request_rate` | 0 | 1 |
    | 8 | share of I/O-bound requests | 0 | 1 |
    | 9 | CPU utilization | 0 | 1 |
    | 10 | connection pool utilization | 0 | 1 |
    | 11 | thread pool utilization | 0 | 1 |

    ## Rewards

    `reward = -(latency_weight * latency_over_target + error_weight * error_rate +
    memory_weight * memory_gb)`, where `latency_over_target = max(0, p95 - target) /
    target` is the relative overshoot of the interval's p95 over `latency_target_ms` and
    `memory_gb` is what the threads (1 MB of stack each), connections (10 MB each) and
    cache hold. The components are in `info["rewards"]` as `latency`, `error` and `cost`
    (each minus its quantity). With the defaults, 1 % of errors costs as much as a p95 20 %
    over target, and 1 GB of memory as much as 5 %.

    ## Starting State

    The shipped-defaults configuration, and the measurements of one interval served with
    it (the observation `reset` returns). The workload (drift interval, bursts,
    measurement noise) is drawn from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_length` tuning intervals have passed.

    Tuning is a continuing task: the environment never terminates. On the last step
    `info["episode_metrics"]` holds the mean p95 latency [ms], error rate, throughput
    [requests/s] and memory [GB] over the episode's intervals, and the share of intervals
    whose p95 missed the target.

    {ARGUMENTS}

    {VECTOR_ENV}

    ## Version History

    * v0: Initial release. `drift_ramp` added later; its default keeps the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/ConfigTuning-v0"
    example = {"drift": "none", "io_share": 0.5}

    def _set_up(self, config: ConfigTuningConfig) -> None:
        self.model = ServiceModel(cores=config.cores)
        # the model is deterministic and the workload takes few distinct values, so each
        # (configuration, rate, mix) is computed once per environment
        self._performance_cache: dict[tuple, Performance] = {}
        self.indices = list(config.initial_indices)
        self._drift_at = 0  # the first interval of the drifted mix
        self._burst_starts: list[bool] = []
        self._burst_end = 0  # the first interval after the current burst
        self._noise = np.zeros((0, 2))  # per interval: error and throughput noise
        self._latency_factors: list[float] = []  # per interval: the p95's noise factor
        self._interval = 0  # the interval the next step serves; 0 was served by reset
        self._measured = (0.0, 0.0, 0.0)
        self._workload_served = (0.0, 0.0)
        self._truth: Performance | None = None
        self._history = np.zeros((config.episode_length, 4))  # p95 [s], errors, throughput, GB

    @staticmethod
    def spaces(config: ConfigTuningConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        observations = spaces.Box(0.0, 1.0, shape=(12,), dtype=np.float32)
        return spaces.Discrete(1 + 2 * len(KNOBS)), observations

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        rng = self.np_random
        self._drift_at, burst_starts, latency_factors, self._noise = draw_episode(self.config, rng)
        self._burst_starts = burst_starts.tolist()
        self._latency_factors = latency_factors.tolist()
        self._burst_end = 0  # bursts are resolved as intervals are served
        self.indices = list(self.config.initial_indices)
        self._interval = 0
        self._serve_interval()
        self._interval = 1
        return self._observation(), {}

    def _advance(self, index: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if index > 0:
            knob, up = divmod(index - 1, 2)
            moved = self.indices[knob] + (1 if up else -1)
            if 0 <= moved < len(self.config.knob_options[knob]):
                self.indices[knob] = moved
        p95, errors, throughput = self._serve_interval()
        memory = self._truth.memory_gb
        overshoot = max(0.0, p95 - self.config.latency_target)
        rewards, reward = self.config.interval_rewards(overshoot, errors, memory)
        self._history[self._interval - 1] = (p95, errors, throughput, memory)
        info: dict[str, Any] = {
            "p95_latency_ms": 1000.0 * p95,
            "error_rate": errors,
            "throughput": throughput,
            "memory_gb": memory,
            "config": self.config_values(),
            "rewards": rewards,
        }
        truncated = self._interval == self.config.episode_length
        self._interval += 1
        return self._observation(), reward, False, truncated, info

    def config_values(self) -> dict[str, float]:
        """The current knob settings by name, in the knobs' units."""
        return {
            name: self.config.knob_options[k][i]
            for k, (name, i) in enumerate(zip(KNOBS, self.indices))
        }

    def upcoming_workload(self) -> tuple[float, float]:
        """The rate [requests/s] and I/O share of the interval the next step serves.

        Privileged: only the oracle may read it.
        """
        k = min(self._interval, self.config.episode_length)
        return self._workload(k, self._burst_starts[k] or k < self._burst_end)

    def _workload(self, k: int, burst: bool) -> tuple[float, float]:
        config = self.config
        rate = config.request_rate * config.burst_factor if burst else config.request_rate
        fraction = float(ramp_fraction(k, self._drift_at, config.drift_ramp))
        return rate, interpolate(config.io_share, config.io_share_after, fraction)

    def model_performance(
        self, indices: Sequence[int], rate: float, io_share: float
    ) -> Performance:
        """The noise-free model performance of grid ``indices`` under a workload (cached)."""
        key = (*indices, rate, io_share)
        cached = self._performance_cache.get(key)
        if cached is None:
            cached = performance(self.model, self.config.config_at(indices), rate, io_share)
            self._performance_cache[key] = cached
        return cached

    def memory_gb(self, indices: Sequence[int]) -> float:
        """The memory the configuration at grid ``indices`` holds [GB]."""
        return memory_gb(self.model, self.config.config_at(indices))

    def observation_fields(self) -> dict[str, int | slice]:
        """Where each feature sits in the observation, by name."""
        return {
            "knobs": slice(0, 4),
            "p95_latency": 4,
            "error_rate": 5,
            "throughput": 6,
            "arrival_rate": 7,
            "io_share": 8,
            "cpu_utilization": 9,
            "pool_utilization": 10,
            "thread_utilization": 11,
        }

    @property
    def measurements(self) -> np.ndarray:
        """Per interval served by a step so far: its p95 latency [s], error rate,
        throughput [requests/s] and memory [GB], as measured (read-only)."""
        served = self._history[: self._interval - 1]
        served.flags.writeable = False
        return served

    def episode_metrics(self) -> dict[str, float]:
        """Means over the intervals served so far, in operators' units."""
        served = self.measurements
        if len(served) == 0:
            return {}
        return summarize_intervals(served, self.config.latency_target)

    def _text_frame(self) -> str:
        p95, errors, throughput = self._measured
        settings = ", ".join(f"{name}={value:g}" for name, value in self.config_values().items())
        return (
            f"interval {self._interval - 1}/{self.config.episode_length}: {settings}; "
            f"p95 {1000 * p95:.1f} ms, errors {100 * errors:.2f} %, {throughput:.0f} req/s"
        )

    def _serve_interval(self) -> tuple[float, float, float]:
        """Run the current interval: true performance, then noisy measurements of it."""
        k, config = self._interval, self.config
        if self._burst_starts[k]:
            self._burst_end = k + config.burst_length
        rate, io_share = self._workload(k, k < self._burst_end)
        self._workload_served = (rate, io_share)
        truth = self.model_performance(self.indices, rate, io_share)
        self._truth = truth
        self._measured = measure(
            SCALAR,
            config,
            rate,
            (truth.p95_latency, truth.error_rate, truth.throughput),
            self._latency_factors[k],
            self._noise[k].tolist(),
        )
        return self._measured

    def _observation(self) -> np.ndarray:
        truth = self._truth
        p95, errors, throughput = self._measured
        rate, io_share = self._workload_served
        scale = self.config.request_rate
        knobs = [i / max(1, len(o) - 1) for i, o in zip(self.indices, self.config.knob_options)]
        return np.array(
            knobs
            + [
                p95 / (p95 + self.config.latency_target),
                errors,
                throughput / (throughput + scale),
                rate / (rate + scale),
                io_share,
                min(1.0, truth.cpu_utilization),
                min(1.0, truth.pool_utilization),
                min(1.0, truth.thread_utilization),
            ],
            dtype=np.float32,
        )


def measure(xp, config: ConfigTuningConfig, rate, truth, latency_factor, noise) -> tuple:
    """The measured p95 [s], error rate and throughput of an interval served at ``rate``
    from the true ones (``truth``), the p95's noise factor and the standard normals of
    the error rate and the throughput (``noise``); ``xp`` as
    :mod:`opsgym.envs.core.elementwise` says."""
    p95, error, good = truth
    z_errors, z_throughput = noise
    requests = rate * config.interval_seconds
    spread = xp.sqrt(error * (1.0 - error) / requests)
    errors = xp.minimum(1.0, xp.maximum(0.0, error + spread * z_errors))
    spread = xp.sqrt(good / config.interval_seconds)
    return p95 * latency_factor, errors, xp.maximum(0.0, good + spread * z_throughput)


def summarize_intervals(served: np.ndarray, latency_target: float) -> dict[str, float]:
    """Episode metrics from the rows (p95 [s], error rate, throughput, memory [GB]) of
    the intervals served."""
    return {
        "p95_latency_ms": float(1000.0 * served[:, 0].mean()),
        "error_rate": float(served[:, 1].mean()),
        "throughput_rps": float(served[:, 2].mean()),
        "memory_gb": float(served[:, 3].mean()),
        "slo_miss_share": float((served[:, 0] > latency_target).mean()),
    }


def draw_episode(
    config: ConfigTuningConfig, rng: np.random.Generator
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Everything random in an episode of ``episode_length + 1`` intervals (interval 0 is
    served with the defaults at reset), drawn from ``rng`` at reset.

    Returns:
        The first interval of the drifted mix; whether a burst starts at each interval;
        the log-normal factor of each interval's measured p95; and standard normals of
        shape ``(intervals, 2)`` for the measured error rate and throughput.
    """
    count = config.episode_length + 1
    drift_at = count
    if config.drift == "io_shift":
        drift_at = 1 + drift_start(rng, count)
    burst_starts = rng.random(count) < config.burst_prob
    noise = rng.standard_normal((count, 3))
    return drift_at, burst_starts, np.exp(config.latency_noise * noise[:, 0]), noise[:, 1:]

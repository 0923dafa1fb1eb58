"""The Gymnasium environment around :mod:`opsgym.envs.service_routing.simulator`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.drift import drift_start, ramp_fraction
from opsgym.envs.service_routing import simulator as model
from opsgym.envs.service_routing.config import ServiceRoutingConfig
from opsgym.envs.service_routing.simulator import (
    REQUEST_TYPES,
    Requests,
    RequestSource,
    ServiceFleet,
)

# Requests are drawn, and turned into plain lists, this many at a time as the episode
# reaches them: drawing a whole episode at reset costs more than the rest of reset.
REQUEST_BLOCK = 64


class ServiceRoutingEnv(ConfiguredEnv[np.ndarray, int], config_class=ServiceRoutingConfig):
    """Route each request, by what it is, to one of S service replicas.

    ## Description

    Requests arrive as a Poisson process at a load given as a fraction of the fleet's
    capacity. Each carries features: its type (read, write or search, in proportions
    `type_mix`), its payload size (exponential, mean 1), its client's region and its
    priority. Replicas differ in region and in how fast they serve each type: a replica
    of profile p serves a request of type j and size s in `service_ms[p][j] * s`
    milliseconds, first come first served. A request's latency is its wait, its service
    and the network delay (`local_delay_ms` inside the client's region,
    `remote_delay_ms` across). The best replica depends on the request: no single
    replica is best for every type, and the nearest one may be slow or busy.

    With `drift="swap"` the profiles of two replicas, drawn at reset, swap at a random
    step in the middle half of the episode (a cache warms up elsewhere, an index is
    rebuilt on another node): at once (`drift_ramp=0`) or gradually, each service time
    moving linearly from its own profile's value to the other's over `drift_ramp`
    requests. Policies are not told.

    ## Action Space

    `Discrete(S)`: the index of the replica that serves the arriving request.

    ## Observation Space

    A float32 `Box` in [0, 1] of shape `(5 + R + 2S,)`, R regions (the largest replica
    region + 1) and S replicas. Times t are squashed by t / (t + scale), with scale the
    fleet's mean service time.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 .. 2 | the request's type, one-hot (read, write, search) | 0 | 1 |
    | 3 | its payload size, squashed by s / (s + 1) | 0 | 1 |
    | 4 .. 3+R | its client's region, one-hot | 0 | 1 |
    | 4+R | its priority (1 high, 0 normal) | 0 | 1 |
    | 5+R .. 4+R+S | work left at each replica [s], squashed | 0 | 1 |
    | 5+R+S .. 4+R+2S | each replica's recent response time [s] (EWMA over its answers, without network), squashed | 0 | 1 |

    ## Rewards

    `reward = -(1 + priority_weight * priority) * (latency_weight * latency +
    timeout_weight * timed_out)`, with the latency in seconds and `timed_out` 1 when it
    exceeds `timeout_ms`. The components are in `info["rewards"]`: `latency` (minus the
    latency [s]) and `timeout` (-1 or 0), before the priority factor.

    ## Starting State

    Every replica is idle with nominal profiles and a recent latency of 0. Requests, the
    drift step and the swapped pair come from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_length` requests have been routed.

    The environment never terminates. On the last step `info["episode_metrics"]` holds
    the mean, p95 and p99 latency [ms], the high-priority mean latency [ms] and the
    timeout rate.

    {ARGUMENTS}

    {VECTOR_ENV}

    ## Version History

    * v0: Initial release. `drift_ramp` added later; its default keeps the dynamics.
      Requests are now drawn in blocks as the episode reaches them: same distribution,
      but a seed gives another episode than before.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/ServiceRouting-v0"
    example = {"drift": "swap"}

    def _set_up(self, config: ServiceRoutingConfig) -> None:
        self.requests_source = request_source(config)
        self.fleet = ServiceFleet(
            config.service_ms,
            config.regions,
            config.local_delay_ms,
            config.remote_delay_ms,
            config.feedback_smoothing,
        )
        self._latencies = np.zeros(config.episode_length)
        self._timeouts = np.zeros(config.episode_length, dtype=bool)
        self._priorities = np.zeros(config.episode_length, dtype=bool)
        self._step = 0
        self._stream = self.requests_source.episode(np.random.default_rng(0))
        self._block_start = -REQUEST_BLOCK  # no block of requests yet
        self._block: tuple[list, ...] = ([], [], [], [], [])

    @staticmethod
    def spaces(config: ServiceRoutingConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        size = 5 + config.n_regions + 2 * config.n_replicas
        observations = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        return spaces.Discrete(config.n_replicas), observations

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        rng = self.np_random
        self._drift_step, self._drift_pair = draw_drift(self.config, rng)
        self._stream = self.requests_source.episode(rng)
        self.fleet.reset()
        self._step = 0
        self._block_start = -REQUEST_BLOCK  # no block yet
        self._arrive(0)
        return self._observation(), {}

    def _advance(self, replica: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        k = self._step
        _, kind, size, region, priority = self._request(k)
        latency_ms = self.fleet.dispatch(replica, kind, size, region)
        timed_out = latency_ms > config.timeout_ms
        self._latencies[k] = latency_ms
        self._timeouts[k] = timed_out
        self._priorities[k] = priority
        reward, rewards = model.step_rewards(config, latency_ms, timed_out, priority)
        info: dict[str, Any] = {
            "latency_ms": latency_ms,
            "replica": replica,
            "request_type": REQUEST_TYPES[kind],
            "timed_out": timed_out,
            "rewards": rewards,
        }
        self._step = k + 1
        truncated = self._step == config.episode_length
        if not truncated:
            self._arrive(self._step)
        return self._observation(), reward, False, truncated, info

    def _arrive(self, k: int) -> None:
        """Move the clock to request ``k``, swapping profiles first if the drift is due."""
        config = self.config
        if model.swapping(config, k, self._drift_step):
            fraction = float(ramp_fraction(k, self._drift_step, config.drift_ramp))
            a, b = self._drift_pair
            profiles = self.fleet.service_ms
            profiles[a], profiles[b] = model.swapped_profiles(config, (a, b), fraction)
        if k >= self._block_start + REQUEST_BLOCK:
            self._block_start = k
            self._block = self._stream.block_of(k).lists()
        self.fleet.queues.advance_to(self._request(k)[0])

    def _request(self, k: int) -> tuple[float, int, float, int, int]:
        """Request ``k``'s time, type, size, region and priority, from the current block."""
        i = k - self._block_start
        times, types, sizes, regions, priorities = self._block
        return times[i], types[i], sizes[i], regions[i], priorities[i]

    @property
    def requests(self) -> Requests:
        """Every request of the episode, the future too (for oracles and tests)."""
        return self._stream.all()

    @property
    def current_request(self) -> tuple[int, float, int, int]:
        """The waiting request's type, size, client region and priority (the last one
        after the episode's end)."""
        return self._request(min(self._step, self.config.episode_length - 1))[1:]

    def observation_fields(self) -> dict[str, slice]:
        """Where each feature sits in the observation, by name."""
        r, n = self.config.n_regions, self.config.n_replicas
        return {
            "type": slice(0, 3),
            "size": slice(3, 4),
            "region": slice(4, 4 + r),
            "priority": slice(4 + r, 5 + r),
            "work_left": slice(5 + r, 5 + r + n),
            "latency": slice(5 + r + n, 5 + r + 2 * n),
        }

    def episode_metrics(self) -> dict[str, float]:
        """Latency [ms] statistics and the timeout rate over the requests so far."""
        if self._step == 0:
            return {}
        k = self._step
        metrics = model.episode_metrics(
            self._latencies[:k], self._timeouts[:k], self._priorities[:k]
        )
        return {name: float(value) for name, value in metrics.items()}

    def _text_frame(self) -> str:
        kind, size, region, priority = self.current_request
        lines = [
            f"request {self._step}/{self.config.episode_length}: {REQUEST_TYPES[kind]}, size "
            f"{size:.2f}, region {region}, priority {priority}"
        ]
        for i, work in enumerate(self.fleet.queues.work_left()):
            profile = ", ".join(
                f"{t} {ms:g} ms" for t, ms in zip(REQUEST_TYPES, self.fleet.service_ms[i])
            )
            lines.append(
                f"  replica {i} (region {self.config.regions[i]}): {profile}; {1000 * work:.1f} ms queued"
            )
        return "\n".join(lines)

    def _observation(self) -> np.ndarray:
        kind, size, region, priority = self.current_request
        scale = self.config.time_scale
        kinds = [0.0, 0.0, 0.0]
        kinds[kind] = 1.0
        regions = [0.0] * self.config.n_regions
        regions[region] = 1.0
        queues = self.fleet.queues
        work = [w / (w + scale) for w in queues.work_left()]
        latency = [x / (x + scale) for x in queues.latency_ewma]
        return np.array(
            kinds + [size / (size + 1.0)] + regions + [float(priority)] + work + latency,
            dtype=np.float32,
        )


def request_source(config: ServiceRoutingConfig) -> RequestSource:
    """What draws the requests of ``config``'s episodes."""
    return RequestSource(
        config.episode_length,
        config.arrival_rate,
        config.type_mix,
        config.n_regions,
        config.priority_share,
        REQUEST_BLOCK,
    )


def draw_drift(
    config: ServiceRoutingConfig, rng: np.random.Generator
) -> tuple[int, tuple[int, int]]:
    """An episode's drift step (-1 for none) and swapped pair, drawn first at reset."""
    if config.drift != "swap" or config.n_replicas < 2:
        return -1, (0, 0)
    step = drift_start(rng, config.episode_length)
    pair = rng.choice(config.n_replicas, size=2, replace=False)
    return step, (int(pair[0]), int(pair[1]))

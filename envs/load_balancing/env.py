"""The Gymnasium environment around :mod:`opsgym.envs.load_balancing.simulator`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.load_balancing import simulator as model
from opsgym.envs.load_balancing.config import LoadBalancingConfig
from opsgym.envs.load_balancing.simulator import DRAW_BLOCK, LoadBalancerSimulator


class LoadBalancingEnv(ConfiguredEnv[np.ndarray, int], config_class=LoadBalancingConfig):
    """Dispatch each arriving request to one of N heterogeneous, failure-prone backends.

    ## Description

    A load balancer sits in front of N first-come-first-served backends that differ in
    speed and reliability. Requests arrive as a Poisson process (optionally modulated
    over time) at a load given as a fraction of the backends' total capacity; each
    request carries a size, known on arrival, drawn from an exponential or a heavy-tailed
    Pareto distribution with mean 1 work unit. A backend of rate mu serves a request of
    size s in s / mu seconds. Each step is one arrival: the agent picks the backend, the
    request's response time (waiting plus service, exact under FCFS) is charged at once,
    and the clock moves to the next arrival. A backend answers a request with an error
    with its own probability (a failed request still occupies the backend, as a request
    that reaches a broken handler does). By default the fastest backend is also the least
    reliable, so neither speed nor reliability alone decides.

    With `drift="slowdown"` or `drift="failures"` one backend, drawn at reset, degrades
    at a random step in the middle half of the episode: its rate is multiplied by
    `drift_factor`, or its failure probability becomes `drift_failure_prob`. The change
    is abrupt (`drift_ramp=0`) or gradual: over `drift_ramp` requests the rate (or the
    failure probability) moves linearly from its nominal to its degraded value. Policies
    are not told; they must notice.

    In `mode="feedback"` the agent sees only what a balancer learns from responses (each
    backend's recent latency and error rate), the setting of learning load balancers that
    cannot see queues. The feedback is delayed as in reality: a backend's recent latency
    changes only when its responses come back. So the observation stays the same over runs
    of consecutive requests, and a policy that maps it to one action herds: it sends the
    whole run to the backend that looked best. A memoryless policy must mix its actions
    (sample them) to spread load; round robin and the bandits keep their own memory.

    ## Action Space

    `Discrete(N)`: the index of the backend that serves the arriving request.

    ## Observation Space

    A float32 `Box` in [0, 1]. Unbounded quantities x are squashed by x / (x + scale),
    which keeps their order: `scale` is 1 request for queue lengths, 1 work unit (the mean)
    for sizes, and the mean service time `N / sum(service_rates)` seconds for times.

    With `mode="full"`, shape `(4N + 1,)`:

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 0 .. N-1 | requests at each backend (waiting or in service), squashed | 0 | 1 |
    | N .. 2N-1 | work left at each backend [s], squashed | 0 | 1 |
    | 2N .. 3N-1 | recent response time of each backend [s] (EWMA over its answers), squashed | 0 | 1 |
    | 3N .. 4N-1 | recent error rate of each backend (EWMA over its answers) | 0 | 1 |
    | 4N | size of the arriving request [work units], squashed | 0 | 1 |

    With `mode="feedback"`, shape `(2N,)`: the recent response times then the recent
    error rates, as at indices 2N .. 4N-1 above.

    ## Rewards

    `reward = -(latency_weight * response_time + error_weight * failed)`, with the
    response time in seconds. The components are in `info["rewards"]`: `latency` (minus
    the response time [s]) and `error` (-1 for a failed request, else 0). With the
    defaults, a failure costs as much as 0.25 s of latency (a client timeout and retry).

    ## Starting State

    All backends are idle and their recent latency and error rate are 0; the first request
    arrives after an exponential gap. Workload draws (arrival times, sizes, failure
    draws, the drift event) all come from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_length` requests have been dispatched.

    The environment never terminates: load balancing is a continuing task. On the last
    step `info["episode_metrics"]` holds the episode's mean, p50, p95 and p99 response
    time [ms] and its error rate.

    {ARGUMENTS}

    {VECTOR_ENV}

    ## Version History

    * v0: Initial release. `drift_ramp` added later; its default keeps the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/LoadBalancing-v0"
    example = {"load": 0.9, "size_distribution": "pareto"}

    def _set_up(self, config: LoadBalancingConfig) -> None:
        self.simulator = LoadBalancerSimulator(
            config.service_rates, config.failure_probs, config.feedback_smoothing
        )
        # the workload, drawn lazily in blocks of ``DRAW_BLOCK`` requests; plain lists
        # because step reads one item. ``_block_start`` is the episode step of item 0.
        self._arrival_times: list[float] = []
        self._sizes: list[float] = []
        self._failure_draws: list[float] = []
        self._block_start = 0
        self._phase = 0.0
        self._response_times = np.zeros(config.episode_length)
        self._failed = np.zeros(config.episode_length, dtype=bool)
        self._step = 0
        self._drift_step = -1
        self._drift_backend = -1

    @staticmethod
    def spaces(config: LoadBalancingConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        n = config.n_backends
        size = 4 * n + 1 if config.mode == "full" else 2 * n
        return spaces.Discrete(n), spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        start = model.draw_episode_start(self.config, self.np_random)
        self._phase, self._drift_step, self._drift_backend = start
        self._arrival_times = []
        self._block_start = 0
        self._draw_block(0.0)

        self.simulator.reset()
        self.simulator.advance_to(self._arrival_times[0])
        self._step = 0
        return self._observation(), {}

    def _draw_block(self, start: float) -> None:
        """Draw the next block of requests: a reset costs one block, not an episode."""
        self._block_start += len(self._arrival_times)
        arrivals, sizes, failure_draws = model.draw_workload_block(
            self.config, self.np_random, self._phase, start
        )
        self._arrival_times = arrivals.tolist()
        self._sizes = sizes.tolist()
        self._failure_draws = failure_draws.tolist()

    def _advance(self, backend: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        k = self._step
        fraction = config.drift_fraction(k, self._drift_step)
        if fraction is not None:
            self._apply_drift(fraction)

        sim = self.simulator
        j = k - self._block_start
        response_time, failed = sim.dispatch(backend, self._sizes[j], self._failure_draws[j])
        self._response_times[k] = response_time
        self._failed[k] = failed
        reward, rewards = model.step_rewards(config, response_time, failed)
        info: dict[str, Any] = {
            "response_time": response_time,
            "backend": backend,
            "failed": failed,
            "rewards": rewards,
        }

        self._step = k + 1
        truncated = self._step == config.episode_length
        if not truncated:
            if j + 1 == DRAW_BLOCK:
                self._draw_block(self._arrival_times[j])
                j = -1
            sim.advance_to(self._arrival_times[j + 1])
        return self._observation(), reward, False, truncated, info

    def observation_fields(self) -> dict[str, slice]:
        """Where each per-backend feature sits in the observation, by name."""
        n = self.config.n_backends
        if self.config.mode == "feedback":
            return {"latency": slice(0, n), "error_rate": slice(n, 2 * n)}
        return {
            "queue_length": slice(0, n),
            "work_left": slice(n, 2 * n),
            "latency": slice(2 * n, 3 * n),
            "error_rate": slice(3 * n, 4 * n),
            "size": slice(4 * n, 4 * n + 1),
        }

    @property
    def next_request_size(self) -> float:
        """The size of the request waiting to be dispatched [work units]; 0 after the end."""
        if self._step >= self.config.episode_length:
            return 0.0
        return self._sizes[self._step - self._block_start]

    def episode_metrics(self) -> dict[str, float]:
        """Latency percentiles [ms] and error rate over the requests dispatched so far."""
        if self._step == 0:
            return {}
        k = self._step
        metrics = model.episode_metrics(self._response_times[:k], self._failed[:k])
        return {name: float(value) for name, value in metrics.items()}

    def _text_frame(self) -> str:
        sim = self.simulator
        lines = [f"t={sim.now:.3f}s request {self._step}/{self.config.episode_length}"]
        for i, (queue, work) in enumerate(zip(sim.queue_lengths(), sim.work_left())):
            lines.append(
                f"  backend {i}: rate {sim.rates[i]:g}/s, p_fail {sim.failure_probs[i]:g}, "
                f"{queue} in system, {1000 * work:.1f} ms of work"
            )
        return "\n".join(lines)

    def _apply_drift(self, fraction: float) -> None:
        i = self._drift_backend
        sim = self.simulator
        values = sim.rates if self.config.drift == "slowdown" else sim.failure_probs
        values[i] = self.config.drifted_value(i, fraction)

    def _observation(self) -> np.ndarray:
        sim = self.simulator
        scale = self.config.time_scale
        latency = [x / (x + scale) for x in sim.latency_ewma]
        if self.config.mode == "feedback":
            return np.array(latency + sim.error_ewma, dtype=np.float32)
        queues = [len(q) / (len(q) + 1.0) for q in sim.in_flight]
        now = sim.now  # work left max(0, busy - now), squashed, without a call per backend
        work = [(b - now) / ((b - now) + scale) if b > now else 0.0 for b in sim.busy_until]
        size = self.next_request_size
        return np.array(
            queues + work + latency + sim.error_ewma + [size / (size + 1.0)], dtype=np.float32
        )

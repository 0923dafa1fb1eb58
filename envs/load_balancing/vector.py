"""N load balancers advanced together with numpy batch operations.

The dynamics are those of :class:`~opsgym.envs.load_balancing.env.LoadBalancingEnv`,
operation for operation, so that instance i of a vector env reset with seed s + i
follows exactly the trajectory of the single env reset with seed s + i under the same
actions. Each instance keeps its own random generator and draws its workload in the same
blocks as the single env; only the dispatching, the delivery of responses and the
observations are batched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from opsgym.envs.core.batch import FcfsQueues
from opsgym.envs.core.drift import drift_start
from opsgym.envs.load_balancing.env import DRAW_BLOCK, LoadBalancingEnv, draw_workload_block


class LoadBalancingVectorEnv(VectorEnv):
    """``num_envs`` instances of opsgym/LoadBalancing-v0 in numpy arrays.

    Takes the single env's keyword arguments (validated by it). Autoreset follows
    Gymnasium's default next-step mode: the step after an episode ends resets that
    instance and returns its first observation with reward 0. ``info`` holds the single
    env's per-step metrics as arrays and, for the instances whose episode ended,
    ``info["episode_metrics"]`` with the ``_``-prefixed masks that ``SyncVectorEnv`` uses.
    Rendering is not supported.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        kwargs.pop("render_mode", None)
        kwargs.pop("max_episode_steps", None)
        self.config = LoadBalancingEnv(**kwargs)
        config = self.config
        self.num_envs = num_envs
        self.n_backends = n = config.n_backends
        self.episode_length = config.episode_length
        self.single_action_space = spaces.Discrete(n)
        self.single_observation_space = config.observation_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)

        shape = (num_envs, n)
        self._nominal_rates = np.array(config.service_rates, dtype=np.float64)
        self._nominal_failure_probs = np.array(config.failure_probs, dtype=np.float64)
        self._rates = np.empty(shape)
        self._failure_probs = np.empty(shape)
        self.queues = FcfsQueues(num_envs, n, config.simulator.feedback_smoothing)
        # the workload blocks, one row per instance
        self._arrivals = np.zeros((num_envs, DRAW_BLOCK))
        self._sizes = np.zeros((num_envs, DRAW_BLOCK))
        self._failure_draws = np.zeros((num_envs, DRAW_BLOCK))
        self._position = np.zeros(num_envs, dtype=np.int64)
        self._step = np.zeros(num_envs, dtype=np.int64)
        self._drift_step = np.full(num_envs, -1, dtype=np.int64)
        self._drift_backend = np.zeros(num_envs, dtype=np.int64)
        self._phase = np.zeros(num_envs)
        self._response_times = np.zeros((num_envs, self.episode_length))
        self._failed = np.zeros((num_envs, self.episode_length), dtype=bool)
        self._generators: list[np.random.Generator] = [None] * num_envs  # type: ignore[list-item]
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._rows = np.arange(num_envs)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            if len(seed) != self.num_envs:
                raise ValueError(f"seed: expected {self.num_envs} seeds, got {len(seed)}")
            seeds = list(seed)
        for i, instance_seed in enumerate(seeds):
            self._reset_instance(i, instance_seed)
        self._autoreset[:] = False
        return self._observations(np.zeros(self.num_envs, dtype=bool)), {}

    def _reset_instance(self, i: int, seed: int | None) -> None:
        config = self.config
        if seed is not None or self._generators[i] is None:
            self._generators[i], _ = seeding.np_random(seed)
        rng = self._generators[i]
        count = self.episode_length
        self._phase[i] = rng.uniform(0.0, 2.0 * np.pi) if config.arrival_amplitude > 0 else 0.0
        if config.drift == "none":
            self._drift_step[i] = -1
        else:
            self._drift_step[i] = drift_start(rng, count)
            self._drift_backend[i] = int(rng.integers(self.n_backends))
        self._draw_block(i, 0.0)
        self._rates[i] = self._nominal_rates
        self._failure_probs[i] = self._nominal_failure_probs
        self.queues.reset(np.array([i]), self._arrivals[i, 0])
        self._step[i] = 0

    def _draw_block(self, i: int, start: float) -> None:
        self._arrivals[i], self._sizes[i], self._failure_draws[i] = draw_workload_block(
            self.config, self._generators[i], float(self._phase[i]), start
        )
        self._position[i] = 0

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"actions: expected {self.num_envs} integers, got {actions!r}")
        if actions.min() < 0 or actions.max() >= self.n_backends:
            raise ValueError(f"actions: each must be in [0, {self.n_backends}), got {actions!r}")
        config = self.config
        resetting = self._autoreset
        active = ~resetting
        if resetting.any():
            for i in np.flatnonzero(resetting):
                self._reset_instance(int(i), None)
            rows = self._rows[active]
            backends = actions[active].astype(np.int64)
        else:  # most steps: every instance moves
            rows = self._rows
            backends = actions.astype(np.int64)
        steps = self._step[rows]

        drift_steps = self._drift_step[rows]
        drifting = (steps >= drift_steps) & (steps < drift_steps + max(config.drift_ramp, 1))
        if drifting.any():
            values = self._rates if config.drift == "slowdown" else self._failure_probs
            for row, step in zip(rows[drifting].tolist(), steps[drifting].tolist()):
                backend = int(self._drift_backend[row])
                fraction = config.drift_fraction(step, int(self._drift_step[row]))
                values[row, backend] = config.drifted_value(backend, fraction)

        positions = self._position[rows]
        sizes = self._sizes[rows, positions]
        failure_draws = self._failure_draws[rows, positions]
        service_times = sizes / self._rates[rows, backends]
        failed = failure_draws < self._failure_probs[rows, backends]
        response_times = self.queues.dispatch(rows, backends, service_times, failed)
        self._response_times[rows, steps] = response_times
        self._failed[rows, steps] = failed

        latency = np.zeros(self.num_envs)
        error = np.zeros(self.num_envs)
        latency[rows] = -response_times
        error[rows] = np.where(failed, -1.0, 0.0)
        rewards = config.latency_weight * latency + config.error_weight * error

        self._step[rows] = steps + 1
        truncated = np.zeros(self.num_envs, dtype=bool)
        truncated[rows] = steps + 1 == self.episode_length
        going_on = rows[steps + 1 < self.episode_length]
        self._position[going_on] += 1
        for i in going_on[self._position[going_on] == DRAW_BLOCK]:
            self._draw_block(int(i), float(self._arrivals[i, DRAW_BLOCK - 1]))
        self.queues.advance(going_on, self._arrivals[going_on, self._position[going_on]])

        response_column = np.zeros(self.num_envs)
        response_column[rows] = response_times
        failed_column = np.zeros(self.num_envs, dtype=bool)
        failed_column[rows] = failed
        info: dict[str, Any] = {
            "response_time": response_column,
            "_response_time": active,
            "backend": np.where(active, actions, 0),
            "_backend": active,
            "failed": failed_column,
            "_failed": active,
            "rewards": {"latency": latency, "_latency": active, "error": error, "_error": active},
            "_rewards": active,
        }
        if truncated.any():
            info["episode_metrics"], info["_episode_metrics"] = self._episode_metrics(truncated)
        self._autoreset = truncated
        terminated = np.zeros(self.num_envs, dtype=bool)
        return self._observations(truncated), rewards, terminated, truncated, info

    def _observations(self, ended: np.ndarray) -> np.ndarray:
        scale = self.config.time_scale
        state = self.queues
        latency = state.latency_ewma / (state.latency_ewma + scale)
        if self.config.mode == "feedback":
            return np.concatenate([latency, state.error_ewma], axis=1).astype(np.float32)
        queues = state.count / (state.count + 1.0)
        work = state.work_left()
        sizes = self._sizes[self._rows, self._position]
        sizes = np.where(ended, 0.0, sizes)[:, None]
        return np.concatenate(
            [queues, work / (work + scale), latency, state.error_ewma, sizes / (sizes + 1.0)],
            axis=1,
        ).astype(np.float32)

    def _episode_metrics(self, ended: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
        names = ("mean_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms")
        metrics: dict[str, Any] = {name: np.zeros(self.num_envs) for name in names}
        metrics["error_rate"] = np.zeros(self.num_envs)
        for i in np.flatnonzero(ended):
            latencies_ms = 1000.0 * self._response_times[i]
            p50, p95, p99 = np.percentile(latencies_ms, [50, 95, 99])
            metrics["mean_latency_ms"][i] = latencies_ms.mean()
            metrics["p50_latency_ms"][i] = p50
            metrics["p95_latency_ms"][i] = p95
            metrics["p99_latency_ms"][i] = p99
            metrics["error_rate"][i] = self._failed[i].mean()
        for name in list(metrics):
            metrics["_" + name] = ended
        return metrics, ended

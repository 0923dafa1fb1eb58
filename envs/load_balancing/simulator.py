"""The load balancer's model, written once for the single env and the vector env.

The backends are :class:`~opsgym.envs.core.fcfs.FcfsServers` (one instance) or
:class:`~opsgym.envs.core.fcfs.FcfsQueues` (many) that serve a job of size s in
s / rate seconds. The stages around them, the workload draws, the drift, the rewards and
the episode metrics, are functions of scalars or of arrays over instances alike, so that
both drivers compute them with the same operations. The observations are assembled by
each driver: from Python lists one at a time (numpy costs more than the step there),
from arrays for many.
"""

from __future__ import annotations

import numpy as np

from opsgym.envs.core.arrivals import poisson_arrival_times
from opsgym.envs.core.drift import drift_start
from opsgym.envs.core.fcfs import FcfsQueues, FcfsServers
from opsgym.envs.load_balancing.config import LoadBalancingConfig

DRAW_BLOCK = 64  # requests drawn at a time: a reset's cost, amortized over steps
LATENCY_PERCENTILES = (50, 95, 99)


class LoadBalancerSimulator(FcfsServers):
    """N FCFS backends that differ in service rate and failure probability.

    Args:
        service_rates: each backend's service rate [work units per second]; a job of
            size s takes s / rate seconds.
        failure_probs: the probability that a backend answers a request with an error.
        feedback_smoothing: the weight of the newest response in the exponentially
            weighted moving averages of latency and error rate, in (0, 1].
    """

    def __init__(
        self,
        service_rates: tuple[float, ...],
        failure_probs: tuple[float, ...],
        feedback_smoothing: float,
    ) -> None:
        self.nominal_rates = tuple(service_rates)
        self.nominal_failure_probs = tuple(failure_probs)
        self.n_backends = len(service_rates)
        super().__init__(self.n_backends, feedback_smoothing)

    def reset(self) -> None:
        """Empty every queue and restore the nominal rates and failure probabilities."""
        super().reset()
        self.rates = list(self.nominal_rates)
        self.failure_probs = list(self.nominal_failure_probs)

    def dispatch(self, backend: int, size: float, failure_draw: float) -> tuple[float, bool]:
        """Send a job of ``size`` work units to ``backend`` at the current time.

        Args:
            backend: the index of the chosen backend.
            size: the job's size [work units].
            failure_draw: a uniform [0, 1) number; the request fails when it is below the
                backend's failure probability (common random numbers across policies).

        Returns:
            The job's response time [s] (waiting plus service) and whether it failed.
        """
        failed = failure_draw < self.failure_probs[backend]
        return self.serve(backend, size / self.rates[backend], failed), failed


class LoadBalancers(FcfsQueues):
    """:class:`LoadBalancerSimulator` for many instances at once, in numpy arrays (for
    vector envs): ``rates`` and ``failure_probs`` hold each instance's current values.

    Args:
        instances: the number of instances.
        config: the env's configuration (rates, failure probabilities, smoothing).
    """

    def __init__(self, instances: int, config: LoadBalancingConfig) -> None:
        super().__init__(instances, config.n_backends, config.feedback_smoothing)
        self.nominal = np.array([config.service_rates, config.failure_probs], dtype=np.float64)
        self.rates, self.failure_probs = np.empty((2, instances, config.n_backends))

    def reset(self, rows: np.ndarray, now: np.ndarray | float = 0.0) -> None:
        """Empty the queues of ``rows``, restore their nominal rates and failure
        probabilities and set their clocks to ``now``."""
        super().reset(rows, now)
        self.rates[rows], self.failure_probs[rows] = self.nominal

    def send(
        self, rows: np.ndarray, backends: np.ndarray, sizes: np.ndarray, failure_draws: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`LoadBalancerSimulator.dispatch` of one job in each of ``rows``."""
        failed = failure_draws < self.failure_probs[rows, backends]
        service_times = sizes / self.rates[rows, backends]
        return self.dispatch(rows, backends, service_times, failed), failed


def job_sizes(
    rng: np.random.Generator, count: int, distribution: str, pareto_shape: float
) -> np.ndarray:
    """Draw ``count`` job sizes with mean 1 work unit.

    ``"exponential"`` gives exponential service (M/M/1 backends under Poisson arrivals);
    ``"pareto"`` a type I Pareto distribution with the given shape and the minimum
    ``(shape - 1) / shape`` that makes its mean 1: the heavy-tailed sizes of the Park
    load-balancing benchmark (shape 1.5: finite mean, infinite variance).
    """
    if distribution == "exponential":
        return rng.exponential(1.0, size=count)
    scale = (pareto_shape - 1.0) / pareto_shape
    return scale * (1.0 + rng.pareto(pareto_shape, size=count))


def draw_workload_block(
    config: LoadBalancingConfig, rng: np.random.Generator, phase: float, start: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The next ``DRAW_BLOCK`` requests of ``config``'s workload: their arrival times (after
    ``start``), sizes and failure draws, in the order the single and vector envs share."""
    arrivals = poisson_arrival_times(
        rng,
        DRAW_BLOCK,
        config.arrival_rate,
        amplitude=config.arrival_amplitude,
        period=config.arrival_period,
        phase=phase,
        start=start,
    )
    sizes = job_sizes(rng, DRAW_BLOCK, config.size_distribution, config.pareto_shape)
    return arrivals, sizes, rng.random(DRAW_BLOCK)


def draw_episode_start(
    config: LoadBalancingConfig, rng: np.random.Generator
) -> tuple[float, int, int]:
    """An episode's arrival phase, drift step (-1 for none) and drifting backend, drawn
    before its first block of requests."""
    phase = rng.uniform(0.0, 2.0 * np.pi) if config.arrival_amplitude > 0 else 0.0
    if config.drift == "none":
        return phase, -1, -1
    return phase, drift_start(rng, config.episode_length), int(rng.integers(config.n_backends))


def step_rewards(config: LoadBalancingConfig, response_time, failed):
    """The reward of dispatched requests and its components, from their response times
    [s] and whether they failed (scalars, or arrays over instances)."""
    rewards = {"latency": -response_time, "error": 0.0 - failed}
    reward = config.latency_weight * rewards["latency"] + config.error_weight * rewards["error"]
    return reward, rewards


def episode_metrics(response_times: np.ndarray, failed: np.ndarray) -> dict[str, np.ndarray]:
    """Latency percentiles [ms] and error rate of requests (along the last axis)."""
    latencies_ms = 1000.0 * response_times
    p50, p95, p99 = np.percentile(latencies_ms, LATENCY_PERCENTILES, axis=-1)
    return {
        "mean_latency_ms": latencies_ms.mean(axis=-1),
        "p50_latency_ms": p50,
        "p95_latency_ms": p95,
        "p99_latency_ms": p99,
        "error_rate": failed.mean(axis=-1),
    }

"""A dispatcher in front of N first-come-first-served servers.

Each server keeps the time at which it will have finished all the work it was given
(``busy_until``). Under FCFS a request dispatched at time t to server i waits exactly
``max(0, busy_until[i] - t)`` and is then served for ``size / rate[i]``, so its response
time is known the moment it is dispatched (Lindley's recursion) and the simulation costs
O(1) per request. What a load balancer *observes* is delayed as in reality: a server's
recent latency and error rate only change when its responses come back.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class LoadBalancerSimulator:
    """State of N FCFS backends between arrivals.

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
        self.feedback_smoothing = feedback_smoothing
        self.n_backends = len(service_rates)
        self.reset()

    def reset(self) -> None:
        """Empty every queue and restore the nominal rates and failure probabilities."""
        n = self.n_backends
        self.rates = list(self.nominal_rates)
        self.failure_probs = list(self.nominal_failure_probs)
        self.now = 0.0
        self.busy_until = [0.0] * n
        # per backend, the requests not yet answered: (completion time, response time, failed)
        self.in_flight: list[deque[tuple[float, float, bool]]] = [deque() for _ in range(n)]
        self.latency_ewma = [0.0] * n
        self.error_ewma = [0.0] * n
        self.busy_time = [0.0] * n

    def advance_to(self, time: float) -> None:
        """Move the clock to ``time``, delivering every response completed by then."""
        alpha = self.feedback_smoothing
        for i, queue in enumerate(self.in_flight):
            while queue and queue[0][0] <= time:
                _, response_time, failed = queue.popleft()
                self.latency_ewma[i] += alpha * (response_time - self.latency_ewma[i])
                self.error_ewma[i] += alpha * (float(failed) - self.error_ewma[i])
        self.now = time

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
        service_time = size / self.rates[backend]
        start = max(self.now, self.busy_until[backend])
        completion = start + service_time
        self.busy_until[backend] = completion
        self.busy_time[backend] += service_time
        response_time = completion - self.now
        failed = failure_draw < self.failure_probs[backend]
        self.in_flight[backend].append((completion, response_time, failed))
        return response_time, failed

    def queue_lengths(self) -> list[int]:
        """The number of requests at each backend (waiting or in service)."""
        return [len(queue) for queue in self.in_flight]

    def work_left(self) -> list[float]:
        """The time each backend needs to finish the work it holds [s]."""
        now = self.now
        return [max(0.0, busy - now) for busy in self.busy_until]


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

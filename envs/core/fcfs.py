"""First-come-first-served servers, for one instance and batched over many.

Each server keeps the time at which it will have finished all the work it was given
(``busy_until``). Under FCFS a job dispatched at time t to server i waits exactly
``max(0, busy_until[i] - t)`` and is then served, so its response time is known the
moment it is dispatched (Lindley's recursion) and the simulation costs O(1) per job.
What a dispatcher *observes* is delayed as in reality: a server's recent latency and
error rate only change when its responses come back.

The state-changing core is written twice, side by side: :class:`FcfsServers` in plain
Python lists for one instance (one job at a time is cheaper there than numpy), and
:class:`FcfsQueues` in numpy arrays for many, delivering responses in the same order so
that instance i of the batch follows a single instance bit for bit.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class FcfsServers:
    """``servers`` FCFS queues of one instance, with the recent latency and error rate
    of each server's answers.

    Args:
        servers: the number of servers.
        smoothing: the weight of the newest response in the exponentially weighted
            moving averages of latency and error rate, in (0, 1].
    """

    def __init__(self, servers: int, smoothing: float) -> None:
        self.servers = servers
        self.smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        """Empty every queue and set the clock to 0."""
        n = self.servers
        self.now = 0.0
        self.busy_until = [0.0] * n
        # per server, the jobs not yet answered: (completion time, response time, failed)
        self.in_flight: list[deque[tuple[float, float, bool]]] = [deque() for _ in range(n)]
        self.latency_ewma = [0.0] * n
        self.error_ewma = [0.0] * n
        self.busy_time = [0.0] * n

    def advance_to(self, time: float) -> None:
        """Move the clock to ``time``, delivering every response completed by then."""
        alpha = self.smoothing
        for i, queue in enumerate(self.in_flight):
            while queue and queue[0][0] <= time:
                _, response_time, failed = queue.popleft()
                self.latency_ewma[i] += alpha * (response_time - self.latency_ewma[i])
                self.error_ewma[i] += alpha * (float(failed) - self.error_ewma[i])
        self.now = time

    def serve(self, server: int, service_time: float, failed: bool) -> float:
        """Send a job of ``service_time`` seconds to ``server`` now; returns its response
        time [s] (waiting plus service)."""
        completion = max(self.now, self.busy_until[server]) + service_time
        self.busy_until[server] = completion
        self.busy_time[server] += service_time
        response_time = completion - self.now
        self.in_flight[server].append((completion, response_time, failed))
        return response_time

    def queue_lengths(self) -> list[int]:
        """The number of jobs at each server (waiting or in service)."""
        return [len(queue) for queue in self.in_flight]

    def work_left(self) -> list[float]:
        """The time each server needs to finish the work it holds [s]."""
        now = self.now
        return [max(0.0, busy - now) for busy in self.busy_until]


class FcfsQueues:
    """``servers`` FCFS queues in each of ``instances`` instances, as numpy arrays.

    What :class:`FcfsServers` does for one instance, for many: a dispatched job completes
    when the server has finished the work before it plus its own; its response (time, and
    whether it failed) is delivered when an instance's clock passes its completion, in
    completion order, into the server's exponentially weighted moving averages of latency
    and errors. The undelivered responses of each queue sit in a ring buffer that doubles
    when full.

    Args:
        instances: the number of instances.
        servers: the servers of each instance.
        smoothing: the weight of the newest response in the moving averages.
    """

    def __init__(self, instances: int, servers: int, smoothing: float) -> None:
        self.servers = servers
        self.smoothing = smoothing
        shape = (instances, servers)
        self.now = np.zeros(instances)
        self.busy_until = np.zeros(shape)
        self.latency_ewma = np.zeros(shape)
        self.error_ewma = np.zeros(shape)
        self.capacity = 16
        # a free slot's completion time is infinite, so it is never delivered
        self.completion = np.full((*shape, self.capacity), np.inf)
        self.response = np.zeros((*shape, self.capacity))
        self.failure = np.zeros((*shape, self.capacity))
        self.head = np.zeros(shape, dtype=np.int64)
        self.count = np.zeros(shape, dtype=np.int64)
        self._all_queues = np.arange(instances * servers)

    def reset(self, rows: np.ndarray, now: np.ndarray | float = 0.0) -> None:
        """Empty the queues of ``rows`` and set their clocks to ``now``."""
        self.busy_until[rows] = 0.0
        self.latency_ewma[rows] = 0.0
        self.error_ewma[rows] = 0.0
        self.completion[rows] = np.inf
        self.head[rows] = 0
        self.count[rows] = 0
        self.now[rows] = now

    def dispatch(
        self, rows: np.ndarray, servers: np.ndarray, service_times: np.ndarray, failed: np.ndarray
    ) -> np.ndarray:
        """Send one job to ``servers`` of each of ``rows`` now; returns their response
        times (waiting plus service)."""
        now = self.now[rows]
        completions = np.maximum(now, self.busy_until[rows, servers]) + service_times
        self.busy_until[rows, servers] = completions
        response_times = completions - now
        if (self.count[rows, servers] >= self.capacity).any():
            self._grow()
        slots = (self.head[rows, servers] + self.count[rows, servers]) % self.capacity
        self.completion[rows, servers, slots] = completions
        self.response[rows, servers, slots] = response_times
        self.failure[rows, servers, slots] = failed
        self.count[rows, servers] += 1
        return response_times

    def _grow(self) -> None:
        capacity = self.capacity
        order = (self.head[..., None] + np.arange(capacity)) % capacity
        for name, free in (("completion", np.inf), ("response", 0.0), ("failure", 0.0)):
            old = np.take_along_axis(getattr(self, name), order, axis=2)
            new = np.full(old.shape[:2] + (2 * capacity,), free)
            new[..., :capacity] = old
            setattr(self, name, new)
        self.head[:] = 0
        self.capacity = 2 * capacity

    def advance(self, rows: np.ndarray, times: np.ndarray) -> None:
        """Deliver, in completion order, every response of ``rows`` completed by
        ``times``, and move their clocks there."""
        alpha = self.smoothing
        capacity = self.capacity
        n = self.servers
        head = self.head.reshape(-1)
        count = self.count.reshape(-1)
        latency = self.latency_ewma.reshape(-1)
        error = self.error_ewma.reshape(-1)
        completion = self.completion.reshape(-1)
        response = self.response.reshape(-1)
        failure = self.failure.reshape(-1)
        # the (instance, server) queues of ``rows``, flat, and their delivery times
        if rows.size == self.now.size:
            queues = self._all_queues
        else:
            queues = (rows[:, None] * n + np.arange(n)).reshape(-1)
        limits = np.repeat(times, n)
        while queues.size:
            slots = queues * capacity + head[queues]
            ready = completion[slots] <= limits
            queues, limits, slots = queues[ready], limits[ready], slots[ready]
            latency[queues] += alpha * (response[slots] - latency[queues])
            error[queues] += alpha * (failure[slots] - error[queues])
            completion[slots] = np.inf
            head[queues] = (head[queues] + 1) % capacity
            count[queues] -= 1
        self.now[rows] = times

    def work_left(self) -> np.ndarray:
        """The time each server needs to finish the work it holds [s]."""
        return np.maximum(0.0, self.busy_until - self.now[:, None])

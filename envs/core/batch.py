"""Helpers for environments that advance many instances at once with numpy.

No gymnasium here: how seeds spread over instances, how a batch of actions is checked,
and how per-instance values are laid out the way Gymnasium's vector envs report infos
(an array per key, with a boolean ``_key`` array marking the instances that have it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np


def instance_seeds(seed: int | Sequence[int | None] | None, count: int) -> list[int | None]:
    """One seed per instance: ``seed + i`` for instance i, as Gymnasium's vector envs do.

    Args:
        seed: ``None`` (fresh entropy for each), an int, or one seed per instance.
        count: the number of instances.
    """
    if seed is None or isinstance(seed, (int, np.integer)):
        return [None if seed is None else int(seed) + i for i in range(count)]
    if len(seed) != count:
        raise ValueError(f"seed: expected {count} seeds, got {len(seed)}")
    return list(seed)


def action_indices(actions: object, count: int, n: int) -> np.ndarray:
    """``count`` discrete actions in [0, n) as int64, or a ValueError naming them."""
    array = np.asarray(actions)
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"actions: expected {count} integers, got {actions!r}")
    if count and (array.min() < 0 or array.max() >= n):
        raise ValueError(f"actions: each must be in [0, {n}), got {actions!r}")
    return array.astype(np.int64)


def scatter(values: np.ndarray, rows: np.ndarray, count: int, fill: float = 0) -> np.ndarray:
    """An array over all ``count`` instances holding ``values`` at ``rows``."""
    values = np.asarray(values)
    if rows.size == count:
        return values
    full = np.full((count, *values.shape[1:]), fill, dtype=values.dtype)
    full[rows] = values
    return full


def masked_info(values: dict, rows: np.ndarray, count: int) -> dict:
    """Per-instance values of ``rows`` (arrays, or nested dicts of them) as a vector info.

    Every key gets an array over all instances and a ``_key`` mask that is true at
    ``rows``, the layout of :class:`gymnasium.vector.SyncVectorEnv`'s infos.
    """
    mask = np.zeros(count, dtype=bool)
    mask[rows] = True
    info: dict = {}
    for key, value in values.items():
        if isinstance(value, dict):
            info[key] = masked_info(value, rows, count)
        else:
            info[key] = scatter(value, rows, count)
        info["_" + key] = mask
    return info


def add_info(info: dict, values: dict, rows: np.ndarray, count: int) -> None:
    """Add the values of ``rows`` to the vector ``info`` of other instances, in place."""
    for key, value in values.items():
        if key not in info:
            info.update(masked_info({key: value}, rows, count))
            continue
        if isinstance(value, dict):
            add_info(info[key], value, rows, count)
        else:
            info[key][rows] = value
        mask = info["_" + key].copy()  # masks may be shared between keys
        mask[rows] = True
        info["_" + key] = mask


def builtin_sum(terms: np.ndarray) -> np.ndarray:
    """What Python's ``sum()`` gives of the finite floats ``terms`` along their first
    axis, in order: left-to-right addition (never numpy's pairwise sum), or from Python
    3.12 on CPython's Neumaier-compensated summation. Batched sums then match a single
    env's."""
    total = np.array(terms[0], dtype=np.float64)
    if sys.version_info < (3, 12):
        for x in terms[1:]:
            total += x
        return total
    compensation = np.zeros_like(total)
    for x in terms[1:]:
        added = total + x
        compensation += np.where(abs(total) >= abs(x), (total - added) + x, (x - added) + total)
        total = added
    return np.where(compensation != 0.0, total + compensation, total)  # as CPython: -0.0 stays


class FcfsQueues:
    """``servers`` FCFS queues in each of ``instances`` instances, as numpy arrays.

    What :class:`opsgym.envs.load_balancing.simulator.LoadBalancerSimulator` does for
    one instance, for many: a dispatched job completes when the server has finished the
    work before it plus its own; its response (time, and whether it failed) is delivered
    when an instance's clock passes its completion, in completion order, into the
    server's exponentially weighted moving averages of latency and errors. The
    undelivered responses of each queue sit in a ring buffer that doubles when full.

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

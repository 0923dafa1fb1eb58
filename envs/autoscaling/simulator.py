"""A fleet of identical instances behind a load balancer, one control step at a time.

Two parts, both free of gymnasium:

- :class:`Fleet` (and :class:`Fleets`, the same for many instances in numpy arrays),
  the instance counts: running instances serve; launched instances boot
  for ``boot_steps`` steps first; scaling down cancels the newest booting instances
  before it stops running ones (as Kubernetes deletes unready pods first); after a
  scaling action, a cooldown ignores further actions for ``cooldown_steps`` steps (the
  cooldown of AWS simple scaling policies).
- :class:`ServiceModel`, what a step at a given request rate costs in latency and
  drops: the running instances form an M/M/c queue (Erlang C). Admission control keeps
  the utilization at most ``max_utilization``, so the queue stays stable; the excess is
  dropped. Within a step the rate is constant and the queue is in steady state (a step
  is long against a request's latency: a minute against tens of milliseconds).
"""

from __future__ import annotations

import numpy as np

from opsgym.envs.core.queueing import (
    erlang_c,
    erlang_c_array,
    mmc_response_quantile,
    mmc_response_quantile_array,
    mmc_response_survival,
)

CACHE_SIZE = 65_536  # step outcomes kept by (servers, rate)


class Fleet:
    """Running and booting instances, and the cooldown left.

    Args:
        min_instances: the fewest instances (running plus booting) the fleet keeps.
        max_instances: the most instances (running plus booting) the fleet may have.
        boot_steps: steps between a launch and the first step the instance serves.
        cooldown_steps: steps after a scaling action during which actions are ignored.
    """

    def __init__(
        self, min_instances: int, max_instances: int, boot_steps: int, cooldown_steps: int
    ) -> None:
        self.min_instances = min_instances
        self.max_instances = max_instances
        self.boot_steps = boot_steps
        self.cooldown_steps = cooldown_steps
        self.reset(min_instances)

    def reset(self, running: int) -> None:
        """Start with ``running`` instances serving, none booting, no cooldown."""
        self.running = running
        # booting[i]: instances that start serving i + 1 steps from now
        self.booting = [0] * self.boot_steps
        self.cooldown_left = 0

    @property
    def total(self) -> int:
        """Running plus booting instances."""
        return self.running + sum(self.booting)

    def scale(self, change: int) -> int:
        """Ask for ``change`` more (or fewer) instances; return the change made.

        The change is clipped to the fleet's bounds, and ignored during a cooldown.
        """
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            return 0
        total = self.total
        made = min(max(total + change, self.min_instances), self.max_instances) - total
        if made > 0:
            if self.boot_steps:
                self.booting[-1] += made
            else:
                self.running += made
        elif made < 0:
            to_remove = -made
            for i in range(self.boot_steps - 1, -1, -1):
                cancelled = min(self.booting[i], to_remove)
                self.booting[i] -= cancelled
                to_remove -= cancelled
            self.running -= to_remove
        if made:
            self.cooldown_left = self.cooldown_steps
        return made

    def advance(self) -> None:
        """End the step: instances whose boot completes start serving."""
        if self.boot_steps:
            self.running += self.booting.pop(0)
            self.booting.append(0)


class Fleets:
    """:class:`Fleet` for many instances at once, as numpy arrays (for vector envs).

    Args:
        instances: the number of fleets.
        min_instances, max_instances, boot_steps, cooldown_steps: as :class:`Fleet`'s.
    """

    def __init__(
        self,
        instances: int,
        min_instances: int,
        max_instances: int,
        boot_steps: int,
        cooldown_steps: int,
    ) -> None:
        self.bounds = (min_instances, max_instances)
        self.boot_steps, self.cooldown_steps = boot_steps, cooldown_steps
        self.running = np.zeros(instances, dtype=np.int64)
        self.booting = np.zeros((instances, boot_steps), dtype=np.int64)
        self.cooldown_left = np.zeros(instances, dtype=np.int64)

    def reset(self, rows: np.ndarray, running: np.ndarray) -> None:
        """:meth:`Fleet.reset` of ``rows``."""
        self.running[rows] = running
        self.booting[rows] = 0
        self.cooldown_left[rows] = 0

    def scale(self, rows: np.ndarray | slice, change: np.ndarray) -> np.ndarray:
        """:meth:`Fleet.scale` of ``rows``; returns the changes made."""
        running = self.running[rows]
        booting = self.booting[rows]
        total = running + booting.sum(axis=1)
        made = np.clip(total + change, *self.bounds) - total
        if self.cooldown_steps:  # without, no action is ever ignored
            cooldown = self.cooldown_left[rows]
            cooling = cooldown > 0
            made[cooling] = 0
            self.cooldown_left[rows] = np.where(
                cooling, cooldown - 1, np.where(made != 0, self.cooldown_steps, cooldown)
            )
        if self.boot_steps:
            booting[:, -1] += np.maximum(made, 0)
        else:
            running += np.maximum(made, 0)
        to_remove = np.maximum(-made, 0)
        if to_remove.any():
            for j in range(self.boot_steps - 1, -1, -1):
                cancelled = np.minimum(booting[:, j], to_remove)
                booting[:, j] -= cancelled
                to_remove -= cancelled
            running -= to_remove
        self.running[rows] = running
        self.booting[rows] = booting
        return made

    def advance(self, rows: np.ndarray | slice) -> None:
        """:meth:`Fleet.advance` of ``rows``."""
        if self.boot_steps:
            booting = self.booting[rows]
            self.running[rows] += booting[:, 0]
            self.booting[rows] = np.concatenate([booting[:, 1:], 0 * booting[:, :1]], axis=1)


class ServiceModel:
    """Latency, drops and SLA violation of c running instances at a request rate.

    Args:
        capacity: requests per second one instance serves (the M/M/c rate mu).
        max_utilization: the admission limit: at most this fraction of capacity is
            admitted, the rest is dropped.
        latency_target: the SLA's latency target [s].
        latency_quantile: the response-time quantile the SLA bounds (0.95 for p95).
    """

    def __init__(
        self,
        capacity: float,
        max_utilization: float,
        latency_target: float,
        latency_quantile: float,
    ) -> None:
        self.capacity = capacity
        self.max_utilization = max_utilization
        self.latency_target = latency_target
        self.latency_quantile = latency_quantile
        self.latency_tail = 1.0 - latency_quantile
        self._outcomes: dict[tuple[int, float], tuple[float, float, bool, float, float]] = {}

    def serve(self, servers: int, rate: float) -> tuple[float, float, float, float, bool]:
        """Steady state of ``servers`` instances offered ``rate`` requests per second.

        Returns:
            The utilization, the dropped rate [requests/s], the probability of waiting
            (Erlang C), the rate theta = c mu - lambda of the conditional wait [1/s], and
            whether the SLA is violated (requests dropped, or the response-time quantile
            above the target).
        """
        mu = self.capacity
        full = servers * mu
        admitted = min(rate, self.max_utilization * full)
        dropped = rate - admitted
        wait = erlang_c(servers, admitted / mu)
        theta = full - admitted
        return admitted / full, dropped, wait, theta, self._violated(dropped, wait, theta)

    def drops_and_violations(self, rate: float, most: int) -> list[tuple[float, bool]]:
        """The dropped rate and SLA violation of :meth:`serve` for 1 .. ``most`` servers.

        The same numbers as ``most`` calls of :meth:`serve`, from one pass of the
        Erlang B recursion (its k-th value is Erlang B with k servers) instead of one
        pass per fleet size; a fleet that drops requests violates the SLA whatever its
        wait.
        """
        mu = self.capacity
        offered = rate / mu
        blocking = 1.0
        outcomes = []
        for servers in range(1, most + 1):
            blocking = offered * blocking / (servers + offered * blocking)
            full = servers * mu
            admitted = min(rate, self.max_utilization * full)
            dropped = rate - admitted
            if dropped > 0.0:
                outcomes.append((dropped, True))
                continue
            wait = servers * blocking / (servers - offered * (1.0 - blocking))  # Erlang C
            outcomes.append((dropped, self._violated(dropped, wait, full - admitted)))
        return outcomes

    def _violated(self, dropped: float, wait: float, theta: float) -> bool:
        return dropped > 0.0 or (
            mmc_response_survival(self.latency_target, wait, theta, self.capacity)
            > self.latency_tail
        )

    def outcome(self, servers: int, rate: float) -> tuple[float, float, bool, float, float]:
        """:meth:`serve` plus the response time's quantile and mean [s], cached.

        A replayed trace repeats its rates (request counts are integers), so most steps
        are a dictionary lookup; the cache is emptied when it reaches ``CACHE_SIZE``.

        Returns:
            The utilization, the dropped rate [requests/s], whether the SLA is violated,
            the SLA's response-time quantile [s] and the mean response time [s].
        """
        key = (servers, rate)
        known = self._outcomes.get(key)
        if known is not None:
            return known
        utilization, dropped, wait, theta, violated = self.serve(servers, rate)
        known = (
            utilization,
            dropped,
            violated,
            mmc_response_quantile(self.latency_quantile, wait, theta, self.capacity),
            wait / theta + 1.0 / self.capacity,
        )
        if len(self._outcomes) >= CACHE_SIZE:
            self._outcomes.clear()
        self._outcomes[key] = known
        return known

    def outcomes(
        self, servers: np.ndarray, rates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`outcome` of each (servers, rate) pair, as arrays (for vector envs).

        The SLA is violated where the response-time quantile exceeds the target, which
        is where :meth:`serve` finds the survival at the target above the tail.
        """
        mu = self.capacity
        full = servers * mu
        admitted = np.minimum(rates, self.max_utilization * full)
        dropped = rates - admitted
        wait = erlang_c_array(servers, admitted / mu)
        theta = full - admitted
        latency = mmc_response_quantile_array(self.latency_quantile, wait, theta, mu)
        violated = (dropped > 0.0) | (latency > self.latency_target)
        return admitted / full, dropped, violated, latency, wait / theta + 1.0 / mu

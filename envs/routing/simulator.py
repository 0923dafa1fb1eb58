"""Link loads, flow admission and departures, and path delays. No gymnasium here.

A link's delay is its propagation delay plus the M/M/1 sojourn time of a packet,
``(L / C) / (1 - rho)`` for mean packet length L [bit], capacity C [bit/s] and
utilization rho (Kleinrock, *Queueing Systems, Volume 2*, 1976, eq. 5.20). A flow that
would push any link of its path past capacity is blocked, never admitted.
"""

from __future__ import annotations

import heapq
import operator

import numpy as np

MAX_QUEUEING_UTILIZATION = 0.99  # a full link is charged the M/M/1 delay at 99% load


def mm1_link_delay(propagation_s: float, packet_bits: float, capacity_bps: float, rho: float):
    """Propagation plus M/M/1 sojourn time [s] of a packet on a link at utilization rho."""
    rho = min(rho, MAX_QUEUEING_UTILIZATION)
    return propagation_s + (packet_bits / capacity_bps) / (1.0 - rho)


class NetworkSimulator:
    """Active flows on arcs; loads are integers [kbit/s] so they add and remove exactly.

    ``load``, ``utilization`` (load over capacity) and ``spare`` (capacity minus load)
    are kept per arc and updated on the arcs a flow changes.

    Args:
        capacity_kbps: each arc's capacity [kbit/s].
        delay_s: each arc's propagation delay [s].
        packet_bits: the mean packet length [bit] in the queueing term.
    """

    def __init__(self, capacity_kbps: list[int], delay_s: list[float], packet_bits: float):
        self.capacity = list(capacity_kbps)
        self.propagation = list(delay_s)
        self.service_s = [packet_bits / (1000.0 * c) for c in capacity_kbps]
        self._departures: list[tuple[float, int, tuple[int, ...], int]] = []
        self.reset()

    def reset(self) -> None:
        self._set_loads([0] * len(self.capacity))
        self._departures = []
        self._count = 0

    def _set_loads(self, load: list[int]) -> None:
        self.load = load
        self.utilization = list(map(operator.truediv, load, self.capacity))
        self.spare = list(map(operator.sub, self.capacity, load))

    def fits(self, path: tuple[int, ...], rate: int) -> bool:
        spare = self.spare
        for a in path:
            if spare[a] < rate:
                return False
        return True

    def populate(
        self, paths: list, rates: np.ndarray, end_times: np.ndarray, incidence: np.ndarray
    ) -> None:
        """Admit flows that are already running, in order, each where it fits.

        ``incidence`` holds each path's 0/1 row over the arcs. Loads only grow, so the
        longest prefix whose running loads stay within capacity is admitted at once;
        from the first flow that does not fit on, flows go one at a time.
        """
        loads = np.cumsum(incidence * rates[:, None], axis=0)
        loads += self.load
        over = (loads > self.capacity).any(axis=1)
        fitting = int(over.argmax()) if over.any() else len(paths)
        rates, end_times = rates.tolist(), end_times.tolist()
        load = loads[fitting - 1].tolist() if fitting else list(self.load)
        counts = range(self._count + 1, self._count + fitting + 1)
        departures = self._departures
        departures += zip(end_times[:fitting], counts, paths[:fitting], rates[:fitting])
        self._count += fitting
        capacity = self.capacity
        for path, rate, end in zip(paths[fitting:], rates[fitting:], end_times[fitting:]):
            for a in path:
                if load[a] + rate > capacity[a]:
                    break
            else:
                for a in path:
                    load[a] += rate
                self._count += 1
                departures.append((end, self._count, path, rate))
        heapq.heapify(departures)
        self._set_loads(load)

    def admit(self, path: tuple[int, ...], rate: int, end_time: float) -> bool:
        """Add the flow to every arc of ``path`` until ``end_time``; False if blocked."""
        if not self.fits(path, rate):
            return False
        self.add(path, rate)
        self._count += 1
        heapq.heappush(self._departures, (end_time, self._count, path, rate))
        return True

    def add(self, path: tuple[int, ...], rate: int) -> None:
        self._change(path, rate)

    def remove(self, path: tuple[int, ...], rate: int) -> None:
        self._change(path, -rate)

    def _change(self, path: tuple[int, ...], delta: int) -> None:
        load, capacity, utilization, spare = self.load, self.capacity, self.utilization, self.spare
        for a in path:
            x = load[a] + delta
            load[a] = x
            utilization[a] = x / capacity[a]
            spare[a] = capacity[a] - x

    def advance_to(self, time: float) -> None:
        """Remove every flow that ends at or before ``time``."""
        departures = self._departures
        while departures and departures[0][0] <= time:
            _, _, path, rate = heapq.heappop(departures)
            self.remove(path, rate)

    def path_delay(self, path: tuple[int, ...]) -> float:
        """The end-to-end delay [s] of a packet on ``path`` at the current loads."""
        utilization, service, propagation = self.utilization, self.service_s, self.propagation
        total = 0.0
        for a in path:
            rho = utilization[a]
            if rho > MAX_QUEUEING_UTILIZATION:
                rho = MAX_QUEUEING_UTILIZATION
            total += propagation[a] + service[a] / (1.0 - rho)
        return total

    def max_utilization(self) -> float:
        return max(self.utilization)

    def active_flows(self) -> int:
        return len(self._departures)

    def running_flows(self) -> list[tuple[float, tuple[int, ...], int]]:
        """Each admitted flow not yet removed: its end time, path and rate."""
        return [(end, path, rate) for end, _, path, rate in self._departures]

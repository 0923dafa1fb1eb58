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
FLOW_SLOTS = 256  # active flows held per instance at first; doubled when full
SLOT_GROUP = 32  # slots per group, whose earliest end says whether a flow in it may leave


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


class FlowSlots:
    """The active flows of many instances, the batched counterpart of
    :class:`NetworkSimulator`'s departures (for vector envs).

    Per instance, slots of end time, path and rate; a free slot has an infinite end, and
    each instance's free slots are the first ``free_count`` of its row of ``free_slots``
    (a stack). ``group_ends`` holds a lower bound of the earliest end of each group of
    ``SLOT_GROUP`` slots, so that a departure searches only the groups with a flow due.
    Loads are integers, so the order in which flows leave within a step does not matter.

    Args:
        loads: the per-arc loads [kbit/s], arc-major (one column per instance), which
            departures lower in place.
        hop_arcs: per hop, each path's arc (the padding arc past its end).
        hop_on_path: per hop, 1 where the path has an arc, else 0.
    """

    def __init__(self, loads: np.ndarray, hop_arcs: np.ndarray, hop_on_path: np.ndarray) -> None:
        self.loads, self.hop_arcs, self.hop_on_path = loads, hop_arcs, hop_on_path
        self.instances = instances = loads.shape[1]
        self.ends = np.full((instances, FLOW_SLOTS), np.inf)
        self.group_ends = np.full((instances, FLOW_SLOTS // SLOT_GROUP), np.inf)
        self.paths = np.zeros((instances, FLOW_SLOTS), dtype=np.int64)
        self.rates = np.zeros((instances, FLOW_SLOTS), dtype=np.int64)
        self.free_slots = np.zeros((instances, FLOW_SLOTS), dtype=np.int64)
        self.free_count = np.zeros(instances, dtype=np.int64)

    def reset(self, i: int, ends: list[float], paths: list[int], rates: list[int]) -> None:
        """Hold exactly the flows given in instance i (its loads are the caller's)."""
        count = len(ends)
        while count > self.ends.shape[1]:
            self._grow()
        slots = self.ends.shape[1]
        self.ends[i] = np.inf
        self.ends[i, :count] = ends
        self.paths[i, :count] = paths
        self.rates[i, :count] = rates
        self.group_ends[i] = self.ends[i].reshape(-1, SLOT_GROUP).min(axis=1)
        self.free_slots[i, : slots - count] = np.arange(count, slots)
        self.free_count[i] = slots - count

    def _grow(self) -> None:
        """Double every row's flow slots; the new ones are free."""
        slots = self.ends.shape[1]
        self.ends = np.concatenate([self.ends, np.full_like(self.ends, np.inf)], 1)
        self.group_ends = np.concatenate(
            [self.group_ends, np.full_like(self.group_ends, np.inf)], 1
        )
        self.paths = np.pad(self.paths, ((0, 0), (0, slots)))
        self.rates = np.pad(self.rates, ((0, 0), (0, slots)))
        self.free_slots = np.pad(self.free_slots, ((0, 0), (0, slots)))
        new = self.free_count[:, None] + np.arange(slots)
        self.free_slots[np.arange(self.instances)[:, None], new] = np.arange(slots, 2 * slots)
        self.free_count += slots

    def store(self, rows: np.ndarray, paths: np.ndarray, rates: np.ndarray, ends) -> None:
        """Hold the flows just admitted in ``rows`` (one each) in free slots."""
        if not rows.size:
            return
        if not self.free_count[rows].all():
            self._grow()
        count = self.free_count[rows] - 1
        self.free_count[rows] = count
        slots = self.free_slots[rows, count]
        self.ends[rows, slots] = ends
        groups = slots // SLOT_GROUP
        self.group_ends[rows, groups] = np.minimum(self.group_ends[rows, groups], ends)
        self.paths[rows, slots] = paths
        self.rates[rows, slots] = rates

    def depart(self, rows: np.ndarray, index: np.ndarray | slice, now: np.ndarray) -> None:
        """Remove the flows of ``rows`` (at ``index`` in the state) that end by ``now``."""
        groups = self.group_ends.shape[1]
        due = np.flatnonzero(self.group_ends[index] <= now[:, None])
        if not due.size:
            return
        local, group = np.divmod(due, groups)
        owners = rows[local]
        ends = self.ends.reshape(self.instances, groups, SLOT_GROUP)[owners, group]
        leaving = ends <= now[local, None]
        ends[leaving] = np.inf
        # slot-major, the minimum runs over the first axis: faster
        self.group_ends[owners, group] = np.ascontiguousarray(ends.T).min(axis=0)
        which, within = np.divmod(np.flatnonzero(leaving), SLOT_GROUP)
        local, owners = local[which], owners[which]
        slot = group[which] * SLOT_GROUP + within
        paths = self.paths[owners, slot]
        removed = self.rates[owners, slot] * self.hop_on_path.take(paths, axis=1)
        flat = self.hop_arcs.take(paths, axis=1) * self.instances + owners
        np.subtract.at(self.loads.reshape(-1), flat, removed)
        self.ends[owners, slot] = np.inf
        # push the slots on their rows' free stacks
        rank = np.arange(local.size) - np.searchsorted(local, local)
        self.free_slots[owners, self.free_count[owners] + rank] = slot
        self.free_count[index] += np.bincount(local, minlength=rows.size)

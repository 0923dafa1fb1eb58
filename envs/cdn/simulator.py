"""The dynamics of CDN-v0: edge caches fed by one origin over a shared link.

The origin sends objects to the edges over one link of ``link_rate`` bytes per second,
first come, first served: a transfer requested at time t starts when the link is free
(or at t) and the object is at the edge ``size / link_rate`` seconds later. The origin
refuses a transfer that could not arrive within ``timeout`` seconds of its request (its
queue is too long); a refused miss is *shed* (the request fails) and a refused push is
*dropped* (nothing is sent or cached: the agent may push again later).

Each interval a push decided at its start joins the link's queue first; then the
interval's requests arrive in order, all edges interleaved, evenly spread over the
interval. A request for an object at its edge is a *hit* if the object has arrived (LRU
moves it to the most recently used end; FIFO does not), or *waits* for its transfer if
it is on its way (concurrent misses are coalesced: no second transfer). A request for
an object absent from its edge is a *miss*: the edge asks the origin and, unless the
origin sheds it, caches the object if it is no larger than the pull limit (it then
occupies its space from that moment); a larger object passes through, sent again for
every request, and is cached only when pushed. An edge caches an object by evicting
from its least recently used (or first inserted) end until it fits; pushed objects
enter at the most recently used end.

So at quiet times a miss costs its transfer time, a few seconds; at peak, when misses
arrive faster than the link drains them, every miss waits up to ``timeout`` and the
requests for it meanwhile are not hits: content pushed before the peak is there.

Nothing here imports gymnasium; the request stream comes from outside.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field, fields

import numpy as np

GB = 1e9  # [bytes]
PUSH_OUTCOMES = ("pushed", "cached", "too_large", "dropped")


@dataclass
class Traffic:
    """What one interval moved: per edge [requests or bytes], and at the origin [bytes]."""

    requests: list[int]
    hits: list[int]
    requested_bytes: list[int]
    hit_bytes: list[int]
    waited: list[int]  # requests for an object on its way to the edge
    fill_bytes: list[int]  # misses the origin sent
    shed: list[int]  # misses the origin refused [requests]
    push_bytes: int = 0
    pushes_dropped: int = 0

    @classmethod
    def empty(cls, n_edges: int) -> Traffic:
        return cls(*([0] * n_edges for _ in range(7)))

    @property
    def origin_bytes(self) -> int:
        """Bytes the origin sent: filled misses and pushes."""
        return sum(self.fill_bytes) + self.push_bytes

    def add(self, other: Traffic) -> None:
        """Add ``other``'s counts to these."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, list):
                for e, value in enumerate(theirs):
                    mine[e] += value
            else:
                setattr(self, item.name, mine + theirs)


def reward_components(traffic: Traffic, egress_cost: float, push_cost: float) -> dict[str, float]:
    """The interval's reward terms [GB]: the bytes served from the edges' caches (hits),
    minus the origin's egress (filled misses and pushes) at ``egress_cost``, minus the
    pushed bytes at ``push_cost``."""
    return {
        "edge_served": sum(traffic.hit_bytes) / GB,
        "egress": -egress_cost * traffic.origin_bytes / GB,
        "push": -push_cost * traffic.push_bytes / GB,
    }


class EdgeCaches:
    """The edges' byte-capacity caches and the origin's link (see the module).

    Args:
        n_edges: how many edges.
        capacity: each edge's cache size [bytes].
        sizes: every object's size [bytes], by object id.
        link_rate: the origin link's rate [bytes/s].
        timeout: the longest a transfer may take from its request to its arrival [s].
        eviction: ``"lru"`` or ``"fifo"``.
    """

    def __init__(
        self,
        n_edges: int,
        capacity: int,
        sizes: list[int],
        link_rate: float,
        timeout: float,
        eviction: str = "lru",
        pull_limit: int | None = None,
    ) -> None:
        self.capacity = capacity
        # the largest object a miss caches [bytes]; larger ones only when pushed
        self.pull_limit = capacity if pull_limit is None else min(pull_limit, capacity)
        self.sizes = sizes
        self.link_rate = link_rate
        self.timeout = timeout
        self.lru = eviction == "lru"
        # per edge: cached object -> the time it arrives (has arrived) at the edge [s]
        self.caches: list[OrderedDict[int, float]] = [OrderedDict() for _ in range(n_edges)]
        self.used = [0] * n_edges  # [bytes]
        self.link_free = 0.0  # when the link has sent everything queued [s]
        self.traffic = Traffic.empty(n_edges)

    def holds(self, edge: int, obj: int) -> bool:
        """Whether ``obj`` is at ``edge`` or on its way there."""
        return obj in self.caches[edge]

    def contents(self, edge: int) -> list[int]:
        """The objects cached at ``edge``, from the next evicted to the last inserted."""
        return list(self.caches[edge])

    def prefill(self, edge: int, objects: list[int]) -> None:
        """Cache ``objects`` at ``edge`` in this order, arrived and at no cost (warm)."""
        for obj in objects:
            self._admit(edge, obj, self.sizes[obj], -math.inf)

    def begin_interval(self) -> None:
        """Start an interval: its counts restart."""
        self.traffic = Traffic.empty(len(self.caches))

    def push(self, edge: int, obj: int, now: float) -> str:
        """Send ``obj`` from the origin to ``edge`` at time ``now`` [s]; one of
        :data:`PUSH_OUTCOMES`."""
        size = self.sizes[obj]
        if obj in self.caches[edge]:
            return "cached"
        if size > self.capacity:
            return "too_large"
        if not self.deliverable(size, now):
            self.traffic.pushes_dropped += 1
            return "dropped"
        arrival = max(now, self.link_free) + size / self.link_rate
        self.link_free = arrival
        self.traffic.push_bytes += size
        self._admit(edge, obj, size, arrival)
        return "pushed"

    def serve(self, edges: list[int], objects: list[int], start: float, duration: float) -> Traffic:
        """Serve requests in order (request i asks ``edges[i]`` for ``objects[i]``), spread
        evenly over the ``duration`` seconds from ``start``.

        Returns:
            The interval's traffic so far (pushes included).
        """
        t = self.traffic
        requests, hits, requested, hit_bytes = t.requests, t.hits, t.requested_bytes, t.hit_bytes
        waited, fill, shed = t.waited, t.fill_bytes, t.shed
        caches, sizes, lru, used = self.caches, self.sizes, self.lru, self.used
        capacity, pull_limit = self.capacity, self.pull_limit
        rate, timeout, link_free = self.link_rate, self.timeout, self.link_free
        gap = duration / max(len(edges), 1)
        now = start + gap / 2
        for e, obj in zip(edges, objects):
            cache = caches[e]
            size = sizes[obj]
            requests[e] += 1
            requested[e] += size
            arrival = cache.get(obj)
            if arrival is not None:
                if arrival <= now:
                    hits[e] += 1
                    hit_bytes[e] += size
                    if lru:
                        cache.move_to_end(obj)
                else:
                    waited[e] += 1
            else:
                arrival = (now if now > link_free else link_free) + size / rate
                if arrival - now > timeout:
                    shed[e] += 1
                else:
                    link_free = arrival
                    fill[e] += size
                    if size <= pull_limit:  # _admit, inlined: most intervals fill hundreds
                        room = used[e] + size
                        while room > capacity:
                            room -= sizes[cache.popitem(last=False)[0]]
                        cache[obj] = arrival
                        used[e] = room
            now += gap
        self.link_free = link_free
        return t

    def deliverable(self, size: int, now: float) -> bool:
        """Whether the origin would accept a transfer of ``size`` bytes requested at ``now``."""
        return max(now, self.link_free) + size / self.link_rate - now <= self.timeout

    def backlog(self, now: float) -> float:
        """How long a transfer requested at ``now`` waits for the link [s]."""
        return max(0.0, self.link_free - now)

    def _admit(self, edge: int, obj: int, size: int, arrival: float) -> None:
        if size > self.capacity:
            return
        cache = self.caches[edge]
        used = self.used[edge] + size
        while used > self.capacity:
            used -= self.sizes[cache.popitem(last=False)[0]]
        cache[obj] = arrival
        self.used[edge] = used


@dataclass
class RateTracker:
    """Exponentially weighted request counts per interval, per object and edge.

    Two memories: ``short`` (half-life ``short_half_life`` intervals), what is requested
    now, and ``long`` (``long_half_life``), what was; ``short / long`` is how fast an
    object grows. ``edge_short`` is the same filter on each edge's total, so that an
    object's share of an edge's requests, ``short / edge_short``, lies in [0, 1].

    Args:
        initial: the expected requests per interval of each object at each edge at the
            start, shape (objects, edges); both memories start there.
    """

    initial: np.ndarray
    short_half_life: float
    long_half_life: float
    short: np.ndarray = field(init=False)
    long: np.ndarray = field(init=False)
    edge_short: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.short = self.initial.copy()
        self.long = self.initial.copy()
        self.edge_short = self.initial.sum(axis=0)
        self._keep_short = 0.5 ** (1.0 / self.short_half_life)
        self._keep_long = 0.5 ** (1.0 / self.long_half_life)

    def update(self, edges: np.ndarray, objects: np.ndarray) -> None:
        """Fold one interval's requests into the memories."""
        n_objects, n_edges = self.short.shape
        counts = np.bincount(objects * n_edges + edges, minlength=n_objects * n_edges)
        counts = counts.reshape(n_objects, n_edges)
        keep, keep_long = self._keep_short, self._keep_long
        self.short *= keep
        self.short += (1.0 - keep) * counts
        self.long *= keep_long
        self.long += (1.0 - keep_long) * counts
        self.edge_short *= keep
        self.edge_short += (1.0 - keep) * counts.sum(axis=0)

    def candidates(self, caches: EdgeCaches, k: int) -> list[int]:
        """The ``k`` objects requested most now across all edges (short memory) among
        those missing from at least one edge, most requested first (ties: lower id)."""
        rate = self.short.sum(axis=1)
        held = caches.caches
        pool = _largest(rate, k * (1 + 4 * len(held)))  # the most requested usually suffice
        chosen = _missing_somewhere(pool.tolist(), held, k)
        if len(chosen) < k and len(pool) < np.count_nonzero(rate > 0.0):
            chosen = _missing_somewhere(_largest(rate, len(rate)).tolist(), held, k)
        return chosen


def _missing_somewhere(objects: list[int], caches: list[OrderedDict], k: int) -> list[int]:
    """The first ``k`` of ``objects`` that some cache lacks."""
    chosen = []
    for obj in objects:
        for cache in caches:
            if obj not in cache:
                chosen.append(obj)
                break
        if len(chosen) == k:
            break
    return chosen


def _largest(values: np.ndarray, m: int) -> np.ndarray:
    """The indices of the ``m`` largest positive values (all ties of the m-th included),
    largest first, ties by index."""
    positive = np.flatnonzero(values > 0.0)
    if len(positive) > m:
        threshold = np.partition(values[positive], len(positive) - m)[len(positive) - m]
        positive = positive[values[positive] >= threshold]
    return positive[np.lexsort((positive, -values[positive]))]

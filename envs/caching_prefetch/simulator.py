"""A demand cache that may prefetch one object after each request: CachingPrefetch-v0's core.

The cache replays a request stream of object ids (integers), one request at a time, with
unit sizes: capacity counts objects. A miss inserts the object, evicting by the
replacement policy (LRU, or FIFO) when the cache is full; a prefetch inserts an object
the same way before it is requested. A prefetched object is *useful* when it is
requested before it leaves the cache, *wasted* when it is evicted (or the episode ends)
first.

Prefetch candidates come from what the cache has seen, never from the workload's hidden
structure: the next object id (what a sequential prefetcher, such as Linux readahead,
fetches), and the most frequent observed successors of the object just requested, from
a first-order table of how often each object followed each other one (the successor
graph of Griffioen and Appleton, USENIX Summer 1994). Among successors with equal
counts, the one seen most recently ranks first.

Time is virtual: request ``i`` of the stream happens at time ``i``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

REPLACEMENTS = ("lru", "fifo")


class PrefetchCache:
    """A unit-size cache with an online successor table and one prefetch per request.

    Args:
        capacity: the number of objects the cache holds.
        n_successors: how many of the most frequent observed successors are candidates.
        replacement: ``"lru"`` or ``"fifo"``; prefetched objects are inserted as misses are.
    """

    def __init__(self, capacity: int, n_successors: int, replacement: str) -> None:
        self.capacity = capacity
        self.n_successors = n_successors
        self.recency_ordered = replacement == "lru"  # a hit moves the object to the back
        self.reset([], lambda: False, 0)

    def reset(self, ids: list[int], extend: Callable[[], bool], length: int) -> None:
        """Empty the cache and the successor table, and load a request stream.

        Args:
            ids: the object of each request; may grow while the cache runs.
            extend: appends more requests to ``ids``; False when it has none.
            length: the number of requests the stream will have.
        """
        self.ids = ids
        self.extend = extend
        self.length = length
        self.now = -1  # the index of the request served last
        self.cache: OrderedDict[int, None] = OrderedDict()  # the next victim first
        self.unused: set[int] = set()  # prefetched objects not requested since
        self.last_seen: dict[int, int] = {}  # object -> the time of its last request
        self.counts: dict[int, dict[int, int]] = {}  # a -> b -> times b followed a
        self.totals: dict[int, int] = {}  # a -> times anything followed a
        self.top: dict[int, list[int]] = {}  # a -> its most frequent successors, best first
        self.hits = 0
        self.prefetches = 0
        self.useful = 0
        self.evicted_unused = 0
        self.last_hit = False
        self.last_useful = False

    @property
    def done(self) -> bool:
        """Whether every request of the stream has been served."""
        return self.now >= self.length - 1

    @property
    def served(self) -> int:
        return self.now + 1

    @property
    def current(self) -> int:
        """The object of the request served last."""
        return self.ids[self.now]

    def serve(self) -> bool:
        """Serve the next request; return whether it hit."""
        i = self.now + 1
        if i == len(self.ids) and not self.extend():
            raise RuntimeError("the request stream has no request left")
        x = self.ids[i]
        cache = self.cache
        hit = x in cache
        useful = False
        if hit:
            self.hits += 1
            if self.recency_ordered:
                cache.move_to_end(x)
            if x in self.unused:
                self.unused.remove(x)
                self.useful += 1
                useful = True
        else:
            self._insert(x)
        if i > 0:
            self._observe(self.ids[i - 1], x)
        self.last_seen[x] = i
        self.now = i
        self.last_hit, self.last_useful = hit, useful
        return hit

    def prefetch(self, x: int) -> bool:
        """Fetch ``x`` into the cache unless it is there; return whether it was fetched."""
        if x in self.cache:
            return False
        self._insert(x)
        self.unused.add(x)
        self.prefetches += 1
        return True

    def candidates(self) -> list[int]:
        """The next object id, then the most frequent observed successors of the current one."""
        x = self.current
        return [x + 1, *self.top.get(x, ())]

    def wasted(self) -> int:
        """Prefetched objects evicted unused, and, once the stream ends, those left unused."""
        return self.evicted_unused + (len(self.unused) if self.done else 0)

    def _insert(self, x: int) -> None:
        cache = self.cache
        if len(cache) >= self.capacity:
            victim, _ = cache.popitem(last=False)
            if victim in self.unused:
                self.unused.remove(victim)
                self.evicted_unused += 1
        cache[x] = None

    def _observe(self, a: int, b: int) -> None:
        """Count ``b`` following ``a`` and keep ``a``'s top successors sorted."""
        counts = self.counts.get(a)
        if counts is None:
            counts = self.counts[a] = {}
            self.top[a] = []
        top = self.top[a]
        count = counts[b] = counts.get(b, 0) + 1
        self.totals[a] = self.totals.get(a, 0) + 1
        # Only b's count changed, and b is now the most recently seen: it can only move up,
        # past every successor with a count no larger than its own.
        if b in top:
            j = top.index(b)
        elif len(top) < self.n_successors:
            top.append(b)
            j = len(top) - 1
        elif count >= counts[top[-1]]:
            j = len(top) - 1
            top[j] = b
        else:
            return
        while j > 0 and counts[top[j - 1]] <= count:
            top[j - 1], top[j] = b, top[j - 1]
            j -= 1

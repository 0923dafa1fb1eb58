"""Exact, full-information cache simulators over a request trace, and Belady's MIN.

Each simulator replays a trace through one replacement policy that sees the whole cache
(not a sample of it) and returns :class:`CacheStats`. Capacity is in bytes; without
sizes every object has size 1, so capacity counts objects. An object larger than the
whole cache is never admitted, and an object's size is the one it had when admitted.

Policies (the online ones admit every missed object that fits, evicting until it fits):

- ``fifo``: evict the object admitted first.
- ``lru``: evict the object requested least recently.
- ``lfu``: evict the object with the fewest requests since it was admitted, the least
  recently requested among ties (in-cache LFU, as libCacheSim's ``LFU``).
- ``sieve``: SIEVE (Zhang et al., NSDI 2024): a FIFO queue with one visited bit per
  object and a hand moving from the oldest object to the newest; the hand clears visited
  bits and evicts the first unvisited object, which stays a FIFO for one-hit wonders
  and keeps popular objects without moving them on a hit.
- ``arc``: ARC (Megiddo and Modha, FAST 2003), which adapts the split of the cache
  between recency and frequency from the hits it would have had in two lists of recently
  evicted ids; uniform sizes only, as the paper defines it.
- ``belady``: Belady's MIN (Belady, 1966) with bypass: on a miss into a full cache,
  among the cached objects and the requested one, drop the one requested again furthest
  in the future (or never). For unit sizes this maximizes hits over every eviction and
  admission sequence; ``belady_forced`` is the classic demand-paging MIN that must admit
  every missed object, optimal when bypass is not allowed (Mattson et al., 1970).
  With variable sizes both are heuristics: offline caching with sizes is strongly
  NP-hard (Chrobak et al., Algorithmica 2012; Berger et al., SIGMETRICS 2018, bound it
  in practice), and furthest-next-use can lose to a policy that keeps several small
  objects in the place of one large one (tests/test_caching.py has such a trace). Belady
  is then a strong heuristic reference, not an upper bound on the hit ratio.

Belady runs in O(n log n): the next-use index of every request is precomputed backwards
in O(n), and the cache keeps a max-heap on next use with lazy deletion.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np


@dataclass(frozen=True)
class CacheStats:
    """What a simulation counted.

    Attributes:
        hit: one byte per request, 1 for a hit and 0 for a miss.
        bytes_requested: the total size of all requests [bytes].
        bytes_hit: the total size of the requests that hit [bytes].
    """

    hit: bytes
    bytes_requested: int
    bytes_hit: int

    @property
    def requests(self) -> int:
        return len(self.hit)

    @property
    def hits(self) -> int:
        return self.hit.count(1)

    @property
    def misses(self) -> int:
        return self.requests - self.hits

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.hit else 0.0

    @property
    def byte_hit_ratio(self) -> float:
        return self.bytes_hit / self.bytes_requested if self.bytes_requested else 0.0


def next_use_indices(ids: Sequence) -> list[int]:
    """For each request, the index of the next request of the same object.

    Requests never repeated get ``n + i`` (n the trace length, i their own index): beyond
    every real index, and distinct, so that comparisons never tie.
    """
    n = len(ids)
    array = np.asarray(ids) if isinstance(ids, np.ndarray) or n > 1000 else None
    if array is not None and array.ndim == 1 and array.dtype.kind in "iu":
        # the same indices with numpy: a stable sort puts each object's requests in order
        order = np.argsort(array, kind="stable")
        ordered = array[order]
        following_array = order + n  # the last request of each object: never again
        repeated = ordered[1:] == ordered[:-1]
        following_array[:-1][repeated] = order[1:][repeated]
        result = np.empty(n, dtype=np.int64)
        result[order] = following_array
        return result.tolist()
    following: list[int] = [0] * n
    seen: dict = {}
    for i in range(n - 1, -1, -1):
        x = ids[i]
        following[i] = seen.get(x, n + i)
        seen[x] = i
    return following


def fifo(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """First in, first out."""
    return _queue_cache(ids, capacity, sizes, requeue_hits=False)


def lru(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """Least recently used."""
    return _queue_cache(ids, capacity, sizes, requeue_hits=True)


def _queue_cache(
    ids: Sequence, capacity: int, sizes: Sequence[int] | None, requeue_hits: bool
) -> CacheStats:
    """A cache that admits at the back of a queue and evicts from its front; a hit moves
    its object to the back with ``requeue_hits`` (LRU) and leaves it in place without (FIFO)."""
    ids, sizes_list = _as_lists(ids, sizes)
    cache: OrderedDict = OrderedDict()
    used = 0
    hit = bytearray(len(ids))
    for i, (x, s) in enumerate(zip(ids, sizes_list or repeat(1))):
        if x in cache:
            if requeue_hits:
                cache.move_to_end(x)
            hit[i] = 1
        elif s <= capacity:
            used += s
            while used > capacity:
                used -= cache.popitem(last=False)[1]
            cache[x] = s
    return _stats(hit, sizes)


def lfu(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """Least frequently used since admission, least recently used among ties."""
    ids, sizes_list = _as_lists(ids, sizes)
    count: dict = {}  # object -> requests since admission
    size_of: dict = {}
    # count -> the objects with that count, least recently requested first
    buckets: dict[int, OrderedDict] = {}
    lowest = 0
    used = 0
    hit = bytearray(len(ids))
    for i, (x, s) in enumerate(zip(ids, sizes_list or repeat(1))):
        c = count.get(x)
        if c is not None:
            hit[i] = 1
            bucket = buckets[c]
            del bucket[x]
            if not bucket:
                del buckets[c]
                if lowest == c:
                    lowest = c + 1
            count[x] = c + 1
            if c + 1 in buckets:
                buckets[c + 1][x] = None
            else:
                buckets[c + 1] = OrderedDict({x: None})
        elif s <= capacity:
            used += s
            while used > capacity:
                if lowest not in buckets:
                    lowest = min(buckets)  # only when one miss evicts several objects
                bucket = buckets[lowest]
                victim = bucket.popitem(last=False)[0]
                if not bucket:
                    del buckets[lowest]
                used -= size_of.pop(victim)
                del count[victim]
            count[x] = 1
            size_of[x] = s
            if 1 in buckets:
                buckets[1][x] = None
            else:
                buckets[1] = OrderedDict({x: None})
            lowest = 1
    return _stats(hit, sizes)


def sieve(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """SIEVE (Zhang et al., NSDI 2024)."""
    ids, sizes_list = _as_lists(ids, sizes)
    visited: dict = {}  # the cached objects and their visited bits
    size_of: dict = {}
    newer: dict = {}  # queue links; the newest object has no newer one
    older: dict = {}
    newest = oldest = hand = None
    used = 0
    hit = bytearray(len(ids))
    for i, (x, s) in enumerate(zip(ids, sizes_list or repeat(1))):
        if x in visited:
            visited[x] = True
            hit[i] = 1
            continue
        if s > capacity:
            continue
        used += s
        while used > capacity:
            victim = oldest if hand is None else hand
            while visited[victim]:
                visited[victim] = False
                victim = newer[victim]
                if victim is None:
                    victim = oldest
            hand = newer[victim]
            before, after = older.pop(victim), newer.pop(victim)
            if before is None:
                oldest = after
            else:
                newer[before] = after
            if after is None:
                newest = before
            else:
                older[after] = before
            del visited[victim]
            used -= size_of.pop(victim)
        visited[x] = False
        size_of[x] = s
        older[x], newer[x] = newest, None
        if newest is None:
            oldest = x
        else:
            newer[newest] = x
        newest = x
    return _stats(hit, sizes)


def arc(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """ARC (Megiddo and Modha, FAST 2003, Fig. 4), for unit sizes only.

    Two LRU lists split the cache, T1 (seen once recently) and T2 (seen at least twice);
    two ghost lists B1 and B2 remember the ids recently evicted from each. A hit in a
    ghost list moves the target size ``p`` of T1 towards the list that would have hit.
    """
    if sizes is not None:
        raise ValueError("arc supports unit sizes only (sizes must be None)")
    ids, _ = _as_lists(ids, None)
    c = capacity
    t1: OrderedDict = OrderedDict()
    t2: OrderedDict = OrderedDict()
    b1: OrderedDict = OrderedDict()
    b2: OrderedDict = OrderedDict()
    p = 0.0  # the target size of T1
    hit = bytearray(len(ids))

    def replace(in_b2: bool) -> None:
        if t1 and (len(t1) > p or (in_b2 and len(t1) == p)):
            b1[t1.popitem(last=False)[0]] = None
        else:
            b2[t2.popitem(last=False)[0]] = None

    for i, x in enumerate(ids):
        if x in t1:
            del t1[x]
            t2[x] = None
            hit[i] = 1
        elif x in t2:
            t2.move_to_end(x)
            hit[i] = 1
        elif x in b1:
            p = min(p + (1.0 if len(b1) >= len(b2) else len(b2) / len(b1)), c)
            replace(False)
            del b1[x]
            t2[x] = None
        elif x in b2:
            p = max(p - (1.0 if len(b2) >= len(b1) else len(b1) / len(b2)), 0.0)
            replace(True)
            del b2[x]
            t2[x] = None
        else:
            if len(t1) + len(b1) == c:
                if len(t1) < c:
                    b1.popitem(last=False)
                    replace(False)
                else:
                    t1.popitem(last=False)
            elif len(t1) + len(t2) + len(b1) + len(b2) >= c:
                if len(t1) + len(t2) + len(b1) + len(b2) == 2 * c:
                    b2.popitem(last=False)
                replace(False)
            t1[x] = None
    return _stats(hit, None)


def belady(
    ids: Sequence,
    capacity: int,
    sizes: Sequence[int] | None = None,
    bypass: bool = True,
    next_use: Sequence[int] | None = None,
) -> CacheStats:
    """Belady's MIN: keep what is requested again soonest.

    Args:
        ids: the object of each request.
        capacity: the cache size [bytes; objects without sizes].
        sizes: each request's object size [bytes], or None for unit sizes.
        bypass: whether a missed object may be left out of the cache (the optimum when
            admission is a choice); False gives the classic demand-paging MIN.
        next_use: the output of :func:`next_use_indices`, if already computed.
    """
    following = next_use_indices(ids) if next_use is None else next_use
    ids, sizes_list = _as_lists(ids, sizes)
    if sizes_list is None:
        return _stats(_belady_unit(ids, capacity, bypass, following), None)
    cached: dict = {}  # object -> the index of its next request
    size_of: dict = {}
    heap: list[tuple[int, object]] = []  # (-next use, object), stale entries skipped lazily
    used = 0
    hit = bytearray(len(ids))
    for i, (x, s) in enumerate(zip(ids, sizes_list or repeat(1))):
        upcoming = following[i]
        if x in cached:
            hit[i] = 1
            cached[x] = upcoming
            heapq.heappush(heap, (-upcoming, x))
            continue
        if s > capacity:
            continue
        victims = []
        freed = capacity - used
        while freed < s:
            negative, y = heapq.heappop(heap)
            if cached.get(y) != -negative:
                continue  # stale: y was requested again or evicted since
            if bypass and -negative < upcoming:
                heapq.heappush(heap, (negative, y))
                break
            victims.append((negative, y))
            freed += size_of[y]
        if freed < s:
            for entry in victims:
                heapq.heappush(heap, entry)
            continue
        for _, y in victims:
            del cached[y]
            used -= size_of.pop(y)
        cached[x] = upcoming
        size_of[x] = s
        used += s
        heapq.heappush(heap, (-upcoming, x))
    return _stats(hit, sizes)


def _belady_unit(ids: list, capacity: int, bypass: bool, following: Sequence[int]) -> bytearray:
    """:func:`belady` with unit sizes: the hit of each request.

    The heap holds the next-use index of every cached object, negated, and nothing else:
    next uses are distinct and name their object (``ids[u]``, or ``ids[u - n]`` for a
    request never repeated). A hit leaves the object's old entry, its own index, in the
    heap; such stale entries are below every cached object's next use, so they never
    reach the top of a full cache, and they are swept out once they outnumber the rest.
    """
    n = len(ids)
    cached: set = set()
    heap: list[int] = []
    limit = 2 * capacity + 64
    hit = bytearray(n)
    push, replace = heapq.heappush, heapq.heapreplace
    for i, (x, upcoming) in enumerate(zip(ids, following)):
        if x in cached:
            hit[i] = 1
            push(heap, -upcoming)
            if len(heap) > limit:
                heap = [key for key in heap if -key > i]
                heapq.heapify(heap)
        elif len(cached) < capacity:
            cached.add(x)
            push(heap, -upcoming)
        else:
            furthest = -heap[0]
            if furthest > upcoming or not bypass:
                cached.remove(ids[furthest] if furthest < n else ids[furthest - n])
                cached.add(x)
                replace(heap, -upcoming)
    return hit


def belady_forced(ids: Sequence, capacity: int, sizes: Sequence[int] | None = None) -> CacheStats:
    """Belady's MIN that must admit every missed object that fits (demand paging)."""
    return belady(ids, capacity, sizes, bypass=False)


POLICIES: dict[str, Callable[..., CacheStats]] = {
    "fifo": fifo,
    "lru": lru,
    "lfu": lfu,
    "sieve": sieve,
    "arc": arc,
    "belady": belady,
    "belady_forced": belady_forced,
}


# the policies that take variable object sizes
SIZED_POLICIES = tuple(name for name in POLICIES if name != "arc")


def simulate(
    policy: str, ids: Sequence, capacity: int, sizes: Sequence[int] | None = None
) -> CacheStats:
    """Replay ``ids`` through the exact simulator named ``policy`` (a key of POLICIES).

    Raises:
        ValueError: an unknown policy, a capacity that is not a positive integer, or sizes
            that do not match the requests one to one or are not positive.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {sorted(POLICIES)}, got {policy!r}")
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
        raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
    if sizes is not None:
        if len(sizes) != len(ids):
            raise ValueError(
                f"sizes must have one entry per request ({len(ids)}), got {len(sizes)}"
            )
        if len(sizes) and min(sizes) <= 0:
            raise ValueError("sizes must be positive [bytes]")
    return POLICIES[policy](ids, int(capacity), sizes)


def _as_lists(ids: Sequence, sizes: Sequence[int] | None) -> tuple[list, list | None]:
    # Plain Python ints hash and compare far faster than numpy scalars in the loops.
    ids_list = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
    if sizes is None:
        return ids_list, None
    return ids_list, sizes.tolist() if isinstance(sizes, np.ndarray) else list(sizes)


def _stats(hit: bytearray, sizes: Sequence[int] | None) -> CacheStats:
    if sizes is None:
        hits = hit.count(1)
        return CacheStats(bytes(hit), len(hit), hits)
    size_array = np.asarray(sizes, dtype=np.int64)
    mask = np.frombuffer(bytes(hit), dtype=np.uint8).astype(bool)
    return CacheStats(bytes(hit), int(size_array.sum()), int(size_array[mask].sum()))

"""A cache that stops at each eviction decision: the state machine behind Caching-v0.

The cache replays a request stream. Hits, and misses that fit in the free space, are
served without a decision. A miss that does not fit opens a decision: the cache draws
``n_candidates`` eviction candidates uniformly from the cached objects, as Redis's
sampled LRU/LFU does (all of them, repeated in turn to fill the slots, when fewer are
cached), and waits until the caller evicts one of them or bypasses the newcomer. If
evicting one candidate does not free enough bytes, a new decision opens for the same
request.

Time is virtual: request ``i`` of the stream happens at time ``i``. The cache keeps,
for every cached object, its size, the time it was admitted, the time of its last
request and its requests since admission; for every object seen in the stream, its
requests so far. Counts may decay with a half-life, so that old popularity fades.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class DecisionCache:
    """A byte-capacity cache whose evictions are decided from outside.

    Args:
        capacity: the cache size [bytes]; with unit sizes, the number of objects.
        n_candidates: how many eviction candidates a decision shows.
        count_half_life: the half-life of request counts [requests]; 0 keeps raw counts.
    """

    def __init__(self, capacity: int, n_candidates: int, count_half_life: float) -> None:
        self.capacity = capacity
        self.n_candidates = n_candidates
        self.count_half_life = count_half_life
        self.reset([], [], random.Random(0))

    def reset(
        self,
        ids: list,
        sizes: list[int],
        rng: random.Random,
        extend: Callable[[], bool] = lambda: False,
        length: int | None = None,
    ) -> None:
        """Empty the cache and load a request stream.

        Args:
            ids: the object of each request; may grow while the cache runs.
            sizes: the size of each request's object [bytes], growing with ``ids``.
            rng: the generator of candidate samples.
            extend: appends more requests to ``ids`` and ``sizes``; False when it has none.
            length: the number of requests the stream will have; ``len(ids)`` if None.
        """
        self.ids = ids
        self.sizes = sizes
        self.rng = rng
        self.extend = extend
        self.length = len(ids) if length is None else length
        self.now = 0  # the index of the next request to serve
        self.used = 0  # [bytes]
        self.members: list = []  # the cached objects, in no particular order
        self.slot: dict = {}  # object -> its index in members
        self.size_of: dict = {}
        self.inserted: dict = {}
        self.count: dict = {}  # requests since admission, decayed to the last request
        self.last_seen: dict = {}  # every object seen -> the time of its last request
        self.seen_count: dict = {}  # every object seen -> its requests, decayed likewise
        self.candidates: list = []
        self.pending = False
        self.hits = 0
        self.bytes_hit = 0
        self.bytes_requested = 0
        self.served = 0

    @property
    def done(self) -> bool:
        """Whether every request of the stream has been served."""
        return self.now >= self.length

    def run_until_decision(self) -> tuple[int, int]:
        """Serve requests until one needs a decision or the stream ends.

        Returns:
            The hits and the bytes hit [bytes] served on the way.
        """
        ids, sizes, capacity = self.ids, self.sizes, self.capacity
        size_of, count, seen_count, last_seen = (
            self.size_of,
            self.count,
            self.seen_count,
            self.last_seen,
        )
        members, slot, inserted = self.members, self.slot, self.inserted
        decaying = self.count_half_life != 0
        hits = bytes_hit = requested = 0
        end = len(ids)
        first = i = self.now
        while True:
            if i == end:
                if not self.extend():
                    break
                end = len(ids)
            x = ids[i]
            if x in size_of:
                s = size_of[x]
                hits += 1
                bytes_hit += s
                if decaying:
                    self._touch(x, i, True)
                else:  # _touch without decay, inlined: most requests of a warm cache hit
                    count[x] += 1
                    seen_count[x] += 1
                    last_seen[x] = i
            else:
                s = sizes[i]
                if s + self.used > capacity and s <= capacity:
                    self.now = i
                    self._open_decision()
                    break
                if decaying or s > capacity:
                    admitted = s <= capacity
                    if admitted:
                        self._admit(x, s, i)
                    self._touch(x, i, admitted)
                else:  # _admit and _touch without decay, inlined: a cold cache admits often
                    slot[x] = len(members)
                    members.append(x)
                    size_of[x] = s
                    inserted[x] = i
                    self.used += s
                    count[x] = 1
                    seen_count[x] = seen_count.get(x, 0) + 1
                    last_seen[x] = i
            requested += s
            i += 1
        self.now = i
        self.served += i - first
        self.bytes_requested += requested
        self.hits += hits
        self.bytes_hit += bytes_hit
        return hits, bytes_hit

    def evict(self, index: int) -> None:
        """Evict candidate ``index``; admit the newcomer if it now fits, else decide again."""
        victim = self.candidates[index]
        self._remove(victim)
        i = self.now
        s = self.sizes[i]
        if self.used + s > self.capacity:
            self._open_decision()
            return
        self._admit(self.ids[i], s, i)
        self._finish_request(admitted=True)

    def bypass(self) -> None:
        """Serve the pending request without caching its object."""
        self._finish_request(admitted=False)

    def decay(self, value: float, since: int) -> float:
        """A count last updated at time ``since``, decayed to the current time."""
        if self.count_half_life == 0 or value == 0:
            return value
        return value * 0.5 ** ((self.now - since) / self.count_half_life)

    def _finish_request(self, admitted: bool) -> None:
        i = self.now
        self._touch(self.ids[i], i, admitted)
        self.bytes_requested += self.sizes[i]
        self.served += 1
        self.now = i + 1
        self.pending = False
        self.candidates = []

    def _open_decision(self) -> None:
        members = self.members
        k = self.n_candidates
        n = len(members)
        if n > k:
            # k distinct draws by rejection: cheaper than random.sample for k << n, and
            # still uniform over the k-subsets
            draw = self.rng.random
            chosen: list = []
            while len(chosen) < k:
                x = members[int(draw() * n)]
                if x not in chosen:
                    chosen.append(x)
            self.candidates = chosen
        else:
            self.candidates = [members[j % n] for j in range(k)]
        self.pending = True

    def _touch(self, x, i: int, cached: bool) -> None:
        half_life = self.count_half_life
        last = self.last_seen.get(x)
        if half_life == 0 or last is None:
            self.seen_count[x] = self.seen_count.get(x, 0) + 1
        else:
            self.seen_count[x] = self.seen_count[x] * 0.5 ** ((i - last) / half_life) + 1
        if cached:
            if half_life == 0 or last is None:
                self.count[x] += 1
            else:
                self.count[x] = self.count[x] * 0.5 ** ((i - last) / half_life) + 1
        self.last_seen[x] = i

    def _admit(self, x, s: int, i: int) -> None:
        self.slot[x] = len(self.members)
        self.members.append(x)
        self.size_of[x] = s
        self.inserted[x] = i
        self.count[x] = 0  # the admitting request is counted by _touch
        self.used += s

    def _remove(self, x) -> None:
        members, slot = self.members, self.slot
        index = slot.pop(x)
        last = members.pop()
        if last != x:
            members[index] = last
            slot[last] = index
        self.used -= self.size_of.pop(x)
        del self.inserted[x]
        del self.count[x]

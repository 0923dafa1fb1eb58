"""Seeded synthetic object-request streams: Zipf popularity and the patterns that break caches.

Objects of the catalog are integers ``0 .. catalog - 1``, object ``r`` having popularity
rank ``r`` (0 the most popular) unless the popular set drifts. The patterns that are not
popularity (scans, periodic loops, one-hit wonders) use ids from ``catalog`` up, so they
never collide with the catalog. Streams with order (Markov walks over objects, readers
reading files block by block) are what prefetchers learn from.

Every function takes its ``numpy.random.Generator`` from the caller and returns an int64
array of object ids, one per request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from opsgym.envs.core.drift import mix, ramp_fraction

# Episodes draw their requests in chunks as the cache reaches them, so that a reset does
# not pay for a whole episode up front.
CHUNK = 256


def zipf_probabilities(catalog: int, exponent: float) -> np.ndarray:
    """The Zipf popularity of each rank, ``p(r) = (r + 1)^-exponent / H(catalog, exponent)``."""
    weights = np.arange(1, catalog + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of a discrete distribution, built by Vose's method (1991).

    Sampling then costs O(1) per draw whatever the catalog size: pick a column uniformly,
    keep it with its ``keep`` probability, else take its ``alias``.

    Returns:
        ``keep`` (float64) and ``alias`` (int64), one entry per outcome.
    """
    n = len(probabilities)
    scaled = (np.asarray(probabilities, dtype=np.float64) * n).tolist()
    keep = [1.0] * n
    alias = list(range(n))
    small = [i for i, p in enumerate(scaled) if p < 1.0]
    large = [i for i, p in enumerate(scaled) if p >= 1.0]
    while small and large:
        low, high = small.pop(), large.pop()
        keep[low] = scaled[low]
        alias[low] = high
        scaled[high] -= 1.0 - scaled[low]
        (small if scaled[high] < 1.0 else large).append(high)
    return np.array(keep), np.array(alias, dtype=np.int64)


def zipf_requests(
    rng: np.random.Generator, count: int, table: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Draw ``count`` independent requests (the independent reference model).

    Args:
        rng: the generator every draw comes from.
        count: the number of requests.
        table: the alias table of the popularity, from :func:`alias_table`.
    """
    keep, alias = table
    scaled = rng.random(count) * len(keep)
    column = scaled.astype(np.int64)
    # the fractional part is a uniform draw independent of the column
    return np.where(scaled - column < keep[column], column, alias[column])


def drift(
    ranks: np.ndarray,
    catalog: int,
    period: int,
    shift: int,
    start: int = 0,
    ramp: int = 0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Shift the popular set by ``shift`` objects every ``period`` requests.

    Request ``i`` of rank ``r`` asks for object ``(r + shift * (i // period)) % catalog``:
    after each period the objects that were most popular fall out of favour and others,
    never requested before, take their place. With ``ramp`` > 0 the shift is gradual: in
    the first ``ramp`` requests of a period, request ``i`` follows the new ranking with
    the probability :func:`opsgym.envs.core.drift.ramp_fraction` gives (drawn from
    ``rng``) and the previous one otherwise. ``ranks`` are requests ``start`` onwards.
    """
    positions = np.arange(start, start + len(ranks), dtype=np.int64)
    phase = positions // period
    new = ranks + shift * phase
    if ramp:
        fraction = np.where(phase > 0, ramp_fraction(positions % period, 0, ramp), 1.0)
        new = mix(rng, new - shift, new, fraction)
    return new % catalog


def add_scans(
    ids: np.ndarray, every: int, length: int, first_id: int, start: int = 0
) -> np.ndarray:
    """Replace a run of ``length`` requests every ``every`` requests by a scan.

    A scan asks for ``length`` distinct objects never requested before nor after (ids from
    ``first_id`` up), as a backup or a full table scan does: it flushes a recency-based
    cache of everything useful. Each scan closes a period of ``every`` requests; ``ids``
    are requests ``start`` onwards.
    """
    ids = ids.copy()
    positions = np.arange(start, start + len(ids))
    in_scan = (positions % every) >= every - length
    ids[in_scan] = first_id + np.arange(int(in_scan.sum()), dtype=np.int64)
    return ids


def add_floods(
    ids: np.ndarray, every: int, objects: int, repeats: int, first_id: int, start: int = 0
) -> np.ndarray:
    """Replace a run of ``objects * repeats`` requests every ``every`` requests by a flood.

    An adversary games popularity: each flood asks for ``objects`` new objects in turn,
    ``repeats`` times over, and never asks for them again. Each looks as popular as a
    hot object to a frequency-based cache (LFU), which then keeps it long after its last
    request; a recency-based cache lets it age out. Each flood closes a period of
    ``every`` requests and has its own objects, ids ``first_id + flood * objects + j``;
    ``ids`` are requests ``start`` onwards.
    """
    ids = ids.copy()
    positions = np.arange(start, start + len(ids), dtype=np.int64)
    offset = positions % every - (every - objects * repeats)
    flooded = offset >= 0
    ids[flooded] = first_id + (positions[flooded] // every) * objects + offset[flooded] % objects
    return ids


def add_loop(
    rng: np.random.Generator,
    ids: np.ndarray,
    fraction: float,
    size: int,
    first_id: int,
    done: int = 0,
) -> np.ndarray:
    """Send a ``fraction`` of the requests round a loop of ``size`` objects, in order.

    Periodic access: each loop object comes back every ``size / fraction`` requests on
    average. A loop longer than the cache defeats LRU and FIFO entirely (every loop
    request misses) while an optimal cache keeps part of it. ``done`` loop requests came
    before these.
    """
    ids = ids.copy()
    chosen = rng.random(len(ids)) < fraction
    ids[chosen] = first_id + np.arange(done, done + int(chosen.sum()), dtype=np.int64) % size
    return ids


def add_one_hit_wonders(
    rng: np.random.Generator, ids: np.ndarray, fraction: float, first_id: int
) -> np.ndarray:
    """Replace a ``fraction`` of the requests by objects requested exactly once.

    One-hit wonders are a large share of CDN and web traffic (Maggs and Sitaraman, 2015);
    admitting them only pushes out useful objects. Their ids run from ``first_id`` up.
    """
    ids = ids.copy()
    chosen = rng.random(len(ids)) < fraction
    ids[chosen] = first_id + np.arange(int(chosen.sum()), dtype=np.int64)
    return ids


def lognormal_sizes(
    rng: np.random.Generator, count: int, median: float, sigma: float
) -> np.ndarray:
    """Draw ``count`` lognormal object sizes [bytes], at least 1.

    Web object sizes are heavy-tailed and close to lognormal (Breslau et al., INFOCOM
    1999). Their mean is ``median * exp(sigma^2 / 2)`` (before rounding).
    """
    return np.maximum(1, np.rint(median * rng.lognormal(0.0, sigma, count))).astype(np.int64)


class LazySuccessors(dict):
    """Each object's likely successors, drawn uniformly from the catalog when first read.

    ``successors[x]`` is the list of ``x``'s successors. Rows are i.i.d. and a row is not
    looked at before it is drawn, so drawing it when the walk first leaves its object gives
    the walk the same law as drawing every row up front, at a fraction of the cost when an
    episode visits few objects. Rows are drawn ``block`` at a time.

    Args:
        rng: the generator every draw comes from.
        catalog: successors are ``0 .. catalog - 1``.
        per_object: the successors of each object.
        block: how many rows one draw from ``rng`` makes.
    """

    def __init__(
        self, rng: np.random.Generator, catalog: int, per_object: int, block: int = 64
    ) -> None:
        super().__init__()
        self.rng, self.catalog, self.per_object, self.block = rng, catalog, per_object, block
        self.spare: list[int] = []  # drawn successors, given to objects from ``used`` on
        self.used = 0

    def __missing__(self, x: int) -> list[int]:
        start = self.used
        if start == len(self.spare):
            size = self.block * self.per_object
            self.spare, start = self.rng.integers(self.catalog, size=size).tolist(), 0
        self.used = stop = start + self.per_object
        row = self[x] = self.spare[start:stop]
        return row


def markov_walk(
    rng: np.random.Generator,
    count: int,
    successors: Mapping[int, Sequence[int]],
    cumulative: np.ndarray,
    jump: float,
    table: tuple[np.ndarray, np.ndarray],
    start: int | None = None,
) -> np.ndarray:
    """Walk ``count`` steps of a Markov chain over objects, each with a few likely successors.

    From object ``x`` the walk moves to its successor ``j``, ``successors[x][j]``, with
    probability ``(1 - jump) * w[j]``, and with probability ``jump`` to an object drawn
    from the popularity in ``table`` (a user who starts something new). The first request
    is such a draw unless ``start``, the object requested just before, continues an earlier
    walk.

    Args:
        rng: the generator every draw comes from.
        count: the number of requests.
        successors: the successors of every object (a dict, or :class:`LazySuccessors`).
        cumulative: the cumulative probabilities of the successor columns ``w``, as
            :func:`cumulative_weights` makes them.
        jump: the probability of a jump at each request.
        table: the alias table of the jump popularity, from :func:`alias_table`.
        start: the object requested before these, or None.
    """
    jumps = (rng.random(count) < jump).tolist()
    # what rng.choice(len(w), size=count, p=w) draws, without its checks of p on every call
    columns = cumulative.searchsorted(rng.random(count), side="right").tolist()
    targets = zipf_requests(rng, count, table).tolist()
    walk = [0] * count
    x = start
    for i in range(count):
        x = targets[i] if x is None or jumps[i] else successors[x][columns[i]]
        walk[i] = x
    return np.array(walk, dtype=np.int64)


def cumulative_weights(weights: np.ndarray) -> np.ndarray:
    """The cumulative distribution of ``weights`` exactly as ``Generator.choice`` builds it."""
    cumulative = np.asarray(weights, dtype=np.float64).cumsum()
    cumulative /= cumulative[-1]
    return cumulative


def interleaved_reads(
    rng: np.random.Generator,
    count: int,
    readers: list[list[int]],
    file_blocks: int,
    table: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Draw ``count`` block requests of readers reading whole files, interleaved.

    Each request comes from a reader chosen uniformly; the reader asks for the next block
    of its file, and on finishing a file opens another, drawn from the file popularity in
    ``table``, at block 0. Block ``b`` of file ``f`` is object ``f * file_blocks + b``, so
    that a file's blocks are consecutive ids, as a sequential prefetcher (readahead)
    assumes.

    Args:
        rng: the generator every draw comes from.
        count: the number of requests.
        readers: per reader ``[next object, blocks left in its file]``; updated in place,
            so that the next call continues the reads. ``[0, 0]`` opens a file first.
        file_blocks: the blocks of every file.
        table: the alias table of file popularity.
    """
    who = rng.integers(len(readers), size=count).tolist()
    opened = (zipf_requests(rng, count, table) * file_blocks).tolist()  # at most one per request
    requests = [0] * count
    for i in range(count):
        reader = readers[who[i]]
        if reader[1] == 0:
            reader[0], reader[1] = opened[i], file_blocks
        requests[i] = reader[0]
        reader[0] += 1
        reader[1] -= 1
    return np.array(requests, dtype=np.int64)

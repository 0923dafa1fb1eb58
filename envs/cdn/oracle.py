"""The ceiling of CDN-v0: an upper bound on the return of every policy, from the future.

Take any policy's episode. Per edge, every request is a hit (worth its size s), or not:
a miss the origin sends (worth 0 and costing ``egress_cost * s``), a request that waits
for a transfer or is shed (worth 0). Every push costs ``(egress_cost + push_cost) * s``.
With ``egress_cost <= 1`` each request that is not a hit therefore costs at least
``egress_cost * s`` against a hit, and so does each pushed byte: the return is at most

    (bytes requested) - egress_cost * (bytes that reached the edge or went through it),

and those bytes are at least what the best offline cache would fetch for the edge's
requests: a cache of the same capacity, starting with the same contents, that may
prefetch, evict and bypass anything at any time, ignores the origin's link, and may
hold a fraction of an object (the relaxation that makes the optimum computable). That
optimum is Belady's rule on bytes (:func:`fetched_bytes_lower_bound`): keep the bytes
whose next request comes soonest. Moreover only pushed bytes reach an edge without a
request that is not a hit paying their full size (instead of ``egress_cost``), and at
most one object is pushed per interval, no larger than the cache, than the link sends
within the timeout, and than the episode's largest object: with P the episode's
pushable bytes so bounded, the cost is also at least ``fetched - (1 - egress_cost) * P``.

The bound is exact for the relaxation (tested against brute force on small instances);
it is not reachable by a policy, which cannot evict, bypass or split objects, pushes one
object per interval, and shares a limited origin link.
"""

from __future__ import annotations

import heapq

import numpy as np

from opsgym.envs.cdn.simulator import GB


def next_uses(objects: np.ndarray) -> np.ndarray:
    """For each request, the index of the next request of its object (``len`` if none)."""
    n = len(objects)
    order = np.lexsort((np.arange(n), objects))
    following = np.full(n, n, dtype=np.int64)
    same = objects[order[1:]] == objects[order[:-1]]
    following[order[:-1][same]] = order[1:][same]
    return following


def fetched_bytes_lower_bound(
    objects: np.ndarray, sizes: np.ndarray, capacity: int, initial: list[int] | None = None
) -> int:
    """The fewest bytes a cache of ``capacity`` bytes fetches to serve ``objects``.

    A request is served from the bytes of its object the cache holds, the rest fetched;
    after each request the cache keeps, of what it held and of the requested object, the
    ``capacity`` bytes requested again soonest (Belady's rule on bytes, optimal for a
    cache that holds fractions of objects, may bypass, and fetches at any time).

    Args:
        objects: the object of each request, in order.
        sizes: every object's size [bytes], by id.
        capacity: the cache size [bytes].
        initial: objects cached at the start (whole, free), as far as they fit.
    """
    objects = np.asarray(objects, dtype=np.int64)
    following = next_uses(objects).tolist()
    end = len(objects)
    request_sizes = np.asarray(sizes, dtype=np.int64)[objects].tolist()
    first_use = {}
    for i, obj in enumerate(objects.tolist()):
        first_use.setdefault(obj, i)
    held: dict[int, int] = {}  # object -> bytes of it in the cache
    due: dict[int, int] = {}  # object -> index of its next request
    heap: list[tuple[int, int]] = []  # (-next request, object); stale entries skipped
    used = 0
    for obj in initial or []:
        size = int(sizes[obj])
        if obj in first_use and used + size <= capacity:
            held[obj], due[obj] = size, first_use[obj]
            heapq.heappush(heap, (-first_use[obj], obj))
            used += size
    fetched = 0
    for obj, size, upcoming in zip(objects.tolist(), request_sizes, following):
        have = held.pop(obj, 0)
        fetched += size - have
        used -= have
        if upcoming == end:
            continue
        keep = min(size, capacity)
        held[obj], due[obj] = keep, upcoming
        heapq.heappush(heap, (-upcoming, obj))
        used += keep
        while used > capacity:
            key, victim = heap[0]
            if held.get(victim) is None or due[victim] != -key:
                heapq.heappop(heap)
                continue
            excess = used - capacity
            if held[victim] <= excess:
                heapq.heappop(heap)
                used -= held.pop(victim)
            else:
                held[victim] -= excess
                used = capacity
    return fetched


def reward_bound(env) -> float:
    """The bound of the module on the return of the episode ``env`` runs [GB].

    Reads the whole episode's requests (the future too) and the edges' starting contents.

    Args:
        env: a :class:`opsgym.envs.cdn.CDNEnv` after ``reset``, wrapped or not.
    """
    env = env.unwrapped
    config, workload = env.config, env.workload
    intervals = [workload.requests(t) for t in range(config.episode_length)]
    edges = np.concatenate([edge for edge, _ in intervals])
    objects = np.concatenate([obj for _, obj in intervals])
    requested = int(workload.sizes[objects].sum())
    fetched = sum(
        fetched_bytes_lower_bound(
            objects[edges == e], workload.sizes, env.capacity, env.initial_contents[e]
        )
        for e in range(env.n_edges)
    )
    # the most one push can carry: it fits the cache, the link within the timeout, and
    # is no larger than the episode's largest object
    largest = min(
        env.capacity, env.link_rate * config.origin_timeout_seconds, int(workload.sizes.max())
    )
    pushable = config.episode_length * largest
    cost = max(config.egress_cost * fetched, fetched - (1.0 - config.egress_cost) * pushable)
    return (requested - cost) / GB


class LookaheadOracle:
    """Push the candidate that the next ``horizon`` intervals' requests reward most.

    Reads the episode's future requests, not the observation: a heuristic ceiling with
    future knowledge, not a bound (see :func:`reward_bound` for the bound). A push of an
    object an edge would cache on its first miss saves at most that miss; a push of an
    object larger than the edge caches on a miss saves every request for it until it is
    evicted. So each allowed (candidate, edge) pair is worth its size times 1, or times
    its requests at the edge within the horizon, if it is requested there at all; the
    oracle pushes the most valuable pair.

    Args:
        env: the environment to read; wrappers are looked through.
        horizon: how many intervals ahead it reads.
    """

    def __init__(self, env, horizon: int = 15) -> None:
        from opsgym.envs.cdn.env import CDNEnv
        from opsgym.envs.core import validation

        self.env = validation.unwrapped_as(env, CDNEnv, "LookaheadOracle")
        self.horizon = validation.integer("horizon", horizon, minimum=1)

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        n_edges, no_push = env.n_edges, env.action_space.n - 1
        mask = env.action_masks()
        if not mask[:no_push].any():
            return no_push
        now = env.elapsed_intervals
        end = min(now + self.horizon, env.config.episode_length)
        upcoming = [env.workload.requests(t) for t in range(now, end)]
        edges = np.concatenate([e for e, _ in upcoming])
        objects = np.concatenate([o for _, o in upcoming])
        sizes, pull_limit = env.workload.sizes, env.simulator.pull_limit
        best, choice = 0.0, no_push
        for slot, obj in enumerate(env.candidates):
            requests = np.bincount(edges[objects == obj], minlength=n_edges)
            for e in range(n_edges):
                if not mask[slot * n_edges + e] or requests[e] == 0:
                    continue
                value = float(sizes[obj]) * (1 if sizes[obj] <= pull_limit else requests[e])
                if value > best:
                    best, choice = value, slot * n_edges + e
        return choice

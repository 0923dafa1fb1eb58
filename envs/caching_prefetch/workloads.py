"""The request streams of CachingPrefetch-v0 episodes: patterns with order, and IRM Zipf."""

from __future__ import annotations

import numpy as np

from opsgym.envs.caching_prefetch.config import CachingPrefetchConfig
from opsgym.envs.core import request_streams
from opsgym.envs.core.request_streams import CHUNK

FIRST_CHUNK = 1  # a reset serves one request; later chunks are CHUNK long


class PrefetchWorkload:
    """The source of episodes; the popularity table is built once, here."""

    def __init__(self, config: CachingPrefetchConfig) -> None:
        self.config = config
        self.popularity = request_streams.alias_table(
            request_streams.zipf_probabilities(config.catalog_size, config.zipf_exponent)
        )
        # successor j is taken with probability proportional to 1 / (j + 1)
        weights = 1.0 / np.arange(1, config.successors_per_object + 1)
        self.successor_cumulative = request_streams.cumulative_weights(weights / weights.sum())

    def episode(self, rng: np.random.Generator) -> PrefetchStream:
        """A new episode's requests, drawn from ``rng`` as they are needed."""
        return PrefetchStream(self, rng)


class PrefetchStream:
    """The object ids of one episode, drawn chunk by chunk as the cache reaches them.

    The loop's order is drawn with the first chunk, and each object's Markov successors
    the first time the walk leaves it (:class:`~opsgym.envs.core.request_streams.LazySuccessors`);
    chunks take their randomness from the episode's generator in order, so the requests
    do not depend on when they are drawn.
    """

    def __init__(self, workload: PrefetchWorkload, rng: np.random.Generator) -> None:
        self.workload = workload
        self.rng = rng
        self.length = workload.config.episode_length
        self.ids: list[int] = []
        self.successors: request_streams.LazySuccessors | None = None  # "markov"
        self.loop_order: np.ndarray | None = None  # "loops"
        self.readers = [[0, 0] for _ in range(workload.config.n_readers)]  # "sequential"
        self.loop_done = 0

    def extend(self) -> bool:
        """Draw the next chunk of requests; False if the episode has none left."""
        first = len(self.ids)
        count = min(CHUNK if first else FIRST_CHUNK, self.length - first)
        if count <= 0:
            return False
        self.ids += self._draw(count).tolist()
        return True

    def materialize(self) -> list[int]:
        """Draw every remaining request; return them all."""
        while self.extend():
            pass
        return self.ids

    def _draw(self, count: int) -> np.ndarray:
        config, rng, popularity = self.workload.config, self.rng, self.workload.popularity
        catalog = config.catalog_size
        pattern = config.workload
        if pattern == "markov":
            if self.successors is None:
                self.successors = request_streams.LazySuccessors(
                    rng, catalog, config.successors_per_object
                )
            start = self.ids[-1] if self.ids else None
            return request_streams.markov_walk(
                rng,
                count,
                self.successors,
                self.workload.successor_cumulative,
                config.jump_probability,
                popularity,
                start,
            )
        if pattern == "sequential":
            return request_streams.interleaved_reads(
                rng, count, self.readers, config.file_blocks, popularity
            )
        ids = request_streams.zipf_requests(rng, count, popularity)
        if pattern == "loops":
            if self.loop_order is None:
                self.loop_order = catalog + rng.permutation(config.loop_size)
            ids = request_streams.add_loop(
                rng, ids, config.loop_fraction, config.loop_size, catalog, done=self.loop_done
            )
            in_loop = ids >= catalog
            self.loop_done += int(in_loop.sum())
            # the loop visits its objects in a shuffled order, so that their ids say nothing
            ids[in_loop] = self.loop_order[ids[in_loop] - catalog]
        return ids

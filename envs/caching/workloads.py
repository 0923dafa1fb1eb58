"""The request streams of Caching-v0 episodes: synthetic patterns and windows of real traces."""

from __future__ import annotations

import math

import numpy as np

from opsgym.envs.caching.config import SYNTHETIC, CachingConfig
from opsgym.envs.core import request_streams
from opsgym.envs.core.request_streams import CHUNK
from opsgym.envs.core.traces import Trace, read_trace, web07


class Workload:
    """The source of episodes: a Zipf catalog and its patterns, or a trace.

    A trace is read once, here; each episode is a window of ``episode_length``
    consecutive requests starting at a uniformly drawn position (the whole trace when it
    is shorter).
    """

    def __init__(self, config: CachingConfig, trace: Trace | None = None) -> None:
        self.config = config
        self.trace = trace
        self.popularity = (
            request_streams.alias_table(
                request_streams.zipf_probabilities(config.catalog_size, config.zipf_exponent)
            )
            if config.workload in SYNTHETIC
            else None
        )
        self.unit_sizes = config.size_distribution == "unit" and (
            trace is None or trace.sizes is None
        )
        if trace is not None and trace.sizes is not None:
            self.mean_size = float(trace.sizes.mean())
        elif self.unit_sizes:
            self.mean_size = 1.0
        else:  # the lognormal mean
            self.mean_size = config.size_median * math.exp(config.size_sigma**2 / 2.0)

    @classmethod
    def build(cls, config: CachingConfig):
        """Read the trace the configuration names, if any, and build the workload."""
        if config.workload == "web07":
            return cls(config, web07())
        if config.workload == "trace":
            return cls(config, read_trace(config.trace_path, config.trace_format))
        return cls(config)

    def episode(self, rng: np.random.Generator) -> RequestStream:
        """A new episode's requests, drawn from ``rng`` as they are needed."""
        return RequestStream(self, rng)


class RequestStream:
    """The object ids and sizes [bytes] of one episode, drawn chunk by chunk.

    ``ids`` and ``sizes`` hold the requests drawn so far; :meth:`extend` appends the next
    chunk. Chunks take their randomness from the episode's generator in order, and
    nothing else draws from it once the stream exists, so the requests do not depend on
    when they are drawn.
    """

    def __init__(self, workload: Workload, rng: np.random.Generator) -> None:
        self.workload = workload
        self.rng = rng
        config = workload.config
        self.ids: list = []
        self.sizes: list[int] = []
        self.start = 0
        if workload.trace is not None:
            n = len(workload.trace)
            self.length = min(config.episode_length, n)
            self.start = int(rng.integers(0, n - self.length + 1))
        else:
            self.length = config.episode_length
        self.fresh = 0  # ids handed out past the catalog (scans, loops, one-hit wonders)
        self.size_of: dict = {}  # lognormal sizes drawn so far, per object

    def extend(self) -> bool:
        """Draw the next chunk of requests; False if the episode has none left."""
        first = len(self.ids)
        count = min(CHUNK, self.length - first)
        if count <= 0:
            return False
        workload = self.workload
        trace = workload.trace
        sizes = None
        if trace is not None:
            window = slice(self.start + first, self.start + first + count)
            ids = trace.ids[window]
            if trace.sizes is not None:
                sizes = trace.sizes[window].tolist()
        else:
            ids = self._synthetic(first, count)
        ids = ids.tolist()
        if sizes is None:
            sizes = [1] * count if workload.unit_sizes else self._object_sizes(ids)
        self.ids += ids
        self.sizes += sizes
        return True

    def materialize(self) -> None:
        """Draw every remaining request."""
        while self.extend():
            pass

    def _object_sizes(self, ids: list) -> list[int]:
        # every request of an object has the size drawn at its first request
        config = self.workload.config
        draws = request_streams.lognormal_sizes(
            self.rng, len(ids), config.size_median, config.size_sigma
        ).tolist()
        size_of = self.size_of
        return [size_of.setdefault(x, s) for x, s in zip(ids, draws)]

    def _synthetic(self, first: int, count: int) -> np.ndarray:
        config = self.workload.config
        catalog = config.catalog_size
        ids = request_streams.zipf_requests(self.rng, count, self.workload.popularity)
        pattern = config.workload
        if pattern == "drift":
            return request_streams.drift(
                ids,
                catalog,
                config.drift_period,
                config.drift_shift,
                start=first,
                ramp=config.drift_ramp,
                rng=self.rng,
            )
        if pattern == "flood":
            return request_streams.add_floods(
                ids, config.scan_every, config.flood_objects, config.flood_repeats, catalog, first
            )
        if pattern == "scan":
            ids = request_streams.add_scans(
                ids, config.scan_every, config.scan_length, catalog + self.fresh, start=first
            )
        elif pattern == "periodic":
            ids = request_streams.add_loop(
                self.rng, ids, config.loop_fraction, config.loop_size, catalog, done=self.fresh
            )
        elif pattern == "one_hit_wonders":
            ids = request_streams.add_one_hit_wonders(
                self.rng, ids, config.one_hit_fraction, catalog + self.fresh
            )
        self.fresh += int((ids >= catalog).sum())
        return ids

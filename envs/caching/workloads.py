"""The request streams of Caching-v0 episodes: synthetic patterns and windows of real traces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opsgym.envs.core import request_streams
from opsgym.envs.core.traces import Trace, read_trace, web07

SYNTHETIC = ("zipf", "drift", "periodic", "scan", "one_hit_wonders")
WORKLOADS = (*SYNTHETIC, "web07", "trace")
SIZE_DISTRIBUTIONS = ("unit", "lognormal")


@dataclass(frozen=True)
class WorkloadConfig:
    """Everything that shapes an episode's requests (see the env's Arguments table)."""

    workload: str
    episode_length: int
    catalog_size: int
    zipf_exponent: float
    drift_period: int
    drift_shift: int
    scan_every: int
    scan_length: int
    loop_size: int
    loop_fraction: float
    one_hit_fraction: float
    size_distribution: str
    size_median: float
    size_sigma: float


class Workload:
    """Draws the object ids and sizes of one episode from a seeded generator.

    A trace is read once, here; each episode is a window of ``episode_length``
    consecutive requests starting at a uniformly drawn position (the whole trace when it
    is shorter).
    """

    def __init__(self, config: WorkloadConfig, trace: Trace | None = None) -> None:
        self.config = config
        self.trace = trace
        self.popularity = (
            request_streams.alias_table(
                request_streams.zipf_probabilities(config.catalog_size, config.zipf_exponent)
            )
            if config.workload in SYNTHETIC
            else None
        )

    @classmethod
    def build(cls, config: WorkloadConfig, trace_path: str | None, trace_format: str | None):
        """Read the trace the configuration names, if any, and build the workload."""
        if config.workload == "web07":
            return cls(config, web07())
        if config.workload == "trace":
            return cls(config, read_trace(trace_path, trace_format))
        return cls(config)

    def episode(self, rng: np.random.Generator) -> tuple[list, list[int]]:
        """The object id and size [bytes] of every request of a new episode."""
        config = self.config
        sizes = None
        if self.trace is not None:
            n = len(self.trace)
            length = min(config.episode_length, n)
            start = int(rng.integers(0, n - length + 1))
            ids = self.trace.ids[start : start + length]
            if self.trace.sizes is not None:
                sizes = self.trace.sizes[start : start + length]
        else:
            ids = self._synthetic(rng)
        if sizes is None:
            if config.size_distribution == "unit":
                return ids.tolist(), [1] * len(ids)
            sizes = request_streams.object_sizes(rng, ids, config.size_median, config.size_sigma)
        return ids.tolist(), sizes.tolist()

    def _synthetic(self, rng: np.random.Generator) -> np.ndarray:
        config = self.config
        count, catalog = config.episode_length, config.catalog_size
        ids = request_streams.zipf_requests(rng, count, self.popularity)
        if config.workload == "drift":
            return request_streams.drift(ids, catalog, config.drift_period, config.drift_shift)
        if config.workload == "scan":
            return request_streams.add_scans(ids, config.scan_every, config.scan_length, catalog)
        if config.workload == "periodic":
            return request_streams.add_loop(
                rng, ids, config.loop_fraction, config.loop_size, catalog
            )
        if config.workload == "one_hit_wonders":
            return request_streams.add_one_hit_wonders(rng, ids, config.one_hit_fraction, catalog)
        return ids

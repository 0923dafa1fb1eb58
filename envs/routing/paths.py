"""Candidate paths: the K shortest simple paths by propagation delay, cached per node pair."""

from __future__ import annotations

import itertools

import networkx as nx

from opsgym.envs.routing.topology import Topology


class CandidatePaths:
    """The K lowest-delay loop-free paths of each pair (Yen's algorithm, via networkx).

    Each path is a tuple of arc indices; a pair with fewer than K simple paths has fewer
    candidates. Paths are computed the first time a pair is asked for, then cached.
    """

    def __init__(self, topology: Topology, k: int) -> None:
        self.topology = topology
        self.k = k
        self._arc = topology.arc_index()
        self._cache: dict[tuple[int, int], list[tuple[int, ...]]] = {}

    def __call__(self, source: int, target: int) -> list[tuple[int, ...]]:
        key = (source, target)
        paths = self._cache.get(key)
        if paths is None:
            nodes = nx.shortest_simple_paths(self.topology.graph, source, target, weight="delay")
            paths = [
                tuple(self._arc[u, v] for u, v in itertools.pairwise(path))
                for path in itertools.islice(nodes, self.k)
            ]
            self._cache[key] = paths
        return paths

"""Candidate paths: the K shortest simple paths by propagation delay of every node pair."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from opsgym.envs.routing.topology import Topology

# Yen's algorithm on every pair is the slowest part of building an env (0.7 s on
# Geant2009), so tables are shared by every env of the same arcs, delays and K.
_TABLES: dict[tuple, tuple[dict, list, np.ndarray]] = {}


class CandidatePaths:
    """The K lowest-delay loop-free paths of each pair (Yen's algorithm, via networkx).

    Each path is a tuple of arc indices; a pair with fewer than K simple paths has fewer
    candidates. Every pair's paths are computed when the object is built.
    ``shortest[s * n + t]`` is the lowest-delay path of (s, t) and
    ``shortest_incidence[s * n + t]`` its 0/1 row over the arcs (empty and zero for
    s == t).
    """

    def __init__(self, topology: Topology, k: int) -> None:
        self.topology = topology
        self.k = k
        key = (tuple(topology.arcs), tuple(topology.delay_s), k)
        if key not in _TABLES:
            _TABLES[key] = self._tables()
        self._paths, self.shortest, self.shortest_incidence = _TABLES[key]

    def __call__(self, source: int, target: int) -> list[tuple[int, ...]]:
        return self._paths[source, target]

    def _tables(self) -> tuple[dict, list, np.ndarray]:
        topology, k = self.topology, self.k
        arc = topology.arc_index()
        n = len(topology.nodes)
        paths: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        shortest: list[tuple[int, ...]] = []
        incidence = np.zeros((n * n, len(topology.arcs)), dtype=np.int64)
        for s, t in itertools.product(range(n), repeat=2):
            if s == t:
                shortest.append(())
                continue
            nodes = nx.shortest_simple_paths(topology.graph, s, t, weight="delay")
            paths[s, t] = [
                tuple(arc[u, v] for u, v in itertools.pairwise(p))
                for p in itertools.islice(nodes, k)
            ]
            shortest.append(paths[s, t][0])
            incidence[s * n + t, list(shortest[-1])] = 1
        return paths, shortest, incidence

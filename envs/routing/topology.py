"""Backbone topologies from GraphML: links, capacities and great-circle propagation delays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import networkx as nx

SHIPPED = ("Abilene", "Geant2009", "Renater2001")
EARTH_RADIUS_KM = 6371.0  # mean Earth radius (IUGG)
FIBRE_DELAY_S_PER_KM = 5e-6  # light in fibre travels about 200,000 km/s (refractive index ~1.47)
OC192_KBPS = 9_953_280  # SONET OC-192 line rate [kbit/s]


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance [km] between two points given in degrees (haversine formula)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class Topology:
    """A network of full-duplex links, as directed arcs (each link gives two arcs).

    Attributes:
        name: the network's name.
        nodes: node labels, indexed 0..n-1.
        arcs: (tail, head) node indices of each directed arc.
        capacity_kbps: each arc's capacity [kbit/s], an integer so loads add exactly.
        delay_s: each arc's propagation delay [s].
        graph: the undirected graph on node indices with a ``delay`` weight per edge.
        coordinates: each node's (latitude, longitude) [degrees].
    """

    name: str
    nodes: list[str]
    arcs: list[tuple[int, int]]
    capacity_kbps: list[int]
    delay_s: list[float]
    graph: nx.Graph
    coordinates: list[tuple[float, float]]

    def arc_index(self) -> dict[tuple[int, int], int]:
        return {arc: i for i, arc in enumerate(self.arcs)}


def load_topology(source, default_capacity_kbps: int = OC192_KBPS) -> Topology:
    """Read a topology: a shipped name, a GraphML path, or a networkx graph.

    Nodes need ``Latitude`` and ``Longitude`` (degrees). A link's capacity is its
    ``LinkSpeedRaw`` [bit/s] where present, else ``default_capacity_kbps``. Parallel links
    are merged into one whose capacity is their sum; self-loops are dropped.

    Raises:
        ValueError: the file is not readable GraphML, a node has no coordinates, the
            graph has fewer than two nodes, or some pair of nodes is disconnected.
    """
    if isinstance(source, nx.Graph):
        graph, label = source, str(source.graph.get("Network", "graph"))
    elif isinstance(source, str) and source in SHIPPED:
        data = resources.files("opsgym.envs") / "data" / f"topologyzoo-{source}.graphml"
        with resources.as_file(data) as path:
            graph, label = _read_graphml(path), source
    elif isinstance(source, (str, Path)) and Path(source).is_file():
        graph, label = _read_graphml(Path(source)), Path(source).stem
    else:
        raise ValueError(
            f"topology must be one of {list(SHIPPED)}, a GraphML file or a networkx graph, "
            f"got {source!r}"
        )
    return _build(graph, label, default_capacity_kbps)


def _read_graphml(path: Path) -> nx.Graph:
    try:
        return nx.read_graphml(path)
    except Exception as error:  # ElementTree and networkx raise several kinds
        raise ValueError(f"topology: cannot read GraphML from {path}: {error}") from error


def _build(graph: nx.Graph, name: str, default_capacity_kbps: int) -> Topology:
    keys = list(graph.nodes)
    if len(keys) < 2:
        raise ValueError(f"topology {name}: needs at least 2 nodes, got {len(keys)}")
    coords = []
    for key in keys:
        data = graph.nodes[key]
        if "Latitude" not in data or "Longitude" not in data:
            raise ValueError(f"topology {name}: node {key!r} has no Latitude/Longitude")
        coords.append((float(data["Latitude"]), float(data["Longitude"])))
    index = {key: i for i, key in enumerate(keys)}
    capacity: dict[tuple[int, int], int] = {}
    for u, v, data in graph.edges(data=True):
        a, b = sorted((index[u], index[v]))
        if a == b:
            continue
        raw = data.get("LinkSpeedRaw")
        kbps = int(round(float(raw) / 1000.0)) if raw else default_capacity_kbps
        capacity[a, b] = capacity.get((a, b), 0) + max(1, kbps)
    undirected = nx.Graph()
    undirected.add_nodes_from(range(len(keys)))
    arcs, caps, delays = [], [], []
    for (a, b), kbps in sorted(capacity.items()):
        delay = FIBRE_DELAY_S_PER_KM * great_circle_km(*coords[a], *coords[b])
        undirected.add_edge(a, b, delay=delay)
        for arc in ((a, b), (b, a)):
            arcs.append(arc)
            caps.append(kbps)
            delays.append(delay)
    if not nx.is_connected(undirected):
        parts = list(nx.connected_components(undirected))
        u, v = keys[min(parts[0])], keys[min(parts[1])]
        raise ValueError(f"topology {name}: nodes {u!r} and {v!r} are disconnected")
    labels = [str(graph.nodes[key].get("label", key)) for key in keys]
    return Topology(name, labels, arcs, caps, delays, undirected, coords)

"""Backbone topologies from GraphML: links, capacities and great-circle propagation delays."""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx

from opsgym.envs.core.data_files import DataFileError, packaged, read_bytes

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
    """Read a topology: a shipped name, a GraphML path (gzip or not), or a networkx graph.

    Nodes need ``Latitude`` in [-90, 90] and ``Longitude`` in [-180, 180] (degrees), and
    not all at one place. A link's capacity is its ``LinkSpeedRaw`` [bit/s], a positive
    number, where present, else ``default_capacity_kbps``. Parallel links (Topology Zoo
    draws each circuit of a bundle) are merged into one whose capacity is their sum;
    self-loops, which no route uses, are dropped.

    A network whose nodes all sit at one place is refused rather than given an invented
    length: Routing's delays are great-circle propagation delays and its delay reward is
    measured in units of the mean shortest-path propagation delay, which would be zero.
    Such coordinates are placeholders, not a network.

    Raises:
        DataFileError: the file is not readable GraphML (naming the line of an XML
            error), declares a node twice, a node's coordinates are missing, not numbers
            or out of range, or all at one place, a link's capacity is not a positive
            number, the graph has fewer than two nodes, or some pair of nodes is
            disconnected; the message names the file (or the graph).
        ValueError: ``source`` is none of the above.
    """
    if isinstance(source, nx.Graph):
        label = str(source.graph.get("Network", "graph"))
        return _build(source, label, f"graph {label}", default_capacity_kbps)
    if isinstance(source, str) and source in SHIPPED:
        file = packaged(f"topologyzoo-{source}.graphml")
        return _build(_read_graphml(file), source, file, default_capacity_kbps)
    if isinstance(source, (str, Path)) and Path(source).is_file():
        graph = _read_graphml(source)
        return _build(graph, Path(source).stem, source, default_capacity_kbps)
    raise ValueError(
        f"topology must be one of {list(SHIPPED)}, a GraphML file or a networkx graph, "
        f"got {source!r}"
    )


def _read_graphml(file) -> nx.Graph:
    data = read_bytes(file)
    try:
        tree = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise DataFileError(
            file, f"not well-formed XML ({error})", line=error.position[0]
        ) from None
    ids = [node.get("id") for node in tree.iterfind(".//{*}node")]
    twice = next((key for key, count in Counter(ids).items() if count > 1), None)
    if twice is not None:
        raise DataFileError(file, f"node {twice!r} is declared more than once")
    try:
        return nx.read_graphml(io.BytesIO(data))
    except Exception as error:  # networkx raises several kinds for what is not GraphML
        raise DataFileError(file, f"not readable GraphML ({error})") from None


def _coordinate(where, key, data: dict, name: str, limit: float) -> float:
    if name not in data:
        raise DataFileError(where, f"node {key!r} has no Latitude/Longitude")
    try:
        value = float(data[name])
    except (TypeError, ValueError):
        value = math.nan
    if not -limit <= value <= limit:  # also refuses NaN
        raise DataFileError(
            where,
            f"node {key!r}: {name} must be a number in [-{limit:g}, {limit:g}], got {data[name]!r}",
        )
    return value


def _capacity_kbps(where, u, v, data: dict, default_kbps: int) -> int:
    raw = data.get("LinkSpeedRaw")
    if raw is None or raw == "":
        return default_kbps
    try:
        bps = float(raw)
    except (TypeError, ValueError):
        bps = math.nan
    if not 0.0 < bps < math.inf:
        raise DataFileError(
            where, f"link {u!r}-{v!r}: LinkSpeedRaw must be a positive number [bit/s], got {raw!r}"
        )
    return max(1, int(round(bps / 1000.0)))


def _build(graph: nx.Graph, name: str, where, default_capacity_kbps: int) -> Topology:
    keys = list(graph.nodes)
    if len(keys) < 2:
        raise DataFileError(where, f"a topology needs at least 2 nodes, got {len(keys)}")
    coords = [
        (
            _coordinate(where, key, graph.nodes[key], "Latitude", 90.0),
            _coordinate(where, key, graph.nodes[key], "Longitude", 180.0),
        )
        for key in keys
    ]
    index = {key: i for i, key in enumerate(keys)}
    capacity: dict[tuple[int, int], int] = {}
    for u, v, data in graph.edges(data=True):
        a, b = sorted((index[u], index[v]))
        if a == b:
            continue
        kbps = _capacity_kbps(where, u, v, data, default_capacity_kbps)
        capacity[a, b] = capacity.get((a, b), 0) + kbps
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
        raise DataFileError(where, f"nodes {u!r} and {v!r} are disconnected")
    if max(delays) == 0.0:
        raise DataFileError(
            where,
            f"every node is at one place {coords[0]}: Routing needs real coordinates "
            "(its delays are great-circle distances)",
        )
    labels = [str(graph.nodes[key].get("label", key)) for key in keys]
    return Topology(name, labels, arcs, caps, delays, undirected, coords)

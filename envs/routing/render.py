"""The picture of a Routing env: the backbone on its map, links coloured by utilization."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.routing.env import RoutingEnv

MAP = (20, draw.TITLE_HEIGHT + 14, 430, draw.HEIGHT - 30)  # the map's box [pixels]
LANE = 2.5  # how far each direction of a link is drawn from the link's axis [pixels]
MAX_NODE_LABELS = 16  # larger networks label only the flow's endpoints


def node_positions(coordinates: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pixel positions of nodes at (latitude, longitude): an equirectangular projection
    at the network's mean latitude, fitted into ``MAP`` with its aspect kept."""
    latitudes = [lat for lat, _ in coordinates]
    squeeze = math.cos(math.radians(sum(latitudes) / len(latitudes)))
    xs = [lon * squeeze for _, lon in coordinates]
    x0, y0, x1, y1 = MAP
    margin = 24
    width, height = max(xs) - min(xs) or 1.0, max(latitudes) - min(latitudes) or 1.0
    scale = min((x1 - x0 - 2 * margin) / width, (y1 - y0 - 2 * margin) / height)
    left = x0 + (x1 - x0 - scale * width) / 2
    top = y0 + (y1 - y0 - scale * height) / 2
    return [
        (left + scale * (x - min(xs)), top + scale * (max(latitudes) - lat))
        for x, lat in zip(xs, latitudes)
    ]


def rgb_frame(env: RoutingEnv) -> np.ndarray:
    """Every arc as a lane coloured by utilization, the arriving flow's candidate paths."""
    topology, sim = env.topology, env.simulator
    positions = node_positions(topology.coordinates)
    utilization = sim.utilization
    canvas = draw.Canvas(
        f"Routing: {topology.name}, {len(topology.nodes)} nodes",
        f"{sim.active_flows()} flows, busiest link {max(utilization):.0%}",
    )
    for (tail, head), used in zip(topology.arcs, utilization):
        (xa, ya), (xb, yb) = positions[tail], positions[head]
        length = math.hypot(xb - xa, yb - ya) or 1.0
        # each direction keeps to its right of the link's axis
        dx, dy = -(yb - ya) / length * LANE, (xb - xa) / length * LANE
        canvas.line([(xa + dx, ya + dy), (xb + dx, yb + dy)], draw.heat(used), 3)

    paths = env.current_paths
    source = topology.arcs[paths[0][0]][0] if paths else -1
    target = topology.arcs[paths[0][-1]][1] if paths else -1
    for arc in paths[0] if paths else ():
        tail, head = topology.arcs[arc]
        canvas.dashed(positions[tail], positions[head], draw.INK)
    labelled = len(positions) <= MAX_NODE_LABELS
    for node, (x, y) in enumerate(positions):
        endpoint = node in (source, target)
        fill = draw.BLUE if node == source else draw.RED if node == target else (255, 255, 255)
        canvas.dot(x, y, 6 if endpoint else 4, fill, draw.INK)
        if labelled or endpoint:
            canvas.text(x, y - 8, topology.nodes[node], size=10, color=draw.INK, anchor="md")
    canvas.colour_scale(MAP[0] + 10, draw.HEIGHT - 24, 160, "idle link", "full link")

    panel = 445
    y = draw.TITLE_HEIGHT + 20
    if paths:
        canvas.text(panel, y, "arriving flow", size=12)
        canvas.text(panel, y + 18, f"{topology.nodes[source]} (blue) to", size=11, color=draw.MUTED)
        canvas.text(panel, y + 32, f"{topology.nodes[target]} (red)", size=11, color=draw.MUTED)
        canvas.text(
            panel, y + 48, f"{env.current_rate / 1000:,.0f} Mbit/s", size=11, color=draw.MUTED
        )
        canvas.text(panel, y + 74, "candidate paths", size=12)
        for k, path in enumerate(paths):
            delay_ms = 1000 * sum(sim.propagation[a] for a in path)
            busiest = max(utilization[a] for a in path)
            row = y + 92 + 30 * k
            hops = f"{len(path)} hop{'s' if len(path) > 1 else ''}"
            canvas.text(panel, row, f"{k}: {hops}, {delay_ms:.1f} ms", size=11)
            canvas.text(
                panel, row + 13, f"busiest link {busiest:.0%}", size=10, color=draw.heat(busiest)
            )
        canvas.text(panel, y + 96 + 30 * len(paths), "dashed on the map: path 0", 10, draw.MUTED)
    canvas.rect(MAP[0], MAP[1], MAP[2], MAP[3], outline=draw.GRID)
    return canvas.frame()

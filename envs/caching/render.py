"""The picture of a Caching env: what the cache holds, the eviction candidates, the hit ratio."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.caching.env import CachingEnv

MAX_CELLS = 400  # cells of the cache grid; a cell stands for capacity / cells bytes
FADED = (225, 232, 242)  # an object not requested for a whole episode


def cache_cells(capacity: int, sizes: list[int]) -> list[int]:
    """How many grid cells each cached object covers: its share of the capacity, at least
    one cell (with unit sizes and a small cache, one object is one cell)."""
    cells = min(capacity, MAX_CELLS)
    return [max(1, round(size * cells / capacity)) for size in sizes]


def rgb_frame(env: CachingEnv) -> np.ndarray:
    """The cache as a grid of objects coloured by recency, then the hit ratio so far."""
    config = env.config
    sim = env.simulator
    served = sim.served
    hit_ratio = sim.hits / served if served else 0.0
    trail = draw.trail_of(env, config.episode_length)
    trail.record(sim.now, hit_ratio)
    canvas = draw.Canvas(
        f"Caching: {len(sim.members)} objects cached, {config.n_candidates} candidates",
        f"request {sim.now:,}/{sim.length:,}",
    )

    left, top, right, bottom = 20, draw.TITLE_HEIGHT + 30, 370, draw.HEIGHT - 40
    unit = "objects" if env.workload.unit_sizes else "bytes"
    canvas.text(left, top - 6, f"cache: {sim.used:,} of {config.capacity:,} {unit}", anchor="ld")
    members = sim.members
    covered = cache_cells(config.capacity, [sim.size_of[x] for x in members])
    total = max(min(config.capacity, MAX_CELLS), sum(covered))
    columns, side = draw.grid_shape(total, right - left, bottom - top)
    candidates = {x: k for k, x in enumerate(sim.candidates)} if sim.pending else {}
    # recency relative to the cache's oldest object: the next LRU victim is palest
    scale = math.log1p(max((sim.now - sim.last_seen[x] for x in members), default=0)) or 1.0
    cell = 0
    for x, count in zip(members, covered):
        age = math.log1p(sim.now - sim.last_seen[x]) / scale
        fill = draw.mix(draw.BLUE, FADED, age)
        outline = draw.RED if x in candidates else None
        for _ in range(count):
            x0, y0 = canvas.cell((left, top), columns, side, cell, fill, outline, 2)
            cell += 1
        if x in candidates and side >= 12:
            cx, cy = x0 + side / 2, y0 + side / 2
            canvas.rect(cx - 5, cy - 6, cx + 5, cy + 6, fill=(255, 255, 255))
            canvas.text(cx, cy, str(candidates[x]), size=10, color=draw.RED, anchor="mm")
    for free in range(cell, total):
        canvas.cell((left, top), columns, side, free, draw.PANEL, draw.GRID)
    canvas.legend(
        left,
        draw.HEIGHT - 24,
        [(draw.BLUE, "requested just now"), (FADED, "long ago"), (draw.RED, "eviction candidate")],
    )

    panel = 395
    canvas.gauge(
        panel, top, draw.WIDTH - panel - 15, 18, hit_ratio, draw.BLUE, f"hit ratio {hit_ratio:.3f}"
    )
    shown = min(sim.length, draw.nice_ceiling(max(sim.now, 100)))  # the axis grows in steps
    chart = canvas.chart(
        panel + 25, top + 50, draw.WIDTH - 15, top + 190, (0, shown), (0.0, 1.0), "hit ratio so far"
    )
    chart.series(trail.steps, trail.column(0), draw.BLUE)
    canvas.text(panel + 25, top + 194, "0", size=10, color=draw.MUTED)
    canvas.text(
        draw.WIDTH - 15, top + 194, f"{shown:,.0f} requests", size=10, color=draw.MUTED, anchor="ra"
    )
    y = top + 220
    if sim.pending:
        size = "" if env.workload.unit_sizes else f" of {sim.sizes[sim.now]:,} bytes"
        canvas.text(panel, y, f"miss: object {sim.ids[sim.now]}{size}", size=12, color=draw.INK)
        canvas.text(
            panel, y + 18, "evict a candidate (red) or bypass it", size=11, color=draw.MUTED
        )
    elif sim.done:
        canvas.text(panel, y, "episode over", size=12)
    return canvas.frame()

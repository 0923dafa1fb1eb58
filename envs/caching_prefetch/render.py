"""The picture of a CachingPrefetch env: the cache in eviction order, the prefetch candidates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.caching_prefetch.env import CachingPrefetchEnv


def rgb_frame(env: CachingPrefetchEnv) -> np.ndarray:
    """The cache from the next victim to the newest object, then the candidates and the
    hit ratio so far."""
    config = env.config
    sim = env.simulator
    served = sim.served
    hit_ratio = sim.hits / served if served else 0.0
    trail = draw.trail_of(env, config.episode_length)
    trail.record(served, hit_ratio)
    canvas = draw.Canvas(
        f"CachingPrefetch: {config.replacement.upper()} cache of {config.capacity} objects",
        f"request {served:,}/{sim.length:,}",
    )

    left, top, right, bottom = 20, draw.TITLE_HEIGHT + 30, 340, draw.HEIGHT - 40
    canvas.text(left, top - 6, f"cache, next victim first: {len(sim.cache)} objects", anchor="ld")
    columns, side = draw.grid_shape(config.capacity, right - left, bottom - top)
    current = sim.current if served else None
    for k, x in enumerate(sim.cache):
        fill = draw.ORANGE if x in sim.unused else draw.BLUE
        outline = draw.INK if x == current else None
        x0, y0 = canvas.cell((left, top), columns, side, k, fill, outline, 2)
        if side >= 26:
            canvas.text(x0 + side / 2, y0 + side / 2, str(x), 9, (255, 255, 255), "mm")
    for k in range(len(sim.cache), config.capacity):
        canvas.cell((left, top), columns, side, k, draw.PANEL, draw.GRID)
    canvas.legend(
        left,
        draw.HEIGHT - 24,
        [
            (draw.BLUE, "fetched on demand"),
            (draw.ORANGE, "prefetched, not used yet"),
            (draw.INK, "just served"),
        ],
    )

    panel = 365
    if current is None:
        canvas.text(panel, top, "no request served yet: reset() first", size=12)
        return canvas.frame()
    outcome = "hit" if sim.last_hit else "miss"
    canvas.text(panel, top, f"served object {current}: {outcome}", size=12)
    canvas.text(panel, top + 20, "prefetch candidates (action: object)", size=10, color=draw.MUTED)
    counts = sim.counts.get(current, {})
    total = sim.totals.get(current, 0)
    mask = env.action_masks()
    for j, x in enumerate(env.candidates()):
        y = top + 36 + 16 * j
        source = "next id" if j == 0 else f"followed {counts.get(x, 0)}/{total}"
        state = "would fetch" if mask[j + 1] else "cached"
        color = draw.GREEN if mask[j + 1] else draw.MUTED
        canvas.text(panel, y, f"{j + 1}: {x}  ({source}) {state}", size=11, color=color)

    y = top + 40 + 16 * (config.n_successors + 1)
    canvas.gauge(
        panel, y, draw.WIDTH - panel - 15, 18, hit_ratio, draw.BLUE, f"hit ratio {hit_ratio:.3f}"
    )
    shown = min(sim.length, draw.nice_ceiling(max(served, 100)))  # the axis grows in steps
    chart = canvas.chart(
        panel + 25, y + 44, draw.WIDTH - 15, bottom - 40, (0, shown), (0.0, 1.0), "hit ratio so far"
    )
    chart.series(trail.steps, trail.column(0), draw.BLUE)
    canvas.text(
        draw.WIDTH - 15,
        bottom - 36,
        f"{shown:,.0f} requests",
        size=10,
        color=draw.MUTED,
        anchor="ra",
    )
    useful = f"{sim.useful / sim.prefetches:.0%}" if sim.prefetches else "-"
    canvas.text(
        panel,
        bottom - 10,
        f"prefetches {sim.prefetches}, useful {sim.useful} ({useful}), wasted {sim.wasted()}",
        size=11,
    )
    return canvas.frame()

"""The picture of a ResourceAllocation env: DeepRM's resource grids and the waiting jobs.

Each resource is a grid of its units (columns) over the next ``horizon`` steps (rows,
now at the top), with every placed job a coloured block; each visible waiting job is
drawn the same way, as the block it would take if placed now.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.resource_allocation.env import ResourceAllocationEnv
    from opsgym.envs.resource_allocation.simulator import Job

MIN_CELL = 4  # unit and step lines are drawn on cells at least this wide [pixels]


def draw_grid(
    canvas: draw.Canvas,
    box: tuple[float, float, float, float],
    capacity: int,
    horizon: int,
    blocks: list[tuple[int, int, int, int]],
) -> None:
    """A capacity x horizon grid in ``box`` with ``blocks`` of (job index, first unit,
    units, steps) drawn from the top."""
    x0, y0, x1, y1 = box
    unit, step = (x1 - x0) / capacity, (y1 - y0) / horizon
    canvas.rect(x0, y0, x1, y1, fill=draw.PANEL)
    for index, first, units, steps in blocks:
        left = x0 + first * unit
        canvas.rect(
            left,
            y0,
            left + units * unit,
            y0 + steps * step,
            fill=draw.PALETTE[index % len(draw.PALETTE)],
        )
    if unit >= MIN_CELL:
        for u in range(1, capacity):
            canvas.line([(x0 + u * unit, y0), (x0 + u * unit, y1)], (255, 255, 255))
    if step >= MIN_CELL:
        for s in range(1, horizon):
            canvas.line([(x0, y0 + s * step), (x1, y0 + s * step)], (255, 255, 255))
    canvas.rect(x0, y0, x1, y1, outline=draw.GRID)


def running_blocks(jobs: list[Job], now: int, resource: int) -> list[tuple[int, int, int, int]]:
    """The blocks of the running jobs on one resource: the longest-lasting leftmost, so
    that a job keeps its columns until it ends (the jobs left of it last as long)."""
    blocks, first = [], 0
    for job in sorted(jobs, key=lambda j: j.completion, reverse=True):
        units = job.demands[resource]
        blocks.append((job.index, first, units, job.completion - now))
        first += units
    return blocks


def rgb_frame(env: ResourceAllocationEnv) -> np.ndarray:
    """The cluster's grids on the left, the visible waiting jobs on the right."""
    config = env.config
    sim = env.simulator
    r_count, horizon = config.n_resources, config.horizon
    backlog = max(0, len(sim.waiting) - config.n_slots)
    canvas = draw.Canvas(
        f"ResourceAllocation: {r_count} resources, {horizon}-step horizon",
        f"t = {sim.now}: {len(sim.waiting)} waiting, {len(sim.running)} running, "
        f"{len(sim.finished)}/{sim.n_jobs} finished",
    )
    top, bottom = draw.TITLE_HEIGHT + 40, draw.HEIGHT - 30
    gap = 14
    width = (280 - gap * (r_count - 1)) / r_count
    canvas.text(20, top - 20, "cluster: units (across) over time (down)", size=11, anchor="ld")
    for r, capacity in enumerate(config.capacities):
        x0 = 20 + r * (width + gap)
        canvas.text(
            x0, top - 4, f"resource {r} ({capacity})", size=10, color=draw.MUTED, anchor="ld"
        )
        blocks = running_blocks(sim.running, sim.now, r)
        draw_grid(canvas, (x0, top, x0 + width, bottom), capacity, horizon, blocks)
    canvas.text(20, bottom + 4, f"{horizon} steps from now", size=10, color=draw.MUTED)

    left = 330
    columns = min(config.n_slots, 3)
    rows = math.ceil(config.n_slots / columns)
    slot_width = (draw.WIDTH - 10 - left) / columns
    slot_height = (bottom - top) / rows
    canvas.text(left, top - 20, "waiting jobs (slots)", size=11, anchor="ld")
    mask = env.action_masks()
    for i in range(config.n_slots):
        row, column = divmod(i, columns)
        x0, y0 = left + column * slot_width, top + row * slot_height
        job = sim.waiting[i] if i < len(sim.waiting) else None
        label = f"{i}: waited {sim.now - job.arrival}" if job else f"{i}: empty"
        color = draw.GREEN if mask[i] else draw.MUTED
        canvas.text(x0, y0 + 10, label + (", fits" if mask[i] else ""), 10, color, "ld")
        inner = (slot_width - 8 - 4 * (r_count - 1)) / r_count
        for r, capacity in enumerate(config.capacities):
            gx = x0 + r * (inner + 4)
            blocks = [(job.index, 0, job.demands[r], job.duration)] if job else []
            draw_grid(
                canvas, (gx, y0 + 14, gx + inner, y0 + slot_height - 8), capacity, horizon, blocks
            )
    if backlog:
        canvas.text(left, bottom + 6, f"+{backlog} more in the backlog", size=11)
    return canvas.frame()

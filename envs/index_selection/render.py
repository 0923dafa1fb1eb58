"""The picture of an IndexSelection env: which indexes exist, the query mix and its costs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.index_selection.env import IndexSelectionEnv


def rgb_frame(env: IndexSelectionEnv) -> np.ndarray:
    """One row per query template and candidate index (they share their columns): whether
    the index is built, the template's share of the queries and its pages per query."""
    candidates = env.candidates()
    built = set(env.built())
    costs = env.path_costs(env.built_mask)
    mix = env.upcoming_probabilities()
    pages = env.table.pages
    canvas = draw.Canvas(
        f"IndexSelection: {len(built)} of {len(candidates)} candidate indexes built",
        f"{env.table.rows:,} rows, {draw.compact(pages)} pages",
    )
    canvas.gauge(
        20,
        draw.TITLE_HEIGHT + 8,
        300,
        16,
        env.storage_mb / env.config.storage_budget_mb,
        draw.GREEN,
        f"storage {env.storage_mb:.1f} of {env.config.storage_budget_mb:g} MB",
    )
    canvas.text(
        340,
        draw.TITLE_HEIGHT + 16,
        f"writes: {mix[-1]:.0%} of operations, {costs[-1, 0]:.1f} pages each",
        size=11,
        anchor="lm",
    )

    top = draw.TITLE_HEIGHT + 48
    row = (draw.HEIGHT - top - 10) / len(candidates)
    size = max(8, min(11, int(row) - 2))
    columns = (20, 150, 290, 440)
    for x, label in zip(
        columns, ("filter columns", "index [MB]", "share of queries", "pages per query")
    ):
        canvas.text(x, top - 4, label, size=10, color=draw.MUTED, anchor="ld")
    busiest = max(mix[:-1].max(), 1e-12)
    for t, columns_used in enumerate(candidates):
        y = top + t * row
        middle = y + row / 2
        if t % 2:
            canvas.rect(15, y, draw.WIDTH - 10, y + row, fill=draw.PANEL)
        canvas.text(20, middle, ", ".join(f"c{c}" for c in columns_used), size=size, anchor="lm")
        box = row * 0.7
        canvas.rect(
            150,
            middle - box / 2,
            150 + box,
            middle + box / 2,
            draw.GREEN if t in built else None,
            draw.GRID,
        )
        canvas.text(
            160 + box, middle, f"{env.sizes_mb[t]:.1f}", size=size, color=draw.MUTED, anchor="lm"
        )
        share = mix[t]
        canvas.rect(
            290, middle - box / 2, 290 + 100 * share / busiest, middle + box / 2, fill=draw.BLUE
        )
        canvas.text(
            292 + 100 * share / busiest,
            middle,
            f"{share:.1%}",
            size=size,
            color=draw.MUTED,
            anchor="lm",
        )
        cost = costs[t, 0]
        fraction = math.log1p(cost) / math.log1p(pages)
        canvas.rect(
            440, middle - box / 2, 440 + 130 * fraction, middle + box / 2, fill=draw.heat(fraction)
        )
        canvas.text(
            442 + 130 * fraction,
            middle,
            draw.compact(cost),
            size=size,
            color=draw.MUTED,
            anchor="lm",
        )
    return canvas.frame()

"""The picture of a CDN env: the origin and its link, each edge's cache, the candidates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.cdn.env import CDNEnv

SHOWN_CANDIDATES = 10  # candidate rows drawn; more are counted
HELD = draw.BLUE
PUSHED = draw.ORANGE


def rgb_frame(env: CDNEnv) -> np.ndarray:
    """The origin on the left, the edges in the middle, the push candidates on the right."""
    config, caches, last = env.config, env.simulator, env.last_traffic
    n_edges = env.n_edges
    canvas = draw.Canvas(
        f"CDN: {n_edges} edges, origin link {config.origin_mbps:g} Mbit/s",
        f"interval {env.elapsed_intervals}/{config.episode_length}",
    )
    top, bottom = draw.TITLE_HEIGHT + 26, draw.HEIGHT - 30
    _draw_origin(canvas, env, top, bottom)

    row = (bottom - top) / n_edges
    size = max(7, min(12, int(row * 0.22)))
    hours = env.workload.local_hours(env.elapsed_intervals)
    push = env.last_push
    canvas.text(
        170, top - 8, "edges: cache occupancy, hit ratio", size=10, color=draw.MUTED, anchor="ld"
    )
    for e in range(n_edges):
        y0, y1 = top + e * row + 2, top + (e + 1) * row - 2
        pushed_here = push.edge == e and push.outcome == "pushed"
        canvas.rect(
            170,
            y0,
            400,
            y1,
            fill=draw.PANEL,
            outline=PUSHED if pushed_here else draw.GRID,
            width=2 if pushed_here else 1,
        )
        canvas.line([(136, (top + bottom) / 2), (170, (y0 + y1) / 2)], draw.GRID)
        hour = hours[e]
        canvas.text(
            176,
            y0 + 2,
            f"edge {e}  {int(hour):02d}:{int(hour % 1 * 60):02d} local",
            size=size,
            anchor="la",
        )
        bar = max(4.0, (y1 - y0) * 0.22)
        occupancy = caches.used[e] / env.capacity
        middle = (y0 + y1) / 2
        canvas.gauge(
            176, middle - bar * 0.2, 218, bar, occupancy, draw.BLUE, _label(occupancy, "full", bar)
        )
        hit_ratio = last.hits[e] / last.requests[e] if last.requests[e] else 0.0
        canvas.gauge(
            176,
            middle + bar * 0.9,
            218,
            bar,
            hit_ratio,
            draw.heat(1.0 - hit_ratio),
            _label(hit_ratio, f"hits of {last.requests[e]}", bar),
        )

    _draw_candidates(canvas, env, top, bottom)
    canvas.legend(
        16,
        draw.HEIGHT - 20,
        [(HELD, "held by the edge"), (PUSHED, "last push"), (draw.heat(0.0), "hit ratio high")],
    )
    return canvas.frame()


def _draw_origin(canvas: draw.Canvas, env: CDNEnv, top: float, bottom: float) -> None:
    """The origin's box: what its link carried in the last interval and its backlog."""
    config, last = env.config, env.last_traffic
    canvas.rect(16, top, 136, bottom, fill=draw.PANEL, outline=draw.GRID)
    middle = (top + bottom) / 2
    canvas.text(76, middle - 60, "origin", size=13, anchor="mm")
    sent = last.origin_bytes / (env.link_rate * config.interval_seconds)
    canvas.text(24, middle - 36, "link utilisation", size=10, color=draw.MUTED, anchor="lm")
    canvas.gauge(24, middle - 26, 104, 16, sent, draw.heat(sent), f"{100 * min(sent, 9.99):.0f}%")
    mbps = last.origin_bytes * 8 / config.interval_seconds / 1e6
    canvas.text(24, middle + 2, f"sent {mbps:.2f} Mbit/s", size=10, anchor="lm")
    backlog = env.simulator.backlog(env.elapsed_intervals * config.interval_seconds)
    canvas.text(24, middle + 18, f"backlog {backlog:.1f} s", size=10, anchor="lm")
    shed = sum(last.shed)
    canvas.text(24, middle + 34, f"{shed} shed, {sum(last.waited)} waited", size=10, anchor="lm")
    push = env.last_push
    described = push.outcome if push.obj is None else f"{push.outcome}: #{push.obj}"
    where = "" if push.edge is None else f" to edge {push.edge}"
    canvas.text(24, middle + 58, "last push", size=10, color=draw.MUTED, anchor="lm")
    canvas.text(24, middle + 72, described, size=10, anchor="lm")
    canvas.text(24, middle + 86, where.strip(), size=10, anchor="lm")


def _draw_candidates(canvas: draw.Canvas, env: CDNEnv, top: float, bottom: float) -> None:
    """Each candidate: its size, its request rate now, and which edges hold it."""
    n_edges, push = env.n_edges, env.last_push
    left, right = 416, draw.WIDTH - 16
    canvas.text(left, top - 8, "push candidates", size=10, color=draw.MUTED, anchor="ld")
    canvas.rect(left, top, right, bottom, fill=draw.PANEL, outline=draw.GRID)
    shown = env.candidates[:SHOWN_CANDIDATES]
    row = (bottom - top - 8) / SHOWN_CANDIDATES
    cell = max(3.0, min(10.0, (right - left - 130) / max(n_edges, 1) - 2))
    for j, obj in enumerate(shown):
        y = top + 4 + (j + 0.5) * row
        size_mb = env.workload.sizes[obj] / 1e6
        per_minute = float(env.tracker.short[obj].sum()) * 60.0 / env.config.interval_seconds
        colour = PUSHED if obj == push.obj else draw.INK
        canvas.text(left + 6, y, f"#{obj}", size=10, color=colour, anchor="lm")
        canvas.text(
            left + 50,
            y,
            f"{size_mb:.2f} MB, {per_minute:.1f}/min",
            size=9,
            color=draw.MUTED,
            anchor="lm",
        )
        for e in range(n_edges):
            x = right - 6 - (n_edges - e) * (cell + 2)
            held = env.simulator.holds(e, obj)
            canvas.rect(
                x,
                y - cell / 2,
                x + cell,
                y + cell / 2,
                fill=HELD if held else None,
                outline=draw.GRID,
            )
    if len(env.candidates) > SHOWN_CANDIDATES:
        more = len(env.candidates) - SHOWN_CANDIDATES
        canvas.text(left + 6, bottom - 6, f"+{more} more", size=10, color=draw.MUTED, anchor="ld")
    if not shown:
        canvas.text(
            (left + right) / 2, (top + bottom) / 2, "none", size=11, color=draw.MUTED, anchor="mm"
        )


def _label(fraction: float, what: str, height: float) -> str:
    """A gauge's label, when the gauge is tall enough to hold one."""
    return f"{100 * fraction:.0f}% {what}" if height >= 9 else ""

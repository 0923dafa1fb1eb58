"""The picture of an Autoscaling env: the fleet's capacity against the load, and the fleet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.autoscaling.env import AutoscalingEnv

WINDOW = 240  # steps the chart shows (4 hours of the default 1-minute steps)
PER_ROW = 5  # instances per row of the fleet panel


def rgb_frame(env: AutoscalingEnv) -> np.ndarray:
    """A chart of load and capacity over the last ``WINDOW`` steps, then the fleet now."""
    config = env.config
    fleet = env.fleet
    t = env.current_step
    booting = fleet.total - fleet.running
    capacity = config.capacity_per_instance  # requests/s per instance
    trail = draw.trail_of(env, WINDOW)
    trail.record(t, fleet.running * capacity, fleet.total * capacity)
    loads = env.episode_load()[max(0, t - WINDOW) : t] if t else []
    minutes = config.step_seconds / 60.0
    canvas = draw.Canvas(
        "Autoscaling: fleet capacity against load",
        f"step {t}/{config.episode_steps} ({minutes:g} min each)",
    )

    top, bottom = draw.TITLE_HEIGHT + 40, draw.HEIGHT - 46
    ceiling = draw.nice_ceiling(1.1 * max([*loads, *trail.column(1)]))
    chart = canvas.chart(
        60, top, 455, bottom, (t - WINDOW, t), (0.0, ceiling), "requests/s over the last hours"
    )
    if config.full_capacity <= ceiling:
        chart.level(config.full_capacity, draw.MUTED, f"max {config.max_instances} instances")
    chart.series(
        trail.steps, trail.column(1), draw.mix(draw.GREEN, (255, 255, 255), 0.5), steps=True
    )
    chart.series(trail.steps, trail.column(0), draw.GREEN, steps=True)
    start = t - len(loads)
    chart.series([start + k + 0.5 for k in range(len(loads))], loads, draw.BLUE)
    for hours in range(WINDOW * int(config.step_seconds) // 3600 + 1):
        x = chart.x(t - hours * 3600 / config.step_seconds)
        canvas.text(
            x, bottom + 4, f"-{hours} h" if hours else "now", size=10, color=draw.MUTED, anchor="ma"
        )
    canvas.legend(
        60,
        draw.HEIGHT - 20,
        [
            (draw.BLUE, "load"),
            (draw.GREEN, "serving capacity"),
            (draw.mix(draw.GREEN, (255, 255, 255), 0.5), "with booting"),
        ],
    )

    left = 480
    canvas.text(left, top - 4, "fleet", size=11, anchor="ld")
    side = min(22.0, (draw.WIDTH - left - 10) / PER_ROW - 4)
    for k in range(config.max_instances):
        row, column = divmod(k, PER_ROW)
        x, y = left + column * (side + 4), top + row * (side + 4)
        fill = draw.GREEN if k < fleet.running else draw.AMBER if k < fleet.total else draw.PANEL
        canvas.rect(x, y, x + side, y + side, fill=fill, outline=draw.GRID)
    y = top + -(-config.max_instances // PER_ROW) * (side + 4) + 10
    canvas.text(left, y, f"{fleet.running} serving, {booting} booting", size=11)
    canvas.text(left, y + 16, f"capacity {fleet.running * capacity:,.0f}/s", size=11)
    if loads:
        utilization, dropped, violated, latency, _ = env.service.outcome(fleet.running, loads[-1])
        canvas.text(left, y + 40, f"last load {loads[-1]:,.0f}/s", size=11)
        label = f"utilization {utilization:.0%}"
        canvas.gauge(
            left, y + 56, draw.WIDTH - left - 10, 16, utilization, draw.heat(utilization), label
        )
        quantile = f"p{100 * config.latency_quantile:g}"
        canvas.text(
            left,
            y + 80,
            f"{quantile} {1000 * latency:.0f} ms (target {1000 * config.latency_target:g})",
            size=11,
            color=draw.RED if violated else draw.GREEN,
        )
        canvas.text(
            left, y + 96, f"dropped {dropped / loads[-1]:.1%}" if loads[-1] else "", size=11
        )
    return canvas.frame()

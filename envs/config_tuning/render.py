"""The picture of a ConfigTuning env: the four knobs on their grids, and what they give."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.config_tuning.env import ConfigTuningEnv

KNOB_LABELS = ("worker threads", "connection pool", "cache [MB]", "timeout [ms]")


def rgb_frame(env: ConfigTuningEnv) -> np.ndarray:
    """Each knob as a slider over its grid, then p95 latency and throughput per interval."""
    config = env.config
    measured = env.measurements
    canvas = draw.Canvas(
        f"ConfigTuning: a service on {config.cores} cores",
        f"interval {len(measured)}/{config.episode_length}",
    )

    left, right = 30, 290
    top = draw.TITLE_HEIGHT + 30
    spacing = (draw.HEIGHT - top - 40) / len(KNOB_LABELS)
    for k, (label, options) in enumerate(zip(KNOB_LABELS, config.knob_options)):
        y = top + k * spacing + 28
        canvas.text(left, y - 24, label, size=12)
        canvas.line([(left, y), (right, y)], draw.GRID, 3)
        last = max(1, len(options) - 1)
        for i, value in enumerate(options):
            x = left + (right - left) * i / last
            canvas.line([(x, y - 5), (x, y + 5)], draw.GRID, 1)
            canvas.text(x, y + 9, f"{value:g}", size=10, color=draw.MUTED, anchor="ma")
        initial = left + (right - left) * config.initial_indices[k] / last
        canvas.dot(initial, y, 4, draw.GRID, draw.MUTED)
        chosen = left + (right - left) * env.indices[k] / last
        canvas.dot(chosen, y, 7, draw.BLUE, draw.INK)
    canvas.legend(left, draw.HEIGHT - 24, [(draw.BLUE, "setting"), (draw.GRID, "shipped default")])

    x0, x1 = 370, draw.WIDTH - 15
    intervals = list(range(1, len(measured) + 1))
    target_ms = 1000 * config.latency_target
    latency_ms = (1000 * measured[:, 0]).tolist()
    # a hung configuration's seconds would flatten the rest: the axis stops at 10 targets
    ceiling = draw.nice_ceiling(min(10 * target_ms, 1.2 * max([2 * target_ms, *latency_ms])))
    latency = canvas.chart(
        x0, top + 20, x1, top + 140, (0, config.episode_length), (0, ceiling), "p95 latency [ms]"
    )
    latency.level(target_ms, draw.RED, f"target {target_ms:g} ms")
    latency.series(intervals, latency_ms, draw.BLUE)
    rates = measured[:, 2].tolist()
    throughput = canvas.chart(
        x0,
        top + 180,
        x1,
        top + 300,
        (0, config.episode_length),
        (0, draw.nice_ceiling(1.2 * max([config.request_rate, *rates]))),
        "throughput without errors [requests/s]",
    )
    throughput.series(intervals, rates, draw.BLUE)
    canvas.text(x0, top + 304, "0", size=10, color=draw.MUTED)
    canvas.text(
        x1, top + 304, f"{config.episode_length} intervals", size=10, color=draw.MUTED, anchor="ra"
    )
    if len(measured):
        p95, errors, good, memory = measured[-1].tolist()
        canvas.text(
            x0 - 40,
            draw.HEIGHT - 18,
            f"last interval: p95 {1000 * p95:.0f} ms, errors {errors:.1%}, "
            f"{good:.0f} req/s, {memory:.2f} GB",
            size=11,
        )
    return canvas.frame()

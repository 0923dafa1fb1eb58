"""The picture of a LoadBalancing env: the balancer, each backend's queue, speed and health."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.load_balancing.env import LoadBalancingEnv

QUEUE_SLOTS = 12  # requests drawn per queue; more are counted
ERROR_RATE_RED = 0.25  # a recent error rate drawn fully red
REQUEST = (120, 150, 200)


def rgb_frame(env: LoadBalancingEnv) -> np.ndarray:
    """The balancer on the left, then per backend its queue, its server and its health."""
    config = env.config
    sim = env.simulator
    n = config.n_backends
    canvas = draw.Canvas(
        f"LoadBalancing: {n} backends at load {config.load:g}", f"t = {sim.now:.3f} s"
    )
    top, bottom = draw.TITLE_HEIGHT + 26, draw.HEIGHT - 26
    row = (bottom - top) / n
    size = max(8, min(12, int(row * 0.45)))
    canvas.text(150, top - 8, "requests in system", size=10, color=draw.MUTED, anchor="ld")
    canvas.text(350, top - 8, "backend", size=10, color=draw.MUTED, anchor="ld")
    canvas.text(
        460, top - 8, "work left, recent latency, errors", size=10, color=draw.MUTED, anchor="ld"
    )
    canvas.rect(16, top, 110, bottom, fill=draw.PANEL, outline=draw.GRID)
    middle = (top + bottom) / 2
    canvas.text(63, middle - 30, "balancer", size=13, anchor="mm")
    canvas.text(63, middle - 12, "next request", size=10, color=draw.MUTED, anchor="mm")
    request = env.next_request_size
    side = min(40.0, 12.0 * request**0.5)  # the square's area grows with the size
    canvas.rect(63 - side / 2, middle, 63 + side / 2, middle + side, fill=REQUEST)
    canvas.text(
        63, middle + side + 10, f"size {request:.2f}", size=10, color=draw.MUTED, anchor="mm"
    )

    square = max(3.0, min(14.0, row * 0.5))
    time_scale = config.time_scale
    work_left = sim.work_left()
    for i, queued in enumerate(sim.queue_lengths()):
        y = top + (i + 0.5) * row
        canvas.line([(110, middle), (140, y), (340, y)], draw.GRID, 1)
        # the request in service sits next to the server, the newest furthest left
        for k in range(min(queued, QUEUE_SLOTS)):
            x = 330 - (k + 1) * (square + 2)
            canvas.rect(x, y - square / 2, x + square, y + square / 2, fill=REQUEST)
        if queued > QUEUE_SLOTS:
            canvas.text(150, y, f"+{queued - QUEUE_SLOTS}", size=size, color=draw.INK, anchor="lm")
        errors = sim.error_ewma[i]
        canvas.rect(
            340, y - row * 0.38, 450, y + row * 0.38, fill=draw.heat(errors / ERROR_RATE_RED)
        )
        rate, nominal = sim.rates[i], sim.nominal_rates[i]
        speed = f"{rate:g}/s" if rate == nominal else f"{rate:.3g}/s (was {nominal:g})"
        canvas.text(346, y, f"{i}: {speed}", size=size, anchor="lm")
        work = work_left[i]
        canvas.gauge(
            460,
            y - row * 0.38,
            170,
            row * 0.36,
            work / (work + 4 * time_scale),
            draw.heat(work / (work + 4 * time_scale)),
            f"{1000 * work:.1f} ms",
        )
        latency_ms = 1000 * sim.latency_ewma[i]
        canvas.text(
            460,
            y + row * 0.2,
            f"{latency_ms:.1f} ms, {100 * errors:.1f}% errors (p_fail {sim.failure_probs[i]:g})",
            size=max(8, size - 1),
            color=draw.MUTED,
            anchor="lm",
        )
    canvas.legend(
        16,
        draw.HEIGHT - 18,
        [(REQUEST, "request"), (draw.heat(0.0), "healthy"), (draw.heat(1.0), "failing")],
    )
    return canvas.frame()

"""The picture of a ServiceRouting env: the request, the replicas by region, the links."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.core import render as draw
from opsgym.envs.service_routing.simulator import REQUEST_TYPES

if TYPE_CHECKING:
    from opsgym.envs.service_routing.env import ServiceRoutingEnv

CLIENT = (20, 170)  # the request's box spans these columns [pixels]
REGIONS_LEFT = 250  # where the region bands start [pixels]


def rgb_frame(env: ServiceRoutingEnv) -> np.ndarray:
    """One band per region holding its replicas; the request's client sits in its own
    region, with a link to every replica coloured by the latency it would get there."""
    config = env.config
    fleet = env.fleet
    kind, size, region, priority = env.current_request
    canvas = draw.Canvas(
        f"ServiceRouting: {config.n_replicas} replicas in {config.n_regions} regions",
        f"load {config.load:g}, timeout {config.timeout_ms:g} ms",
    )
    top, bottom = draw.TITLE_HEIGHT + 10, draw.HEIGHT - 30
    band = (bottom - top) / config.n_regions
    for r in range(config.n_regions):
        y0 = top + r * band
        canvas.rect(REGIONS_LEFT - 10, y0 + 2, draw.WIDTH - 10, y0 + band - 2, fill=draw.PANEL)
        canvas.text(REGIONS_LEFT - 4, y0 + 5, f"region {r}", size=10, color=draw.MUTED)

    client_y = top + (region + 0.5) * band
    x0, x1 = CLIENT
    canvas.rect(
        x0, client_y - 42, x1, client_y + 42, fill=(255, 255, 255), outline=draw.BLUE, width=2
    )
    canvas.text(x0 + 8, client_y - 34, f"{REQUEST_TYPES[kind]} request", size=13)
    canvas.text(x0 + 8, client_y - 14, f"size {size:.2f}", size=11, color=draw.MUTED)
    canvas.text(x0 + 8, client_y + 2, f"client in region {region}", size=11, color=draw.MUTED)
    canvas.text(
        x0 + 8, client_y + 18, "high priority" if priority else "normal priority", 11, draw.MUTED
    )

    members = [
        [i for i in range(config.n_replicas) if config.regions[i] == r]
        for r in range(config.n_regions)
    ]
    work_left = fleet.queues.work_left()
    queued = fleet.queues.queue_lengths()
    boxes = []
    for r, replicas in enumerate(members):
        width = (draw.WIDTH - 20 - REGIONS_LEFT) / max(1, len(replicas))
        y0, y1 = top + r * band + 20, top + (r + 1) * band - 8
        boxes += [
            (i, REGIONS_LEFT + slot * width, y0, width - 10, y1) for slot, i in enumerate(replicas)
        ]
    expected = [fleet.expected_latency_ms(i, kind, size, region) for i in range(config.n_replicas)]
    for i, left, y0, _, y1 in boxes:  # the links first: the boxes hide what they cross
        canvas.line(
            [(x1, client_y), (left, (y0 + y1) / 2)], draw.heat(expected[i] / config.timeout_ms), 3
        )
    for i, left, y0, width, y1 in boxes:
        color = draw.heat(expected[i] / config.timeout_ms)
        canvas.rect(left, y0, left + width, y1, fill=(255, 255, 255), outline=color, width=2)
        canvas.text(left + 6, y0 + 4, f"replica {i}: ~{expected[i]:.0f} ms", size=12)
        profile = fleet.service_ms[i]
        for j, name in enumerate(REQUEST_TYPES):
            emphasis = draw.INK if j == kind else draw.MUTED
            canvas.text(left + 6 + 52 * j, y0 + 22, f"{name} {profile[j]:.0f}", 10, emphasis)
        work_ms = 1000 * work_left[i]
        label = f"{queued[i]} queued, {work_ms:.0f} ms of work"
        fraction = work_ms / config.timeout_ms
        canvas.gauge(left + 6, y0 + 38, width - 12, 14, fraction, draw.heat(fraction), label)
    canvas.colour_scale(CLIENT[0], draw.HEIGHT - 24, 150, "fast", "timeout")
    canvas.text(
        REGIONS_LEFT, draw.HEIGHT - 20, "service time [ms] per request type", 10, draw.MUTED
    )
    return canvas.frame()

"""The picture of an AnomalyDetection env: the metrics, the true anomalies and the alerts.

Each metric is drawn as its deviation from the history before the episode: the level
feature, a z-score (an affine map of the raw value, so the curve has the metric's shape)
squashed as the observation squashes it, so that a spike of 30 sigmas stays in view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from opsgym.envs.anomaly_detection.simulator import FEATURES_PER_METRIC, squash
from opsgym.envs.core import render as draw

if TYPE_CHECKING:
    from opsgym.envs.anomaly_detection.env import AnomalyDetectionEnv

WINDOW = 96  # steps shown (two days at the default 30-minute steps)
SIGMAS = (-3.0, 0.0, 3.0)  # the deviations marked on the y axis
ANOMALY = draw.mix(draw.RED, (255, 255, 255), 0.82)  # the shading of a labelled anomaly window


def alert_steps(steps: list[int], alerts: list[float]) -> list[int]:
    """The steps at which alerts were raised, from the running alert count at each frame:
    the count rose between the frames at ``a`` and ``b``, so step ``b - 1`` alerted."""
    return [
        b - 1 for a, b, before, after in zip(steps, steps[1:], alerts, alerts[1:]) if after > before
    ]


def rgb_frame(env: AnomalyDetectionEnv) -> np.ndarray:
    """One strip per metric over the last ``WINDOW`` steps, true anomaly windows shaded,
    alerts marked: green inside a window, red outside (a false page)."""
    config = env.config
    scorer = env.scorer
    k = env.current_step
    trail = draw.trail_of(env, WINDOW)
    trail.record(k, scorer.alerts)
    alerts = alert_steps(trail.steps, trail.column(0))
    first = max(0, k - WINDOW)
    columns = slice(0, FEATURES_PER_METRIC * len(config.metric_names), FEATURES_PER_METRIC)
    levels = env.features[first:k, columns]
    ticks = [(float(squash(np.float64(z))), f"{z:+g}" if z else "0") for z in SIGMAS]
    canvas = draw.Canvas(
        f"AnomalyDetection: {len(config.metric_names)} {'metrics' if len(config.metric_names) > 1 else 'metric'}, {config.workload}",
        f"step {k}/{config.episode_length}",
    )

    x0, x1 = 70, 470
    top, bottom = draw.TITLE_HEIGHT + 24, draw.HEIGHT - 36
    strip = (bottom - top) / len(config.metric_names)
    steps = list(range(first, k))
    for m, name in enumerate(config.metric_names):
        chart = canvas.chart(
            x0,
            top + m * strip + 14,
            x1,
            top + (m + 1) * strip - 4,
            (k - WINDOW, k),
            (-1.0, 1.0),
            ticks=ticks,
        )
        canvas.text(x0, top + m * strip + 12, f"{name} (sigmas from normal)", 10, draw.MUTED, "ld")
        for a, b in env.windows:
            chart.band(a, min(b, k), ANOMALY)
        chart.series(steps, levels[:, m].tolist(), draw.PALETTE[m % len(draw.PALETTE)])
        for t in alerts:
            if t >= first:
                color = draw.GREEN if scorer.window_of[t] >= 0 else draw.RED
                canvas.line([(chart.x(t), chart.box[1]), (chart.x(t), chart.box[3])], color, 2)
    canvas.text(x0, bottom + 4, f"-{WINDOW} steps", size=10, color=draw.MUTED)
    canvas.text(x1, bottom + 4, "now", size=10, color=draw.MUTED, anchor="ra")
    canvas.legend(
        x0,
        draw.HEIGHT - 16,
        [(ANOMALY, "anomaly"), (draw.GREEN, "alert in it"), (draw.RED, "false page")],
    )

    panel = 490
    begun = [i for i, (a, _) in enumerate(env.windows) if a < k]
    caught = sum(scorer.detected_at[i] >= 0 for i in begun)
    lines = [
        (f"{scorer.alerts} alerts", draw.BLUE),
        (f"{scorer.false_alerts} false pages", draw.RED),
        (f"{caught} of {len(begun)} anomalies caught", draw.GREEN),
        (f"score {scorer.score:.2f}", draw.MUTED),
    ]
    for i, (text, color) in enumerate(lines):
        canvas.text(panel, top + 20 + 20 * i, text, size=12, color=color)
    return canvas.frame()

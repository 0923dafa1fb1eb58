"""``opsgym plot``: learning curves from run folders, as PNG (needs matplotlib)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from opsgym.agents.atomic import atomic_write
from opsgym.train.run_folder import read_config, read_evaluations
from opsgym.train.stats import mean_interval


def learning_curves(run_paths: list[str | Path]) -> dict[tuple[str, str], list[list[dict]]]:
    """The evaluation rows of each run, grouped by (environment, agent) over seeds."""
    groups: dict[tuple[str, str], list[list[dict]]] = defaultdict(list)
    for path in run_paths:
        config = read_config(path)
        rows = read_evaluations(path)
        if rows:
            groups[(config["env_id"], config["agent"])].append(rows)
    if not groups:
        raise ValueError("none of the given run folders has evaluations yet")
    return dict(groups)


def curve(runs: list[list[dict]], metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, mean and 95% half-width of ``metric`` over seeds, at the steps all runs share."""
    for rows in runs:
        if metric not in rows[0]:
            raise ValueError(f"metric {metric!r} not recorded; available: {sorted(rows[0])}")
    length = min(len(rows) for rows in runs)
    steps = np.array([runs[0][i]["step"] for i in range(length)])
    means, halves = [], []
    for i in range(length):
        mean, half = mean_interval([rows[i][metric] for rows in runs])
        means.append(mean)
        halves.append(0.0 if np.isnan(half) else half)
    return steps, np.array(means), np.array(halves)


def plot_learning_curves(
    run_paths: list[str | Path], out: str | Path, metrics: list[str] | None = None
) -> Path:
    """Plot the return and each metric against steps, one line per (env, agent), to ``out``.

    Lines are the mean over seeds with a shaded 95% t-interval.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ValueError("opsgym plot needs matplotlib: pip install 'opsgym[plot]'") from error

    groups = learning_curves(run_paths)
    if metrics is None:
        first = next(iter(groups.values()))[0][0]
        domain = [m for m in first if m not in ("step", "wall_time_s", "return")]
        metrics = ["return"] + domain[:1]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for (env_id, agent), runs in sorted(groups.items()):
            steps, mean, half = curve(runs, metric)
            label = f"{agent} on {env_id} ({len(runs)} seed{'s' if len(runs) > 1 else ''})"
            axis.plot(steps, mean, label=label)
            axis.fill_between(steps, mean - half, mean + half, alpha=0.25)
        axis.set_xlabel("environment steps")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(figure, out, dpi=120)
    plt.close(figure)
    return out


def save_figure(figure, path: Path, dpi: int) -> None:
    """Write a matplotlib figure as PNG, replacing ``path`` atomically."""
    with atomic_write(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=dpi)

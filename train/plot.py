"""``opsgym plot``: learning curves from run folders, as PNG (needs matplotlib)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from opsgym.agents.atomic import atomic_write
from opsgym.train.run_folder import read_config, read_evaluations
from opsgym.train.stats import mean_interval


def learning_curves(run_paths: list[str | Path]) -> tuple[str, dict[str, list[list[dict]]]]:
    """The environment id of the runs and each agent's evaluation rows, one list per run.

    Raises:
        ValueError: the runs train on different ids (their returns do not compare), or
            none has evaluations yet.
    """
    runs_by_id: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, list[list[dict]]] = defaultdict(list)
    for path in run_paths:
        config = read_config(path)
        runs_by_id[config["env_id"]].append(str(path))
        rows = read_evaluations(path)
        if rows:
            groups[config["agent"]].append(rows)
    if len(runs_by_id) > 1:
        listing = "; ".join(f"{env_id}: {', '.join(paths)}" for env_id, paths in runs_by_id.items())
        raise ValueError(
            f"the runs train on different environment ids, plot each apart ({listing})"
        )
    if not groups:
        raise ValueError("none of the given run folders has evaluations yet")
    return next(iter(runs_by_id)), dict(groups)


def evaluated_series(rows: list[dict], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """A run's evaluation steps, increasing, and ``metric`` at each; a step evaluated twice
    (a periodic evaluation, then the final one) keeps its last value."""
    if metric not in rows[0]:
        raise ValueError(f"metric {metric!r} not recorded; available: {sorted(rows[0])}")
    by_step = {row["step"]: row[metric] for row in rows}
    steps = np.array(sorted(by_step))
    return steps, np.array([by_step[step] for step in steps])


def curve(
    runs: list[list[dict]], metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps, mean, 95% half-width and number of runs of ``metric`` over runs.

    The steps are the union of the runs' evaluation steps. At each, a run counts where its
    evaluations span the step, with its value interpolated linearly between its two
    nearest evaluations, and never past its first or last one: runs evaluated at
    different intervals align by step, and an interrupted run counts up to where it
    stopped. The half-width is 0 where one run counts.
    """
    series = [evaluated_series(rows, metric) for rows in runs]
    steps = np.unique(np.concatenate([run_steps for run_steps, _ in series]))
    values = np.full((len(series), len(steps)), np.nan)
    for row, (run_steps, run_values) in zip(values, series):
        spanned = (steps >= run_steps[0]) & (steps <= run_steps[-1])
        row[spanned] = np.interp(steps[spanned], run_steps, run_values)
    means, halves, counts = [], [], []
    for column in values.T:
        present = column[~np.isnan(column)]
        mean, half = mean_interval(present)
        means.append(mean)
        halves.append(0.0 if np.isnan(half) else half)
        counts.append(present.size)
    return steps, np.array(means), np.array(halves), np.array(counts)


def plot_learning_curves(
    run_paths: list[str | Path], out: str | Path, metrics: list[str] | None = None
) -> Path:
    """Plot the return and each metric against steps, one line per agent, to ``out``.

    Lines are the mean over runs (seeds) with a shaded 95% t-interval, aligned by step
    as :func:`curve` says.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ValueError("opsgym plot needs matplotlib: pip install 'opsgym[plot]'") from error

    env_id, groups = learning_curves(run_paths)
    if metrics is None:
        first = next(iter(groups.values()))[0][0]
        domain = [m for m in first if m not in ("step", "wall_time_s", "return")]
        metrics = ["return"] + domain[:1]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for agent, runs in sorted(groups.items()):
            steps, mean, half, counts = curve(runs, metric)
            axis.plot(steps, mean, label=f"{agent} ({runs_label(counts)})")
            axis.fill_between(steps, mean - half, mean + half, alpha=0.25)
        label_steps(axis, "environment steps")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small")
    figure.suptitle(f"{env_id}: mean over runs, shaded 95% t-interval", fontsize="medium")
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(figure, out, dpi=120)
    plt.close(figure)
    return out


def label_steps(axis, label: str) -> None:
    """Name a horizontal axis of training steps and write its ticks short (20k, 1M)."""
    from matplotlib.ticker import EngFormatter

    axis.set_xlabel(label)
    axis.xaxis.set_major_formatter(EngFormatter(sep=""))


def runs_label(counts: np.ndarray) -> str:
    """'3 runs', or '3 runs, 2 at the end' where some stop early (interrupted, say)."""
    most = int(counts.max())
    label = f"{most} run{'s' if most > 1 else ''}"
    return label if counts[-1] == most else f"{label}, {int(counts[-1])} at the end"


def save_figure(figure, path: Path, dpi: int) -> None:
    """Write a matplotlib figure as PNG, replacing ``path`` atomically."""
    with atomic_write(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=dpi)

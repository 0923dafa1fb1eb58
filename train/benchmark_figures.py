"""The benchmark's figures (needs matplotlib): normalized scores and learning curves.

Every policy is coloured by its family (random, rules, the oracle, hand-written
learners, SB3, rule-started learners), the same colour in both figures. The scores
figure marks each policy's IQM with a dot, so that random's bar of length 0 shows, and
writes the value beside it. The learning curves draw the best learners of each family
(by final return) and carry the returns of random, the best rule and the oracle as
horizontal reference lines; their vertical axis spans the curves, the best rule and the
oracle, and random's too unless it lies far below them (its label then says where).
Both figures lay their panels out in rows of three, by id. The default configurations
and the scenarios are drawn apart (``normalized_scores.png`` and ``learning_curves.png``,
``scenario_scores.png`` and ``scenario_curves.png``), so that a run of every scenario
does not make one figure too long to read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from opsgym.agents import agent_names
from opsgym.train.benchmark import REFERENCE
from opsgym.train.plot import curve, label_steps, save_figure
from opsgym.train.rule_started import rule_started_names

if TYPE_CHECKING:
    from opsgym.train.benchmark_summary import PolicyResult

# whether a figure shows the default configurations -> its (scores, curves) file names
FIGURE_NAMES = {
    True: ("normalized_scores.png", "learning_curves.png"),
    False: ("scenario_scores.png", "scenario_curves.png"),
}
FIGURES = tuple(name for names in FIGURE_NAMES.values() for name in names)

# family -> colour, in legend order
FAMILY_COLOURS = {
    "random": "0.6",
    "rules": "tab:blue",
    "oracle": "black",
    "hand-written learners": "tab:green",
    "SB3": "tab:orange",
    "rule-started learners": "tab:purple",
}
LEARNER_STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"))  # line, marker
CURVES_PER_FAMILY = 2  # the learning curves of each family's best learners, per panel
PANEL_COLUMNS = 3


def family(policy: str, kind: str) -> str:
    """The family a benchmark policy is coloured by."""
    if kind == REFERENCE:
        return policy if policy in ("random", "oracle") else "rules"
    if policy == "bc" or policy in rule_started_names():  # bc imitates the best heuristic
        return "rule-started learners"
    return "hand-written learners" if policy in agent_names() else "SB3"


def draw_figures(results: list[PolicyResult], records: list[dict], out: Path) -> list[str]:
    """Draw :data:`FIGURES` into ``out`` anew, or none without matplotlib; return the names
    of those written."""
    for name in FIGURES:  # drawn anew from every record, or not at all
        (out / name).unlink(missing_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []  # plots are optional: opsgym[plot]
    written = []
    with_curves = [r for r in records if r.get("status") == "ok" and r.get("curve")]
    for default, (scores_name, curves_name) in FIGURE_NAMES.items():
        part = [r for r in results if (r.scenario == "default") == default]
        scored = [r for r in part if r.normalized]
        if scored:
            figure = scores_figure(plt, scored)
            save_figure(figure, out / scores_name, dpi=110)
            plt.close(figure)
            written.append(scores_name)
        curves = [r for r in with_curves if (r["scenario"] == "default") == default]
        if curves:
            figure = curves_figure(plt, part, curves)
            save_figure(figure, out / curves_name, dpi=110)
            plt.close(figure)
            written.append(curves_name)
    return written


def _title(env_id: str, scenario: str) -> str:
    return env_id if scenario == "default" else f"{env_id} ({scenario})"


def panel_order(configs) -> list[tuple[str, str]]:
    """The configurations (env id, scenario) in the order the figures' panels show them:
    the default configurations first, then the scenarios, each by id."""
    return sorted(configs, key=lambda config: (config[1] != "default", config))


def _panel_grid(plt, count: int, width: float, row_heights):
    """A figure of ``count`` panels ``width`` inches wide, row by row in up to
    :data:`PANEL_COLUMNS` columns, each row as tall as ``row_heights(rows, columns)`` says
    (inches, one per row); the panels left over in the last row are hidden."""
    columns = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / columns)
    heights = row_heights(rows, columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(width * columns, sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, axes


def scores_figure(plt, results: list[PolicyResult]):
    """One panel of horizontal bars per configuration: each policy's normalized IQM with
    its 95% bootstrap interval, between the lines of random (0) and the ceiling (1)."""
    configs = panel_order({(r.env_id, r.scenario) for r in results})
    groups = [[r for r in results if (r.env_id, r.scenario) == c] for c in configs]
    sizes = [len(group) for group in groups]

    def row_heights(rows: int, columns: int) -> list[float]:  # as tall as the row's most bars
        tallest = [max(sizes[row * columns : (row + 1) * columns]) for row in range(rows)]
        return [0.28 * bars + 0.9 + 0.6 / rows for bars in tallest]

    figure, axes = _panel_grid(plt, len(configs), 8, row_heights)
    families = set()
    for axis, config, group in zip(axes.flat, configs, groups):
        names = [r.policy for r in group]
        means = np.array([r.normalized.iqm for r in group])
        lows = np.array([r.normalized.iqm_ci[0] for r in group])
        highs = np.array([r.normalized.iqm_ci[1] for r in group])
        colours = [FAMILY_COLOURS[family(r.policy, r.kind)] for r in group]
        families.update(family(r.policy, r.kind) for r in group)
        errors = np.nan_to_num([np.maximum(means - lows, 0), np.maximum(highs - means, 0)])
        axis.barh(names, means, xerr=errors, color=colours, alpha=0.8, ecolor="0.3")
        axis.scatter(means, names, c=colours, edgecolors="black", s=22, zorder=3)
        for y, value in enumerate(means):  # a column of values right of the panel
            axis.annotate(
                f"{value:.2f}",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
            )
        axis.axvline(0.0, color=FAMILY_COLOURS["random"], lw=1.0)
        axis.axvline(1.0, color="black", lw=1.0, ls="--")
        axis.invert_yaxis()  # random first, as the tables list it
        axis.set_xlim(
            np.nanmin(np.concatenate([lows, means, [0.0]])) - 0.05,
            np.nanmax(np.concatenate([highs, means, [1.0]])) + 0.05,
        )
        axis.set_title(_title(*config), fontsize="medium", loc="left")
        axis.tick_params(axis="y", labelsize="small")
        axis.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel(
        "normalized score: random 0, ceiling 1 (the oracle, else the best rule)\n"
        "bar and dot: IQM over seeds (value at the right); whisker: 95% bootstrap interval"
    )
    names = [name for name in FAMILY_COLOURS if name in families]
    handles = [plt.Rectangle((0, 0), 1, 1, color=FAMILY_COLOURS[name], alpha=0.8) for name in names]
    handles.append(plt.Line2D([], [], color="black", lw=1.0, ls="--"))
    figure.legend(
        handles,
        [*names, "ceiling (1)"],
        loc="upper center",
        ncol=len(handles),
        fontsize="small",
        frameon=False,
    )
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.5 / figure.get_figheight()))
    return figure


def reference_lines(results: list[PolicyResult]) -> list[tuple[str, str, float]]:
    """(label, family, mean return) of random, the best rule and the oracle, where run."""
    references = {r.policy: r for r in results if r.kind == REFERENCE}
    rules = [r for name, r in references.items() if family(name, REFERENCE) == "rules"]
    lines = []
    if "random" in references:
        lines.append(("random", "random", references["random"].score.mean))
    if rules:
        best = max(rules, key=lambda r: r.score.mean)
        lines.append((f"best rule: {best.policy}", "rules", best.score.mean))
    if "oracle" in references:
        lines.append(("oracle", "oracle", references["oracle"].score.mean))
    return lines


def curves_figure(plt, results: list[PolicyResult], records: list[dict]):
    """One panel per configuration: the learning curves of each family's
    :data:`CURVES_PER_FAMILY` best learners by final return (mean over seeds, shaded 95%
    t-interval), with the reference lines."""
    by_config: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        rows = [{"step": step, "return": value} for step, value in r["curve"]]
        by_config[(r["env_id"], r["scenario"])][r["policy"]].append(rows)
    configs = panel_order(by_config)
    figure, axes = _panel_grid(plt, len(configs), 5.2, lambda rows, _: [3.8] * rows)
    for axis, config in zip(axes.flat, configs):
        curves = {policy: curve(runs, "return") for policy, runs in by_config[config].items()}
        drawn = _best_per_family(curves)
        shown = [mean for policy in drawn for mean in curves[policy][1]]
        for policy, rank in drawn.items():
            steps, mean, half, counts = curves[policy]
            colour = FAMILY_COLOURS[family(policy, "trained")]
            line, marker = LEARNER_STYLES[rank % len(LEARNER_STYLES)]
            label = f"{policy} ({int(counts.max())} seeds)"
            axis.plot(steps, mean, color=colour, ls=line, marker=marker, ms=4, label=label)
            axis.fill_between(steps, mean - half, mean + half, color=colour, alpha=0.1)
        in_config = [r for r in results if (r.env_id, r.scenario) == config]
        references = reference_lines(in_config)
        low, high = _span(shown, [value for _, name, value in references if name != "random"])
        for label, line_family, value in references:
            if line_family == "random" and value < low - (high - low):
                label = f"random ({value:.4g}, below)"  # far below: drawn off the axis
            else:
                low, high = min(low, value), max(high, value)
            style = ":" if line_family == "random" else "--"
            axis.axhline(value, color=FAMILY_COLOURS[line_family], ls=style, lw=1.2, label=label)
        margin = 0.08 * (high - low) or 0.08 * abs(high) or 1.0
        axis.set_ylim(low - margin, high + margin)
        hidden = len(curves) - len(drawn)
        note = f"; {hidden} more learner{'s' * (hidden > 1)} not drawn" if hidden else ""
        axis.set_title(_title(*config) + note, fontsize="medium")
        label_steps(axis, "training steps (environment steps)")
        axis.set_ylabel("evaluation return per episode")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="x-small")
    figure.tight_layout()
    return figure


def _best_per_family(curves: dict[str, tuple]) -> dict[str, int]:
    """The learners to draw, each with its rank in its family: the family's
    :data:`CURVES_PER_FAMILY` best by the mean return at their last evaluation."""
    ranked = sorted(curves, key=lambda policy: -curves[policy][1][-1])
    drawn, per_family = {}, defaultdict(int)
    for policy in ranked:
        name = family(policy, "trained")
        if per_family[name] < CURVES_PER_FAMILY:
            drawn[policy] = per_family[name]
            per_family[name] += 1
    return dict(sorted(drawn.items()))


def _span(*groups: list[float]) -> tuple[float, float]:
    """The lowest and highest finite value among ``groups``."""
    values = np.array([value for group in groups for value in group], dtype=float)
    values = values[np.isfinite(values)]
    return float(values.min()), float(values.max())

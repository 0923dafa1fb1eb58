"""The benchmark's figures: colours by family, random visible, reference lines."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from opsgym.train.benchmark_figures import (
    FAMILY_COLOURS,
    FIGURE_NAMES,
    FIGURES,
    curves_figure,
    family,
    reference_lines,
    scores_figure,
)
from opsgym.train.benchmark_summary import summarize, write_summary

LB = "opsgym/LoadBalancing-v0"
MEAN_RETURNS = {"random": -10.0, "round_robin": -4.0, "least_connections": -2.0, "oracle": 0.0}
LEARNERS = {"ppo": -3.0, "q_learning": -6.0}


def records() -> list[dict]:
    """Three seeds of four reference policies and two learners, with learning curves."""
    made = []
    for seed in range(3):
        for policy, mean in {**MEAN_RETURNS, **LEARNERS}.items():
            trained = policy in LEARNERS
            made.append(
                {
                    "key": f"{LB}|default|{policy}|{seed}",
                    "status": "ok",
                    "env_id": LB,
                    "scenario": "default",
                    "policy": policy,
                    "kind": "trained" if trained else "reference",
                    "seed": seed,
                    "returns": [mean + 0.1 * seed],
                    "metrics": {},
                    "train_seconds": 1.0,
                    "train_steps": 200 if trained else 0,
                    "curve": [[100, mean - 4.0], [200, mean + 0.1 * seed]] if trained else [],
                }
            )
    return made


def test_families_name_rules_oracle_and_each_kind_of_learner():
    assert family("random", "reference") == "random"
    assert family("oracle", "reference") == "oracle"
    assert family("least_connections", "reference") == "rules"
    assert family("ppo", "trained") == "SB3"
    assert family("q_learning", "trained") == "hand-written learners"
    assert family("bc", "trained") == "rule-started learners"
    assert family("ppo_warm", "trained") == "rule-started learners"
    assert family("ppo_residual", "trained") == "rule-started learners"
    assert family("ucb1_warm", "trained") == "rule-started learners"


def test_scores_are_coloured_by_family_and_random_shows_at_zero():
    plt = pytest.importorskip("matplotlib.pyplot")
    from matplotlib.colors import to_rgb

    results, _ = summarize(records())
    figure = scores_figure(plt, [r for r in results if r.normalized])
    (axis,) = figure.axes
    labels = [label.get_text() for label in axis.get_yticklabels()]
    assert labels == ["random", "round_robin", "least_connections", "oracle", "ppo", "q_learning"]
    colours = [to_rgb(bar.get_facecolor()) for bar in axis.patches[: len(labels)]]
    expected = ["random", "rules", "rules", "oracle", "SB3", "hand-written learners"]
    assert colours == [to_rgb(FAMILY_COLOURS[name]) for name in expected]
    dots = axis.collections[-1].get_offsets()
    assert tuple(dots[0]) == (0.0, 0.0)  # random's dot, though its bar has no length
    values = [text.get_text() for text in axis.texts]
    assert values[0] == "0.00" and values[3] == "1.00" and values[1] == "0.60"
    plt.close(figure)


def test_learning_curves_carry_random_the_best_rule_and_the_oracle():
    plt = pytest.importorskip("matplotlib.pyplot")
    results, _ = summarize(records())
    assert [(label, value) for label, _, value in reference_lines(results)] == [
        ("random", pytest.approx(-9.9)),
        ("best rule: least_connections", pytest.approx(-1.9)),
        ("oracle", pytest.approx(0.1)),
    ]
    made = records()
    figure = curves_figure(plt, results, [r for r in made if r["curve"]])
    axis = figure.axes[0]
    lines = {line.get_label(): line for line in axis.lines}
    assert lines["oracle"].get_ydata()[0] == pytest.approx(0.1)
    assert lines["best rule: least_connections"].get_ydata()[0] == pytest.approx(-1.9)
    assert np.allclose(lines["ppo (3 seeds)"].get_ydata(), [-7.0, -2.9])
    assert lines["ppo (3 seeds)"].get_color() == FAMILY_COLOURS["SB3"]
    plt.close(figure)


def test_learning_curves_draw_each_familys_best_and_keep_a_far_random_off_the_axis():
    plt = pytest.importorskip("matplotlib.pyplot")
    made = [
        {**r, "returns": [-1000.0], "curve": r["curve"]} if r["policy"] == "random" else r
        for r in records()
    ]
    for r in records():  # two more SB3 learners, below and above PPO
        if r["policy"] == "ppo":
            for policy, shift in (("a2c", -2.0), ("dqn", 0.5)):
                curve = [[step, value + shift] for step, value in r["curve"]]
                made.append({**r, "policy": policy, "key": r["key"] + policy, "curve": curve})
    results, _ = summarize(made)
    figure = curves_figure(plt, results, [r for r in made if r["curve"]])
    axis = figure.axes[0]
    labels = [line.get_label() for line in axis.lines]
    assert "dqn (3 seeds)" in labels and "ppo (3 seeds)" in labels
    assert "a2c (3 seeds)" not in labels  # the third of its family
    assert "q_learning (3 seeds)" in labels  # the best of another family
    assert axis.get_title().endswith("; 1 more learner not drawn")
    assert "random (-1000, below)" in labels
    low, high = axis.get_ylim()
    assert -11 < low < -10 and 0 < high < 1  # q_learning's first point to the oracle
    plt.close(figure)


def test_the_summary_writes_the_named_figures_or_none_without_matplotlib(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    default_only = sorted(FIGURE_NAMES[True])
    write_summary(records(), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == default_only
    on_a_scenario = [{**r, "scenario": "burst", "key": "burst" + r["key"]} for r in records()]
    write_summary([*records(), *on_a_scenario], tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(FIGURES)
    write_summary(records(), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == default_only
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    write_summary(records(), tmp_path)
    assert list(tmp_path.glob("*.png")) == []  # no stale figure left behind


def test_panels_show_the_default_configurations_first_in_rows_of_three():
    plt = pytest.importorskip("matplotlib.pyplot")
    configs = [("opsgym/Z-v0", "default"), (LB, "heavy-tail"), (LB, "default"), (LB, "burst")]
    made = [
        {**r, "env_id": env_id, "scenario": scenario, "key": f"{env_id}|{scenario}|{r['key']}"}
        for env_id, scenario in configs
        for r in records()
        if scenario == "default" or r["policy"] in ("random", "oracle", "round_robin")
    ]
    results, _ = summarize(made)
    expected = [LB, "opsgym/Z-v0", f"{LB} (burst)", f"{LB} (heavy-tail)"]
    figure = scores_figure(plt, [r for r in results if r.normalized])
    shown = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title(loc="left") for axis in shown] == expected
    assert len(figure.axes) == 6  # two rows of three, the last two hidden
    # each row as tall as its most bars: 6 bars in the first row, 3 in the second
    first, second = figure.axes[0].get_position(), figure.axes[3].get_position()
    assert first.height > 1.3 * second.height  # equal rows would be equally tall
    plt.close(figure)
    figure = curves_figure(plt, results, [r for r in made if r["curve"]])
    assert [axis.get_title() for axis in figure.axes if axis.get_visible()] == expected[:2]
    plt.close(figure)

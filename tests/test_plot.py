"""``opsgym plot``: curves of several runs aligned by step, refusing runs of different ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opsgym.train.cli import main
from opsgym.train.plot import curve, learning_curves
from opsgym.train.run_folder import RunFolder
from opsgym.train.stats import mean_interval

LB = "opsgym/LoadBalancing-v0"


def run_folder(root: Path, returns: dict[float, float], status: str, env_id: str = LB) -> Path:
    """A run folder as ``opsgym train`` leaves it, with one evaluation row per step."""
    run = RunFolder(root, {"env_id": env_id, "agent": "ppo", "seed": len(list(root.glob("*")))})
    for step, value in returns.items():
        run.record_evaluation({"step": step, "wall_time_s": 1.0, "return": value})
    run.finish(status)
    return run.path


def three_runs(root: Path) -> list[Path]:
    every_100 = run_folder(root, {100: 1.0, 200: 2.0, 300: 3.0, 400: 4.0}, "finished")
    every_200 = run_folder(root, {200: 4.0, 400: 8.0}, "finished")
    interrupted = run_folder(root, {100: 10.0, 200: 20.0}, "interrupted")
    return [every_100, every_200, interrupted]


def test_runs_of_different_intervals_and_an_interrupted_run_align_by_step(tmp_path):
    env_id, groups = learning_curves(three_runs(tmp_path))
    assert env_id == LB
    steps, mean, half, counts = curve(groups["ppo"], "return")
    assert steps.tolist() == [100, 200, 300, 400]
    # step 100: the 200-step run has not started; step 300: it is interpolated (6) and
    # the interrupted run has stopped
    assert mean.tolist() == pytest.approx([5.5, 26 / 3, 4.5, 6.0])
    assert counts.tolist() == [2, 3, 2, 2]
    assert half[2] == pytest.approx(mean_interval([3.0, 6.0])[1])


def test_a_step_evaluated_twice_keeps_its_final_evaluation(tmp_path):
    run = RunFolder(tmp_path, {"env_id": LB, "agent": "ppo", "seed": 0})
    for step, value in [(512, 1.0), (1024, 2.0), (1024, 5.0)]:  # periodic, then final
        run.record_evaluation({"step": step, "return": value})
    _, groups = learning_curves([run.path])
    steps, mean, half, counts = curve(groups["ppo"], "return")
    assert steps.tolist() == [512, 1024] and mean.tolist() == [1.0, 5.0]
    assert half.tolist() == [0.0, 0.0] and counts.tolist() == [1, 1]


def test_plot_refuses_runs_of_different_ids(tmp_path, capsys):
    caching = run_folder(tmp_path, {100: 0.3}, "finished", env_id="opsgym/Caching-v0")
    balancing = run_folder(tmp_path, {100: -5.0}, "finished")
    out = tmp_path / "curves.png"
    assert main(["plot", str(caching), str(balancing), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "different environment ids" in error and "opsgym/Caching-v0" in error and LB in error
    assert not out.exists()


def test_plot_draws_aligned_runs_to_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "curves.png"
    assert main(["plot", *map(str, three_runs(tmp_path / "runs")), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curve_names_a_metric_no_run_recorded(tmp_path):
    _, groups = learning_curves(three_runs(tmp_path))
    with pytest.raises(ValueError, match="'hit_ratio' not recorded; available"):
        curve(groups["ppo"], "hit_ratio")
    assert np.isfinite(curve(groups["ppo"], "wall_time_s")[1]).all()

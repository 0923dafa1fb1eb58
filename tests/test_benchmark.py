"""``opsgym benchmark``: resumable, fault tolerant, normalized by construction."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from benchmark_plans import small_plan

from opsgym.train import benchmark
from opsgym.train.benchmark import read_trials, run_benchmark
from opsgym.train.benchmark_summary import bootstrap_interval, iqm, summarize, write_summary
from opsgym.train.cli import main

LB = "opsgym/LoadBalancing-v0"
PLAN = small_plan(
    LB,
    policies=("random", "round_robin", "least_connections", "oracle"),
    seeds=3,
    episodes=2,
    scenarios=("default",),
)


def test_normalized_scores_are_zero_for_random_and_one_for_the_oracle(tmp_path):
    records = run_benchmark(PLAN, tmp_path)
    assert len(records) == 12 and all(r["status"] == "ok" for r in records)
    results, failed = summarize(records)
    assert not failed
    by_name = {r.policy: r for r in results}
    assert by_name["random"].normalized.mean == 0.0
    assert by_name["oracle"].normalized.mean == 1.0
    assert by_name["oracle"].normalized.mean_ci == (1.0, 1.0)  # constant: no NaN
    assert 0.0 < by_name["least_connections"].normalized.mean <= 1.0
    assert [r.policy for r in results][0] == "random"


def test_the_summary_puts_the_default_configuration_first_and_a_paused_trial_aside():
    """Scenario "adversary" sorts before "default" by name; a learner's seed whose trial
    was paused between sessions (900 s) does not move its training time."""
    records = [
        {
            "status": "ok",
            "env_id": "opsgym/X-v0",
            "scenario": scenario,
            "policy": policy,
            "kind": "trained" if policy == "ucb1" else "reference",
            "seed": seed,
            "returns": [float(seed + ("random", "ucb1", "oracle").index(policy))],
            "metrics": {},
            "train_seconds": (1.0, 2.0, 900.0)[seed] if policy == "ucb1" else 0.0,
            "train_steps": 100 if policy == "ucb1" else 0,
            "curve": [],
        }
        for scenario in ("adversary", "default")
        for policy in ("random", "ucb1", "oracle")
        for seed in range(3)
    ]
    results, _ = summarize(records)
    assert [r.scenario for r in results[::3]] == ["default", "adversary"]
    assert {r.train_seconds for r in results if r.policy == "ucb1"} == {2.0}


def test_no_normalized_scores_where_the_ceiling_barely_beats_random(tmp_path):
    """As on CDN's pull-everything: the oracle earns 0.3% more than random, so lru, 0.5%
    below random, would score -1.6; the summary gives the returns alone."""
    records = [
        {
            "status": "ok",
            "env_id": "opsgym/X-v0",
            "scenario": "default",
            "policy": policy,
            "kind": "reference",
            "seed": seed,
            "returns": [value + seed],
            "metrics": {},
            "train_seconds": 0.0,
            "train_steps": 0,
            "curve": [],
        }
        for policy, value in (("random", 152.7), ("lru", 151.9), ("oracle", 153.2))
        for seed in range(3)
    ]
    results, _ = summarize(records)
    assert [r.normalized for r in results] == [None, None, None]
    assert results[1].score.mean == pytest.approx(152.9)
    assert "No normalized scores" in write_summary(records, tmp_path)


def test_results_are_kept_unless_resumed(tmp_path):
    run_benchmark(PLAN, tmp_path)
    with pytest.raises(ValueError, match="--resume"):
        run_benchmark(PLAN, tmp_path)
    assert len(run_benchmark(PLAN, tmp_path, resume=True)) == 12  # nothing rerun


def test_a_failing_policy_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    real = benchmark.make_policy

    def broken(env, name, seed=None):
        if name == "round_robin":
            raise RuntimeError("backend table corrupted")
        return real(env, name, seed=seed)

    monkeypatch.setattr(benchmark, "make_policy", broken)
    records = run_benchmark(PLAN, tmp_path)
    failures = [r for r in records if r["status"] == "error"]
    assert len(failures) == 3 and "backend table corrupted" in failures[0]["error"]
    text = write_summary(records, tmp_path)
    assert "Failed trials" in text and "round_robin" in text
    assert (tmp_path / "summary.csv").read_text().count("least_connections") > 0


def test_killed_then_resumed_gives_the_same_summary(tmp_path):
    args = [
        "benchmark",
        "--envs",
        LB,
        "--policies",
        "random",
        "oracle",
        "ppo",
        "--seeds",
        "3",
        "--episodes",
        "2",
        "--jobs",
        "1",
        "--sb3",
        "ppo",
        "--budget",
        "1024",
        "--scenarios",
        "default",
    ]
    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole)]) == 0

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "opsgym.train.cli", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600  # a bound for a loaded machine; it ends at 7 trials
    while len(read_trials(killed / "trials.jsonl")) < 7 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 7 <= len(read_trials(killed / "trials.jsonl")) < 9  # killed during PPO training
    with (killed / "trials.jsonl").open("a") as handle:
        handle.write('{"key": "torn')  # as if the crash came in the middle of a write
    assert main([*args, "--out", str(killed), "--resume"]) == 0
    assert len(read_trials(killed / "trials.jsonl")) == 9
    assert _table(killed) == _table(whole)


def _table(folder) -> str:
    text = (folder / "summary.md").read_text()
    # the train-seconds column differs from run to run; everything else must not
    return "\n".join(line.rsplit("|", 2)[0] for line in text.splitlines() if line.startswith("|"))


def test_bootstrap_interval_handles_constant_and_tiny_samples():
    assert bootstrap_interval([0.7, 0.7, 0.7]) == (0.7, 0.7)
    assert all(math.isnan(x) for x in bootstrap_interval([0.3]))
    low, high = bootstrap_interval(np.arange(20.0))
    assert low < 9.5 < high
    assert iqm(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0])) == pytest.approx(3.5)


def test_unknown_names_are_listed(capsys):
    assert main(["benchmark", "--envs", "opsgym/Nope-v0"]) == 2
    assert LB in capsys.readouterr().err
    assert main(["benchmark", "--envs", LB, "--policies", "magic"]) == 2
    assert "least_connections" in capsys.readouterr().err


def test_an_override_sets_one_environments_budget_and_arguments_under_every_scenario():
    plan = small_plan(
        LB,
        "opsgym/CDN-v0",
        policies=("random", "ppo"),
        budget=500,
        sb3_algorithms=("ppo",),
        scenarios=("default", "drift"),
        overrides={"opsgym/CDN-v0": {"budget": 100, "env_kwargs": {"episode_length": 7}}},
    )
    trials = {(t.env_id, t.scenario, t.policy): t for t in benchmark.plan_trials(plan)}
    assert trials[(LB, "default", "ppo")].budget == 500
    assert trials[(LB, "default", "ppo")].env_kwargs == {}
    assert trials[("opsgym/CDN-v0", "default", "ppo")].budget == 100
    assert trials[("opsgym/CDN-v0", "default", "random")].env_kwargs == {"episode_length": 7}
    drift = trials[("opsgym/CDN-v0", "drift", "ppo")]
    assert drift.env_kwargs == {"episode_length": 7, "viral_per_hour": 6.0}
    assert benchmark.describe_overrides(plan.overrides) == (
        "opsgym/CDN-v0 runs with episode_length=7; learners trained for 100 steps."
    )


def test_a_learner_budget_differs_from_the_plans_and_an_environment_override_beats_it():
    plan = small_plan(
        LB,
        "opsgym/CDN-v0",
        policies=("ppo", "ucb1"),
        budget=500,
        sb3_algorithms=("ppo",),
        agents=("ucb1",),
        scenarios=("default",),
        learner_budgets={"ppo": 3_000},
        overrides={"opsgym/CDN-v0": {"budget": 100}},
    )
    budgets = {(t.env_id, t.policy): t.budget for t in benchmark.plan_trials(plan)}
    assert budgets == {
        (LB, "ppo"): 3_000,
        (LB, "ucb1"): 500,
        ("opsgym/CDN-v0", "ppo"): 100,
        ("opsgym/CDN-v0", "ucb1"): 100,
    }


def test_an_environment_learners_budget_beats_every_other_and_its_sb3_list_replaces_the_plans():
    plan = small_plan(
        LB,
        "opsgym/Caching-v0",
        budget=500,
        sb3_algorithms=("ppo", "a2c"),
        agents=("ucb1",),
        scenarios=("default",),
        learner_budgets={"ppo": 3_000},
        overrides={
            LB: {"budget": 100, "learner_budgets": {"ppo": 7_000}},
            "opsgym/Caching-v0": {
                "sb3_algorithms": ("ppo", "dqn"),
                "default_learner_budgets": {"ppo": 9_000, "dqn": 9_000},
            },
        },
    )
    budgets = {
        (t.env_id, t.policy): t.budget for t in benchmark.plan_trials(plan) if t.kind == "trained"
    }
    assert budgets == {
        (LB, "ppo"): 7_000,
        (LB, "a2c"): 100,
        (LB, "ucb1"): 100,
        ("opsgym/Caching-v0", "ppo"): 9_000,
        ("opsgym/Caching-v0", "dqn"): 9_000,
        ("opsgym/Caching-v0", "ucb1"): 500,
    }
    assert benchmark.describe_overrides(plan.overrides) == (
        f"{LB} runs with learners trained for 100 steps; ppo trained for 7,000 steps. "
        "opsgym/Caching-v0 runs with SB3 learners ppo, dqn; "
        "ppo, dqn trained for 9,000 steps on the default configuration."
    )


def test_only_the_scenario_learners_train_on_the_scenarios():
    plan = small_plan(
        LB,
        sb3_algorithms=("ppo", "a2c"),
        agents=("ucb1", "sw_ucb"),
        scenarios=("default", "heavy-tail"),
        scenario_learners=("ppo", "ucb1"),
    )
    trained = {(t.scenario, t.policy) for t in benchmark.plan_trials(plan) if t.kind == "trained"}
    assert trained == {
        ("default", "ppo"),
        ("default", "a2c"),
        ("default", "ucb1"),
        ("default", "sw_ucb"),
        ("heavy-tail", "ppo"),
        ("heavy-tail", "ucb1"),
    }
    # a learner left off the scenarios is still a known name there, not a typo
    only_sw_ucb = benchmark.plan_trials(replace(plan, policies=("sw_ucb",)))
    assert {t.scenario for t in only_sw_ucb} == {"default"}


def test_the_full_presets_scenario_learners_and_per_id_algorithms_follow_the_command_line(
    tmp_path, monkeypatch, capsys
):
    plans = []
    monkeypatch.setattr(
        benchmark, "run_benchmark", lambda plan, *args, **kwargs: plans.append(plan) or []
    )
    common = ["benchmark", "--envs", "opsgym/Caching-v0", "--out", str(tmp_path)]
    main(common)
    main([*common, "--sb3", "ppo", "--budget", "10", "--scenario-learners", "all"])
    preset, given = plans
    assert preset.scenario_learners == benchmark.FULL["scenario_learners"]
    assert preset.learners("opsgym/Caching-v0", "default")[:2] == ["ppo", "dqn"]
    # the caching ids' SB3 learners keep their studies' 50,000 steps, the agents 100,000;
    # Caching's PPO, whose curve still rose, 1,000,000 on the default configuration only
    assert preset.training_steps("opsgym/Caching-v0", "dqn_warm") == 50_000
    assert preset.training_steps("opsgym/Caching-v0", "ucb1") == 100_000
    assert preset.training_steps("opsgym/Caching-v0", "ppo_warm") == 1_000_000
    assert preset.training_steps("opsgym/Caching-v0", "ppo", "web07") == 50_000
    budgets = {(t.scenario, t.budget) for t in benchmark.plan_trials(preset) if t.policy == "ppo"}
    assert ("default", 1_000_000) in budgets and ("scans", 50_000) in budgets
    assert given.scenario_learners is None
    assert given.learners("opsgym/Caching-v0", "default")[0] == "ppo"
    assert "dqn" not in given.learners("opsgym/Caching-v0", "default")
    assert given.training_steps("opsgym/Caching-v0", "ppo") == 10
    assert given.training_steps("opsgym/Caching-v0", "ppo", "web07") == 10
    assert main([*common, "--scenario-learners", "ucb"]) == 2
    assert "unknown learner 'ucb'" in capsys.readouterr().err


def test_a_preset_plan_keeps_the_presets_fields_but_those_given():
    ids = ("opsgym/Caching-v0",)
    preset = benchmark.preset_plan(benchmark.QUICK, ids)
    assert preset.seeds == benchmark.QUICK["seeds"] and preset.policies is None
    assert preset.training_steps("opsgym/Caching-v0", "ppo") == 10_000
    assert preset.training_steps("opsgym/LoadBalancing-v0", "ppo") == 50_000
    assert preset.training_steps("opsgym/LoadBalancing-v0", "ppo_residual") == 10_000
    assert preset.training_steps("opsgym/LoadBalancing-v0", "ucb1") == 20_000
    given = benchmark.preset_plan(benchmark.QUICK, ids, seeds=2, budget=10)
    assert given.seeds == 2 and given.learner_budgets == {}
    assert given.training_steps("opsgym/Caching-v0", "ppo") == 10
    assert given.training_steps("opsgym/CDN-v0", "ppo") == 10
    assert given.overrides["opsgym/CDN-v0"] == {"env_kwargs": {"episode_length": 60}}


def test_ray_backend_writes_the_same_results(tmp_path):
    pytest.importorskip("ray")
    plan = small_plan(LB, policies=("random", "oracle"), seeds=2)
    local = run_benchmark(plan, tmp_path / "local")
    remote = run_benchmark(plan, tmp_path / "ray", backend="ray", jobs=2)
    key = lambda r: r["key"]  # noqa: E731
    assert [r["returns"] for r in sorted(remote, key=key)] == [
        r["returns"] for r in sorted(local, key=key)
    ]


def test_scenarios_run_next_to_the_default_configuration():
    plan = small_plan(LB, scenarios=("default", "feedback-only"))
    trials = benchmark.plan_trials(plan)
    feedback = [t for t in trials if t.scenario == "feedback-only"]
    assert feedback and all(t.env_kwargs == {"mode": "feedback"} for t in feedback)
    assert "least_connections" not in {t.policy for t in feedback}  # it needs queues
    assert "least_connections" in {t.policy for t in trials if t.scenario == "default"}
    with pytest.raises(ValueError, match="drift-slowdown"):
        benchmark.plan_trials(small_plan(LB, scenarios=("nope",)))

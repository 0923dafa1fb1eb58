"""The learned reference policies: isolation forests (AnomalyDetection) and a random-forest
forecast (Autoscaling), on cases with a known answer; and how they are refused without
scikit-learn."""

import math
import sys

import gymnasium as gym
import numpy as np
import pytest
from benchmark_plans import small_plan

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy, policy_availability, policy_names

pytest.importorskip("sklearn")

from sklearn.ensemble import IsolationForest  # noqa: E402

from opsgym.baselines.isolation_forest import FlatForest, IsolationForestDetector  # noqa: E402
from opsgym.envs.anomaly_detection.simulator import squash  # noqa: E402
from opsgym.train.benchmark import plan_trials  # noqa: E402
from opsgym.train.cli import main  # noqa: E402

AD, AS = "opsgym/AnomalyDetection-v0", "opsgym/Autoscaling-v0"
STEPS_PER_DAY = 48


# ---------------------------------------------------------------------- isolation forest


def test_flat_forest_scores_equal_scikit_learns():
    rng = np.random.default_rng(0)
    for rows, columns in [(300, 16), (20, 4), (2, 1)]:
        data = rng.standard_normal((rows, columns)).astype(np.float32)
        forest = IsolationForest(n_estimators=20, contamination=0.05, random_state=1).fit(data)
        flat = FlatForest(forest)
        points = np.concatenate([data[:10], 4.0 * rng.standard_normal((20, columns))])
        ours = [flat.score(p) for p in points]
        np.testing.assert_allclose(ours, forest.score_samples(points), rtol=1e-12)
        ours = [-flat.outlyingness(p) for p in points]
        np.testing.assert_allclose(ours, forest.decision_function(points), rtol=1e-12)


def observation_stream(days: int, planted: tuple[int, int] | None, rng) -> np.ndarray:
    """Observations of the synthetic layout (4 metrics x 4 features + clock) for a
    regular service; ``planted`` = (step, metric) adds a 10-sigma jump in every feature
    of that metric at that step, lasting 4 steps."""
    steps = days * STEPS_PER_DAY
    t = np.arange(steps)
    day = 2 * np.pi * (t % STEPS_PER_DAY) / STEPS_PER_DAY
    week = 2 * np.pi * (t % (7 * STEPS_PER_DAY)) / (7 * STEPS_PER_DAY)
    z = 0.3 * rng.standard_normal((steps, 4, 4))
    z[:, :, 0] += np.sin(day)[:, None]  # each metric's level follows the day
    if planted is not None:
        step, metric = planted
        z[step : step + 4, metric, :] += 10.0
    clock = np.stack([np.sin(day), np.cos(day), np.sin(week), np.cos(week)], axis=1)
    return np.concatenate([squash(z).reshape(steps, 16), clock], axis=1).astype(np.float32)


@pytest.mark.parametrize("multivariate", [False, True])
def test_a_planted_anomaly_is_paged_at_its_hour_only_and_its_metric_named(multivariate):
    # One 4-step anomaly in 8 days: an expected contamination well under 1%. Tolerance:
    # pages in the first three days (while the forests learn from a few hundred steps)
    # are not counted; after them the only pages fall within the anomaly's 4 steps.
    env = gym.make(AD)
    planted = 6 * STEPS_PER_DAY + 2 * 14  # day 6, 14:00
    stream = observation_stream(8, (planted, 2), np.random.default_rng(3))
    detector = IsolationForestDetector(
        env, seed=0, multivariate=multivariate, contamination=0.002, percentile=99.5
    )
    pages, named = [], set()
    for step, observation in enumerate(stream):
        if detector.act(observation) and step >= 3 * STEPS_PER_DAY:
            pages.append(step)
            named.add(detector.explain(top=1)[0][0])
    assert pages and all(planted <= step < planted + 4 for step in pages), pages
    assert named == {"memory"}  # metric 2 of requests, cpu, memory, latency


def test_decisions_never_depend_on_the_future_nor_on_the_labels():
    env = gym.make(AD)
    observation, _ = env.reset(seed=5)
    stream = [observation]
    while len(stream) < 600:
        observation, *_ = env.step(0)
        stream.append(observation)
    cut = 400
    altered = list(stream[:cut]) + [
        np.clip(o + 0.5, -1, 1) if i % 2 else o for i, o in enumerate(stream[cut:])
    ]
    first = IsolationForestDetector(env, seed=0)
    second = IsolationForestDetector(env, seed=0)
    env.unwrapped.windows = [(0, 600)]  # labels the detector might have read
    actions = [first.act(o) for o in stream]
    other = [second.act(o) for o in altered]
    assert actions[:cut] == other[:cut]
    assert actions[cut:] != other[cut:]  # the altered future did change later decisions
    assert sum(actions[:cut]) > 0  # and the prefix holds pages, not only silence


def test_a_jump_in_the_clock_starts_the_detector_over():
    env = gym.make(AD)
    stream = observation_stream(3, None, np.random.default_rng(0))
    detector = IsolationForestDetector(env, seed=0)
    for observation in stream:
        detector.act(observation)
    assert detector.forests[0] and len(detector.rows) == len(stream)
    detector.act(stream[10])  # another episode, at another time of the week
    assert not detector.forests[0] and len(detector.rows) == 1


def test_a_single_metric_replay_makes_both_variants_the_same_detector():
    env = gym.make(AD, workload="nyc_taxi")
    single = IsolationForestDetector(env, seed=0)
    joint = IsolationForestDetector(env, seed=0, multivariate=True)
    observation, _ = env.reset(seed=1)
    for _ in range(300):
        action = single.act(observation)
        assert joint.act(observation) == action
        observation, *_ = env.step(action)


# ---------------------------------------------------------------------- learned forecast


def daily_trace(tmp_path, days: int) -> str:
    """A per-minute trace whose load is a pure function of the minute of the day."""
    minutes = np.arange(days * 1440)
    rate = 600.0 + 400.0 * np.sin(2 * np.pi * minutes / 1440.0)  # [requests/s]
    lines = ["timestamp,value"] + [f"{_stamp(m)},{60.0 * r:.6f}" for m, r in zip(minutes, rate)]
    path = tmp_path / "daily.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _stamp(minute: int) -> str:
    day, rest = divmod(int(minute), 1440)
    return f"2024-01-{1 + day:02d}T{rest // 60:02d}:{rest % 60:02d}:00"


def test_a_daily_pattern_is_forecast_after_a_day_and_the_hpa_decides_before(tmp_path):
    env = gym.make(AS, workload=daily_trace(tmp_path, 4), trace_scale=1.0, episode_steps=2000)
    policy = make_policy(env, "ml_forecast", seed=0)
    hpa = make_policy(env, "hpa", seed=0)
    observation, _ = env.reset(seed=0)
    loads = env.unwrapped.episode_load()
    for step in range(1800):
        action = policy.act(observation)
        if step < 1440 - env.unwrapped.config.window:  # less than a day seen: the HPA decides
            assert not policy.used_forecast and action == hpa.act(observation)
        else:
            hpa.act(observation)
        observation, *_ = env.step(action)
    assert policy.used_forecast
    forecasts = policy.forecast(30)
    expected = np.log1p(loads[1800:1830])
    means = np.array([mean for mean, _ in forecasts])
    assert np.abs(means - expected).max() < 0.02  # within 2% of the load, 1 to 30 min ahead
    deviations = [math.sqrt(var) for _, var in forecasts]
    assert deviations[-1] >= deviations[0]  # confidence falls with the horizon


# ---------------------------------------------------------------------- without scikit-learn


def test_without_scikit_learn_the_policies_are_listed_unavailable_with_the_hint(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    hint = "pip install 'opsgym[ml]'"
    detector_env, scaler_env = gym.make(AD), gym.make(AS)
    assert hint in policy_availability(detector_env)["isolation_forest"]
    assert "isolation_forest" not in policy_names(detector_env)
    assert "ml_forecast" not in policy_names(scaler_env) and "hpa" in policy_names(scaler_env)
    with pytest.raises(ValueError, match=r"ml_forecast cannot run .*opsgym\[ml\]"):
        make_policy(scaler_env, "ml_forecast")
    assert main(["list"]) == 0
    assert (
        f"isolation_forest (unavailable: needs scikit-learn, which is not installed: {hint})"
        in (capsys.readouterr().out)
    )
    plan = small_plan(AD, budget=1)
    assert "isolation_forest" not in {trial.policy for trial in plan_trials(plan)}
    # ... and a default benchmark says what this machine's installation left out
    assert (
        main(
            [
                "benchmark",
                "--envs",
                AD,
                "--policies",
                "random",
                "--seeds",
                "1",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    header = capsys.readouterr().out
    assert f"isolation_forest ({AD}): {hint}" in header
    requested = small_plan(AD, policies=("isolation_forest_multivariate",), budget=1)
    with pytest.raises(ValueError, match=r"isolation_forest_multivariate cannot run.*opsgym\[ml\]"):
        plan_trials(requested)

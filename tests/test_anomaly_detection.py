"""The science of AnomalyDetection: NAB scoring by hand, the oracle's ceiling, detectors."""

import math

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy
from opsgym.envs.anomaly_detection import AlertScorer, AnomalyDetectionEnv
from opsgym.envs.anomaly_detection.simulator import (
    detector_features,
    nyc_taxi,
    read_labelled_csv,
    squash,
    unsquash,
    window_credit,
    windows_from_labels,
)
from opsgym.envs.core.data_files import DataFileError

ENV_ID = "opsgym/AnomalyDetection-v0"


def run(env, policy, seed):
    observation, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation))
        total += reward
        done = terminated or truncated
    return total, info["episode_metrics"]


def test_window_credit_is_nab_scaled_sigmoid_renormalized():
    sigma = lambda y: 2 / (1 + math.exp(5 * y)) - 1  # noqa: E731
    assert window_credit(0, 10) == 1.0
    assert window_credit(5, 10) == pytest.approx(sigma(-0.5) / sigma(-1.0))
    assert window_credit(5, 10) == pytest.approx(0.8483 / 0.9866, abs=1e-4)
    credits = [window_credit(p, 10) for p in range(10)]
    assert credits == sorted(credits, reverse=True) and credits[-1] > 0


def test_hand_computed_reward_trace():
    # One window [2, 5) in 8 steps; weights tp=1, fp=0.5, fn=2.
    scorer = AlertScorer([(2, 5)], 8, tp_weight=1.0, fp_weight=0.5, fn_weight=2.0)
    alerts = [1, 0, 0, 1, 1, 0, 1, 0]
    components = [scorer.record(t, bool(a)) for t, a in enumerate(alerts)]
    assert components[0] == {"detection": 0.0, "false_alert": -1.0, "miss": 0.0}
    assert components[3]["detection"] == pytest.approx(window_credit(1, 3))
    assert components[4] == {"detection": 0.0, "false_alert": 0.0, "miss": 0.0}  # counted once
    assert components[6]["false_alert"] == -1.0
    assert scorer.score == pytest.approx(window_credit(1, 3) - 0.5 - 0.5)
    metrics = scorer.metrics()
    assert metrics["precision"] == pytest.approx(1 / 3)
    assert metrics["recall"] == 1.0
    assert metrics["f1"] == pytest.approx(0.5)
    assert metrics["mean_detection_delay_steps"] == 1.0
    # NAB normalization: null = -2 (one miss), perfect = 1.
    assert metrics["nab_score"] == pytest.approx(100 * (scorer.score + 2) / 3)


def test_missed_window_costs_at_its_last_step():
    scorer = AlertScorer([(1, 3)], 5, fn_weight=1.0)
    misses = [scorer.record(t, False)["miss"] for t in range(5)]
    assert misses == [0.0, 0.0, -1.0, 0.0, 0.0]
    assert scorer.metrics()["nab_score"] == 0.0
    assert scorer.metrics()["recall"] == 0.0


def test_windows_from_labels_and_clipping():
    assert windows_from_labels([0, 1, 1, 0, 1]) == ((1, 3), (4, 5))
    assert AlertScorer([(-2, 1), (3, 9)], 5).windows == [(0, 1), (3, 5)]


@pytest.mark.parametrize("workload", ["synthetic", "nyc_taxi"])
def test_oracle_scores_the_maximum_possible(workload):
    env = gym.make(ENV_ID, workload=workload)
    oracle = make_policy(env, "oracle")
    for seed in range(3):
        total, metrics = run(env, oracle, seed)
        windows = len(env.unwrapped.windows)
        assert windows > 0
        assert total == pytest.approx(1.0 * windows)
        assert metrics["nab_score"] == pytest.approx(100.0)
        assert metrics["f1"] == 1.0 and metrics["mean_detection_delay_steps"] == 0.0


def test_no_policy_beats_the_oracle():
    env = gym.make(ENV_ID)
    best = run(env, make_policy(env, "oracle"), 7)[0]
    for name in ["random", "static_threshold", "rolling_zscore", "seasonal_zscore", "ewma_chart"]:
        assert run(env, make_policy(env, name, seed=0), 7)[0] <= best + 1e-12


def test_nyc_taxi_has_the_five_nab_windows():
    series = nyc_taxi()
    assert series.values.shape == (10320, 1)
    assert len(series.windows) == 5
    # 2014-10-30 15:30 is 121 days and 31 half hours after 2014-07-01 00:00.
    assert series.windows[0][0] == 121 * 48 + 31
    # Windows are inclusive of their last timestamp, 2014-11-03 22:30.
    assert series.windows[0][1] == 125 * 48 + 45 + 1


def spike_series(spike_at: int, height: float):
    rng = np.random.default_rng(0)
    steps_per_day, n = 24, 24 * 7 * 3
    t = np.arange(n)
    values = 10 + 3 * np.sin(2 * np.pi * t / steps_per_day) + 0.1 * rng.standard_normal(n)
    values[spike_at] += height
    return values.reshape(-1, 1)


def test_features_flag_a_known_injected_spike_and_only_it():
    first, spike = 24 * 7 * 2 + 24, 24 * 7 * 2 + 60
    features = detector_features(spike_series(spike, 5.0), first, 24, 2, 24)
    rolling = np.array([unsquash(s) for s in features[:, 1]])
    seasonal = np.array([unsquash(s) for s in features[:, 2]])
    k = spike - first
    assert seasonal[k] > 20  # 5 over a residual noise of about 0.1 * sqrt(1.5)
    assert np.abs(np.delete(seasonal, k)).max() < 20
    # The daily swing (3) hides a 5 spike less from a one-day rolling window: still > 1.
    assert rolling[k] > 1


def test_seasonal_detector_catches_the_spike_static_threshold_does_not(tmp_path):
    first, spike = 24 * 7 * 2 + 24, 24 * 7 * 2 + 66  # a trough of the daily cycle
    values = spike_series(spike, 4.0)[:, 0]
    path = tmp_path / "spike.csv"
    lines = ["timestamp,value,label"] + [
        f"t{i},{float(v)!r},{int(i == spike)}" for i, v in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")
    env = gym.make(
        ENV_ID,
        workload="csv",
        csv_path=str(path),
        episode_length=len(values) - first,
        steps_per_day=24,
        rolling_window=24,
    )
    _, seasonal = run(env, make_policy(env, "seasonal_zscore"), 0)
    _, static = run(env, make_policy(env, "static_threshold"), 0)
    assert seasonal["recall"] == 1.0
    # Gaussian noise crosses 3 sigma with probability 0.0027: about 1 in these 372 steps.
    assert seasonal["false_alerts"] <= 4
    assert static["recall"] == 0.0  # 4 at the trough stays inside the daily range


def test_squash_round_trip_and_bounds():
    z = np.array([-100.0, -3.0, 0.0, 3.0, 100.0])
    s = squash(z)
    assert np.all(np.abs(s) < 1) and s[3] == 0.5
    assert [unsquash(v) for v in s] == pytest.approx(z.tolist())


def test_synthetic_anomaly_rate_is_configurable():
    quiet = gym.make(ENV_ID, anomalies_per_week=0.0)
    quiet.reset(seed=0)
    assert quiet.unwrapped.windows == []
    busy = gym.make(ENV_ID, anomalies_per_week=10.0)
    busy.reset(seed=0)
    assert len(busy.unwrapped.windows) > 10


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"workload": "tsdb"}, "workload"),
        ({"workload": "csv"}, "csv_path"),
        ({"csv_path": "x.csv"}, "csv_path"),
        ({"episode_length": 0}, "episode_length"),
        ({"rolling_window": 1}, "rolling_window"),
        ({"anomalies_per_week": -1.0}, "anomalies_per_week"),
        ({"min_window": 5, "max_window": 4}, "max_window"),
        ({"fp_weight": -0.1}, "fp_weight"),
        ({"workload": "nyc_taxi", "episode_length": 10_000}, "episode_length"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AnomalyDetectionEnv(**kwargs)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("timestamp,value,label\nt0,1.0,0\nt1,abc,0\n", 3),
        ("timestamp,value,label\nt0,1.0,2\n", 2),
        ("timestamp,value\nt0,nan\n", 2),
        ("time,value\nt0,1\n", 1),
    ],
)
def test_bad_csv_lines_name_file_and_line(tmp_path, text, line):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFileError, match=f"bad.csv: line {line}:"):
        read_labelled_csv(path)

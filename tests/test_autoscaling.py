"""The autoscaler's queueing model against M/M/c theory, its optimum against brute force,
its rules against hand traces, and its trace readers against bad input."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from scipy import integrate, optimize

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy, policy_names
from opsgym.baselines.autoscaling import (
    HoltPredictive,
    HorizontalPodAutoscaler,
    SeasonalPredictive,
)
from opsgym.envs.autoscaling import AutoscalingConfig, AutoscalingEnv, Fleet, optimal_plan
from opsgym.envs.autoscaling.workload import EpisodeWorkload
from opsgym.envs.core.load_traces import load_trace, parse_trace
from opsgym.envs.core.queueing import (
    erlang_c,
    mmc_response_quantile,
    mmc_response_quantile_array,
    mmc_response_survival,
)
from opsgym.envs.core.seasonal import SeasonalShape, weekly_profile
from opsgym.train.runner import run_episode

HOLD = 2  # the hold action with the default max_step_change of 2


def test_drops_and_violations_equal_serve_for_every_fleet_size():
    service = AutoscalingEnv().service
    for rate in [0.0, 37.5, 400.0, 1234.5, 5000.0]:
        outcomes = service.drops_and_violations(rate, 25)
        for servers, outcome in enumerate(outcomes, start=1):
            _, dropped, _, _, violated = service.serve(servers, rate)
            assert outcome == (dropped, violated), (rate, servers)


# ---------------------------------------------------------------------------- M/M/c


def erlang_c_by_sums(c: int, a: float) -> float:
    """Erlang C from its textbook definition with factorials (Kleinrock, eq. 3.40)."""
    queued = a**c / math.factorial(c) * c / (c - a)
    return queued / (sum(a**k / math.factorial(k) for k in range(c)) + queued)


def mmc_by_birth_death(c: int, lam: float, mu: float, size: int = 4000) -> tuple[float, float]:
    """P(wait) and mean response time of M/M/c from its truncated birth-death chain."""
    weights = [1.0]
    for n in range(1, size):
        weights.append(weights[-1] * lam / (min(n, c) * mu))
    p = np.array(weights) / sum(weights)
    n = np.arange(size)
    return float(p[c:].sum()), float((n * p).sum() / lam)  # PASTA; Little's law


def survival_by_quadrature(t: float, wait: float, theta: float, mu: float) -> float:
    """P(response > t): no wait and service > t; or wait > t; or wait w <= t, service > t - w."""
    inside, _ = integrate.quad(
        lambda w: theta * math.exp(-theta * w) * math.exp(-mu * (t - w)), 0.0, t, epsabs=1e-13
    )
    return (1.0 - wait) * math.exp(-mu * t) + wait * (math.exp(-theta * t) + inside)


def test_erlang_c_matches_the_table_value_for_three_servers_at_two_erlangs():
    # C(3, 2) = 4/9: the standard worked example (e.g. Gross and Harris, section 2.3)
    assert erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0, rel=1e-12)


@pytest.mark.parametrize("c, a", [(1, 0.5), (5, 3.5), (12, 11.0), (40, 30.0)])
def test_erlang_c_matches_factorial_sums_and_the_birth_death_chain(c, a):
    mu = 10.0
    assert erlang_c(c, a) == pytest.approx(erlang_c_by_sums(c, a), rel=1e-10)
    wait, mean_response = mmc_by_birth_death(c, a * mu, mu)
    assert erlang_c(c, a) == pytest.approx(wait, rel=1e-8)
    closed_form = erlang_c(c, a) / (c * mu - a * mu) + 1.0 / mu
    assert closed_form == pytest.approx(mean_response, rel=1e-8)


def test_erlang_c_recursion_stays_finite_where_factorials_overflow():
    value = erlang_c(400, 390.0)  # 390^400 overflows a float
    assert 0.0 < value < 1.0


@pytest.mark.parametrize(
    "c, a, q", [(5, 3.5, 0.95), (3, 2.0, 0.99), (20, 19.0, 0.5), (4, 3.0, 0.95)]
)
def test_response_quantile_solves_the_independent_survival_function(c, a, q):
    mu = 10.0
    wait, theta = erlang_c(c, a), c * mu - a * mu
    t = mmc_response_quantile(q, wait, theta, mu)
    assert survival_by_quadrature(t, wait, theta, mu) == pytest.approx(1.0 - q, rel=1e-7)
    for s in (0.01, 0.1, 0.5):
        assert mmc_response_survival(s, wait, theta, mu) == pytest.approx(
            survival_by_quadrature(s, wait, theta, mu), rel=1e-9
        )


def test_response_quantile_is_scale_free_over_nine_decades():
    # both Newton iterations stop on steps relative to t, so the unit of time (rates in
    # 1/s or 1/ms, slow or fast servers) moves the quantile by exactly that unit
    cases = [(0.95, 0.3, 0.5), (0.99, 0.9, 1.0 + 1e-9), (0.5, 1e-6, 40.0), (0.999999, 1.0, 1e-4)]
    for quantile, wait, theta_over_mu in cases:
        base = mmc_response_quantile(quantile, wait, theta_over_mu, 1.0)
        for unit in (1e-4, 1e-1, 1e2, 1e5):
            theta = unit * theta_over_mu
            scalar = mmc_response_quantile(quantile, wait, theta, unit)
            batched = mmc_response_quantile_array(
                quantile, np.array([wait]), np.array([theta]), unit
            )
            assert unit * scalar == pytest.approx(base, rel=1e-12)
            assert unit * batched[0] == pytest.approx(base, rel=1e-10)


def test_survival_is_continuous_where_the_wait_rate_equals_the_service_rate():
    # theta == mu (c mu - lambda = mu) is the hypoexponential's removable singularity
    mu, wait = 10.0, 0.3
    at = mmc_response_survival(0.2, wait, mu, mu)
    near = mmc_response_survival(0.2, wait, mu * (1 + 1e-7), mu)
    assert at == pytest.approx(near, rel=1e-6)
    assert at == pytest.approx(survival_by_quadrature(0.2, wait, mu, mu), rel=1e-9)


# ---------------------------------------------------------------------------- the env


def constant_trace(tmp_path, requests_per_minute: float, rows: int = 200) -> str:
    path = tmp_path / "constant.csv"
    lines = ["timestamp,value"] + [
        f"2024-01-01T{m // 60:02d}:{m % 60:02d},{requests_per_minute}" for m in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_constant_load_and_fixed_fleet_report_the_erlang_c_latency(tmp_path):
    c, lam, mu = 5, 350.0, 100.0
    env = AutoscalingEnv(
        workload=constant_trace(tmp_path, lam * 60.0),
        trace_scale=1.0,
        initial_instances=c,
        episode_steps=10,
        window=2,
    )
    env.reset(seed=0)
    wait = erlang_c_by_sums(c, lam / mu)
    theta = c * mu - lam
    p95 = optimize.brentq(
        lambda t: survival_by_quadrature(t, wait, theta, mu) - 0.05, 1e-6, 1.0, xtol=1e-14
    )
    for _ in range(10):
        _, reward, _, _, info = env.step(HOLD)
        assert info["running"] == c and info["dropped"] == 0.0
        assert info["mean_latency_ms"] == pytest.approx(
            1000.0 * (wait / theta + 1.0 / mu), rel=1e-10
        )
        assert info["latency_ms"] == pytest.approx(1000.0 * p95, rel=1e-7)
        assert info["violated"] == (p95 > env.config.latency_target)
        assert info["utilization"] == pytest.approx(lam / (c * mu))
    assert info["episode_metrics"]["dropped_fraction"] == 0.0


def test_load_above_capacity_is_dropped_and_violates_the_sla(tmp_path):
    env = AutoscalingEnv(
        workload=constant_trace(tmp_path, 60_000.0),  # 1000 requests/s
        trace_scale=1.0,
        initial_instances=5,
        episode_steps=3,
        window=1,
    )
    env.reset(seed=0)
    _, reward, _, _, info = env.step(HOLD)
    admitted = 0.98 * 5 * 100.0
    assert info["dropped"] == pytest.approx((1000.0 - admitted) * 60.0)
    assert info["violated"] and info["utilization"] == pytest.approx(0.98)
    cost = 5 * 0.10 / 60.0
    assert reward == pytest.approx(-(cost + 0.05 + 0.01 * info["dropped"] / 1000.0))


def test_a_launched_instance_is_billed_at_once_and_serves_after_the_boot_delay(tmp_path):
    env = AutoscalingEnv(
        workload=constant_trace(tmp_path, 6000.0),
        trace_scale=1.0,
        initial_instances=2,
        boot_steps=3,
        episode_steps=10,
        window=1,
    )
    env.reset(seed=0)
    infos = [env.step(HOLD + 1)[4]] + [env.step(HOLD)[4] for _ in range(4)]
    assert [i["running"] for i in infos] == [2, 2, 2, 3, 3]
    assert [i["booting"] for i in infos] == [1, 1, 1, 0, 0]
    assert infos[0]["cost_usd"] == pytest.approx(3 * 0.10 / 60.0)


def test_fleet_cancels_the_newest_booting_instances_first_and_keeps_its_bounds():
    fleet = Fleet(min_instances=1, max_instances=6, boot_steps=2, cooldown_steps=0)
    fleet.reset(2)
    assert fleet.scale(1) == 1 and fleet.booting == [0, 1]
    fleet.advance()
    assert fleet.scale(2) == 2 and fleet.booting == [1, 2]
    assert fleet.scale(-2) == -2 and fleet.booting == [1, 0] and fleet.running == 2
    assert fleet.scale(-5) == -2 and fleet.booting == [0, 0] and fleet.running == 1
    assert fleet.scale(9) == 5 and fleet.total == 6


def test_cooldown_ignores_actions_for_its_length():
    fleet = Fleet(min_instances=1, max_instances=10, boot_steps=0, cooldown_steps=2)
    fleet.reset(3)
    assert [fleet.scale(1) for _ in range(5)] == [1, 0, 0, 1, 0]
    assert fleet.running == 5


def test_booting_instances_are_free_when_not_billed(tmp_path):
    env = AutoscalingEnv(
        workload=constant_trace(tmp_path, 6000.0),
        trace_scale=1.0,
        initial_instances=2,
        bill_booting=False,
        episode_steps=5,
        window=1,
    )
    env.reset(seed=0)
    assert env.step(HOLD + 2)[4]["cost_usd"] == pytest.approx(2 * 0.10 / 60.0)


def test_observations_report_fleet_time_and_recent_load(tmp_path):
    env = AutoscalingEnv(
        workload=constant_trace(tmp_path, 6000.0, rows=8),  # one window: 3 + 5 steps
        trace_scale=1.0,
        initial_instances=4,
        episode_steps=5,
        window=3,
    )
    observation, _ = env.reset(seed=0)
    fields = env.observation_fields()
    assert observation[fields["running"]] == pytest.approx(4 / 20)
    assert env.unsquash_rate(float(observation[fields["load"]])) == pytest.approx(100.0, rel=1e-6)
    # the trace starts Monday 2024-01-01 00:00; the window needs 3 steps first
    angle = 2 * math.pi * 3 * 60 / 86_400
    assert observation[fields["day_sin"]] == pytest.approx(math.sin(angle), abs=1e-6)
    assert observation[fields["week_cos"]] == pytest.approx(math.cos(angle / 7), abs=1e-6)


# ---------------------------------------------------------------------------- optimum


TINY = dict(
    episode_steps=5,
    max_step_change=1,
    min_instances=1,
    max_instances=4,
    capacity_per_instance=100.0,
    peak_rate=350.0,
    noise=0.4,
    flash_crowd_rate=0.0,
)


@pytest.mark.parametrize(
    "config",
    [
        dict(TINY, boot_steps=2, cooldown_steps=1),
        dict(TINY, boot_steps=1, cooldown_steps=0, bill_booting=False, max_step_change=2),
        dict(TINY, boot_steps=0, cooldown_steps=2, initial_instances=1),
        dict(TINY, boot_steps=3, cooldown_steps=1, episode_steps=7, initial_instances=1),
        dict(TINY, boot_steps=2, cooldown_steps=3, max_step_change=2, noise=0.8),
        dict(TINY, boot_steps=1, cooldown_steps=0, episode_steps=7, drift="level"),
    ],
)
def test_dynamic_program_equals_exhaustive_search_on_short_horizons(config):
    env = AutoscalingEnv(**config)
    for seed in range(3):
        env.reset(seed=seed)
        plan = optimal_plan(env)
        best = math.inf
        for actions in itertools.product(
            range(env.action_space.n), repeat=env.config.episode_steps
        ):
            env.reset(seed=seed)
            best = min(best, -sum(env.step(a)[1] for a in actions))
        assert plan.cost == pytest.approx(best, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "config",
    [
        dict(episode_steps=480),
        dict(episode_steps=480, workload="nasa", boot_steps=10),
        dict(episode_steps=480, drift="level", cooldown_steps=2),
    ],
)
def test_optimum_is_never_worse_than_any_heuristic(config):
    env = gym.make("opsgym/Autoscaling-v0", **config)
    for seed in range(3):
        costs = {
            name: -run_episode(env, make_policy(env, name, seed=seed), seed).episode_return
            for name in policy_names(env)
        }
        env.reset(seed=seed)
        assert costs["oracle"] == pytest.approx(optimal_plan(env.unwrapped).cost, rel=1e-9)
        for name, cost in costs.items():
            assert costs["oracle"] <= cost + 1e-9, (seed, name, costs)


def test_an_oracle_too_large_to_plan_refuses_to_be_built():
    env = gym.make("opsgym/Autoscaling-v0", episode_steps=100_000, boot_steps=60, max_instances=50)
    with pytest.raises(ValueError, match="oracle's table"):
        make_policy(env, "oracle")
    assert "oracle" not in policy_names(env) and "hpa" in policy_names(env)


# ---------------------------------------------------------------------------- heuristics


def hpa_observation(env: AutoscalingEnv, running: int, booting: int, utilization: float):
    observation = np.zeros(env.observation_space.shape, dtype=np.float32)
    fields = env.observation_fields()
    observation[fields["running"]] = running / env.config.max_instances
    observation[fields["booting"]] = booting / env.config.max_instances
    observation[fields["utilization"]] = utilization
    return observation


def test_hpa_follows_the_kubernetes_formula_by_hand():
    env = AutoscalingEnv()
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 4 running at 90%: desired = ceil(4 * 0.9 / 0.7) = 6, so +2
    assert hpa.act(hpa_observation(env, 4, 0, 0.9)) == HOLD + 2
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 10 at 75%: ratio 1.07 is within the 0.1 tolerance: hold
    assert hpa.act(hpa_observation(env, 10, 0, 0.75)) == HOLD
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 4 running at 90% and 2 booting: a scale-up, so the booting count at 0%:
    # ratio 3.6 / (6 * 0.7) = 0.86 < 1: hold
    assert hpa.act(hpa_observation(env, 4, 2, 0.9)) == HOLD
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 4 running at 100% and 2 booting: ratio 4 / 4.2 = 0.95 is within tolerance: hold
    assert hpa.act(hpa_observation(env, 4, 2, 1.0)) == HOLD
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.5)
    # 4 running at 100% and 2 booting: ratio 4 / 3 = 1.33: desire ceil(1.33 * 6) = 8, +2
    assert hpa.act(hpa_observation(env, 4, 2, 1.0)) == HOLD + 2
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 4 running at 65% and 2 booting: a scale-down judged on the ready ones, 0.93: hold
    assert hpa.act(hpa_observation(env, 4, 2, 0.65)) == HOLD
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    # 4 running at 30%: desire ceil(0.43 * 4) = 2 of 6, a change of -4 clipped to -2
    assert hpa.act(hpa_observation(env, 4, 2, 0.3)) == HOLD - 2


def test_hpa_waits_out_its_scale_down_stabilization_window():
    env = AutoscalingEnv()  # one-minute steps: the 300 s window is 5 recommendations
    hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
    assert hpa.act(hpa_observation(env, 10, 0, 0.7)) == HOLD  # recommends 10
    # load halves: each step recommends ceil(10 * 0.3 / 0.7) = 5, but 10 is in the window
    actions = [hpa.act(hpa_observation(env, 10, 0, 0.3)) for _ in range(5)]
    assert actions == [HOLD, HOLD, HOLD, HOLD, HOLD - 2]


def test_static_peak_provisions_for_the_configured_peak():
    env = gym.make("opsgym/Autoscaling-v0", peak_rate=1000.0)
    episode = run_episode(env, make_policy(env, "static_peak"), seed=1)
    # ceil(1000 / (0.9 * 100)) = 12, reached within a few steps of any start
    assert episode.metrics["mean_instances"] == pytest.approx(12.0, abs=0.1)


def _gap(boot_steps: int, seeds: range) -> float:
    """Mean cost of HPA minus that of the predictive rule on smooth seasonal load."""
    env = gym.make("opsgym/Autoscaling-v0", boot_steps=boot_steps, noise=0.0, flash_crowd_rate=0.0)
    gap = 0.0
    for seed in seeds:
        hpa = HorizontalPodAutoscaler(env, target_utilization=0.7)
        predictive = HoltPredictive(env, target_utilization=0.7)
        gap += run_episode(env, predictive, seed).episode_return
        gap -= run_episode(env, hpa, seed).episode_return
    return gap / len(seeds)


def test_forecasting_beats_reacting_with_a_boot_delay_and_the_gap_shrinks_without():
    seeds = range(6)
    with_delay, without_delay = _gap(10, seeds), _gap(0, seeds)
    assert with_delay > 0.0
    assert without_delay < with_delay


def test_seasonal_rule_falls_back_to_holt_then_gains_from_what_it_remembers():
    env = gym.make("opsgym/Autoscaling-v0", boot_steps=10, noise=0.0, flash_crowd_rate=0.0)
    seasonal = SeasonalPredictive(env)
    first = run_episode(env, seasonal, 0).episode_return
    assert first == run_episode(env, HoltPredictive(env), 0).episode_return  # nothing seen yet
    assert run_episode(env, seasonal, 0).episode_return > first  # the same day, remembered


# ---------------------------------------------------------------------------- workloads


def test_weekly_profile_has_its_peak_weekends_and_lunch():
    shape = SeasonalShape()
    hours = np.array([3.0, 11.5, 12.5, 13.75])
    monday = weekly_profile(shape, hours * 3600.0)
    saturday = weekly_profile(shape, (5 * 24 + hours) * 3600.0)
    week = weekly_profile(shape, np.arange(0, 7 * 86_400, 60.0))
    assert week.max() == pytest.approx(1.0, abs=1e-4)
    assert saturday[0] / monday[0] == pytest.approx(shape.weekend_factor, rel=1e-3)
    assert monday[2] > monday[1] and monday[2] > monday[3]  # the lunch bump at 12:30
    assert week[5 * 1440 :].max() < week[: 5 * 1440].max()


def test_log_noise_has_mean_one_and_the_stated_correlation():
    flat = {"daily_trough": 1.0, "business_boost": 0.0, "lunch_peak": 0.0, "weekend_factor": 1.0}
    noise = _rates(_workload("none", **flat, noise=0.3, episode_steps=300_000, peak_rate=1.0), 0)
    assert noise.mean() == pytest.approx(1.0, abs=0.01)
    logs = np.log(noise)
    assert logs.std() == pytest.approx(0.3, rel=0.03)
    assert np.corrcoef(logs[:-1], logs[1:])[0, 1] == pytest.approx(math.exp(-0.1), abs=0.01)


def _workload(drift: str, **overrides) -> EpisodeWorkload:
    """A day of minutes, 15 of history, peak 1000/s; synthetic load without noise or crowds."""
    synthetic = overrides.get("workload", "synthetic") == "synthetic"
    quiet = {"noise": 0.0, "flash_crowd_rate": 0.0} if synthetic else {}
    args = {"peak_rate": 1000.0, "drift": drift, **quiet, **overrides}
    return EpisodeWorkload(AutoscalingConfig(**args))


def _rates(workload: EpisodeWorkload, seed: int) -> np.ndarray:
    """Every rate of an episode drawn with ``seed``, history first."""
    episode = workload.start(np.random.default_rng(seed))
    return np.array(episode.extend(episode.length))


def test_rates_do_not_depend_on_when_they_are_generated():
    workload = _workload("level", noise=0.3, flash_crowd_rate=5.0)
    at_once = _rates(workload, 9)
    episode = workload.start(np.random.default_rng(9))
    for count in range(1, episode.length + 1, 7):
        episode.extend(count)
    assert np.array_equal(np.array(episode.extend(episode.length)), at_once)


def test_level_drift_multiplies_the_load_from_one_step_in_the_middle_half_on():
    base = _rates(_workload("none"), 4)
    drifted = _rates(_workload("level"), 4)
    ratio = drifted / base
    changed = np.flatnonzero(ratio != 1.0)
    assert ratio[changed] == pytest.approx(1.5)
    assert changed[0] - 15 in range(360, 1080) and changed[-1] == len(base) - 1
    assert len(changed) == len(base) - changed[0]


def test_shape_drift_delays_the_daily_pattern():
    base = _rates(_workload("none"), 4)
    drifted = _rates(_workload("shape"), 4)
    changed = np.flatnonzero(drifted != base)
    at = changed[0]
    assert drifted[at:] == pytest.approx(
        _rates(_workload("none", window=15 + 180), 4)[at : at + len(base) - at]
    )


def test_a_sites_time_zone_shifts_its_load_against_the_clock():
    # Singapore (UTC+8) peaks at 14:00 local, 06:00 on the shared UTC clock
    utc = gym.make("opsgym/Autoscaling-v0", noise=0.0, flash_crowd_rate=0.0).unwrapped
    east = gym.make(
        "opsgym/Autoscaling-v0", noise=0.0, flash_crowd_rate=0.0, utc_offset_hours=8.0
    ).unwrapped
    minutes = np.arange(len(utc.workload.profile))
    expected = weekly_profile(SeasonalShape(), (minutes + 8 * 60) * 60.0) * 1200.0
    assert east.workload.profile == pytest.approx(expected)
    assert east.workload.profile == pytest.approx(np.roll(utc.workload.profile, -8 * 60))
    utc_peak_hour = int(np.argmax(utc.workload.profile[: 24 * 60])) // 60
    east_peak_hour = int(np.argmax(east.workload.profile[: 24 * 60])) // 60
    assert east_peak_hour == (utc_peak_hour - 8) % 24
    with pytest.raises(ValueError, match="utc_offset_hours"):
        gym.make("opsgym/Autoscaling-v0", utc_offset_hours=15.0)


def test_flash_crowds_only_add_load():
    calm = _rates(_workload("none"), 1)
    crowded = _rates(_workload("none", flash_crowd_rate=20.0), 1)
    assert np.all(crowded >= calm * (1 - 1e-12)) and crowded.max() > 1.2 * calm.max()


# ---------------------------------------------------------------------------- traces


def test_nasa_trace_is_the_documented_two_months_with_its_gaps():
    trace = load_trace("nasa", 60.0)
    assert len(trace.rates) == 89_280
    assert int(trace.missing.sum()) == 7_212
    # 3,461,610 requests in all, of which 10 fall in minutes marked missing (gap edges)
    assert trace.rates[~trace.missing].sum() * 60.0 == pytest.approx(3_461_600)
    assert trace.start_seconds == 5 * 86_400  # 1995-07-01 was a Saturday


NYC_TAXI = Path(__file__).resolve().parents[1] / "envs" / "data" / "nyc_taxi.csv"  # shipped


def test_any_timestamp_value_csv_replays_with_its_scale_factor():
    # NAB's NYC taxi passengers per 30 minutes: each row is held over 30 one-minute steps
    trace = load_trace(str(NYC_TAXI), 60.0)
    assert len(trace.rates) == 10_320 * 30 and not trace.missing.any()
    assert trace.rates[0] == pytest.approx(10_844 / 1800.0)  # the first row, per second
    env = AutoscalingEnv(workload=str(NYC_TAXI), trace_scale=2.0, episode_steps=60, window=5)
    env.reset(seed=0)
    load = np.array(env.episode_load()) / 2.0
    assert np.isin(np.round(load * 1800.0, 6), np.round(trace.rates * 1800.0, 6)).all()


def test_trace_windows_never_cover_a_log_gap():
    workload = _workload("none", workload="nasa")
    missing = load_trace("nasa", 60.0).missing
    gaps = np.concatenate(([0], np.cumsum(missing)))
    starts = np.arange(15, len(missing) - 1440 + 1)
    clean = starts[gaps[starts + 1440] == gaps[starts - 15]]
    assert np.array_equal(workload.starts, clean)
    rng = np.random.default_rng(0)
    for _ in range(50):
        load = np.array(workload.start(rng).extend(10_000))
        assert load.min() >= 0.0 and load.max() > 0.0


def test_gappy_trace_without_a_long_enough_window_is_refused(tmp_path):
    path = tmp_path / "gappy.csv"
    path.write_text("t,v\n2024-01-01T00:00,5\n2024-01-01T00:01,5\n2024-01-01T00:09,5\n")
    with pytest.raises(ValueError, match="episode_steps.*gap-free window"):
        AutoscalingEnv(workload=str(path), episode_steps=5, window=1)


def test_timestamp_jumps_and_missing_flags_become_missing_steps_not_zero_load():
    text = (
        "time,requests,missing\n"
        "2024-01-01T00:00,60,0\n"
        "2024-01-01T00:01,120,0\n"
        "2024-01-01T00:02,0,1\n"
        "2024-01-01T00:05,180,0\n"
    )
    trace = parse_trace(text, "t.csv", 60.0)
    assert trace.missing.tolist() == [False, False, True, True, True, False]
    assert trace.rates.tolist() == [1.0, 2.0, 0.0, 0.0, 0.0, 3.0]


def test_traces_are_averaged_into_longer_steps_and_held_over_shorter_ones():
    text = "t,v\n" + "".join(f"2024-01-01T00:{m:02d},{60 * m}\n" for m in range(10))
    averaged = parse_trace(text, "t.csv", 300.0)
    assert averaged.rates.tolist() == [2.0, 7.0]
    held = parse_trace(text, "t.csv", 20.0)
    assert held.rates.tolist()[:6] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="step_seconds"):
        parse_trace(text, "t.csv", 90.0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty trace"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n2024-01-01T00:00,5\n", "one data row"),
        (
            "timestamp,value\n2024-01-01T00:00,5\n2024-01-01T00:01,lots\n",
            "line 3: the value .* must be a number",
        ),
        ("timestamp,value\n2024-01-01T00:00,-5\n2024-01-01T00:01,5\n", "line 2: .* must be >= 0"),
        ("timestamp,value\n2024-01-01T00:00,nan\n2024-01-01T00:01,5\n", "line 2: .*finite"),
        ("timestamp,value\nyesterday,5\n2024-01-01T00:01,5\n", "line 2: bad timestamp"),
        (
            "timestamp,value\n2024-01-01T00:01,5\n2024-01-01T00:00,5\n",
            "line 3: .*does not increase",
        ),
        ("timestamp,value\n2024-01-01T00:00,5\n", "one data row"),
        ("timestamp,value\n2024-01-01T00:00\n", "line 2: expected timestamp,value"),
        ("t,v,missing\n2024-01-01T00:00,5,maybe\n2024-01-01T00:01,5,0\n", "line 2: missing"),
        (
            "t,v\n2024-01-01T00:00,5\n2024-01-01T00:01,5\n2024-01-01T00:02,5\n"
            "2024-01-01T00:02:30,5\n",
            "line 5: .*off the",
        ),
    ],
)
def test_bad_traces_name_the_file_and_line(text, message):
    with pytest.raises(ValueError, match=f"bad.csv.*{message}"):
        parse_trace(text, "bad.csv", 60.0)


def test_a_trace_without_load_is_refused_and_a_mostly_idle_one_scaled_by_its_peak(tmp_path):
    with pytest.raises(ValueError, match="workload: .* has no recorded load"):
        AutoscalingEnv(workload=constant_trace(tmp_path, 0.0))
    path = tmp_path / "idle.csv"
    rows = [f"2024-01-01T{m // 60:02d}:{m % 60:02d},{600 if m == 7 else 0}" for m in range(1440)]
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    env = AutoscalingEnv(workload=str(path), peak_rate=500.0, episode_steps=60)
    assert env.workload.peak_rate == pytest.approx(500.0)


def test_a_missing_trace_file_is_named():
    with pytest.raises(ValueError, match="workload: no such trace file"):
        AutoscalingEnv(workload="/no/such/trace.csv")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"peak_rate": -1.0}, "peak_rate"),
        ({"min_instances": 0}, "min_instances"),
        ({"min_instances": 5, "max_instances": 4}, "max_instances"),
        ({"initial_instances": 30}, "initial_instances"),
        ({"boot_steps": -1}, "boot_steps"),
        ({"latency_target": 0.02}, "latency_target"),
        ({"step_seconds": 7.0}, "step_seconds"),
        ({"weekend_factor": 0.0}, "weekend_factor"),
        ({"drift": "sideways"}, "drift"),
        ({"max_utilization": 1.0}, "max_utilization"),
        ({"latency_quantile": 1.0}, "latency_quantile"),
        ({"workload": ""}, "workload"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AutoscalingEnv(**kwargs)

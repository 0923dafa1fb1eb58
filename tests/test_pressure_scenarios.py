"""Drift and adversarial scenarios: the changes happen when, and as, configured."""

from __future__ import annotations

import numpy as np
import pytest

import opsgym.envs  # noqa: F401  (registers the ids)
from opsgym.baselines import make_policy
from opsgym.envs import opsgym_ids
from opsgym.envs.core import drift, request_streams
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.scenarios import scenarios
from opsgym.train.runner import make_env, run_episode

ALL_SCENARIOS = [(env_id, name) for env_id in opsgym_ids() for name in scenarios(env_id)]


@pytest.mark.parametrize(("env_id", "name"), ALL_SCENARIOS)
def test_every_scenario_constructs_and_runs(env_id, name):
    env = make_env(env_id, scenarios(env_id)[name].env_kwargs)
    env.action_space.seed(0)
    observation, _ = env.reset(seed=0)
    for _ in range(30):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(observation)
        if terminated or truncated:
            break
    env.close()


def test_ramp_fraction_is_zero_before_linear_during_and_one_after():
    steps = np.arange(10)
    assert drift.ramp_fraction(steps, 3, 0).tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert drift.ramp_fraction(steps, 3, 4).tolist() == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1]


def test_ramp_fraction_of_one_step_equals_the_array_form():
    for start, ramp in [(3, 0), (3, 4), (100, 7), (0, 1000)]:
        expected = drift.ramp_fraction(np.arange(-2, 1200), start, ramp).tolist()
        assert [drift.ramp_fraction(k, start, ramp) for k in range(-2, 1200)] == expected


def test_an_abrupt_mix_draws_nothing_and_switches_at_once():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    mixed = drift.mix(rng, np.zeros(6), np.ones(6), drift.ramp_fraction(np.arange(6), 2, 0))
    assert mixed.tolist() == [0, 0, 1, 1, 1, 1]
    assert rng.bit_generator.state == state


def test_gradual_popularity_drift_takes_the_new_ranking_with_the_ramped_probability():
    period, ramp = 1000, 1000
    ids = request_streams.drift(
        np.zeros(2 * period, dtype=np.int64), 10_000, period, 500, ramp=ramp,
        rng=np.random.default_rng(1),
    )  # fmt: skip
    assert set(ids[:period].tolist()) == {0}  # the first period has no older ranking
    new_share = (ids[period:] == 500).reshape(4, 250).mean(axis=1)
    expected = (np.arange(4) + 0.5) / 4  # the mean ramp fraction of each quarter
    assert np.all(np.diff(new_share) > 0)
    np.testing.assert_allclose(new_share, expected, atol=0.07)


@pytest.mark.parametrize("ramp", [0, 250])
def test_load_balancing_slowdown_changes_the_rate_at_the_drift_step(ramp):
    env = make_env("opsgym/LoadBalancing-v0", {"drift": "slowdown", "drift_ramp": ramp}).unwrapped
    env.reset(seed=3)
    start, backend = env._drift_step, env._drift_backend
    nominal = env.config.service_rates[backend]
    rates = []
    for _ in range(env.config.episode_length):
        env.step(0)
        rates.append(env.simulator.rates[backend])
    rates = np.array(rates)  # rates[k]: after request k was dispatched
    assert np.all(rates[:start] == nominal)
    end = start + max(ramp, 1) - 1
    assert rates[end] == nominal * env.config.drift_factor and np.all(rates[end:] == rates[end])
    if ramp:
        during = rates[start : end + 1]
        assert np.all(np.diff(during) < 0)
        np.testing.assert_allclose(during[0], nominal * (1 - 0.75 / ramp))


@pytest.mark.parametrize("ramp", [0, 360])
def test_autoscaling_level_drift_multiplies_the_load_from_the_drift_step(ramp):
    quiet = {"noise": 0.0, "flash_crowd_rate": 0.0}
    drifted = make_env(
        "opsgym/Autoscaling-v0", quiet | {"drift": "level", "drift_ramp": ramp}
    ).unwrapped
    plain = make_env("opsgym/Autoscaling-v0", quiet).unwrapped
    drifted.reset(seed=5)
    plain.reset(seed=5)
    ratio = np.array(drifted.episode_load()) / np.array(plain.episode_load())
    start = drifted._episode.drift_at - drifted.config.window  # the episode step of the change
    assert np.allclose(ratio[:start], 1.0)
    end = start + max(ramp, 1) - 1
    np.testing.assert_allclose(ratio[end:], 1.5)
    if ramp:
        assert np.all(np.diff(ratio[start : end + 1]) > 0)


def attack_extra(attack: str, seed: int = 2) -> tuple[np.ndarray, object]:
    quiet = {"noise": 0.0, "flash_crowd_rate": 0.0}
    attacked = make_env("opsgym/Autoscaling-v0", quiet | {"attack": attack}).unwrapped
    plain = make_env("opsgym/Autoscaling-v0", quiet).unwrapped
    attacked.reset(seed=seed)
    plain.reset(seed=seed)
    return np.array(attacked.episode_load()) - np.array(plain.episode_load()), attacked


def test_trough_bursts_add_half_the_peak_only_in_the_night():
    extra, env = attack_extra("trough")
    height = 0.5 * 1200.0
    assert set(np.round(extra, 6).tolist()) <= {0.0, height}
    hit = np.flatnonzero(extra > 0)
    assert hit.size >= 5  # at least one 5-step burst in a day
    seconds = env._episode.start_seconds + hit * env.config.step_seconds
    hours = (seconds % 86_400) / 3600
    assert np.all(hours < 6.0 + 5 / 60)  # bursts start before 06:00 and last 5 minutes


def test_off_period_bursts_come_every_seven_hours():
    extra, _ = attack_extra("off_period")
    starts = np.flatnonzero(np.diff((extra > 0).astype(int)) == 1) + 1
    assert len(starts) >= 2 and set(np.diff(starts).tolist()) == {7 * 60}


def test_a_moving_hot_spot_moves_the_busiest_node():
    env = make_env("opsgym/Routing-v1", {"drift": "hotspot_move", "endpoints": "uniform"}).unwrapped
    env.reset(seed=4)
    n, quarter = env.n_nodes, env.config.episode_length // 4
    env._flows.reach(env.config.episode_length - 1)  # every arriving flow, drawn now
    flows = np.array([env._flows.sources, env._flows.targets])

    def busiest(part):
        return int(np.argmax(np.bincount(part.ravel(), minlength=n)))

    assert busiest(flows[:, :quarter]) != busiest(flows[:, -quarter:])


@pytest.mark.parametrize("ramp", [0, 50])
def test_config_tuning_io_share_moves_from_the_drift_interval(ramp):
    env = make_env("opsgym/ConfigTuning-v0", {"drift_ramp": ramp}).unwrapped
    env.reset(seed=1)
    shares = np.array([env._workload(k, False)[1] for k in range(env.config.episode_length)])
    start = env._drift_at
    assert np.all(shares[:start] == 0.2)
    end = start + max(ramp, 1) - 1
    assert np.all(shares[end:] == 0.8)
    if ramp:
        assert np.all(np.diff(shares[start : end + 1]) > 0)


def test_gradual_service_swap_morphs_the_profiles_monotonically():
    env = make_env("opsgym/ServiceRouting-v0", {"drift": "swap", "drift_ramp": 100}).unwrapped
    env.reset(seed=0)
    a, b = env._drift_pair
    start, nominal = env._drift_step, env.fleet.nominal_service_ms
    trace = []
    for _ in range(start + 120):
        env.step(0)
        trace.append(env.fleet.service_ms[a][0])
    trace = np.array(trace)
    # trace[j] is the profile the request after step j meets: request start is the first
    # to meet a drifted profile, request start + 99 the fully swapped one
    assert np.all(trace[: start - 1] == nominal[a][0])
    assert trace[start + 98] == nominal[b][0] and trace[-1] == nominal[b][0]
    steps = np.diff(trace[start - 2 : start + 99])
    assert np.all(steps * np.sign(nominal[b][0] - nominal[a][0]) > 0)


def test_gradual_index_popularity_moves_linearly_towards_the_new_phase():
    env = make_env("opsgym/IndexSelection-v0", {"phase_length": 20, "drift_ramp": 10}).unwrapped
    env.reset(seed=0)
    seen = []
    for _ in range(40):
        seen.append(env.upcoming_probabilities().copy())
        env.step(env.action_space.n - 1)
    old, new = seen[19], seen[29]
    distance = [np.abs(p - new).sum() for p in seen[20:30]]
    assert np.all(np.diff(distance) < 0) and distance[-1] == 0.0
    np.testing.assert_allclose(seen[20], old + 0.1 * (new - old))


@pytest.mark.parametrize("ramp", [0, 2000])
def test_the_job_mix_shifts_to_the_configured_long_share_at_the_same_load(ramp):
    count, start, after, p = 12_000, 4000, 0.5, 0.3
    jobs = workloads.SyntheticJobs(
        workloads.draw_uniforms(np.random.default_rng(0), count, 2),
        p,
        2,
        mix_shift=(start, ramp, after),
    ).columns()
    long = np.array(jobs.durations) >= workloads.LONG_DURATION[0]
    gaps = np.diff(jobs.arrivals)
    settled = start + ramp
    assert abs(long[:start].mean() - 0.2) < 0.02 and abs(long[settled:].mean() - after) < 0.02
    # the same offered load: the mean gap grows with the mean duration
    expected_gap = workloads.mean_duration(after) / workloads.mean_duration() / p
    assert abs(gaps[settled:].mean() / expected_gap - 1) < 0.04
    assert abs(gaps[: start - 1].mean() * p - 1) < 0.04
    if ramp:
        quarters = long[start:settled].reshape(4, -1).mean(axis=1)
        np.testing.assert_allclose(quarters, 0.2 + 0.3 * (np.arange(4) + 0.5) / 4, atol=0.04)


def test_a_popularity_flood_lowers_lfus_hit_ratio():
    def lfu_hit_ratio(env_kwargs):
        env = make_env("opsgym/Caching-v0", env_kwargs)
        policy = make_policy(env, "lfu", seed=0)
        return np.mean([run_episode(env, policy, s).metrics["hit_ratio"] for s in range(2)])

    flood = scenarios("opsgym/Caching-v0")["adversary-flood"].env_kwargs
    assert lfu_hit_ratio(flood) < lfu_hit_ratio({}) - 0.03


@pytest.mark.parametrize(
    ("env_id", "kwargs", "field"),
    [
        ("opsgym/LoadBalancing-v0", {"drift_ramp": -1}, "drift_ramp"),
        ("opsgym/Caching-v0", {"drift_ramp": 5000}, "drift_ramp"),
        ("opsgym/Caching-v0", {"flood_objects": 1000, "flood_repeats": 3}, "flood_objects"),
        ("opsgym/Autoscaling-v0", {"attack": "ddos"}, "attack"),
        ("opsgym/Autoscaling-v0", {"attack_size": 0.0}, "attack_size"),
        ("opsgym/Routing-v1", {"drift": "hotspot-move"}, "drift"),
        ("opsgym/IndexSelection-v0", {"drift_ramp": 51}, "drift_ramp"),
        ("opsgym/ResourceAllocation-v0", {"long_fraction_after": 1.5}, "long_fraction_after"),
    ],
)
def test_bad_drift_arguments_name_the_field(env_id, kwargs, field):
    with pytest.raises(ValueError, match=field):
        make_env(env_id, kwargs)

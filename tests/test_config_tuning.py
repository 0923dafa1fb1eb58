"""The service model against M/M/c closed forms, the ceiling against brute force, the
tuning rules against hand traces."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
import pytest
from policy_returns import reference_returns

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy, policy_names
from opsgym.baselines.config_tuning import POOL, THREADS, move
from opsgym.envs.config_tuning import ConfigTuningEnv, best_configuration, simulator
from opsgym.envs.config_tuning.simulator import (
    TAIL,
    Config,
    RequestClass,
    ServiceModel,
    _tail_quantile,
    cache_hit_ratio,
    performance,
)
from opsgym.envs.core.queueing import erlang_b, erlang_c, mmc_mean_wait

NO_DB = RequestClass(cpu_time=0.01, db_calls=0.0)


def _cpu_only(cores: int, contention: float = 0.0) -> ServiceModel:
    return ServiceModel(cores=cores, thread_contention=contention, cpu_bound=NO_DB, io_bound=NO_DB)


# --- queueing closed forms ----------------------------------------------------------------


def test_erlang_c_matches_the_factorial_formula_and_small_cases():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    rho = 0.6
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))  # M/M/2
    c, a = 5, 3.7
    top = a**c / math.factorial(c) * c / (c - a)
    bottom = sum(a**k / math.factorial(k) for k in range(c)) + top
    assert erlang_c(c, a) == pytest.approx(top / bottom, rel=1e-12)
    assert erlang_b(c, a) == pytest.approx(
        (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
    )
    with pytest.raises(ValueError, match="offered_load"):
        erlang_c(2, 2.0)


def test_mmc_mean_wait_matches_a_simulated_fcfs_multiserver_queue():
    rng = np.random.default_rng(0)
    servers, rate, service = 3, 2.4, 1.0  # utilization 0.8
    n = 200_000
    arrivals = np.cumsum(rng.exponential(1.0 / rate, n)).tolist()
    services = rng.exponential(service, n).tolist()
    free = [0.0] * servers  # each server's next free time, a heap
    waited = 0.0
    for t, s in zip(arrivals, services):
        start = max(t, heapq.heappop(free))
        waited += start - t
        heapq.heappush(free, start + s)
    assert waited / n == pytest.approx(mmc_mean_wait(rate, service, servers), rel=0.05)


# --- the service model ----------------------------------------------------------------------


def test_one_thread_on_one_core_is_mm1_with_exponential_response():
    model, s, rate = _cpu_only(1), 0.01, 70.0
    perf = performance(model, Config(1, 1, 0.0, 1000.0), rate, 0.0)
    mu = 1.0 / s
    assert perf.mean_latency == pytest.approx(1.0 / (mu - rate))  # M/M/1: 1 / (mu - lambda)
    assert perf.p95_latency == pytest.approx(math.log(20) / (mu - rate))  # exponential tail
    assert perf.error_rate == pytest.approx(math.exp(-1000.0 * (mu - rate)))
    assert perf.thread_utilization == pytest.approx(rate * s)


def test_many_threads_without_contention_reduce_to_mmc_on_the_cores():
    model, s, rate = _cpu_only(4), 0.01, 300.0
    perf = performance(model, Config(1000, 1, 0.0, 1000.0), rate, 0.0)
    cpu = s + mmc_mean_wait(rate, s, 4)
    assert perf.mean_latency == pytest.approx(cpu, rel=1e-9)  # M/M/1000 threads never wait
    assert perf.cpu_utilization == pytest.approx(rate * s / 4)


def test_a_pool_with_a_connection_per_thread_never_queues_and_a_smaller_one_does():
    model = ServiceModel(cores=64, hang_prob=0.0, cache_max_hit_ratio=0.0)
    rate, threads = 300.0, 16
    full = performance(model, Config(threads, threads, 0.0, 1000.0), rate, 1.0)
    io = model.io_bound
    hold = io.cpu_time + io.db_calls * model.db_call_time
    assert full.mean_latency == pytest.approx(hold + mmc_mean_wait(rate, hold, threads))
    small = performance(model, Config(threads, 8, 0.0, 1000.0), rate, 1.0)
    pool_wait = mmc_mean_wait(rate * io.db_calls, model.db_call_time, 8)
    assert pool_wait > 0
    below = io.cpu_time + io.db_calls * (model.db_call_time + pool_wait)
    assert small.mean_latency == pytest.approx(below + mmc_mean_wait(rate, below, threads))


def test_threads_beyond_the_cores_add_contention():
    model = ServiceModel()
    utilizations = [
        performance(model, Config(t, 16, 256.0, 1.0), 400.0, 0.2).cpu_utilization
        for t in (7, 8, 16, 64, 200)
    ]
    assert utilizations[1] == pytest.approx(utilizations[0])  # up to the cores: no overhead
    assert utilizations[1] < utilizations[2] < utilizations[3] < utilizations[4]
    assert utilizations[4] / utilizations[1] == pytest.approx(1 + 0.002 * 192)


def test_a_small_pool_queues_database_calls_and_a_large_one_slows_the_database():
    model = ServiceModel()  # 8 database cores: contention beyond 16 connections
    runs = {
        p: performance(model, Config(32, p, 0.0, 1.0), 600.0, 0.8) for p in (10, 12, 14, 16, 24)
    }
    assert runs[12].mean_latency > runs[14].mean_latency > runs[16].mean_latency
    assert runs[24].mean_latency > runs[16].mean_latency
    assert runs[10].pool_utilization > 0.95  # saturated: waits pile up, threads shed load
    assert runs[10].thread_utilization == pytest.approx(0.98)
    assert runs[10].error_rate > 0.05 > 0.001 > runs[12].error_rate


def test_a_short_timeout_turns_slow_calls_into_errors_and_a_long_one_ties_up_threads():
    model = ServiceModel()
    runs = [
        performance(model, Config(64, 32, 256.0, t), 600.0, 0.8)
        for t in (0.02, 0.05, 0.1, 1.0, 60.0)
    ]
    errors = [r.error_rate for r in runs]
    assert errors == sorted(errors, reverse=True)
    assert errors[0] > 0.2 and errors[-1] < 1e-6  # past the hang time, hung calls finish
    # a hung call holds its thread until the timeout cuts it off
    assert runs[4].thread_utilization > 2 * runs[3].thread_utilization


def test_overload_is_shed_as_errors_and_utilization_stays_below_one():
    model = _cpu_only(2)
    perf = performance(model, Config(2, 1, 0.0, 1000.0), 1000.0, 0.0)  # capacity 200/s
    assert perf.error_rate == pytest.approx(1 - 0.98 * 200 / 1000, rel=1e-6)
    assert perf.thread_utilization == pytest.approx(0.98)
    assert perf.throughput == pytest.approx(1000.0 * (1 - perf.error_rate))


def test_tail_quantile_solves_the_mixture_survival_function():
    assert _tail_quantile(0.02, 0.0, 10.0) == pytest.approx(0.02 * math.log(20))
    assert _tail_quantile(0.02, 0.2, 3.0) == 3.0  # hung requests fill the top 5 %
    for p, hung in ((0.01, 3.0), (0.01, 0.05), (0.04, 0.5)):
        t = _tail_quantile(0.02, p, hung)
        survival = (1 - p) * math.exp(-t / 0.02) + (p if t < hung else 0.0)
        assert survival == pytest.approx(TAIL) or t == hung


def test_cache_hit_ratio_saturates():
    model = ServiceModel()
    assert cache_hit_ratio(model, 0.0) == 0.0
    assert cache_hit_ratio(model, 512.0) == pytest.approx(0.8 * (1 - math.exp(-1)))
    assert cache_hit_ratio(model, 1e6) == pytest.approx(0.8)


def test_overload_bisection_is_as_close_as_halving_to_the_last_float(monkeypatch):
    # under thread overload the carried rate is bisected BISECTION_STEPS times; halving
    # until low and high are adjacent floats gives the boundary itself
    env = ConfigTuningEnv()
    rng = np.random.default_rng(0)
    bisected = 0
    for _ in range(600):
        indices = [int(rng.integers(len(options))) for options in env.config.knob_options]
        config, rate, io_share = env.config.config_at(indices), rng.uniform(50, 5000), rng.uniform()
        fast = performance(env.model, config, rate, io_share)
        with monkeypatch.context() as patched:
            patched.setattr(simulator, "BISECTION_STEPS", 100)
            exact = performance(env.model, config, rate, io_share)
        if fast == exact:
            continue
        bisected += 1
        # cpu utilization is the carried rate times a constant
        assert fast.cpu_utilization == pytest.approx(exact.cpu_utilization, rel=1e-8)
        # the waits near the utilization cap amplify it, to about 1e-6
        for field in ("p95_latency", "mean_latency", "error_rate", "throughput"):
            assert getattr(fast, field) == pytest.approx(getattr(exact, field), rel=3e-6)
    assert bisected > 100


# --- the ceiling ----------------------------------------------------------------------------


def test_exhaustive_ceiling_matches_brute_force_on_a_tiny_grid():
    grids = {
        "thread_options": [8, 32],
        "pool_options": [4, 16],
        "cache_options_mb": [0.0, 1024.0],
        "timeout_options_ms": [100.0, 30000.0],
    }
    env = ConfigTuningEnv(**grids, initial_config=[32, 4, 0.0, 30000.0])
    model, target = ServiceModel(), 0.05
    for rate, io_share in ((600.0, 0.2), (600.0, 0.8), (780.0, 0.8)):
        costs = {}
        for t, p, c, timeout in itertools.product(*grids.values()):
            perf = performance(model, Config(t, p, c, timeout / 1000), rate, io_share)
            over = max(0.0, perf.p95_latency - target) / target
            costs[(t, p, c, timeout)] = over + 20 * perf.error_rate + 0.05 * perf.memory_gb
        expected = min(costs, key=costs.get)
        found = best_configuration(env, rate, io_share)
        assert tuple(env.config.knob_options[k][i] for k, i in enumerate(found)) == expected


def test_oracle_refuses_a_grid_too_large_to_search():
    fine = ConfigTuningEnv(
        thread_options=list(range(1, 201)),
        pool_options=list(range(1, 33)),
        initial_config=[200, 10, 256.0, 30000.0],
    )
    assert "oracle" not in policy_names(fine)
    with pytest.raises(ValueError, match="knob grids"):
        make_policy(fine, "oracle")


def test_the_io_shift_moves_the_optimum_and_a_setting_tuned_once_decays():
    env = ConfigTuningEnv()
    before = best_configuration(env, 600.0, 0.2)
    after = best_configuration(env, 600.0, 0.8)
    assert before != after

    def cost(indices):
        perf = env.model_performance(indices, 600.0, 0.8)
        return env.config.interval_cost(perf.p95_latency, perf.error_rate, perf.memory_gb)

    assert cost(before) > 1.5 * cost(after)


def test_oracle_beats_every_heuristic_and_hill_climbing_beats_the_defaults():
    returns = reference_returns("opsgym/ConfigTuning-v0", {"episode_length": 120})
    for name, value in returns.items():
        assert returns["oracle"] >= value, name
    assert returns["hill_climbing"] > returns["shipped_defaults"]
    assert returns["rule_of_thumb"] > returns["shipped_defaults"]


# --- the tuning rules -----------------------------------------------------------------------


def test_rule_of_thumb_follows_goetz_and_hikaricp_one_notch_at_a_time():
    env = ConfigTuningEnv(drift="none", io_share=0.2, burst_prob=0.0)
    policy = make_policy(env, "rule_of_thumb")
    assert policy.thread_count(0.2) == pytest.approx(8 * (1 + 1.8 * 0.004 / 0.0084))
    assert policy.thread_count(0.8) == pytest.approx(8 * (1 + 4.2 * 0.004 / 0.0036))
    observation, _ = env.reset(seed=0)
    actions = []
    for _ in range(7):
        actions.append(policy.act(observation))
        observation, *_ = env.step(actions[-1])
    down, up = move(THREADS, False), move(POOL, True)
    # 200 -> 128 -> 64 -> 32 -> 16 threads (Goetz: 14.9), then 10 -> 16 connections (2 x 8 + 1)
    assert actions == [down, down, down, down, up, 0, 0]
    assert env.config_values()["threads"] == 16 and env.config_values()["pool"] == 16


def _observation_with_cost(env: ConfigTuningEnv, positions, p95: float) -> np.ndarray:
    observation = np.zeros(12, dtype=np.float32)
    observation[:4] = [i / (len(g) - 1) for i, g in zip(positions, env.config.knob_options)]
    observation[4] = p95 / (p95 + env.config.latency_target)
    return observation


def test_hill_climbing_keeps_improving_moves_and_undoes_the_others():
    env = ConfigTuningEnv()
    climber = make_policy(env, "hill_climbing")
    at = [6, 3, 2, 6]  # the shipped defaults: threads already at the top of the grid
    assert climber.act(_observation_with_cost(env, at, 0.30)) == move(THREADS, False)
    at[0] = 5
    assert climber.act(_observation_with_cost(env, at, 0.20)) == move(THREADS, False)  # better
    at[0] = 4
    assert climber.act(_observation_with_cost(env, at, 0.25)) == move(THREADS, True)  # worse
    at[0] = 5
    assert climber.act(_observation_with_cost(env, at, 0.20)) == move(POOL, True)  # next probe


# --- the environment ------------------------------------------------------------------------


def test_moves_past_a_grid_end_leave_the_knob_and_hold_changes_nothing():
    env = ConfigTuningEnv()
    env.reset(seed=0)
    start = env.config_values()
    env.step(move(THREADS, True))  # already at 200, the top
    env.step(0)
    assert env.config_values() == start
    env.step(move(POOL, False))
    assert env.config_values()["pool"] == 6


def test_drift_and_bursts_shape_the_workload():
    env = ConfigTuningEnv(episode_length=200, burst_prob=0.0)
    env.reset(seed=3)
    assert 51 <= env._drift_at <= 151
    shares = []
    for _ in range(200):
        shares.append(env.upcoming_workload()[1])
        env.step(0)
    assert shares.count(0.2) == env._drift_at - 1 and set(shares) == {0.2, 0.8}
    bursty = ConfigTuningEnv(burst_prob=1.0, burst_factor=1.5, drift="none")
    bursty.reset(seed=0)
    assert bursty.upcoming_workload() == (900.0, 0.2)


def test_episode_metrics_are_means_of_the_step_infos():
    env = ConfigTuningEnv(episode_length=30)
    env.reset(seed=1)
    infos = [env.step(k % 9)[4] for k in range(30)]
    metrics = infos[-1]["episode_metrics"]
    assert metrics["p95_latency_ms"] == pytest.approx(np.mean([i["p95_latency_ms"] for i in infos]))
    assert metrics["error_rate"] == pytest.approx(np.mean([i["error_rate"] for i in infos]))
    assert metrics["memory_gb"] == pytest.approx(np.mean([i["memory_gb"] for i in infos]))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cores": 0}, "cores"),
        ({"request_rate": 0.0}, "request_rate"),
        ({"io_share": 1.5}, "io_share"),
        ({"drift": "sometimes"}, "drift"),
        ({"burst_factor": 0.5}, "burst_factor"),
        ({"thread_options": [8, 4]}, "thread_options"),
        ({"pool_options": []}, "pool_options"),
        ({"cache_options_mb": [-1.0, 0.0]}, "cache_options_mb"),
        ({"timeout_options_ms": [0.0, 100.0]}, "timeout_options_ms"),
        ({"initial_config": [100, 10, 256.0, 30000.0]}, "initial_config"),
        ({"initial_config": [200, 10]}, "initial_config"),
        ({"episode_length": 0}, "episode_length"),
        ({"latency_target_ms": 0.0}, "latency_target_ms"),
        ({"error_weight": -1.0}, "error_weight"),
    ],
)
def test_bad_configuration_names_the_argument(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ConfigTuningEnv(**kwargs)

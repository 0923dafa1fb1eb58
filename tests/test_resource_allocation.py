"""The science of ResourceAllocation: exact accounting, hand traces, heuristic orderings."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

from opsgym.baselines import make_policy
from opsgym.envs import make_kwargs
from opsgym.envs.core.data_files import DataFileError
from opsgym.envs.resource_allocation import (
    ClusterSimulator,
    JobSequence,
    episode_slowdown_bound,
    workloads,
)
from opsgym.envs.resource_allocation.oracle import pair_penalty
from opsgym.envs.scenarios import scenarios

ENV_ID = "opsgym/ResourceAllocation-v0"


def write_trace(tmp_path, rows, header="arrival,duration,cpu,memory"):
    path = tmp_path / "jobs.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def run_episode(env, policy, seed):
    """Run one episode; return the rewards and the last info."""
    observation, info = env.reset(seed=seed)
    rewards = []
    while True:
        observation, reward, terminated, truncated, info = env.step(policy.act(observation))
        rewards.append(reward)
        if terminated or truncated:
            return rewards, info


def mean_metric(policy_name, metric, seeds, **config):
    env = gym.make(ENV_ID, **config)
    policy = make_policy(env, policy_name, seed=0)
    return np.mean([run_episode(env, policy, s)[1]["episode_metrics"][metric] for s in seeds])


# ---------------------------------------------------------------------------------------
# The simulator on a hand-computed trace
# ---------------------------------------------------------------------------------------


def test_simulator_hand_trace_slowdowns_and_rewards():
    # One resource of 10 units. A (6 units, 2 steps) and B (5 units, 1 step) arrive at 0,
    # C (4 units, 1 step) at 1. A starts at 0; B does not fit beside A; C starts at 1;
    # B starts at 2 when A has left. Slowdowns: A 2/2, C 1/1, B 3/1.
    sim = ClusterSimulator((10,), horizon=5)
    sim.reset(JobSequence([0, 0, 1], [2, 1, 1], [6, 5, 4], 1))
    sim.place(0)
    assert sim.occupancy[0] == [6, 6, 0, 0, 0]
    assert not sim.fits(sim.waiting[0])
    assert sim.advance() == pytest.approx(1 / 2 + 1)
    assert [job.index for job in sim.waiting] == [1, 2]
    sim.place(1)  # C
    assert sim.occupancy[0] == [10, 0, 0, 0, 0]
    assert sim.advance() == pytest.approx(1 / 2 + 1 + 1)
    assert sorted(job.index for job in sim.finished) == [0, 2]
    sim.place(0)  # B
    assert sim.advance() == pytest.approx(1)
    assert sim.done
    slowdowns = {job.index: job.slowdown for job in sim.finished}
    assert slowdowns == {0: 1.0, 1: 3.0, 2: 1.0}
    assert sim.busy_units == [6 * 2 + 4 + 5]


def test_simulator_refuses_a_job_that_does_not_fit_or_an_empty_position():
    sim = ClusterSimulator((10, 10), horizon=5)
    sim.reset(JobSequence([0, 0], [1, 1], [8, 1, 1, 3], 2))
    sim.place(0)
    sim.place(0)
    with pytest.raises(ValueError, match="position 0"):
        sim.place(0)
    sim.reset(JobSequence([0, 0], [1, 1], [8, 1, 3, 1], 2))
    sim.place(0)
    with pytest.raises(ValueError, match="does not fit"):
        sim.place(0)


# ---------------------------------------------------------------------------------------
# The heuristics on a hand-computed trace
# ---------------------------------------------------------------------------------------

# At step 0: J0 (6 CPU, 1 memory, 10 steps), J1 (6, 1, 1 step), J2 (3, 3, 2 steps).
HAND_ROWS = ["0,10,6,1", "0,1,6,1", "0,2,3,3"]

# The actions each rule takes at step 0, and its mean slowdown, worked by hand:
# first-fit FIFO starts J0 then J2 (J1 no longer fits); J1 waits until J0 leaves at 10:
#   slowdowns 1, 11, 1. SJF starts J1 then J2 (J0 no longer fits); J0 starts at 1 when J1
#   leaves: 1.1, 1, 1. Packer: alignments J0 = J1 = 0.7 > J2 = 0.6, the older J0 wins, as
#   FIFO. Tetris: 0.5 * alignment / 2 + 0.5 / duration = 0.225, 0.675, 0.4: J1, as SJF.
HAND_CASES = {
    "first_fit_fifo": ([0, 1, 5], (1 + 11 + 1) / 3),
    "sjf": ([1, 1, 5], (1.1 + 1 + 1) / 3),
    "packer": ([0, 1, 5], (1 + 11 + 1) / 3),
    "tetris": ([1, 1, 5], (1.1 + 1 + 1) / 3),
}


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_heuristics_on_a_hand_computed_trace(tmp_path, name):
    env = gym.make(ENV_ID, workload="trace", trace_path=write_trace(tmp_path, HAND_ROWS), n_jobs=3)
    policy = make_policy(env, name, seed=0)
    observation, _ = env.reset(seed=0)
    expected_actions, expected_slowdown = HAND_CASES[name]
    actions = []
    for _ in expected_actions:
        action = policy.act(observation)
        actions.append(action)
        observation, *_ = env.step(action)
    assert actions == expected_actions
    rewards, info = run_episode(env, policy, seed=0)
    metrics = info["episode_metrics"]
    assert metrics["mean_slowdown"] == pytest.approx(expected_slowdown)
    assert sum(rewards) == pytest.approx(-3 * expected_slowdown)
    assert metrics["unfinished_jobs"] == 0


# ---------------------------------------------------------------------------------------
# Accounting: capacity, conservation, exactly-once, return = - total slowdown
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_capacity_never_exceeded_work_conserved_and_return_is_minus_total_slowdown(seed):
    env = gym.make(ENV_ID, load=1.2, n_jobs=60)
    unwrapped = env.unwrapped
    sim = unwrapped.simulator
    rng = np.random.default_rng(seed)
    observation, info = env.reset(seed=seed)
    total_reward = 0.0
    while True:
        mask = info["action_mask"]
        assert np.array_equal(mask, unwrapped.action_masks())
        action = int(rng.choice(np.flatnonzero(mask)))
        before = sim.now
        observation, reward, terminated, truncated, info = env.step(action)
        total_reward += reward
        assert not info["invalid_action"]
        assert sim.now == before + (action == unwrapped.config.n_slots)
        for r, capacity in enumerate(unwrapped.config.capacities):
            for t in range(unwrapped.config.horizon):
                held = sum(job.demands[r] for job in sim.running if job.completion > sim.now + t)
                assert sim.occupancy[r][t] == held <= capacity
        if terminated or truncated:
            break
    assert terminated
    jobs = sim.jobs.columns()
    assert sorted(job.index for job in sim.finished) == list(range(len(jobs)))
    for r in range(unwrapped.config.n_resources):
        work = sum(d * jobs.demands_of(k)[r] for k, d in enumerate(jobs.durations))
        assert sim.busy_units[r] == work
    slowdowns = [job.slowdown for job in sim.finished]
    assert min(slowdowns) >= 1.0
    assert total_reward == pytest.approx(-sum(slowdowns))
    assert info["episode_metrics"]["mean_slowdown"] == pytest.approx(np.mean(slowdowns))


def test_truncated_return_counts_unfinished_jobs_time_in_system():
    env = gym.make(ENV_ID, n_jobs=20, time_limit=5, load=1.5)
    advance = env.unwrapped.config.n_slots
    env.reset(seed=3)
    total, truncated = 0.0, False
    while not truncated:
        _, reward, terminated, truncated, info = env.step(advance)  # never place anything
        total += reward
        assert not terminated
    metrics = info["episode_metrics"]
    assert metrics["unfinished_jobs"] == 20
    assert metrics["mean_utilization"] == 0.0
    assert total == pytest.approx(-20 * metrics["mean_slowdown"])


def test_invalid_actions_advance_time_and_are_flagged(tmp_path):
    env = gym.make(ENV_ID, workload="trace", trace_path=write_trace(tmp_path, HAND_ROWS), n_jobs=3)
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [True, True, True, False, False, True]
    env.step(0)  # J0 starts; J1 no longer fits
    _, reward, _, _, info = env.step(0)  # slot 0 is now J1: invalid
    assert info["invalid_action"] and info["time"] == 1
    assert reward == pytest.approx(-(1 / 10 + 1 / 1 + 1 / 2))
    _, _, _, _, info = env.step(4)  # an empty slot
    assert info["invalid_action"] and info["time"] == 2
    _, _, _, _, info = env.step(5)  # advancing is never invalid
    assert not info["invalid_action"] and info["time"] == 3


# ---------------------------------------------------------------------------------------
# What theory predicts
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["first_fit_fifo", "sjf", "sjf_hold_long", "packer", "tetris"])
def test_slowdown_is_exactly_one_when_the_load_is_tiny(name):
    # Jobs arrive hundreds of steps apart: a work-conserving rule starts each on arrival.
    env = gym.make(ENV_ID, **make_kwargs(ENV_ID, {"load": 0.001, "n_jobs": 10}))
    policy = make_policy(env, name, seed=0)
    for seed in range(3):
        rewards, info = run_episode(env, policy, seed)
        metrics = info["episode_metrics"]
        assert metrics["mean_slowdown"] == 1.0 and metrics["max_slowdown"] == 1.0
        assert sum(rewards) == pytest.approx(-10)


def test_shortest_job_first_beats_fifo_on_mean_slowdown_under_load():
    seeds = range(8)
    sjf = mean_metric("sjf", "mean_slowdown", seeds, load=0.9, n_jobs=80)
    fifo = mean_metric("first_fit_fifo", "mean_slowdown", seeds, load=0.9, n_jobs=80)
    assert sjf < 0.8 * fifo


def test_packer_uses_the_cluster_better_than_random():
    seeds = range(8)
    packer = mean_metric("packer", "mean_utilization", seeds, load=1.2, n_jobs=80)
    random = mean_metric("random", "mean_utilization", seeds, load=1.2, n_jobs=80)
    assert packer > random + 0.05


def test_every_policy_is_above_the_slowdown_bound():
    for name in ["random", "first_fit_fifo", "sjf", "sjf_hold_long", "packer", "tetris"]:
        assert mean_metric(name, "mean_slowdown", range(2), load=0.7, n_jobs=40) >= 1.0


# ---------------------------------------------------------------------------------------
# The workload
# ---------------------------------------------------------------------------------------


def test_synthetic_workload_matches_the_paper_and_the_load():
    rng = np.random.default_rng(0)
    load = 0.8
    p = workloads.arrival_probability(load, (10, 10))
    jobs = workloads.SyntheticJobs(workloads.draw_uniforms(rng, 50_000, 2), p, 2).columns()
    durations = np.array(jobs.durations)
    demands = np.array(jobs.demands).reshape(-1, 2)
    assert set(durations.tolist()) == set(range(1, 4)) | set(range(10, 16))
    assert np.mean(durations >= 10) == pytest.approx(0.2, abs=0.01)
    assert np.mean(durations == 1) == pytest.approx(0.8 / 3, abs=0.01)
    assert np.mean(durations == 15) == pytest.approx(0.2 / 6, abs=0.005)
    dominant = demands.max(axis=1)
    other = demands.min(axis=1)
    assert set(dominant.tolist()) == set(range(5, 11)) and set(other.tolist()) == {1, 2}
    assert jobs.arrivals[0] == 0 and np.all(np.diff(jobs.arrivals) >= 1)
    rate = (len(jobs) - 1) / jobs.arrivals[-1]
    offered = rate * np.mean(durations[:, None] * demands, axis=0) / 10
    assert offered == pytest.approx([load, load], rel=0.03)
    assert workloads.arrival_probability(workloads.max_load((10, 10)), (10, 10)) == 1.0
    every_step = workloads.SyntheticJobs(workloads.draw_uniforms(rng, 10, 2), 1.0, 2).columns()
    assert every_step.arrivals == list(range(10))
    assert workloads.max_load((10, 10)) == pytest.approx(4.5 * 4.1 / 10)


def test_a_surge_raises_the_arrival_rate_of_the_middle_third_only():
    p, surge = workloads.arrival_probability(0.5, (10, 10)), workloads.max_load((10, 10))
    jobs = workloads.SyntheticJobs(
        workloads.draw_uniforms(np.random.default_rng(1), 30_000, 2), p, 2, 1.0
    ).columns()
    gaps = np.diff(jobs.arrivals)  # gaps[k - 1] is job k's gap
    assert np.all(gaps[9_999:19_999] == 1)  # p = 1 during the surge
    assert np.mean(gaps[:9_999]) == pytest.approx(1 / p, rel=0.03)
    assert np.mean(gaps[20_000:]) == pytest.approx(1 / p, rel=0.03)
    env = gym.make(ENV_ID, load=0.5, surge_load=surge)
    assert env.unwrapped.config.surge_probability == pytest.approx(1.0)


def test_trace_replay_windows_shift_arrivals_to_zero(tmp_path):
    rows = ["5,1,1,1", "7,2,2,2", "9,3,3,3", "12,4,4,4"]
    env = gym.make(ENV_ID, workload="trace", trace_path=write_trace(tmp_path, rows), n_jobs=2)
    starts = set()
    for seed in range(20):
        env.reset(seed=seed)
        jobs = env.unwrapped.simulator.jobs
        assert jobs.arrivals[0] == 0 and len(jobs) == 2
        starts.add(jobs.durations[0])
        first = jobs.durations[0] - 1
        assert jobs.arrivals[1] == [5, 7, 9, 12][first + 1] - [5, 7, 9, 12][first]
    assert starts == {1, 2, 3}


def test_trace_rows_are_sorted_by_arrival(tmp_path):
    path = write_trace(tmp_path, ["4,1,1,1", "0,2,2,2"])
    jobs = workloads.read_job_trace(path, (10, 10), 20)
    assert jobs.arrivals == [0, 4] and jobs.durations == [2, 1] and jobs.demands == [2, 2, 1, 1]


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (["0,1,1"], "arrival,duration,cpu,memory", "line 2: expected 4 fields"),
        (
            ["0,1,1,1", "x,1,1,1"],
            "arrival,duration,cpu,memory",
            r"line 3: arrival \[step\] must be",
        ),
        (["0,0,1,1"], "arrival,duration,cpu,memory", "line 2: duration must be in"),
        (["0,21,1,1"], "arrival,duration,cpu,memory", "raise horizon"),
        (["0,1,11,1"], "arrival,duration,cpu,memory", r"line 2: the demand of resource 0"),
        (["-1,1,1,1"], "arrival,duration,cpu,memory", r"line 2: arrival \[step\] must be >= 0"),
        (["0,1,1,1"], "start,duration,cpu,memory", "line 1: the header"),
        ([], "arrival,duration,cpu,memory", "no jobs"),
    ],
)
def test_bad_trace_lines_name_the_file_and_line(tmp_path, rows, header, message):
    path = write_trace(tmp_path, rows, header=header)
    with pytest.raises(DataFileError, match=message) as error:
        gym.make(ENV_ID, workload="trace", trace_path=path)
    assert path in str(error.value)


def test_missing_trace_file_is_named(tmp_path):
    path = str(tmp_path / "absent.csv")
    with pytest.raises(DataFileError, match="absent.csv"):
        gym.make(ENV_ID, workload="trace", trace_path=path)


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"capacities": []}, "capacities"),
        ({"capacities": [10, 0]}, r"capacities\[1\]"),
        ({"capacities": [10, 8]}, r"capacities\[1\] must be >= 10"),
        ({"capacities": [10, 10_001]}, r"capacities\[1\] must be in \[1, 10,000\]"),
        ({"horizon": 10}, "horizon must be >= 15"),
        ({"horizon": 0}, "horizon"),
        ({"n_slots": 0}, "n_slots"),
        ({"backlog_size": 0}, "backlog_size"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"time_limit": 0}, "time_limit"),
        ({"load": 0.0}, "load"),
        ({"load": 2.0}, "load"),
        ({"surge_load": 2.0}, "surge_load"),
        ({"workload": "poisson"}, "workload"),
        ({"workload": "trace"}, "trace_path"),
    ],
)
def test_invalid_configurations_are_named(config, name):
    with pytest.raises(ValueError, match=name):
        gym.make(ENV_ID, **config)


def test_heuristics_refuse_another_environment():
    env = gym.make("opsgym/LoadBalancing-v0")
    from opsgym.baselines.resource_allocation import ShortestJobFirst

    with pytest.raises(TypeError, match="ResourceAllocationEnv"):
        ShortestJobFirst(env)


# ---------------------------------------------------------------------------------------
# The ceiling
# ---------------------------------------------------------------------------------------


def test_pairwise_bound_on_the_hand_trace_meets_sjf(tmp_path):
    # Only J0 and J1 conflict (12 CPU > 10): J1 first costs J0 1/10, J0 first costs J1 10.
    env = gym.make(ENV_ID, workload="trace", trace_path=write_trace(tmp_path, HAND_ROWS), n_jobs=3)
    env.reset(seed=0)
    jobs = env.unwrapped.simulator.jobs.columns()
    assert pair_penalty(jobs, 0, 1, (10, 10)) == pytest.approx(0.1)
    assert pair_penalty(jobs, 0, 2, (10, 10)) == 0.0
    bound = episode_slowdown_bound(env)
    assert bound == pytest.approx((3 + 0.1) / 3)
    _, info = run_episode(env, make_policy(env, "sjf"), seed=0)
    assert info["episode_metrics"]["mean_slowdown"] == pytest.approx(bound)


def brute_force_mean_slowdown(env) -> float:
    """The best mean slowdown over every sequence of valid actions (tiny episodes only)."""
    best = float("inf")

    def search(state, total):
        nonlocal best
        if total >= best:
            return
        for action in np.flatnonzero(state.unwrapped.action_masks()):
            child = copy.deepcopy(state)
            _, reward, terminated, truncated, _ = child.step(int(action))
            if terminated:
                best = min(best, total - reward)
            elif not truncated:
                search(child, total - reward)

    search(env, 0.0)
    return best / env.unwrapped.config.n_jobs


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_below_the_brute_force_optimum_and_the_heuristics(seed):
    config = {"load": 1.8, "n_jobs": 4, "n_slots": 4, "capacities": [10, 10]}
    env = gym.make(ENV_ID, **config).unwrapped
    env.reset(seed=seed)
    bound = episode_slowdown_bound(env)
    optimum = brute_force_mean_slowdown(env)
    assert 1.0 <= bound <= optimum + 1e-12
    for name in ["first_fit_fifo", "sjf", "sjf_hold_long", "packer", "tetris"]:
        _, info = run_episode(env, make_policy(env, name), seed)
        assert optimum <= info["episode_metrics"]["mean_slowdown"] + 1e-12


def test_maskable_ppo_reads_the_action_mask():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    from sb3_contrib.common.maskable.utils import get_action_masks

    env = gym.make(ENV_ID, n_jobs=10)
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0)
    model.learn(64)
    observation, info = env.reset(seed=0)
    for _ in range(50):
        mask = get_action_masks(env)
        assert np.array_equal(mask, info["action_mask"])
        action, _ = model.predict(observation, action_masks=mask, deterministic=True)
        observation, _, terminated, truncated, info = env.step(int(action))
        assert not info["invalid_action"]
        if terminated or truncated:
            observation, info = env.reset()


# ---------------------------------------------------------------------------------------
# DeepRM's configuration: its scenarios, dropped arrivals, its rules in its own units
# ---------------------------------------------------------------------------------------


def deeprm_kwargs(p: float) -> dict:
    return scenarios(ENV_ID)[f"deeprm-p{p}"].env_kwargs


@pytest.mark.parametrize("p", [0.3, 0.5, 0.7])
def test_deeprm_scenarios_are_the_published_setting(p):
    env = gym.make(ENV_ID, **deeprm_kwargs(p))
    config = env.unwrapped.config
    assert config.capacities == (10, 10) and config.horizon == 20
    assert config.n_slots == 10 and config.backlog_size == 60 and config.queue_limit == 70
    assert config.arrival_probability == p
    assert env.action_space.n == 11
    assert env.observation_space.shape == (2 * 20 + 10 * (2 + 2) + 2,)
    # a job arrives with probability p per step: the gaps are geometric with mean 1 / p
    jobs = env.unwrapped.episode_jobs(*env.unwrapped.draw_episode(np.random.default_rng(0)))
    gaps = np.diff(jobs.columns().arrivals)
    assert config.n_jobs == 100 and gaps.min() >= 1
    assert (len(gaps)) / gaps.sum() == pytest.approx(p, rel=0.25)


def test_job_probability_and_load_are_exclusive():
    with pytest.raises(ValueError, match="load or job_probability"):
        gym.make(ENV_ID, load=0.5, job_probability=0.3)
    with pytest.raises(ValueError, match="job_probability"):
        gym.make(ENV_ID, job_probability=1.5)
    # capacities so large that the default load is out of reach: the probability still is
    env = gym.make(ENV_ID, capacities=[100, 100], job_probability=1.0)
    assert env.unwrapped.config.arrival_probability == 1.0


def test_a_full_queue_drops_arrivals_and_counts_them(tmp_path):
    # One resource of 10 units; 1 slot and a backlog of 1: two jobs may wait. J0 (10 units,
    # 2 steps), J1 (10, 1) and J2 (5, 1) arrive at 0: J2 finds two waiting and is dropped.
    # J3 (5, 1) arrives at 1 to one waiting job (J1) and enters. SJF starts J0 at 0, J1 at
    # 2 and J3 at 3: slowdowns 1, 3 and 3. Rewards: -(1/2 + 1) at step 0, -(1/2 + 1 + 1)
    # at 1, -(1 + 1) at 2, -1 at 3: minus the total slowdown of the jobs that entered.
    path = write_trace(tmp_path, ["0,2,10", "0,1,10", "0,1,5", "1,1,5"], "arrival,duration,cpu")
    kwargs = {"workload": "trace", "trace_path": path, "n_jobs": 4, "capacities": [10]}
    kwargs |= {"horizon": 5, "n_slots": 1, "backlog_size": 1, "drop_full_backlog": True}
    env = gym.make(ENV_ID, **kwargs)
    _, info = env.reset(seed=0)
    assert info["jobs_dropped"] == 1 and info["jobs_waiting"] == 2
    rewards, info = run_episode(env, make_policy(env, "sjf"), seed=0)
    assert [r for r in rewards if r != 0.0] == [-1.5, -2.5, -2.0, -1.0]
    metrics = info["episode_metrics"]
    assert metrics["dropped_jobs"] == 1 and metrics["unfinished_jobs"] == 0
    assert metrics["mean_slowdown"] == pytest.approx(7 / 3)
    assert info["time"] == 4  # terminated: three jobs finished, one dropped
    # without dropping, J2 waits and runs at 3 beside J3: slowdown 4
    kwargs["drop_full_backlog"] = False
    _, info = run_episode(gym.make(ENV_ID, **kwargs), make_policy(env, "sjf"), seed=0)
    assert info["episode_metrics"]["dropped_jobs"] == 0
    assert info["episode_metrics"]["mean_slowdown"] == pytest.approx((1 + 3 + 4 + 3) / 4)


def deeprm_choice(sim, n_slots: int, score) -> int:
    """DeepRM's rule (its other_agents.py) in its own units: among the visible jobs that
    fit for their whole duration in the free units, the first with the highest score."""
    free = [[c - row[t] for t in range(len(row))] for c, row in zip(sim.capacities, sim.occupancy)]
    best, best_score = n_slots, 0.0
    for i, job in enumerate(sim.waiting[:n_slots]):
        fits = all(
            free[r][t] >= demand
            for r, demand in enumerate(job.demands)
            for t in range(job.duration)
        )
        if fits and score(job, [row[0] for row in free]) > best_score:
            best, best_score = i, score(job, [row[0] for row in free])
    return best


def aligned_units(job, free) -> float:
    return float(sum(d * f for d, f in zip(job.demands, free)))


# Tetris here weighs alignment / R in fractions of capacity, k * dot / (100 * 2) + (1 - k) /
# d on 2 x 10 units: DeepRM's knob * dot + (1 - knob) / d with knob = k / (k + 200 (1 - k)).
DEEPRM_KNOB = 0.5 / (0.5 + 200 * 0.5)
DEEPRM_RULES = {
    "sjf": lambda job, free: 1.0 / job.duration,
    "packer": aligned_units,
    "tetris": lambda job, free: (
        DEEPRM_KNOB * aligned_units(job, free) + (1 - DEEPRM_KNOB) / job.duration
    ),
}


@pytest.mark.parametrize("name", sorted(DEEPRM_RULES))
def test_rules_choose_as_deeprm_defines_them(name):
    env = gym.make(ENV_ID, **deeprm_kwargs(0.7) | {"n_jobs": 60})
    policy = make_policy(env, name)
    observation, _ = env.reset(seed=3)
    sim = env.unwrapped.simulator
    placed = 0
    for _ in range(400):
        action = policy.act(observation)
        assert action == deeprm_choice(sim, 10, DEEPRM_RULES[name])
        placed += action < 10
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    assert placed > 30


def test_holding_back_a_long_job_lets_the_short_ones_through(tmp_path):
    # One resource of 10 units; at step 0: B (7 units, 1 step), L (3, 10), S1 and S2 (8, 2).
    # Both rules start B first. SJF then starts L, the only job that fits: S1 and S2 wait
    # for it, [10, 12) and [12, 14): slowdowns 1, 1, 6, 7. Holding L back (two short jobs
    # wait), S1 runs [1, 3), S2 [3, 5), and L [5, 15): slowdowns 1, 1.5, 2.5, 1.5.
    rows = ["0,1,7", "0,10,3", "0,2,8", "0,2,8"]
    path = write_trace(tmp_path, rows, "arrival,duration,cpu")
    env = gym.make(ENV_ID, workload="trace", trace_path=path, n_jobs=4, capacities=[10])
    advance = env.action_space.n - 1
    for name, first_actions, slowdowns in [
        ("sjf", [0, 0, advance], [1, 1, 6, 7]),
        ("sjf_hold_long", [0, advance, 1], [1, 1.5, 2.5, 1.5]),
    ]:
        policy = make_policy(env, name)
        observation, _ = env.reset(seed=0)
        actions = []
        for _ in first_actions:
            actions.append(policy.act(observation))
            observation, *_ = env.step(actions[-1])
        assert actions == first_actions, name
        _, info = run_episode(env, policy, seed=0)
        assert info["episode_metrics"]["mean_slowdown"] == pytest.approx(np.mean(slowdowns))

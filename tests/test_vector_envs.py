"""Native vector environments against their single versions, for every id that has one."""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest
from env_configs import (
    EXACT_VECTOR_IDS,
    SHORT_EPISODES,
    VECTOR_IDS,
    VECTOR_IN_DISTRIBUTION,
    VECTOR_TO_ROUNDING,
    without_unused,
)
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from opsgym.envs.core import batch, fcfs, queueing, seasonal
from opsgym.envs.load_balancing.simulator import LoadBalancerSimulator
from opsgym.envs.resource_allocation import workloads
from opsgym.envs.routing.simulator import FLOW_SLOTS
from opsgym.envs.scenarios import scenarios


def make_vector(env_id: str, num_envs: int, vectorization: str = "vector_entry_point", **kwargs):
    # the short-episode arguments that ``kwargs``' modes leave unused are left out
    short = SHORT_EPISODES[env_id].kwargs
    kwargs = {**without_unused(env_id, {**short, **kwargs}), **kwargs}
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=vectorization, **kwargs)


def random_actions(env: gym.vector.VectorEnv, seed: int, steps: int) -> list[np.ndarray]:
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(steps)]


def masked_equal(a: dict, b: dict, path: str = "info") -> None:
    """``a`` and ``b`` agree on every entry their ``_key`` masks mark present."""
    for key, value in b.items():
        if key.startswith("_"):
            continue
        mask = b["_" + key]
        assert np.array_equal(a["_" + key], mask), f"{path}[_{key}]"
        if isinstance(value, dict):
            masked_equal(a[key], value, f"{path}[{key}]")
            continue
        expected = value[mask]
        if expected.dtype == object:  # the lists of a single env, as rows of an array
            expected = np.array(expected.tolist())
        assert np.array_equal(np.asarray(a[key])[mask], expected), f"{path}[{key}]"


def assert_follows_sync(env_id: str, num_envs: int, seed: int, steps: int, **kwargs) -> int:
    """The native vector env gives SyncVectorEnv's trajectory bit for bit; episodes ended."""
    native = make_vector(env_id, num_envs, **kwargs)
    sync = make_vector(env_id, num_envs, vectorization="sync", **kwargs)
    return assert_same_trajectory(native, sync, seed, random_actions(sync, seed, steps))


def assert_same_trajectory(
    native: gym.vector.VectorEnv, sync: gym.vector.VectorEnv, seed: int, batches: list
) -> int:
    """``native`` gives ``sync``'s trajectory bit for bit under these batches of actions;
    the number of episodes ended."""
    assert np.array_equal(native.reset(seed=seed)[0], sync.reset(seed=seed)[0])
    ended = 0
    for actions in batches:
        a, b = native.step(actions), sync.step(actions)
        for x, y in zip(a[:4], b[:4]):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        masked_equal(a[4], b[4])
        ended += int((b[2] | b[3]).sum())
    return ended


@pytest.fixture(params=VECTOR_IDS)
def env_id(request) -> str:
    return request.param


def test_loadbalancing_has_a_vector_entry_point():
    assert "opsgym/LoadBalancing-v0" in VECTOR_IDS


def test_every_vector_env_has_short_episodes_and_its_parity_stated():
    assert sorted(SHORT_EPISODES) == sorted(VECTOR_IDS)
    assert set(VECTOR_TO_ROUNDING) | VECTOR_IN_DISTRIBUTION <= set(VECTOR_IDS)


def test_spaces_metadata_and_shapes(env_id):
    env = make_vector(env_id, 3)
    single = gym.make(env_id, **SHORT_EPISODES[env_id].kwargs)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.single_observation_space == single.observation_space
    assert env.single_action_space == single.action_space
    assert env.observation_space == batch_space(single.observation_space, 3)
    assert env.action_space == batch_space(single.action_space, 3)
    observations, _ = env.reset(seed=0)
    assert observations in env.observation_space
    observations, rewards, terminated, truncated, _ = env.step(env.action_space.sample())
    assert observations in env.observation_space
    assert rewards.shape == terminated.shape == truncated.shape == (3,)
    assert terminated.dtype == truncated.dtype == np.bool_


@pytest.mark.parametrize("num_envs", [1, 5])
def test_same_trajectory_as_sync_vector_env(env_id, num_envs):
    if env_id not in EXACT_VECTOR_IDS:
        pytest.skip(f"{env_id}'s vector env is not bit for bit: its own tests say how close")
    # the comparison crosses autoresets
    assert assert_follows_sync(env_id, num_envs, 7, 300) >= num_envs


def test_same_seed_same_trajectory(env_id):
    one, two = make_vector(env_id, 4), make_vector(env_id, 4)
    assert np.array_equal(one.reset(seed=3)[0], two.reset(seed=3)[0])
    for actions in random_actions(one, 3, 120):
        a, b = one.step(actions), two.step(actions)
        for x, y in zip(a[:4], b[:4]):
            assert np.array_equal(x, y)
    other = make_vector(env_id, 4)
    assert not np.array_equal(other.reset(seed=4)[0], one.reset(seed=3)[0])


def test_observations_stay_in_space_across_autoresets(env_id):
    env = make_vector(env_id, 8)
    env.reset(seed=1)
    for actions in random_actions(env, 1, 200):
        observations, rewards, _, _, _ = env.step(actions)
        assert observations in env.observation_space
        assert np.isfinite(rewards).all()


def test_next_step_autoreset(env_id):
    env = make_vector(env_id, 4)
    env.reset(seed=2)
    actions = random_actions(env, 2, 400)
    for k, action in enumerate(actions):
        _, _, terminated, truncated, info = env.step(action)
        ended = terminated | truncated
        if ended.any():
            assert info["_episode_metrics"][ended].all()
            observations, rewards, terminated, truncated, _ = env.step(actions[k + 1])
            assert (rewards[ended] == 0.0).all()
            assert not (terminated[ended] | truncated[ended]).any()
            assert observations in env.observation_space
            return
    pytest.fail("no episode ended in 400 steps")


def test_domain_metrics_match_the_single_env_in_distribution(env_id):
    episodes, metric = 96, SHORT_EPISODES[env_id].metric
    vector = make_vector(env_id, episodes)
    vector.reset(seed=0)
    ended = np.zeros(episodes, dtype=bool)
    vector_values = np.zeros(episodes)
    vector.action_space.seed(0)
    while not ended.all():
        _, _, terminated, truncated, info = vector.step(vector.action_space.sample())
        done = (terminated | truncated) & ~ended
        if not done.any():
            continue
        vector_values[done] = info["episode_metrics"][metric][done]
        ended |= done
    single = gym.make(env_id, **SHORT_EPISODES[env_id].kwargs)
    single.action_space.seed(0)
    single_values = []
    for seed in range(100_000, 100_000 + episodes):
        single.reset(seed=seed)
        while True:
            _, _, terminated, truncated, info = single.step(single.action_space.sample())
            if terminated or truncated:
                single_values.append(info["episode_metrics"][metric])
                break
    single_values = np.array(single_values)
    # the two 95% confidence intervals of the mean overlap
    half_widths = [1.96 * v.std(ddof=1) / np.sqrt(episodes) for v in (vector_values, single_values)]
    assert abs(vector_values.mean() - single_values.mean()) < sum(half_widths)
    assert vector_values.mean() > 0.0


def test_out_of_range_actions_are_named(env_id):
    env = make_vector(env_id, 2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0, env.single_action_space.n]))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.array([0]))


EXACT_CONFIGURATIONS = [
    ("opsgym/LoadBalancing-v0", {"mode": "feedback", "drift": "slowdown", "episode_length": 60}),
    ("opsgym/LoadBalancing-v0", {"drift": "slowdown", "drift_ramp": 20, "episode_length": 80}),
    ("opsgym/LoadBalancing-v0", {"drift": "failures", "drift_ramp": 30, "episode_length": 80}),
    (
        "opsgym/LoadBalancing-v0",
        {"drift": "failures", "arrival_amplitude": 0.5, "size_distribution": "pareto"},
    ),
    ("opsgym/ConfigTuning-v0", {"drift": "none", "burst_prob": 0.3, "latency_noise": 0.5}),
    ("opsgym/ConfigTuning-v0", {"drift_ramp": 7, "episode_length": 40, "burst_prob": 0.2}),
    (
        "opsgym/ConfigTuning-v0",
        {"initial_config": [200, 2, 0.0, 30000.0], "episode_length": 25, "interval_seconds": 1.0},
    ),
    (
        "opsgym/ServiceRouting-v0",
        {"drift": "swap", "episode_length": 120, "load": 0.95, "timeout_ms": 60.0},
    ),
    ("opsgym/ServiceRouting-v0", {"drift": "swap", "drift_ramp": 25, "episode_length": 120}),
    (
        "opsgym/ServiceRouting-v0",
        {"service_ms": [[5.0, 9.0, 30.0], [8.0, 4.0, 20.0]], "regions": [0, 3], "drift": "swap"},
    ),
    ("opsgym/AnomalyDetection-v0", {"workload": "nyc_taxi", "episode_length": 150}),
    (
        "opsgym/AnomalyDetection-v0",
        {"episode_length": 50, "anomalies_per_week": 0.0, "fp_weight": 0.5},
    ),
    ("opsgym/ResourceAllocation-v0", {"n_jobs": 40, "load": 1.5, "surge_load": 0.3}),
    (  # DeepRM's dropping at a full backlog, often
        "opsgym/ResourceAllocation-v0",
        {"n_jobs": 60, "load": 1.6, "n_slots": 2, "backlog_size": 3} | {"drop_full_backlog": True},
    ),
    (
        "opsgym/ResourceAllocation-v0",
        {"n_jobs": 50, "drift": "mix", "drift_ramp": 10, "long_fraction_after": 0.8},
    ),
    (  # three resources, few slots, and truncation soon after the last arrival
        "opsgym/ResourceAllocation-v0",
        {"capacities": [10, 12, 15], "n_slots": 3, "backlog_size": 5, "horizon": 16}
        | {"n_jobs": 30, "load": 1.4, "time_limit": 8},
    ),
    ("opsgym/Routing-v1", {"drift": "hotspot", "drift_ramp": 40, "episode_length": 150}),
    ("opsgym/Routing-v1", {"drift": "hotspot_move", "episode_length": 140, "daily_amplitude": 0}),
    # pairs with fewer than K paths: invalid actions
    ("opsgym/Routing-v1", {"topology": "Geant2009", "k_paths": 3, "endpoints": "uniform"}),
]


@pytest.mark.parametrize(("env_id", "kwargs"), EXACT_CONFIGURATIONS)
def test_configurations_match_sync_vector_env(env_id, kwargs):
    assert_follows_sync(env_id, 3, 5, 400, **kwargs)


def test_loadbalancing_queues_grow_past_their_initial_capacity_and_still_match():
    kwargs = {"load": 1.5, "allow_overload": True, "episode_length": 300}
    assert assert_follows_sync("opsgym/LoadBalancing-v0", 3, 11, 400, **kwargs) >= 3
    env = make_vector("opsgym/LoadBalancing-v0", 3, **kwargs)
    env.reset(seed=11)
    for actions in random_actions(env, 11, 400):
        env.step(actions)
    assert env.unwrapped.queues.capacity > 16


def test_routing_blocks_and_holds_more_flows_than_its_first_slots_and_still_matches():
    # three blocks of arriving flows, on a network loaded past capacity
    kwargs = {"load": 1.5, "episode_length": 300}
    assert assert_follows_sync("opsgym/Routing-v1", 2, 4, 400, **kwargs) >= 2
    env = make_vector("opsgym/Routing-v1", 2, **kwargs)
    env.reset(seed=4)
    blocked = 0
    for actions in random_actions(env, 4, 200):
        blocked += int(env.step(actions)[4]["blocked"].sum())
    assert blocked > 0
    routing, flows = env.unwrapped, env.unwrapped.flows
    assert flows.ends.shape[1] > FLOW_SLOTS
    # a flow's path carries its rate: the loads are the sums over the active flows
    active = np.isfinite(flows.ends)
    expected = np.zeros_like(routing.loads)
    for i, slot in zip(*np.nonzero(active)):
        path = flows.paths[i, slot]
        expected[routing.path_arcs[path], i] += flows.rates[i, slot] * routing.on_path[path]
    assert np.array_equal(routing.loads[: routing.n_arcs], expected[: routing.n_arcs])
    assert (routing.loads[: routing.n_arcs] > 0).any()


def test_routing_vector_env_refuses_lp_snapshots():
    with pytest.raises(ValueError, match="lp_snapshots"):
        make_vector("opsgym/Routing-v1", 2, lp_snapshots=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"episode_steps": 90, "drift": "level", "flash_crowd_rate": 30.0},
        # 5-minute steps: 300 steps (25 hours) meet every attack's bursts
        {"step_seconds": 300.0, "episode_steps": 300, "drift": "level", "drift_ramp": 20}
        | {"attack": "trough", "boot_steps": 1},
        {"step_seconds": 300.0, "episode_steps": 300, "drift": "shape", "drift_ramp": 30}
        | {"attack": "off_period", "boot_steps": 1},
        {"episode_steps": 80, "workload": "nasa", "drift": "shape", "drift_ramp": 9},
        {"episode_steps": 70, "drift": "shape", "cooldown_steps": 3, "boot_steps": 0},
        {"episode_steps": 70, "workload": "nasa", "bill_booting": False, "drift": "level"},
        {"episode_steps": 40, "noise": 0.0, "max_step_change": 4, "initial_instances": 3},
    ],
)
def test_autoscaling_follows_the_single_env_to_rounding(kwargs):
    # numpy's exp and log may differ from libm's in the last bit, so rewards and metrics
    # agree to a relative 1e-9; the float32 observations almost always bit for bit
    native = make_vector("opsgym/Autoscaling-v0", 3, **kwargs)
    sync = make_vector("opsgym/Autoscaling-v0", 3, vectorization="sync", **kwargs)
    assert np.array_equal(native.reset(seed=9)[0], sync.reset(seed=9)[0])
    ended = 0
    for actions in random_actions(sync, 9, 2 * kwargs["episode_steps"] + 2):
        a, b = native.step(actions), sync.step(actions)
        assert np.allclose(a[0], b[0], rtol=0.0, atol=1e-6)
        assert np.allclose(a[1], b[1], rtol=1e-9, atol=0.0)
        assert np.array_equal(a[3], b[3])
        for key in ("running", "booting", "change", "violated"):
            assert np.array_equal(a[4].get(key), b[4].get(key)), key
        if b[3].any():
            ended += int(b[3].sum())
            metrics = b[4]["episode_metrics"]
            for name, values in metrics.items():
                if not name.startswith("_"):
                    assert np.allclose(a[4]["episode_metrics"][name], values, rtol=1e-9), name
    assert ended == 6
    if kwargs.get("attack"):
        assert native.unwrapped.extra.any()


def test_indexselection_follows_the_single_env_except_the_sampled_counts():
    native = make_vector("opsgym/IndexSelection-v0", 4)
    sync = make_vector("opsgym/IndexSelection-v0", 4, vectorization="sync")
    k = len(sync.envs[0].unwrapped.candidates())
    a, b = native.reset(seed=2)[0], sync.reset(seed=2)[0]
    assert np.array_equal(a, b)  # the first counts are the phase's expected counts
    for step, actions in enumerate(random_actions(sync, 2, 70)):
        a, b = native.step(actions), sync.step(actions)
        if step < 9:  # the first phase; the single env's later ones follow its counts' draws
            probabilities = [env.unwrapped.upcoming_probabilities() for env in sync.envs]
            assert np.array_equal(native.unwrapped.probabilities, probabilities)
        assert np.array_equal(a[0][:, :k], b[0][:, :k])  # the built indexes
        assert np.allclose(a[0][:, -1], b[0][:, -1], atol=1e-6)  # the storage used
        assert np.array_equal(a[3], b[3])
        if b[4]:
            assert np.array_equal(a[4]["refused"], b[4]["refused"])
            for key in ("storage_mb", "pages_per_write"):
                assert np.allclose(a[4][key], b[4][key], rtol=1e-12), key
            assert np.allclose(a[4]["rewards"]["build"], b[4]["rewards"]["build"], rtol=1e-12)


def test_indexselection_phases_ramp_from_one_ranking_to_the_next():
    ramp, phase = 6, 10
    env = make_vector("opsgym/IndexSelection-v0", 3, drift_ramp=ramp)
    env.reset(seed=8)
    base = np.sort(env.unwrapped.probabilities[0])
    for step, actions in enumerate(random_actions(env, 8, 29)):
        env.step(actions)
        windows = step + 1
        probabilities = env.unwrapped.probabilities
        assert np.allclose(probabilities.sum(axis=1), 1.0)
        ranked = np.all(np.sort(probabilities, axis=1) == base, axis=1)
        # a ranking holds in the first phase and from the ramp's last window on
        assert ranked.all() == (windows < phase or windows % phase >= ramp - 1)


def test_indexselection_vector_env_rejects_the_sqlite_backend():
    with pytest.raises(ValueError, match="backend"):
        make_vector("opsgym/IndexSelection-v0", 2, backend="sqlite")


def test_resourceallocation_masks_invalid_actions_and_rewards_on_a_hand_trace(tmp_path):
    # one resource of 10 units: A (6 units, 2 steps) and B (5, 1) arrive at 0, C (4, 1) at 1
    path = tmp_path / "jobs.csv"
    path.write_text("arrival,duration,cpu\n0,2,6\n0,1,5\n1,1,4\n")
    kwargs = {"workload": "trace", "trace_path": str(path), "n_jobs": 3, "capacities": [10]}
    env = make_vector("opsgym/ResourceAllocation-v0", 2, **kwargs)
    advance = env.single_action_space.n - 1
    _, info = env.reset(seed=0)
    assert info["action_mask"][:, :3].tolist() == [[True, True, False]] * 2
    # instance 0 starts A; instance 1 advances with A and B waiting: -(1/2 + 1)
    _, rewards, _, _, info = env.step(np.array([0, advance]))
    assert rewards.tolist() == [0.0, -1.5]
    assert info["time"].tolist() == [0, 1] and not info["invalid_action"].any()
    assert info["action_mask"][0].tolist() == [False, False, False, False, False, True]
    assert info["action_mask"][1, :4].tolist() == [True, True, True, False]
    # B does not fit beside A: choosing it advances time, and C arrives
    _, rewards, _, _, info = env.step(np.array([0, 2]))
    assert rewards.tolist() == [-1.5, 0.0]
    assert info["invalid_action"].tolist() == [True, False]
    assert info["jobs_waiting"].tolist() == [2, 2] and info["time"].tolist() == [1, 1]


@pytest.mark.parametrize("name", ["deeprm-p0.3", "deeprm-p0.5", "deeprm-p0.7"])
def test_resourceallocation_deeprm_scenarios_follow_sync_while_dropping(name):
    # waiting 150 steps brings about 45, 75 and 105 jobs: past 70 waiting (10 slots and a
    # backlog of 60) arrivals are dropped; random actions then finish the episodes
    kwargs = scenarios("opsgym/ResourceAllocation-v0")[name].env_kwargs
    make = functools.partial(gym.make_vec, "opsgym/ResourceAllocation-v0", 3, **kwargs)
    native, sync = make(vectorization_mode="vector_entry_point"), make(vectorization_mode="sync")
    waits = [np.full(3, kwargs["n_slots"])] * 150
    assert assert_same_trajectory(native, sync, 2, waits + random_actions(sync, 2, 600)) >= 3
    native.reset(seed=2)
    for actions in waits:
        info = native.step(actions)[4]
    arrived = native.unwrapped.clusters.next_arrival
    assert np.array_equal(info["jobs_waiting"], np.minimum(arrived, 70))
    assert np.array_equal(info["jobs_dropped"], arrived - info["jobs_waiting"])
    assert info["jobs_dropped"].any() == (name != "deeprm-p0.3")


def test_resourceallocation_trace_follows_sync_with_many_jobs_at_once(tmp_path):
    # several arrivals per step, and jobs that need nothing: many finish in one step
    rng = np.random.default_rng(4)
    arrivals = np.sort(rng.integers(0, 40, 80))
    rows = [
        f"{a},{rng.integers(1, 8)},{rng.integers(0, 5) * (k % 3 > 0)},{rng.integers(0, 4)}"
        for k, a in enumerate(arrivals)
    ]
    path = tmp_path / "jobs.csv"
    path.write_text("arrival,duration,cpu,memory\n" + "\n".join(rows) + "\n")
    kwargs = {"workload": "trace", "trace_path": str(path), "horizon": 8, "n_jobs": 50}
    assert assert_follows_sync("opsgym/ResourceAllocation-v0", 3, 1, 400, **kwargs) >= 3
    dropping = kwargs | {"n_slots": 2, "backlog_size": 2, "drop_full_backlog": True}
    assert assert_follows_sync("opsgym/ResourceAllocation-v0", 3, 1, 400, **dropping) >= 3
    env = make_vector("opsgym/ResourceAllocation-v0", 3, **kwargs)
    env.reset(seed=1)
    for actions in random_actions(env, 1, 400):
        env.step(actions)
    assert env.unwrapped.clusters.ending.shape[2] > 1  # the lists of jobs ending together grew
    # a trace shorter than n_jobs: every episode replays all of it
    kwargs["n_jobs"] = 200
    assert assert_follows_sync("opsgym/ResourceAllocation-v0", 2, 2, 300, **kwargs) >= 2
    env = make_vector("opsgym/ResourceAllocation-v0", 2, **kwargs)
    assert env.unwrapped.n_jobs == 80


def test_resourceallocation_synthetic_columns_agree_with_the_lazy_jobs():
    p, count = workloads.arrival_probability(0.9, (10, 10)), 60
    for surge, ramp, after in [(None, 0, 0.5), (1.0, 8, 0.9), (0.1, 0, 0.0), (None, 20, 0.2)]:
        rng = np.random.default_rng(5)
        uniforms = np.stack([workloads.draw_uniforms(rng, count, 2) for _ in range(4)])
        starts = np.array([0, 15, 29, 59])
        arrivals, durations, demands = workloads.synthetic_columns(
            uniforms, p, surge, (starts, ramp, after)
        )
        for e in range(4):
            jobs = workloads.SyntheticJobs(uniforms[e], p, 2, surge, (starts[e], ramp, after))
            jobs = jobs.columns()
            assert arrivals[e].tolist() == jobs.arrivals
            assert durations[e].tolist() == jobs.durations
            assert demands[e].ravel().tolist() == jobs.demands


def test_resourceallocation_vector_env_terminates_episodes():
    env = make_vector("opsgym/ResourceAllocation-v0", 4, n_jobs=10, load=0.3)
    env.reset(seed=0)
    advance = np.full(4, env.single_action_space.n - 1)
    terminated = np.zeros(4, dtype=bool)
    for _ in range(300):
        mask = env.unwrapped.clusters.masks
        actions = np.where(mask[:, 0], 0, advance)  # first fit, in arrival order
        _, _, ended, truncated, info = env.step(actions)
        assert not truncated.any()
        if ended.any():
            metrics = info["episode_metrics"]
            assert (metrics["unfinished_jobs"][ended] == 0.0).all()
            assert (metrics["mean_slowdown"][ended] >= 1.0).all()
        terminated |= ended
    assert terminated.all()


# ----------------------------------------------------------------------------------------
# The batched closed forms against the scalar ones
# ----------------------------------------------------------------------------------------


def test_queueing_arrays_agree_with_the_scalar_closed_forms():
    rng = np.random.default_rng(0)
    servers = np.concatenate([rng.integers(1, 25, 400), rng.integers(25, 1500, 100)])
    offered = rng.uniform(0.0, 0.99, servers.size) * servers
    offered[:5] = 0.0
    mu = 100.0
    wait = queueing.erlang_c_array(servers, offered)
    expected = [queueing.erlang_c(int(c), float(a)) for c, a in zip(servers, offered)]
    assert np.allclose(wait, expected, rtol=1e-10, atol=0.0)
    # loads below MAX_PLAIN_LOAD alone: running products instead of logarithms
    small = offered <= queueing.MAX_PLAIN_LOAD
    assert not small.all()
    plain = queueing.erlang_c_array(servers[small], offered[small])
    assert np.allclose(plain, wait[small], rtol=1e-12, atol=0.0)
    theta = servers * mu - offered * mu
    quantiles = queueing.mmc_response_quantile_array(0.95, wait, theta, mu)
    expected = [
        queueing.mmc_response_quantile(0.95, float(p), float(q), mu) for p, q in zip(wait, theta)
    ]
    assert np.allclose(quantiles, expected, rtol=1e-10, atol=0.0)
    # the quantile is one: the survival there is the tail
    survival = [
        queueing.mmc_response_survival(float(x), float(p), float(q), mu)
        for x, p, q in zip(quantiles, wait, theta)
    ]
    assert np.allclose(survival, 0.05, rtol=1e-12, atol=0.0)


def test_quantile_array_where_wait_and_service_rates_meet():
    # theta = mu (h = t), theta a hair from mu, and far from it on either side
    mu = 100.0
    theta = np.repeat([mu, mu * (1 + 1e-9), 0.02 * mu, 0.5 * mu, 2.0 * mu, 50.0 * mu], 5)
    wait = np.tile([0.0, 0.01, 0.3, 0.9, 1.0], 6)
    quantiles = queueing.mmc_response_quantile_array(0.95, wait, theta, mu)
    expected = [
        queueing.mmc_response_quantile(0.95, float(p), float(q), mu) for p, q in zip(wait, theta)
    ]
    assert np.allclose(quantiles, expected, rtol=1e-12, atol=0.0)
    # without waiting the response time is the service time: its quantile is -log(tail) / mu
    assert np.allclose(quantiles[wait == 0.0], -np.log(0.05) / mu, rtol=1e-14, atol=0.0)


def test_flash_crowd_shapes_agree_with_the_scalar_shape():
    since = np.array([-100.0, 0.0, 1.0, 150.0, 299.9, 300.0, 2000.0, 1e6])
    expected = [seasonal.flash_crowd_shape(float(s)) for s in since]
    assert np.allclose(seasonal.flash_crowd_shapes(since), expected, rtol=1e-15, atol=0.0)


def test_fcfs_queues_agree_with_the_single_load_balancer_simulator():
    rng = np.random.default_rng(3)
    instances, servers = 3, 2
    batched = fcfs.FcfsQueues(instances, servers, smoothing=0.3)
    singles = [LoadBalancerSimulator((1.0,) * servers, (0.5,) * servers, 0.3) for _ in range(3)]
    rows = np.arange(instances)
    clocks = np.zeros(instances)
    for _ in range(200):  # arrivals twice as fast as service: queues grow past 16
        clocks += rng.exponential(0.25, instances)
        batched.advance(rows, clocks.copy())
        chosen = rng.integers(servers, size=instances)
        sizes = rng.exponential(1.0, instances)
        failed = rng.random(instances) < 0.1
        responses = batched.dispatch(rows, chosen, sizes, failed)
        for i, single in enumerate(singles):
            single.advance_to(clocks[i])
            response, _ = single.dispatch(int(chosen[i]), sizes[i], 0.0 if failed[i] else 1.0)
            assert responses[i] == response
    assert batched.capacity > 16
    for i, single in enumerate(singles):
        assert np.array_equal(batched.latency_ewma[i], single.latency_ewma)
        assert np.array_equal(batched.error_ewma[i], single.error_ewma)
        assert np.array_equal(batched.count[i], single.queue_lengths())
        assert np.array_equal(batched.work_left()[i], single.work_left())


def test_builtin_sum_agrees_with_python_sum():
    rng = np.random.default_rng(5)
    # magnitudes far apart, where compensated and plain summation differ
    terms = rng.uniform(0.0, 1.0, (40, 300)) * 10.0 ** rng.integers(-12, 12, (40, 300))
    expected = [sum(column) for column in terms.T.tolist()]
    assert np.array_equal(batch.builtin_sum(terms), expected)


def test_seeds_of_the_wrong_length_are_named():
    with pytest.raises(ValueError, match="seed"):
        batch.instance_seeds([1, 2], 3)
    assert batch.instance_seeds(5, 3) == [5, 6, 7]
    assert batch.instance_seeds(None, 2) == [None, None]


SCENARIOS = [
    (env_id, name, scenario.env_kwargs)
    for env_id in VECTOR_IDS
    for name, scenario in scenarios(env_id).items()
]


@pytest.mark.parametrize(("env_id", "name", "kwargs"), SCENARIOS, ids=[s[1] for s in SCENARIOS])
def test_every_scenario_of_a_vector_id_runs_in_its_vector_env(env_id, name, kwargs):
    native = gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(env_id, 2, vectorization_mode="sync", **kwargs)
    assert np.allclose(native.reset(seed=3)[0], sync.reset(seed=3)[0], atol=1e-6)
    for actions in random_actions(sync, 3, 20):
        a, b = native.step(actions), sync.step(actions)
        assert a[0] in native.observation_space
        if env_id != "opsgym/IndexSelection-v0":  # whose counts are drawn otherwise
            assert np.allclose(a[1], b[1], rtol=1e-9, atol=0.0)

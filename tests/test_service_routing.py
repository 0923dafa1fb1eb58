"""The science of ServiceRouting: FCFS by hand, the M/M/1 closed form, the oracle, LinUCB."""

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs  # noqa: F401
from opsgym.agents import make_agent
from opsgym.baselines import make_policy
from opsgym.envs.service_routing import ServiceFleet, ServiceRoutingEnv
from opsgym.envs.service_routing.simulator import RequestSource
from opsgym.train.runner import run_episode

ENV_ID = "opsgym/ServiceRouting-v0"


def test_fleet_latency_by_hand():
    # Two replicas: 0 in region 0 (read 10 ms), 1 in region 1 (read 2 ms); 40 ms across.
    fleet = ServiceFleet([(10.0, 1.0, 1.0), (2.0, 1.0, 1.0)], (0, 1), 1.0, 40.0, 0.5)
    fleet.queues.advance_to(0.0)
    assert fleet.expected_latency_ms(0, 0, 1.0, 0) == pytest.approx(11.0)
    assert fleet.dispatch(0, 0, 1.0, 0) == pytest.approx(11.0)  # 10 service + 1 network
    fleet.queues.advance_to(0.004)  # 4 ms later: 6 ms of work left at replica 0
    assert fleet.dispatch(0, 0, 2.0, 1) == pytest.approx(6.0 + 20.0 + 40.0)
    assert fleet.dispatch(1, 0, 1.0, 1) == pytest.approx(2.0 + 1.0)


def lindley_latencies(env, actions):
    """Latencies [ms] of the episode's requests under ``actions``, by Lindley's recursion."""
    r = env.requests
    busy = [0.0] * env.config.n_replicas
    out = []
    for k, a in enumerate(actions):
        start = max(r.times[k], busy[a])
        busy[a] = start + env.config.service_ms[a][r.types[k]] * r.sizes[k] / 1000.0
        network = (
            env.config.local_delay_ms
            if env.config.regions[a] == r.regions[k]
            else env.config.remote_delay_ms
        )
        out.append(1000.0 * (busy[a] - r.times[k]) + network)
    return out


def test_requests_drawn_block_by_block_are_one_poisson_stream():
    def stream(seed, block):
        source = RequestSource(10_000, 50.0, (2, 1, 1), 3, 0.25, block)
        return source.episode(np.random.default_rng(seed))

    lazy, eager = stream(1, 64), stream(1, 64)
    first = lazy.block_of(130).times.copy()  # block 2 drawn before block 0 is read
    assert np.array_equal(first, eager.all().times[128:192])
    assert np.array_equal(lazy.all().sizes, eager.all().sizes)
    # gaps, across block boundaries too, are exponential with mean 1 / rate
    gaps = np.diff(stream(2, 64).all().times, prepend=0.0)
    assert gaps.min() > 0.0
    assert gaps.mean() == pytest.approx(1 / 50.0, rel=0.03)  # 10,000 gaps: sd 1%
    assert np.mean(gaps[64::64] > 1 / 50.0) == pytest.approx(np.exp(-1.0), abs=0.08)
    assert np.bincount(stream(3, 64).all().types) / 10_000 == pytest.approx(
        [0.5, 0.25, 0.25], abs=0.02
    )


def test_hand_computed_reward_trace():
    env = ServiceRoutingEnv(episode_length=50, timeout_ms=30.0, priority_weight=2.0, load=0.9)
    env.reset(seed=3)
    actions = [k % 4 for k in range(50)]
    expected = lindley_latencies(env, actions)
    rewards = [env.step(a)[1] for a in actions]
    for k, (latency, reward) in enumerate(zip(expected, rewards)):
        factor = 1.0 + 2.0 * env.requests.priorities[k]
        assert reward == pytest.approx(-factor * (latency / 1000.0 + (latency > 30.0)))
    assert any(latency > 30.0 for latency in expected)  # the trace exercises timeouts


def test_single_replica_matches_the_mm1_mean_response_time():
    # Reads only, exponential sizes: M/M/1 with E[S] = 10 ms; at load 0.5 the mean
    # response time is E[S] / (1 - rho) = 20 ms (Kleinrock 1975, eq. 3.26).
    env = gym.make(
        ENV_ID,
        service_ms=[[10.0, 10.0, 10.0]],
        regions=[0],
        type_mix=[1.0, 0.0, 0.0],
        load=0.5,
        local_delay_ms=0.0,
        episode_length=40_000,
        max_episode_steps=40_000,
    )
    result = run_episode(env, make_policy(env, "round_robin"), seed=0)
    assert result.metrics["mean_latency_ms"] == pytest.approx(20.0, rel=0.05)


def test_oracle_picks_the_lowest_true_latency_and_beats_every_heuristic():
    env = gym.make(ENV_ID, drift="swap")
    oracle = make_policy(env, "oracle")
    observation, _ = env.reset(seed=0)
    fleet = env.unwrapped.fleet
    kind, size, region, _ = env.unwrapped.current_request
    latencies = [fleet.expected_latency_ms(i, kind, size, region) for i in range(4)]
    action = oracle.act(observation)
    assert latencies[action] == min(latencies)
    assert env.step(action)[4]["latency_ms"] == pytest.approx(min(latencies))

    def mean_return(name):
        policy = make_policy(env, name, seed=0)
        online = getattr(policy, "online", False)
        return np.mean([run_episode(env, policy, s, online).episode_return for s in range(3)])

    best = mean_return("oracle")
    for name in ["random", "round_robin", "least_loaded", "nearest_region", "static_table"]:
        assert mean_return(name) < best


def test_linucb_beats_the_context_free_bandits():
    # The best replica depends on the request's type and region, which only a contextual
    # bandit can use (Li et al., WWW 2010).
    def latency(agent_name):
        env = gym.make(ENV_ID, episode_length=2000, max_episode_steps=2000)
        agent = make_agent(agent_name, env, seed=0)
        return np.mean(
            [run_episode(env, agent, s, True).metrics["mean_latency_ms"] for s in range(2)]
        )

    linucb = latency("linucb")
    for name in ["ucb1", "epsilon_greedy", "thompson_gaussian"]:
        assert linucb < 0.5 * latency(name)


def test_swap_drift_exchanges_two_profiles_mid_episode():
    env = ServiceRoutingEnv(drift="swap", episode_length=100)
    env.reset(seed=1)
    a, b = env._drift_pair
    assert 25 <= env._drift_step < 75 and a != b
    for _ in range(env._drift_step):
        env.step(0)
    profiles = env.fleet.service_ms
    assert profiles[a] == list(env.config.service_ms[b]) and profiles[b] == list(
        env.config.service_ms[a]
    )


def test_nearest_region_stays_local_and_static_table_fits_after_warmup():
    env = gym.make(ENV_ID)
    nearest = make_policy(env, "nearest_region", seed=0)
    observation, _ = env.reset(seed=0)
    for _ in range(50):
        region = env.unwrapped.current_request[2]
        action = nearest.act(observation)
        assert env.unwrapped.config.regions[action] == region
        observation, *_ = env.step(action)
    table = make_policy(env, "static_table", seed=0)
    run_episode(env, table, seed=0, learn=True)
    assert table.table is not None and all(len(row) == 2 for row in table.table)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"service_ms": [[1.0, 2.0]]}, "service_ms"),
        ({"service_ms": [[1.0, -2.0, 3.0]]}, "service_ms"),
        ({"regions": [0, 0, 1]}, "regions"),
        ({"load": 1.0}, "load"),
        ({"type_mix": [0.0, 0.0, 0.0]}, "type_mix"),
        ({"priority_share": 1.5}, "priority_share"),
        ({"timeout_ms": 0.0}, "timeout_ms"),
        ({"drift": "gradual"}, "drift"),
        ({"episode_length": 0}, "episode_length"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ServiceRoutingEnv(**kwargs)

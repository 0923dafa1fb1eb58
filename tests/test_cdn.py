"""CDN-v0: the simulator against hand-computed traces, LRU against Che's approximation,
the bound against brute force and every reference policy, the workload's shape, the
configuration's errors."""

from __future__ import annotations

import functools
import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from scipy.optimize import brentq

import opsgym.envs  # noqa: F401  (registers the ids)
from opsgym.agents.protocol import MaskAwareCaller
from opsgym.baselines import make_policy, policy_names
from opsgym.envs.cdn import CDNConfig, CDNEnv, reward_bound
from opsgym.envs.cdn.oracle import fetched_bytes_lower_bound, next_uses
from opsgym.envs.cdn.simulator import EdgeCaches, RateTracker
from opsgym.envs.cdn.workload import Workload
from opsgym.envs.core.config import arguments_table

FAST = 1e12  # a link rate [bytes/s] at which every transfer is instant


def caches(capacity, sizes, rate=FAST, timeout=10.0, eviction="lru", pull_limit=None, edges=1):
    cache = EdgeCaches(edges, capacity, sizes, rate, timeout, eviction, pull_limit)
    cache.begin_interval()
    return cache


def run_episode(env, policy_name: str, seed: int) -> tuple[float, dict]:
    caller = MaskAwareCaller(make_policy(env, policy_name, seed=seed))
    observation, info = env.reset(seed=seed)
    total = 0.0
    while True:
        observation, reward, terminated, truncated, info = env.step(caller.act(observation, info))
        total += reward
        if terminated or truncated:
            return total, info["episode_metrics"]


# ----------------------------------------------------------------------------------------
# The simulator, by hand
# ----------------------------------------------------------------------------------------

SIZES = [100, 150, 100, 200, 250, 300]  # [bytes], object i has SIZES[i]


def test_lru_trace_by_hand():
    cache = caches(300, SIZES)
    traffic = cache.serve([0] * 7, [0, 1, 0, 2, 3, 0, 1], 0.0, 7.0)
    # 0 miss [0]; 1 miss [0 1]; 0 hit [1 0]; 2 miss, evicts 1 [0 2]; 3 miss, evicts 0 [2 3];
    # 0 miss, evicts 2 [3 0]; 1 miss, evicts 3 [0 1]
    assert traffic.requests == [7] and traffic.hits == [1] and traffic.hit_bytes == [100]
    assert traffic.requested_bytes == [900] and traffic.fill_bytes == [800]
    assert cache.contents(0) == [0, 1] and cache.used == [250]


def test_lru_and_fifo_differ_where_a_hit_refreshes():
    lru, fifo = caches(300, SIZES), caches(300, SIZES, eviction="fifo")
    requests = [0, 1, 0, 2, 0]
    # LRU: the hit on 0 saves it from the eviction for 2, so the last request hits too
    assert lru.serve([0] * 5, requests, 0.0, 5.0).hits == [2]
    # FIFO: 0 was inserted first and goes first
    assert fifo.serve([0] * 5, requests, 0.0, 5.0).hits == [1]
    assert fifo.contents(0) == [2, 0]


def test_edges_keep_their_own_caches():
    cache = caches(300, SIZES, edges=2)
    traffic = cache.serve([0, 1, 1, 0], [0, 0, 0, 0], 0.0, 4.0)
    assert traffic.hits == [1, 1] and traffic.fill_bytes == [100, 100]


def test_objects_above_the_pull_limit_pass_through_unless_pushed():
    cache = caches(1000, SIZES, pull_limit=150)
    traffic = cache.serve([0] * 4, [3, 3, 1, 1], 0.0, 4.0)
    assert traffic.hits == [1] and traffic.fill_bytes == [550]  # 200 twice, 150 once
    assert cache.push(0, 3, 4.0) == "pushed"
    assert cache.serve([0], [3], 4.0, 1.0).hits == [2]


def test_the_origin_link_queues_delays_and_refuses_by_hand():
    """Link of 100 bytes/s, timeout 3 s; one interval of 4 s from t = 0."""
    cache = caches(1000, SIZES, rate=100.0, timeout=3.0)
    assert cache.push(0, 4, 0.0) == "pushed"  # 250 bytes: arrives at 2.5 s
    assert cache.push(0, 3, 0.0) == "dropped"  # would arrive at 4.5 s, 4.5 s after asked
    assert cache.push(0, 4, 0.0) == "cached"
    # requests at 0.5, 1.5, 2.5 and 3.5 s
    traffic = cache.serve([0] * 4, [4, 2, 1, 5], 0.0, 4.0)
    # 4 at 0.5 s is on its way: waits. 2 at 1.5 s: link free at 2.5, arrives 3.5 (2 s).
    # 1 at 2.5 s: arrives 5.0 (2.5 s). 5 at 3.5 s: would arrive 8.0, 4.5 s: shed.
    assert traffic.waited == [1] and traffic.hits == [0] and traffic.shed == [1]
    assert traffic.fill_bytes == [250] and traffic.push_bytes == 250
    assert traffic.pushes_dropped == 1 and traffic.origin_bytes == 500
    assert cache.link_free == pytest.approx(5.0)
    assert cache.backlog(4.0) == pytest.approx(1.0)
    # at 4.15, 4.45 and 4.75 s: 4 and 2 have arrived, 1 (due at 5 s) is still on its way
    cache.begin_interval()
    later = cache.serve([0, 0, 0], [4, 2, 1], 4.0, 0.9)
    assert later.hits == [2] and later.waited == [1] and later.origin_bytes == 0


def test_pushes_too_large_for_the_cache_are_refused():
    cache = caches(200, SIZES)
    assert cache.push(0, 4, 0.0) == "too_large"
    assert cache.traffic.push_bytes == 0


def test_rate_tracker_shares_stay_in_unit_interval_and_growth_shows_a_newcomer():
    tracker = RateTracker(np.array([[4.0], [1.0], [0.0]]), 2.0, 30.0)
    for _ in range(5):
        tracker.update(np.zeros(6, dtype=np.int64), np.array([0, 0, 0, 2, 2, 2]))
    assert np.all(tracker.short / tracker.edge_short <= 1.0)
    growth = tracker.short / (tracker.short + tracker.long)
    assert growth[2, 0] > 0.5 > growth[1, 0]  # the newcomer grows, the forgotten one fades
    holder = caches(1000, SIZES)
    holder.prefill(0, [0])
    assert tracker.candidates(holder, 2) == [2, 1]  # 0 is cached everywhere


# ----------------------------------------------------------------------------------------
# Che's approximation
# ----------------------------------------------------------------------------------------


def che_hit_ratio(popularity: np.ndarray, capacity: int) -> float:
    """LRU's hit ratio under the independent reference model (Che et al., 2002)."""
    characteristic = brentq(lambda t: np.sum(-np.expm1(-popularity * t)) - capacity, 1e-9, 1e12)
    return float(np.sum(popularity * -np.expm1(-popularity * characteristic)))


def test_each_edge_matches_ches_approximation_under_the_independent_reference_model():
    """Zipf(0.8) over 1,000 equal objects, 100 of which fit, regional tastes, no events
    and an unlimited origin: each edge is an LRU cache under the IRM with its own
    popularity, over about 120,000 requests. The tolerance is 5 standard errors of a
    binomial proportion over the edge's requests (about 0.0066): Che's approximation is
    exact as the catalogue grows (Fricker, Robert and Roberts, 2012), and at this size
    its error is far smaller than that; successive hits of LRU are correlated, which the
    factor 5 leaves room for."""
    env = CDNEnv(
        popularity="zipf",
        zipf_exponent=0.8,
        catalog_size=1000,
        regional_share=0.5,
        size_median_kb=100.0,
        size_sigma=0.0,
        capacity_mb=10.0,
        viral_per_hour=0.0,
        origin_mbps=1e6,
        peak_rps=[20.0] * 4,
        daily_trough=1.0,
        episode_length=100,
    )
    env.reset(seed=3)
    for _ in range(100):
        env.step(env.action_space.n - 1)
    totals = env.totals
    assert sum(totals.waited) == sum(totals.shed) == 0
    for e in range(env.n_edges):
        expected = che_hit_ratio(env.workload.popularity[e], 100)
        n = totals.requests[e]
        tolerance = 5 * math.sqrt(expected * (1 - expected) / n)
        assert abs(totals.hits[e] / n - expected) < tolerance, (e, totals.hits[e] / n, expected)


# ----------------------------------------------------------------------------------------
# The bound
# ----------------------------------------------------------------------------------------


def brute_force_fetched(objects, sizes, capacity, initial=()) -> int:
    """The fewest bytes any cache schedule fetches: before each request it may prefetch
    anything (paying the sizes), a request for an object it lacks fetches it (and may keep
    it), and it may drop anything at any time."""
    universe = sorted(set(objects) | set(initial))
    states = [
        frozenset(c)
        for r in range(len(universe) + 1)
        for c in itertools.combinations(universe, r)
        if sum(sizes[o] for o in c) <= capacity
    ]

    @functools.cache
    def best(i: int, held: frozenset) -> int:
        if i == len(objects):
            return 0
        cost = math.inf
        for ready in states:  # what the cache holds when request i arrives
            prefetch = sum(sizes[o] for o in ready - held)
            obj = objects[i]
            miss = 0 if obj in ready else sizes[obj]
            kept = ready | {obj}
            for after in states:
                if after <= kept:
                    cost = min(cost, prefetch + miss + best(i + 1, after))
        return cost

    return best(0, frozenset(initial))


def test_next_uses():
    assert next_uses(np.array([3, 1, 3, 3, 1, 2])).tolist() == [2, 4, 3, 6, 6, 6]


@pytest.mark.parametrize("seed", range(6))
def test_the_byte_belady_bound_is_the_brute_force_optimum_for_equal_sizes(seed):
    rng = np.random.default_rng(seed)
    objects = rng.integers(0, 4, 7).tolist()
    sizes = [10, 10, 10, 10]
    initial = [int(rng.integers(4))]
    exact = brute_force_fetched(objects, sizes, 20, initial)
    assert fetched_bytes_lower_bound(np.array(objects), np.array(sizes), 20, initial) == exact


@pytest.mark.parametrize("seed", range(6))
def test_the_byte_belady_bound_never_exceeds_the_optimum_for_unequal_sizes(seed):
    rng = np.random.default_rng(100 + seed)
    objects = rng.integers(0, 4, 7).tolist()
    sizes = [10, 25, 15, 30]
    bound = fetched_bytes_lower_bound(np.array(objects), np.array(sizes), 40)
    assert bound <= brute_force_fetched(objects, sizes, 40)
    # and it is not trivial: at least every object's first request is fetched whole
    assert bound >= sum(sizes[o] for o in set(objects))


def test_the_bound_is_above_every_action_sequence_on_a_tiny_instance():
    env = CDNEnv(
        utc_offsets=[0.0, 6.0],
        peak_rps=[0.5, 0.5],
        catalog_size=30,
        n_candidates=1,
        episode_length=3,
        capacity_mb=2.0,
        viral_per_hour=20.0,
        origin_mbps=2.0,
    )
    for seed in range(3):
        env.reset(seed=seed)
        bound = reward_bound(env)
        best = -math.inf
        for actions in itertools.product(range(env.action_space.n), repeat=3):
            env.reset(seed=seed)
            best = max(best, sum(env.step(a)[1] for a in actions))
        assert bound >= best


@pytest.mark.parametrize("scenario", [{}, {"viral_per_hour": 6.0}, {"flash_crowds_per_day": 24}])
def test_the_bound_is_above_every_reference_policy(scenario):
    env = CDNEnv(episode_length=60, **scenario)
    for seed in range(2):
        env.reset(seed=seed)
        bound = reward_bound(env)
        for name in policy_names(env):
            total, _ = run_episode(env, name, seed)
            assert total <= bound, (name, seed, total, bound)


# ----------------------------------------------------------------------------------------
# The environment and its policies
# ----------------------------------------------------------------------------------------


def test_reward_is_its_components_and_info_is_consistent():
    env = gym.make("opsgym/CDN-v0", episode_length=30)
    env.reset(seed=0)
    served = 0.0
    for _ in range(30):
        _, reward, _, truncated, info = env.step(0)
        assert reward == pytest.approx(sum(info["rewards"].values()))
        served += info["rewards"]["edge_served"]
        assert 0.0 <= info["hit_ratio"] <= 1.0 and len(info["edge_hit_ratios"]) == 4
    metrics = info["episode_metrics"]
    totals = env.unwrapped.totals
    assert truncated and served == pytest.approx(sum(totals.hit_bytes) / 1e9)
    assert metrics["byte_hit_ratio"] == pytest.approx(
        sum(totals.hit_bytes) / sum(totals.requested_bytes)
    )
    assert metrics["hit_ratio_edge2"] == totals.hits[2] / totals.requests[2]


def test_masked_pushes_are_exactly_the_ones_that_move_bytes():
    env = CDNEnv(episode_length=40)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(40):
        mask = env.action_masks()
        action = int(rng.integers(env.action_space.n))
        info = env.step(action)[4]
        pushed = info["push"] == "pushed"
        assert pushed == (mask[action] and action != env.action_space.n - 1)
        assert info["invalid_action"] == (not mask[action])
        assert (info["push_mb"] > 0) == pushed


def test_pre_positioning_pays_where_edges_do_not_pull_large_objects():
    env = CDNEnv(episode_length=150)
    for seed in range(2):
        pull, pull_metrics = run_episode(env, "lru_pull", seed)
        regional, regional_metrics = run_episode(env, "regional_top_k", seed)
        oracle, _ = run_episode(env, "oracle", seed)
        assert regional > 1.5 * pull and oracle > 1.5 * pull
        assert regional_metrics["byte_hit_ratio"] > pull_metrics["byte_hit_ratio"] + 0.1


def test_rules_fall_back_on_the_observation_without_a_mask():
    env = CDNEnv(episode_length=5)
    observation, _ = env.reset(seed=0)
    for name in ("global_top_k", "regional_top_k", "trend"):
        action = make_policy(env, name).act(observation)
        assert env.action_masks()[action]


# ----------------------------------------------------------------------------------------
# The workload
# ----------------------------------------------------------------------------------------


def test_each_edge_peaks_at_four_in_the_afternoon_local_time():
    config = CDNConfig(episode_length=1440, viral_per_hour=0.0)
    workload = Workload(config, np.random.default_rng(0))
    for e, offset in enumerate(config.utc_offsets):
        peak = int(np.argmax(workload.mean_requests[e]))
        local = (workload.start_seconds / 3600 + peak / 60 + 0.5 / 60 + offset) % 24
        assert abs(local - 16.0) < 0.1
        expected_trough = config.daily_trough * workload.mean_requests[e].max()
        assert workload.mean_requests[e].min() == pytest.approx(expected_trough, rel=1e-3)


def test_a_viral_object_starts_in_one_region_and_reaches_the_others_later():
    config = CDNConfig(episode_length=600, viral_per_hour=0.2, spread_delay_minutes=120.0)
    workload = Workload(config, np.random.default_rng(2))
    shares = workload.event_shares[:, :, 0]  # (interval, edge) of the first viral object
    first = [int(np.flatnonzero(shares[:, e] > 0)[0]) for e in range(config.n_edges)]
    origin = int(np.argmin(first))
    # every other region at least half the mean delay later, at most 1.5 times
    assert all(60 <= first[e] - first[origin] <= 181 for e in range(4) if e != origin)
    assert shares[:, origin].max() == pytest.approx(config.viral_share, rel=0.05)


def test_a_flash_crowd_strikes_every_edge_at_once():
    config = CDNConfig(episode_length=300, viral_per_hour=0.0, flash_crowds_per_day=10.0)
    workload = Workload(config, np.random.default_rng(5))
    assert len(workload.crowd_starts) >= 1
    start = int(workload.crowd_starts[0] // 60) + 1
    quiet = Workload(CDNConfig(episode_length=300, viral_per_hour=0.0), np.random.default_rng(5))
    ratio = workload.mean_requests[:, start + 5] / quiet.mean_requests[:, start + 5]
    assert np.all(ratio > 2.0) and np.ptp(ratio) < 1e-9  # every edge, the same surge


def test_requests_drawn_ahead_are_the_requests_served():
    env = CDNEnv(episode_length=20)
    env.reset(seed=9)
    ahead = [env.workload.requests(t)[1].copy() for t in range(5, 10)]
    other = CDNEnv(episode_length=20)
    other.reset(seed=9)
    for _ in range(10):
        other.step(other.action_space.n - 1)
    assert all(np.array_equal(a, other.workload.requests(5 + i)[1]) for i, a in enumerate(ahead))


# ----------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"capacity_mb": -1.0}, "capacity_mb"),
        ({"peak_rps": [1.0, 2.0]}, "peak_rps must have 4 elements"),
        ({"utc_offsets": [20.0]}, r"utc_offsets\[0\]"),
        ({"eviction": "lfu"}, "eviction"),
        ({"catalog_size": 30_000}, "catalog_size must be <= 20484"),
        ({"egress_cost": 1.5}, "egress_cost"),
        ({"episode_length": 0}, "episode_length"),
        ({"viral_share": 0.9}, "viral_share"),
        ({"origin_mbps": float("nan")}, "origin_mbps"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("opsgym/CDN-v0", **kwargs)


def test_wrong_types_are_named():
    with pytest.raises(TypeError, match="n_candidates"):
        CDNConfig(n_candidates=2.5)
    with pytest.raises(TypeError, match="utc_offsets"):
        CDNConfig(utc_offsets="UTC")


def test_numpy_numbers_and_arrays_are_accepted():
    config = CDNConfig(
        n_candidates=np.int64(4), capacity_mb=np.float32(8.0), peak_rps=np.array([1.0, 2, 3, 4])
    )
    assert config.n_candidates == 4 and type(config.n_candidates) is int
    assert config.peak_rps == (1.0, 2.0, 3.0, 4.0)
    assert CDNEnv(n_candidates=np.int64(3)).action_space.n == 13


def test_the_docstring_documents_every_argument_with_its_default():
    doc = CDNEnv.__doc__
    assert "\n".join(arguments_table(CDNConfig)) in doc.replace("\n    ", "\n")
    for field in CDNConfig.__dataclass_fields__:
        assert f"| `{field}` |" in doc


def test_the_package_surface_resolves():
    import importlib

    from opsgym.baselines import cdn as cdn_baselines
    from opsgym.envs import cdn

    assert cdn.ENV is CDNEnv and cdn.VECTOR_ENV is None
    assert importlib.import_module(cdn.POLICIES) is cdn_baselines
    observations = []
    for variation in cdn.NODE_VARIATIONS:
        env = CDNEnv(**variation)
        observations.append(env.reset(seed=0)[0])
    assert len({o.tobytes() for o in observations}) == len(cdn.NODE_VARIATIONS)


def test_step_before_reset_is_an_error():
    with pytest.raises(RuntimeError, match="reset"):
        CDNEnv().step(0)

"""The cache simulators against hand traces, brute force and Che's approximation; the env
against the exact simulators; the trace readers against bad input."""

from __future__ import annotations

import gzip
import itertools
import re
from functools import cache

import gymnasium as gym
import numpy as np
import pytest
from scipy.optimize import brentq

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy
from opsgym.envs.caching import CachingEnv
from opsgym.envs.core import exact_caches as exact
from opsgym.envs.core import request_streams, traces
from opsgym.envs.core.data_files import DataFileError
from opsgym.train.runner import run_episode


def hits(stats: exact.CacheStats) -> list[int]:
    return list(stats.hit)


# ---------------------------------------------------------------------------------------
# Exact simulators on hand-computed traces
# ---------------------------------------------------------------------------------------

# Capacity 3. After A B C (misses) and the hits on B and A:
# FIFO and LRU evict A then B for D and E, and miss B at the end; SIEVE's hand clears the
# visited bits of A and B and evicts C for D, then evicts A (no longer visited) for E,
# so B hits at the end. Belady bypasses D and E (never requested again) and hits B.
SIEVE_TRACE = list("ABCBADEB")


@pytest.mark.parametrize(
    "policy, expected",
    [
        ("fifo", [0, 0, 0, 1, 1, 0, 0, 0]),
        ("lru", [0, 0, 0, 1, 1, 0, 0, 0]),
        ("sieve", [0, 0, 0, 1, 1, 0, 0, 1]),
        # ARC: B and A move to T2 on their hits; D and E each push T1's oldest (C, then
        # D) to the ghost list B1, since the target size of T1 is still 0; B hits in T2
        ("arc", [0, 0, 0, 1, 1, 0, 0, 1]),
        ("belady", [0, 0, 0, 1, 1, 0, 0, 1]),
        ("belady_forced", [0, 0, 0, 1, 1, 0, 0, 1]),
    ],
)
def test_policies_on_a_hand_trace(policy, expected):
    assert hits(exact.simulate(policy, SIEVE_TRACE, 3)) == expected


def test_fifo_and_lru_differ_where_a_hit_refreshes_recency():
    # Capacity 3: A B C miss, A hits; D evicts A under FIFO (first in) but B under LRU
    # (A was just used); B then misses under both, A hits only under LRU.
    trace = list("ABCADBAE")
    assert hits(exact.fifo(trace, 3)) == [0, 0, 0, 1, 0, 1, 0, 0]
    assert hits(exact.lru(trace, 3)) == [0, 0, 0, 1, 0, 0, 1, 0]


def test_lfu_keeps_the_frequent_object_lru_drops():
    # Capacity 2: A is requested twice; B, C and D once. LFU evicts the count-1 object each
    # time and keeps A; LRU evicts A when C arrives.
    trace = list("AABCDA")
    assert hits(exact.lfu(trace, 2)) == [0, 1, 0, 0, 0, 1]
    assert hits(exact.lru(trace, 2)) == [0, 1, 0, 0, 0, 0]


def test_lfu_breaks_ties_by_recency():
    # Capacity 2, both at count 1: C evicts A (the less recently requested), not B.
    assert hits(exact.lfu(list("ABCB"), 2)) == [0, 0, 0, 1]


def test_byte_hit_ratio_weights_hits_by_size():
    stats = exact.lru([1, 2, 1, 2], 10, sizes=[6, 2, 6, 2])  # both fit: the repeats hit
    assert stats.hit_ratio == 0.5
    assert stats.byte_hit_ratio == pytest.approx(8 / 16)
    stats = exact.lru([1, 2, 1, 2], 7, sizes=[6, 2, 6, 2])  # only one fits at a time
    assert stats.hits == 0 and stats.byte_hit_ratio == 0.0


def test_objects_larger_than_the_cache_are_never_admitted():
    for policy in exact.SIZED_POLICIES:
        stats = exact.simulate(policy, [1, 1, 2, 2], 5, sizes=[9, 9, 3, 3])
        assert hits(stats) == [0, 0, 0, 1], policy


def test_a_large_object_evicts_as_many_small_ones_as_it_needs():
    # Capacity 4 holds A, B, C, D of size 1; E of size 3 evicts A, B and C under FIFO.
    trace, sizes = list("ABCDEDA"), [1, 1, 1, 1, 3, 1, 1]
    assert hits(exact.fifo(trace, 4, sizes)) == [0, 0, 0, 0, 0, 1, 0]


def test_next_use_indices():
    assert exact.next_use_indices(list("ABAB")) == [2, 3, 4 + 2, 4 + 3]


def test_next_use_indices_by_sorting_match_the_backward_scan():
    ids = np.random.default_rng(0).zipf(1.2, size=5000) % 300  # long: the numpy path
    expected = exact.next_use_indices([str(x) for x in ids])  # strings: the scan
    assert exact.next_use_indices(ids) == expected
    assert exact.next_use_indices(ids.tolist()) == expected


def test_unit_size_belady_matches_the_sized_simulator_given_unit_sizes():
    rng = np.random.default_rng(1)
    for _ in range(40):
        ids = (rng.zipf(1.3, size=int(rng.integers(1, 400))) % 50).tolist()
        capacity = int(rng.integers(1, 20))
        for bypass in (True, False):
            unit = exact.belady(ids, capacity, bypass=bypass)
            sized = exact.belady(ids, capacity, [1] * len(ids), bypass=bypass)
            assert unit.hit == sized.hit, (ids, capacity, bypass)


# ---------------------------------------------------------------------------------------
# Belady's MIN against exhaustive search
# ---------------------------------------------------------------------------------------


def best_hits(trace: list, size_of: dict, capacity: int, bypass: bool) -> int:
    """The most hits any sequence of admissions and evictions can earn (brute force)."""

    @cache
    def best(i: int, cache: frozenset) -> int:
        if i == len(trace):
            return 0
        x = trace[i]
        if x in cache:
            return 1 + best(i + 1, cache)
        size = size_of[x]
        options = [best(i + 1, cache)] if bypass or size > capacity else []
        members = sorted(cache)
        for r in range(len(members) + 1):
            for victims in itertools.combinations(members, r):
                kept = cache.difference(victims)
                if sum(size_of[y] for y in kept) + size <= capacity:
                    options.append(best(i + 1, kept | {x}))
        return max(options)

    return best(0, frozenset())


def random_traces(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        length = int(rng.integers(1, 11))
        trace = rng.integers(0, 5, size=length).tolist()
        yield trace, int(rng.integers(1, 4))


def test_belady_with_bypass_equals_exhaustive_search():
    for trace, capacity in random_traces(seed=0, count=300):
        expected = best_hits(trace, dict.fromkeys(range(5), 1), capacity, bypass=True)
        assert exact.belady(trace, capacity).hits == expected, (trace, capacity)


def test_forced_belady_equals_exhaustive_search_without_bypass():
    for trace, capacity in random_traces(seed=1, count=300):
        expected = best_hits(trace, dict.fromkeys(range(5), 1), capacity, bypass=False)
        assert exact.belady_forced(trace, capacity).hits == expected, (trace, capacity)


def test_bypass_can_beat_demand_paging():
    # Capacity 1: admitting x pushes out a, which comes back right after.
    assert exact.belady(list("axa"), 1).hits == 1
    assert exact.belady_forced(list("axa"), 1).hits == 0


def test_no_policy_beats_belady_on_random_traces():
    rng = np.random.default_rng(2)
    for _ in range(50):
        trace = rng.integers(0, 30, size=400).tolist()
        capacity = int(rng.integers(1, 20))
        ceiling = exact.belady(trace, capacity).hits
        for policy in exact.POLICIES:
            assert exact.simulate(policy, trace, capacity).hits <= ceiling, policy


def test_belady_with_sizes_is_a_heuristic_not_the_optimum():
    # Capacity 2; c has size 2, a and d size 1. Furthest-next-use evicts a (needed at the
    # end) to admit c, then c for d; the optimum keeps a, bypasses c and caches d beside a.
    trace, size_of = list("acddca"), {"a": 1, "c": 2, "d": 1}
    sizes = [size_of[x] for x in trace]
    assert exact.belady(trace, 2, sizes).hits == 1
    assert best_hits(trace, size_of, 2, bypass=True) == 2


def test_belady_with_sizes_never_claims_more_than_the_optimum():
    rng = np.random.default_rng(3)
    size_of = {0: 1, 1: 1, 2: 2, 3: 3}
    for _ in range(150):
        trace = rng.integers(0, 4, size=int(rng.integers(1, 9))).tolist()
        capacity = int(rng.integers(1, 5))
        sizes = [size_of[x] for x in trace]
        assert exact.belady(trace, capacity, sizes).hits <= best_hits(
            trace, size_of, capacity, bypass=True
        )


# ---------------------------------------------------------------------------------------
# LRU under the independent reference model: Che's approximation
# ---------------------------------------------------------------------------------------


def che_hit_ratio(popularity: np.ndarray, capacity: int) -> float:
    """LRU's hit ratio under IRM by Che, Tung and Wang (IEEE JSAC 2002).

    The characteristic time T solves sum_i (1 - exp(-p_i T)) = C; object i hits with
    probability 1 - exp(-p_i T).
    """
    occupancy = lambda t: np.sum(1.0 - np.exp(-popularity * t)) - capacity  # noqa: E731
    t = brentq(occupancy, 1e-9, 1e9)
    return float(np.sum(popularity * (1.0 - np.exp(-popularity * t))))


@pytest.mark.parametrize("exponent, capacity", [(0.8, 100), (1.0, 50), (0.6, 300)])
def test_lru_hit_ratio_under_irm_matches_che_approximation(exponent, capacity):
    popularity = request_streams.zipf_probabilities(2000, exponent)
    rng = np.random.default_rng(4)
    requests = request_streams.zipf_requests(rng, 300_000, request_streams.alias_table(popularity))
    warm = 20_000  # drop the cold start, which Che's stationary formula ignores
    measured = np.frombuffer(exact.lru(requests, capacity).hit, np.uint8)[warm:].mean()
    assert measured == pytest.approx(che_hit_ratio(popularity, capacity), abs=0.01)


def test_zipf_sampler_follows_the_popularity():
    popularity = request_streams.zipf_probabilities(50, 1.0)
    requests = request_streams.zipf_requests(
        np.random.default_rng(5), 200_000, request_streams.alias_table(popularity)
    )
    frequencies = np.bincount(requests, minlength=50) / len(requests)
    assert np.abs(frequencies - popularity).max() < 0.005


# ---------------------------------------------------------------------------------------
# Heuristic orderings theory predicts
# ---------------------------------------------------------------------------------------


def test_on_zipf_lfu_and_lru_beat_fifo_and_belady_beats_all():
    table = request_streams.alias_table(request_streams.zipf_probabilities(5000, 0.9))
    requests = request_streams.zipf_requests(np.random.default_rng(6), 100_000, table)
    ratio = {p: exact.simulate(p, requests, 200).hit_ratio for p in exact.POLICIES}
    # under IRM, LFU (keeping the most popular) approaches the static optimum
    assert ratio["lfu"] > ratio["lru"] + 0.03 > ratio["fifo"] + 0.03
    assert ratio["sieve"] > ratio["fifo"]
    assert ratio["belady"] > max(ratio["lfu"], ratio["sieve"])


def test_scans_flush_lru_but_not_lfu():
    # Every 500 requests, 250 one-off objects (more than the cache holds) pass through.
    table = request_streams.alias_table(request_streams.zipf_probabilities(5000, 0.9))
    base = request_streams.zipf_requests(np.random.default_rng(7), 60_000, table)
    scanned = request_streams.add_scans(base, every=500, length=250, first_id=5000)
    popular = scanned < 5000  # the requests the scans did not replace

    def loss(policy: str) -> float:
        before = np.frombuffer(exact.simulate(policy, base, 200).hit, np.uint8)[popular]
        after = np.frombuffer(exact.simulate(policy, scanned, 200).hit, np.uint8)[popular]
        return 1.0 - after.mean() / before.mean()

    # LRU admits every scanned object at the front and loses its whole working set;
    # LFU evicts the count-1 newcomers first and keeps it; SIEVE passes them through.
    assert loss("lru") > 0.2
    assert loss("lfu") < 0.03
    assert loss("sieve") < 0.06
    assert loss("arc") < 0.06


def _mean_hit_ratio(env, name: str, seeds) -> float:
    policy = make_policy(env, name, seed=0)
    return float(np.mean([run_episode(env, policy, s).metrics["hit_ratio"] for s in seeds]))


def test_env_heuristics_on_zipf_order_as_theory_predicts():
    env = gym.make("opsgym/Caching-v0", episode_length=6000, capacity=100)
    ratio = {n: _mean_hit_ratio(env, n, [0, 1]) for n in ("random", "fifo", "lru", "lfu")}
    assert min(ratio["lru"], ratio["lfu"]) > max(ratio["random"], ratio["fifo"]) + 0.02


def test_env_scans_collapse_lru_but_not_frequency_admission():
    env = gym.make("opsgym/Caching-v0", workload="scan", episode_length=6000, capacity=100)
    lru = _mean_hit_ratio(env, "lru", [0, 1])
    admission = _mean_hit_ratio(env, "lfu_admission", [0, 1])
    assert admission > lru + 0.08


# ---------------------------------------------------------------------------------------
# The env against the exact simulators
# ---------------------------------------------------------------------------------------


def _env_hits(env: CachingEnv, name: str, seed: int) -> tuple[float, list]:
    result = run_episode(env, make_policy(env, name, seed=0), seed)
    return result.episode_return, env.requests()[0]


@pytest.mark.parametrize("workload", ["zipf", "scan", "drift"])
@pytest.mark.parametrize("name, exact_policy", [("lru", "lru"), ("fifo", "fifo"), ("lfu", "lfu")])
def test_env_showing_the_whole_cache_reproduces_the_exact_simulator(workload, name, exact_policy):
    env = CachingEnv(capacity=30, n_candidates=30, workload=workload, episode_length=4000)
    total, ids = _env_hits(env, name, seed=3)
    assert total == exact.simulate(exact_policy, ids, 30).hits


@pytest.mark.parametrize("name", ["lru", "fifo"])
def test_env_with_sizes_evicts_like_the_exact_simulator(name):
    # Every object has at least 1 byte, so 40 candidates show all of a 40-byte cache; a
    # large newcomer makes the env evict candidate after candidate until it fits.
    env = CachingEnv(
        capacity=40,
        n_candidates=40,
        size_distribution="lognormal",
        size_median=4.0,
        size_sigma=1.0,
        catalog_size=500,
        episode_length=3000,
    )
    run_episode(env, make_policy(env, name), 4)
    ids, sizes = env.requests()
    expected = exact.simulate(name, ids, 40, sizes)
    assert (env.simulator.hits, env.simulator.bytes_hit) == (expected.hits, expected.bytes_hit)
    assert expected.hits > 100


def test_oracle_showing_the_whole_cache_reaches_belady():
    env = CachingEnv(capacity=30, n_candidates=32, episode_length=4000)
    result = run_episode(env, make_policy(env, "oracle"), 8)
    assert result.metrics["hit_ratio"] == result.metrics["belady_hit_ratio"]
    assert result.episode_return == exact.belady(env.requests()[0], 30).hits


def test_no_env_policy_beats_belady():
    env = CachingEnv(capacity=50, workload="periodic", episode_length=3000)
    for name in ("random", "fifo", "lru", "lfu", "lfu_admission", "oracle"):
        metrics = run_episode(env, make_policy(env, name, seed=1), 9).metrics
        assert metrics["hit_ratio"] <= metrics["belady_hit_ratio"], name


def test_return_is_the_hit_count_and_bytes_reward_the_byte_hits():
    env = CachingEnv(capacity=3000, size_distribution="lognormal", episode_length=3000)
    result = run_episode(env, make_policy(env, "lru"), 10)
    sim = env.simulator
    assert result.episode_return == sim.hits == pytest.approx(result.metrics["hit_ratio"] * 3000)
    env = CachingEnv(
        capacity=3000, size_distribution="lognormal", episode_length=3000, reward_metric="bytes"
    )
    result = run_episode(env, make_policy(env, "lru"), 10)
    mean_size = 100.0 * np.exp(0.5)  # the lognormal mean, median 100 and sigma 1
    assert result.episode_return == pytest.approx(env.simulator.bytes_hit / mean_size)
    sizes = env.requests()[1]
    assert result.metrics["byte_hit_ratio"] == pytest.approx(env.simulator.bytes_hit / sum(sizes))
    assert np.mean(sizes) == pytest.approx(mean_size, rel=0.3)


def test_an_episode_without_decisions_is_one_step():
    env = CachingEnv(capacity=100, catalog_size=50, episode_length=500)
    observation, _ = env.reset(seed=0)
    assert not observation.any()
    _, reward, terminated, truncated, info = env.step(0)
    assert truncated and not terminated
    assert reward == info["episode_metrics"]["hit_ratio"] * 500
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_observation_reports_the_candidates_features(tmp_path):
    # 1 and 2 are admitted at times 0 and 1, 1 hits at time 2, 3 misses at time 3.
    path = tmp_path / "four.txt"
    path.write_text("1\n2\n1\n3\n")
    env = CachingEnv(
        capacity=2, n_candidates=2, workload="trace", trace_path=str(path), episode_length=4
    )
    observation, _ = env.reset(seed=0)
    assert env.simulator.candidates == [1, 2]
    t = np.log1p
    size = t(1) / t(2)  # every size is 1 byte, on the scale of a 2-byte capacity
    expected = [
        *(t(1) / t(4), t(2) / t(4), t(3) / t(4), size),  # object 1
        *(t(2) / t(4), t(1) / t(4), t(2) / t(4), size),  # object 2
        *(0.0, size, 0.5),  # object 3: never requested before; frees 1 of 2 bytes
    ]
    np.testing.assert_allclose(observation, expected, rtol=1e-6)
    fields = env.observation_fields()
    assert observation[fields["recency"]].tolist() == pytest.approx([t(1) / t(4), t(2) / t(4)])


def test_candidates_are_distinct_when_the_cache_holds_more_than_k():
    env = CachingEnv(capacity=50, n_candidates=8, episode_length=2000)
    env.reset(seed=0)
    for _ in range(200):
        candidates = env.simulator.candidates
        assert len(set(candidates)) == 8 and set(candidates) <= set(env.simulator.members)
        if env.step(0)[3]:
            break


def test_web07_windows_come_from_the_shipped_trace():
    trace = traces.web07()
    assert len(trace) == 76_118 and len(np.unique(trace.ids)) == 20_484
    env = CachingEnv(workload="web07", capacity=500, episode_length=5000)
    env.reset(seed=1)
    window = np.array(env.requests()[0])
    starts = np.flatnonzero(trace.ids == window[0])
    assert any(np.array_equal(trace.ids[s : s + 5000], window) for s in starts)


# ---------------------------------------------------------------------------------------
# Synthetic patterns
# ---------------------------------------------------------------------------------------


def test_drift_moves_the_popular_set():
    ranks = np.zeros(10, dtype=np.int64)  # always the most popular rank
    assert request_streams.drift(ranks, 100, period=4, shift=7).tolist() == [
        0, 0, 0, 0, 7, 7, 7, 7, 14, 14,
    ]  # fmt: skip


def test_scans_loops_and_one_hit_wonders():
    base = np.zeros(20, dtype=np.int64)
    scanned = request_streams.add_scans(base, every=10, length=3, first_id=100)
    assert scanned.tolist() == [0] * 7 + [100, 101, 102] + [0] * 7 + [103, 104, 105]
    rng = np.random.default_rng(0)
    looped = request_streams.add_loop(rng, np.zeros(10_000, np.int64), 0.5, 4, 100)
    loop = looped[looped >= 100]
    assert loop[:8].tolist() == [100, 101, 102, 103, 100, 101, 102, 103]
    assert len(loop) / 10_000 == pytest.approx(0.5, abs=0.02)
    wonders = request_streams.add_one_hit_wonders(rng, np.zeros(10_000, np.int64), 0.3, 100)
    once = wonders[wonders >= 100]
    assert len(np.unique(once)) == len(once)
    assert len(once) / 10_000 == pytest.approx(0.3, abs=0.02)


def test_every_request_of_an_object_has_its_size():
    env = CachingEnv(size_distribution="lognormal", catalog_size=300, episode_length=5000)
    env.reset(seed=0)
    ids, sizes = env.requests()
    size_of = dict(zip(ids, sizes))
    assert len(size_of) < 300 and [size_of[x] for x in ids] == sizes
    assert min(sizes) >= 1


def test_chunked_requests_do_not_depend_on_when_they_are_drawn():
    for workload in ("zipf", "drift", "scan", "periodic", "one_hit_wonders", "web07"):
        kwargs = dict(workload=workload, size_distribution="lognormal", episode_length=5000)
        eager, lazy = CachingEnv(**kwargs), CachingEnv(**kwargs)
        eager.reset(seed=3)
        eager.requests()  # every chunk drawn now
        lazy.reset(seed=3)
        for _ in range(300):
            lazy.step(0)  # chunks drawn as the cache reaches them
        assert lazy.requests() == eager.requests(), workload
        assert len(eager.requests()[0]) == 5000


def test_pattern_counters_carry_across_chunks():
    env = CachingEnv(workload="periodic", loop_size=7, loop_fraction=0.5, episode_length=5000)
    env.reset(seed=0)
    loop = [x for x in env.requests()[0] if x >= 10_000]
    assert loop == [10_000 + i % 7 for i in range(len(loop))]
    env = CachingEnv(workload="scan", episode_length=5000)
    env.reset(seed=0)
    ids = np.array(env.requests()[0])
    scans = ids[ids >= 10_000]
    assert scans.tolist() == list(range(10_000, 10_000 + len(scans)))
    assert len(scans) == 2 * 300  # two scans end the two full periods of 2,000 requests


# ---------------------------------------------------------------------------------------
# Trace readers
# ---------------------------------------------------------------------------------------


def test_readers_round_trip(tmp_path):
    ids = np.array([5, 7, 5, 2**31 - 1], dtype=np.int64)
    (tmp_path / "t.txt").write_text("".join(f"{i}\n" for i in ids))
    (tmp_path / "t.csv").write_text(
        "time,obj_id,size\n" + "".join(f"{t},{i},{10 + t}\n" for t, i in enumerate(ids))
    )
    (tmp_path / "t.trc.bin.gz").write_bytes(gzip.compress(ids.astype(">i4").tobytes()))
    records = np.zeros(4, dtype=traces.ORACLE_GENERAL_RECORD)
    records["obj_id"], records["size"] = ids, [10, 11, 12, 13]
    records["next_access_vtime"] = [2, -1, -1, -1]
    (tmp_path / "t.oracleGeneral.bin").write_bytes(records.tobytes())
    for name in ("t.txt", "t.csv", "t.trc.bin.gz", "t.oracleGeneral.bin"):
        trace = traces.read_trace(tmp_path / name)
        assert trace.ids.tolist() == ids.tolist(), name
    assert traces.read_trace(tmp_path / "t.csv").sizes.tolist() == [10, 11, 12, 13]
    assert traces.read_trace(tmp_path / "t.oracleGeneral.bin").sizes.tolist() == [10, 11, 12, 13]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("bad.txt", b"1\n2\nthree\n", r"bad.txt: line 3: .*'three'"),
        ("empty.txt", b"", r"empty.txt: the file is empty"),
        ("header.csv", b"t,id,bytes\n1,2,3\n", r"header.csv: line 1: .*missing"),
        ("id.csv", b"time,obj_id,size\n1,2,3\n2,x,3\n", r"id.csv: line 3: obj_id"),
        ("size.csv", b"time,obj_id,size\n1,2,3\n2,5,-1\n", r"size.csv: line 3: size"),
        ("short.csv", b"time,obj_id,size\n1,2\n", r"short.csv: line 2: expected 3 fields"),
        ("empty.csv", b"", r"empty.csv: the file is empty"),
        (
            "cut.gz",
            gzip.compress(b"\x00\x00\x00\x01\x00\x00", mtime=0),
            r"cut.gz: record 1: truncated",
        ),
        ("plain.gz", b"\x00\x00\x00\x01", r"plain.gz: not a gzip file"),
        ("empty.gz", b"", r"empty.gz: the file is empty"),
        ("x.oracleGeneral", b"\x00" * 30, r"x.oracleGeneral: record 1: truncated"),
    ],
)
def test_malformed_traces_name_the_file_and_place(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        traces.read_trace(path)


def test_a_missing_trace_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"absent.txt: cannot be read"):
        traces.read_trace(tmp_path / "absent.txt")
    with pytest.raises(ValueError, match="absent.gz"):
        CachingEnv(workload="trace", trace_path=str(tmp_path / "absent.gz"))


def test_zero_size_oracle_general_record_is_named(tmp_path):
    records = np.zeros(3, dtype=traces.ORACLE_GENERAL_RECORD)
    records["size"] = [5, 5, 0]
    path = tmp_path / "z.oracleGeneral"
    path.write_bytes(records.tobytes())
    with pytest.raises(DataFileError, match="record 2: size"):
        traces.read_trace(path)


# ---------------------------------------------------------------------------------------
# Real traces among the shared fixtures (read, never copied; see conftest.py)
# ---------------------------------------------------------------------------------------


def test_lru_on_the_arc_oltp_trace_matches_the_published_hit_ratios(shared_fixtures):
    trace = traces.read_trace(shared_fixtures / "cache" / "trace-oltp.trc.bin.gz")
    assert len(trace) == 914_145 and len(np.unique(trace.ids)) == 186_880
    # Megiddo and Modha, ARC (FAST 2003), Table III, OLTP: hit ratios [%] at c pages
    for capacity, lru, arc in [(2000, 42.47, 46.08), (5000, 53.65, 55.25)]:
        assert round(100 * exact.lru(trace.ids, capacity).hit_ratio, 2) == lru
        assert round(100 * exact.arc(trace.ids, capacity).hit_ratio, 2) == arc


@pytest.mark.parametrize(
    "name", ["trace-cpp.trc.bin.gz", "trace-glimpse.trc.bin.gz", "trace-sprite.trc.bin.gz"]
)
def test_lirs_traces_order_policies_under_belady(name, shared_fixtures):
    trace = traces.read_trace(shared_fixtures / "cache" / name)
    distinct = len(np.unique(trace.ids))
    capacity = max(1, distinct // 10)
    ceiling = exact.belady(trace.ids, capacity).hit_ratio
    for policy in ("fifo", "lru", "lfu", "sieve"):
        assert 0.0 <= exact.simulate(policy, trace.ids, capacity).hit_ratio <= ceiling


def test_cloudphysics_one_id_per_line(shared_fixtures):
    trace = traces.read_trace(shared_fixtures / "cache" / "cloudPhysicsIO.txt")
    assert len(trace) == 113_872 and len(np.unique(trace.ids)) == 48_974


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"capacity": 0}, "capacity"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"workload": "lru"}, "workload"),
        ({"scan_length": 2000}, "scan_length"),
        ({"loop_fraction": 1.5}, "loop_fraction"),
        ({"zipf_exponent": -1.0}, "zipf_exponent"),
        ({"size_distribution": "pareto"}, "size_distribution"),
        ({"workload": "trace"}, "trace_path"),
        ({"trace_format": "parquet"}, "trace_format"),
        ({"reward_metric": "latency"}, "reward_metric"),
        ({"count_half_life": -1.0}, "count_half_life"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        CachingEnv(**kwargs)


def test_simulate_validates_its_arguments():
    with pytest.raises(ValueError, match="policy"):
        exact.simulate("clock", [1], 1)
    with pytest.raises(ValueError, match="capacity"):
        exact.simulate("lru", [1], 0)
    with pytest.raises(ValueError, match="sizes"):
        exact.simulate("lru", [1, 2], 1, sizes=[1])
    with pytest.raises(ValueError, match="sizes"):
        exact.simulate("lru", [1, 2], 1, sizes=[1, 0])
    with pytest.raises(ValueError, match="arc supports unit sizes only"):
        exact.simulate("arc", [1, 2], 1, sizes=[1, 1])


# ---------------------------------------------------------------------------------------
# The benchmark script
# ---------------------------------------------------------------------------------------


def test_cache_benchmark_prints_hit_ratios_and_speed_ratios(tmp_path, capsys):
    from opsgym.train import cache_benchmark

    path = tmp_path / "t.csv"
    path.write_text(
        "time,obj_id,size\n" + "".join(f"{i},{i % 7},{1 + i % 3}\n" for i in range(200))
    )
    assert (
        cache_benchmark.main(["--trace", str(path), "--capacity", "4", "8", "--rounds", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "200 requests, 7 distinct objects" in out
    lru = exact.lru([i % 7 for i in range(200)], 8, [1 + i % 3 for i in range(200)])
    assert f"{lru.hit_ratio:.4f} ({lru.byte_hit_ratio:.4f})" in out
    assert re.search(r"\| belady +\| [\d,]+ +\| [\d,]+ +\| \d+\.\d\d +\|", out)

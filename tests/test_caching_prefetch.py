"""The prefetching cache against hand traces and brute force; its workloads; the env's
heuristics against each other where theory says who wins."""

from __future__ import annotations

from collections import Counter

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy
from opsgym.envs.caching_prefetch import CachingPrefetchEnv, PrefetchCache
from opsgym.envs.core import exact_caches as exact
from opsgym.envs.core import request_streams
from opsgym.train.runner import run_episode

ENV_ID = "opsgym/CachingPrefetch-v0"
WORKLOADS = ("markov", "sequential", "loops", "zipf")


def replay(ids: list[int], capacity: int, choose, n_successors: int = 2) -> PrefetchCache:
    """Serve ``ids``, prefetching ``choose(cache)`` (None for nothing) after each request."""
    cache = PrefetchCache(capacity, n_successors, "lru")
    cache.reset(list(ids), lambda: False, len(ids))
    cache.serve()
    while not cache.done:
        x = choose(cache)
        if x is not None:
            cache.prefetch(x)
        cache.serve()
    return cache


def next_id(cache: PrefetchCache) -> int:
    return cache.current + 1


# ---------------------------------------------------------------------------------------
# The simulator on hand traces
# ---------------------------------------------------------------------------------------


def test_one_sequential_reader_with_next_id_prefetch_hits_every_request_but_the_first():
    cache = replay(list(range(10)), capacity=2, choose=next_id)
    assert (cache.hits, cache.prefetches, cache.useful, cache.wasted()) == (9, 9, 9, 0)


def test_two_interleaved_readers_need_room_for_both_prefetches():
    # A0 B0 A1 B1 ...: with capacity 3 the LRU order after each prefetch is
    # [other reader's block, this block, this reader's next block], so every request but
    # A0 and B0 hits; the last prefetch (A's block n, after A's last) is never used.
    # With capacity 2 each prefetch evicts the other reader's prefetched block: nothing hits.
    n = 6
    a, b = list(range(n)), list(range(100, 100 + n))
    ids = [x for pair in zip(a, b) for x in pair]
    roomy = replay(ids, capacity=3, choose=next_id)
    assert (roomy.hits, roomy.prefetches, roomy.useful, roomy.wasted()) == (
        2 * n - 2,
        2 * n - 1,
        2 * n - 2,
        1,
    )
    cramped = replay(ids, capacity=2, choose=next_id)
    assert (cramped.hits, cramped.useful, cramped.wasted()) == (0, 0, cramped.prefetches)
    assert cramped.prefetches == 2 * n - 1


def test_prefetching_a_cached_object_fetches_nothing():
    cache = replay([1, 2, 1], capacity=5, choose=lambda c: 1)
    # after request 1, object 1 is cached: nothing fetched; after 2, 1 still cached
    assert (cache.prefetches, cache.hits) == (0, 1)


def test_successor_table_counts_and_breaks_ties_by_recency():
    cache = replay([1, 2, 1, 3, 1, 2, 1], capacity=5, choose=lambda c: None)
    assert cache.counts[1] == {2: 2, 3: 1} and cache.totals[1] == 3
    assert cache.top[1] == [2, 3]
    tie = replay([1, 2, 1, 3, 1], capacity=5, choose=lambda c: None)
    assert tie.top[1] == [3, 2]  # one each: the later successor first
    # with one slot: 2, then 3 (a tie, more recent), then 3 (2:1), then 2 again (2:2)
    single = replay([1, 2, 1, 3, 1, 3, 1, 2], capacity=5, choose=lambda c: None, n_successors=1)
    assert single.top[1] == [2]
    assert single.candidates() == [3, 1]  # current object 2: next id 3, then 2's successor 1


def test_top_successors_match_a_brute_force_ranking():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 6, size=400).tolist()
    k = 3
    cache = PrefetchCache(50, k, "lru")
    cache.reset(ids, lambda: False, len(ids))
    for i in range(len(ids)):
        cache.serve()
        counts: dict[int, dict[int, int]] = {}
        last: dict[tuple[int, int], int] = {}
        for t in range(1, i + 1):
            pair = (ids[t - 1], ids[t])
            counts.setdefault(pair[0], {}).setdefault(pair[1], 0)
            counts[pair[0]][pair[1]] += 1
            last[pair] = t
        for a, successors in counts.items():
            ranked = sorted(successors, key=lambda b: (successors[b], last[(a, b)]), reverse=True)
            assert cache.top[a] == ranked[:k], (i, a)


# ---------------------------------------------------------------------------------------
# The environment on a deterministic stream: one reader looping over one 4-block file
# ---------------------------------------------------------------------------------------


def looping_reader(**kwargs) -> gym.Env:
    # catalog of one file and one reader: requests 0 1 2 3 0 1 2 3 0 1 2 3
    return gym.make(
        ENV_ID,
        workload="sequential",
        catalog_size=1,
        n_readers=1,
        file_blocks=4,
        capacity=2,
        episode_length=12,
        **kwargs,
    )


def test_first_observation_by_hand():
    env = looping_reader()
    observation, info = env.reset(seed=0)
    fields = env.unwrapped.observation_fields()
    # slot 0 is object 1: a candidate, never seen following 0, not cached, never requested
    assert observation[fields["observed"]].tolist() == [1, 0, 0, 0]
    assert observation[fields["cached"]].tolist() == [0, 0, 0, 0]
    assert observation[fields["recency"]][0] == 1.0
    assert observation[-4:].tolist() == [0, 0, 0, 0]
    assert info["action_mask"].tolist() == [True, True, False, False, False]


@pytest.mark.parametrize(
    "policy, hits, prefetches, useful, wasted",
    [
        # LRU of 2 on a loop of 4: every request misses
        ("no_prefetch", 0, 0, 0, 0),
        # blocks 1-3 of each pass hit; after block 3 the prefetch of object 4 is wasted
        # (twice: the last request has no step after it), and block 0 misses
        ("sequential", 9, 11, 9, 2),
        # pass 1 learns the successors; pass 2 misses only block 0, pass 3 nothing
        ("markov", 7, 7, 7, 0),
    ],
)
def test_heuristics_on_a_looping_reader_by_hand(policy, hits, prefetches, useful, wasted):
    env = looping_reader(prefetch_cost=0.25)
    result = run_episode(env, make_policy(env, policy), seed=0)
    metrics = result.metrics
    assert env.unwrapped.requests() == [0, 1, 2, 3] * 3
    assert metrics["hit_ratio"] == hits / 12
    assert (metrics["prefetches"], metrics["useful_prefetches"]) == (prefetches, useful)
    assert metrics["wasted_prefetches"] == wasted
    assert result.episode_return == pytest.approx(hits - 0.25 * prefetches)
    assert metrics["bandwidth"] == (12 - hits + prefetches) / 12


def test_second_pass_observation_shows_the_learned_successor():
    env = looping_reader()
    env.reset(seed=0)
    for _ in range(4):  # serve requests 1, 2, 3 and the second 0
        observation, *_ = env.step(0)
    fields = env.unwrapped.observation_fields()
    # current object 0 followed 3 once, and was followed by 1 once: slots 0 and 1 are both 1
    assert env.unwrapped.candidates() == [1, 1]
    assert observation[fields["frequency"]].tolist() == [1, 1, 0, 0]
    assert observation[fields["observations"]][0] == pytest.approx(np.log(2) / np.log(13))


# ---------------------------------------------------------------------------------------
# Accounting and determinism on every workload
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("replacement", ["lru", "fifo"])
def test_no_prefetch_is_the_plain_cache_on_the_same_stream(workload, replacement):
    env = gym.make(ENV_ID, workload=workload, replacement=replacement, episode_length=2000)
    metrics = run_episode(env, make_policy(env, "no_prefetch"), seed=4).metrics
    plain = exact.simulate(replacement, env.unwrapped.requests(), 100)
    assert metrics["hit_ratio"] == plain.hit_ratio == metrics["hit_ratio_without_prefetch"]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_prefetch_is_useful_or_wasted_and_the_return_charges_each(workload):
    env = gym.make(ENV_ID, workload=workload, episode_length=2000, prefetch_cost=0.3)
    result = run_episode(env, make_policy(env, "random", seed=1), seed=5)
    metrics = result.metrics
    assert metrics["prefetches"] > 100
    assert metrics["useful_prefetches"] + metrics["wasted_prefetches"] == metrics["prefetches"]
    hits = metrics["hit_ratio"] * 2000
    assert result.episode_return == pytest.approx(hits - 0.3 * metrics["prefetches"])


@pytest.mark.parametrize("workload", WORKLOADS)
def test_requests_do_not_depend_on_when_they_are_drawn(workload):
    lazy = gym.make(ENV_ID, workload=workload, episode_length=1500)
    run_episode(lazy, make_policy(lazy, "markov"), seed=9)
    eager = gym.make(ENV_ID, workload=workload, episode_length=1500)
    eager.reset(seed=9)
    assert eager.unwrapped.requests() == lazy.unwrapped.requests()


@pytest.mark.parametrize("policy", ["markov", "oracle"])
def test_same_seed_same_episode(policy):
    results = []
    for _ in range(2):
        env = gym.make(ENV_ID, workload="loops", episode_length=1500)
        results.append(run_episode(env, make_policy(env, policy), seed=2))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"capacity": 0}, "capacity"),
        ({"n_successors": 0}, "n_successors"),
        ({"prefetch_cost": -0.1}, "prefetch_cost"),
        ({"replacement": "lfu"}, "replacement"),
        ({"workload": "trace"}, "workload"),
        ({"episode_length": 1}, "episode_length"),
        ({"jump_probability": 1.5}, "jump_probability"),
        ({"loop_fraction": -1.0}, "loop_fraction"),
        ({"file_blocks": 0}, "file_blocks"),
        ({"n_readers": 0}, "n_readers"),
        ({"successors_per_object": 0}, "successors_per_object"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CachingPrefetchEnv(**kwargs)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_action_mask_says_exactly_which_actions_fetch(workload):
    env = gym.make(ENV_ID, workload=workload, episode_length=600, n_successors=2)
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    issued = 0.0
    for _ in range(599):
        action = int(env.action_space.sample())
        fetches = bool(info["action_mask"][action]) and action > 0
        _, reward, _, _, info = env.step(action)
        assert info["prefetches"] == issued + fetches
        assert info["rewards"]["prefetch"] == (-0.1 if fetches else 0.0)
        issued = info["prefetches"]


def test_render_reports_the_request_and_the_candidates():
    env = gym.make(ENV_ID, render_mode="ansi", workload="sequential", n_readers=1)
    env.reset(seed=0)
    env.step(1)
    text = env.render()
    assert text.startswith("request 2/10000: object") and "hit ratio 0.500" in text


def test_stepping_past_the_end_is_an_error():
    env = gym.make(ENV_ID, episode_length=2).unwrapped
    env.reset(seed=0)
    *_, truncated, _ = env.step(0)
    assert truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


# ---------------------------------------------------------------------------------------
# Workload generators
# ---------------------------------------------------------------------------------------


def test_markov_walk_follows_the_successors_with_their_weights():
    rng = np.random.default_rng(0)
    successors = {0: [1, 2], 1: [2, 0], 2: [0, 1]}
    cumulative = request_streams.cumulative_weights(np.array([0.75, 0.25]))
    table = request_streams.alias_table(np.full(3, 1 / 3))
    walk = request_streams.markov_walk(rng, 20_000, successors, cumulative, 0.0, table).tolist()
    columns = [successors[x].index(y) for x, y in zip(walk, walk[1:])]
    assert np.mean(np.array(columns) == 0) == pytest.approx(0.75, abs=0.01)
    continued = request_streams.markov_walk(
        rng, 1, {x: [2, 2] for x in range(3)}, cumulative, 0.0, table, start=1
    )
    assert continued.tolist() == [2]


def test_cumulative_weights_draw_what_generator_choice_draws():
    weights = np.array([6.0, 3.0, 2.0]) / 11.0
    cumulative = request_streams.cumulative_weights(weights)
    ours = cumulative.searchsorted(np.random.default_rng(5).random(1000), side="right")
    theirs = np.random.default_rng(5).choice(3, size=1000, p=weights)
    assert ours.tolist() == theirs.tolist()


def test_lazy_successors_deal_uniform_rows_in_the_order_objects_are_read():
    successors = request_streams.LazySuccessors(np.random.default_rng(3), 50, 3, block=4)
    rows = [successors[x] for x in (7, 2, 7, 9, 0, 1)]  # 7 twice: drawn once
    assert rows[0] is rows[2]
    drawn = np.random.default_rng(3).integers(50, size=(2, 12)).ravel().tolist()
    assert [x for row in rows[:2] + rows[3:] for x in row] == drawn[:15]
    many = request_streams.LazySuccessors(np.random.default_rng(4), 10, 2)
    counts = np.bincount([y for x in range(5000) for y in many[x]], minlength=10)
    assert counts.min() > 900 and counts.max() < 1100  # uniform: 1000 each, sd 30


def test_interleaved_readers_read_each_file_in_order():
    rng = np.random.default_rng(1)
    readers = [[0, 0] for _ in range(3)]
    table = request_streams.alias_table(request_streams.zipf_probabilities(50, 0.8))
    ids = request_streams.interleaved_reads(rng, 3000, readers, 8, table).tolist()
    ids += request_streams.interleaved_reads(rng, 3000, readers, 8, table).tolist()
    # readers may share a file, so count the readers that have just read each block
    just_read: Counter[int] = Counter()
    for x in ids:
        # a file's first block, or the block after one some reader has just read
        assert x % 8 == 0 or just_read[x - 1] > 0
        just_read[x - 1] -= x % 8 != 0
        if x % 8 != 7:
            just_read[x] += 1


def test_loops_visit_their_objects_in_one_fixed_shuffled_order():
    env = gym.make(ENV_ID, workload="loops", loop_size=20, catalog_size=100)
    env.reset(seed=0)
    loop = [x for x in env.unwrapped.requests() if x >= 100]
    assert sorted(loop[:20]) == list(range(100, 120)) and loop[:20] != sorted(loop[:20])
    assert all(loop[i] == loop[i % 20] for i in range(len(loop)))


# ---------------------------------------------------------------------------------------
# Who wins where
# ---------------------------------------------------------------------------------------


def evaluate(workload: str, seed: int = 1_000_000) -> dict[str, tuple[float, float]]:
    env = gym.make(ENV_ID, workload=workload, episode_length=5000)
    results = {}
    for name in ("no_prefetch", "sequential", "markov", "oracle"):
        result = run_episode(env, make_policy(env, name), seed=seed)
        results[name] = (result.episode_return, result.metrics["hit_ratio"])
    return results


def test_sequential_prefetch_pays_on_sequential_readers():
    results = evaluate("sequential")
    assert results["sequential"][1] > results["no_prefetch"][1] + 0.8
    assert results["sequential"][0] > 5 * results["no_prefetch"][0]


def test_markov_prefetch_pays_on_chains_and_loops_where_next_id_does_not():
    for workload in ("markov", "loops"):
        results = evaluate(workload)
        assert results["markov"][0] > 1.5 * results["no_prefetch"][0], workload
        assert results["markov"][0] > 1.5 * results["sequential"][0], workload


def test_prefetching_does_not_pay_under_the_independent_reference_model():
    results = evaluate("zipf")
    for name in ("sequential", "markov"):
        assert results[name][1] < results["no_prefetch"][1] + 0.01
        assert results[name][0] < results["no_prefetch"][0]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_the_oracle_earns_at_least_every_heuristic(workload):
    results = evaluate(workload)
    assert results["oracle"][0] >= max(results[name][0] for name in results)

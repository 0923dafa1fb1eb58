"""The Gymnasium environment around :mod:`opsgym.envs.caching.simulator`."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.caching.config import CachingConfig
from opsgym.envs.caching.simulator import DecisionCache
from opsgym.envs.caching.workloads import Workload
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core import exact_caches as exact

CANDIDATE_FEATURES = ("recency", "frequency", "age", "size")


class CachingEnv(ConfiguredEnv[np.ndarray, int], config_class=CachingConfig):
    """Decide what a full cache evicts, or whether it admits the newcomer at all.

    ## Description

    A cache of fixed capacity serves a stream of object requests. Hits, and misses whose
    object fits in the free space, are served without a decision. A miss into a full
    cache is a decision: the agent sees `n_candidates` eviction candidates drawn
    uniformly from the cached objects (as Redis samples keys for its approximate LRU and
    LFU; every cached object, repeated in turn, when there are fewer) and the requested
    object, and either evicts one candidate or bypasses the newcomer (serves it without
    caching it). If evicting one candidate frees too little space for a large object, a
    new decision follows for the same request. Objects larger than the whole cache are
    never admitted.

    Capacity is in bytes; with `size_distribution="unit"` every object has size 1 and
    capacity counts objects. Time is virtual: request i happens at time i.

    Workloads: `"zipf"` (independent requests over a catalog with Zipf popularity), and
    on top of it `"drift"` (the popular set shifts by `drift_shift` objects every
    `drift_period` requests, at once or, with `drift_ramp` > 0, as a mixture of the old
    and new rankings whose new share grows linearly over the first `drift_ramp` requests
    of each period), `"periodic"` (a fraction of requests loops over
    `loop_size` objects in order), `"scan"` (every `scan_every` requests, a run of
    `scan_length` requests to objects never seen before or after), `"one_hit_wonders"`
    (a fraction of requests to objects requested once), `"flood"` (an adversary games
    popularity: every `scan_every` requests, `flood_objects` new objects are each
    requested `flood_repeats` times in turn, then never again, polluting frequency-based
    caches); `"web07"` (windows of the
    shipped Web07 trace of an e-commerce product-page cache, cache2k-benchmark, CC BY
    4.0) and `"trace"` (windows of your own trace, `trace_path`, in the formats of
    `opsgym.envs.core.traces`). Traces without sizes take sizes from
    `size_distribution`.

    The ceiling is Belady's MIN: `info["episode_metrics"]["belady_hit_ratio"]` is the
    offline optimum (with bypass) on the episode's requests for unit sizes. With
    variable sizes it is a heuristic (furthest next use), a strong reference but not an
    upper bound: the optimum is NP-hard there. The `oracle` policy applies Belady's rule
    to the candidates shown, so with unit sizes it reaches that optimum when
    `n_candidates >= capacity`.

    ## Action Space

    `Discrete(n_candidates + 1)`: action i < n_candidates evicts candidate i; action
    `n_candidates` bypasses the requested object.

    ## Observation Space

    A float32 `Box` in [0, 1] of shape `(4 * n_candidates + 3,)`. Times and counts,
    whose ranges are wide, are on a log scale: `log(1 + x) / log(1 + episode_length)`;
    sizes are `log(1 + size) / log(1 + capacity)`.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 4i | candidate i: time since its last request [requests], log scale | 0 | 1 |
    | 4i + 1 | candidate i: its requests since admission (decayed if `count_half_life > 0`), log scale | 0 | 1 |
    | 4i + 2 | candidate i: time since its admission [requests], log scale | 0 | 1 |
    | 4i + 3 | candidate i: its size [bytes], log scale | 0 | 1 |
    | 4K | requested object: its past requests in the episode (decayed likewise), log scale | 0 | 1 |
    | 4K + 1 | requested object: its size [bytes], log scale | 0 | 1 |
    | 4K + 2 | bytes to free before it fits, as a fraction of capacity | 0 | 1 |

    K is `n_candidates`. After the last request the observation is all zeros.

    ## Rewards

    The hits served from this decision until the next one (`reward_metric="hits"`), or
    the bytes hit in units of the workload's mean object size (`"bytes"`: the mean
    request size of the whole trace, or `size_median * exp(size_sigma^2 / 2)` for
    lognormal sizes). The first step also counts the hits served before the first
    decision, so the return is the episode's hit count (or its bytes hit in mean sizes).
    `info["rewards"]` holds both components, `hits` and `bytes`.

    ## Starting State

    The cache is empty and the episode's requests are drawn (or its trace window
    chosen) from the seed given to `reset`, which then serves requests up to the first
    decision. Requests are drawn in chunks of 256 as the cache reaches them, in an
    order fixed by the seed; candidate sampling also draws from that seed.

    ## Episode End

    1. Truncation: all `episode_length` requests have been served (or the whole trace,
       if it is shorter).

    The environment never terminates: caching is a continuing task. If no decision is
    ever needed, the episode is one step whose action is ignored. On the last step
    `info["episode_metrics"]` holds the hit ratio, byte hit ratio, Belady's hit ratio and
    byte hit ratio on the same requests, and the fraction of decisions that bypassed.

    `episode_length` bounds the steps of an episode: a step is a decision, at most one per
    request.

    {ARGUMENTS}

    ## Vector Environment

    None native: between two decisions the cache serves a number of requests that
    differs from instance to instance (its hits and the misses that fit), over
    per-object records of a catalog that grows with the stream, so a batch would advance
    at the pace of its longest run. `gym.make_vec(..., vectorization_mode="sync")` or
    `"async"` runs N instances.

    ## Version History

    * v0: Initial release. `drift_ramp` and the `"flood"` workload added later; the
      defaults keep the dynamics.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/Caching-v0"
    example = {"workload": "web07", "capacity": 500}

    def _set_up(self, config: CachingConfig) -> None:
        self.workload = Workload.build(config)
        self.simulator = DecisionCache(config.capacity, config.n_candidates, config.count_half_life)
        self._time_scale = 1.0 / math.log1p(config.episode_length)
        self._size_scale = 1.0 / math.log1p(config.capacity)
        self._stream = self.workload.episode(np.random.default_rng(0))
        self._next_use: list[int] | None = None
        self._carried_hits = (0, 0)
        self._decisions = 0
        self._bypasses = 0

    @staticmethod
    def spaces(config: CachingConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        k = config.n_candidates
        return spaces.Discrete(k + 1), spaces.Box(0.0, 1.0, shape=(4 * k + 3,), dtype=np.float32)

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        rng = self.np_random
        stream = self._stream = self.workload.episode(rng)
        candidate_rng = random.Random(int(rng.integers(2**63)))  # before any chunk is drawn
        self._next_use = None
        self._decisions = self._bypasses = 0
        sim = self.simulator
        sim.reset(stream.ids, stream.sizes, candidate_rng, stream.extend, stream.length)
        self._carried_hits = sim.run_until_decision()
        return self._observation(), {}

    def _advance(self, choice: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        sim = self.simulator
        hits, bytes_hit = self._carried_hits
        self._carried_hits = (0, 0)
        if sim.pending:
            self._decisions += 1
            if choice == self.config.n_candidates:
                self._bypasses += 1
                sim.bypass()
            else:
                sim.evict(choice)
            if not sim.pending:
                more_hits, more_bytes = sim.run_until_decision()
                hits += more_hits
                bytes_hit += more_bytes
        rewards = {"hits": float(hits), "bytes": bytes_hit / self.workload.mean_size}
        served = sim.served
        info: dict[str, Any] = {
            "hit_ratio": sim.hits / served if served else 0.0,
            "byte_hit_ratio": sim.bytes_hit / sim.bytes_requested if served else 0.0,
            "rewards": rewards,
        }
        truncated = sim.done
        return self._observation(), rewards[self.config.reward_metric], False, truncated, info

    def next_use(self) -> list[int]:
        """For each request of the episode, the index of the next request of its object.

        The future, for oracles: see :func:`opsgym.envs.core.exact_caches.next_use_indices`.
        """
        if self._next_use is None:
            self._stream.materialize()
            self._next_use = exact.next_use_indices(self._stream.ids)
        return self._next_use

    def requests(self) -> tuple[list, list[int]]:
        """The object id and size [bytes] of every request of the episode (the future too)."""
        self._stream.materialize()
        return self._stream.ids, self._stream.sizes

    def episode_metrics(self) -> dict[str, float]:
        """Hit ratios of the requests served so far, and Belady's on the whole episode."""
        sim = self.simulator
        if sim.served == 0:
            return {}
        ids, sizes = self.requests()
        if self.workload.unit_sizes:
            sizes = None
        ceiling = exact.belady(ids, self.config.capacity, sizes, next_use=self.next_use())
        return {
            "hit_ratio": sim.hits / sim.served,
            "byte_hit_ratio": sim.bytes_hit / sim.bytes_requested,
            "belady_hit_ratio": ceiling.hit_ratio,
            "belady_byte_hit_ratio": ceiling.byte_hit_ratio,
            "bypass_ratio": self._bypasses / self._decisions if self._decisions else 0.0,
        }

    def observation_fields(self) -> dict[str, slice]:
        """Where each feature sits in the observation, by name (one slice per feature)."""
        end = 4 * self.config.n_candidates
        fields = {name: slice(i, end, 4) for i, name in enumerate(CANDIDATE_FEATURES)}
        fields["incoming_frequency"] = slice(end, end + 1)
        fields["incoming_size"] = slice(end + 1, end + 2)
        fields["bytes_to_free"] = slice(end + 2, end + 3)
        return fields

    def _text_frame(self) -> str:
        sim = self.simulator
        served = max(sim.served, 1)
        line = (
            f"request {sim.now}/{sim.length}: {len(sim.members)} objects, "
            f"{sim.used}/{self.config.capacity} bytes, hit ratio {sim.hits / served:.3f}"
        )
        if sim.pending:
            line += f"; deciding for object {sim.ids[sim.now]!r} among {sim.candidates}"
        return line

    def _observation(self) -> np.ndarray:
        sim = self.simulator
        if not sim.pending:
            return np.zeros(self.observation_space.shape, dtype=np.float32)
        now = sim.now
        time_scale, size_scale, log1p = self._time_scale, self._size_scale, math.log1p
        last_seen, inserted, count, size_of = sim.last_seen, sim.inserted, sim.count, sim.size_of
        x = sim.ids[now]
        if self.config.count_half_life == 0:
            counts = [count[c] for c in sim.candidates]
            past = sim.seen_count.get(x, 0)
        else:
            counts = [sim.decay(count[c], last_seen[c]) for c in sim.candidates]
            past = sim.decay(sim.seen_count[x], last_seen[x]) if x in last_seen else 0.0
        values = []
        for c, requests in zip(sim.candidates, counts):
            values += (
                log1p(now - last_seen[c]) * time_scale,
                log1p(requests) * time_scale,
                log1p(now - inserted[c]) * time_scale,
                log1p(size_of[c]) * size_scale,
            )
        size = sim.sizes[now]
        values += (
            log1p(past) * time_scale,
            log1p(size) * size_scale,
            (size - (self.config.capacity - sim.used)) / self.config.capacity,
        )
        # every value is in [0, 1] by construction: times and counts < episode_length,
        # sizes of admissible objects <= capacity
        return np.array(values, dtype=np.float32)

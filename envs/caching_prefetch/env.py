"""The Gymnasium environment around :mod:`opsgym.envs.caching_prefetch.simulator`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from opsgym.envs.caching_prefetch.config import CachingPrefetchConfig
from opsgym.envs.caching_prefetch.simulator import PrefetchCache
from opsgym.envs.caching_prefetch.workloads import PrefetchWorkload
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core import exact_caches as exact
from opsgym.envs.core.masks import info_mask

CANDIDATE_FEATURES = ("observed", "frequency", "cached", "recency")
REQUEST_FEATURES = ("hit", "useful_hit", "observations", "unused_share")


class CachingPrefetchEnv(ConfiguredEnv[np.ndarray, int], config_class=CachingPrefetchConfig):
    """After serving each request, decide whether to prefetch an object predicted to come next.

    ## Description

    A demand cache of `capacity` objects (unit sizes) serves a stream of object requests;
    a miss inserts the object, evicting by the `replacement` policy (LRU or FIFO) when the
    cache is full. After each request the agent may prefetch one object, which is
    inserted the same way (evicting as a miss would) and is *useful* if it is requested
    before it is evicted, *wasted* if it is evicted, or the episode ends, first. Each
    fetch costs bandwidth, so a prefetch must be right often enough to pay.

    The candidates come only from what the cache has observed, never from the hidden
    workload: the next object id (the current id + 1, what a sequential prefetcher such
    as Linux readahead fetches) and the `n_successors` most frequent observed successors
    of the object just requested, from a first-order table, kept online, of how often
    each object followed each other one (Griffioen and Appleton, USENIX Summer 1994);
    ties go to the successor seen most recently. Objects are integers.

    Workloads: `"markov"` (a Markov-chain walk: each object has `successors_per_object`
    likely successors, drawn per episode, the j-th taken with probability proportional
    to 1 / (j + 1); with probability `jump_probability` the walk jumps to a Zipf-popular
    object instead), `"sequential"` (`n_readers` readers, interleaved uniformly at random,
    each reading whole files of `file_blocks` blocks in order, files drawn by Zipf
    popularity among `catalog_size` files; block b of file f is object
    `f * file_blocks + b`), `"loops"` (a fraction `loop_fraction` of the requests goes
    round a loop of `loop_size` objects in a shuffled order fixed per episode, the rest
    are independent Zipf requests), and `"zipf"` (independent requests, the IRM: the past
    says nothing about the order, and prefetching should not pay).

    The ceiling is the `oracle` policy (`opsgym.envs.caching_prefetch.SoonestUseOracle`):
    it sees the future and prefetches the candidate requested again soonest, if that is
    within the next `capacity` requests. It is a strong heuristic with foresight, not an
    upper bound: the best schedule of prefetches and evictions is an offline
    optimization it does not solve.

    ## Action Space

    `Discrete(n_successors + 2)`: 0 prefetches nothing; 1 prefetches the next object id;
    `1 + j` (j = 1..`n_successors`) prefetches the j-th most frequent observed successor.
    A candidate that is already cached, or a successor slot that is empty, is not
    fetched: the action then does what 0 does, at no cost. `info["action_mask"]` (int8,
    for Gymnasium's `action_space.sample(mask=...)`) and `action_masks()` (booleans, for
    sb3-contrib's MaskablePPO) mark the actions that fetch.

    ## Observation Space

    A float32 `Box` in [0, 1] of shape `(4 * (n_successors + 1) + 4,)`, about the request
    just served. Slot 0 is the next object id, slot j the j-th successor. Times and
    counts are on a log scale, `log(1 + x) / log(1 + episode_length)`.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 4j | slot j holds a candidate (the next id always does) | 0 | 1 |
    | 4j + 1 | the share of the current object's observed successors that were this candidate | 0 | 1 |
    | 4j + 2 | the candidate is cached | 0 | 1 |
    | 4j + 3 | time since the candidate's last request [requests], log scale; 1 if never requested | 0 | 1 |
    | 4S | the request hit | 0 | 1 |
    | 4S + 1 | the request hit an object prefetched for it (a useful prefetch) | 0 | 1 |
    | 4S + 2 | the successors observed for the current object so far, log scale | 0 | 1 |
    | 4S + 3 | the share of the cache holding prefetched objects not yet requested | 0 | 1 |

    S is `n_successors + 1`, the number of slots; an empty slot is all zeros.

    ## Rewards

    One for a hit on the next request, minus `prefetch_cost` if this step fetched an
    object: `reward = hit - prefetch_cost * fetched`. The return is the episode's hits
    (the first request, into an empty cache, always misses) minus the cost of every
    prefetch. `info["rewards"]` holds the two components, `hit` and `prefetch`.

    ## Starting State

    The cache and the successor table are empty. The episode's hidden structure (the
    Markov chain, the loop's order) and its requests are drawn from the seed given to
    `reset`, in chunks of 256 requests as the cache reaches them; `reset` serves the first
    request.

    ## Episode End

    1. Truncation: all `episode_length` requests have been served (`episode_length - 1`
       steps).

    The environment never terminates: caching is a continuing task. Every step's `info`
    holds the hit ratio, the prefetches issued, useful and wasted so far, and the
    bandwidth (objects fetched, by misses and prefetches, per request). On the last step
    `info["episode_metrics"]` holds them for the episode (unused prefetches still cached
    count as wasted, so useful + wasted = issued), the prefetch accuracy (useful /
    issued), and the hit ratio of the same cache without prefetching on the same
    requests.

    {ARGUMENTS}

    ## Vector Environment

    None native: each instance's state is an ordered (LRU) cache and a table of
    observed successors that grows with the objects it meets, neither a fixed-shape
    array. `gym.make_vec(..., vectorization_mode="sync")` or `"async"` runs N instances.

    ## Version History

    * v0: Initial release. Markov successors are now drawn when first needed: same
      distribution, but a seed gives another episode than before. `info["action_mask"]`
      is now int8 (it was bool), as Gymnasium's masked sampling needs: index with
      `mask.astype(bool)`.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/CachingPrefetch-v0"
    example = {"workload": "sequential"}

    def _set_up(self, config: CachingPrefetchConfig) -> None:
        self.workload = PrefetchWorkload(config)
        self.simulator = PrefetchCache(config.capacity, config.n_successors, config.replacement)
        self._time_scale = 1.0 / math.log1p(config.episode_length)
        self._stream = self.workload.episode(np.random.default_rng(0))
        self._candidates: list[int] = []
        self._next_use: list[int] | None = None
        self._first_use: dict[int, int] = {}

    @staticmethod
    def spaces(config: CachingPrefetchConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        slots = config.n_successors + 1
        observations = spaces.Box(0.0, 1.0, shape=(4 * slots + 4,), dtype=np.float32)
        return spaces.Discrete(slots + 1), observations

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        stream = self._stream = self.workload.episode(self.np_random)
        self._next_use = None
        sim = self.simulator
        sim.reset(stream.ids, stream.extend, stream.length)
        sim.serve()
        return self._observe(), {"action_mask": info_mask(self.action_masks())}

    def _advance(self, choice: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        sim = self.simulator
        fetched = False
        if 0 < choice <= len(self._candidates):
            fetched = sim.prefetch(self._candidates[choice - 1])
        hit = sim.serve()
        rewards = {"hit": float(hit), "prefetch": -self.config.prefetch_cost if fetched else 0.0}
        truncated = sim.done
        observation = self._observe()
        info: dict[str, Any] = {**self._metrics(), "rewards": rewards}
        info["action_mask"] = info_mask(self.action_masks())
        return observation, rewards["hit"] + rewards["prefetch"], False, truncated, info

    def action_masks(self) -> np.ndarray:
        """Which actions would fetch an object now (0, no prefetch, always allowed)."""
        mask = np.zeros(self.config.n_successors + 2, dtype=bool)
        mask[0] = True
        cache = self.simulator.cache
        for j, x in enumerate(self._candidates):
            mask[j + 1] = x not in cache
        return mask

    def candidates(self) -> list[int]:
        """The objects actions 1, 2, ... would prefetch now (empty slots left out)."""
        return list(self._candidates)

    def requests(self) -> list[int]:
        """The object of every request of the episode (the future too)."""
        return self._stream.materialize()

    def next_request(self, x: int) -> float:
        """The time of the next request of object ``x`` after now; inf if none (the future).

        For oracles: it reads the episode's future requests.
        """
        if self._next_use is None:
            ids = self.requests()
            self._next_use = exact.next_use_indices(ids)
            self._first_use = {}
            for i in range(len(ids) - 1, -1, -1):
                self._first_use[ids[i]] = i
        seen = self.simulator.last_seen.get(x)
        use = self._first_use.get(x, math.inf) if seen is None else self._next_use[seen]
        return use if use < len(self._next_use) else math.inf

    def episode_metrics(self) -> dict[str, float]:
        """The metrics of the requests served so far, and the hit ratio without prefetching."""
        sim = self.simulator
        baseline = exact.simulate(
            self.config.replacement, self.requests()[: sim.served], self.config.capacity
        )
        metrics = self._metrics()
        metrics["prefetch_accuracy"] = sim.useful / sim.prefetches if sim.prefetches else 0.0
        metrics["hit_ratio_without_prefetch"] = baseline.hit_ratio
        return metrics

    def observation_fields(self) -> dict[str, slice]:
        """Where each feature sits in the observation, by name."""
        end = 4 * (self.config.n_successors + 1)
        fields = {name: slice(i, end, 4) for i, name in enumerate(CANDIDATE_FEATURES)}
        for i, name in enumerate(REQUEST_FEATURES):
            fields[name] = slice(end + i, end + i + 1)
        return fields

    def _text_frame(self) -> str:
        sim = self.simulator
        if sim.served == 0:
            return "no request served yet: call reset()"
        return (
            f"request {sim.served}/{sim.length}: object {sim.current} "
            f"{'hit' if sim.last_hit else 'missed'}, candidates {self._candidates}, "
            f"hit ratio {sim.hits / sim.served:.3f}, prefetches {sim.prefetches} "
            f"({sim.useful} useful)"
        )

    def _metrics(self) -> dict[str, float]:
        sim = self.simulator
        served = sim.served
        return {
            "hit_ratio": sim.hits / served,
            "prefetches": float(sim.prefetches),
            "useful_prefetches": float(sim.useful),
            "wasted_prefetches": float(sim.wasted()),
            "bandwidth": (served - sim.hits + sim.prefetches) / served,
        }

    def _observe(self) -> np.ndarray:
        sim = self.simulator
        if sim.done:
            self._candidates = []
            return np.zeros(self.observation_space.shape, dtype=np.float32)
        candidates = self._candidates = sim.candidates()
        x = sim.current
        counts = sim.counts.get(x, {})
        total = sim.totals.get(x, 0)
        share = 1.0 / total if total else 0.0
        now, time_scale, log1p = sim.now, self._time_scale, math.log1p
        cache, last_seen = sim.cache, sim.last_seen
        values = []
        for c in candidates:
            seen = last_seen.get(c)
            values += (
                1.0,
                counts.get(c, 0) * share,
                float(c in cache),
                1.0 if seen is None else log1p(now - seen) * time_scale,
            )
        values += [0.0] * (4 * (self.config.n_successors + 1) - len(values))
        values += (
            float(sim.last_hit),
            float(sim.last_useful),
            log1p(total) * time_scale,
            len(sim.unused) / self.config.capacity,
        )
        return np.array(values, dtype=np.float32)

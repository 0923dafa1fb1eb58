"""The Gymnasium environment around :mod:`opsgym.envs.cdn.simulator`."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces

from opsgym.envs.cdn.config import CDNConfig
from opsgym.envs.cdn.simulator import (
    GB,
    EdgeCaches,
    RateTracker,
    Traffic,
    reward_components,
)
from opsgym.envs.cdn.workload import Workload
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.masks import info_mask

SHORT_HALF_LIFE_MINUTES = 2.0  # the observed "now" of request rates
LONG_HALF_LIFE_MINUTES = 30.0  # the observed "before", against which growth is measured
INVALID_PUSHES = ("cached", "too_large", "empty")


class Push(NamedTuple):
    """The last interval's push: its outcome (``info["push"]``), its edge and its object
    (None when the action pushed nothing)."""

    outcome: str
    edge: int | None
    obj: int | None


class CDNEnv(ConfiguredEnv[np.ndarray, int], config_class=CDNConfig):
    """Pre-position content at the edges of a CDN whose origin link is limited.

    ## Description

    A content delivery network of E edge caches, one per region, each at its own UTC
    offset, fed by one origin over a link of `origin_mbps`. Each edge gets a few hundred
    requests a minute, following a daily cycle in its local time (the regions peak at
    different hours of the same UTC clock) and its own popularity: the catalogue's
    rank-frequency is the shipped Web07 trace's (cache2k, CC BY 4.0) or Zipf's, applied
    to a mix of a global and a regional ranking. Viral objects appear in one region and
    spread to the others with delays; flash crowds strike every edge at once (see
    `opsgym.envs.cdn.workload`).

    Small objects, up to `max_pull_mb`, are cached by an edge on their first miss (pull,
    with byte-aware LRU or FIFO eviction). Larger ones (the video clips that go viral or
    draw a flash crowd, the catalogue's few large files) pass through from the origin on
    every request unless they are pushed: pre-positioned, as video CDNs fill their
    appliances ahead of demand rather than on a miss. Each interval the agent may push
    one object to one edge. The origin serves misses and pushes first come, first
    served over its link; a miss waits for its transfer, and so does every request for
    the object meanwhile; a transfer that could not arrive within
    `origin_timeout_seconds` is refused (the miss is shed, the push dropped). So pushing
    what an edge is about to ask for, before the link is congested, is what pays (see
    `opsgym.envs.cdn.simulator` for the dynamics). With `max_pull_mb` at least
    `capacity_mb` (the `pull-everything` scenario) the CDN is pure pull, and a push saves
    at most an object's first miss at an edge: measured on this model, the `oracle` then
    earns under 1% more than no push at all. Pure pull also earns a few percent more here
    than the best pushing under the default limit: the model charges nothing for
    writing every miss to the cache, the cost (with peak-hour fills) that leads video
    CDNs to place content rather than cache it on a miss (Netflix's Open Connect fills
    its appliances off-peak). The default poses their problem: what to place where, and
    when.

    The ceiling: `opsgym.envs.cdn.reward_bound(env)` is an upper bound on the return of
    every policy on the episode (Belady's rule on bytes, with the future; see
    `opsgym.envs.cdn.oracle`), and the `oracle` policy pushes what the next 15 minutes'
    requests reward most (a heuristic with future knowledge, not a bound).

    ## Action Space

    `Discrete(K * E + 1)`, K = `n_candidates`: action `j * E + e` pushes candidate j to
    edge e; action `K * E` pushes nothing. The candidates are the K objects requested most
    across all edges in the last minutes (the rate memory of the observation) among those
    missing from at least one edge, most requested first. A push of an object the edge
    holds or is receiving, of an empty candidate slot or of an object larger than the
    cache does nothing (`info["invalid_action"]`); a push the origin cannot deliver in
    time is dropped (`info["push"]` says what happened: `none`, `pushed`, `dropped`,
    `cached`, `too_large` or `empty`). The pushes that can happen are in
    `info["action_mask"]` (int8) and `action_masks()` (booleans); "no push" is always
    valid.

    ## Observation Space

    A float32 `Box` of shape `(K * (2E + 2) + 5E + 4,)`, in [0, 1] except the local
    times' sines and cosines in [-1, 1]. Rates are exponential moving averages of the
    requests per interval, with half-lives of 2 minutes ("now") and 30 minutes
    ("before"). Empty candidate slots are zeros. `observation_fields()` names the slices.

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | j * E + e | candidate j's share of edge e's requests now | 0 | 1 |
    | K * E + j * E + e | 1 if edge e holds (or is receiving) candidate j, else 0 | 0 | 1 |
    | 2 * K * E + j | candidate j's size s [bytes] as log(1 + s) / log(1 + capacity), capped at 1 | 0 | 1 |
    | 2 * K * E + K + j | candidate j's growth: its rate now / (now + before); 1/2 when steady | 0 | 1 |
    | 2K(E + 1) + e | edge e's cache occupancy, bytes / capacity | 0 | 1 |
    | 2K(E + 1) + E + e | edge e's requests in the last interval, x / (1 + x) with x their ratio to its peak | 0 | 1 |
    | 2K(E + 1) + 2E + e | edge e's hit ratio in the last interval | 0 | 1 |
    | 2K(E + 1) + 3E + e | sine of edge e's local time of day (2 pi hours / 24) | -1 | 1 |
    | 2K(E + 1) + 4E + e | cosine of edge e's local time of day | -1 | 1 |
    | 2K(E + 1) + 5E | bytes the origin sent in the last interval / what its link can send in one, capped at 1 | 0 | 1 |
    | 2K(E + 1) + 5E + 1 | the origin link's backlog [s] / `origin_timeout_seconds` | 0 | 1 |
    | 2K(E + 1) + 5E + 2 | share of the last interval's requests the origin shed | 0 | 1 |
    | 2K(E + 1) + 5E + 3 | episode progress, intervals done / `episode_length` | 0 | 1 |

    Before the first interval the last interval's figures are zeros.

    Every reference rule is a function of the observation. Behaviour cloning of
    `regional_top_k` with PPO's default network (`opsgym imitate`, 100,000 labelled states,
    4 DAgger rounds) still fits only 36% of its labels and scores 0.73 of the oracle to the
    rule's 1.00. The rule is an argmax over the 32 (candidate, edge) shares, masked by what
    the edges hold, and two layers of 64 units learn that poorly: two layers of 256
    (`--set net_arch=[256,256] --set epochs=20`) fit 45% and score 0.87.

    ## Rewards

    Per interval, in GB: the bytes served from the edges' caches (hits), minus
    `egress_cost` times the bytes the origin sent (misses and pushes), minus `push_cost`
    times the bytes pushed. A miss, a request waiting for a transfer and a shed request
    earn nothing. `info["rewards"]` holds the three terms (`edge_served`, `egress`,
    `push`), which add up to the reward. Returns are of the order of 100 with the
    defaults. `egress_cost` is at most 1 (an origin byte costs no more than an edge byte
    earns), which the bound relies on.

    ## Starting State

    Each edge's cache holds its most popular catalogue objects of at most `max_pull_mb`
    (by its own popularity) up to capacity, the most popular most recently used: the
    state pull reaches in steady state. The rate memories start at each object's
    expected requests per interval; the origin's link is idle. The UTC time of day at
    the start is drawn uniformly (to the minute), and so are the episode's object sizes,
    regional rankings, viral objects and flash crowds, all from the seed given to
    `reset`. Each interval's requests are drawn when the simulation reaches it, from a
    generator of the episode's own, so that oracles can read ahead without changing
    them.

    ## Episode End

    1. Truncation: `episode_length` intervals have been simulated.

    The environment never terminates: a CDN runs on. On the last step
    `info["episode_metrics"]` holds the episode's hit ratio and byte hit ratio (overall
    and per edge), origin egress [GB], pushed bytes [GB], and the shares of requests
    that waited for a transfer or were shed. Every step's `info` has the interval's hit
    ratio, byte hit ratio, per-edge hit ratios, origin egress [Mbit/s] and backlog [s],
    pushed MB, waiting and shed requests, and the push's outcome.

    {ARGUMENTS}


    ## Vector Environment

    None native: each interval replays a few hundred requests through per-edge LRU
    caches in order, every one depending on the caches and the origin's queue as the
    requests before it left them, over a catalogue whose event objects differ from
    episode to episode. A batch would step request by request, one numpy call per request
    for N instances, slower than N Python loops unless N is in the hundreds.
    `gym.make_vec(..., vectorization_mode="sync")` or `"async"` runs N instances.

    ## Version History

    * v0: Initial release.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/CDN-v0"
    example = {"viral_per_hour": 6.0}

    @staticmethod
    def spaces(config: CDNConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        fields = _layout(config.n_candidates, config.n_edges)
        size = fields["progress"].stop
        low = np.zeros(size, dtype=np.float32)
        low[fields["local_time_sin"]] = -1.0
        low[fields["local_time_cos"]] = -1.0
        action_space = spaces.Discrete(config.n_candidates * config.n_edges + 1)
        return action_space, spaces.Box(low, np.ones(size, dtype=np.float32))

    def _set_up(self, config: CDNConfig) -> None:
        self.n_edges, self.n_candidates = config.n_edges, config.n_candidates
        self.capacity = max(1, round(config.capacity_mb * 1e6))  # [bytes]
        self.link_rate = config.origin_mbps * 1e6 / 8  # [bytes/s]
        self.peak_requests = np.array(config.peak_rps) * config.interval_seconds
        self._fields = _layout(self.n_candidates, self.n_edges)
        self._size_scale = 1.0 / math.log1p(self.capacity)
        self._t: int | None = None

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        config, n_edges = self.config, self.n_edges
        self.workload = workload = Workload(config, self.np_random)
        self.simulator = caches = EdgeCaches(
            n_edges,
            self.capacity,
            workload.sizes.tolist(),
            self.link_rate,
            config.origin_timeout_seconds,
            config.eviction,
            round(config.max_pull_mb * 1e6),
        )
        for e in range(n_edges):
            caches.prefill(e, _warm_contents(workload.popularity[e], workload.sizes, caches))
        self.initial_contents = [caches.contents(e) for e in range(n_edges)]
        expected = np.zeros((workload.n_objects, n_edges))
        expected[: config.catalog_size] = (workload.popularity * workload.mean_requests[:, :1]).T
        minutes = config.interval_seconds / 60.0
        self.tracker = RateTracker(
            expected, SHORT_HALF_LIFE_MINUTES / minutes, LONG_HALF_LIFE_MINUTES / minutes
        )
        self._t = 0
        self._last = Traffic.empty(n_edges)
        self.last_push = Push("none", None, None)
        self.totals = Traffic.empty(n_edges)
        self.candidates = self.tracker.candidates(caches, self.n_candidates)
        return self._observation(), {"action_mask": info_mask(self.action_masks())}

    def _advance(self, choice: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        caches, now = self.simulator, self._now()
        caches.begin_interval()
        outcome, edge, obj = "none", None, None
        if choice < self.n_candidates * self.n_edges:
            slot, edge = divmod(choice, self.n_edges)
            if slot < len(self.candidates):
                obj = self.candidates[slot]
                outcome = caches.push(edge, obj, now)
            else:
                outcome = "empty"
        self.last_push = Push(outcome, edge, obj)
        edges, objects = self.workload.requests(self._t)
        step = self.config.interval_seconds
        traffic = caches.serve(edges.tolist(), objects.tolist(), now, step)
        self.tracker.update(edges, objects)
        self._t += 1
        self._last = traffic
        self.totals.add(traffic)
        self.candidates = self.tracker.candidates(caches, self.n_candidates)
        rewards = reward_components(traffic, self.config.egress_cost, self.config.push_cost)
        info = self._info(traffic, outcome, rewards)
        truncated = self._t >= self.config.episode_length
        return self._observation(), sum(rewards.values()), False, truncated, info

    def action_masks(self) -> np.ndarray:
        """Which actions push something: a candidate the edge lacks, that fits in the
        edge's cache and that the origin can deliver in time; "no push" is always valid."""
        mask = np.zeros(self.action_space.n, dtype=bool)
        mask[-1] = True
        caches, now = self.simulator, self._now()
        for slot, obj in enumerate(self.candidates):
            size = caches.sizes[obj]
            if size <= self.capacity and caches.deliverable(size, now):
                for e in range(self.n_edges):
                    mask[slot * self.n_edges + e] = not caches.holds(e, obj)
        return mask

    def observation_fields(self) -> dict[str, slice]:
        """Where each feature sits in the observation, by name.

        The candidate fields ``share`` and ``cached`` hold K rows of E (candidate-major:
        ``observation[field].reshape(K, E)``); ``size`` and ``growth`` one value per
        candidate; the edge fields one value per edge; the rest one value.
        """
        return dict(self._fields)

    def episode_metrics(self) -> dict[str, float]:
        """The episode's totals so far, in a CDN engineer's units."""
        totals = self.totals
        requests, requested = sum(totals.requests), sum(totals.requested_bytes)
        metrics = {
            "hit_ratio": _ratio(sum(totals.hits), requests),
            "byte_hit_ratio": _ratio(sum(totals.hit_bytes), requested),
            "origin_egress_gb": totals.origin_bytes / GB,
            "push_gb": totals.push_bytes / GB,
            "wait_ratio": _ratio(sum(totals.waited), requests),
            "shed_ratio": _ratio(sum(totals.shed), requests),
        }
        for e in range(self.n_edges):
            metrics[f"hit_ratio_edge{e}"] = _ratio(totals.hits[e], totals.requests[e])
        return metrics

    def render(self) -> str | np.ndarray | None:
        return None if self._t is None else super().render()  # nothing before a reset

    def _text_frame(self) -> str:
        last = self._last
        edges = ", ".join(
            f"edge {e}: {self.simulator.used[e] / 1e6:.1f} MB, hit ratio "
            f"{_ratio(last.hits[e], last.requests[e]):.2f}"
            for e in range(self.n_edges)
        )
        origin = last.origin_bytes * 8 / self.config.interval_seconds / 1e6
        backlog = self.simulator.backlog(self._now())
        return (
            f"interval {self._t}/{self.config.episode_length}: {edges}; "
            f"origin {origin:.2f} Mbit/s, backlog {backlog:.1f} s"
        )

    def _info(self, traffic: Traffic, outcome: str, rewards: dict[str, float]) -> dict[str, Any]:
        requests = sum(traffic.requests)
        return {
            "hit_ratio": _ratio(sum(traffic.hits), requests),
            "byte_hit_ratio": _ratio(sum(traffic.hit_bytes), sum(traffic.requested_bytes)),
            "edge_hit_ratios": [_ratio(h, n) for h, n in zip(traffic.hits, traffic.requests)],
            "origin_egress_mbps": traffic.origin_bytes * 8 / self.config.interval_seconds / 1e6,
            "origin_backlog_seconds": self.simulator.backlog(self._now()),
            "push_mb": traffic.push_bytes / 1e6,
            "push": outcome,
            "invalid_action": outcome in INVALID_PUSHES,
            "waited_requests": sum(traffic.waited),
            "shed_requests": sum(traffic.shed),
            "rewards": rewards,
            "action_mask": info_mask(self.action_masks()),
        }

    def _observation(self) -> np.ndarray:
        fields, tracker, caches = self._fields, self.tracker, self.simulator
        n_edges = self.n_edges
        observation = np.zeros(self.observation_space.shape, dtype=np.float32)
        chosen = np.array(self.candidates, dtype=np.int64)
        k = len(chosen)
        if k:
            short, long = tracker.short[chosen], tracker.long[chosen]
            share = short / np.maximum(tracker.edge_short, 1e-12)
            observation[fields["share"]][: k * n_edges] = np.minimum(share, 1.0).ravel()
            cached = [caches.holds(e, obj) for obj in self.candidates for e in range(n_edges)]
            observation[fields["cached"]][: k * n_edges] = cached
            sizes = np.log1p(self.workload.sizes[chosen]) * self._size_scale
            observation[fields["size"]][:k] = np.minimum(sizes, 1.0)
            now, before = short.sum(axis=1), long.sum(axis=1)
            observation[fields["growth"]][:k] = now / np.maximum(now + before, 1e-12)
        last = self._last
        observation[fields["occupancy"]] = np.array(caches.used) / self.capacity
        load = np.array(last.requests) / self.peak_requests
        observation[fields["load"]] = load / (1.0 + load)
        observation[fields["hit_ratio"]] = [_ratio(h, n) for h, n in zip(last.hits, last.requests)]
        angle = 2.0 * np.pi * self.workload.local_hours(self._t) / 24.0
        observation[fields["local_time_sin"]] = np.sin(angle)
        observation[fields["local_time_cos"]] = np.cos(angle)
        sent = last.origin_bytes / (self.link_rate * self.config.interval_seconds)
        observation[fields["origin_utilization"]] = min(sent, 1.0)
        backlog = caches.backlog(self._now()) / self.config.origin_timeout_seconds
        observation[fields["origin_backlog"]] = min(backlog, 1.0)
        observation[fields["shed_share"]] = _ratio(sum(last.shed), sum(last.requests))
        observation[fields["progress"]] = self._t / self.config.episode_length
        return observation

    @property
    def last_traffic(self) -> Traffic:
        """What the edges and the origin did in the last interval (zeros before the first)."""
        return self._last

    @property
    def elapsed_intervals(self) -> int:
        """The intervals simulated so far in this episode."""
        return self._t

    def _now(self) -> float:
        """The simulated time at the start of the next interval [s since the episode start]."""
        return self._t * self.config.interval_seconds


def _layout(k: int, n_edges: int) -> dict[str, slice]:
    widths = {
        "share": k * n_edges,
        "cached": k * n_edges,
        "size": k,
        "growth": k,
        "occupancy": n_edges,
        "load": n_edges,
        "hit_ratio": n_edges,
        "local_time_sin": n_edges,
        "local_time_cos": n_edges,
        "origin_utilization": 1,
        "origin_backlog": 1,
        "shed_share": 1,
        "progress": 1,
    }
    fields, start = {}, 0
    for name, width in widths.items():
        fields[name] = slice(start, start + width)
        start += width
    return fields


def _warm_contents(popularity: np.ndarray, sizes: np.ndarray, caches: EdgeCaches) -> list[int]:
    """The most popular objects an edge pulls that fill its cache, least popular first (so
    that the most popular end at the most recently used end of an LRU cache)."""
    order = np.argsort(-popularity, kind="stable")
    order = order[sizes[order] <= caches.pull_limit]
    fitting = int(np.searchsorted(np.cumsum(sizes[order]), caches.capacity, side="right"))
    return order[:fitting][::-1].tolist()


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0

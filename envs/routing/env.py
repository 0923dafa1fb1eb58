"""The Gymnasium environment around :mod:`opsgym.envs.routing.simulator`."""

from __future__ import annotations

import math
import operator
from typing import Any

import networkx as nx
import numpy as np
from gymnasium import spaces

from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.drift import drift_start
from opsgym.envs.core.masks import info_mask
from opsgym.envs.core.request_streams import cumulative_weights
from opsgym.envs.routing import traffic
from opsgym.envs.routing.config import MAX_FLOWS, RoutingConfig
from opsgym.envs.routing.lp import min_max_utilization
from opsgym.envs.routing.paths import CandidatePaths
from opsgym.envs.routing.simulator import NetworkSimulator
from opsgym.envs.routing.topology import Topology, load_topology

FEATURES = ("valid", "delay", "hops", "max_utilization", "mean_utilization", "headroom")
HOP_SCALE = 4.0  # hops squashed by h / (h + 4)
FLOW_BLOCK = 128  # arriving flows drawn at a time, as the episode reaches them
MISSING_FEATURES = [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]  # a missing candidate's, the worst values


def flow_metrics(delays_s: np.ndarray, blocked: np.ndarray) -> dict[str, float]:
    """The blocking ratio and the mean and p95 delay [ms] of the admitted flows."""
    delays_ms = 1000.0 * delays_s[~blocked]
    return {
        "blocking_ratio": float(blocked.mean()),
        "mean_delay_ms": float(delays_ms.mean()) if delays_ms.size else 0.0,
        "p95_delay_ms": float(np.percentile(delays_ms, 95)) if delays_ms.size else 0.0,
    }


def flow_rewards(config: RoutingConfig, delay_s, admitted, delay_scale: float):
    """The reward of routed flows and its components, from their delays [s] (0 when
    blocked) and whether they were admitted (scalars, or arrays over instances)."""
    rewards = {"delay": -delay_s / delay_scale, "blocking": admitted - 1.0}
    reward = config.delay_weight * rewards["delay"] + config.blocking_weight * rewards["blocking"]
    return reward, rewards


class RoutingEnv(ConfiguredEnv[np.ndarray, int], config_class=RoutingConfig):
    """Route each arriving flow on one of the K shortest paths of a real backbone.

    ## Description

    Flows arrive at a backbone network read from the Internet Topology Zoo (Abilene by
    default). Each link is full duplex; its propagation delay is the great-circle
    distance between its end nodes at 5 microseconds per km, and its capacity is the
    GraphML `LinkSpeedRaw` where present, else `default_capacity_mbps` (OC-192 for
    Abilene). Flows arrive as a Poisson process whose rate follows a daily sinusoidal
    cycle (each episode starts at a random time of day); endpoints come from a gravity
    model with exponential node masses drawn at reset (or uniformly); each flow has an
    exponential rate and an exponential holding time. The mean offered traffic is
    `load` times what the network carries at best (min-max utilization 1 under optimal
    splittable routing) for a uniform all-pairs matrix of the same total.

    Each step is one arrival: the agent picks one of the K lowest-delay simple paths of
    the flow's endpoint pair. If the flow fits on every link of the path it is admitted
    and charged its end-to-end delay (propagation plus M/M/1 queueing of 1500-byte
    packets on every link, at the loads with the flow added); otherwise it is blocked:
    no link ever carries more than its capacity. With `drift="hotspot"` one node's
    gravity mass is multiplied by `hotspot_factor` at a random step in the middle half of
    the episode; with `drift="hotspot_move"` one node is hot (its mass multiplied by
    `hotspot_factor`) from the start and the hot spot moves to another node at that step.
    The change is abrupt (`drift_ramp=0`) or gradual: over `drift_ramp` flows, each
    flow's endpoints come from the new traffic matrix with a probability growing
    linearly from 0 to 1, else from the old one.

    Pairs with fewer than K simple paths have fewer valid actions: `info["action_mask"]`
    (int8, for Gymnasium's `action_space.sample(mask=...)`) and `action_masks()`
    (booleans, for sb3-contrib's MaskablePPO) say which. An invalid action is
    routed as action 0, the lowest-delay path, and reported in `info["invalid_action"]`.

    ## Action Space

    `Discrete(K)`: the candidate path (0 = lowest propagation delay) of the arriving flow.

    ## Observation Space

    A float32 `Box` in [0, 1] of shape `(6K + 2,)`, independent of the topology's size.
    Per candidate i (at `6i .. 6i+5`): valid (1, or 0 for a missing candidate whose other
    features then read as the worst values), propagation delay squashed by
    d / (d + mean shortest-path delay), hop count squashed by h / (h + 4), maximum and
    mean link utilization along the path, and bottleneck headroom (least spare capacity
    on the path divided by the flow's rate) squashed by x / (x + 1) (0.5 = exactly fits).

    | Num | Observation | Min | Max |
    |-----|-------------|-----|-----|
    | 6i .. 6i+5 | candidate i: valid, delay, hops, max util, mean util, headroom | 0 | 1 |
    | 6K | the flow's rate divided by (rate + mean rate) | 0 | 1 |
    | 6K+1 | the network's mean link utilization | 0 | 1 |

    ## Rewards

    `reward = delay_weight * delay + blocking_weight * blocking` with named components
    in `info["rewards"]`: `delay` is minus the flow's end-to-end delay divided by the
    mean shortest-path propagation delay of the topology (0 for a blocked flow), and
    `blocking` is -1 for a blocked flow, else 0. `info` also holds `path` (the candidate
    used), `invalid_action`, `delay_ms`, `blocked`, `max_utilization` (the network's
    busiest link as the next flow arrives) and `action_mask` (of the next flow).

    ## Starting State

    The network holds the flows a stationary system would hold at the episode's start
    time (a Poisson number, as in an M/G/infinity system), routed on their lowest-delay
    paths where they fit. Everything comes from the seed given to `reset`.

    ## Episode End

    1. Truncation: `episode_length` flows have arrived.

    The environment never terminates. On the last step `info["episode_metrics"]` holds
    the blocking ratio, the mean and p95 delay [ms] of admitted flows, and, at
    `lp_snapshots` evenly spaced moments, the routing's maximum link utilization, the LP
    optimum of min-max utilization for the traffic offered at that moment (all flows
    active then, admitted or not), and their ratio (above 1: worse than optimal; below 1
    only by blocking traffic). The LP is an evaluation diagnostic, off by default: each
    solve takes about 2 ms, a fifth of a thousand steps' time; pass `lp_snapshots=1` (or
    `--env-arg lp_snapshots=1` on the command line) to evaluate against it.

    {ARGUMENTS}

    {VECTOR_ENV}

    It refuses `lp_snapshots > 0`: the LP is an evaluation diagnostic of this env.

    ## Version History

    * v0: Initial release. `drift_ramp` and `drift="hotspot_move"` added later; the
      defaults keep the dynamics. Arriving flows are now drawn in blocks as the episode
      reaches them: same distribution, but a seed gives another episode than before.
      `lp_snapshots` now defaults to 0 (it was 1): the LP is opt-in.
    * v1: The LP optimum is exact. v0 solved it in kbit/s, where HiGHS's absolute
      tolerances stopped some solves above the optimum, reporting them optimal: with
      `lp_snapshots`, `info["episode_metrics"]`'s `lp_max_utilization` was high for
      some seeds (up to 62% on GEANT), and `utilization_ratio_to_lp` low. The uniform
      matrix's optimum that scales `load` changes in its last bits only (the same
      observations and rewards on every seed checked). v0 is no longer registered.
      `info["action_mask"]` is now int8 (it was bool), as Gymnasium's masked sampling
      needs: index with `mask.astype(bool)`.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    env_id = "opsgym/Routing-v1"
    example = {"load": 0.8}

    def _set_up(self, config: RoutingConfig) -> None:
        self.topology = topo = load_topology(config.topology, config.default_capacity_kbps)
        self.n_nodes = len(topo.nodes)
        self.paths = CandidatePaths(topo, config.k_paths)
        self.simulator = NetworkSimulator(
            topo.capacity_kbps, topo.delay_s, 8.0 * config.packet_bytes
        )
        self.delay_scale = mean_shortest_delay(topo)  # [s]
        self.arrival_rate = flow_arrival_rate(config, topo)  # [1/s]
        k = config.k_paths  # entry c of the masks: the first c candidates valid
        self._masks = list(np.arange(k) < np.arange(k + 1)[:, None])
        self._running: tuple[np.ndarray, ...] = ()
        self._flows: traffic.FlowStream | None = None  # drawn by reset
        self._delays = [0.0] * config.episode_length  # lists: faster to set one at a time
        self._blocked = [False] * config.episode_length
        self._snapshots: list[tuple[float, float]] = []
        self._step = 0
        self.current_paths: list[tuple[int, ...]] = []
        self._current_candidates, self._padding = [], []  # as describe_paths gives them
        self._candidates: dict[tuple[int, int], tuple[list, list, list]] = {}
        self.current_rate = 1
        self._max_utilization = 0.0

    @staticmethod
    def spaces(config: RoutingConfig) -> tuple[spaces.Discrete, spaces.Box]:
        """The action and observation spaces of an env of ``config``."""
        size = len(FEATURES) * config.k_paths + 2
        observations = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        return spaces.Discrete(config.k_paths), observations

    def _start(self, options: dict[str, Any] | None) -> tuple[np.ndarray, dict[str, Any]]:
        plan = self.start_episode(self.np_random)
        self._flows = traffic.FlowStream(plan, self.np_random, FLOW_BLOCK)
        self._snapshots = []
        self._step = 0
        self._prepare_flow()
        return self._observation(), {"action_mask": info_mask(self.action_masks())}

    def start_episode(self, rng: np.random.Generator) -> traffic.FlowPlan:
        """Draw an episode's traffic from ``rng`` and load ``self.simulator`` with the flows
        running at its start; return the plan of its arriving flows."""
        config = self.config
        n, count = self.n_nodes, config.episode_length
        if config.endpoints == "gravity":
            masses = rng.exponential(1.0, size=n)
        else:
            masses = np.ones(n)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        rate_now = self.arrival_rate * (1.0 + config.daily_amplitude * math.sin(phase))
        initial = int(rng.poisson(rate_now * config.holding_time))
        hot = -1
        if config.drift == "hotspot_move":
            hot = int(rng.integers(n))
            probabilities = traffic.gravity_pair_probabilities(self._heated(masses, hot))
        else:
            probabilities = traffic.gravity_pair_probabilities(masses)
        pairs = cumulative_weights(probabilities)
        later, start = None, count
        if config.drift != "none":
            start = drift_start(rng, count)
            moved = int(rng.integers(n - 1)) if hot >= 0 else int(rng.integers(n))
            moved += int(0 <= hot <= moved)  # a moving hot spot lands on another node
            later = cumulative_weights(
                traffic.gravity_pair_probabilities(self._heated(masses, moved))
            )
        # the flows running at time 0 (an M/G/inf queue in equilibrium)
        sources, targets = traffic.draw_pairs(rng, pairs, n, initial)
        rates = traffic.draw_rates_kbps(rng, config.flow_rate_kbps, initial)
        ends = rng.exponential(config.holding_time, size=initial)
        self._running = (sources, targets, rates, ends, np.zeros(initial))
        sim = self.simulator
        sim.reset()
        running = sources * n + targets
        shortest = self.paths.shortest
        sim.populate(
            [shortest[pair] for pair in running.tolist()],
            rates,
            ends,
            self.paths.shortest_incidence[running],
        )
        return traffic.FlowPlan(
            count,
            self.arrival_rate,
            config.daily_amplitude,
            config.day_length,
            phase,
            pairs,
            n,
            later,
            start,
            config.drift_ramp,
            config.flow_rate_kbps,
            config.holding_time,
        )

    def _heated(self, masses: np.ndarray, node: int) -> np.ndarray:
        """``masses`` with ``node``'s multiplied by ``hotspot_factor``."""
        heated = masses.copy()
        heated[node] *= self.config.hotspot_factor
        return heated

    def _advance(self, index: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        config = self.config
        k = self._step
        invalid = index >= len(self.current_paths)
        if invalid:
            index = 0
        path = self.current_paths[index]
        rate = self.current_rate
        sim = self.simulator
        flows = self._flows
        admitted = sim.admit(path, rate, flows.ends[k])
        delay = sim.path_delay(path) if admitted else 0.0
        self._delays[k] = delay
        self._blocked[k] = not admitted
        reward, rewards = flow_rewards(config, delay, admitted, self.delay_scale)

        self._step = k + 1
        if self._step in config.snapshot_steps:
            self._snapshot(flows.times[k])
        truncated = self._step == config.episode_length
        info: dict[str, Any] = {
            "path": index,
            "invalid_action": invalid,
            "delay_ms": 1000.0 * delay,
            "blocked": not admitted,
            "rewards": rewards,
        }
        if not truncated:
            self._prepare_flow()
        observation = self._observation()
        info["max_utilization"] = self._max_utilization
        info["action_mask"] = info_mask(self.action_masks())
        return observation, reward, False, truncated, info

    def action_masks(self) -> np.ndarray:
        """Which candidates exist for the arriving flow (for sb3-contrib's MaskablePPO)."""
        return self._masks[len(self.current_paths)].copy()

    def observation_fields(self) -> dict[str, list[int]]:
        """Where each per-candidate feature sits in the observation, by name."""
        width = len(FEATURES)
        return {
            name: [i * width + j for i in range(self.config.k_paths)]
            for j, name in enumerate(FEATURES)
        }

    def offered_demand_kbps(self, time: float) -> dict[tuple[int, int], float]:
        """The total rate [kbit/s] per pair of every flow offered and active at ``time``."""
        self._flows.reach_time(time)
        offered = zip(self._running, *self._flows.arrays)
        sources, targets, rates, ends, starts = (np.concatenate(field) for field in offered)
        active = (starts <= time) & (ends > time)
        demand: dict[tuple[int, int], float] = {}
        for s, t, r in zip(
            sources[active].tolist(), targets[active].tolist(), rates[active].tolist()
        ):
            demand[s, t] = demand.get((s, t), 0.0) + r
        return demand

    def episode_metrics(self) -> dict[str, float]:
        """Blocking, delay [ms] of admitted flows and utilization against the LP optimum."""
        if self._step == 0:
            return {}
        metrics = flow_metrics(
            np.array(self._delays[: self._step]), np.array(self._blocked[: self._step])
        )
        if self._snapshots:
            routed, optimum = (np.array(x) for x in zip(*self._snapshots))
            metrics["max_utilization"] = float(routed.mean())
            metrics["lp_max_utilization"] = float(optimum.mean())
            ratios = routed[optimum > 0] / optimum[optimum > 0]
            if ratios.size:
                metrics["utilization_ratio_to_lp"] = float(ratios.mean())
        return metrics

    def _text_frame(self) -> str:
        sim = self.simulator
        topo = self.topology
        lines = [f"{topo.name}: flow {self._step}/{self.config.episode_length}"]
        for (u, v), load, cap in zip(topo.arcs, sim.load, sim.capacity):
            lines.append(f"  {topo.nodes[u]} -> {topo.nodes[v]}: {load / cap:.0%} of {cap} kbit/s")
        return "\n".join(lines)

    def _snapshot(self, time: float) -> None:
        topo = self.topology
        demand = self.offered_demand_kbps(time)
        optimum = min_max_utilization(self.n_nodes, topo.arcs, topo.capacity_kbps, demand)
        self._snapshots.append((self.simulator.max_utilization(), optimum))

    def _prepare_flow(self) -> None:
        """Move the clock to the next flow's arrival and describe its candidates."""
        k, flows = self._step, self._flows
        if k >= len(flows.times):
            flows.reach(k)
        self.simulator.advance_to(flows.times[k])
        pair = (flows.sources[k], flows.targets[k])
        candidates = self._candidates.get(pair)
        if candidates is None:
            candidates = self._candidates[pair] = self.describe_paths(self.paths(*pair))
        self.current_paths, self._current_candidates, self._padding = candidates
        self.current_rate = flows.rates[k]

    def describe_paths(self, paths: list[tuple[int, ...]]) -> tuple[list, list, list]:
        """The paths; per path its fixed features, 1 / hops and a getter of its arcs' values;
        the features of the missing candidates."""
        propagation = self.simulator.propagation
        described = []
        for path in paths:
            delay = 0.0
            for a in path:
                delay += propagation[a]
            hops = len(path)
            fixed = (1.0, delay / (delay + self.delay_scale), hops / (hops + HOP_SCALE))
            # a slice for one arc, so that the getter always returns a sequence
            arcs = (
                operator.itemgetter(*path)
                if hops > 1
                else operator.itemgetter(slice(path[0], path[0] + 1))
            )
            described.append((fixed, 1.0 / hops, arcs))
        return paths, described, MISSING_FEATURES * (self.config.k_paths - len(paths))

    def _observation(self) -> np.ndarray:
        sim = self.simulator
        utilizations, spare = sim.utilization, sim.spare
        rate = self.current_rate
        features: list[float] = []
        for fixed, per_hop, arcs in self._current_candidates:
            on_path = arcs(utilizations)
            room = min(arcs(spare))
            features += fixed
            features += (max(on_path), sum(on_path) * per_hop, room / (room + rate))
        features += self._padding
        features.append(rate / (rate + self.config.flow_rate_kbps))
        self._max_utilization = max(utilizations)
        features.append(sum(utilizations) / len(utilizations))
        return np.array(features, dtype=np.float32)


def _ordered_pairs(n: int) -> list[tuple[int, int]]:
    return [(s, t) for s in range(n) for t in range(n) if s != t]


def mean_shortest_delay(topo: Topology) -> float:
    """The mean propagation delay of the shortest paths between ordered node pairs [s]."""
    lengths = dict(nx.all_pairs_dijkstra_path_length(topo.graph, weight="delay"))
    pairs = _ordered_pairs(len(topo.nodes))
    return sum(lengths[s][t] for s, t in pairs) / len(pairs)


def flow_arrival_rate(config: RoutingConfig, topo: Topology) -> float:
    """The flow arrival rate [1/s] that offers ``config.load`` to ``topo``.

    Raises:
        ValueError: so many flows would run at once that the episode could not hold them.
    """
    pairs = _ordered_pairs(len(topo.nodes))
    # a uniform matrix of 1 kbit/s per pair reaches this utilization at best
    unit_utilization = min_max_utilization(
        len(topo.nodes), topo.arcs, topo.capacity_kbps, dict.fromkeys(pairs, 1.0)
    )
    offered_kbps = config.load * len(pairs) / unit_utilization
    running = offered_kbps / config.flow_rate_kbps  # flows at once, on average
    if running > MAX_FLOWS:
        raise ValueError(
            f"flow_rate_mbps: {running:,.0f} flows of {config.flow_rate_mbps:g} Mbit/s would "
            f"run at once at load {config.load:g} on {topo.name}; at most {MAX_FLOWS:,}: "
            "raise flow_rate_mbps or lower load"
        )
    return offered_kbps / config.flow_rate_kbps / config.holding_time

"""N flow routers on one backbone, advanced together with numpy batch operations.

Each instance draws its episode's start (and loads its warm-start flows) with the single
env's :meth:`~opsgym.envs.routing.env.RoutingEnv.start_episode` and its arriving flows in
the single env's blocks, from its own generator; the active flows of all instances are
one :class:`~opsgym.envs.routing.simulator.FlowSlots`, and every float is summed in the
single env's order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgym.envs.core.batch import builtin_sum
from opsgym.envs.core.masks import info_mask
from opsgym.envs.routing import traffic
from opsgym.envs.routing.config import RoutingConfig
from opsgym.envs.routing.env import FEATURES, FLOW_BLOCK, RoutingEnv, flow_metrics, flow_rewards
from opsgym.envs.routing.simulator import MAX_QUEUEING_UTILIZATION, FlowSlots
from opsgym.envs.vector import BatchedVectorEnv

UNBOUNDED_KBPS = 2**62  # the capacity of the padding arc, which never carries a flow


class RoutingVectorEnv(BatchedVectorEnv):
    """``num_envs`` instances of opsgym/Routing-v1 in numpy arrays.

    Batched: the per-arc loads (integers [kbit/s], one column per instance), the
    active flows, admission, the M/M/1 path delays and the observations. Per instance,
    in Python: the draws of each episode's start and of its arriving flows and the
    warm-start loading. ``info["action_mask"]`` for every instance; ``action_masks()``
    gives the masks of the arriving flows.

    Refuses ``lp_snapshots > 0``: the LP optimum is an evaluation diagnostic of the
    single env (one LP solve per snapshot and instance), not worth batching.
    """

    single_env_class = RoutingEnv

    def _set_up(self, config: RoutingConfig, num_envs: int) -> None:
        if config.lp_snapshots:
            raise ValueError(
                f"lp_snapshots: the vector env solves no LP snapshots, got "
                f"{config.lp_snapshots}; use 0, or the single env to evaluate against the LP"
            )
        # the single env holds the topology, the candidate paths and the episodes' traffic
        self.model = RoutingEnv(config=config)
        self._tables()
        arcs = self.n_arcs
        # arc-major, so that reductions over a path's arcs run over the first axis
        self.loads = np.zeros((arcs + 2, num_envs), dtype=np.int64)
        self.loads[arcs + 1] = 1
        self.flows = FlowSlots(self.loads, self.hop_arcs, self.hop_on_path)
        # the arriving flows' current block, one row per instance
        self.plans: list[traffic.FlowPlan | None] = [None] * num_envs
        self.arrivals = np.zeros((num_envs, FLOW_BLOCK))
        self.pairs = np.zeros((num_envs, FLOW_BLOCK), dtype=np.int64)
        self.rates = np.zeros((num_envs, FLOW_BLOCK), dtype=np.int64)
        self.ends = np.zeros((num_envs, FLOW_BLOCK))
        self.position = np.zeros(num_envs, dtype=np.int64)
        self.step_index = np.zeros(num_envs, dtype=np.int64)
        self.pair = np.zeros(num_envs, dtype=np.int64)
        self.rate = np.ones(num_envs, dtype=np.int64)
        self.delays = np.zeros((num_envs, config.episode_length))
        self.blocked = np.zeros((num_envs, config.episode_length), dtype=bool)
        self._max_utilization = np.zeros(num_envs)

    def _tables(self) -> None:
        """Every candidate path as padded arc rows, per pair its candidates' ids (the
        missing candidate's path where missing), count, arcs, fixed features and inverse
        hop counts, and per arc its capacity, propagation delay and service time."""
        config = self.config
        model = self.model
        n, k = model.n_nodes, config.k_paths
        self.n_arcs = len(model.topology.arcs)
        paths: list[tuple[int, ...]] = []
        self.candidates = np.zeros((n * n, k), dtype=np.int64)
        self.counts = np.zeros(n * n, dtype=np.int64)
        missing = model.describe_paths([])[2][:3]  # a missing candidate's valid, delay, hops
        self.fixed = np.tile(missing, (n * n, k, 1))
        per_hop = []
        for pair in range(n * n):
            source, target = divmod(pair, n)
            if source == target:
                continue
            found, described, _ = model.describe_paths(model.paths(source, target))
            self.counts[pair] = len(found)
            for c, (path, (fixed, inverse_hops, _)) in enumerate(zip(found, described)):
                self.candidates[pair, c] = len(paths)
                self.fixed[pair, c] = fixed
                paths.append(path)
                per_hop.append(inverse_hops)
        self.candidates[np.arange(k) >= self.counts[:, None]] = len(paths)
        self.path_index = {path: i for i, path in enumerate(paths)}
        hops = max(len(path) for path in paths)
        self.path_arcs = np.full((len(paths) + 1, hops), self.n_arcs, dtype=np.int64)
        for i, path in enumerate(paths):
            self.path_arcs[i, : len(path)] = path
        self.path_arcs[-1, 0] = self.n_arcs + 1  # the missing candidate's: the full arc
        self.on_path = (self.path_arcs < self.n_arcs).astype(np.int64)
        # hop-major copies, as the loads are arc-major (gathered with take: contiguous)
        self.hop_arcs = np.ascontiguousarray(self.path_arcs.T)
        self.hop_on_path = np.ascontiguousarray(self.on_path.T)
        self.pair_arcs = self.hop_arcs.take(self.candidates, axis=1)
        self.pair_per_hop = np.array([*per_hop, 1.0])[self.candidates]
        sim = model.simulator
        # two more arcs: an empty one that pads paths and a full one, the path of a
        # missing candidate, whose features then read as the worst values
        self.capacity = np.array([*sim.capacity, UNBOUNDED_KBPS, 1], dtype=np.int64)
        self.propagation = np.array([*sim.propagation, 0.0, 0.0])
        self.service = np.array([*sim.service_s, 0.0, 0.0])

    def _reset_rows(self, rows: np.ndarray) -> None:
        sim = self.model.simulator
        for i in rows.tolist():
            self.plans[i] = self.model.start_episode(self.generators[i])
            self.loads[: self.n_arcs, i] = sim.load
            running = sim.running_flows()
            ends, paths, rates = zip(*running) if running else ((), (), ())
            self.flows.reset(i, ends, [self.path_index[path] for path in paths], rates)
            self._draw_block(i, 0, 0.0)
        self.step_index[rows] = 0
        self._arrive(rows)

    def _draw_block(self, i: int, first: int, start: float) -> None:
        """Draw instance i's arriving flows ``first`` on, a block of them."""
        plan = self.plans[i]
        block = traffic.draw_flow_block(plan, self.generators[i], first, FLOW_BLOCK, start)
        sources, targets, rates, ends, times = block
        count = times.size
        self.pairs[i, :count] = sources * plan.n_nodes + targets
        self.rates[i, :count] = rates
        self.ends[i, :count] = ends
        self.arrivals[i, :count] = times
        self.position[i] = 0

    def _arrive(self, rows: np.ndarray) -> None:
        """Move the clocks of ``rows`` to their current flows' arrivals: flows ending by
        then leave."""
        index = self._index(rows)
        position = self.position[index]
        self.flows.depart(rows, index, self.arrivals[rows, position])
        self.pair[index] = self.pairs[rows, position]
        self.rate[index] = self.rates[rows, position]

    def _step_rows(
        self, rows: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        config = self.config
        index = self._index(rows)
        pair, rate = self.pair[index], self.rate[index]
        invalid = actions >= self.counts[pair]
        chosen = np.where(invalid, 0, actions)
        path = self.candidates[pair, chosen]
        arcs = self.hop_arcs.take(path, axis=1)
        flat = arcs * self.num_envs + rows
        loads = self.loads.reshape(-1)[flat]
        capacity = self.capacity[arcs]
        admitted = (capacity - loads >= rate).all(axis=0)
        loads += rate * admitted * self.hop_on_path.take(path, axis=1)
        self.loads.reshape(-1)[flat] = loads
        rho = np.minimum(loads / capacity, MAX_QUEUEING_UTILIZATION)
        terms = self.propagation[arcs] + self.service[arcs] / (1.0 - rho)
        delay = terms[0].copy()
        for term in terms[1:]:  # left to right as the single env adds them; padding adds 0.0
            delay += term
        delay[~admitted] = 0.0
        stored = rows[admitted]
        ends = self.ends[stored, self.position[stored]]
        self.flows.store(stored, path[admitted], rate[admitted], ends)

        k = self.step_index[index]
        self.delays[rows, k] = delay
        self.blocked[rows, k] = ~admitted
        reward, rewards = flow_rewards(config, delay, admitted, self.model.delay_scale)
        k = k + 1
        self.step_index[index] = k
        truncated = k == config.episode_length
        going = rows[~truncated]
        position = self.position[going] + 1
        self.position[going] = position
        for i in going[position == FLOW_BLOCK].tolist():
            self._draw_block(i, int(self.step_index[i]), float(self.arrivals[i, -1]))
        self._arrive(going)
        info = {
            "path": chosen,
            "invalid_action": invalid,
            "delay_ms": 1000.0 * delay,
            "blocked": ~admitted,
            "rewards": rewards,
            "action_mask": info_mask(self.action_masks()[rows]),
        }
        return reward, truncated, info

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        stepped = ~self._autoreset
        observations, rewards, terminated, truncated, info = super().step(actions)
        # the network's maximum utilization is known once the observations are built
        info["max_utilization"] = np.where(stepped, self._max_utilization, 0.0)
        info["_max_utilization"] = stepped
        return observations, rewards, terminated, truncated, info

    def _reset_infos(self, rows: np.ndarray) -> dict[str, Any]:
        return {"action_mask": info_mask(self.action_masks()[rows])}

    def action_masks(self) -> np.ndarray:
        """Which candidates exist for each instance's arriving flow."""
        return np.arange(self.config.k_paths) < self.counts[self.pair][:, None]

    def _observations(self) -> np.ndarray:
        config = self.config
        pair, rate = self.pair, self.rate
        arcs = self.pair_arcs.take(pair, axis=1)  # hop, instance, candidate
        loads = self.loads.reshape(-1)[arcs * self.num_envs + self._all_rows[:, None]]
        capacity = self.capacity[arcs]
        on_path = loads / capacity
        room = (capacity - loads).min(axis=0)
        observations = np.empty((self.num_envs, self.single_observation_space.shape[0]), np.float32)
        features = observations[:, :-2].reshape(self.num_envs, config.k_paths, len(FEATURES))
        features[..., :3] = self.fixed[pair]
        features[..., 3] = on_path.max(axis=0)
        features[..., 4] = builtin_sum(on_path) * self.pair_per_hop[pair]
        features[..., 5] = room / (room + rate[:, None])
        observations[:, -2] = rate / (rate + config.flow_rate_kbps)
        network = self.loads[: self.n_arcs] / self.capacity[: self.n_arcs, None]
        observations[:, -1] = builtin_sum(network) / self.n_arcs
        self._max_utilization = network.max(axis=0)
        return observations

    def _instance_metrics(self, i: int) -> dict[str, float]:
        return flow_metrics(self.delays[i], self.blocked[i])

"""Wall-clock time of the privileged oracles, on problems of a realistic size.

The oracles are the ceilings evaluations compare against, so they must stay cheap next
to the episodes they score: Belady's MIN over a long request trace, the autoscaling
perfect-foresight plan over a week of minutes, and the routing LP on a backbone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import opsgym.envs  # noqa: F401  (registers the ids)
from opsgym.envs.autoscaling.oracle import optimal_plan
from opsgym.envs.core import exact_caches as exact
from opsgym.envs.core import request_streams
from opsgym.envs.routing import traffic
from opsgym.envs.routing.lp import min_max_utilization


def _median_seconds(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def belady(requests: int, rounds: int, capacity: int = 1000, seed: int = 0) -> dict:
    """Belady's MIN with bypass (unit sizes) on a Zipf(0.9) trace over 100,000 objects,
    next-use indices included."""
    popularity = request_streams.zipf_probabilities(100_000, 0.9)
    rng = np.random.default_rng(seed)
    ids = request_streams.zipf_requests(rng, requests, request_streams.alias_table(popularity))
    seconds = _median_seconds(lambda: exact.belady(ids, capacity), rounds)
    return {
        "oracle": "Belady's MIN (caching)",
        "problem": f"{requests:,} requests, capacity {capacity}",
        "seconds": seconds,
        "rate": f"{requests / seconds:,.0f} requests/s",
    }


def autoscaling_plan(steps: int, rounds: int, seed: int = 0) -> dict:
    """The perfect-foresight plan of an Autoscaling-v0 episode of ``steps`` minutes."""
    env = gym.make("opsgym/Autoscaling-v0", episode_steps=steps).unwrapped
    env.reset(seed=seed)
    seconds = _median_seconds(lambda: optimal_plan(env), rounds)
    return {
        "oracle": "perfect-foresight plan (autoscaling)",
        "problem": f"{steps:,} one-minute steps",
        "seconds": seconds,
        "rate": f"{steps / seconds:,.0f} steps/s",
    }


def routing_lp(rounds: int, topology: str = "Abilene", seed: int = 0) -> dict:
    """The min-max utilization LP for a gravity traffic matrix over every pair."""
    env = gym.make("opsgym/Routing-v1", topology=topology, lp_snapshots=0).unwrapped
    topo, n = env.topology, env.n_nodes
    rng = np.random.default_rng(seed)
    shares = traffic.gravity_pair_probabilities(rng.exponential(1.0, size=n))
    total = float(np.mean(topo.capacity_kbps)) * n  # [kbit/s]
    demand = {(p // n, p % n): total * share for p, share in enumerate(shares) if share > 0}
    seconds = _median_seconds(
        lambda: min_max_utilization(n, topo.arcs, topo.capacity_kbps, demand), rounds
    )
    return {
        "oracle": "min-max utilization LP (routing)",
        "problem": f"{topology}: {n} nodes, {len(topo.arcs)} arcs, {len(demand)} pairs",
        "seconds": seconds,
        "rate": f"{1.0 / seconds:,.1f} solves/s",
    }


def time_oracles(requests: int, steps: int, rounds: int) -> list[dict]:
    """Median seconds of each oracle over ``rounds`` runs."""
    return [belady(requests, rounds), autoscaling_plan(steps, rounds), routing_lp(rounds)]

"""The ceiling of routing: the LP of min-max link utilization, and a privileged greedy oracle."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import LinearConstraint, milp

from opsgym.envs.core import validation


def min_max_utilization(
    n_nodes: int,
    arcs: list[tuple[int, int]],
    capacity: list[float],
    demands: dict[tuple[int, int], float],
) -> float:
    """The least achievable maximum link utilization for ``demands``, flows split freely.

    The multi-commodity flow LP with commodities aggregated by source (Ahuja, Magnanti
    and Orlin, *Network Flows*, 1993, ch. 17): variables f[s, a] >= 0 and U; minimize U
    subject to flow conservation of each source's traffic at every node and
    sum_s f[s, a] <= U * capacity[a]. Solved with HiGHS. Units of demands and capacity
    must agree. Returns 0 for no demand.
    """
    demands = {pair: d for pair, d in demands.items() if d > 0 and pair[0] != pair[1]}
    if not demands:
        return 0.0
    sources = sorted({s for s, _ in demands})
    n_sources, n_arcs = len(sources), len(arcs)
    n_vars = n_sources * n_arcs + 1
    n_flow_rows = n_sources * n_nodes
    # f[k, a] leaves arc a's tail and enters its head in source k's conservation rows
    ends = np.array(arcs, dtype=np.int64).reshape(n_arcs, 2)
    flow_rows = (n_nodes * np.arange(n_sources)[:, None, None] + ends).ravel()
    flow_cols = np.repeat(np.arange(n_sources * n_arcs), 2)
    flow_vals = np.tile([1.0, -1.0], n_sources * n_arcs)
    # each demand enters at its source and leaves at its target, in its source's rows
    index = {s: k for k, s in enumerate(sources)}
    entries = [n_nodes * index[s] + x for s, t in demands for x in (s, t)]
    signed = np.repeat(list(demands.values()), 2) * np.tile([1.0, -1.0], len(demands))
    net = np.zeros(n_flow_rows)
    np.add.at(net, entries, signed)
    # arc a's row: the sum over k of f[k, a], minus U * capacity[a], at most 0
    arc_rows = n_flow_rows + np.repeat(np.arange(n_arcs), n_sources + 1)
    arc_cols = np.full((n_arcs, n_sources + 1), n_vars - 1)
    arc_cols[:, :-1] = np.arange(n_arcs)[:, None] + n_arcs * np.arange(n_sources)
    arc_vals = np.ones((n_arcs, n_sources + 1))
    arc_vals[:, -1] = -np.asarray(capacity, dtype=np.float64)
    matrix = sparse.csr_matrix(
        (
            np.concatenate([flow_vals, arc_vals.ravel()]),
            (np.concatenate([flow_rows, arc_rows]), np.concatenate([flow_cols, arc_cols.ravel()])),
        ),
        shape=(n_flow_rows + n_arcs, n_vars),
    )
    lower = np.concatenate([net, np.full(n_arcs, -np.inf)])
    upper = np.concatenate([net, np.zeros(n_arcs)])
    cost = np.zeros(n_vars)
    cost[-1] = 1.0
    # milp with no integer variable is HiGHS's LP solver with less input handling than
    # linprog, and presolve costs more than it saves on LPs this small (together about
    # 40% of the time here); variables are non-negative by default
    result = milp(
        cost, constraints=LinearConstraint(matrix, lower, upper), options={"presolve": False}
    )
    if result.status != 0:
        raise RuntimeError(f"min-max utilization LP failed: {result.message}")
    return float(result.x[-1])


class GreedyDelayOracle:
    """Privileged greedy: the admissible candidate with the lowest exact delay.

    Reads the simulator's exact link loads and computes each candidate's end-to-end
    delay (propagation plus M/M/1 queueing) with the flow added; picks the lowest among
    those that fit, or the lowest-delay candidate when none fits. Greedy, so it is a
    strong reference rather than the optimum: it ignores how its choice blocks later
    flows. The ceiling of utilization is :func:`min_max_utilization`, reported by the
    environment at snapshots.
    """

    def __init__(self, env) -> None:
        from opsgym.envs.routing.env import RoutingEnv

        unwrapped = validation.unwrapped_as(env, RoutingEnv, "GreedyDelayOracle")
        self.env = unwrapped

    def act(self, observation) -> int:
        env = self.env
        sim = env.simulator
        rate = env.current_rate
        best, best_delay = 0, float("inf")
        for i, path in enumerate(env.current_paths):
            if not sim.fits(path, rate):
                continue
            sim.add(path, rate)
            delay = sim.path_delay(path)
            sim.remove(path, rate)
            if delay < best_delay:
                best, best_delay = i, delay
        return best

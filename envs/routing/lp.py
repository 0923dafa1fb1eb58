"""The ceiling of routing: the LP of min-max link utilization under splittable flows."""

from __future__ import annotations

import numpy as np


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
    # scipy's solvers take a second to import, and importing opsgym.envs imports every
    # environment: they are imported when the first LP is solved.
    from scipy import sparse
    from scipy.optimize import LinearConstraint, milp

    demands = {pair: d for pair, d in demands.items() if d > 0 and pair[0] != pair[1]}
    if not demands:
        return 0.0
    # HiGHS's feasibility tolerances are absolute (1e-7). The capacity rows' duals are
    # about 1 / (total capacity): in kbit/s they fall below the dual tolerance, and the
    # simplex stopped at a vertex above the optimum, reporting it optimal (up to 12%
    # above on 22% of SNDlib's Abilene matrices). U is scale-free, so the LP is solved
    # with capacities averaging 1 and demands summing to the total capacity: then the
    # flows, the duals and U (at least 1: the arcs together carry at least the total
    # demand) are of order 1, and the answer is U times total demand / total capacity.
    n_arcs = len(arcs)
    total_capacity = float(np.sum(capacity))
    total_demand = sum(demands.values())
    capacity = np.asarray(capacity, dtype=np.float64) * (n_arcs / total_capacity)
    scaled_demands = np.fromiter(demands.values(), np.float64) * (n_arcs / total_demand)
    sources = sorted({s for s, _ in demands})
    n_sources = len(sources)
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
    signed = np.repeat(scaled_demands, 2) * np.tile([1.0, -1.0], len(demands))
    net = np.zeros(n_flow_rows)
    np.add.at(net, entries, signed)
    # arc a's row: the sum over k of f[k, a], minus U * capacity[a], at most 0
    arc_rows = n_flow_rows + np.repeat(np.arange(n_arcs), n_sources + 1)
    arc_cols = np.full((n_arcs, n_sources + 1), n_vars - 1)
    arc_cols[:, :-1] = np.arange(n_arcs)[:, None] + n_arcs * np.arange(n_sources)
    arc_vals = np.ones((n_arcs, n_sources + 1))
    arc_vals[:, -1] = -capacity
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
    return float(result.x[-1]) * total_demand / total_capacity

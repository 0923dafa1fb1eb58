"""The ceiling of ResourceAllocation: lower bounds on the mean slowdown of any schedule.

The trivial bound is 1: no job completes before its arrival plus its duration. A tighter
one reads the episode's whole job sequence (hidden from policies). Two jobs i and j
*conflict* when their demands of some resource add up to more than its capacity: they
can never run at the same time, so one of them waits for the other. If i runs first, j
cannot start before ``a_i + d_i`` (a the arrival, d the duration), so j's slowdown grows
by at least ``max(0, a_i + d_i - a_j) / d_j``; the other order costs i at least
``max(0, a_j + d_j - a_i) / d_i``. The smaller of the two is the pair's *penalty*. In a
set of disjoint conflicting pairs (a matching) each job pays for at most one pair, so

    total slowdown >= n + sum of the matched pairs' penalties,

and a maximum-weight matching of the conflict graph gives the tightest bound of this
family. It ignores conflicts among three or more jobs that fit pairwise, and chains of
waits, so it is a bound and not the optimum (it meets the optimum on the hand trace of
the tests).
"""

from __future__ import annotations

from collections.abc import Sequence

from opsgym.envs.resource_allocation.simulator import JobSequence


def pair_penalty(jobs: JobSequence, i: int, j: int, capacities: Sequence[int]) -> float:
    """The least slowdown jobs i and j add to each other; 0 if they can run together."""
    demands_i, demands_j = jobs.demands_of(i), jobs.demands_of(j)
    if all(x + y <= c for x, y, c in zip(demands_i, demands_j, capacities)):
        return 0.0
    a_i, d_i = jobs.arrivals[i], jobs.durations[i]
    a_j, d_j = jobs.arrivals[j], jobs.durations[j]
    return min(max(0, a_i + d_i - a_j) / d_j, max(0, a_j + d_j - a_i) / d_i)


def mean_slowdown_lower_bound(jobs: JobSequence, capacities: Sequence[int]) -> float:
    """A lower bound on the mean slowdown of every schedule of ``jobs`` (see the module)."""
    import networkx as nx  # here, so that importing the environments stays fast

    graph = nx.Graph()
    arrivals, durations = jobs.arrivals, jobs.durations
    n = len(jobs)
    for i in range(n):
        j = i + 1
        # sorted arrivals: a later job that arrives after i could have finished has
        # penalty 0 (i may simply run first), and so have all jobs after it
        while j < n and arrivals[j] < arrivals[i] + durations[i]:
            penalty = pair_penalty(jobs, i, j, capacities)
            if penalty > 0:
                graph.add_edge(i, j, weight=penalty)
            j += 1
    matching = nx.max_weight_matching(graph)
    extra = sum(graph.edges[i, j]["weight"] for i, j in matching)
    return (n + extra) / n


def episode_slowdown_bound(env) -> float:
    """The bound for the episode ``env`` (a ResourceAllocationEnv, wrapped or not) runs."""
    unwrapped = env.unwrapped
    return mean_slowdown_lower_bound(
        unwrapped.simulator.jobs.columns(), unwrapped.config.capacities
    )

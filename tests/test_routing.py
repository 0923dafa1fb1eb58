"""The science of Routing-v1: geometry, paths, queueing, blocking and the LP optimum."""

from __future__ import annotations

import itertools
import json

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

import opsgym.envs  # noqa: F401
from opsgym.baselines import make_policy
from opsgym.envs.core.request_streams import cumulative_weights
from opsgym.envs.routing import env as routing_env
from opsgym.envs.routing import great_circle_km, load_topology, min_max_utilization, traffic
from opsgym.envs.routing.paths import CandidatePaths
from opsgym.envs.routing.simulator import NetworkSimulator, mm1_link_delay
from opsgym.train.runner import run_episode


def graph(edges, coords=None, speed=None) -> nx.Graph:
    g = nx.Graph()
    nodes = sorted({n for e in edges for n in e})
    for i, n in enumerate(nodes):
        lat, lon = (coords or {}).get(n, (0.0, float(i)))
        g.add_node(n, Latitude=lat, Longitude=lon)
    for u, v in edges:
        g.add_edge(u, v, **({"LinkSpeedRaw": speed} if speed else {}))
    return g


def test_great_circle_london_paris():
    # London (51.5074 N, 0.1278 W) to Paris (48.8566 N, 2.3522 E): 343.5 km (haversine)
    assert great_circle_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=1.0)
    assert great_circle_km(10.0, 20.0, 10.0, 20.0) == 0.0


def test_mm1_delay_closed_form():
    # 12,000-bit packets on 1 Mbit/s: service 12 ms; at rho 0.5 sojourn 1/(mu - lambda) = 24 ms
    assert mm1_link_delay(0.001, 12_000.0, 1e6, 0.5) == pytest.approx(0.001 + 0.024)
    assert mm1_link_delay(0.0, 12_000.0, 1e6, 0.0) == pytest.approx(0.012)


def test_abilene_has_oc192_links_and_fibre_delays():
    topo = load_topology("Abilene")
    assert len(topo.nodes) == 11 and len(topo.arcs) == 28
    assert set(topo.capacity_kbps) == {9_953_280}
    ny = topo.nodes.index("New York")
    chicago = topo.nodes.index("Chicago")
    arc = topo.arc_index()[ny, chicago]
    # New York to Chicago is about 1,145 km of great circle: 5.7 ms at 5 us/km
    assert topo.delay_s[arc] == pytest.approx(1145 * 5e-6, rel=0.01)


def test_link_speed_raw_and_parallel_links_add():
    g = nx.MultiGraph(graph([("a", "b")], speed=1e9))
    g.add_edge("a", "b", LinkSpeedRaw=2.5e9)
    topo = load_topology(g)
    assert topo.capacity_kbps == [3_500_000, 3_500_000]


def test_bad_topologies_are_named(tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph>")
    with pytest.raises(ValueError, match="bad.graphml"):
        load_topology(str(bad))
    g = graph([("a", "b"), ("c", "d")])
    with pytest.raises(ValueError, match="disconnected"):
        load_topology(g)
    g = graph([("a", "b")])
    del g.nodes["b"]["Latitude"]
    with pytest.raises(ValueError, match="'b' has no Latitude"):
        load_topology(g)
    with pytest.raises(ValueError, match="topology"):
        gym.make("opsgym/Routing-v1", topology="Atlantis")
    with pytest.raises(ValueError, match="k_paths"):
        gym.make("opsgym/Routing-v1", k_paths=0)
    with pytest.raises(ValueError, match="load"):
        gym.make("opsgym/Routing-v1", load=-1.0)


def test_k_shortest_paths_match_enumeration():
    rng = np.random.default_rng(3)
    g = nx.gnm_random_graph(7, 12, seed=4)
    for n in g:
        g.nodes[n].update(
            Latitude=float(rng.uniform(-40, 40)), Longitude=float(rng.uniform(-80, 80))
        )
    topo = load_topology(g)
    paths = CandidatePaths(topo, 5)
    for s, t in [(0, 6), (2, 5), (1, 3)]:
        every = sorted(
            sum(topo.graph.edges[u, v]["delay"] for u, v in itertools.pairwise(p))
            for p in nx.all_simple_paths(topo.graph, s, t)
        )
        found = [sum(topo.delay_s[a] for a in p) for p in paths(s, t)]
        assert found == pytest.approx(every[:5])


def test_loads_are_restored_exactly_and_blocking_keeps_capacity():
    sim = NetworkSimulator([10, 10, 10], [0.001] * 3, 8.0)
    assert sim.admit((0, 1), 7, end_time=1.0)
    assert sim.admit((1, 2), 3, end_time=2.0)
    assert not sim.admit((1,), 1, end_time=3.0)  # link 1 is full
    assert sim.load == [7, 10, 3]
    sim.advance_to(1.5)
    assert sim.load == [0, 3, 3]
    sim.advance_to(2.0)
    assert sim.load == [0, 0, 0]


def test_no_link_ever_exceeds_capacity_under_overload():
    env = gym.make("opsgym/Routing-v1", load=3.0, episode_length=400).unwrapped
    env.reset(seed=1)
    blocked = 0
    for _ in range(400):
        _, _, _, _, info = env.step(0)
        blocked += info["blocked"]
        assert all(x <= c for x, c in zip(env.simulator.load, env.simulator.capacity))
    assert blocked > 0


def test_lp_on_a_triangle_by_hand():
    # triangle of unit links; demand 2 from 0 to 1: 1 direct, 1 via node 2 -> U = 1
    arcs = [(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)]
    assert min_max_utilization(3, arcs, [1.0] * 6, {(0, 1): 2.0}) == pytest.approx(1.0)
    # direct link twice as big: split x direct, 3 - x around; x/2 = 3 - x -> x = 2, U = 1
    caps = [2.0, 2.0, 1.0, 1.0, 1.0, 1.0]
    assert min_max_utilization(3, arcs, caps, {(0, 1): 3.0}) == pytest.approx(1.0)


def test_lp_is_below_every_unsplit_routing_brute_force():
    arcs = [(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0), (1, 3), (3, 1), (2, 3), (3, 2)]
    caps = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0]
    g = nx.DiGraph(arcs)
    index = {a: i for i, a in enumerate(arcs)}
    demands = {(0, 3): 1.0, (1, 2): 0.5, (3, 0): 0.7}
    options = [
        [tuple(index[a] for a in itertools.pairwise(p)) for p in nx.all_simple_paths(g, s, t)]
        for s, t in demands
    ]
    best = np.inf
    for choice in itertools.product(*options):
        load = np.zeros(len(arcs))
        for path, d in zip(choice, demands.values()):
            load[list(path)] += d
        best = min(best, float((load / caps).max()))
    optimum = min_max_utilization(4, arcs, caps, demands)
    assert optimum <= best + 1e-9
    assert optimum > 0.3


def hand_env(load: float):
    # a square with a long diagonal-free detour: 0-1 direct is short, 0-2-1 is longer
    g = graph([("a", "b"), ("a", "c"), ("c", "b")], speed=1e9)
    return gym.make(
        "opsgym/Routing-v1",
        topology=g,
        k_paths=2,
        load=load,
        flow_rate_mbps=100.0,
        episode_length=600,
        endpoints="uniform",
    )


def test_heuristics_on_a_hand_built_triangle():
    env = hand_env(0.2)
    observation, info = env.reset(seed=0)
    fields = env.unwrapped.observation_fields()
    assert info["action_mask"].tolist() == [True, True]
    assert observation[fields["hops"][0]] < observation[fields["hops"][1]]
    for name in ("shortest_delay", "shortest_hop", "ecmp"):
        assert make_policy(env, name, seed=0).act(observation) == 0
    widest = make_policy(env, "least_utilized", seed=0).act(observation)
    utils = [observation[i] for i in fields["max_utilization"]]
    assert utils[widest] == min(utils)


def test_least_utilized_blocks_less_than_shortest_path_under_heavy_load():
    # on Abilene's ring-like core, detours exist around every hot link; (on a triangle at
    # overload they do not pay: a two-hop detour takes capacity from two direct flows)
    env = gym.make("opsgym/Routing-v1", load=1.0, episode_length=600)
    ratios = {}
    for name in ("shortest_delay", "least_utilized"):
        results = [run_episode(env, make_policy(env, name, seed=0), s, False) for s in range(3)]
        ratios[name] = np.mean([r.metrics["blocking_ratio"] for r in results])
    assert ratios["least_utilized"] < ratios["shortest_delay"]


def test_lp_snapshots_are_opt_in_and_bound_an_unblocked_routing():
    default = gym.make("opsgym/Routing-v1", episode_length=300)
    assert "lp_max_utilization" not in run_episode(default, make_policy(default, "ecmp"), 0).metrics
    env = gym.make("opsgym/Routing-v1", load=0.3, episode_length=300, lp_snapshots=2)
    result = run_episode(env, make_policy(env, "shortest_delay"), seed=0)
    assert result.metrics["blocking_ratio"] == 0.0
    assert 0.0 < result.metrics["lp_max_utilization"] <= result.metrics["max_utilization"]
    assert result.metrics["utilization_ratio_to_lp"] >= 1.0


def test_invalid_candidate_is_routed_on_the_shortest_path():
    env = gym.make("opsgym/Routing-v1", topology=graph([("a", "b"), ("b", "c")]), k_paths=3)
    env.reset(seed=0)
    mask = env.unwrapped.action_masks()
    assert mask.tolist() == [True, False, False]
    _, _, _, _, info = env.step(2)
    assert info["invalid_action"] and info["path"] == 0


def per_pair_min_max_utilization(n_nodes, arcs, capacity, demands) -> float:
    """The min-max utilization LP written apart from the env's: one commodity per pair.

    Variables f[p, a] >= 0 per pair p and arc a, and t; minimize t subject to
    N f[p] = d_p (e_s - e_t) for every pair (N the node-arc incidence matrix) and
    sum_p f[p, a] <= t * capacity[a]. Solved by linprog, in units of the mean capacity,
    with HiGHS's feasibility tolerances tightened from 1e-7 to 1e-10.
    """
    pairs = [pair for pair, d in demands.items() if d > 0]
    unit = float(np.mean(capacity))
    n_arcs, n_pairs = len(arcs), len(pairs)
    tails, heads = np.array(arcs).T
    arc_ids = np.arange(n_arcs)
    incidence = sparse.csr_matrix(
        (np.r_[np.ones(n_arcs), -np.ones(n_arcs)], (np.r_[tails, heads], np.r_[arc_ids, arc_ids])),
        shape=(n_nodes, n_arcs),
    )
    no_t = sparse.csr_matrix((n_pairs * n_nodes, 1))
    conservation = sparse.hstack([sparse.kron(sparse.eye(n_pairs), incidence), no_t])
    supply = np.zeros((n_pairs, n_nodes))
    for p, (s, t) in enumerate(pairs):
        supply[p, s], supply[p, t] = demands[s, t] / unit, -demands[s, t] / unit
    arc_sums = sparse.kron(np.ones((1, n_pairs)), sparse.eye(n_arcs))
    scaled = np.asarray(capacity, dtype=np.float64)[:, None] / unit
    loads = sparse.hstack([arc_sums, sparse.csr_matrix(-scaled)])
    cost = np.zeros(n_pairs * n_arcs + 1)
    cost[-1] = 1.0
    tight = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    result = linprog(
        cost, loads, np.zeros(n_arcs), conservation, supply.ravel(), method="highs", options=tight
    )
    assert result.status == 0, result.message
    return float(result.fun)


def test_per_pair_reference_by_hand():
    # the triangle of test_lp_on_a_triangle_by_hand, and one 2-unit link carrying 1
    arcs = [(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)]
    caps = [2.0, 2.0, 1.0, 1.0, 1.0, 1.0]
    assert per_pair_min_max_utilization(3, arcs, caps, {(0, 1): 3.0}) == pytest.approx(1.0)
    assert per_pair_min_max_utilization(2, arcs[:2], caps[:2], {(1, 0): 1.0}) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def sndlib_abilene(shared_fixtures):
    """SNDlib's Abilene: its nodes, arcs (both directions of each link), capacities
    [kbit/s] and its measured traffic matrices [kbit/s], the env's units."""
    folder = shared_fixtures / "routing"
    spec = json.loads((folder / "sndlib_abilene_topology.json").read_text())
    data = np.load(folder / "sndlib_abilene_tm_5min.npz")
    index = {name: i for i, name in enumerate(data["nodes"].tolist())}
    arcs, capacity = [], []
    for link in spec["links"]:
        u, v = index[link["source"]], index[link["target"]]
        arcs += [(u, v), (v, u)]
        capacity += [1000.0 * link["preinstalled_capacity_mbps"]] * 2
    return len(index), arcs, capacity, 1000.0 * data["tm_mbps"]


def matrix_demands(tm: np.ndarray) -> dict[tuple[int, int], float]:
    return {(s, t): float(d) for (s, t), d in np.ndenumerate(tm) if s != t}


# every 48th of the 4,896 matrices (5-minute intervals): one every 4 hours
SNDLIB_SAMPLE = slice(None, None, 48)


def test_lp_is_the_per_pair_optimum_on_sndlib_abilene_matrices(sndlib_abilene):
    n, arcs, capacity, matrices = sndlib_abilene
    assert matrices.shape == (4896, 12, 12) and len(arcs) == 30
    for i, tm in enumerate(matrices[SNDLIB_SAMPLE]):
        demands = matrix_demands(tm)
        expected = per_pair_min_max_utilization(n, arcs, capacity, demands)
        assert 0.01 < expected < 1.0  # measured traffic fits the installed capacity
        optimum = min_max_utilization(n, arcs, capacity, demands)
        assert optimum == pytest.approx(expected, rel=1e-7), f"matrix {48 * i}"


def test_lp_optimum_does_not_depend_on_units(sndlib_abilene):
    # HiGHS's tolerances are absolute: solves in kbit/s stopped up to 12% above the
    # optimum they found in Mbit/s
    n, arcs, capacity, matrices = sndlib_abilene
    for tm in matrices[SNDLIB_SAMPLE]:
        demands = matrix_demands(tm)
        in_kbps = min_max_utilization(n, arcs, capacity, demands)
        for unit in (1e-6, 1e-3, 1e3):  # Gbit/s, Mbit/s, bit/s
            scaled = {pair: unit * d for pair, d in demands.items()}
            optimum = min_max_utilization(n, arcs, [unit * c for c in capacity], scaled)
            assert optimum == pytest.approx(in_kbps, rel=1e-9), unit


@pytest.mark.parametrize("topology", ["Abilene", "Geant2009"])
def test_lp_snapshots_are_the_per_pair_optimum_on_env_seeds(topology, monkeypatch):
    solved = []

    def recording(*problem):
        solved.append((problem, min_max_utilization(*problem)))
        return solved[-1][1]

    monkeypatch.setattr(routing_env, "min_max_utilization", recording)
    env = gym.make(
        "opsgym/Routing-v1", topology=topology, load=0.8, episode_length=400, lp_snapshots=3
    )
    for seed in range(6):
        solved.clear()
        result = run_episode(env, make_policy(env, "shortest_delay"), seed)
        assert len(solved) == 3
        for problem, optimum in solved:
            assert optimum == pytest.approx(per_pair_min_max_utilization(*problem), rel=1e-7)
        lp_mean = np.mean([optimum for _, optimum in solved])
        assert result.metrics["lp_max_utilization"] == pytest.approx(lp_mean, rel=1e-12)


def test_flows_drawn_block_by_block_are_one_stream_with_the_drift_at_its_index():
    uniform = cumulative_weights(traffic.gravity_pair_probabilities(np.ones(4)))
    later = np.zeros(16)
    later[0 * 4 + 1] = 1.0  # after the drift every flow goes 0 -> 1
    later = cumulative_weights(later)

    def stream(length, amplitude):
        plan = traffic.FlowPlan(
            length, 2.0, amplitude, 50.0, 1.0, uniform, 4, later, 100, 0, 10.0, 5.0
        )
        return traffic.FlowStream(plan, np.random.default_rng(1), 64)

    lazy, eager = stream(300, 0.5), stream(300, 0.5)
    lazy.reach(0)
    lazy.reach_time(lazy.times[-1])  # one block more
    lazy.reach(299)
    eager.reach(299)
    assert (lazy.times, lazy.sources, lazy.ends) == (eager.times, eager.sources, eager.ends)
    pairs = list(zip(eager.sources, eager.targets))
    assert set(pairs[100:]) == {(0, 1)}
    assert pairs[:100].count((0, 1)) < 20  # 1 in 12 before the drift
    # block after block, the gaps stay those of one Poisson process at rate 2
    long = stream(5000, 0.0)
    long.reach(4999)
    gaps = np.diff(long.times, prepend=0.0)
    assert gaps.min() > 0.0
    assert gaps.mean() == pytest.approx(0.5, rel=0.04)  # 5,000 gaps: sd 1.4%

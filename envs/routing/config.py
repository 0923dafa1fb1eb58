"""The arguments of opsgym/Routing, one validated field each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from opsgym.envs.core.config import POSITIVE, EnvConfig, setting, unless
from opsgym.envs.core.drift import ramp_setting
from opsgym.envs.core.kinds import Choice, Integer, Real, Text
from opsgym.envs.routing.topology import OC192_KBPS

ENDPOINTS = ("gravity", "uniform")
DRIFTS = ("none", "hotspot", "hotspot_move")
MAX_FLOWS = 10_000_000  # an episode keeps each flow's delay, and so many may run at once
DAILY_CYCLE = unless("daily_amplitude", 0.0)
DRIFTING = unless("drift", "none")


@dataclass(frozen=True)
class TopologySource:
    """A shipped topology's name or a GraphML path (JSON-able), or a networkx graph."""

    def check(self, name: str, value: object) -> str | nx.Graph:
        return value if isinstance(value, nx.Graph) else Text().check(name, value)

    def describe(self) -> str:
        return "str or networkx graph"


@dataclass(frozen=True, kw_only=True)
class RoutingConfig(EnvConfig):
    """The arguments of :class:`~opsgym.envs.routing.env.RoutingEnv`."""

    topology: str | nx.Graph = setting(
        "Abilene",
        TopologySource(),
        '"Abilene", "Geant2009", "Renater2001", a GraphML path, or a networkx graph (which '
        "`gym.make`'s JSON spec cannot hold)",
    )
    k_paths: int = setting(4, Integer(1, 64), "candidate paths per flow, K")
    load: float = setting(
        0.6,
        Real(0.0, 100.0, open_low=True),
        "mean offered traffic relative to the uniform matrix the network just carries",
    )
    default_capacity_mbps: float = setting(
        OC192_KBPS / 1000.0, POSITIVE, "capacity of links without `LinkSpeedRaw` [Mbit/s] (OC-192)"
    )
    flow_rate_mbps: float = setting(200.0, POSITIVE, "mean flow rate [Mbit/s]")
    holding_time: float = setting(300.0, POSITIVE, "mean flow holding time [s]")
    daily_amplitude: float = setting(
        0.5, Real(0.0, 1.0, open_high=True), "relative swing of the arrival rate over a day"
    )
    day_length: float = setting(86400.0, POSITIVE, "period of the daily cycle [s]", DAILY_CYCLE)
    endpoints: str = setting(
        "gravity", Choice(ENDPOINTS), "how flows pick their end nodes: by gravity or uniformly"
    )
    drift: str = setting(
        "none", Choice(DRIFTS), "a hot spot that appears, or that moves, mid-episode"
    )
    hotspot_factor: float = setting(
        5.0, POSITIVE, "gravity-mass multiplier of the hot spot node", DRIFTING
    )
    drift_ramp: int = ramp_setting(
        MAX_FLOWS, "flows over which the drift phases in linearly", DRIFTING
    )
    packet_bytes: float = setting(
        1500.0, Real(0.0, 1e6, open_low=True), "mean packet length in the queueing term [bytes]"
    )
    episode_length: int = setting(1000, Integer(1, MAX_FLOWS), "flows per episode")
    lp_snapshots: int = setting(
        0,
        Integer(0, 10_000),
        "moments per episode at which the LP optimum is solved (0: none; each costs ~2 ms)",
    )
    delay_weight: float = setting(1.0, Real(0.0), "reward weight of the normalized delay")
    blocking_weight: float = setting(5.0, Real(0.0), "reward weight of a blocked flow")

    @cached_property
    def flow_rate_kbps(self) -> float:
        return 1000.0 * self.flow_rate_mbps

    @cached_property
    def default_capacity_kbps(self) -> int:
        return max(1, int(round(1000.0 * self.default_capacity_mbps)))

    @cached_property
    def snapshot_steps(self) -> set[int]:
        """The steps after which the LP optimum is solved, evenly spread."""
        length, count = self.episode_length, self.lp_snapshots
        return {(j + 1) * length // (count + 1) for j in range(count)}

"""Flow workloads: gravity-model endpoints, exponential rates and holding times, drawn in blocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opsgym.envs.core.arrivals import poisson_arrival_times
from opsgym.envs.core.drift import mix, ramp_fraction


def gravity_pair_probabilities(masses: np.ndarray) -> np.ndarray:
    """P(source i, target j) proportional to m_i * m_j for i != j, flattened row-major.

    The gravity model of traffic matrices (Roughan, "Simplifying the synthesis of Internet
    traffic matrices", ACM CCR 2005, draws the masses from an exponential distribution).
    """
    weights = np.outer(masses, masses)
    np.fill_diagonal(weights, 0.0)
    return (weights / weights.sum()).ravel()


def draw_pairs(rng: np.random.Generator, cumulative: np.ndarray, n: int, count: int):
    """``count`` (source, target) pairs drawn from flattened pair probabilities ``p``.

    ``cumulative`` is ``request_streams.cumulative_weights(p)``. The same draws as
    ``rng.choice(n * n, size=count, p=p)`` (inverse CDF of ``count`` uniforms), without
    its checks of ``p``, which cost more here.
    """
    flat = cumulative.searchsorted(rng.random(count), side="right")
    return flat // n, flat % n


def draw_rates_kbps(rng: np.random.Generator, mean_kbps: float, count: int) -> np.ndarray:
    """Exponential flow rates [kbit/s], rounded to whole kbit/s and at least 1."""
    return np.maximum(1, np.rint(rng.exponential(mean_kbps, size=count))).astype(np.int64)


@dataclass(frozen=True)
class FlowPlan:
    """What shapes an episode's arriving flows, drawn at reset before any of them.

    Attributes:
        length: the number of arriving flows.
        arrival_rate, amplitude, period, phase: the (daily modulated) Poisson arrivals,
            as :func:`~opsgym.envs.core.arrivals.poisson_arrival_times` takes them.
        pairs: the cumulative pair probabilities of the endpoints (see :func:`draw_pairs`).
        n_nodes: the number of nodes.
        later: the cumulative pair probabilities after the drift, or None for no drift.
        drift_start, drift_ramp: the flow index the drift starts at and its ramp length.
        mean_rate_kbps: the mean flow rate [kbit/s].
        holding_time: the mean holding time [s].
    """

    length: int
    arrival_rate: float
    amplitude: float
    period: float
    phase: float
    pairs: np.ndarray
    n_nodes: int
    later: np.ndarray | None
    drift_start: int
    drift_ramp: int
    mean_rate_kbps: float
    holding_time: float


class FlowStream:
    """An episode's arriving flows, drawn ``block`` at a time as the episode reaches them.

    Arrival times continue from the previous block's last arrival (the process is
    memoryless), and a flow's endpoints, rate and holding time depend on its index only,
    so the flows' law does not depend on the block size; blocks take their randomness
    from the generator in order, so the flows do not depend on when they are drawn.
    The fields are plain lists, as long as the flows drawn so far.
    """

    def __init__(self, plan: FlowPlan, rng: np.random.Generator, block: int) -> None:
        self.plan, self.rng, self.block = plan, rng, block
        self.times: list[float] = []
        self.sources: list[int] = []
        self.targets: list[int] = []
        self.rates: list[int] = []
        self.ends: list[float] = []
        self.arrays: list[tuple[np.ndarray, ...]] = []  # sources, targets, rates, ends, times

    def reach(self, k: int) -> None:
        """Draw blocks until flow ``k`` is drawn (or the episode has no more)."""
        while len(self.times) <= k and self._draw():
            pass

    def reach_time(self, time: float) -> None:
        """Draw blocks until a flow arrives after ``time`` (or the episode has no more)."""
        while (not self.times or self.times[-1] <= time) and self._draw():
            pass

    def _draw(self) -> bool:
        first = len(self.times)
        if first >= self.plan.length:
            return False
        block = draw_flow_block(
            self.plan, self.rng, first, self.block, self.times[-1] if self.times else 0.0
        )
        sources, targets, rates, ends, times = block
        self.arrays.append(block)
        self.times += times.tolist()
        self.sources += sources.tolist()
        self.targets += targets.tolist()
        self.rates += rates.tolist()
        self.ends += ends.tolist()
        return True


def draw_flow_block(
    plan: FlowPlan, rng: np.random.Generator, first: int, block: int, start: float
) -> tuple[np.ndarray, ...]:
    """Flows ``first`` to ``first + block`` (or the episode's last) of an episode whose
    previous flow arrived at ``start``: their sources, targets, rates [kbit/s], end times
    and arrival times."""
    count = min(block, plan.length - first)
    times = poisson_arrival_times(
        rng,
        count,
        plan.arrival_rate,
        amplitude=plan.amplitude,
        period=plan.period,
        phase=plan.phase,
        start=start,
    )
    sources, targets = draw_pairs(rng, plan.pairs, plan.n_nodes, count)
    late = max(plan.drift_start, first) - first
    if plan.later is not None and late < count:
        later = draw_pairs(rng, plan.later, plan.n_nodes, count - late)
        steps = np.arange(first + late, first + count)
        fraction = ramp_fraction(steps, plan.drift_start, plan.drift_ramp)
        new = mix(rng, np.zeros(steps.size, bool), np.ones(steps.size, bool), fraction)
        sources[late:] = np.where(new, later[0], sources[late:])
        targets[late:] = np.where(new, later[1], targets[late:])
    rates = draw_rates_kbps(rng, plan.mean_rate_kbps, count)
    ends = times + rng.exponential(plan.holding_time, size=count)
    return sources, targets, rates, ends, times

"""How operators tune a service today, acting on ConfigTuning observations.

Every rule reads only the observation, plus what an operator knows statically: the knob
grids, the core counts, the request classes' demands and the reward's weights. The
privileged reference is :class:`opsgym.envs.config_tuning.PhaseBestOracle`.
"""

from __future__ import annotations

import math

from opsgym.baselines.common import RandomPolicy, seedless
from opsgym.envs.config_tuning import ConfigTuningEnv, PhaseBestOracle
from opsgym.envs.core import validation

HOLD = 0
THREADS, POOL = 0, 1


def move(knob: int, up: bool) -> int:
    """The action that moves ``knob`` one notch up or down."""
    return 1 + 2 * knob + (1 if up else 0)


def _unwrap(env, policy: str) -> ConfigTuningEnv:
    return validation.unwrapped_as(env, ConfigTuningEnv, policy)


def _positions(observation, grids) -> list[int]:
    """The knobs' grid indices, read back from the observation."""
    return [round(float(x) * (len(g) - 1)) for x, g in zip(observation[:4], grids)]


def _nearest(grid: tuple[float, ...], value: float) -> int:
    """The index of the grid value closest to ``value`` on a log scale."""
    return min(range(len(grid)), key=lambda i: abs(math.log(grid[i] / value)))


class ShippedDefaults:
    """Never touch the knobs: the configuration the service shipped with."""

    def __init__(self, env, seed: int | None = None) -> None:
        _unwrap(env, type(self).__name__)

    def act(self, observation) -> int:
        return HOLD


class RuleOfThumb:
    """Size the two pools by the textbook formulas, one notch per interval.

    Threads: ``cores x (1 + wait / compute)`` (B. Goetz, *Java Concurrency in Practice*,
    2006, section 8.2, at full target CPU utilization), where wait is a request's time in
    database calls and compute its CPU time, from the request classes' demands and the
    observed mix. Connections: HikariCP's "About Pool Sizing" formula, ``2 x database
    cores + effective spindles`` (one spindle: a single SSD). Cache and timeout stay as
    shipped: the rules of thumb say nothing about them.
    """

    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = _unwrap(env, type(self).__name__)
        self.grids = unwrapped.config.knob_options
        self.io_share_index = unwrapped.observation_fields()["io_share"]
        model = unwrapped.model
        self.model = model
        self.pool_target = _nearest(self.grids[POOL], 2 * model.db_cores + 1)

    def thread_count(self, io_share: float) -> float:
        """Goetz's thread count for a mix with this I/O-bound share."""
        model = self.model
        cpu_share = 1.0 - io_share
        compute = cpu_share * model.cpu_bound.cpu_time + io_share * model.io_bound.cpu_time
        calls = cpu_share * model.cpu_bound.db_calls + io_share * model.io_bound.db_calls
        wait = calls * model.db_call_time
        return model.cores * (1.0 + wait / compute)

    def act(self, observation) -> int:
        positions = _positions(observation, self.grids)
        io_share = float(observation[self.io_share_index])
        thread_target = _nearest(self.grids[THREADS], self.thread_count(io_share))
        for knob, target in ((THREADS, thread_target), (POOL, self.pool_target)):
            if positions[knob] != target:
                return move(knob, target > positions[knob])
        return HOLD


class HillClimbing:
    """One knob at a time: keep a move while the measured cost falls, else undo it.

    Coordinate descent on the interval cost computed from the observation with the
    reward's weights. A probe moves one knob one notch; if the next interval costs less
    (by more than ``tolerance``, relative) the climber keeps going that way, otherwise it
    undoes the move and tries the next (knob, direction). After a full round of failed
    probes it rests for ``rest`` intervals, then starts again, so that it follows drift.

    Args:
        env: the environment, for the grids and the reward's weights.
        seed: unused; the climber is deterministic.
        tolerance: the relative improvement a probe must show to be kept.
        rest: intervals to hold after a round without improvement.
    """

    def __init__(
        self, env, seed: int | None = None, tolerance: float = 0.02, rest: int = 10
    ) -> None:
        unwrapped = _unwrap(env, type(self).__name__)
        self.env = unwrapped
        self.grids = unwrapped.config.knob_options
        self.fields = unwrapped.observation_fields()
        self.tolerance = tolerance
        self.rest = rest
        self.probes = [(knob, up) for knob in range(len(self.grids)) for up in (True, False)]
        self.next_probe = 0
        self.failures = 0
        self.resting = 0
        self.baseline: float | None = None
        self.probing: tuple[int, bool] | None = None  # the probe just made, awaiting its cost
        self.undoing = False

    def cost(self, observation) -> float:
        """The interval's cost, recovered from the squashed observation."""
        env = self.env
        squashed = float(observation[self.fields["p95_latency"]])
        target = env.config.latency_target
        p95 = target * squashed / (1.0 - squashed) if squashed < 1.0 else float("inf")
        errors = float(observation[self.fields["error_rate"]])
        positions = _positions(observation, self.grids)
        return env.config.interval_cost(p95, errors, env.memory_gb(positions))

    def act(self, observation) -> int:
        cost = self.cost(observation)
        if self.undoing:  # back on the kept configuration: measure it afresh
            self.undoing = False
            self.baseline = cost
        elif self.probing is not None:
            knob, up = self.probing
            self.probing = None
            if cost < self.baseline * (1.0 - self.tolerance):
                self.baseline = cost
                self.failures = 0
                return self._probe(knob, up, _positions(observation, self.grids))
            self.failures += 1
            self.undoing = True
            return move(knob, not up)
        else:
            self.baseline = cost
        if self.resting > 0:
            self.resting -= 1
            return HOLD
        if self.failures >= len(self.probes):
            self.failures = 0
            self.resting = self.rest
            return HOLD
        positions = _positions(observation, self.grids)
        for _ in range(len(self.probes)):
            knob, up = self.probes[self.next_probe]
            self.next_probe = (self.next_probe + 1) % len(self.probes)
            action = self._probe(knob, up, positions)
            if action != HOLD:
                return action
            self.failures += 1  # a probe off the grid's end counts as a failure
        return HOLD

    def _probe(self, knob: int, up: bool, positions: list[int]) -> int:
        at = positions[knob]
        if (up and at == len(self.grids[knob]) - 1) or (not up and at == 0):
            return HOLD
        self.probing = (knob, up)
        return move(knob, up)


POLICIES = {
    "random": RandomPolicy,
    "shipped_defaults": ShippedDefaults,
    "rule_of_thumb": RuleOfThumb,
    "hill_climbing": HillClimbing,
    "oracle": seedless(PhaseBestOracle),
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "hill_climbing"

"""The ceiling of ConfigTuning: the best grid configuration of each workload phase."""

from __future__ import annotations

import itertools
import math

import numpy as np

from opsgym.envs.config_tuning.env import ConfigTuningEnv
from opsgym.envs.core import validation

MAX_CONFIGURATIONS = 50_000  # beyond this the exhaustive search is too slow for a reference


def best_configuration(env: ConfigTuningEnv, rate: float, io_share: float) -> tuple[int, ...]:
    """The grid indices whose noise-free interval cost is lowest under a workload.

    Exhaustive over the knob grid (1,715 configurations with the defaults); ties go to
    the first configuration in grid order, that is the smallest settings.
    """
    grids = [range(len(options)) for options in env.config.knob_options]
    best, best_cost = None, float("inf")
    for indices in itertools.product(*grids):
        perf = env.model_performance(indices, rate, io_share)
        cost = env.config.interval_cost(perf.p95_latency, perf.error_rate, perf.memory_gb)
        if cost < best_cost:
            best, best_cost = indices, cost
    return best


class PhaseBestOracle:
    """Walks to the best configuration of the workload phase about to be served.

    Reads the environment, not the observation: the next interval's true arrival rate
    and mix (a phase is one such pair: before or after the drift, in a burst or not).
    Each step it makes the one-notch move whose configuration costs least under that
    workload, among the moves that bring it closer to the phase's best configuration,
    so it pays for the moves as any policy does. Its static target per phase is the
    ceiling the issue asks for: no fixed configuration does better within a phase.

    Args:
        env: the environment to read; wrappers are looked through.

    Raises:
        ValueError: the knob grid is too large to search exhaustively.
    """

    def __init__(self, env) -> None:
        unwrapped = validation.unwrapped_as(env, ConfigTuningEnv, "PhaseBestOracle")
        size = math.prod(len(options) for options in unwrapped.config.knob_options)
        if size > MAX_CONFIGURATIONS:
            raise ValueError(
                f"the exhaustive ceiling would search {size:,} configurations "
                f"(limit {MAX_CONFIGURATIONS:,}): use coarser knob grids"
            )
        self.env = unwrapped
        self._targets: dict[tuple[float, float], tuple[int, ...]] = {}

    def target(self) -> tuple[int, ...]:
        """The best configuration of the upcoming interval's phase (memoized)."""
        workload = self.env.upcoming_workload()
        if workload not in self._targets:
            self._targets[workload] = best_configuration(self.env, *workload)
        return self._targets[workload]

    def act(self, observation: np.ndarray) -> int:
        env = self.env
        target = self.target()
        current = env.indices
        rate, io_share = env.upcoming_workload()
        best_action, best_cost = 0, float("inf")
        for knob, (have, want) in enumerate(zip(current, target)):
            if have == want:
                continue
            step = 1 if want > have else -1
            moved = list(current)
            moved[knob] += step
            perf = env.model_performance(moved, rate, io_share)
            cost = env.config.interval_cost(perf.p95_latency, perf.error_rate, perf.memory_gb)
            if cost < best_cost:
                best_action, best_cost = 1 + 2 * knob + (1 if step > 0 else 0), cost
        return best_action

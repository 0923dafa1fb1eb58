"""The packing rules cluster schedulers run, acting on ResourceAllocation observations.

Every rule reads only the observation and the cluster's configured capacities and
horizon (which an operator knows), from which it recovers the integer units exactly. A
rule starts the job it prefers among the visible jobs that fit now, and advances time
when none fits (:class:`HoldBackLong` also when it holds a long job back); ties go to the
oldest job (the lowest slot). These are the heuristics
DeepRM is compared with (Mao et al., HotNets 2016, section 5).
"""

from __future__ import annotations

from opsgym.baselines.common import RandomPolicy
from opsgym.envs.core import validation
from opsgym.envs.resource_allocation import ResourceAllocationEnv


class _Rule:
    def __init__(self, env, seed: int | None = None) -> None:
        unwrapped = validation.unwrapped_as(env, ResourceAllocationEnv, f"{type(self).__name__}")
        self.capacities = unwrapped.config.capacities
        self.n_resources = unwrapped.config.n_resources
        self.horizon = unwrapped.config.horizon
        self.n_slots = unwrapped.config.n_slots
        fields = unwrapped.observation_fields()
        self.occupancy = fields["occupancy"]
        self.slots_start = fields["slots"].start

    def act(self, observation) -> int:
        free, jobs = self.read(observation)
        best, best_score = self.n_slots, None
        for i, (demands, duration) in enumerate(jobs):
            if any(d > f for d, f in zip(demands, free)):
                continue
            score = self.score(demands, duration, free)
            if best_score is None or score > best_score:
                best, best_score = i, score
        return best

    def read(self, observation) -> tuple[list[int], list[tuple[list[int], int]]]:
        """The free units of each resource now, and each visible job's demands [units]
        and duration [steps], slot by slot."""
        values = observation.tolist()
        h = self.horizon
        free = [
            capacity - round(values[self.occupancy.start + r * h] * capacity)
            for r, capacity in enumerate(self.capacities)
        ]
        jobs = []
        width = self.n_resources + 2
        for i in range(self.n_slots):
            at = self.slots_start + i * width
            duration = round(values[at + self.n_resources] * h)
            if duration == 0:  # empty slot; the queue is compacted, so the rest are too
                break
            demands = [
                round(values[at + r] * capacity) for r, capacity in enumerate(self.capacities)
            ]
            jobs.append((demands, duration))
        return free, jobs

    def score(self, demands: list[int], duration: int, free: list[int]) -> float:
        """How much the rule prefers a fitting job; the highest wins."""
        raise NotImplementedError


class FirstFitFifo(_Rule):
    """The oldest waiting job that fits."""

    def score(self, demands, duration, free) -> float:
        return 0.0


class ShortestJobFirst(_Rule):
    """The shortest fitting job, which minimizes mean slowdown on one machine."""

    def score(self, demands, duration, free) -> float:
        return -duration


class HoldBackLong(ShortestJobFirst):
    """Shortest-job-first that waits rather than start a long job while short ones wait.

    The strategy DeepRM's learned policy was found to follow at high load (Mao et al.,
    HotNets 2016, section 5): keep room for the short jobs that are waiting for it, so
    that the long job does not delay them all. A job is long when it lasts at least half
    the horizon (10 steps or more in DeepRM's setting, whose short jobs last 1 to 3); the
    rule holds one back while ``short_waiting`` or more shorter jobs wait (2, chosen on
    validation seeds of the deeprm scenarios at p = 0.5 and 0.7 among 1, 2, 3 and 5).
    """

    short_waiting = 2

    def act(self, observation) -> int:
        slot = super().act(observation)
        if slot == self.n_slots:
            return slot
        _, jobs = self.read(observation)
        long = 2 * jobs[slot][1] >= self.horizon
        short = sum(1 for _, duration in jobs if 2 * duration < self.horizon)
        return self.n_slots if long and short >= self.short_waiting else slot


class Packer(_Rule):
    """The fitting job best aligned with the free resources.

    The alignment score of Tetris (Grandl et al., SIGCOMM 2014): the dot product of the
    job's demands and the free resources, each as a fraction of capacity.
    """

    def score(self, demands, duration, free) -> float:
        return sum(d * f / (c * c) for d, f, c in zip(demands, free, self.capacities))


class TetrisMix(Packer):
    """Packer's alignment and shortest-job-first, mixed.

    Tetris (Grandl et al., SIGCOMM 2014) weighs its alignment score against a preference
    for jobs with little remaining work; DeepRM compares with such a mix (Tetris*). Here
    ``knob * alignment / R + (1 - knob) / duration``, both terms in [0, 1] (the
    alignment cannot exceed the number of resources R), with ``knob`` 0.5.
    """

    knob = 0.5

    def score(self, demands, duration, free) -> float:
        alignment = super().score(demands, duration, free) / self.n_resources
        return self.knob * alignment + (1 - self.knob) / duration


POLICIES = {
    "random": RandomPolicy,
    "first_fit_fifo": FirstFitFifo,
    "sjf": ShortestJobFirst,
    "sjf_hold_long": HoldBackLong,
    "packer": Packer,
    "tetris": TetrisMix,
}
# the best heuristic in the quick benchmark: imitation's teacher when none is named
TEACHER = "sjf"

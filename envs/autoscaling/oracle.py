"""The perfect-foresight optimum of Autoscaling, by dynamic programming over fleet sizes.

With the episode's load known in advance, the environment is a deterministic control
problem. Its raw state (running instances, the boot pipeline, the cooldown left) grows
as (k + 1)^boot_steps; two exchange arguments shrink it to the number of running
instances plus two small clocks, without losing optimality:

1. Some optimal plan never cancels a booting instance. If a plan cancels instances at
   step r that were launched at s < r, launching that many fewer at s and scaling down
   that many fewer at r leaves the running instances of every step unchanged, bills
   no more, never leaves the fleet's bounds (running instances never drop below
   ``min_instances``), and triggers no cooldown the original did not. So a plan scales
   down only while nothing boots, and a launch at step j is an *arrival* of serving
   instances at j + boot_steps, billed for boot_steps steps before it.
2. Some optimal plan never has an arrival and a scale-down at the same step (it could
   launch fewer instead), and never launches within boot_steps of the end.

Such a plan is a path of the running count S_t with arrivals (at most k, at
t >= boot_steps) and scale-downs (at most k). The constraints the env's dynamics put on
it need only the steps since the last arrival and since the last scale-down: an arrival
at t needs no scale-down in [t - boot_steps - cooldown_steps, t) (nothing may be
cancelled, and the launch at t - boot_steps must be out of the last scale-down's
cooldown) and the last arrival at least cooldown_steps + 1 steps before; a scale-down
needs the last one at least cooldown_steps + 1 steps before and the last launch at
least cooldown_steps + 1 steps before. The fleet stays within its bounds exactly when
S_t does. Backward induction over (S, clocks) per step (Bellman, 1957) is then exact;
the tests check it against exhaustive search on short horizons.
"""

from __future__ import annotations

import numpy as np

from opsgym.envs.autoscaling.config import AutoscalingConfig
from opsgym.envs.autoscaling.env import AutoscalingEnv
from opsgym.envs.core import validation

MAX_TABLE = 50_000_000  # steps x states of the plan's choice table (int8)


class Plan:
    """An optimal episode: the action of every step and the episode's cost.

    Attributes:
        actions: the action index of each step.
        cost: the optimal episode cost (minus the best return).
    """

    def __init__(self, actions: list[int], cost: float) -> None:
        self.actions = actions
        self.cost = cost


def _penalties(env: AutoscalingEnv, loads: list[float]) -> np.ndarray:
    """``penalties[t, S - min_instances]``: the weighted SLA and drop cost of step t.

    Computed with the env's own service model, so the plan's costs are the env's.
    """
    config = env.config
    low, high = config.min_instances, config.max_instances
    table = np.empty((len(loads), high - low + 1))
    by_rate: dict[float, list[float]] = {}
    for t, rate in enumerate(loads):
        row = by_rate.get(rate)
        if row is None:
            outcomes = env.service.drops_and_violations(rate, high)[low - 1 :]
            row = by_rate[rate] = [config.penalty(*outcome) for outcome in outcomes]
        table[t] = row
    return table


def _state_shape(config: AutoscalingConfig) -> tuple[int, int, int]:
    """(running counts, steps-since-arrival values, steps-since-scale-down values)."""
    sizes = config.max_instances - config.min_instances + 1
    return sizes, config.cooldown_steps + 2, config.boot_steps + config.cooldown_steps + 2


def check_plan_size(config: AutoscalingConfig) -> None:
    """Raise ``ValueError`` if the plan's choice table would exceed ``MAX_TABLE`` entries."""
    shape = _state_shape(config)
    states = shape[0] * shape[1] * shape[2]
    if config.episode_steps * states > MAX_TABLE:
        raise ValueError(
            f"the oracle's table would hold {config.episode_steps} steps x {states} states; "
            f"shorten episode_steps or lower boot_steps, cooldown_steps or max_instances"
        )


def optimal_plan(env: AutoscalingEnv) -> Plan:
    """The exact minimum-cost plan of the env's episode, from its first step.

    Raises:
        ValueError: the episode has already begun, or the choice table would exceed
            ``MAX_TABLE`` entries.
    """
    if env.current_step != 0:
        raise ValueError("optimal_plan plans whole episodes: call it right after reset()")
    config = env.config
    loads = env.episode_load()
    horizon, k = len(loads), config.max_step_change
    boot, cooldown = config.boot_steps, config.cooldown_steps
    low, sizes = config.min_instances, config.max_instances - config.min_instances + 1
    check_plan_size(config)
    # steps since the last arrival and since the last scale-down, capped where they stop
    # mattering
    shape = _state_shape(config)
    arrival_cap, stop_cap = shape[1] - 1, shape[2] - 1

    size, since_arrival, since_stop = np.indices(shape)
    later_arrival = np.minimum(since_arrival + 1, arrival_cap)
    later_stop = np.minimum(since_stop + 1, stop_cap)
    may_arrive = (since_arrival >= cooldown + 1) & (since_stop >= stop_cap)
    may_stop = (since_stop >= cooldown + 1) & (since_arrival >= cooldown + 1 - boot)
    # choice c: 0 holds, 1..k are arrivals of c instances, k+1..2k scale-downs of c - k
    changes = [0] + list(range(1, k + 1)) + [-j for j in range(1, k + 1)]
    targets, successors, allowed = [], [], []
    for change in changes:
        target = size + change
        fits = (target >= 0) & (target < sizes)
        if change > 0:
            fits &= may_arrive
            successor = (target, np.minimum(1, arrival_cap), later_stop)
        elif change < 0:
            fits &= may_stop
            successor = (target, later_arrival, np.minimum(1, stop_cap))
        else:
            successor = (target, later_arrival, later_stop)
        clipped = np.clip(target, 0, sizes - 1)
        targets.append(clipped)
        successors.append(np.ravel_multi_index((clipped, *successor[1:]), shape))
        allowed.append(fits)

    instance = np.array([config.instance_cost(low + s) for s in range(sizes)])
    boot_bill = config.instance_cost(1) * boot if config.bill_booting else 0.0
    penalties = _penalties(env, loads)
    # every choice at once: (choice, state) arrays, states flattened
    targets = np.stack(targets).reshape(len(changes), -1)
    successors = np.stack(successors).reshape(len(changes), -1)
    barred = ~np.stack(allowed).reshape(len(changes), -1)
    arriving = np.array(changes) > 0
    barred_early = barred | arriving[:, None]  # before boot_steps nothing can arrive
    bills = np.where(arriving, np.array(changes) * boot_bill, 0.0)[:, None]
    states = np.arange(targets.shape[1])
    value = np.zeros(targets.shape[1])
    choices = np.empty((horizon, len(states)), dtype=np.int8)
    for t in range(horizon - 1, -1, -1):
        step_cost = instance + penalties[t]
        q = step_cost[targets] + value[successors] + bills
        q[barred if t >= boot else barred_early] = np.inf
        best = np.argmin(q, axis=0)
        choices[t] = best
        value = q[best, states]

    start = int(np.ravel_multi_index((env.fleet.running - low, arrival_cap, stop_cap), shape))
    actions = [k] * horizon  # hold
    state = start
    for t in range(horizon):
        c = int(choices[t, state])
        change = changes[c]
        if change > 0:
            actions[t - boot] = k + change  # launched boot_steps earlier
        elif change < 0:
            actions[t] = k + change
        state = int(successors[c, state])
    return Plan(actions, float(value[start]))


class PerfectForesightOracle:
    """Follows the dynamic program's optimal plan; it reads the episode's future load.

    The plan is computed on an episode's first step (about 0.1 s for a day of minutes,
    1 s for a week) and replayed: the env is deterministic given the actions.

    Args:
        env: the environment to read; wrappers are looked through.

    Raises:
        ValueError: the plan would be too large (see :func:`check_plan_size`).
    """

    def __init__(self, env) -> None:
        unwrapped = validation.unwrapped_as(env, AutoscalingEnv, "PerfectForesightOracle")
        check_plan_size(unwrapped.config)
        self.env = unwrapped
        self.plan: Plan | None = None

    def act(self, observation) -> int:
        step = self.env.current_step
        if step == 0 or self.plan is None:
            self.plan = optimal_plan(self.env)
        return self.plan.actions[step]

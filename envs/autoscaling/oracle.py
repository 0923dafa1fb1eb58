"""The perfect-foresight optimum of Autoscaling, by dynamic programming.

With the episode's load known in advance, the environment is a deterministic control
problem whose state is the fleet's (running, booting pipeline, cooldown left): a step's
cost depends only on that state, the action and the step's load, and the next state
only on the state and the action. Backward induction over every state reachable from
the current one (Bellman, 1957) therefore gives the exact minimum of the episode's
cost, under the environment's own dynamics and limits. The states number at most
(max_instances + 1) (k + 1)^boot_steps (cooldown_steps + 1), a few hundred with the
defaults.
"""

from __future__ import annotations

import numpy as np

from opsgym.envs.autoscaling.env import AutoscalingEnv
from opsgym.envs.autoscaling.simulator import Fleet

MAX_STATES = 200_000
MAX_TABLE = 50_000_000  # states x steps of the plan's action table (100 MB of int16)


class Plan:
    """The optimal action of every reachable fleet state at every remaining step.

    Attributes:
        first_step: the episode step the plan starts at.
        states: the index of each fleet state (as :meth:`Fleet.state` returns it).
        actions: ``actions[t, s]``, the optimal action index at step ``first_step + t``.
        cost: the optimal cost of the remaining episode (minus the best return).
    """

    def __init__(self, first_step: int, states: dict, actions: np.ndarray, cost: float) -> None:
        self.first_step = first_step
        self.states = states
        self.actions = actions
        self.cost = cost

    def action(self, step: int, state: tuple) -> int:
        return int(self.actions[step - self.first_step, self.states[state]])


def _transitions(env: AutoscalingEnv) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Every fleet state reachable from the env's current one, and each action's effect.

    Returns:
        The index of each state; then, per state and action, the running instances that
        serve the step, the billed instances, and the index of the next state.
    """
    k = env.max_step_change
    fleet = Fleet(env.min_instances, env.max_instances, env.boot_steps, env.cooldown_steps)
    start = env.fleet.state()
    index = {start: 0}
    order = [start]
    serving, billed, successor = [], [], []
    for state in order:
        row_serving, row_billed, row_next = [], [], []
        for change in range(-k, k + 1):
            fleet.set_state(state)
            fleet.scale(change)
            row_serving.append(fleet.running)
            row_billed.append(fleet.total if env.bill_booting else fleet.running)
            fleet.advance()
            following = fleet.state()
            if following not in index:
                if len(order) >= MAX_STATES:
                    raise ValueError(
                        f"the oracle's dynamic program has more than {MAX_STATES} fleet "
                        "states; lower boot_steps, max_step_change or max_instances"
                    )
                index[following] = len(order)
                order.append(following)
            row_next.append(index[following])
        serving.append(row_serving)
        billed.append(row_billed)
        successor.append(row_next)
    return index, np.array(serving), np.array(billed), np.array(successor)


def _penalties(env: AutoscalingEnv, loads: list[float]) -> np.ndarray:
    """``penalties[t, c]``: the weighted SLA and drop cost of step t served by c instances.

    Computed with the env's own service model, so the plan's costs are the env's.
    """
    table = np.full((len(loads), env.max_instances + 1), np.inf)
    by_rate: dict[float, list[float]] = {}
    for t, rate in enumerate(loads):
        row = by_rate.get(rate)
        if row is None:
            row = []
            for servers in range(env.min_instances, env.max_instances + 1):
                _, dropped, _, _, violated = env.service.serve(servers, rate)
                row.append(env.penalty(dropped, violated))
            by_rate[rate] = row
        table[t, env.min_instances :] = row
    return table


def optimal_plan(env: AutoscalingEnv) -> Plan:
    """The exact minimum-cost plan from the env's current step and fleet to the end.

    Raises:
        ValueError: the fleet's state space exceeds ``MAX_STATES``, or the plan's table
            ``MAX_TABLE`` entries.
    """
    first = env.current_step
    loads = env.episode_load()[first:]
    index, serving, billed, successor = _transitions(env)
    if len(index) * len(loads) > MAX_TABLE:
        raise ValueError(
            f"the oracle's plan would hold {len(index)} fleet states x {len(loads)} steps, "
            f"more than {MAX_TABLE}; shorten episode_steps or shrink the fleet's state space"
        )
    instance = np.vectorize(env.instance_cost, otypes=[float])(billed)
    penalties = _penalties(env, loads)
    rows = np.arange(len(index))
    value = np.zeros(len(index))
    actions = np.empty((len(loads), len(index)), dtype=np.int16)
    for t in range(len(loads) - 1, -1, -1):
        q = instance + penalties[t][serving] + value[successor]
        best = np.argmin(q, axis=1)
        actions[t] = best
        value = q[rows, best]
    return Plan(first, index, actions, float(value[0]))


class PerfectForesightOracle:
    """Follows the dynamic program's optimal plan; it reads the episode's future load.

    The plan is computed when an episode's first step is asked for (about a tenth of a
    second with the defaults), and looked up for the fleet's actual state afterwards.

    Args:
        env: the environment to read; wrappers are looked through.
    """

    def __init__(self, env) -> None:
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, AutoscalingEnv):
            raise TypeError(
                f"PerfectForesightOracle needs an AutoscalingEnv, got {type(unwrapped)}"
            )
        self.env = unwrapped
        self.plan: Plan | None = None

    def act(self, observation) -> int:
        env = self.env
        step = env.current_step
        if self.plan is None or step == 0 or step < self.plan.first_step:
            self.plan = optimal_plan(env)
        return self.plan.action(step, env.fleet.state())

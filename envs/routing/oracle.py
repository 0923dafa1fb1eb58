"""The privileged oracle of routing: greedy on exact delays."""

from __future__ import annotations

from opsgym.envs.configured import EnvOracle
from opsgym.envs.routing.env import RoutingEnv


class GreedyDelayOracle(EnvOracle):
    """Privileged greedy: the admissible candidate with the lowest exact delay.

    Reads the simulator's exact link loads and computes each candidate's end-to-end
    delay (propagation plus M/M/1 queueing) with the flow added; picks the lowest among
    those that fit, or the lowest-delay candidate when none fits. Greedy, so it is a
    strong reference rather than the optimum: it ignores how its choice blocks later
    flows. The ceiling of utilization is :func:`opsgym.envs.routing.lp.min_max_utilization`,
    reported by the environment at snapshots.
    """

    env_class = RoutingEnv

    def act(self, observation) -> int:
        env = self.env
        sim = env.simulator
        rate = env.current_rate
        best, best_delay = 0, float("inf")
        for i, path in enumerate(env.current_paths):
            if not sim.fits(path, rate):
                continue
            sim.add(path, rate)
            delay = sim.path_delay(path)
            sim.remove(path, rate)
            if delay < best_delay:
                best, best_delay = i, delay
        return best

"""The order of calls an environment accepts: reset() before step(), and again after the end.

Gymnasium's ``OrderEnforcing`` wrapper refuses a step before reset for envs built by
``gymnasium.make``; raw env classes and native vector envs have no wrapper, and stepped
out of order they would advance a state that was never drawn.
"""

from __future__ import annotations

NOT_STARTED, RUNNING, ENDED = "not started", "running", "ended"
REFUSALS = {
    NOT_STARTED: "step() called before reset(); call reset() first",
    ENDED: "step() called after the episode ended; call reset() first",
}


class EpisodeGuard:
    """Whether an episode is running, and the error for a step when none is.

    The env calls ``start()`` in ``reset``, ``check()`` first thing in ``step``, and
    ``end()`` when a step terminates or truncates the episode (a vector env with
    autoreset never does).
    """

    def __init__(self) -> None:
        self.state = NOT_STARTED

    def start(self) -> None:
        self.state = RUNNING

    def end(self) -> None:
        self.state = ENDED

    def check(self) -> None:
        """Raise ``RuntimeError`` unless an episode is running."""
        if self.state != RUNNING:
            raise RuntimeError(REFUSALS[self.state])

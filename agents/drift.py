"""Drift detection, and learners that start afresh when the world changes.

:class:`PageHinkley` is the sequential change test of Page (1954) in the form used for
data streams (Gama et al., "A survey on concept drift adaptation", ACM Computing
Surveys 2014): it accumulates the deviations of each value from the running mean, less
a tolerance ``delta``, and raises an alarm when the cumulative sum has drifted more than
``threshold`` from its extreme. The two-sided test watches for a rise and for a fall.

:class:`Adwin` is the adaptive window of Bifet and Gavalda ("Learning from Time-Changing
Data with Adaptive Windowing", SDM 2007): it keeps the recent values and drops the
older part of the window whenever some split into an older and a newer part shows means
further apart than a variance-based bound allows, so it needs no threshold in the
stream's units.

:class:`DriftResetLearner` wraps any learner of the opsgym protocol: it feeds the
rewards to a detector and, on an alarm, replaces the learner with a fresh one from its
factory, so that what was learned about the old world stops steering decisions.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from opsgym.agents.atomic import write_text
from opsgym.agents.protocol import Learner, MaskAwareCaller
from opsgym.agents.schema import read_json

DRIFT_SIDECAR = ".drift.json"  # beside the learner's checkpoint: the reset history


class PageHinkley:
    """Two-sided Page-Hinkley test for a change in the mean of a stream.

    Args:
        delta: the tolerated change in the mean, in the stream's units; smaller values
            react to smaller shifts and raise more false alarms.
        threshold: the alarm threshold on the cumulative deviation (lambda).
        min_samples: values seen before an alarm may be raised.
    """

    def __init__(self, delta: float = 0.005, threshold: float = 50.0, min_samples: int = 30):
        if delta < 0:
            raise ValueError(f"delta must be >= 0, got {delta!r}")
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0, got {threshold!r}")
        self.delta = delta
        self.threshold = threshold
        self.min_samples = min_samples
        self.reset()

    def reset(self) -> None:
        """Forget the stream: start a new reference period."""
        self.count = 0
        self.mean = 0.0
        self.rise = 0.0  # cumulative deviation above the mean
        self.rise_min = 0.0
        self.fall = 0.0  # cumulative deviation below the mean
        self.fall_max = 0.0

    def update(self, value: float) -> bool:
        """Add one value; return True (and start afresh) when a change is detected."""
        self.count += 1
        self.mean += (value - self.mean) / self.count
        deviation = value - self.mean
        self.rise += deviation - self.delta
        self.rise_min = min(self.rise_min, self.rise)
        self.fall += deviation + self.delta
        self.fall_max = max(self.fall_max, self.fall)
        drifted = self.count >= self.min_samples and (
            self.rise - self.rise_min > self.threshold or self.fall_max - self.fall > self.threshold
        )
        if drifted:
            self.reset()
        return drifted


class Adwin:
    """ADWIN change detection over an exact window of at most ``max_window`` values.

    Every ``check_every`` values, each split of the window at a multiple of
    ``check_every`` into an older part W0 (n0 values) and a newer part W1 (n1 values) is
    tested, oldest first; a change is detected when ``|mean(W0) - mean(W1)| >= eps`` with

        eps = sqrt(2 / m * var(W) * ln(2 / d)) + 2 R / (3 m) * ln(2 / d),

    m = 1 / (1/n0 + 1/n1), d = ``delta`` / n and R the range of the window's values
    (Bifet and Gavalda 2007, section 4.2, the variance form of the bound, whose values
    lie in [0, 1]: R = 1 there; scaling by R makes the test free of the stream's units). The older part is then dropped, and the test
    repeated on what remains. The paper's
    exponential histograms are replaced by the exact window (bounded by ``max_window``),
    which is simpler and exact at this size.

    Args:
        delta: the confidence of the test: a false alarm has probability at most delta.
        max_window: the most values kept.
        check_every: values between tests; also the spacing of the splits tested.
        min_samples: the fewest values on each side of a split.
    """

    def __init__(
        self,
        delta: float = 0.002,
        max_window: int = 2000,
        check_every: int = 32,
        min_samples: int = 32,
    ) -> None:
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        for name, value in (
            ("max_window", max_window),
            ("check_every", check_every),
            ("min_samples", min_samples),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.delta = delta
        self.max_window = max_window
        self.check_every = check_every
        self.min_samples = min_samples
        self.reset()

    def reset(self) -> None:
        """Forget the stream."""
        self.window: deque[float] = deque(maxlen=self.max_window)
        self.since_check = 0

    def update(self, value: float) -> bool:
        """Add one value; return True when the older part of the window was dropped."""
        self.window.append(value)
        self.since_check += 1
        if self.since_check < self.check_every:
            return False
        self.since_check = 0
        changed = False
        # as in the paper, the window shrinks until no split shows a change
        while (cut := self._cut()) is not None:
            for _ in range(cut):
                self.window.popleft()
            changed = True
        return changed

    def _cut(self) -> int | None:
        """The size of the oldest part to drop, or None if no split shows a change."""
        values = np.fromiter(self.window, dtype=np.float64)
        n = values.size
        if n < 2 * self.min_samples:
            return None
        variance = float(values.var())
        spread = float(values.max() - values.min())
        log_term = math.log(2.0 * n / self.delta)
        sums = np.cumsum(values)
        total = float(sums[-1])
        for n0 in range(self.min_samples, n - self.min_samples + 1, self.check_every):
            n1 = n - n0
            m = 1.0 / (1.0 / n0 + 1.0 / n1)
            eps = math.sqrt(2.0 / m * variance * log_term) + 2.0 * spread / (3.0 * m) * log_term
            older = sums[n0 - 1] / n0
            newer = (total - sums[n0 - 1]) / n1
            if abs(older - newer) >= eps:
                return n0
        return None


class DriftResetLearner:
    """A learner that is rebuilt from its factory whenever its rewards shift.

    Args:
        make_learner: builds a fresh learner (called once now and once per alarm).
        detector: watches the reward stream (anything with ``update(value) -> bool``);
            :class:`PageHinkley` by default.
    """

    online = True

    def __init__(
        self, make_learner: Callable[[], Learner], detector: PageHinkley | Adwin | None = None
    ) -> None:
        self.make_learner = make_learner
        self.detector = detector if detector is not None else PageHinkley()
        self.learner = make_learner()
        self.caller = MaskAwareCaller(self.learner)
        self.resets: list[int] = []  # the update counts at which the learner was rebuilt
        self.updates = 0

    def act(self, observation: Any, action_mask=None) -> int:
        return self.caller.act(observation, {"action_mask": action_mask})

    def update(
        self, observation, action, reward, next_observation, terminated, next_action_mask=None
    ) -> None:
        self.caller.update(
            observation,
            action,
            reward,
            next_observation,
            terminated,
            {"action_mask": next_action_mask},
        )
        self.updates += 1
        if self.detector.update(float(reward)):
            self.learner = self.make_learner()
            self.caller = MaskAwareCaller(self.learner)
            self.resets.append(self.updates)

    def shared_state(self) -> dict:
        """The current learner's shared state (see :mod:`opsgym.agents.federated`)."""
        return self.learner.shared_state()

    def load_shared_state(self, state: dict) -> None:
        self.learner.load_shared_state(state)

    def weight_key(self, key: str) -> str | None:
        return self.learner.weight_key(key)

    def save(self, path: str | Path) -> None:
        """Save the current learner, and the reset history as JSON beside it."""
        path = Path(path)
        self.learner.save(path)
        meta = {"resets": self.resets, "updates": self.updates}
        write_text(path.with_name(path.name + DRIFT_SIDECAR), json.dumps(meta))

    def load(self, path: str | Path) -> None:
        path = Path(path)
        self.learner.load(path)
        meta = read_json(
            path.with_name(path.name + DRIFT_SIDECAR), {"resets": [int], "updates": int}
        )
        self.resets, self.updates = meta["resets"], meta["updates"]

"""Drift detection, and learners that start afresh when the world changes.

:class:`PageHinkley` is the sequential change test of Page (1954) in the form used for
data streams (Gama et al., "A survey on concept drift adaptation", ACM Computing
Surveys 2014): it accumulates the deviations of each value from the running mean, less
a tolerance ``delta``, and raises an alarm when the cumulative sum has drifted more than
``threshold`` from its extreme. The two-sided test watches for a rise and for a fall.

:class:`DriftResetLearner` wraps any learner of the opsgym protocol: it feeds the
rewards to a detector and, on an alarm, replaces the learner with a fresh one from its
factory, so that what was learned about the old world stops steering decisions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsgym.agents.protocol import Learner, MaskAwareCaller


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


class DriftResetLearner:
    """A learner that is rebuilt from its factory whenever its rewards shift.

    Args:
        make_learner: builds a fresh learner (called once now and once per alarm).
        detector: watches the reward stream; :class:`PageHinkley` by default.
    """

    online = True

    def __init__(
        self, make_learner: Callable[[], Learner], detector: PageHinkley | None = None
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
        path.with_name(path.name + ".drift.json").write_text(json.dumps(meta))

    def load(self, path: str | Path) -> None:
        path = Path(path)
        self.learner.load(path)
        meta_file = path.with_name(path.name + ".drift.json")
        if meta_file.is_file():
            meta = json.loads(meta_file.read_text())
            self.resets, self.updates = list(meta["resets"]), int(meta["updates"])

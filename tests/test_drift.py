"""Drift detection against streams with known change points."""

from __future__ import annotations

import numpy as np
import pytest

from opsgym.agents.drift import DriftResetLearner, PageHinkley


def first_alarm(detector: PageHinkley, stream) -> int | None:
    for t, value in enumerate(stream):
        if detector.update(float(value)):
            return t
    return None


@pytest.mark.parametrize("shift", [+1.0, -1.0])
def test_page_hinkley_detects_a_mean_shift_soon_after_it_happens(shift):
    rng = np.random.default_rng(0)
    stream = np.concatenate([rng.normal(0, 1, 2000), rng.normal(shift, 1, 2000)])
    alarm = first_alarm(PageHinkley(delta=0.1, threshold=50.0), stream)
    assert alarm is not None and 2000 <= alarm < 2200


def test_page_hinkley_stays_quiet_on_a_stationary_stream():
    rng = np.random.default_rng(1)
    detector = PageHinkley(delta=0.1, threshold=50.0)
    alarms = sum(detector.update(float(x)) for x in rng.normal(5.0, 1.0, 20_000))
    assert alarms == 0


def test_page_hinkley_validates_its_arguments():
    with pytest.raises(ValueError, match="threshold"):
        PageHinkley(threshold=0.0)
    with pytest.raises(ValueError, match="delta"):
        PageHinkley(delta=-1.0)


class CountingLearner:
    """A stand-in learner that counts its updates."""

    def __init__(self):
        self.seen = 0

    def act(self, observation):
        return 0

    def update(self, *transition):
        self.seen += 1

    def save(self, path):
        np.savez(path, seen=self.seen)

    def load(self, path):
        with np.load(path) as data:
            self.seen = int(data["seen"])


def test_drift_reset_learner_rebuilds_its_learner_on_an_alarm(tmp_path):
    rng = np.random.default_rng(2)
    rewards = np.concatenate([rng.normal(-1, 0.1, 500), rng.normal(-3, 0.1, 500)])
    wrapper = DriftResetLearner(CountingLearner, PageHinkley(delta=0.05, threshold=20.0))
    for reward in rewards:
        wrapper.update(None, 0, reward, None, False)
    assert len(wrapper.resets) == 1 and 500 < wrapper.resets[0] < 550
    assert wrapper.learner.seen == 1000 - wrapper.resets[0]
    wrapper.save(tmp_path / "learner.npz")
    restored = DriftResetLearner(CountingLearner)
    restored.load(tmp_path / "learner.npz")
    assert restored.resets == wrapper.resets and restored.learner.seen == wrapper.learner.seen

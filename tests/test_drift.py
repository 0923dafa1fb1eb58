"""Drift detection against streams with known change points."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from opsgym.agents.drift import Adwin, DriftResetLearner, PageHinkley


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


@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
def test_adwin_detects_a_mean_shift_at_any_scale_and_keeps_the_new_part(scale):
    rng = np.random.default_rng(3)
    stream = scale * np.concatenate([rng.normal(0, 1, 1500), rng.normal(1, 1, 1500)])
    detector = Adwin(delta=0.002)
    alarm = first_alarm(detector, stream)
    assert alarm is not None and 1500 <= alarm < 1700
    # what is left is (almost only) the new regime
    assert len(detector.window) <= alarm - 1500 + 1 + 2 * detector.check_every


def test_adwin_stays_quiet_on_a_stationary_stream():
    rng = np.random.default_rng(4)
    detector = Adwin(delta=0.002)
    assert sum(detector.update(float(x)) for x in rng.normal(-3.0, 2.0, 20_000)) == 0
    assert len(detector.window) == detector.max_window


def test_adwin_bound_matches_the_formula_on_a_hand_computed_split():
    # 64 values of +-1 then 64 of v +- 1: one split at 64, n0 = n1 = 64, m = 32, n = 128;
    # the window's variance is 1 + v^2 / 4 and its range 2 + v
    detector = Adwin(delta=0.1, max_window=128, check_every=64, min_samples=64)
    log_term = np.log(2 * 128 / 0.1)

    def excess(v):  # the difference of the means minus the bound
        return v - np.sqrt(2 / 32 * (1 + v * v / 4) * log_term) - 2 * (2 + v) / 96 * log_term

    v_star = optimize.brentq(excess, 0.01, 10.0)
    noise = [1.0, -1.0] * 32
    for v, expected in ((0.95 * v_star, False), (1.05 * v_star, True)):
        detector.reset()
        alarms = [detector.update(x) for x in noise + [v + x for x in noise]]
        assert alarms[-1] is expected and not any(alarms[:-1])


def test_adwin_validates_its_arguments():
    with pytest.raises(ValueError, match="delta"):
        Adwin(delta=0.0)
    with pytest.raises(ValueError, match="max_window"):
        Adwin(max_window=0)


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

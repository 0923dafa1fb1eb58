"""One model, two drivers: the stage functions give the same bits on one instance's
Python numbers and on arrays over instances, and each batched core follows its scalar
twin step for step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from opsgym.envs.anomaly_detection.simulator import AlertScorer, AlertScorers
from opsgym.envs.autoscaling.simulator import Fleet, Fleets
from opsgym.envs.config_tuning.config import ConfigTuningConfig
from opsgym.envs.config_tuning.env import measure
from opsgym.envs.core.elementwise import ARRAY, SCALAR
from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.env import window_rewards
from opsgym.envs.load_balancing import simulator as load_balancing
from opsgym.envs.load_balancing.config import LoadBalancingConfig
from opsgym.envs.service_routing import simulator as service_routing
from opsgym.envs.service_routing.config import ServiceRoutingConfig


def same_bits(array: np.ndarray, scalars: list) -> bool:
    """Equal values and equal signs of zero."""
    expected = np.array(scalars, dtype=np.float64)
    return np.array_equal(array, expected) and np.array_equal(
        np.signbit(array), np.signbit(expected)
    )


@pytest.mark.parametrize(("boot_steps", "cooldown_steps"), [(0, 0), (2, 0), (0, 3), (3, 2)])
def test_batched_fleets_follow_the_fleet(boot_steps, cooldown_steps):
    rng = np.random.default_rng(boot_steps * 10 + cooldown_steps)
    instances = 6
    singles = [Fleet(1, 12, boot_steps, cooldown_steps) for _ in range(instances)]
    fleets = Fleets(instances, 1, 12, boot_steps, cooldown_steps)
    starts = rng.integers(1, 12, instances)
    for fleet, start in zip(singles, starts.tolist()):
        fleet.reset(start)
    fleets.reset(np.arange(instances), starts)
    for _ in range(60):
        changes = rng.integers(-4, 5, instances)
        rows = np.sort(rng.choice(instances, size=rng.integers(1, instances + 1), replace=False))
        made = fleets.scale(rows, changes[rows])
        assert made.tolist() == [singles[i].scale(int(changes[i])) for i in rows.tolist()]
        fleets.advance(rows)
        for i in rows.tolist():
            singles[i].advance()
        assert fleets.running.tolist() == [fleet.running for fleet in singles]
        assert fleets.booting.tolist() == [fleet.booting for fleet in singles]
        assert fleets.cooldown_left.tolist() == [fleet.cooldown_left for fleet in singles]
    assert (fleets.booting.sum(axis=1) > 0).any() or boot_steps == 0


def test_config_tuning_measurements_agree_bit_for_bit():
    config = ConfigTuningConfig()
    rng = np.random.default_rng(1)
    count = 200
    rate = rng.choice([config.request_rate, 3 * config.request_rate], count)
    # error rates near 0 and 1 and small throughputs, where the noise is clipped
    truth = (
        rng.uniform(0.01, 2.0, count),
        rng.beta(0.2, 0.2, count),
        rng.exponential(2.0, count),
    )
    truth[1][:5] = [0.0, 1.0, 0.0, 1.0, 1e-12]  # no spread, and an error rate at the edges
    factors = rng.lognormal(0.0, 0.1, count)
    noise = rng.standard_normal((2, count)) * 3.0  # large: the clipping at 0 and 1 acts
    batched = measure(ARRAY, config, rate, truth, factors, noise)
    singles = [
        measure(SCALAR, config, *values)
        for values in zip(
            rate.tolist(), zip(*(t.tolist() for t in truth)), factors.tolist(), noise.T.tolist()
        )
    ]
    for column, values in zip(batched, zip(*singles)):
        assert same_bits(column, list(values))
    clipped = [batched[1][5:] == 0.0, batched[1][5:] == 1.0, batched[2] == 0.0]
    assert all(mask.any() for mask in clipped)


def test_index_selection_window_rewards_agree_bit_for_bit():
    config = IndexSelectionConfig()
    rng = np.random.default_rng(2)
    count = 50
    writes = rng.integers(0, config.window + 1, count)
    writes[:3] = config.window  # windows of writes only
    write_cost = rng.uniform(1.0, 5.0, count)
    pages = writes * write_cost + rng.uniform(0.0, 1e4, count) * (writes < config.window)
    served = rng.integers(0, config.window + 1, count) * (writes < config.window)
    build_pages = rng.choice([0.0, 3e3], count)
    reward, rewards, totals = window_rewards(
        config, (pages, served), writes, write_cost, build_pages, 1234
    )
    for i in range(count):
        one = window_rewards(
            config,
            (float(pages[i]), int(served[i])),
            int(writes[i]),
            float(write_cost[i]),
            float(build_pages[i]),
            1234,
        )
        assert same_bits(reward[i : i + 1], [one[0]])
        for name, value in rewards.items():
            assert same_bits(value[i : i + 1], [one[1][name]])
        assert [column[i] for column in totals] == list(one[2])
    assert (rewards["build"] < 0).any() and (rewards["build"] == 0).any()


def test_reward_components_keep_a_positive_zero_on_both_drivers():
    # ``0.0 - failed`` stands for ``-1.0 if failed else 0.0``: the sign of zero matters
    # to a bit-for-bit comparison, so it is checked, not assumed
    balancing = LoadBalancingConfig()
    failed = np.array([False, True, False])
    response = np.array([0.5, 0.25, 1.0])
    reward, rewards = load_balancing.step_rewards(balancing, response, failed)
    singles = [
        load_balancing.step_rewards(balancing, r, f)
        for r, f in zip([0.5, 0.25, 1.0], [False, True, False])
    ]
    assert same_bits(rewards["error"], [one[1]["error"] for one in singles])
    assert same_bits(reward, [one[0] for one in singles])
    assert rewards["error"].tolist() == [0.0, -1.0, 0.0]
    routing = ServiceRoutingConfig()
    latency = np.array([10.0, 900.0])
    timed_out, priority = np.array([False, True]), np.array([True, False])
    reward, rewards = service_routing.step_rewards(routing, latency, timed_out, priority)
    singles = [
        service_routing.step_rewards(routing, 10.0, False, 1),
        service_routing.step_rewards(routing, 900.0, True, 0),
    ]
    assert same_bits(reward, [one[0] for one in singles])
    assert same_bits(rewards["timeout"], [0.0, -1.0])


def test_batched_alert_scoring_follows_the_alert_scorer():
    rng = np.random.default_rng(4)
    steps, instances, weights = 40, 5, (1.0, 0.11, 1.0)
    singles = []
    scorers = AlertScorers(instances, steps, weights)
    for i in range(instances):
        starts = np.sort(rng.choice(np.arange(0, steps, 8), size=i % 4, replace=False))
        windows = [(int(a), int(a) + int(rng.integers(1, 8))) for a in starts]
        singles.append(AlertScorer(windows, steps, *weights))
        scorers.load(i, AlertScorer(windows, steps, *weights))
    rows = np.arange(instances)
    for t in range(steps):
        alerts = rng.random(instances) < 0.3
        _, rewards = scorers.record(rows, np.full(instances, t), alerts)
        for i, (scorer, alert) in enumerate(zip(singles, alerts.tolist())):
            one = scorer.record(t, alert)
            for name in one:
                assert same_bits(rewards[name][i : i + 1], [one[name]])
    for i, scorer in enumerate(singles):
        assert scorers.metrics(i) == scorer.metrics()
    assert any(scorer.false_alerts for scorer in singles)
    assert any(t >= 0 for scorer in singles for t in scorer.detected_at)


def test_elementwise_namespaces_offer_the_same_operations():
    names = {"sqrt", "sin", "cos", "minimum", "maximum"}
    assert names <= set(vars(SCALAR))
    assert all(callable(getattr(ARRAY, name)) for name in names)
    for x, y in itertools.product([-0.0, 0.0, 0.5, 2.0], repeat=2):
        assert SCALAR.minimum(x, y) == ARRAY.minimum(x, y)
        assert SCALAR.maximum(x, y) == ARRAY.maximum(x, y)
        assert SCALAR.sqrt(x * x) == ARRAY.sqrt(x * x)

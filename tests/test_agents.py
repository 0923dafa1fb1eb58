"""The hand-written agents against problems whose optimum is known."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs
from opsgym.agents import agent_names, bandits, make_agent, tabular
from opsgym.agents.protocol import MaskAwareCaller
from opsgym.baselines import make_policy
from opsgym.train.runner import evaluation_seeds, run_episode


def bernoulli_regret(agent, means, horizon, rng, switch=None, after=None) -> np.ndarray:
    """Cumulative pseudo-regret of ``agent`` on Bernoulli arms (means change at ``switch``)."""
    means = np.asarray(means, dtype=float)
    regret = np.empty(horizon)
    total = 0.0
    for t in range(horizon):
        if switch is not None and t == switch:
            means = np.asarray(after, dtype=float)
        arm = agent.act(None)
        reward = float(rng.random() < means[arm])
        agent.update(None, arm, reward, None, False)
        total += means.max() - means[arm]
        regret[t] = total
    return regret


MEANS = [0.9, 0.8, 0.6, 0.4]


def mean_final_regret(factory, horizon, runs=3, **kwargs) -> float:
    finals = []
    for run in range(runs):
        agent = factory(len(MEANS), seed=run, reward_range=(0.0, 1.0), **kwargs)
        finals.append(bernoulli_regret(agent, MEANS, horizon, np.random.default_rng(100 + run))[-1])
    return float(np.mean(finals))


def test_ucb1_and_thompson_beat_constant_epsilon_greedy_at_a_long_horizon():
    horizon = 50_000
    greedy = mean_final_regret(bandits.EpsilonGreedy, horizon, epsilon=0.1)
    assert mean_final_regret(bandits.UCB1, horizon) < greedy
    assert mean_final_regret(bandits.ThompsonBernoulli, horizon) < 0.5 * greedy


@pytest.mark.parametrize("factory", [bandits.UCB1, bandits.ThompsonBernoulli])
def test_regret_grows_sublinearly(factory):
    agent = factory(len(MEANS), seed=1, reward_range=(0.0, 1.0))
    regret = bernoulli_regret(agent, MEANS, 40_000, np.random.default_rng(7))
    # linear growth would give 10x from T to 10T; logarithmic gives about log(10T)/log(T)
    assert regret[-1] / regret[3_999] < 4.0


def test_forgetting_bandits_recover_after_the_best_arm_changes():
    # the best arm degrades: UCB1 trusts its long history of good rewards for too long
    before, after = [0.8, 0.5, 0.3], [0.2, 0.5, 0.3]
    horizon, switch = 10_000, 5_000

    def second_half_regret(factory, **kwargs) -> float:
        values = []
        for run in range(3):
            agent = factory(3, seed=run, reward_range=(0.0, 1.0), **kwargs)
            regret = bernoulli_regret(
                agent, before, horizon, np.random.default_rng(run), switch, after
            )
            values.append(regret[-1] - regret[switch - 1])
        return float(np.mean(values))

    ucb = second_half_regret(bandits.UCB1)
    assert second_half_regret(bandits.SlidingWindowUCB, window=500) < 0.5 * ucb
    assert second_half_regret(bandits.DiscountedUCB, gamma=0.998, c=0.5) < 0.5 * ucb


@pytest.mark.parametrize(
    "factory",
    [bandits.UCB1, bandits.SlidingWindowUCB, lambda n: bandits.DiscountedUCB(n, gamma=1.0)],
    ids=["ucb1", "sw_ucb", "discounted_ucb"],
)
def test_the_ucb_family_judges_every_past_reward_on_the_range_known_now(factory):
    """Arm 0 earned 0 twice while the range was [-0.11, 1], which maps 0 to 0.1; then
    arm 1 lost 1. On the range known now, [-1, 1], arm 0's mean is 0.5, above arm 1's
    (1 + 0.445 + 0) / 3. Mapped as they came, arm 0's would be 0.1 and arm 1's 0.17: a
    UCB index would not return to arm 0 for long (UCB1 started from anomaly detection's
    rule stayed on its alert arm that way)."""
    agent = factory(2)
    stream = [(1, 1.0), (1, -0.11), (0, 0.0), (0, 0.0), (1, -1.0)]
    for arm, reward in stream:
        agent.update(None, arm, reward, None, False)
    means = agent.scale.normalize(agent.values)
    np.testing.assert_allclose(means, [0.5, (1.0 + 0.445 + 0.0) / 3])
    assert means[0] > means[1]


def test_exp3_stays_within_its_regret_bound():
    # Auer et al. (2002), Theorem 3.1: G_max - E[G] <= (e - 1) gamma G_max + K ln K / gamma
    horizon, k, gamma = 20_000, len(MEANS), 0.05
    agent = bandits.EXP3(k, seed=0, reward_range=(0.0, 1.0), gamma=gamma)
    regret = bernoulli_regret(agent, MEANS, horizon, np.random.default_rng(0))[-1]
    g_max = max(MEANS) * horizon
    assert regret <= (np.e - 1) * gamma * g_max + k * np.log(k) / gamma


def test_linucb_learns_a_linear_reward_model():
    rng = np.random.default_rng(0)
    theta = np.array([[1.0, -0.5, 0.2], [-0.3, 0.8, 0.1], [0.2, 0.2, 0.9]])
    agent = bandits.LinUCB(3, context_dim=3, seed=0, alpha=0.5)
    chosen_best = []
    for _ in range(3000):
        x = rng.normal(size=3)
        arm = agent.act(x)
        expected = theta @ x
        agent.update(x, arm, float(expected[arm] + rng.normal(0, 0.1)), None, False)
        chosen_best.append(arm == int(np.argmax(expected)))
    probe = rng.normal(size=(200, 3))
    errors = [np.abs(agent.predict(x) - theta @ x).max() for x in probe]
    assert np.median(errors) < 0.1
    assert np.mean(chosen_best[-500:]) > 0.95


def value_iteration(transitions, n_states, n_actions, gamma, sweeps=2000) -> np.ndarray:
    """Optimal Q from Gymnasium-style transitions P[s][a] = [(p, s', r, done), ...]."""
    q = np.zeros((n_states, n_actions))
    for _ in range(sweeps):
        v = q.max(axis=1)
        q = np.array(
            [
                [
                    sum(
                        p * (r + (0.0 if done else gamma * v[s2]))
                        for p, s2, r, done in transitions[s][a]
                    )
                    for a in range(n_actions)
                ]
                for s in range(n_states)
            ]
        )
    return q


def train_tabular(agent, env, steps, seed) -> None:
    observation, _ = env.reset(seed=seed)
    for _ in range(steps):
        action = agent.act(observation)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        agent.update(observation, action, reward, next_observation, terminated)
        observation = next_observation
        if terminated or truncated:
            observation, _ = env.reset()


@pytest.mark.parametrize("cls", [tabular.QLearning, tabular.ExpectedSARSA, tabular.SARSA])
def test_tabular_agents_reach_the_value_iteration_optimum_on_frozen_lake(cls):
    env = gym.make("FrozenLake-v1", is_slippery=False)
    gamma = 0.95
    optimum = value_iteration(env.unwrapped.P, 16, 4, gamma)
    agent = cls(env.observation_space, 4, seed=0, gamma=gamma, epsilon=0.2, learning_rate=0.5)
    train_tabular(agent, env, 30_000, seed=0)
    start_value = agent.q[0].max()
    if cls is tabular.QLearning:
        assert start_value == pytest.approx(optimum[0].max(), rel=0.02)
    agent.greedy = True
    observation, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(20):
        observation, reward, terminated, truncated, _ = env.step(agent.act(observation))
        total += reward
        if terminated or truncated:
            break
    assert total == 1.0  # the greedy policy reaches the goal


def test_q_learning_with_visit_count_rates_converges_on_a_stochastic_chain():
    # A 5-state chain: "right" moves right with p=0.8 (else stays), "left" resets to 0;
    # reaching the end pays 1 and restarts.
    n, gamma = 5, 0.9
    transitions = {
        s: {
            0: [(1.0, 0, 0.0, False)],
            1: [(0.8, s + 1, 1.0 if s + 1 == n - 1 else 0.0, s + 1 == n - 1), (0.2, s, 0.0, False)],
        }
        for s in range(n - 1)
    }
    transitions[n - 1] = {0: [(1.0, 0, 0.0, False)], 1: [(1.0, 0, 0.0, False)]}
    optimum = value_iteration(transitions, n, 2, gamma, sweeps=500)
    agent = tabular.QLearning(
        gym.spaces.Discrete(n),
        2,
        seed=0,
        gamma=gamma,
        epsilon=0.3,
        learning_rate={"kind": "visits", "start": 1.0, "end": 0.0},
    )
    rng = np.random.default_rng(0)
    state = 0
    for _ in range(60_000):
        action = agent.act(state)
        outcomes = transitions[state][action]
        p, next_state, reward, done = outcomes[
            rng.choice(len(outcomes), p=[o[0] for o in outcomes])
        ]
        agent.update(state, action, reward, next_state, done)
        state = 0 if done else next_state
    learned = np.array([agent.q[s] for s in range(n - 1)])
    assert np.abs(learned - optimum[: n - 1]).max() < 0.05


def test_discretizer_bins_boxes_and_passes_discrete_through():
    box = gym.spaces.Box(0.0, 1.0, shape=(2,))
    d = tabular.Discretizer(box, bins=4)
    assert d(np.array([0.1, 0.1])) == 0
    assert d(np.array([0.3, 0.1])) == 1 and d(np.array([0.1, 0.3])) == 4
    assert d(np.array([1.0, 1.0])) == 15 and d.n_states == 16
    fitted = tabular.Discretizer(box, bins=2).fit(np.array([[0.0, 0.0], [0.1, 0.9], [0.2, 1.0]]))
    assert fitted(np.array([0.15, 0.0])) == 1  # the median of dimension 0 is 0.1
    assert tabular.Discretizer(gym.spaces.Discrete(5, start=2), bins=3)(4) == 2
    with pytest.raises(ValueError, match="finite bounds"):
        tabular.Discretizer(gym.spaces.Box(-np.inf, np.inf, shape=(1,)))
    many = tabular.Discretizer(gym.spaces.Box(0.0, 1.0, shape=(80,)), bins=10)
    codes = {many(np.full(80, v)) for v in np.linspace(0.0, 1.0, 11)}
    assert len(codes) == 10 and all(0 <= c < 2**61 for c in codes)  # 1.0 and 0.95 share bin 9


@pytest.mark.parametrize("name", agent_names())
def test_save_then_load_reproduces_the_same_actions(name, tmp_path):
    env = gym.make("opsgym/LoadBalancing-v0", episode_length=300)
    agent = make_agent(name, env, seed=3)
    observation, _ = env.reset(seed=0)
    for _ in range(200):
        action = agent.act(observation)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        agent.update(observation, action, reward, next_observation, terminated)
        observation = next_observation
    path = agent.save(tmp_path / "agent") if name != "ucb1_drift_reset" else None
    if path is None:
        agent.save(tmp_path / "agent.npz")
        path = tmp_path / "agent.npz"
    restored = make_agent(name, env, seed=99)
    restored.load(path)
    probes = [env.step(0)[0] for _ in range(50)]
    assert [agent.act(o) for o in probes] == [restored.act(o) for o in probes]


def test_loading_another_agents_checkpoint_names_the_problem(tmp_path):
    env = gym.make("opsgym/LoadBalancing-v0")
    path = make_agent("ucb1", env, seed=0).save(tmp_path / "ucb")
    with pytest.raises(ValueError, match="'UCB1' agent, not a 'EXP3' agent"):
        make_agent("exp3", env).load(path)
    small = gym.make("opsgym/LoadBalancing-v0", service_rates=[1.0, 2.0], failure_probs=[0, 0])
    with pytest.raises(ValueError, match="shape"):
        make_agent("ucb1", small).load(path)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not an opsgym agent checkpoint"):
        make_agent("ucb1", env).load(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="choose from"):
        make_agent("alphago", env)


@pytest.mark.parametrize("env_id", opsgym.envs.opsgym_ids())
@pytest.mark.parametrize("name", agent_names())
def test_every_agent_runs_on_every_environment_and_takes_only_valid_actions(env_id, name):
    env = gym.make(env_id)
    agent = MaskAwareCaller(make_agent(name, env, seed=0))
    assert agent.masked_act
    observation, info = env.reset(seed=0)
    for _ in range(200):
        action = agent.act(observation, info)
        assert env.action_space.contains(action)
        if "action_mask" in info:
            assert info["action_mask"][action], f"{name} took the invalid action {action}"
        next_observation, reward, terminated, truncated, info = env.step(action)
        agent.update(observation, action, reward, next_observation, terminated, info)
        observation = next_observation
        if terminated or truncated:
            observation, info = env.reset()


class Recorder:
    """A policy that records what the caller passes it."""

    def __init__(self, masked: bool) -> None:
        self.seen: list = []
        if masked:
            self.act = self.masked_act

    def act(self, observation):
        self.seen.append("no mask")
        return 0

    def masked_act(self, observation, action_mask=None):
        self.seen.append(action_mask)
        return 0


def test_the_caller_passes_masks_only_to_policies_that_take_them():
    info = {"action_mask": np.array([1, 0, 1], dtype=np.int8)}
    plain, masked = Recorder(masked=False), Recorder(masked=True)
    MaskAwareCaller(plain).act(None, info)
    MaskAwareCaller(masked).act(None, info)
    MaskAwareCaller(masked).act(None, {})
    assert plain.seen == ["no mask"]
    assert masked.seen[0].dtype == bool and masked.seen[0].tolist() == [True, False, True]
    assert masked.seen[1] is None


def test_masked_q_learning_bootstraps_on_valid_actions_only():
    space = gym.spaces.Discrete(2)
    agent = tabular.QLearning(space, 2, seed=0, gamma=1.0, learning_rate=1.0)
    agent.values(1)[:] = [5.0, -1.0]
    agent.update(0, 0, 0.0, 1, False, next_action_mask=np.array([False, True]))
    assert agent.values(0)[0] == -1.0
    agent.update(0, 1, 0.0, 1, False)
    assert agent.values(0)[1] == 5.0
    assert agent.act(1, action_mask=np.array([False, True])) == 1


def test_masked_exp3_does_not_favour_the_arm_that_is_forced_most_often():
    # Arm 1 is always valid and pays 0.5; arm 0 is valid every other pull and pays 1.
    agent = bandits.EXP3(2, seed=0, reward_range=(0.0, 1.0), gamma=0.1)
    for t in range(4000):
        mask = np.array([t % 2 == 0, True])
        arm = agent.act(None, action_mask=mask)
        agent.update(None, arm, 1.0 if arm == 0 else 0.5, None, False)
    assert agent.probabilities()[0] > 0.9


def test_a_masked_bandit_beats_random_on_resource_allocation():
    env = gym.make("opsgym/ResourceAllocation-v0")
    seeds = evaluation_seeds(0, 8)
    random = [run_episode(env, make_policy(env, "random", 0), s) for s in seeds]
    agent = make_agent("ucb1", env, seed=0)
    for episode in range(40):  # about 12,000 steps of learning
        run_episode(env, agent, episode, learn=True)
    learned = [run_episode(env, agent, s, learn=True) for s in seeds]
    slowdown = [
        np.mean([r.metrics["mean_slowdown"] for r in results]) for results in (random, learned)
    ]
    assert slowdown[1] < 0.75 * slowdown[0]


def test_a_bandit_is_a_learning_load_balancer_in_feedback_mode():
    env = gym.make("opsgym/LoadBalancing-v0", mode="feedback")
    seeds = range(1_000_000, 1_000_005)
    random = np.mean(
        [run_episode(env, make_policy(env, "random", 0), s).episode_return for s in seeds]
    )
    agent = make_agent("ucb1", env, seed=0)
    learned = np.mean([run_episode(env, agent, s, learn=True).episode_return for s in seeds])
    assert learned > 0.5 * random  # negative returns: at least twice as good

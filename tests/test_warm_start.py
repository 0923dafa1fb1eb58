"""Learners that start from the rule: the warm start's fits, the residual wrapper, the
guard, and the benchmark's comparison of scratch and rule-started learners."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from quiet_training import quiet_training

from opsgym.agents.protocol import MaskAwareCaller
from opsgym.baselines import default_teacher, make_policy, sb3
from opsgym.baselines.residual import ResidualEnv, ResidualPolicy, residual_spaces
from opsgym.baselines.vec_env import make_training_env
from opsgym.envs import opsgym_ids
from opsgym.train.agent_warm_start import play_rule, start_table_from_rule
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.rule_comparison import Dip, dip, rule_comparison_table, trial_dip
from opsgym.train.rule_started import expand
from opsgym.train.runner import evaluation_seeds, is_online, make_env, run_episode
from opsgym.train.training import make_sb3_model, sb3_policy_of, train
from opsgym.train.warm_start import (
    RuleData,
    RuleGuard,
    WarmStart,
    discounted_returns,
    fit_q_network,
    margin_loss,
    prefer_following,
    start_from_rule,
    take_rule_start,
)

LOAD_BALANCING = "opsgym/LoadBalancing-v0"


def _model(algo: str, env_id: str, overrides: dict, n_envs: int = 4):
    """A fresh model of ``algo`` as ``opsgym train`` builds it, and its rule start."""
    block = sb3.load_hyperparams(algo, env_id) | overrides
    run_settings, model_kwargs = sb3.split_hyperparams(block)
    start = take_rule_start(algo, env_id, {}, model_kwargs)
    venv = make_training_env(env_id, n_envs, 0).venv
    if start.residual is not None:
        from opsgym.baselines.residual import residual_training_env

        venv = residual_training_env(env_id, n_envs, 0, {}, start.residual).venv
    model_kwargs |= {"n_steps": 64, "batch_size": 64} if algo == "ppo" else {}
    return make_sb3_model(algo, venv, run_settings, model_kwargs, 0), start


def _mean_return(env, policy, episodes: int = 3) -> float:
    return float(
        np.mean([run_episode(env, policy, s).episode_return for s in evaluation_seeds(0, episodes)])
    )


def test_discounted_returns_restart_at_each_episode_end():
    rewards = np.array([1.0, 2.0, 3.0, 4.0])
    ends = np.array([False, True, False, False])
    # episode 1: 1 + 0.5 * 2, then 2; episode 2 (cut by the data): 3 + 0.5 * 4, then 4
    assert discounted_returns(rewards, ends, 0.5).tolist() == [2.0, 2.0, 5.0, 4.0]


def test_margin_loss_is_zero_only_once_the_rule_leads_by_the_margin():
    actions = torch.tensor([0])
    assert float(margin_loss(torch.tensor([[1.0, 0.2]]), actions, 0.8)) == 0.0
    # another action within the margin: max(1 + 0, 0.5 + 0.8) - 1 = 0.3
    assert float(margin_loss(torch.tensor([[1.0, 0.5]]), actions, 0.8)) == pytest.approx(0.3)


def test_the_margin_fit_makes_the_greedy_action_the_rules_on_the_fitted_states():
    model, _ = _model("dqn", LOAD_BALANCING, {})
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(64, model.observation_space.shape[0])).astype(np.float32)
    actions = rng.integers(0, model.action_space.n, 64)  # arbitrary: only the fit can explain them
    data = RuleData(inputs, actions, np.full(64, np.nan, np.float32))
    warm = WarmStart("least_work_left", epochs=300, batch_size=64, learning_rate=3e-3)
    fit = fit_q_network(model, data, warm, rng)
    with torch.no_grad():
        greedy = model.q_net(torch.as_tensor(inputs)).argmax(dim=1).numpy()
        target = model.q_net_target(torch.as_tensor(inputs)).argmax(dim=1).numpy()
    assert fit["train_accuracy"] == 1.0
    assert greedy.tolist() == actions.tolist() == target.tolist()


def test_a_warm_started_ppo_plays_at_least_nine_tenths_of_the_rule_before_fine_tuning():
    model, start = _model("ppo", LOAD_BALANCING, {"init_from": "default", "warm_samples": 5000})
    guard, fit = start_from_rule(model, start, LOAD_BALANCING, {}, seed=0, timesteps=10_000)
    env = make_env(LOAD_BALANCING)
    rule = _mean_return(env, make_policy(env, default_teacher(LOAD_BALANCING), seed=0))
    random = _mean_return(env, make_policy(env, "random", seed=0))
    warm = _mean_return(env, sb3_policy_of(model))
    assert fit["samples"] == 10_000  # the rule's play and one DAgger round
    assert isinstance(guard, RuleGuard)
    assert (warm - random) / (rule - random) >= 0.9


def _guard_weights_per_update(guard_steps: int, guard: str = "bc") -> list[list[float]]:
    """Train a warm-started PPO (rollouts of 4 x 64 = 256 steps, 4 minibatches x 2 epochs
    per update) for 3 updates; the guard's weight at each of its gradient steps, per update."""
    overrides = {"init_from": "default", "warm_samples": 500, "warm_guard": guard}
    overrides |= {"warm_guard_steps": guard_steps, "n_epochs": 2}
    model, start = _model("ppo", LOAD_BALANCING, overrides)
    guard_callback, _ = start_from_rule(model, start, LOAD_BALANCING, {}, seed=0, timesteps=768)
    steps: list[tuple[int, float]] = []
    model.policy.optimizer.register_step_pre_hook(
        lambda *_: steps.append((guard_callback.updates, guard_callback.weight))
    )
    model.learn(768, callback=guard_callback)
    return [[w for update, w in steps if update == k] for k in (1, 2, 3)]


def test_the_first_update_is_guarded_even_when_its_rollout_outlasts_the_guard():
    # 100 guard steps < one 256-step rollout: the whole first update has weight 1
    assert _guard_weights_per_update(100) == [[1.0] * 8, [0.0] * 8, [0.0] * 8]


def test_a_dqns_guard_starts_fading_at_its_first_update_not_its_first_rollout():
    # rollouts of 4 envs x 16 steps = 64; learning starts after 300 steps, so the first
    # update follows the fifth rollout; 200 guard steps: K = 4 updates, weights 1 to 1/4
    overrides = {"init_from": "default", "warm_samples": 500, "warm_guard_steps": 200}
    overrides |= {"learning_starts": 300, "train_freq": 16, "gradient_steps": 1}
    overrides |= {"batch_size": 64}
    model, start = _model("dqn", LOAD_BALANCING, overrides)
    guard_callback, _ = start_from_rule(model, start, LOAD_BALANCING, {}, seed=0, timesteps=640)
    weights: list[float] = []
    model.policy.optimizer.register_step_pre_hook(lambda *_: weights.append(guard_callback.weight))
    model.learn(640, callback=guard_callback)
    assert weights == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]


def test_the_guard_fades_over_updates_and_the_lr_guard_ramps_up_to_the_blocks_rate():
    # 700 steps: K = ceil(700 / 256) = 3 guarded updates, weights 1, 2/3, 1/3
    weights = _guard_weights_per_update(700)
    assert weights == [[1.0] * 8, [pytest.approx(2 / 3)] * 8, [pytest.approx(1 / 3)] * 8]
    warm = WarmStart("least_work_left", guard="lr")
    guard = RuleGuard(RuleData(np.zeros((1, 1)), np.zeros(1), np.zeros(1)), warm, 1000, 0)
    guard.schedule = lambda progress: 0.01
    for weight in (1.0, 0.5, 0.0):
        guard.weight = weight
        assert guard._ramped(1.0) == pytest.approx(0.01 * (0.1 + 0.9 * (1 - weight)))


def test_the_bc_guard_adds_the_clipped_cloning_gradient_to_the_rl_gradient():
    model, start = _model("ppo", LOAD_BALANCING, {"init_from": "default", "warm_samples": 500})
    guard, _ = start_from_rule(model, start, LOAD_BALANCING, {}, seed=0, timesteps=1000)
    guard.init_callback(model)
    guard.on_training_start({}, {})
    params = list(model.policy.parameters())
    rl_grads = [torch.full_like(p, 0.5) for p in params]
    for param, grad in zip(params, rl_grads):
        param.grad = grad.clone()
    guard._clone_step(model.policy.optimizer, (), {})
    cloning = [p.grad - g for p, g in zip(params, rl_grads)]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(c) for c in cloning]))
    assert 0 < float(norm) <= model.max_grad_norm + 1e-6
    value_head = model.policy.value_net.weight
    assert torch.equal(value_head.grad, torch.full_like(value_head, 0.5))  # cloning leaves it
    guard.on_training_end()
    assert not model.policy.optimizer._optimizer_step_pre_hooks


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"warm_guard": "bc"}, "init_from"),
        ({"init_from": "default", "residual": "default"}, "choose one"),
        ({"init_from": "no_such_rule"}, "init_from: unknown policy 'no_such_rule'"),
        ({"residual": "no_such_rule"}, "residual: unknown policy"),
        ({"init_from": "default", "warm_guard": "kl"}, "warm_guard must be one of"),
        ({"init_from": "default", "warm_samples": 0}, "warm_samples must be an integer >= 1"),
        ({"residual": "default", "residual_prior": 1.5}, "residual_prior must be"),
    ],
)
def test_bad_rule_start_settings_name_the_key(overrides, message):
    with pytest.raises(ValueError, match=message):
        take_rule_start("ppo", LOAD_BALANCING, {}, dict(overrides))


def test_a_rule_started_dqn_explores_from_its_final_epsilon():
    block = {"init_from": "default", "exploration_final_eps": 0.02}
    take_rule_start("dqn", LOAD_BALANCING, {}, block)
    assert block == {"exploration_final_eps": 0.02, "exploration_initial_eps": 0.02}


def test_learner_names_expand_to_an_algorithm_and_its_rule_start():
    assert expand("ppo_warm") == ("ppo", {"init_from": "default"})
    assert expand("dqn_residual") == ("dqn", {"residual": "default"})
    with pytest.raises(ValueError, match="unknown rule-started learner"):
        expand("ppo_cold")


def _without_mask(info: dict) -> dict:
    return {k: v for k, v in info.items() if k != "action_mask"}


@pytest.mark.parametrize("env_id", opsgym_ids())
def test_always_following_the_rule_reproduces_its_trajectory_bit_for_bit(env_id):
    rule = default_teacher(env_id)
    plain = make_env(env_id)
    wrapped = ResidualEnv(make_env(env_id), rule, seed=3)
    follow = plain.action_space.n
    caller = MaskAwareCaller(make_policy(plain, rule, seed=3))
    observation, info = plain.reset(seed=11)
    residual, residual_info = wrapped.reset(seed=11)
    for _ in range(150):
        action = caller.act(observation, info)
        np.testing.assert_array_equal(residual[: len(observation)], observation)
        assert residual[len(observation) + action] == 1.0  # the rule's proposal, one-hot
        if "action_mask" in info:
            assert residual_info["action_mask"].tolist() == info["action_mask"].tolist() + [1]
            assert wrapped.action_masks()[-1]
        step = plain.step(action)
        residual_step = wrapped.step(follow)
        if is_online(caller.policy):
            caller.update(observation, action, float(step[1]), step[0], step[2], step[4])
        observation, reward, terminated, truncated, info = step
        residual, residual_reward, *ends, residual_info = residual_step
        assert (reward, terminated, truncated) == (residual_reward, *ends)
        np.testing.assert_equal(_without_mask(residual_info), _without_mask(info))
        if terminated or truncated:
            break
    assert wrapped.observation_space.contains(residual)


class _AlwaysFollow:
    def __init__(self, follow: int) -> None:
        self.follow = follow

    def act(self, observation, action_mask=None):
        assert action_mask is None or action_mask[self.follow]
        return self.follow


def test_a_residual_policy_that_always_follows_plays_as_the_rule():
    env = make_env("opsgym/ResourceAllocation-v0")  # masks actions
    rule = make_policy(env, "sjf", seed=0)
    follower = ResidualPolicy(
        _AlwaysFollow(env.action_space.n), make_policy(env, "sjf", 0), env.action_space.n
    )
    assert _mean_return(env, follower, 2) == _mean_return(env, rule, 2)


def test_a_residual_model_starts_preferring_to_follow_the_rule():
    ppo, _ = _model("ppo", LOAD_BALANCING, {"residual": "default"})
    dqn, _ = _model("dqn", LOAD_BALANCING, {"residual": "default"})
    prefer_following(ppo, 0.9)
    prefer_following(dqn, 0.9)
    observations = torch.as_tensor(
        np.stack([ppo.observation_space.sample() for _ in range(20)]), dtype=torch.float32
    )
    follow = ppo.action_space.n - 1
    with torch.no_grad():
        probabilities = ppo.policy.get_distribution(observations).distribution.probs
        greedy = dqn.q_net(observations).argmax(dim=1)
    np.testing.assert_allclose(probabilities[:, follow].numpy(), 0.9, rtol=1e-5)
    assert (greedy == follow).all()


def test_residual_spaces_add_the_follow_action_and_the_rules_one_hot():
    env = make_env(LOAD_BALANCING)
    observation_space, action_space = residual_spaces(env)
    n = env.action_space.n
    assert action_space.n == n + 1
    assert observation_space.shape == (env.observation_space.shape[0] + n,)
    assert observation_space.high[-n:].tolist() == [1.0] * n


@pytest.mark.parametrize("learner", ["ppo_warm", "ppo_residual"])
def test_rule_started_runs_train_evaluate_from_step_zero_and_load(tmp_path, learner):
    run = train(
        quiet_training(
            tmp_path,
            LOAD_BALANCING,
            learner,
            timesteps=512,
            n_envs=8,
            overrides={"n_steps": 64, "batch_size": 256, "warm_samples": 500}
            if learner == "ppo_warm"
            else {"n_steps": 64, "batch_size": 256},
            eval_every=512,
        )
    )
    config = json.loads((run / "config.json").read_text())
    assert "rule_start" in config
    rows = (run / "evaluations.csv").read_text().splitlines()
    assert rows[1].startswith("0.0,")  # the model before fine-tuning
    env = make_env(LOAD_BALANCING)
    _, policy = load_trained_policy(run, env)
    assert isinstance(policy, ResidualPolicy) == (learner == "ppo_residual")
    assert np.isfinite(run_episode(env, policy, 0).episode_return)


def test_the_dip_is_the_fall_below_the_rule_and_the_step_it_is_regained():
    assert dip([(0, 0.9), (10, 0.5), (20, 0.85), (30, 1.0)], rule=0.9) == Dip(0.4, 30)
    assert dip([(0, 0.95), (10, 1.0)], rule=0.9) == Dip(0.0, 0)
    assert dip([(10, 0.1), (20, 0.3)], rule=0.9) == Dip(pytest.approx(0.8), None)


def _record(policy, kind, returns, seed=0, curve=()):
    return {
        "status": "ok",
        "env_id": "E",
        "scenario": "default",
        "policy": policy,
        "kind": kind,
        "seed": seed,
        "returns": returns,
        "metrics": {},
        "train_seconds": 0.0,
        "train_steps": 100 if kind == "trained" else 0,
        "curve": list(curve),
        "curve_episodes": 1,
    }


def test_trial_dip_normalizes_the_curve_on_its_own_episodes():
    references = {
        "random": _record("random", "reference", [0.0, 50.0]),
        "oracle": _record("oracle", "reference", [10.0, 50.0]),
        "rule": _record("rule", "reference", [8.0, 0.0]),
    }
    learner = _record("ppo_warm", "trained", [9.0], curve=[(0, 8.0), (50, 4.0), (100, 9.0)])
    # on the first episode: random 0, oracle 10, rule 0.8; the curve 0.8, 0.4, 0.9
    assert trial_dip(learner, references, "rule") == Dip(pytest.approx(0.4), 100)


def test_the_comparison_table_names_the_best_of_each_kind_and_says_if_above_the_rule():
    from opsgym.train.benchmark_summary import summarize

    records = []
    for seed in range(3):
        records += [
            _record("random", "reference", [0.0], seed),
            _record("oracle", "reference", [10.0], seed),
            _record("rule", "reference", [5.0 + 0.1 * seed], seed),
            _record("ppo", "trained", [2.0 + seed], seed, [(50, 1.0), (100, 2.0)]),
            _record("ppo_warm", "trained", [8.0 + 0.1 * seed], seed, [(0, 6.0), (100, 8.0)]),
        ]
    results, _ = summarize(records)
    table = rule_comparison_table(results, records)
    row = next(line for line in table.splitlines() if line.startswith("| E"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "rule" and cells[3] == "ppo" and cells[7] == "ppo_warm"
    assert cells[5].startswith("0.4") and "not back" in cells[5]  # scratch: rule 0.5, low 0.1
    assert cells[9] == "none"  # the warm start never fell below the rule
    assert cells[-1] == "yes"


def test_a_q_table_starts_from_the_rules_value_and_its_most_frequent_action():
    from opsgym.agents import make_agent

    env = make_env(LOAD_BALANCING)
    agent = make_agent("q_learning", env, seed=0, bins=1)  # one state: hand-checkable
    play = play_rule(LOAD_BALANCING, {}, "least_work_left", 0, 500)
    fitted = start_table_from_rule(agent, play)
    returns = discounted_returns(play.rewards, play.ends, agent.gamma)
    counts = np.bincount(play.actions, minlength=agent.n_actions)
    share = counts.max() / 500
    row = agent.q[0]
    assert fitted == {"states": 1}
    assert row[np.argmax(counts)] == pytest.approx(returns.mean())
    others = np.delete(row, np.argmax(counts))
    np.testing.assert_allclose(others, returns.mean() + (1 - 2 * share) * returns.std())
    assert agent.visits[0].tolist() == counts.tolist()


def test_the_dip_cell_counts_only_the_seeds_that_fell():
    from opsgym.train.rule_comparison import dip_cell

    dips = [Dip(0.0, 0), Dip(0.2, 100), Dip(0.4, None)]
    assert dip_cell(dips) == "0.2, back by step 100 (1 of 3 seeds not back)"
    assert dip_cell([Dip(0.0, 0)] * 2) == "none"

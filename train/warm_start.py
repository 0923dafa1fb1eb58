"""Learners that start from the rule: warm-started and residual SB3 models.

One mechanism for every SB3 algorithm, chosen with ``--set`` keys that ``opsgym train``
takes out of the hyperparameter block before the model is built:

``init_from=<policy>`` (``default``: the id's teacher in
:func:`~opsgym.baselines.default_teacher`) warm-starts the model before its first
step:

1. the rule plays ``warm_samples`` steps (default: the training budget, at most
   20,000) from training seeds (imitation's rollouts), and each state is labelled with
   its action and its discounted return, in the reward scale the model trains on (where
   the id's block normalizes, VecNormalize's statistics start from the rule's play);
   then, for ``warm_dagger_rounds`` rounds (default 1), the fitted model plays as many
   steps, the rule labels them, and the model is refitted on all (DAgger: a clone that
   only saw the rule's states drifts; on Autoscaling one round took the clone of hpa
   from a return of -182 to hpa's -18). These steps are the rule's logs and the clone's trial, not
   counted in the training budget;
2. an actor-critic (PPO, A2C) clones the rule's actions (imitation's fit) after its value
   function is fitted to those returns; DQN's Q-network is fitted with DQfD's
   large-margin loss (Hester et al., AAAI 2018),
   ``max_a [Q(s, a) + margin [a != a_rule]] - Q(s, a_rule)``, plus the squared error of
   ``Q(s, a_rule)`` to the return, and its target network copies it;
3. RL fine-tunes, guarded against forgetting the rule in the first updates
   (``warm_guard``): ``bc`` adds the fit's loss on a minibatch of the rule's data to
   every gradient step, weighted by a factor that fades linearly from 1 to 0 over the
   updates of the first ``warm_guard_steps`` steps (:class:`RuleGuard`; the first
   update is always fully guarded); ``lr`` ramps the learning rate from a tenth of the
   block's up to it over those updates; ``none`` does neither.

Returns of episodes cut by the time limit are cut too, so the critic starts pessimistic
on the last ~1/(1 - gamma) steps of an episode; fine-tuning corrects it.

``residual=<policy>`` (``default`` likewise) trains on
:class:`~opsgym.baselines.residual.ResidualEnv`, whose extra last action follows the
rule; the model starts preferring it: an actor-critic follows the rule with probability
``residual_prior`` in every state, DQN's greedy action is to follow it. Rule-started DQN
explores from its final epsilon, not from 1: uniform exploration is the cold start these
learners exist to avoid.

The benchmark names these learners ``<algo>_warm`` and ``<algo>_residual``; the
hand-written agents start from the rule's play through the same ``init_from`` key, as
``<agent>_warm`` (:mod:`opsgym.train.agent_warm_start`). The names are
:mod:`opsgym.train.rule_started`'s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import partial

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize

from opsgym.baselines import default_teacher, make_policy, policy_names
from opsgym.train.imitation import Dataset, Rollouts, fit
from opsgym.train.runner import make_env
from opsgym.train.training import sb3_policy_of

GUARDS = ("bc", "lr", "none")
DEFAULT_SAMPLES = 20_000
LR_GUARD_FLOOR = 0.1  # the lr guard's first learning rate, as a fraction of the block's


def resolve_rule(env_id: str, env_kwargs: dict, name: str, key: str) -> str:
    """``name``, or the id's default teacher for ``default``, checked against the id."""
    if name == "default":
        name = default_teacher(env_id)
    env = make_env(env_id, env_kwargs)
    names = policy_names(env)
    env.close()
    if name not in names:
        raise ValueError(f"{key}: unknown policy {name!r} for {env_id}; choose from {names}")
    return name


def require_count(key: str, value, least: int) -> None:
    """Raise unless the ``--set`` value of ``key`` is an integer >= ``least``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{key} must be an integer >= {least}, got {value!r}")


@dataclass(frozen=True)
class WarmStart:
    """The ``--set`` keys of a warm start (each field is ``warm_<field>`` but ``init_from``)."""

    init_from: str
    samples: int | None = None  # the rule's labelled steps, and as many per DAgger round
    # (None: the training budget, at most DEFAULT_SAMPLES)
    dagger_rounds: int = 1  # rounds in which the model plays and the rule labels
    epochs: int = 10  # passes over them per fit
    batch_size: int = 256
    learning_rate: float = 1e-3  # of the fit, not of fine-tuning
    margin: float = 0.8  # DQfD's margin between the rule's action and the others
    guard: str = "bc"
    guard_steps: int = 0  # steps over whose updates the guard fades; 0: half of training

    def __post_init__(self) -> None:
        if self.samples is not None:
            require_count("warm_samples", self.samples, 1)
        for name, least in (
            ("epochs", 1),
            ("batch_size", 1),
            ("dagger_rounds", 0),
            ("guard_steps", 0),
        ):
            require_count(f"warm_{name}", getattr(self, name), least)
        for name in ("learning_rate", "margin"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"warm_{name} must be a number > 0, got {value!r}")
        if self.guard not in GUARDS:
            raise ValueError(f"warm_guard must be one of {list(GUARDS)}, got {self.guard!r}")

    @staticmethod
    def key(name: str) -> str:
        return name if name == "init_from" else f"warm_{name}"


@dataclass(frozen=True)
class RuleStart:
    """What a training run takes from the rule: a warm start, a residual rule, or neither."""

    warm: WarmStart | None = None
    residual: str | None = None
    residual_prior: float = 0.9

    @property
    def used(self) -> bool:
        return self.warm is not None or self.residual is not None

    def record(self) -> dict:
        """What the run folder's configuration says of it (nothing when unused)."""
        if self.warm is not None:
            return {"rule_start": {"warm_start": asdict(self.warm)}}
        if self.residual is not None:
            return {"rule_start": {"residual": self.residual, "prior": self.residual_prior}}
        return {}


def take_rule_start(algo: str, env_id: str, env_kwargs: dict, block: dict) -> RuleStart:
    """Remove the rule-start keys from a hyperparameter ``block`` and read them.

    Where a rule start is asked of DQN, the block's ``exploration_initial_eps`` defaults
    to its ``exploration_final_eps``.

    Raises:
        ValueError: a bad value, a warm_* key without ``init_from``, an unknown rule, or
            both forms at once.
    """
    warm_keys = {WarmStart.key(f.name): f.name for f in fields(WarmStart)}
    values = {warm_keys[k]: block.pop(k) for k in list(block) if k in warm_keys}
    residual = block.pop("residual", None)
    prior = block.pop("residual_prior", 0.9)
    if values and "init_from" not in values:
        raise ValueError(
            f"{sorted(WarmStart.key(k) for k in values)} need --set init_from=<policy>"
        )
    if values and residual is not None:
        raise ValueError("init_from and residual: choose one way to start from the rule")
    if residual is None and "residual_prior" in block:
        raise ValueError("residual_prior needs --set residual=<policy>")
    if not isinstance(prior, (int, float)) or not 0 < prior < 1:
        raise ValueError(f"residual_prior must be a number between 0 and 1, got {prior!r}")
    start = RuleStart()
    if values:
        values["init_from"] = resolve_rule(env_id, env_kwargs, values["init_from"], "init_from")
        start = RuleStart(warm=WarmStart(**values))
    elif residual is not None:
        rule = resolve_rule(env_id, env_kwargs, residual, "residual")
        start = RuleStart(residual=rule, residual_prior=float(prior))
    if start.used and algo == "dqn":
        block.setdefault("exploration_initial_eps", block.get("exploration_final_eps", 0.05))
    return start


@dataclass
class RuleData:
    """States as the model sees them, the rule's actions there, and the discounted
    returns of the rule's play from them (NaN where the rule did not play on)."""

    inputs: np.ndarray
    actions: np.ndarray
    returns: np.ndarray

    def join(self, other: RuleData) -> RuleData:
        return RuleData(
            np.concatenate([self.inputs, other.inputs]),
            np.concatenate([self.actions, other.actions]),
            np.concatenate([self.returns, other.returns]),
        )


def discounted_returns(rewards: np.ndarray, ends: np.ndarray, gamma: float) -> np.ndarray:
    """Each step's discounted return to the end of its episode (or of the data)."""
    returns = np.zeros(len(rewards), dtype=np.float64)
    following = 0.0
    for i in range(len(rewards) - 1, -1, -1):
        if ends[i]:
            following = 0.0
        following = rewards[i] + gamma * following
        returns[i] = following
    return returns


class RuleTeacher:
    """The rule, playing from training seeds ``seed, seed + 1, ...`` or labelling the
    states the model visits (DAgger), in the inputs the model sees."""

    def __init__(self, model: BaseAlgorithm, env_id, env_kwargs, rule: str, seed: int) -> None:
        self.env = make_env(env_id, env_kwargs)
        self.rollouts = Rollouts(self.env, make_policy(self.env, rule, seed=seed), seed)
        self.model = model

    def play(self, steps: int) -> RuleData:
        """The rule's own play, with the discounted returns of its rewards.

        Where the model's env normalizes, its statistics are first updated from this play
        as VecNormalize would have updated them (observations; per-episode returns).
        """
        dataset = Dataset()
        start = len(self.rollouts.rewards)
        self.rollouts.collect(steps, dataset)
        observations, actions = dataset.arrays()
        rewards = np.asarray(self.rollouts.rewards[start:], dtype=np.float64)
        ends = np.asarray(self.rollouts.ends[start:], dtype=bool)
        venv = self.model.get_env()
        if isinstance(venv, VecNormalize):
            if venv.norm_obs:
                venv.obs_rms.update(observations)
            if venv.norm_reward:
                venv.ret_rms.update(discounted_running_returns(rewards, ends, venv.gamma))
                rewards = venv.normalize_reward(rewards)
        returns = discounted_returns(rewards, ends, self.model.gamma).astype(np.float32)
        return RuleData(self._inputs(observations), actions, returns)

    def label(self, learner, steps: int) -> RuleData:
        """The rule's actions on the states ``learner`` visits; their returns are unknown
        (NaN): the rule did not play them."""
        dataset = Dataset()
        self.rollouts.collect(steps, dataset, learner)
        observations, actions = dataset.arrays()
        return RuleData(
            self._inputs(observations), actions, np.full(len(actions), np.nan, np.float32)
        )

    def _inputs(self, observations: np.ndarray) -> np.ndarray:
        venv = self.model.get_env()
        if isinstance(venv, VecNormalize) and venv.norm_obs:
            return venv.normalize_obs(observations).astype(np.float32)
        return observations

    def close(self) -> None:
        self.env.close()


def discounted_running_returns(rewards: np.ndarray, ends: np.ndarray, gamma: float):
    """The running discounted sums VecNormalize tracks to scale rewards."""
    running = np.zeros(len(rewards), dtype=np.float64)
    total = 0.0
    for i, reward in enumerate(rewards):
        total = total * gamma + reward
        running[i] = total
        if ends[i]:
            total = 0.0
    return running


def margin_loss(q_values: torch.Tensor, actions: torch.Tensor, margin: float) -> torch.Tensor:
    """DQfD's large-margin loss: 0 once the rule's action leads the others by ``margin``."""
    penalties = torch.full_like(q_values, margin)
    penalties.scatter_(1, actions[:, None], 0.0)
    chosen = q_values.gather(1, actions[:, None]).squeeze(1)
    return ((q_values + penalties).max(dim=1).values - chosen).mean()


def return_error(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """The mean squared error of ``values`` to the known (not NaN) ``returns``."""
    known = ~torch.isnan(returns)
    if not known.any():
        return values.sum() * 0.0
    return torch.nn.functional.mse_loss(values[known], returns[known])


def q_loss(model, inputs, actions, returns, margin: float) -> torch.Tensor:
    """The margin loss plus the squared error of the rule's action value to its return."""
    q_values = model.q_net(inputs)
    chosen = q_values.gather(1, actions[:, None]).squeeze(1)
    return margin_loss(q_values, actions, margin) + return_error(chosen, returns)


def fit_q_network(model, data: RuleData, warm: WarmStart, rng) -> dict:
    """Fit DQN's Q-network to the rule (margin and return losses); copy it to the target."""
    inputs, actions, returns = _tensors(data)
    optimizer = torch.optim.Adam(model.q_net.parameters(), lr=warm.learning_rate)
    model.policy.set_training_mode(True)
    for _ in range(warm.epochs):
        for batch in _batches(len(actions), warm.batch_size, rng):
            loss = q_loss(model, inputs[batch], actions[batch], returns[batch], warm.margin)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.policy.set_training_mode(False)
    model.q_net_target.load_state_dict(model.q_net.state_dict())
    with torch.no_grad():
        greedy = model.q_net(inputs).argmax(dim=1)
        loss = q_loss(model, inputs, actions, returns, warm.margin)
    return {"loss": float(loss), "train_accuracy": float((greedy == actions).float().mean())}


def fit_actor_critic(policy: ActorCriticPolicy, data: RuleData, warm: WarmStart, rng) -> dict:
    """Fit the value function to the rule's returns, then clone its actions."""
    inputs, actions, returns = _tensors(data)
    optimizer = torch.optim.Adam(policy.parameters(), lr=warm.learning_rate)
    policy.set_training_mode(True)
    for _ in range(warm.epochs):
        for batch in _batches(len(actions), warm.batch_size, rng):
            loss = return_error(policy.predict_values(inputs[batch]).squeeze(1), returns[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        value_loss = return_error(policy.predict_values(inputs).squeeze(1), returns)
    loss, accuracy = fit(policy, data.inputs, data.actions, warm, optimizer, rng)
    return {"loss": loss, "train_accuracy": accuracy, "value_loss": float(value_loss)}


def _tensors(data: RuleData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.as_tensor(data.inputs),
        torch.as_tensor(data.actions),
        torch.as_tensor(data.returns),
    )


def _batches(count: int, size: int, rng):
    order = rng.permutation(count)
    for start in range(0, count, size):
        yield torch.as_tensor(order[start : start + size])


def start_from_rule(model: BaseAlgorithm, start: RuleStart, env_id, env_kwargs, seed, timesteps):
    """Start ``model`` from the rule as ``start`` says, before any training step.

    Returns:
        The callback that guards the warm start while training (None without one), and
        the numbers of the fit for the run's record.
    """
    if start.residual is not None:
        prefer_following(model, start.residual_prior)
        return None, {}
    if start.warm is None:
        return None, {}
    warm = start.warm
    if isinstance(model.policy, ActorCriticPolicy):
        fit_model = partial(fit_actor_critic, model.policy)
    elif hasattr(model, "q_net"):
        fit_model = partial(fit_q_network, model)
    else:
        raise ValueError(f"init_from: cannot warm-start a {type(model).__name__}")
    rng = np.random.default_rng(seed)
    samples = warm.samples or min(DEFAULT_SAMPLES, timesteps)
    teacher = RuleTeacher(model, env_id, env_kwargs, warm.init_from, seed)
    data = teacher.play(samples)
    result = fit_model(data, warm, rng)
    for _ in range(warm.dagger_rounds):
        data = data.join(teacher.label(sb3_policy_of(model), samples))
        result = fit_model(data, warm, rng)
    teacher.close()
    guard = None
    if warm.guard != "none":
        guard = RuleGuard(data, warm, warm.guard_steps or max(timesteps // 2, 1), seed)
    return guard, result | {"samples": len(data.actions)}


def prefer_following(model: BaseAlgorithm, prior: float) -> None:
    """Make a fresh model on a residual env choose its last action, "follow the rule".

    An actor-critic's action logits become state-independent, with probability ``prior``
    on following and the rest shared by the deviations; DQN's last layer gives following
    the highest value in every state. Training moves both from there.
    """
    follow = int(model.action_space.n) - 1
    if isinstance(model.policy, ActorCriticPolicy):
        layer = model.policy.action_net
        logits = np.full(follow + 1, math.log((1 - prior) / follow))
        logits[follow] = math.log(prior)
    elif hasattr(model, "q_net"):
        layer = [m for m in model.q_net.q_net.modules() if isinstance(m, torch.nn.Linear)][-1]
        logits = np.zeros(follow + 1)
        logits[follow] = 1e-3
    else:
        raise ValueError(f"residual: cannot start a {type(model).__name__} from the rule")
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.as_tensor(logits, dtype=layer.bias.dtype))
    if hasattr(model, "q_net_target"):
        model.q_net_target.load_state_dict(model.q_net.state_dict())


class RuleGuard(BaseCallback):
    """Keeps a warm-started model near the rule while RL fine-tunes it (``warm_guard``).

    The guard's weight fades linearly over the updates of the first ``steps`` environment
    steps of learning: with rollouts of ``R`` steps, update ``k`` (from 0) of
    ``K = ceil(steps / R)`` has weight ``1 - k / K``, so the first update is fully guarded
    however long its rollout. An off-policy model's rollouts up to its ``learning_starts``
    are followed by no update and do not count. ``bc`` adds the fit's loss on a minibatch
    of the rule's data, times the weight, to every gradient step of the update (the augmented
    loss of DAPG, Rajeswaran et al., RSS 2018), clipped to the algorithm's
    ``max_grad_norm`` as its own loss is; ``lr`` scales the learning rate from
    :data:`LR_GUARD_FLOOR` of the block's (weight 1) up to it (weight 0).
    """

    def __init__(self, data: RuleData, warm: WarmStart, steps: int, seed: int) -> None:
        super().__init__()
        self.inputs, self.actions, self.returns = _tensors(data)
        self.warm = warm
        self.steps = steps
        self.rng = np.random.default_rng(seed)
        self.weight = 1.0
        self.updates = 0
        self.guarded_updates = None
        self.rollout_start = 0
        self.schedule = None
        self.hook = None

    def _on_training_start(self) -> None:
        if self.warm.guard == "lr":
            self.schedule = self.model.lr_schedule
            self.model.lr_schedule = self._ramped
        elif self.warm.guard == "bc":
            self.hook = self.model.policy.optimizer.register_step_pre_hook(self._clone_step)

    def _on_rollout_start(self) -> None:
        self.rollout_start = self.model.num_timesteps

    def _on_rollout_end(self) -> None:
        if self.model.num_timesteps <= getattr(self.model, "learning_starts", 0):
            return  # an off-policy model only collects until learning starts: no update
        if self.guarded_updates is None:
            rollout = max(1, self.model.num_timesteps - self.rollout_start)
            self.guarded_updates = math.ceil(self.steps / rollout)
        self.weight = max(0.0, 1.0 - self.updates / self.guarded_updates)
        self.updates += 1

    def _ramped(self, progress_remaining: float) -> float:
        ramp = LR_GUARD_FLOOR + (1 - LR_GUARD_FLOOR) * (1 - self.weight)
        return self.schedule(progress_remaining) * ramp

    def _on_training_end(self) -> None:
        if self.schedule is not None:
            self.model.lr_schedule = self.schedule
        if self.hook is not None:
            self.hook.remove()

    def _on_step(self) -> bool:
        return True

    def _clone_step(self, optimizer, args, kwargs) -> None:
        """Add the weighted, clipped cloning gradient to the RL gradient about to be applied."""
        if self.weight <= 0:
            return
        model, policy = self.model, self.model.policy
        params = [p for group in optimizer.param_groups for p in group["params"]]
        rl_grads = [p.grad for p in params]
        optimizer.zero_grad(set_to_none=True)
        size = getattr(model, "batch_size", None) or self.warm.batch_size
        batch = torch.as_tensor(self.rng.integers(0, len(self.actions), size))
        inputs, actions = self.inputs[batch], self.actions[batch]
        with torch.enable_grad():
            if isinstance(policy, ActorCriticPolicy):
                loss = -policy.get_distribution(inputs).log_prob(actions).mean()
            else:
                loss = q_loss(model, inputs, actions, self.returns[batch], self.warm.margin)
            (self.weight * loss).backward()
        torch.nn.utils.clip_grad_norm_(params, model.max_grad_norm)
        for param, rl_grad in zip(params, rl_grads):
            if rl_grad is not None:
                param.grad = rl_grad if param.grad is None else param.grad + rl_grad

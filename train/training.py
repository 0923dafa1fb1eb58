"""``opsgym train``: train an SB3 algorithm or a hand-written agent into a run folder.

Both kinds share the run folder, the periodic evaluation on evaluation seeds (which
training never uses) and the progress bar; Ctrl-C stops training and still saves what
has been learned.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecEnv, VecNormalize
from tqdm import tqdm

from opsgym.agents import agent_names, make_agent
from opsgym.agents.atomic import atomic_write
from opsgym.agents.protocol import MaskAwareCaller, Policy
from opsgym.baselines import agent_hyperparams, policy_names, sb3
from opsgym.baselines.residual import residual_policy, residual_training_env
from opsgym.baselines.vec_env import make_training_env
from opsgym.train.cold_start import write_rewards
from opsgym.train.run_folder import RunFolder
from opsgym.train.runner import evaluation_seeds, is_online, make_env, run_episode
from opsgym.train.tensorboard_log import EvaluationBoard, require_tensorboard

MODEL_FILE = "model.zip"
AGENT_FILE = "agent.npz"
NORMALIZER_FILE = "vecnormalize.npz"


@dataclass
class TrainSettings:
    """What one training run needs; ``overrides`` replace hyperparameters by key."""

    env_id: str
    agent: str
    seed: int = 0
    timesteps: int | None = None
    n_envs: int | None = None
    config_file: str | None = None
    overrides: dict = field(default_factory=dict)
    env_kwargs: dict = field(default_factory=dict)
    eval_every: int = 10_000
    eval_episodes: int = 5
    out: str = "runs"
    tensorboard: bool = False
    progress: bool = True
    cold_start_steps: int = 0  # first training rewards recorded for the cold-start regret
    # None: the evaluation seeds of ``seed``; tuning passes validation seeds instead
    evaluation_seeds: list[int] | None = None
    # called with each evaluation row; returning False stops training (tuning prunes so)
    on_evaluation: Callable[[dict], bool] | None = None
    vec_env: str = "auto"  # SB3's environments: "native", "make_vec_env" or "auto"

    def __post_init__(self) -> None:
        if self.tensorboard:  # before any run folder exists
            require_tensorboard()


class PeriodicEvaluator:
    """Evaluates a policy on fixed evaluation seeds and appends a row to the run folder
    (and to its TensorBoard event file with ``settings.tensorboard``; :meth:`close` it).

    ``stopped`` turns true when ``settings.on_evaluation`` asks training to stop.
    """

    def __init__(self, settings: TrainSettings, run: RunFolder) -> None:
        self.env = make_env(settings.env_id, settings.env_kwargs)
        self.seeds = settings.evaluation_seeds or evaluation_seeds(
            settings.seed, settings.eval_episodes
        )
        self.run = run
        self.started = time.perf_counter()
        self.last: dict[str, float] = {}
        self.on_evaluation = settings.on_evaluation
        self.stopped = False
        self.board = EvaluationBoard(run.path) if settings.tensorboard else None

    def __call__(self, policy: Policy, step: int) -> dict[str, float]:
        learn = is_online(policy)
        episodes = [run_episode(self.env, policy, seed, learn) for seed in self.seeds]
        row = {"step": float(step), "wall_time_s": time.perf_counter() - self.started}
        row["return"] = float(np.mean([e.episode_return for e in episodes]))
        for name in episodes[0].metrics:
            row[name] = float(np.mean([e.metrics[name] for e in episodes]))
        self.run.record_evaluation(row)
        if self.board is not None:
            self.board.write(row)
        self.last = row
        if self.on_evaluation is not None and not self.on_evaluation(row):
            self.stopped = True
        return row

    def close(self) -> None:
        self.env.close()
        if self.board is not None:
            self.board.close()


class ProgressBar:
    """A tqdm bar over environment steps showing the recent training episode return."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = tqdm(total=total, unit="step", disable=not enabled, dynamic_ncols=True)
        self.returns: deque[float] = deque(maxlen=20)

    def advance(self, steps: int, finished_returns=()) -> None:
        self.returns.extend(finished_returns)
        self.bar.update(steps)
        if self.returns and self.bar.n % 1000 < steps:
            self.bar.set_postfix(episode_return=f"{np.mean(self.returns):.4g}", refresh=False)

    def close(self) -> None:
        self.bar.close()


class TrainingSession:
    """The span of a training loop, which breaks when ``evaluator.stopped``: after
    ``with TrainingSession(evaluator, progress) as session:``, ``session.status`` says how
    it ended ("finished"; "stopped", as an evaluation asked; "interrupted", by Ctrl-C,
    which the session catches so that what was learned is still saved),
    ``session.seconds`` how long it took, and the progress bar is closed."""

    def __init__(self, evaluator: PeriodicEvaluator, progress: ProgressBar) -> None:
        self.evaluator = evaluator
        self.progress = progress
        self.status = "finished"
        self.seconds = 0.0

    def __enter__(self) -> TrainingSession:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        self.progress.close()
        self.seconds = time.perf_counter() - self.started
        if kind is KeyboardInterrupt:
            self.status = "interrupted"
            return True
        if kind is None and self.evaluator.stopped:
            self.status = "stopped"
        return False


def train(settings: TrainSettings) -> Path:
    """Run one training described by ``settings``; return its run folder."""
    if settings.agent in sb3.ALGORITHMS:
        return train_sb3(settings)
    if settings.agent in agent_names():
        return train_agent(settings)
    if settings.agent == "bc":
        from opsgym.train.imitation import train_cloning

        return train_cloning(settings)
    from opsgym.train.rule_started import expand, rule_started_names

    if settings.agent in rule_started_names():  # ppo_warm, dqn_residual, ucb1_warm...
        learner, keys = expand(settings.agent)
        return train(replace(settings, agent=learner, overrides=keys | settings.overrides))
    env = make_env(settings.env_id, settings.env_kwargs)
    if settings.agent in policy_names(env):
        raise ValueError(
            f"{settings.agent!r} is a reference policy of {settings.env_id}: it has nothing "
            f"to train; evaluate it with 'opsgym evaluate --policy {settings.agent}'"
        )
    raise ValueError(
        f"unknown agent {settings.agent!r}; trainable agents are "
        f"{sb3.algorithm_names() + agent_names() + ['bc'] + rule_started_names()}"
    )


def train_agent(settings: TrainSettings) -> Path:
    """Train a hand-written agent for ``settings.timesteps`` steps (default 100,000).

    Episodes start from training seeds ``seed, seed + 1, ...``. ``settings.overrides``
    are the agent's constructor arguments. Periodic evaluations use a copy of the agent,
    so evaluating never changes what is being trained; online learners keep learning in
    that copy, as they would in production, and tabular agents act greedily.
    """
    if settings.config_file is not None:
        raise ValueError("--config applies to SB3 algorithms; set agent arguments with --set")
    from opsgym.train.agent_warm_start import start_agent_from_rule, take_agent_warm_start

    timesteps = int(settings.timesteps or 100_000)
    env = make_env(settings.env_id, settings.env_kwargs)
    hyperparams = agent_hyperparams.load(settings.agent, settings.env_id) | settings.overrides
    warm = take_agent_warm_start(settings.env_id, settings.env_kwargs, hyperparams, timesteps)
    agent = make_agent(settings.agent, env, seed=settings.seed, **hyperparams)
    rule_start = {}
    if warm is not None:
        fitted = start_agent_from_rule(
            agent, settings.env_id, settings.env_kwargs, warm, settings.seed
        )
        rule_start = {"rule_start": fitted}
    run = RunFolder(
        settings.out,
        {
            "kind": "agent",
            "env_id": settings.env_id,
            "agent": settings.agent,
            "seed": settings.seed,
            "timesteps": timesteps,
            "env_kwargs": settings.env_kwargs,
            "hyperparams": hyperparams,
            "eval_every": settings.eval_every,
            "eval_episodes": settings.eval_episodes,
            **rule_start,
        },
    )
    evaluator = PeriodicEvaluator(settings, run)
    if rule_start and settings.eval_every > 0:  # where learning starts from
        evaluator(evaluation_copy(agent), 0)
    step, episode, episode_return = 0, 0, 0.0
    caller = MaskAwareCaller(agent)
    first_rewards: list[float] = []
    with TrainingSession(evaluator, ProgressBar(timesteps, settings.progress)) as session:
        observation, info = env.reset(seed=settings.seed)
        while step < timesteps:
            action = caller.act(observation, info)
            next_observation, reward, terminated, truncated, info = env.step(action)
            caller.update(observation, action, float(reward), next_observation, terminated, info)
            if step < settings.cold_start_steps:
                first_rewards.append(float(reward))
            observation = next_observation
            episode_return += float(reward)
            step += 1
            finished = ()
            if terminated or truncated:
                finished = (episode_return,)
                episode, episode_return = episode + 1, 0.0
                observation, info = env.reset(seed=settings.seed + episode)
            session.progress.advance(1, finished)
            # a periodic evaluation at the end would be the final model's, made once below
            if settings.eval_every > 0 and step % settings.eval_every == 0 and step < timesteps:
                evaluator(evaluation_copy(agent), step)
                if evaluator.stopped:
                    break
    agent.save(run.path / AGENT_FILE)
    if settings.cold_start_steps > 0:
        write_rewards(run.path, first_rewards, reseed_episodes=True)
    if session.status == "finished":
        evaluator(evaluation_copy(agent), step)
    run.finish(
        session.status,
        steps_done=step,
        train_seconds=session.seconds,
        steps_per_second=step / max(session.seconds, 1e-9),
        last_evaluation=evaluator.last,
    )
    evaluator.close()
    env.close()
    return run.path


def evaluation_copy(agent):
    """A copy of ``agent`` to evaluate: tabular agents act greedily in it."""
    copy = deepcopy(agent)
    if hasattr(copy, "greedy"):
        copy.greedy = True
    return copy


def train_sb3(settings: TrainSettings) -> Path:
    """Train an SB3 algorithm with its rl-zoo3 hyperparameters for ``settings.env_id``,
    on the id's native vector env where it has one (``settings.vec_env``), from scratch
    or from a rule (:mod:`opsgym.train.warm_start`)."""
    from opsgym.train.warm_start import start_from_rule, take_rule_start

    block = sb3.load_hyperparams(settings.agent, settings.env_id, settings.config_file)
    block.update(settings.overrides)
    run_settings, model_kwargs = sb3.split_hyperparams(block)
    timesteps = int(settings.timesteps or run_settings.get("n_timesteps", 100_000))
    n_envs = int(settings.n_envs or run_settings.get("n_envs", 1))
    env_kwargs = {**run_settings.get("env_kwargs", {}), **settings.env_kwargs}
    make_env(settings.env_id, env_kwargs).close()  # validates the id and the arguments
    start = take_rule_start(settings.agent, settings.env_id, env_kwargs, model_kwargs)
    if start.residual is None:
        training_env = make_training_env(
            settings.env_id, n_envs, settings.seed, env_kwargs, settings.vec_env
        )
    else:
        training_env = residual_training_env(
            settings.env_id, n_envs, settings.seed, env_kwargs, start.residual
        )

    run = RunFolder(
        settings.out,
        {
            "kind": "sb3",
            "env_id": settings.env_id,
            "agent": settings.agent,
            "seed": settings.seed,
            "timesteps": timesteps,
            "n_envs": n_envs,
            "vec_env": training_env.record(),
            "env_kwargs": env_kwargs,
            "hyperparams": block,
            "eval_every": settings.eval_every,
            "eval_episodes": settings.eval_episodes,
            **start.record(),
        },
    )
    model = make_sb3_model(
        settings.agent, training_env.venv, run_settings, model_kwargs, settings.seed
    )
    guard, fitted = start_from_rule(
        model, start, settings.env_id, env_kwargs, settings.seed, timesteps
    )
    venv = model.get_env()
    evaluator = PeriodicEvaluator(settings, run)
    if evaluator.board is not None:
        model.set_logger(evaluator.board.sb3_logger())

    def play(model) -> Policy:
        policy = sb3_policy_of(model)
        if start.residual is None:
            return policy
        return residual_policy(policy, evaluator.env, start.residual, settings.seed)

    callback = _SB3Callback(evaluator, settings, timesteps, play)
    if start.used and settings.eval_every > 0:  # where fine-tuning starts from
        evaluator(play(model), 0)
    with TrainingSession(evaluator, callback.progress) as session:
        model.learn(total_timesteps=timesteps, callback=[callback, guard] if guard else callback)
    with atomic_write(run.path / MODEL_FILE, binary=True) as handle:
        model.save(handle)
    if settings.cold_start_steps > 0:
        write_rewards(run.path, callback.first_rewards, reseed_episodes=False)
    if isinstance(venv, VecNormalize) and venv.norm_obs:
        sb3.save_observation_statistics(venv, run.path / NORMALIZER_FILE)
    if session.status == "finished":
        evaluator(play(model), model.num_timesteps)
    run.finish(
        session.status,
        steps_done=int(model.num_timesteps),
        train_seconds=session.seconds,
        steps_per_second=model.num_timesteps / max(session.seconds, 1e-9),
        last_evaluation=evaluator.last,
        **({"rule_fit": fitted} if fitted else {}),
    )
    evaluator.close()
    venv.close()
    return run.path


def make_sb3_model(
    algo: str, venv: VecEnv, run_settings: dict, model_kwargs: dict, seed: int
) -> BaseAlgorithm:
    """``algo`` on ``venv`` (under VecNormalize if the block normalizes), on the CPU,
    logging nowhere; ``run_settings`` and ``model_kwargs`` as
    :func:`~opsgym.baselines.sb3.split_hyperparams` splits a block.

    Sets torch, for the whole process, to what these small networks train fastest with:
    one thread (on a 2-core machine shared with other jobs, two threads trained PPO 5 to
    20 times slower), and no argument checks in ``torch.distributions`` (8% of PPO's
    training time; an invalid probability still fails when an action is sampled).
    """
    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)
    normalization = sb3.normalize_kwargs(run_settings, model_kwargs)
    if normalization is not None:
        venv = VecNormalize(venv, **normalization)
    kwargs = deepcopy(model_kwargs)  # A2C writes its RMSprop optimizer into policy_kwargs
    policy_name = kwargs.pop("policy", "MlpPolicy")
    try:
        model = sb3.ALGORITHMS[algo](
            policy_name, venv, seed=seed, device="cpu", verbose=0, **kwargs
        )
    except TypeError as error:
        raise ValueError(f"bad hyperparameters for {algo}: {error}") from error
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def sb3_policy_of(model) -> sb3.SB3Policy:
    """``model`` as it plays now, behind its env's current observation statistics."""
    venv = model.get_env()
    normalizer = None
    if isinstance(venv, VecNormalize) and venv.norm_obs:
        normalizer = sb3.ObservationNormalizer.from_vec_normalize(venv)
    return sb3.SB3Policy(model, normalizer=normalizer)


class _SB3Callback(BaseCallback):
    """Drives the progress bar and the periodic evaluation from inside ``model.learn``."""

    def __init__(
        self,
        evaluator: PeriodicEvaluator,
        settings: TrainSettings,
        total: int,
        play: Callable[[BaseAlgorithm], Policy],
    ):
        super().__init__()
        self.evaluator = evaluator
        self.play = play
        self.eval_every = settings.eval_every
        self.progress = ProgressBar(total, settings.progress)
        self.total = total
        self.next_evaluation = settings.eval_every
        self.cold_start_steps = settings.cold_start_steps
        self.first_rewards: list[float] = []  # of the first env, before any normalization

    def _on_step(self) -> bool:
        if len(self.first_rewards) < self.cold_start_steps:
            venv = self.training_env
            raw = venv.get_original_reward() if isinstance(venv, VecNormalize) else None
            rewards = self.locals["rewards"] if raw is None else raw
            self.first_rewards.append(float(rewards[0]))
        infos = self.locals.get("infos", ())
        finished = [info["episode"]["r"] for info in infos if "episode" in info]
        self.progress.advance(self.training_env.num_envs, finished)
        # SB3 finishes its last rollout past ``total`` and updates the model after it: the
        # evaluation due there is the final model's, made once after ``learn``
        due = self.eval_every > 0 and self.num_timesteps >= self.next_evaluation
        if due and self.num_timesteps < self.total:
            self.evaluator(self.play(self.model), self.num_timesteps)
            self.next_evaluation += self.eval_every
        return not self.evaluator.stopped

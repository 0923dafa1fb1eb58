"""Behaviour cloning: can a PPO-sized policy network express an id's best rule?

Every heuristic reads only the observation, so a network on the observation should be
able to act as it does. ``opsgym train --agent bc --set teacher=<policy>`` fits the
policy network PPO uses for the id (its ``MlpPolicy`` and ``policy_kwargs`` from
``baselines/hyperparams/ppo.yml``, built as an SB3 PPO model, so that its weights can
warm-start PPO) to a reference policy's actions by maximum likelihood:

1. the teacher plays episodes from training seeds ``seed, seed + 1, ...``, and every
   state it meets is labelled with its action;
2. with ``dagger_rounds`` R > 0, DAgger (Ross, Gordon and Bagnell, AISTATS 2011) follows:
   R times, the learner plays, the teacher labels the states the learner visits (a
   stateful teacher watches the learner's trajectory, and an online one learns from the
   learner's rewards), the labels join the data, and the network is refitted on it all,
   so that it learns to recover from its own mistakes.

``timesteps`` labelled states are split evenly between the rounds. The likelihood is
over all actions: the teacher never picks an invalid one, so where an environment masks
actions the network learns the mask too, and plays through the plain PPO wrapper.
Observations are normalized if the id's PPO block normalizes them (statistics from the
teacher's states, saved as ``vecnormalize.npz``). The run folder holds ``model.zip`` (a
PPO model: ``opsgym evaluate`` and the benchmark load it like any PPO run) and, in
``config.json``, each round's samples, fit and agreement with the teacher; the clone
is evaluated on evaluation seeds after every round (after the last only with
``--eval-every 0``). Its cold-start rewards are those of the teacher's own play, which
is all that a clone's training costs in the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from opsgym.agents.atomic import atomic_write
from opsgym.agents.protocol import MaskAwareCaller
from opsgym.baselines import default_teacher, make_policy, policy_names, sb3
from opsgym.train.benchmark_summary import Scorer
from opsgym.train.cold_start import write_rewards
from opsgym.train.evaluate import evaluate_policies
from opsgym.train.run_folder import RunFolder
from opsgym.train.runner import is_online, make_env
from opsgym.train.table import format_number, markdown_table
from opsgym.train.training import (
    MODEL_FILE,
    NORMALIZER_FILE,
    PeriodicEvaluator,
    ProgressBar,
    TrainingSession,
    TrainSettings,
    train,
)

DEFAULT_SAMPLES = 50_000


@dataclass(frozen=True)
class CloningSettings:
    """The ``--set`` arguments of ``--agent bc``."""

    teacher: str
    dagger_rounds: int = 0  # DAgger rounds after the teacher's own rollouts
    epochs: int = 10  # passes over the aggregated data per fit
    batch_size: int = 256
    learning_rate: float = 1e-3
    norm_obs: bool | None = None  # None: as the id's PPO block
    net_arch: list[int] | None = None  # hidden layer sizes; None: as the id's PPO block

    def __post_init__(self) -> None:
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("dagger_rounds", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not isinstance(self.learning_rate, (int, float)) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be a number > 0, got {self.learning_rate!r}")
        if self.norm_obs not in (None, True, False):
            raise ValueError(f"norm_obs must be true or false, got {self.norm_obs!r}")
        if self.net_arch is not None and not (
            isinstance(self.net_arch, list)
            and self.net_arch
            and all(type(size) is int and size > 0 for size in self.net_arch)
        ):
            raise ValueError(
                f"net_arch must be a list of layer sizes > 0 such as [256, 256], "
                f"got {self.net_arch!r}"
            )

    @classmethod
    def from_overrides(cls, env_id: str, overrides: dict) -> CloningSettings:
        """Read ``--set`` values, with the id's default teacher when none is named.

        Raises:
            ValueError: an unknown key, a bad value, or no teacher for this id.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown bc setting(s) {unknown}; bc takes {sorted(known)}")
        values = dict(overrides)
        if "teacher" not in values:
            values["teacher"] = default_teacher(env_id)
        return cls(**values)


class Dataset:
    """Observations (as the env gives them) and the teacher's actions, aggregated."""

    def __init__(self) -> None:
        self.observations: list[np.ndarray] = []
        self.actions: list[int] = []

    def add(self, observation: np.ndarray, action: int) -> None:
        self.observations.append(np.asarray(observation, dtype=np.float32))
        self.actions.append(action)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(self.observations), np.asarray(self.actions, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.actions)


class Rollouts:
    """Episodes from consecutive training seeds, labelled by the teacher.

    The teacher is built once and sees every state in order, as it would serving; its
    label is what it would do there. ``learner`` (None: the teacher) chooses what is done.
    """

    def __init__(self, env, teacher, seed: int) -> None:
        self.env = env
        self.teacher = MaskAwareCaller(teacher)
        self.online = is_online(teacher)
        self.next_seed = seed
        self.rewards: list[float] = []  # of every step played, in order
        self.ends: list[bool] = []  # whether that step ended its episode

    def collect(self, steps: int, dataset: Dataset, learner=None, progress=None) -> float:
        """Add ``steps`` labelled states to ``dataset``; return the learner's agreement."""
        observation, info = self.env.reset(seed=self.next_seed)
        self.next_seed += 1
        agreed = 0
        for _ in range(steps):
            label = self.teacher.act(observation, info)
            action = label if learner is None else learner.act(observation)
            agreed += action == label
            dataset.add(observation, label)
            next_observation, reward, terminated, truncated, info = self.env.step(action)
            self.rewards.append(float(reward))
            self.ends.append(bool(terminated or truncated))
            if self.online:
                self.teacher.update(
                    observation, action, float(reward), next_observation, terminated, info
                )
            observation = next_observation
            if terminated or truncated:
                observation, info = self.env.reset(seed=self.next_seed)
                self.next_seed += 1
            if progress is not None:
                progress.advance(1)
        return agreed / max(steps, 1)


def fit(policy, observations: np.ndarray, actions: np.ndarray, settings, optimizer, rng):
    """Maximum likelihood of the teacher's actions; return the final loss and accuracy."""
    inputs = torch.as_tensor(observations)
    targets = torch.as_tensor(actions)
    policy.set_training_mode(True)
    for _ in range(settings.epochs):
        order = rng.permutation(len(targets))
        for start in range(0, len(order), settings.batch_size):
            batch = torch.as_tensor(order[start : start + settings.batch_size])
            loss = -policy.get_distribution(inputs[batch]).log_prob(targets[batch]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    policy.set_training_mode(False)
    with torch.no_grad():
        distribution = policy.get_distribution(inputs)
        loss = float(-distribution.log_prob(targets).mean())
        predicted = distribution.distribution.probs.argmax(dim=1)
        accuracy = float((predicted == targets).float().mean())
    return loss, accuracy


def train_cloning(settings: TrainSettings) -> Path:
    """Clone a reference policy into PPO's policy network; return the run folder."""
    cloning = CloningSettings.from_overrides(settings.env_id, settings.overrides)
    if settings.config_file is not None:
        raise ValueError("--config applies to SB3 algorithms; bc reads ppo.yml's block")
    samples = int(settings.timesteps or DEFAULT_SAMPLES)
    rounds = cloning.dagger_rounds + 1
    if samples < rounds:
        raise ValueError(f"timesteps ({samples}) must be at least the rounds ({rounds})")
    env = make_env(settings.env_id, settings.env_kwargs)
    if cloning.teacher not in policy_names(env):
        raise ValueError(
            f"unknown teacher {cloning.teacher!r} for {settings.env_id}; "
            f"choose from {policy_names(env)}"
        )
    teacher = make_policy(env, cloning.teacher, seed=settings.seed)

    block = sb3.load_hyperparams("ppo", settings.env_id)
    run_settings, model_kwargs = sb3.split_hyperparams(block)
    normalization = sb3.normalize_kwargs(run_settings, model_kwargs) or {"norm_obs": False}
    norm_obs = cloning.norm_obs
    if norm_obs is None:
        norm_obs = bool(normalization.get("norm_obs", True))
    torch.set_num_threads(1)
    venv = DummyVecEnv([lambda: make_env(settings.env_id, settings.env_kwargs)])
    if norm_obs:
        venv = VecNormalize(venv, norm_obs=True, norm_reward=False)
    if cloning.net_arch is not None:
        model_kwargs["policy_kwargs"] = model_kwargs.get("policy_kwargs", {}) | {
            "net_arch": cloning.net_arch
        }
    policy_name = model_kwargs.pop("policy", "MlpPolicy")
    model = PPO(policy_name, venv, seed=settings.seed, device="cpu", verbose=0, **model_kwargs)
    model.set_logger(Logger(folder=None, output_formats=[]))
    optimizer = torch.optim.Adam(model.policy.parameters(), lr=cloning.learning_rate)
    rng = np.random.default_rng(settings.seed)

    run = RunFolder(
        settings.out,
        {
            "kind": "sb3",
            "env_id": settings.env_id,
            "agent": "bc",
            "algorithm": "ppo",
            "seed": settings.seed,
            "timesteps": samples,
            "env_kwargs": settings.env_kwargs,
            "hyperparams": block,
            "imitation": asdict(cloning) | {"norm_obs": norm_obs},
            "eval_every": settings.eval_every,
            "eval_episodes": settings.eval_episodes,
        },
    )
    evaluator = PeriodicEvaluator(settings, run)
    progress = ProgressBar(samples, settings.progress)
    rollouts = Rollouts(env, teacher, settings.seed)
    dataset = Dataset()
    history = []
    normalizer = None
    with TrainingSession(evaluator, progress) as session:
        for index in range(rounds):
            steps = samples // rounds + (index < samples % rounds)
            learner = None if index == 0 else sb3.SB3Policy(model, normalizer=normalizer)
            agreement = rollouts.collect(steps, dataset, learner, progress)
            observations, actions = dataset.arrays()
            if index == 0 and norm_obs:
                venv.obs_rms.update(observations)
                normalizer = sb3.ObservationNormalizer.from_vec_normalize(venv)
            inputs = observations if normalizer is None else normalizer(observations)
            loss, accuracy = fit(model.policy, inputs, actions, cloning, optimizer, rng)
            history.append(
                {
                    "round": index,
                    "samples": steps,
                    "aggregated": len(dataset),
                    # how often the learner, playing, did what the teacher would have
                    "learner_agreement": None if index == 0 else agreement,
                    "loss": loss,
                    "train_accuracy": accuracy,
                }
            )
            if settings.eval_every > 0 or index == rounds - 1:
                evaluator(sb3.SB3Policy(model, normalizer=normalizer), len(dataset))
                if evaluator.stopped:
                    break
    with atomic_write(run.path / MODEL_FILE, binary=True) as handle:
        model.save(handle)
    if settings.cold_start_steps > 0:  # the first round is the teacher's play
        first_round = rollouts.rewards[: samples // rounds + (samples % rounds > 0)]
        write_rewards(run.path, first_round[: settings.cold_start_steps], reseed_episodes=True)
    if norm_obs:
        sb3.save_observation_statistics(venv, run.path / NORMALIZER_FILE)
    run.finish(
        session.status,
        steps_done=len(dataset),
        train_seconds=session.seconds,
        rounds=history,
        last_evaluation=evaluator.last,
    )
    evaluator.close()
    venv.close()
    env.close()
    return run.path


def cloning_report(
    env_ids: list[str],
    timesteps: int,
    seed: int = 0,
    episodes: int = 10,
    overrides: dict | None = None,
    out: str = "runs/imitation",
    progress: bool = False,
) -> list[dict]:
    """Clone each id's default teacher and compare the two on evaluation episodes.

    Per id: train bc on training seeds, then evaluate the clone, the teacher and every
    reference policy on the same evaluation episodes; normalized scores put random at 0
    and the oracle (else the best heuristic) at 1, as the benchmark does.
    """
    rows = []
    for env_id in env_ids:
        settings = CloningSettings.from_overrides(env_id, overrides or {})
        run = train(
            TrainSettings(
                env_id=env_id,
                agent="bc",
                seed=seed,
                timesteps=timesteps,
                overrides=asdict(settings),
                eval_every=0,
                eval_episodes=episodes,
                out=out,
                progress=progress,
            )
        )
        env = make_env(env_id)
        references = policy_names(env)
        env.close()
        evaluations = evaluate_policies(env_id, references, episodes, seed, runs=[run])
        scores = {
            e.policy: float(np.mean([x.episode_return for x in e.episodes])) for e in evaluations
        }
        clone = scores.pop(evaluations[-1].policy)
        scorer = Scorer(scores)
        teacher, cloned = scorer(scores[settings.teacher]), scorer(clone)
        rows.append(
            {
                "env_id": env_id,
                "teacher": settings.teacher,
                "score": scorer.kind,
                "teacher_score": teacher,
                "bc_score": cloned,
                "ratio": cloned / teacher if teacher else float("nan"),
                "run": str(run),
            }
        )
    return rows


def cloning_table(rows: list[dict]) -> str:
    """The report as Markdown: id, teacher, the two normalized scores and their ratio."""
    return markdown_table(
        ["env", "teacher", "teacher score", "bc score", "ratio"],
        [
            [
                r["env_id"],
                r["teacher"],
                format_number(r["teacher_score"]),
                format_number(r["bc_score"]),
                f"{r['ratio']:.3f}",
            ]
            for r in rows
        ],
    )

"""``opsgym tune``: an Optuna study of one agent's hyperparameters on one environment.

Each trial draws hyperparameters from the agent's space (:mod:`opsgym.train.search_spaces`),
trains through ``opsgym train``'s own entry point on each training seed for ``budget``
steps, and is scored on validation episodes (:func:`opsgym.train.runner.validation_seeds`),
which neither training nor the evaluations that the benchmark and ``opsgym train`` report
ever use. The score is the mean return over those episodes, normalized as the benchmark
normalizes (random 0; the oracle, else the best heuristic, 1, on the same episodes),
averaged over the training seeds; where random and the ceiling tie it is the plain mean
return, and the record says which.

The sampler is TPE, seeded afresh before every trial with the seed plus the number of
trials so far, so an interrupted study that is resumed draws what an uninterrupted one
would have. The median pruner stops a trial whose periodic evaluation (reported at its
index: 1 to ``evaluations`` for the first seed, then on for the next) falls below the
median of earlier trials at the same point. The study lives in SQLite: running the same
command again resumes it, up to ``trials`` finished (complete or pruned) trials; a trial
that failed is recorded, does not count, and is made up for by the next run of the
command. A pruned trial's score is its last reported
evaluation (Optuna's convention); a complete trial's is the evaluation of the final model.

With ``confirm`` K, the K best complete trials are then retrained on ``confirm_seeds``
(training seeds no trial used) and the best mean over all their runs picks the winner:
one run per trial makes the top of a 50-trial study partly the luckiest, not the best.

After every trial the study is written to ``baselines/tuning/<Name>-v0__<agent>.json``;
``write_hyperparams`` then puts the best trial's hyperparameters into the agent's
hyperparameter file, with a status line that points at that record.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from opsgym.agents import agent_names
from opsgym.agents.atomic import write_text
from opsgym.baselines import agent_hyperparams, make_policy, policy_names, sb3
from opsgym.train.benchmark_summary import Scorer
from opsgym.train.run_folder import package_version
from opsgym.train.runner import (
    VALIDATION_SEED_OFFSET,
    is_online,
    make_env,
    run_episode,
    validation_seeds,
)
from opsgym.train.search_spaces import SearchSpace, search_space
from opsgym.train.training import TrainSettings, train
from opsgym.train.yaml_blocks import set_block

PRUNER_STARTUP_TRIALS = 5  # complete trials before any pruning
PRUNER_WARMUP = 2  # the first evaluation a trial can be pruned at (they count from 1)
MAX_TRAINING_SEED = 10_000
HEARTBEAT_SECONDS = 60  # a trial silent for 3 heartbeats was killed: marked failed


@dataclass
class TuneSettings:
    """One study: what is tuned, on what, for how long, and where it is kept."""

    env_id: str
    agent: str
    trials: int
    budget: int  # training steps per trial and training seed
    seeds: tuple[int, ...] = (0,)  # training seeds; a trial trains once per seed
    episodes: int = 5  # validation episodes per evaluation
    evaluations: int = 5  # evaluations per training run: the pruner's checkpoints
    sampler_seed: int = 0
    env_kwargs: dict = field(default_factory=dict)
    storage: str | None = None  # default: sqlite:///<out>/<study name>.db
    study_name: str | None = None  # default: <Name>-v0__<agent>
    out: str = "runs/tune"  # the SQLite file and the trials' run folders
    records: str | None = None  # default: the package's baselines/tuning
    write_hyperparams: bool = False
    hyperparams_file: str | None = None  # default: the shipped file of the agent
    progress: bool = True
    confirm: int = 0  # the best complete trials retrained on confirm_seeds (0: none)
    confirm_seeds: tuple[int, ...] = (1, 2)

    @property
    def stem(self) -> str:
        return f"{self.env_id.split('/')[-1]}__{self.agent}"

    @property
    def name(self) -> str:
        return self.study_name or self.stem

    @property
    def eval_every(self) -> int:
        return max(self.budget // self.evaluations, 1)

    def study_key(self) -> dict:
        """What must not change between the runs of one study."""
        return {
            "env_id": self.env_id,
            "agent": self.agent,
            "budget": self.budget,
            "training_seeds": list(self.seeds),
            "validation_seeds": validation_seeds(self.episodes),
            "evaluations": self.evaluations,
            "env_kwargs": self.env_kwargs,
            "sampler_seed": self.sampler_seed,
        }


def records_dir() -> Path:
    """The package's folder of tuning records (``baselines/tuning`` in a checkout)."""
    return Path(str(resources.files("opsgym.baselines") / "tuning"))


def _optuna():
    try:
        import optuna
    except ImportError as error:
        raise ValueError("opsgym tune needs Optuna: pip install 'opsgym[tune]'") from error
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _validate(settings: TuneSettings) -> SearchSpace:
    if settings.agent not in sb3.ALGORITHMS and settings.agent not in agent_names():
        raise ValueError(
            f"unknown agent {settings.agent!r}; choose from {sb3.algorithm_names() + agent_names()}"
        )
    space = search_space(settings.agent)
    for name in ("trials", "budget", "episodes", "evaluations"):
        if getattr(settings, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(settings, name)}")
    if settings.evaluations > settings.budget:
        raise ValueError(f"evaluations ({settings.evaluations}) exceed the budget")
    if not settings.seeds:
        raise ValueError("seeds: give at least one training seed")
    # Training episodes take seeds seed, seed + 1, ...: one per episode for hand-written
    # agents, one per environment for SB3; small seeds keep them below the validation seeds.
    if settings.confirm < 0:
        raise ValueError(f"confirm must be >= 0, got {settings.confirm}")
    if settings.confirm and not settings.confirm_seeds:
        raise ValueError("confirm_seeds: give at least one seed to confirm the best trials on")
    if set(settings.seeds) & set(settings.confirm_seeds) and settings.confirm:
        raise ValueError(
            f"confirm_seeds {list(settings.confirm_seeds)} must differ from the training "
            f"seeds {list(settings.seeds)}: a confirmation is a run the trial has not had"
        )
    for name in ("seeds", "confirm_seeds"):
        seeds = getattr(settings, name)
        if not all(0 <= seed < MAX_TRAINING_SEED for seed in seeds):
            raise ValueError(
                f"{name}: training seeds must be in [0, {MAX_TRAINING_SEED:,}), below the "
                f"validation seeds (from {VALIDATION_SEED_OFFSET:,}); got {list(seeds)}"
            )
    make_env(settings.env_id, settings.env_kwargs).close()
    return space


def base_block(settings: TuneSettings) -> dict:
    """The hyperparameters trials start from: the id's configured block."""
    if settings.agent in sb3.ALGORITHMS:
        return sb3.load_hyperparams(settings.agent, settings.env_id, settings.hyperparams_file)
    return agent_hyperparams.load(settings.agent, settings.env_id, settings.hyperparams_file)


def reference_scores(settings: TuneSettings) -> dict[str, float]:
    """Every reference policy's mean return on the validation episodes."""
    env = make_env(settings.env_id, settings.env_kwargs)
    seeds = validation_seeds(settings.episodes)
    scores = {}
    for name in policy_names(env):
        policy = make_policy(env, name, seed=0)
        returns = [run_episode(env, policy, s, is_online(policy)).episode_return for s in seeds]
        scores[name] = float(np.mean(returns))
    env.close()
    return scores


class EvaluationReporter:
    """Reports a training run's periodic evaluations to an Optuna trial, asks the pruner.

    Evaluation ``k`` of the ``run``-th training seed is reported at step
    ``run * evaluations + k``, so every trial reports at the same steps.
    """

    def __init__(self, trial, settings: TuneSettings, run: int, scorer: Scorer) -> None:
        self.trial = trial
        self.offset = run * settings.evaluations
        self.evaluations = settings.evaluations
        self.eval_every = settings.eval_every
        self.scorer = scorer
        self.pruned = False
        self.last: float | None = None
        self.reported: set[int] = set()

    def __call__(self, row: dict) -> bool:
        score = self.scorer(row["return"])
        self.last = score
        index = min(max(round(row["step"] / self.eval_every), 1), self.evaluations)
        step = self.offset + index
        if step in self.reported:
            # a budget that eval_every does not divide evaluates the final model a few steps
            # after the last periodic evaluation, at the same point: the final one is the score
            return True
        self.reported.add(step)
        self.trial.report(score, step)
        if self.trial.should_prune():
            self.pruned = True
        return not self.pruned


def suggest(trial, name: str, distribution) -> object:
    """Draw one parameter from its distribution."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, log=distribution.log)
    return trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)


class LastScore:
    """Keeps the latest evaluation's score: a confirmation run is never pruned."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.last: float | None = None

    def __call__(self, row: dict) -> bool:
        self.last = self.scorer(row["return"])
        return True


def train_run(settings: TuneSettings, hyperparams: dict, seed: int, out: Path, on_evaluation):
    """One training run of a trial's hyperparameters, evaluated on the validation seeds."""
    train(
        TrainSettings(
            env_id=settings.env_id,
            agent=settings.agent,
            seed=seed,
            timesteps=settings.budget,
            config_file=settings.hyperparams_file if settings.agent in sb3.ALGORITHMS else None,
            overrides=hyperparams,
            env_kwargs=settings.env_kwargs,
            eval_every=settings.eval_every,
            eval_episodes=settings.episodes,
            out=str(out),
            progress=False,
            evaluation_seeds=validation_seeds(settings.episodes),
            on_evaluation=on_evaluation,
        )
    )


def make_objective(settings: TuneSettings, space: SearchSpace, block: dict, scorer: Scorer):
    """The function Optuna calls per trial: train on each seed, return the mean score."""
    optuna = _optuna()
    runs_dir = Path(settings.out) / settings.name

    def objective(trial) -> float:
        draw = {name: suggest(trial, name, d) for name, d in space.distributions.items()}
        hyperparams = space.build(draw, block, settings.budget)
        trial.set_user_attr("hyperparams", hyperparams)
        scores = []
        for run, seed in enumerate(settings.seeds):
            reporter = EvaluationReporter(trial, settings, run, scorer)
            try:
                out = runs_dir / f"trial{trial.number:04d}"
                train_run(settings, hyperparams, seed, out, reporter)
            except Exception as error:
                trial.set_user_attr("error", f"{type(error).__name__}: {error}")
                raise
            if reporter.pruned:
                raise optuna.TrialPruned()
            if reporter.last is None or not math.isfinite(reporter.last):
                raise ValueError(f"training seed {seed} ended without a finite score")
            scores.append(reporter.last)
        return float(np.mean(scores))

    return objective


def confirm_best(study, settings: TuneSettings, scorer: Scorer) -> None:
    """Retrain the ``confirm`` best complete trials on ``confirm_seeds``.

    The best of many trials, each scored on one or two training seeds, is partly the
    luckiest (the winner's curse); the mean over more seeds ranks the finalists on what
    their hyperparameters do rather than on one run. Scores are kept in the study's user
    attribute ``confirmations`` ({trial number: {seed: score}}) after every run, so an
    interrupted confirmation resumes.
    """
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    finalists = sorted(complete, key=lambda t: t.value, reverse=True)[: settings.confirm]
    confirmations = dict(study.user_attrs.get("confirmations", {}))
    for trial in finalists:
        scores = dict(confirmations.get(str(trial.number), {}))
        for seed in settings.confirm_seeds:
            if str(seed) in scores:
                continue
            last = LastScore(scorer)
            out = Path(settings.out) / settings.name / f"trial{trial.number:04d}-confirm{seed}"
            train_run(settings, trial.user_attrs["hyperparams"], seed, out, last)
            if last.last is None or not math.isfinite(last.last):
                raise ValueError(
                    f"confirming trial {trial.number}: seed {seed} ended without a finite score"
                )
            scores[str(seed)] = last.last
            confirmations[str(trial.number)] = scores
            study.set_user_attr("confirmations", confirmations)
            if settings.progress:
                print(
                    f"[{settings.name}] trial {trial.number} on training seed {seed}: "
                    f"score {last.last:.4g}",
                    file=sys.stderr,
                    flush=True,
                )


def confirmed_scores(study, settings: TuneSettings) -> dict[int, float]:
    """Trial number -> mean score over its training seeds and every confirmation seed,
    for the trials confirmed on all of ``confirm_seeds``."""
    means = {}
    for number, scores in study.user_attrs.get("confirmations", {}).items():
        if settings.confirm and all(str(s) in scores for s in settings.confirm_seeds):
            trial = study.trials[int(number)]
            runs = [trial.value] * len(settings.seeds)
            runs += [scores[str(s)] for s in settings.confirm_seeds]
            means[int(number)] = float(np.mean(runs))
    return means


def _finished(study) -> int:
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def make_pruner():
    """The median pruner: a trial stops below the median of earlier ones at its step."""
    optuna = _optuna()
    return optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP
    )


def open_study(settings: TuneSettings):
    """Create the study, or load it and check that it was started with these settings."""
    optuna = _optuna()
    storage_url = settings.storage
    if storage_url is None:
        Path(settings.out).mkdir(parents=True, exist_ok=True)
        storage_url = f"sqlite:///{Path(settings.out) / settings.name}.db"
    with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            storage_url,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=3 * HEARTBEAT_SECONDS,
        )
    study = optuna.create_study(
        study_name=settings.name,
        storage=storage,
        direction="maximize",
        load_if_exists=True,
        pruner=make_pruner(),
    )
    key = settings.study_key()
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", key)
    elif stored != key:
        changed = sorted(name for name in key if stored.get(name) != key[name])
        raise ValueError(
            f"study {settings.name!r} in {storage_url} was started with other settings "
            f"({', '.join(f'{n}: {stored.get(n)!r}' for n in changed)}); "
            "pass the same ones to resume it, or a new --study-name"
        )
    return study, storage_url


def run_study(settings: TuneSettings) -> dict:
    """Run (or resume) the study toward ``settings.trials`` finished trials; return its record.

    The record is rewritten after every trial. Ctrl-C stops after marking the running
    trial failed; the record then holds everything finished so far.
    """
    optuna = _optuna()
    space = _validate(settings)
    block = base_block(settings)
    study, storage_url = open_study(settings)
    if "references" not in study.user_attrs:
        study.set_user_attr("references", reference_scores(settings))
    scorer = Scorer(study.user_attrs["references"])
    objective = make_objective(settings, space, block, scorer)
    context = {"space": space, "block": block, "scorer": scorer, "storage": storage_url}
    interrupted = False
    try:
        # one attempt per missing trial: a failed trial is retried by the next command,
        # not in a loop that a deterministic failure would never leave
        for _ in range(settings.trials - _finished(study)):
            study.sampler = optuna.samplers.TPESampler(
                seed=settings.sampler_seed + len(study.trials)
            )
            started = time.perf_counter()
            study.optimize(objective, n_trials=1, catch=(Exception,))
            write_record(study, settings, context)
            if settings.progress:
                _print_trial(study.trials[-1], settings, time.perf_counter() - started)
        if settings.confirm:
            confirm_best(study, settings, scorer)
    except KeyboardInterrupt:
        interrupted = True
    record = write_record(study, settings, context)
    if settings.write_hyperparams and not interrupted:
        write_best_hyperparams(record, settings)
    return record


def _print_trial(trial, settings: TuneSettings, seconds: float) -> None:
    value = "" if trial.value is None else f" score {trial.value:.4g}"
    error = f" ({trial.user_attrs['error']})" if "error" in trial.user_attrs else ""
    print(
        f"[{settings.name}] trial {trial.number}: {trial.state.name.lower()}{value}{error}, "
        f"{seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def study_record(study, settings: TuneSettings, context: dict) -> dict:
    """The study as a JSON-able record: settings, search space, every trial."""
    from optuna.distributions import distribution_to_json
    from optuna.trial import TrialState

    trials = []
    for trial in study.get_trials(deepcopy=False):
        seconds = None
        if trial.datetime_start is not None and trial.datetime_complete is not None:
            seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
        trials.append(
            {
                "number": trial.number,
                "state": {"COMPLETE": "complete", "FAIL": "failed"}.get(
                    trial.state.name, trial.state.name.lower()
                ),
                "params": trial.params,
                "hyperparams": trial.user_attrs.get("hyperparams"),
                "score": trial.value,
                "intermediate_values": {str(k): v for k, v in trial.intermediate_values.items()},
                "wall_seconds": seconds,
                **({"error": trial.user_attrs["error"]} if "error" in trial.user_attrs else {}),
            }
        )
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    confirmed = confirmed_scores(study, settings)
    if confirmed:
        best = study.trials[max(confirmed, key=confirmed.get)]
        best_score = confirmed[best.number]
    else:
        best = max(complete, key=lambda t: t.value) if complete else None
        best_score = None if best is None else best.value
    return {
        "env_id": settings.env_id,
        "agent": settings.agent,
        "budget": settings.budget,
        "training_seeds": list(settings.seeds),
        "validation_seeds": validation_seeds(settings.episodes),
        "evaluations_per_run": settings.evaluations,
        "env_kwargs": settings.env_kwargs,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "opsgym_version": package_version(),
        "optuna_version": metadata.version("optuna"),
        "study_name": settings.name,
        "storage": context["storage"],
        "sampler": {"name": "TPESampler", "seed": f"{settings.sampler_seed} + trial number"},
        "pruner": {
            "name": "MedianPruner",
            "n_startup_trials": PRUNER_STARTUP_TRIALS,
            "n_warmup_steps": PRUNER_WARMUP,
            "reported_at": "evaluation index: 1..evaluations_per_run, then on per seed",
        },
        "score": context["scorer"].describe(),
        "references": study.user_attrs.get("references", {}),
        "base_hyperparams": context["block"],
        "search_space": {
            name: json.loads(distribution_to_json(d))
            for name, d in context["space"].distributions.items()
        },
        "confirmations": {
            "seeds": list(settings.confirm_seeds) if settings.confirm else [],
            "scores": study.user_attrs.get("confirmations", {}),
            "means": {str(number): mean for number, mean in confirmed.items()},
        },
        "best": None
        if best is None
        else {"number": best.number, "score": best_score, "params": best.params}
        | {"hyperparams": best.user_attrs.get("hyperparams")}
        | {"chosen_by": "confirmed mean" if confirmed else "trial score"},
        "trials": trials,
    }


def record_path(settings: TuneSettings) -> Path:
    return Path(settings.records or records_dir()) / f"{settings.stem}.json"


def write_record(study, settings: TuneSettings, context: dict) -> dict:
    """Write the study's record (atomically: a crash leaves the previous one)."""
    record = study_record(study, settings, context)
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(record, indent=2, allow_nan=True) + "\n")
    return record


def status_line(record: dict, settings: TuneSettings) -> str:
    states = [t["state"] for t in record["trials"]]
    seeds = record["validation_seeds"]
    confirmed = record["confirmations"]["means"]
    best = (
        f"best of the {len(confirmed)} best retrained on training seeds "
        f"{record['confirmations']['seeds']} too: mean"
        if confirmed
        else "best"
    )
    return (
        f"status: tuned by opsgym tune ({states.count('complete')} complete and "
        f"{states.count('pruned')} pruned trials, {record['budget']:,} steps each on training "
        f"seeds {record['training_seeds']}, scored on validation seeds {seeds[0]}-{seeds[-1]}): "
        f"{best} {record['score']['kind']} {record['best']['score']:.3g} (trial "
        f"{record['best']['number']}); record baselines/tuning/{settings.stem}.json"
    )


def write_best_hyperparams(record: dict, settings: TuneSettings) -> Path:
    """Put the best trial's hyperparameters into the agent's hyperparameter file.

    SB3 algorithms: the id's block of ``<algo>.yml`` becomes the configured block with the
    best trial's values and ``n_timesteps`` set to the budget it was tuned at. Hand-written
    agents: the agent's block for the id in ``agents.yml``. Other blocks and comments stay.

    Raises:
        ValueError: no trial completed.
    """
    if record["best"] is None:
        raise ValueError(f"study {settings.name!r} has no complete trial to write")
    best = record["best"]["hyperparams"]
    if settings.agent in sb3.ALGORITHMS:
        path = Path(settings.hyperparams_file or sb3.hyperparams_path(settings.agent))
        block = record["base_hyperparams"] | best | {"n_timesteps": settings.budget}
        key: tuple[str, ...] = (settings.env_id,)
    else:
        path = Path(settings.hyperparams_file or agent_hyperparams.hyperparams_path())
        block, key = best, (settings.agent, settings.env_id)
    write_text(path, set_block(path.read_text(), key, block, status_line(record, settings)))
    return path

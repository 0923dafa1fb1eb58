"""``opsgym benchmark``: every policy on every environment, seed by seed, resumable.

A *trial* is one policy on one environment configuration with one seed. Reference
policies (random, heuristics, oracle) are only evaluated; learners first train for the
budget on training seeds, then are evaluated. Within one seed every policy meets the
same evaluation episodes (seeds from :func:`opsgym.train.runner.evaluation_seeds`),
which training never uses, so per-seed scores can be normalized between random and the
oracle of the same episodes.

Every finished trial is appended to ``trials.jsonl`` at once, as one line written by one
``write`` call and flushed to disk; a torn last line left by a crash is ignored on
reading, and a line that is JSON but not a trial record is skipped with a warning.
``--resume`` skips trials already recorded, and summaries are always recomputed from
the whole file, so an interrupted sweep loses nothing it finished.

A learner's trial trains into its own folder, ``runs/<trial>/``. When a sweep is
interrupted (Ctrl-C, SIGTERM) its workers are stopped at once and the run folders of the
trials they were running are marked ``"interrupted"``; if it is killed outright, its
workers exit with it and those folders stay ``"running"``. Either way the trial is not
recorded, and the next run deletes its folder before running it again.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from opsgym.agents import agent_names
from opsgym.agents.atomic import append_line
from opsgym.agents.schema import check
from opsgym.baselines import make_policy, policy_availability
from opsgym.envs.scenarios import scenarios
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.cold_start import cold_start_regret, read_rewards, reference_rewards
from opsgym.train.ray_backend import init_ray
from opsgym.train.rule_started import agent_rule_started_names
from opsgym.train.run_folder import interrupt_unfinished, read_config, read_evaluations
from opsgym.train.runner import evaluation_seeds, is_online, make_env, run_episode
from opsgym.train.training import TrainSettings, train
from opsgym.train.worker_pool import worker_pool

TRIALS_FILE = "trials.jsonl"
REFERENCE, TRAINED = "reference", "trained"
# what the resume logic and the summary read from a trial record
RECORD_SPEC = {
    "key": str,
    "status": str,
    "env_id": str,
    "scenario": str,
    "policy": str,
    "kind": str,
    "seed": int,
}
OK_RECORD_SPEC = {
    "returns": [float],
    "metrics": dict,
    "train_seconds": float,
    "train_steps": int,
    "curve": list,
}


@dataclass(frozen=True)
class BenchmarkPlan:
    """What a sweep runs: environments, policies, seeds and budgets."""

    envs: tuple[str, ...]
    policies: tuple[str, ...] | None  # None: every policy of each environment
    seeds: int
    budget: int  # training steps per learner and seed
    episodes: int  # evaluation episodes per trial
    sb3_algorithms: tuple[str, ...]
    agents: tuple[str, ...] = ()  # hand-written agents
    curve_points: int = 5  # evaluations during training, for the learning curves
    curve_episodes: int = 2  # episodes per such evaluation
    scenarios: tuple[str, ...] | None = None  # besides "default"; None: every scenario
    # the learners that also train on the scenarios, not only on "default"; None: all
    scenario_learners: tuple[str, ...] | None = None
    cold_start_steps: int = 2000  # first training steps of the cold-start regret; 0: none
    # learner name -> its training steps where they differ from ``budget``
    learner_budgets: dict[str, int] = field(default_factory=dict, hash=False)
    # env id -> what differs for it: "budget" (every learner's training steps),
    # "learner_budgets" (named learners' steps), "default_learner_budgets" (named
    # learners' steps on the default configuration only), "sb3_algorithms" (instead of
    # the plan's) and "env_kwargs" (under every scenario's own); how a preset keeps a slow
    # environment's share of it small and runs each id's own second SB3 algorithm
    overrides: dict[str, dict] = field(default_factory=dict, hash=False)

    def training_steps(self, env_id: str, learner: str, scenario: str = "default") -> int:
        """Training steps of ``learner`` on ``env_id`` under ``scenario``: the most specific
        budget given."""
        override = self.overrides.get(env_id, {})
        if scenario == "default" and learner in override.get("default_learner_budgets", {}):
            return override["default_learner_budgets"][learner]
        if learner in override.get("learner_budgets", {}):
            return override["learner_budgets"][learner]
        return override.get("budget", self.learner_budgets.get(learner, self.budget))

    def learners(self, env_id: str, scenario: str) -> list[str]:
        """The learners that train on ``env_id`` under ``scenario``, in the plan's order."""
        sb3 = self.overrides.get(env_id, {}).get("sb3_algorithms", self.sb3_algorithms)
        names = [*sb3, *self.agents]
        if scenario == "default" or self.scenario_learners is None:
            return names
        return [name for name in names if name in self.scenario_learners]


def describe_overrides(overrides: dict[str, dict]) -> str:
    """One sentence per overridden environment, for a benchmark's header ('' if none)."""
    sentences = []
    for env_id, override in overrides.items():
        parts = [f"{key}={value}" for key, value in override.get("env_kwargs", {}).items()]
        if "sb3_algorithms" in override:
            parts.append(f"SB3 learners {', '.join(override['sb3_algorithms'])}")
        if "budget" in override:
            parts.append(f"learners trained for {override['budget']:,} steps")
        for key, where in (
            ("learner_budgets", ""),
            ("default_learner_budgets", " on the default configuration"),
        ):
            names_by_steps: dict[int, list[str]] = {}
            for name, steps in override.get(key, {}).items():
                names_by_steps.setdefault(steps, []).append(name)
            parts += [
                f"{', '.join(names)} trained for {steps:,} steps{where}"
                for steps, names in names_by_steps.items()
            ]
        sentences.append(f"{env_id} runs with {'; '.join(parts)}.")
    return " ".join(sentences)


QUICK = {
    "seeds": 3,
    "budget": 20_000,
    # the budgets keep the quick start under 10 minutes on a 2-core AMD EPYC that runs
    # a trial 1.8 times slower than the Intel Xeon of earlier runs. PPO and ppo_residual were
    # 70% of its time at 100,000 and 20,000 steps; ppo_residual steps its rule in Python
    # per instance, 2.5 to 3 times PPO's cost per step, and follows the rule at these
    # budgets (docs/warm_start.md)
    "learner_budgets": {"ppo": 50_000, "ppo_residual": 10_000},
    "episodes": 3,
    # ppo_residual: the rule-started learner that never fell below the rule in
    # docs/warm_start.md's runs, and the cheapest (no rule play to clone)
    "sb3_algorithms": ("ppo", "ppo_residual"),
    # a bandit and a Q-learner; the drift-aware bandits have nothing to adapt to on the
    # default configurations, the only ones the quick run has
    "agents": ("ucb1", "q_learning"),
    "scenarios": ("default",),
    "scenario_learners": None,
    "curve_points": 2,
    "curve_episodes": 1,
    # CDN-v0 steps at about 860/s: shorter episodes and training keep it near a CPU minute;
    # the caching ids have no native vector env: a PPO trial of 20,000 steps took 24 s
    # there (10 s of it evaluation); the two ids were a third of the quick run's time
    "overrides": {
        "opsgym/CDN-v0": {"budget": 1_000, "env_kwargs": {"episode_length": 60}},
        "opsgym/Caching-v0": {"budget": 10_000},
        "opsgym/CachingPrefetch-v0": {"budget": 10_000},
    },
}
# the caching ids have no native vector env: DQN suits their stepped training, and it is
# their tuned second SB3 algorithm (A2C is elsewhere)
_STEPPED_SB3 = ("ppo", "dqn", "ppo_warm", "ppo_residual", "dqn_warm")
# stepped one env at a time, their SB3 studies trained for 50,000 steps
_STEPPED_SB3_OVERRIDE = {
    "sb3_algorithms": _STEPPED_SB3,
    "learner_budgets": dict.fromkeys(_STEPPED_SB3, 50_000),
}
_PPO_FORMS_1M = dict.fromkeys(("ppo", "ppo_warm", "ppo_residual"), 1_000_000)
FULL = {
    "seeds": 10,
    # the budget of the tuning studies (baselines/tuning/studies.sh); longer only where a
    # tuned learner's curve still rose at 200,000 steps
    "budget": 100_000,
    "learner_budgets": {},
    "episodes": 10,
    # from scratch and from the rule (train/warm_start.py)
    "sb3_algorithms": ("ppo", "a2c", "ppo_warm", "ppo_residual"),
    "agents": (*agent_names(), *agent_rule_started_names()),
    "scenarios": None,
    # every learner trains on the default configurations; on the scenarios, tuned PPO and
    # A2C and the best hand-written learner of the quick run. Not DQN: its tuned blocks
    # took 140 s a trial on Caching and 380 s on CachingPrefetch (whose block replays 4
    # minibatches per step) in the full run, 6 core-hours on their 10 scenarios, for a
    # learner that ties PPO in CachingPrefetch's study (0.409 against 0.404) and trails
    # it far in Caching's (0.083 against 0.197)
    "scenario_learners": ("ppo", "a2c", "ucb1"),
    "curve_points": 5,
    "curve_episodes": 2,
    "overrides": {
        # tuned PPO's return still rose after 200,000 steps at the default configuration
        # here (each id's long curve: docs/results/full/ppo_curves/); the rule-started
        # forms get its budget there, the scenarios keep the tuning budget
        "opsgym/ConfigTuning-v0": {"default_learner_budgets": _PPO_FORMS_1M},
        "opsgym/IndexSelection-v0": {"default_learner_budgets": _PPO_FORMS_1M},
        "opsgym/CDN-v0": {"budget": 20_000},  # about 900 steps/s
        "opsgym/Caching-v0": _STEPPED_SB3_OVERRIDE | {"default_learner_budgets": _PPO_FORMS_1M},
        "opsgym/CachingPrefetch-v0": _STEPPED_SB3_OVERRIDE,
    },
}


def preset_plan(preset: dict, envs: tuple[str, ...], **given) -> BenchmarkPlan:
    """The plan that runs ``preset`` (QUICK or FULL) on ``envs``, with the fields in
    ``given`` in place of the preset's. A given budget replaces every learner's, the
    per-id ones too; given SB3 learners replace every id's."""
    replaced = {"sb3_algorithms"} & set(given)
    if "budget" in given:
        replaced |= {"budget", "learner_budgets", "default_learner_budgets"}
    kept = {
        "learner_budgets": {} if "budget" in given else preset["learner_budgets"],
        "overrides": {
            env_id: {key: value for key, value in override.items() if key not in replaced}
            for env_id, override in preset["overrides"].items()
        },
    }
    return BenchmarkPlan(envs=envs, **({"policies": None} | preset | kept | given))


@dataclass(frozen=True)
class Trial:
    env_id: str
    policy: str
    kind: str  # REFERENCE or TRAINED
    seed: int
    budget: int
    episodes: int
    env_kwargs: dict = field(default_factory=dict, hash=False, compare=False)
    scenario: str = "default"
    curve_points: int = 5
    curve_episodes: int = 2
    cold_start_steps: int = 0

    @property
    def key(self) -> str:
        return f"{self.env_id}|{self.scenario}|{self.policy}|{self.seed}"

    def runs_dir(self, root: str | Path) -> Path:
        """The folder under ``root`` that holds this trial's run folder, and nothing else."""
        name = f"{self.env_id}__{self.scenario}__{self.policy}__seed{self.seed}"
        return Path(root) / name.replace("/", "-")


def configurations(plan: BenchmarkPlan) -> Iterator[tuple[str, str, dict, dict]]:
    """Each configuration ``plan`` runs, in order: its environment, its scenario (or
    "default"), its arguments, and every reference policy of it with None where that
    policy can run there, else the reason it refuses."""
    for env_id in plan.envs:
        base_kwargs = plan.overrides.get(env_id, {}).get("env_kwargs", {})
        configs = {"default": dict(base_kwargs)}
        for name, scenario in scenarios(env_id).items():
            if plan.scenarios is None or name in plan.scenarios:
                configs[name] = {**base_kwargs, **scenario.env_kwargs}
        if plan.scenarios is not None and "default" not in plan.scenarios:
            del configs["default"]
        for scenario, env_kwargs in configs.items():
            env = make_env(env_id, env_kwargs)
            availability = policy_availability(env)
            env.close()
            yield env_id, scenario, env_kwargs, availability


def not_installed(plan: BenchmarkPlan) -> dict[str, str]:
    """'policy (env id)' -> the ``pip install`` that adds it, for the reference policies
    that ``plan`` leaves out on this machine for want of an optional package."""
    missing = {}
    for env_id, _, _, availability in configurations(plan):
        for name, refusal in availability.items():
            if refusal is not None and "pip install" in refusal:
                missing[f"{name} ({env_id})"] = refusal.split(": ", 1)[-1]
    return missing


def plan_trials(plan: BenchmarkPlan) -> list[Trial]:
    """The trials of ``plan``, in a fixed order (environment, scenario, policy, seed).

    Raises:
        ValueError: a requested policy or scenario exists on none of the environments, or
            a requested policy refuses every configuration (the message says why: what a
            configuration hides, or the optional package to install).
    """
    trials, known_policies = [], set()
    known_scenarios = {"default"} | {name for env_id in plan.envs for name in scenarios(env_id)}
    refusals: dict[str, str] = {}
    for env_id, scenario, env_kwargs, availability in configurations(plan):
        references = [name for name, refusal in availability.items() if refusal is None]
        for name, refusal in availability.items():
            if refusal is not None:
                refusals.setdefault(name, f"{name} cannot run on {env_id}: {refusal}")
        available = references + plan.learners(env_id, scenario)
        known_policies.update(references, plan.learners(env_id, "default"))
        names = available if plan.policies is None else plan.policies
        for name in (n for n in names if n in available):
            kind = REFERENCE if name in references else TRAINED
            budget = plan.training_steps(env_id, name, scenario)
            for seed in range(plan.seeds):
                trials.append(
                    Trial(
                        env_id,
                        name,
                        kind,
                        seed,
                        budget,
                        plan.episodes,
                        env_kwargs,
                        scenario,
                        plan.curve_points,
                        plan.curve_episodes,
                        plan.cold_start_steps if kind == TRAINED else 0,
                    )
                )
    unknown = sorted(set(plan.policies or ()) - known_policies)
    refused = [refusals[name] for name in unknown if name in refusals]
    if refused:
        raise ValueError("; ".join(refused))
    if unknown:
        raise ValueError(f"unknown policies {unknown}; choose from {sorted(known_policies)}")
    unknown = sorted(set(plan.scenarios or ()) - known_scenarios)
    if unknown:
        raise ValueError(f"unknown scenarios {unknown}; choose from {sorted(known_scenarios)}")
    return trials


def run_trial(trial: Trial, runs_dir: str) -> dict:
    """Run one trial and return its record; errors are recorded, not raised.

    Raises:
        KeyboardInterrupt: training was interrupted: the trial is not recorded.
    """
    record = asdict(trial) | {"key": trial.key}
    started = time.perf_counter()
    try:
        record |= _train_and_evaluate(trial, runs_dir)
        record["status"] = "ok"
    except Exception as error:  # a failing policy is reported, the sweep goes on
        record["status"] = "error"
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc(limit=6)
    record["wall_seconds"] = time.perf_counter() - started
    return record


def _train_and_evaluate(trial: Trial, runs_dir: str) -> dict:
    import opsgym.envs  # noqa: F401  (a Ray or pool worker must register the ids itself)

    env = make_env(trial.env_id, trial.env_kwargs)
    result: dict = {"train_seconds": 0.0, "train_steps": 0, "curve": []}
    if trial.kind == REFERENCE:
        policy = make_policy(env, trial.policy, seed=trial.seed)
    else:
        started = time.perf_counter()
        run = train(
            TrainSettings(
                env_id=trial.env_id,
                agent=trial.policy,
                seed=trial.seed,
                timesteps=trial.budget,
                env_kwargs=trial.env_kwargs,
                eval_every=max(trial.budget // trial.curve_points, 1),
                eval_episodes=trial.curve_episodes,
                out=str(trial.runs_dir(runs_dir)),
                progress=False,
                cold_start_steps=trial.cold_start_steps,
            )
        )
        if read_config(run)["status"] != "finished":  # Ctrl-C when running in this process
            raise KeyboardInterrupt
        result["train_seconds"] = time.perf_counter() - started
        result["train_steps"] = trial.budget
        result["curve"] = [(row["step"], row["return"]) for row in read_evaluations(run)]
        result["run_folder"] = str(run)
        _, policy = load_trained_policy(run, env)
        if trial.cold_start_steps > 0:
            result |= _cold_start(trial, run)
    seeds = evaluation_seeds(trial.seed, trial.episodes)
    episodes = [run_episode(env, policy, s, is_online(policy)) for s in seeds]
    env.close()
    result["returns"] = [e.episode_return for e in episodes]
    result["metrics"] = {name: [e.metrics[name] for e in episodes] for name in episodes[0].metrics}
    return result


def _cold_start(trial: Trial, run) -> dict:
    """The learner's cold-start regret against the reference on its first steps."""
    rewards, reseed = read_rewards(run)
    reference, baseline = reference_rewards(
        trial.env_id, trial.env_kwargs, trial.seed, len(rewards), reseed
    )
    return {
        "cold_start_regret": cold_start_regret(rewards, baseline),
        "cold_start_steps": len(rewards),
        "cold_start_reference": reference,
    }


def read_trials(path: str | Path) -> list[dict]:
    """The records of ``trials.jsonl``.

    A torn last line (a crash mid-write) is dropped; a line that is JSON but not a trial
    record is skipped with a warning naming it.

    Raises:
        ValueError: a line before the last is not JSON (the file was edited or damaged).
    """
    file = Path(path)
    if not file.is_file():
        return []
    records = []
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number != len(lines):
                raise ValueError(f"{file}:{number}: corrupt trial record") from None
            continue
        try:
            check(record, RECORD_SPEC, f"{file}:{number}")
            if record["status"] == "ok":
                check(record, OK_RECORD_SPEC, f"{file}:{number}")
        except ValueError as error:
            warnings.warn(f"{error}; not a trial record, skipped", stacklevel=2)
            continue
        records.append(record)
    return records


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line that a crash left without its newline, so appends stay valid."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def append_trial(path: Path, record: dict) -> None:
    """Append one record as one line, in one write, flushed to disk."""
    append_line(path, json.dumps(record))


def run_benchmark(
    plan: BenchmarkPlan,
    out: str | Path,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    resume: bool = False,
    on_record: Callable[[dict, int, int], None] | None = None,
) -> list[dict]:
    """Run every trial of ``plan`` not yet in ``out/trials.jsonl``; return all records.

    Raises:
        ValueError: ``out`` already holds results and ``resume`` is false, or
            ``address`` is given without the Ray backend.
        ClusterUnreachable: no Ray cluster answers at ``address``.
        KeyboardInterrupt: the sweep was interrupted; what finished is recorded, the
            workers are stopped and the unfinished trials' run folders marked (as
            they are when a worker dies).
    """
    if address is not None and backend != "ray":
        raise ValueError("--address names a Ray cluster: it needs --backend ray")
    trials = plan_trials(plan)  # checks the names before anything is written
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trials_file = out / TRIALS_FILE
    _drop_torn_tail(trials_file)
    done = {r["key"] for r in read_trials(trials_file) if r["status"] == "ok"}
    if done and not resume:
        raise ValueError(f"{trials_file} already holds results: pass --resume or a new --out")
    pending = [t for t in trials if t.key not in done]
    runs_dir = out / "runs"
    for trial in pending:  # what an unfinished or failed attempt left
        shutil.rmtree(trial.runs_dir(runs_dir), ignore_errors=True)
    execute = _run_on_ray if backend == "ray" else _run_locally
    results = execute(pending, str(runs_dir), jobs, address)
    recorded = set()
    try:
        for finished, record in enumerate(results, start=1):
            append_trial(trials_file, record)
            recorded.add(record["key"])
            if on_record is not None:
                on_record(record, finished, len(pending))
    except BaseException:  # interrupted, or a worker died: nothing may keep running
        results.close()  # stops the workers before their run folders are marked
        for trial in pending:
            if trial.key not in recorded:
                interrupt_unfinished(trial.runs_dir(runs_dir))
        raise
    return read_trials(trials_file)


def _run_locally(trials: list[Trial], runs_dir: str, jobs: int, address) -> Iterator[dict]:
    if jobs <= 1:
        for trial in trials:
            yield run_trial(trial, runs_dir)
        return
    with worker_pool(jobs, initializer=_quiet_worker) as pool:
        futures: set[Future] = {pool.submit(run_trial, t, runs_dir) for t in trials}
        while futures:
            finished, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


def _quiet_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _run_on_ray(trials: list[Trial], runs_dir: str, jobs: int, address) -> Iterator[dict]:
    ray = init_ray(address)
    remote_trial = ray.remote(num_cpus=1)(run_trial)
    pending = [remote_trial.remote(t, runs_dir) for t in trials]
    try:
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            yield ray.get(finished[0])
    except BaseException:  # interrupted, or closed early: stop what still runs
        for reference in pending:
            ray.cancel(reference, force=True)
        raise

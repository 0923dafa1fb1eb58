"""The ``opsgym`` command line: one subcommand per job, arguments declared once."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import opsgym
from opsgym.envs import opsgym_ids
from opsgym.train.arguments import (
    Name,
    Number,
    existing_file,
    existing_folder,
    non_negative_int,
    output_file,
    output_folder,
    positive_int,
    ray_address,
)
from opsgym.train.cli_help import HelpFormatter, examples
from opsgym.train.rule_started import agent_rule_started_names

if TYPE_CHECKING:  # imported when a command runs: it pulls in SB3 and torch
    from opsgym.train.benchmark import BenchmarkPlan


def parse_value(text: str) -> object:
    """A command-line value as the Python value it spells: JSON (``0.9``, ``true``,
    ``[1, 2]``, ``null``) or a Python literal (``False``, ``None``, ``1e6``, ``(1, 2)``);
    anything else, such as ``feedback`` or a path, stays a string. So ``False`` is the
    boolean False, never the (true) string ``"False"``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_assignments(pairs: Sequence[str], flag: str) -> dict:
    """Turn ``["load=0.9", "mode=feedback"]`` into keyword arguments, each value read by
    :func:`parse_value`."""
    kwargs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {pair!r}")
        kwargs[key] = parse_value(value)
    return kwargs


def _summary_line(env_id: str) -> str:
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    doc = load_env_creator(gym.spec(env_id).entry_point).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _policy_line(env_id: str) -> str:
    """The reference policies of ``env_id``'s default configuration, each that cannot run
    with its reason (an optional package to install, say)."""
    from opsgym.baselines import policy_availability
    from opsgym.train.runner import make_env

    env = make_env(env_id)
    availability = policy_availability(env)
    env.close()
    return ", ".join(
        name if refusal is None else f"{name} (unavailable: {refusal})"
        for name, refusal in availability.items()
    )


def _not_installed_sentence(missing: dict[str, str]) -> str:
    """A sentence naming the reference policies this machine leaves out for want of an
    optional package (so a default run says what its installation decided), or ''."""
    if not missing:
        return ""
    hints = "; ".join(f"{name}: {hint}" for name, hint in missing.items())
    return f" Not run here, for want of an optional package: {hints}."


def _settings(settings_class: type, args: argparse.Namespace, **values: object):
    """A command's settings dataclass built from ``values`` and, for its other fields, the
    command-line arguments of the same names: ``env_id`` from ``--env`` and ``env_kwargs``
    from ``--env-arg``."""
    given = vars(args) | {"env_id": args.env}
    if "env_arg" in given:
        given["env_kwargs"] = parse_assignments(args.env_arg, "--env-arg")
    names = [item.name for item in dataclasses.fields(settings_class)]
    return settings_class(
        **{name: given[name] for name in names if name in given and name not in values},
        **values,
    )


def cmd_list(args: argparse.Namespace) -> None:
    from opsgym.envs.scenarios import scenarios

    ids = opsgym_ids()
    width = max(len(env_id) for env_id in ids)
    for env_id in ids:
        print(f"{env_id.ljust(width)}  {_summary_line(env_id)}")
        print(f"{'':{width}}    policies: {_policy_line(env_id)}")
        for scenario in scenarios(env_id).values():
            print(f"{'':{width}}    scenario {scenario.id}: {scenario.description}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from opsgym.train.evaluate import evaluate_policies, evaluation_table
    from opsgym.train.run_folder import read_config

    env_kwargs = parse_assignments(args.env_arg, "--env-arg")
    env_id = args.env
    if args.model:
        trained = read_config(args.model[0])
        env_id = env_id or trained["env_id"]
        if not args.env_arg:
            env_kwargs = trained.get("env_kwargs", {})
    if env_id is None:
        raise ValueError("--env is required unless --model gives a run folder")
    evaluations = evaluate_policies(
        env_id,
        args.policy,
        episodes=args.episodes,
        seed=args.seed,
        env_kwargs=env_kwargs,
        runs=args.model or (),
        stochastic=args.stochastic,
    )
    if args.json:
        payload = {
            "env": env_id,
            "env_kwargs": env_kwargs,
            "episodes": args.episodes,
            "seed": args.seed,
            "policies": {
                e.policy: {name: {"mean": m, "ci95": h} for name, (m, h) in e.summary().items()}
                for e in evaluations
            },
        }
        print(json.dumps(payload, indent=2, allow_nan=True))
        return
    config = ", ".join(f"{k}={v!r}" for k, v in env_kwargs.items()) or "default configuration"
    print(f"{env_id} ({config}): {args.episodes} episodes per policy, seed {args.seed}")
    print("mean ± half-width of the 95% confidence interval over episodes\n")
    print(evaluation_table(evaluations))


def cmd_train(args: argparse.Namespace) -> None:
    from opsgym.train.training import TrainSettings, train

    settings = _settings(
        TrainSettings,
        args,
        config_file=args.config,
        overrides=parse_assignments(args.set, "--set"),
        progress=not args.quiet,
    )
    path = train(settings)
    print(f"run folder: {path}")


def cmd_tune(args: argparse.Namespace) -> None:
    from opsgym.train.tune import TuneSettings, record_path, run_study

    settings = _settings(
        TuneSettings,
        args,
        seeds=tuple(args.training_seeds),
        confirm_seeds=tuple(args.confirm_seeds),
    )
    record = run_study(settings)
    states = [t["state"] for t in record["trials"]]
    summary = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
    print(f"{settings.name}: {len(states)} trials ({summary}); record {record_path(settings)}")
    if record["best"] is not None:
        best = record["best"]
        print(f"best: trial {best['number']}, {record['score']['kind']} {best['score']:.4g}")
        print(json.dumps(best["hyperparams"], indent=2))


def cmd_imitate(args: argparse.Namespace) -> None:
    from opsgym.train.imitation import cloning_report, cloning_table

    rows = cloning_report(
        args.envs or opsgym_ids(),
        args.timesteps,
        seed=args.seed,
        episodes=args.episodes,
        overrides=parse_assignments(args.set, "--set"),
        out=args.out,
        progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=True))
        return
    print(
        f"behaviour cloning of each id's teacher: {args.timesteps:,} labelled states, "
        f"training seed {args.seed}; normalized scores (random 0, oracle or best heuristic "
        f"1) over {args.episodes} evaluation episodes\n"
    )
    print(cloning_table(rows))


def _budget_exceptions(learner_budgets: dict[str, int]) -> str:
    """', ppo 100,000' for the learners whose budget differs from the plan's."""
    return "".join(f", {name} {steps:,}" for name, steps in learner_budgets.items())


def _given(args: argparse.Namespace) -> dict:
    """The fields of the benchmark's plan that the command line sets, in place of the
    preset's."""
    given = {
        "seeds": args.seeds,
        "budget": args.budget,
        "episodes": args.episodes,
        "policies": tuple(args.policies) if args.policies else None,
        "scenarios": tuple(args.scenarios) if args.scenarios else None,
        "sb3_algorithms": None if args.sb3 is None else tuple(args.sb3),
        "agents": None if args.agents is None else tuple(args.agents),
    }
    given = {key: value for key, value in given.items() if value is not None}
    if args.scenario_learners is not None:  # 'all': every learner
        names = args.scenario_learners
        given["scenario_learners"] = None if names == ["all"] else tuple(names)
    return given | {"cold_start_steps": args.cold_start_steps}


def _scenario_sentence(plan: BenchmarkPlan) -> str:
    """' On the scenarios only ppo and ucb1 train.' where the plan says so, else ''."""
    if plan.scenario_learners is None or plan.scenarios == ("default",):
        return ""
    return f" On the scenarios only {', '.join(plan.scenario_learners)} train."


def cmd_benchmark(args: argparse.Namespace) -> int:
    import time

    from opsgym.train.benchmark import (
        FULL,
        QUICK,
        TRIALS_FILE,
        describe_overrides,
        not_installed,
        preset_plan,
        read_trials,
        run_benchmark,
    )
    from opsgym.train.benchmark_figures import FIGURES
    from opsgym.train.benchmark_summary import write_summary

    preset = QUICK if args.quick else FULL
    plan = preset_plan(preset, tuple(args.envs or opsgym_ids()), **_given(args))
    jobs = args.jobs or os.cpu_count() or 1
    header = (
        f"# opsgym benchmark{' (quick)' if args.quick else ''}\n\n"
        f"{plan.seeds} seeds, {plan.episodes} evaluation episodes per seed, learners trained "
        f"for {plan.budget:,} steps per seed{_budget_exceptions(plan.learner_budgets)} "
        f"(SB3: {', '.join(plan.sb3_algorithms) or 'none'}; "
        f"hand-written: {', '.join(plan.agents) or 'none'}).{_scenario_sentence(plan)} "
        "Normalized score: random 0, oracle (or the best heuristic) 1, per seed; "
        "mean and IQM over seeds with 95% bootstrap intervals. Learners are evaluated on "
        "evaluation seeds they never trained on: SB3 models and tabular agents frozen "
        "(greedy), bandits still learning, as online learners do in production."
        f"{' ' + describe_overrides(plan.overrides) if plan.overrides else ''}"
        f"{_not_installed_sentence(not_installed(plan))}\n\n"
    )
    started = time.perf_counter()
    statuses: list[str] = []  # of the trials this run ran

    def report(record: dict, finished: int, total: int) -> None:
        statuses.append(record["status"])
        status = "ok" if record["status"] == "ok" else f"FAILED ({record['error']})"
        print(
            f"[{finished}/{total}] {record['key']} {record['wall_seconds']:.1f}s {status}",
            file=sys.stderr,
            flush=True,
        )

    try:
        records = run_benchmark(
            plan,
            args.out,
            jobs=jobs,
            backend=args.backend,
            address=args.address,
            resume=args.resume,
            on_record=report,
        )
    except KeyboardInterrupt:
        records = read_trials(os.path.join(args.out, TRIALS_FILE))
        if records:
            write_summary(records, args.out, header)
        print(
            f"opsgym benchmark: interrupted after {len(statuses)} trial(s); "
            f"{len(records)} recorded in {args.out}/{TRIALS_FILE}: rerun with --resume",
            file=sys.stderr,
        )
        raise
    elapsed = time.perf_counter() - started
    text = write_summary(records, args.out, header)
    print(text)
    figures = ", ".join(name for name in FIGURES if (Path(args.out) / name).is_file())
    print(
        f"\n{len(records)} trials in {args.out}/{TRIALS_FILE}; this run took {elapsed:.0f} s "
        f"on {jobs} worker(s). Summary: {args.out}/summary.md, summary.csv; figures: "
        f"{figures or 'none (matplotlib is not installed: pip install opsgym[plot])'}"
    )
    if statuses and "ok" not in statuses:
        print(f"opsgym benchmark: error: all {len(statuses)} trials failed", file=sys.stderr)
        return 1
    return 0


def cmd_federated(args: argparse.Namespace) -> None:
    from opsgym.train.federated import FederatedSettings, federated_table, run_federated

    settings = _settings(FederatedSettings, args, overrides=parse_assignments(args.set, "--set"))
    result = run_federated(settings)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(federated_table(result))
    if "privacy" in result:
        p = result["privacy"]
        print(
            f"\nDP-FedAvg: clip {p['clip']}, noise multiplier {p['noise_multiplier']}: "
            f"({p['epsilon']:.3g}, {p['delta']:g})-DP per node over {settings.rounds} rounds "
            "(Renyi accountant, no amplification by sampling claimed)"
        )


def cmd_plot(args: argparse.Namespace) -> None:
    from opsgym.train.plot import plot_learning_curves

    print(f"wrote {plot_learning_curves(args.runs, args.out, args.metric)}")


def cmd_hyperparams(args: argparse.Namespace) -> None:
    from opsgym.baselines import sb3

    print(sb3.shipped_hyperparams()[args.name])


def cmd_throughput(args: argparse.Namespace) -> None:
    from opsgym.train.table import markdown_table

    if args.oracles:
        from opsgym.train.oracle_timing import time_oracles

        results = time_oracles(args.oracle_requests, args.oracle_steps, args.rounds)
        print(f"oracle wall-clock time, median of {args.rounds} rounds\n")
        rows = [[r["oracle"], r["problem"], f"{r['seconds']:.3f}", r["rate"]] for r in results]
        print(markdown_table(["oracle", "problem", "seconds", "rate"], rows))
        return
    from opsgym.train.throughput import (
        BASELINE_ENVS,
        REFERENCE_ID,
        compare,
        compare_vector,
        has_vector_env,
        ppo_environment_fraction,
        ppo_training_speed,
    )

    env_kwargs = parse_assignments(args.env_arg, "--env-arg")
    ids = opsgym_ids() if args.env == "all" else [args.env]
    if args.training:
        rows = []
        for env_id in ids:
            result = ppo_training_speed(
                env_id, args.training_rollouts, args.rounds, env_kwargs, clock=args.clock
            )
            rows.append(
                [
                    env_id,
                    result["backend"],
                    str(result["n_envs"]),
                    f"{result['rollout']:,}",
                    f"{result['steps_per_second']:,.0f}",
                    f"{result['baseline_steps_per_second']:,.0f}",
                    f"{result['ratio']:.1f}x",
                    f"{result['collection_ratio']:.1f}x",
                    f"{100 * result['update_share']:.0f}%",
                ]
            )
        print(
            f"SB3 PPO training steps per second with each id's block (baselines/hyperparams/"
            f"ppo.yml), as opsgym train runs it, against make_vec_env(n_envs={BASELINE_ENVS}) "
            f"with the same rollout size, minibatches and epochs: median of {args.rounds} rounds "
            f"of {args.training_rollouts} rollouts and updates each, {args.clock} clock. "
            "Collection ratio: the same ratio for collecting the rollouts alone; updates: "
            "their share of the configured training's time\n"
        )
        headers = ["env", "backend", "n_envs", "rollout", "steps/s", "make_vec_env steps/s"]
        print(markdown_table([*headers, "ratio", "collection ratio", "updates"], rows))
        return
    rows = []
    for env_id in ids:
        result = compare(env_id, args.steps, args.rounds, env_kwargs, args.clock)
        rows.append(
            [
                env_id,
                f"{result['env_steps_per_second']:,.0f}",
                f"{result['reference_steps_per_second']:,.0f}",
                f"{result['step_ratio']:.2f}x",
                f"{result['env_resets_per_second']:,.0f}",
                f"{result['reference_resets_per_second']:,.0f}",
                f"{result['reset_ratio']:.2f}x",
            ]
        )
    print(
        f"steps and resets per second ({args.clock} clock) through gymnasium.make, median of "
        f"{args.rounds} rounds interleaved with {REFERENCE_ID} in this process\n"
    )
    headers = [
        "env",
        "steps/s",
        f"{REFERENCE_ID} steps/s",
        "step ratio",
        "resets/s",
        f"{REFERENCE_ID} resets/s",
        "reset ratio",
    ]
    print(markdown_table(headers, rows))

    vector_ids = [env_id for env_id in ids if has_vector_env(env_id)]
    if vector_ids:
        rows = []
        for env_id in vector_ids:
            for num_envs in args.num_envs:
                result = compare_vector(
                    env_id, num_envs, args.vector_steps, args.rounds, env_kwargs, args.clock
                )
                rows.append(
                    [
                        env_id,
                        str(num_envs),
                        f"{result['native_steps_per_second']:,.0f}",
                        f"{result['sync_steps_per_second']:,.0f}",
                        f"{result['ratio']:.1f}x",
                    ]
                )
        print(
            f"\nnative vector env against SyncVectorEnv ({args.clock} clock), median of "
            f"{args.rounds} rounds\n"
        )
        headers = ["env", "num_envs", "native steps/s", "SyncVectorEnv steps/s", "ratio"]
        print(markdown_table(headers, rows))

    if args.ppo_timesteps:
        rows = []
        for env_id in ids:
            result = ppo_environment_fraction(env_id, args.ppo_timesteps, env_kwargs)
            rows.append(
                [
                    env_id,
                    f"{result['total_seconds']:.2f}",
                    f"{result['env_seconds']:.2f}",
                    f"{100 * result['fraction']:.1f}%",
                ]
            )
        print(
            f"\nSB3 PPO ({args.ppo_timesteps} steps, baselines/hyperparams/ppo.yml): "
            "time in the environment\n"
        )
        print(markdown_table(["env", "learn s", "env s", "env share"], rows))


def cmd_record(args: argparse.Namespace) -> None:
    from opsgym.train.record import record_episode

    frames, result = record_episode(
        args.env,
        args.policy,
        args.out,
        seed=args.seed,
        steps=args.steps,
        env_kwargs=parse_assignments(args.env_arg, "--env-arg"),
        fps=args.fps,
    )
    print(
        f"wrote {args.out}: {frames} frames, {result.length} steps of {args.policy} on "
        f"{args.env}, return {result.episode_return:.3f}"
    )


def _add_record_command(commands) -> None:
    record = commands.add_parser(
        "record", help="one episode of a reference policy as a video (MP4, GIF) or a picture"
    )
    record.add_argument("--env", type=ENV_ID, required=True, help="environment id")
    record.add_argument(
        "--policy", required=True, help="reference policy name, as 'opsgym evaluate' takes"
    )
    record.add_argument(
        "--out",
        type=output_file,
        required=True,
        help="episode.mp4 (needs opsgym[video]), episode.gif, or frame.png (the last frame)",
    )
    _option(
        record, "--seed", non_negative_int, 0, "the seed of 'opsgym evaluate': its first episode"
    )
    _option(record, "--steps", positive_int, None, "stop after this many steps (default: the end)")
    _option(record, "--fps", positive_int, None, "video frames per second (default: the env's)")
    _add_env_arg(record)
    record.set_defaults(run=cmd_record)


def cmd_docs(args: argparse.Namespace) -> int:
    from opsgym.train.docs import build_docs

    return build_docs(args.config_file, args.site_dir, serve=args.serve, check=args.check)


def _add_docs_command(commands) -> None:
    docs = commands.add_parser(
        "docs", help="build the documentation site strictly (warnings are errors), from a clone"
    )
    _option(
        docs,
        "--config-file",
        existing_file,
        "mkdocs.yml",
        "the site's MkDocs configuration, in the clone's top folder",
    )
    _option(docs, "--site-dir", output_folder, "site", "where to build")
    mode = docs.add_mutually_exclusive_group()
    mode.add_argument(
        "--serve",
        action="store_true",
        help="serve it locally (at the address it prints), rebuilt on every edit",
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="then load every page in headless Chromium (docs/check_site.py)",
    )
    docs.set_defaults(run=cmd_docs)


def _option(parser: argparse.ArgumentParser, flag: str, kind, default, help: str, **more) -> None:
    """Add the option ``flag``: its type (a checker of :mod:`opsgym.train.arguments`),
    its default and its help, then what else argparse takes (``nargs``, ``metavar``)."""
    parser.add_argument(flag, type=kind, default=default, help=help, **more)


def _add_set_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{what}, value as JSON (repeatable)",
    )


def _add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_env_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment argument; the value as JSON or a Python literal (false, False, "
        "1e6, [1, 2]), else a string (repeatable)",
    )


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line naming the command and the option, and whose
    help shows the defaults (subcommands are made of the same class)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _agent_names() -> list[str]:
    from opsgym.agents import agent_names

    return agent_names()


def _sb3_names() -> list[str]:
    from opsgym.baselines import sb3

    return sb3.algorithm_names()


def _hyperparams_names() -> list[str]:
    from opsgym.baselines import sb3

    return list(sb3.shipped_hyperparams())


def _sb3_learner_names() -> list[str]:
    """SB3 algorithms and the same started from the rule (ppo_warm, ppo_residual, ...)."""
    from opsgym.train.rule_started import sb3_rule_started_names

    return _sb3_names() + sb3_rule_started_names()


def _agent_learner_names() -> list[str]:
    """Hand-written agents and those started from the rule (ucb1_warm, q_learning_warm...)."""
    return _agent_names() + agent_rule_started_names()


ENV_ID = Name(opsgym_ids, "environment")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="opsgym",
        description="Gymnasium environments for infrastructure control: list, evaluate, measure.",
        epilog=examples("opsgym"),
    )
    parser.add_argument("--version", action="version", version=f"opsgym {opsgym.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser(
        "list",
        help="every environment id, its reference policies and its scenarios' ids",
    )
    listing.set_defaults(run=cmd_list)

    evaluate = commands.add_parser(
        "evaluate", help="run policies on evaluation seeds and tabulate the domain metrics"
    )
    _option(evaluate, "--env", ENV_ID, None, "environment id, e.g. opsgym/LoadBalancing-v0")
    evaluate.add_argument(
        "--policy",
        nargs="+",
        default=None,
        metavar="NAME",
        help="heuristic or oracle names (default: every reference policy of the env)",
    )
    _option(
        evaluate,
        "--model",
        existing_folder,
        None,
        "run folders written by 'opsgym train' (SB3 models or hand-written agents)",
        nargs="+",
        metavar="RUN",
    )
    _option(evaluate, "--episodes", positive_int, 10, "episodes per policy")
    _option(evaluate, "--seed", non_negative_int, 0, "base seed of the evaluation")
    evaluate.add_argument(
        "--stochastic",
        action="store_true",
        help="the --model SB3 models (PPO, A2C) sample their actions from their action "
        "distributions instead of taking the most likely one",
    )
    _add_env_arg(evaluate)
    _add_json_flag(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)

    training = commands.add_parser(
        "train", help="train an SB3 algorithm or a hand-written agent into a run folder"
    )
    training.add_argument("--env", type=ENV_ID, required=True, help="environment id")
    training.add_argument(
        "--agent",
        required=True,
        help="ppo, a2c, dqn, ..., bc, or a hand-written agent's name; started from the "
        "rule: <algo>_warm, <algo>_residual (ppo_warm, ...) and "
        + ", ".join(agent_rule_started_names()),
    )
    _option(training, "--timesteps", positive_int, None, "environment steps (default: from config)")
    _option(training, "--seed", non_negative_int, 0, "training seed")
    _option(
        training, "--n-envs", positive_int, None, "parallel environments (default: from config)"
    )
    _option(
        training,
        "--config",
        existing_file,
        None,
        "rl-zoo3-format YAML instead of ours",
        metavar="FILE",
    )
    _add_set_arg(training, "override a hyperparameter")
    _add_env_arg(training)
    _option(
        training,
        "--eval-every",
        non_negative_int,
        10_000,
        "steps between evaluations (0: only at the end)",
    )
    _option(training, "--eval-episodes", positive_int, 5, "episodes per evaluation")
    _option(training, "--out", output_folder, "runs", "folder that holds the run folders")
    training.add_argument(
        "--tensorboard",
        action="store_true",
        help="also log every evaluation (and SB3's training statistics) to TensorBoard, "
        "in the run folder (needs opsgym[tensorboard])",
    )
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    training.add_argument(
        "--vec-env",
        choices=["auto", "native", "make_vec_env"],
        default="auto",
        help="SB3's environments: the id's native vector env, SB3's make_vec_env, or the "
        "native one where the id and its arguments have one (auto)",
    )
    training.set_defaults(run=cmd_train)

    tune = commands.add_parser(
        "tune", help="an Optuna study of an agent's hyperparameters (needs opsgym[tune])"
    )
    tune.add_argument("--env", type=ENV_ID, required=True, help="environment id")
    tune.add_argument(
        "--agent",
        type=Name(lambda: _sb3_names() + _agent_names(), "agent"),
        required=True,
        help="ppo, a2c, dqn or a hand-written agent's name",
    )
    tune.add_argument("--trials", type=positive_int, required=True, help="finished trials to reach")
    tune.add_argument("--budget", type=positive_int, required=True, help="training steps per trial")
    _option(
        tune,
        "--seeds",
        Number(int, 0, 9_999),
        [0],
        "training seeds (one run each per trial)",
        nargs="+",
        dest="training_seeds",
        metavar="SEED",
    )
    _option(
        tune,
        "--confirm",
        non_negative_int,
        0,
        "retrain the K best complete trials on --confirm-seeds; the best mean wins",
        metavar="K",
    )
    _option(
        tune,
        "--confirm-seeds",
        Number(int, 0, 9_999),
        [1, 2],
        "training seeds of the confirmation runs (not among --seeds)",
        nargs="+",
        metavar="SEED",
    )
    _option(tune, "--episodes", positive_int, 5, "validation episodes per evaluation")
    _option(tune, "--evaluations", positive_int, 5, "evaluations per run (pruning points)")
    _option(tune, "--sampler-seed", non_negative_int, 0, "seed of the TPE sampler")
    _add_env_arg(tune)
    tune.add_argument(
        "--storage", default=None, help="Optuna storage URL (default: sqlite in --out)"
    )
    tune.add_argument("--study-name", default=None, help="study name (default: <Name>-v0__<agent>)")
    _option(
        tune, "--out", output_folder, "runs/tune", "folder of the SQLite study and the trials' runs"
    )
    _option(
        tune,
        "--records",
        output_folder,
        None,
        "folder of the JSON record (default: baselines/tuning)",
    )
    tune.add_argument(
        "--write-hyperparams",
        action="store_true",
        help="write the best trial's block into baselines/hyperparams",
    )
    tune.set_defaults(run=cmd_tune)

    imitate = commands.add_parser(
        "imitate", help="behaviour cloning of each id's best heuristic, against the heuristic"
    )
    _option(imitate, "--envs", ENV_ID, None, "ids (default: all)", nargs="+")
    _option(imitate, "--timesteps", positive_int, 50_000, "labelled states per clone")
    _option(imitate, "--seed", non_negative_int, 0, "training and evaluation seed")
    _option(imitate, "--episodes", positive_int, 10, "evaluation episodes")
    _add_set_arg(imitate, "bc setting (teacher, dagger_rounds, epochs, ...)")
    _option(imitate, "--out", output_folder, "runs/imitation", "folder of the run folders")
    _add_json_flag(imitate)
    imitate.add_argument("--quiet", action="store_true", help="no progress bar")
    imitate.set_defaults(run=cmd_imitate)

    benchmark = commands.add_parser(
        "benchmark", help="every policy on every environment, with intervals over seeds"
    )
    _option(benchmark, "--envs", ENV_ID, None, "ids (default: all)", nargs="+")
    benchmark.add_argument(
        "--policies", nargs="+", default=None, help="policy names (default: all)"
    )
    benchmark.add_argument(
        "--scenarios",
        nargs="+",
        default=None,
        help="configurations to run: 'default' and scenario names "
        "(default: all; with --quick only 'default')",
    )
    _option(benchmark, "--seeds", positive_int, None, "seeds per policy")
    _option(benchmark, "--budget", positive_int, None, "training steps per learner")
    _option(benchmark, "--episodes", positive_int, None, "evaluation episodes per seed")
    _option(
        benchmark,
        "--sb3",
        Name(_sb3_learner_names, "SB3 learner"),
        None,
        "SB3 learners to include, from scratch (ppo) or from the rule (ppo_warm, "
        "ppo_residual) (default: the preset's; none with no names)",
        nargs="*",
        metavar="ALGO",
    )
    _option(
        benchmark,
        "--agents",
        Name(_agent_learner_names, "hand-written agent"),
        None,
        "hand-written agents to include, from scratch (ucb1) or from the rule "
        "(ucb1_warm, q_learning_warm) (default: the preset's; none with no names)",
        nargs="*",
        metavar="NAME",
    )
    _option(
        benchmark,
        "--scenario-learners",
        Name(lambda: ["all", *_sb3_learner_names(), *_agent_learner_names()], "learner"),
        None,
        "the learners that also train on the scenarios, not only on the default "
        "configuration ('all': every learner) (default: the preset's)",
        nargs="+",
        metavar="NAME",
    )
    benchmark.add_argument(
        "--quick",
        action="store_true",
        help="small budgets and few seeds: minutes on a laptop (stated in the output)",
    )
    _option(benchmark, "--jobs", positive_int, None, "parallel trials (default: cores)")
    _option(
        benchmark,
        "--cold-start-steps",
        non_negative_int,
        2000,
        "first training steps over which each learner's regret against the oracle "
        "(or the best heuristic) is reported; 0 skips it",
    )
    benchmark.add_argument("--backend", choices=["local", "ray"], default="local")
    _option(
        benchmark,
        "--address",
        ray_address,
        None,
        "host:port of a running Ray cluster (with --backend ray); without it, Ray "
        "runs a private local instance and ignores RAY_ADDRESS and past `ray start`s",
    )
    _option(benchmark, "--out", output_folder, "results/benchmark", "results folder")
    benchmark.add_argument(
        "--resume", action="store_true", help="skip the trials already in the results folder"
    )
    benchmark.set_defaults(run=cmd_benchmark)

    federated = commands.add_parser(
        "federated", help="isolated vs federated vs centralized learning across nodes"
    )
    federated.add_argument("--env", type=ENV_ID, required=True, help="environment id")
    federated.add_argument(
        "--agent", required=True, help="hand-written agent name, or ppo, a2c, dqn"
    )
    _option(federated, "--nodes", positive_int, 4, "nodes (own workload each)")
    _option(federated, "--rounds", positive_int, 10, "federated rounds")
    _option(federated, "--steps-per-round", positive_int, 2000, "steps each node learns per round")
    _option(
        federated,
        "--participation",
        Number(float, 0.0, 1.0, low_open=True),
        1.0,
        "fraction of nodes per round",
    )
    _option(federated, "--dp-clip", Number(float, low=0.0, low_open=True), None, "DP: L2 clip C")
    _option(federated, "--dp-noise", Number(float, low=0.0), None, "DP: noise multiplier z")
    _option(
        federated,
        "--dp-delta",
        Number(float, 0.0, 1.0, low_open=True, high_open=True),
        1e-5,
        "DP: delta",
    )
    federated.add_argument(
        "--backend",
        choices=["auto", "local", "ray"],
        default="auto",
        help="where nodes run; auto is ray when Ray is installed (printed), else local",
    )
    _option(
        federated,
        "--address",
        ray_address,
        None,
        "host:port of a running Ray cluster; without it, a private local instance",
    )
    _option(federated, "--seed", non_negative_int, 0, "base seed")
    _option(federated, "--eval-episodes", positive_int, 5, "evaluation episodes per node")
    _add_set_arg(federated, "override an agent hyperparameter")
    _add_env_arg(federated)
    _add_json_flag(federated)
    federated.set_defaults(run=cmd_federated)

    plot = commands.add_parser("plot", help="learning curves of run folders, as PNG")
    plot.add_argument("runs", nargs="+", type=existing_folder, metavar="RUN", help="run folders")
    _option(plot, "--out", output_file, "learning_curves.png", "PNG file to write")
    plot.add_argument(
        "--metric", nargs="+", default=None, help="metrics to plot (default: return and one)"
    )
    plot.set_defaults(run=cmd_plot)

    hyperparams = commands.add_parser(
        "hyperparams",
        help="print the path of a shipped hyperparameter file (rl-zoo3's --conf-file)",
    )
    hyperparams.add_argument(
        "name",
        type=Name(_hyperparams_names, "hyperparameter file"),
        help="ppo, a2c, dqn, maskable_ppo (SB3 algorithms) or agents (hand-written agents)",
    )
    hyperparams.set_defaults(run=cmd_hyperparams)

    throughput = commands.add_parser(
        "throughput", help="env steps per second, as a ratio to CartPole-v1"
    )
    _option(
        throughput,
        "--env",
        Name(lambda: ["all", *opsgym_ids()], "environment"),
        "all",
        "environment id, or 'all'",
    )
    _option(throughput, "--steps", positive_int, 20_000, "steps per round")
    _option(throughput, "--rounds", positive_int, 3, "interleaved rounds")
    _option(
        throughput,
        "--num-envs",
        positive_int,
        [64, 1024],
        "instances for the native vector env against SyncVectorEnv (ids that have one)",
        nargs="+",
    )
    _option(
        throughput,
        "--vector-steps",
        positive_int,
        100_000,
        "instance steps per round of the native vector env (SyncVectorEnv: a tenth)",
    )
    _option(
        throughput,
        "--ppo-timesteps",
        non_negative_int,
        8192,
        "SB3 PPO steps to profile for the environment's share of training; 0 skips",
    )
    throughput.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="rates in elapsed time, or in this process's CPU time (steadier on a shared machine)",
    )
    throughput.add_argument(
        "--training",
        action="store_true",
        help="PPO training steps per second with each id's block instead, as a ratio to "
        "make_vec_env with 4 envs",
    )
    _option(
        throughput,
        "--training-rollouts",
        positive_int,
        2,
        "timed PPO rollouts and updates per measurement (after one of warm-up)",
    )
    throughput.add_argument(
        "--oracles",
        action="store_true",
        help="time the oracles (Belady, the autoscaling plan, the routing LP) instead",
    )
    _option(throughput, "--oracle-requests", positive_int, 1_000_000, "requests of Belady's trace")
    _option(throughput, "--oracle-steps", positive_int, 10_080, "steps of the autoscaling plan")
    _add_env_arg(throughput)
    throughput.set_defaults(run=cmd_throughput)
    _add_record_command(commands)
    _add_docs_command(commands)
    for name, command in commands.choices.items():
        command.epilog = examples(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # a bad argument (2), or --help (0)
        return int(exit_.code or 0)
    terminated = []

    def stop(signum, frame):  # SIGTERM stops a command the way Ctrl-C does
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second one kills at once
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        print(f"opsgym {args.command}: interrupted", file=sys.stderr)
        return 128 + (terminated[0] if terminated else signal.SIGINT)
    except (ValueError, TypeError) as error:
        print(f"opsgym {args.command}: error: {error}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

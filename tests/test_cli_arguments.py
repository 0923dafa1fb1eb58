"""Every option of every ``opsgym`` subcommand refuses a bad value before any work starts:
exit code 2, one line naming the option, no traceback.

The sweep reads the parser itself: each option's type says what is valid, and so which
values are not. A new subcommand or option is swept without being listed here; an
option that accepts any string must be given a checked type or be listed below with the
reason the command checks it.
"""

from __future__ import annotations

import argparse

import pytest
from cli_runner import run_cli

from opsgym.train import arguments
from opsgym.train.cli import build_parser, main

# Options whose values the command checks once it knows more (the environment's
# policies and scenarios, the recorded metrics), still before any work starts.
CHECKED_BY_THE_COMMAND = {
    ("evaluate", "--policy"): "reference policies depend on the environment",
    ("record", "--policy"): "reference policies depend on the environment",
    ("train", "--agent"): "train() tells a reference policy from an unknown name",
    ("benchmark", "--policies"): "checked against the environments' policies",
    ("benchmark", "--scenarios"): "checked against the environments' scenarios",
    ("federated", "--agent"): "hand-written agent or SB3 algorithm, checked by the run",
    ("tune", "--storage"): "an Optuna storage URL, checked by Optuna before any trial",
    ("tune", "--study-name"): "any name; a different study's settings are refused by the run",
    ("plot", "--metric"): "checked against the metrics the runs recorded",
}
KEY_VALUE = "KEY=VALUE"  # --env-arg and --set: read as JSON by the command

PATH_VALUES = {  # type -> (a valid value, bad values); <...> are made in tmp_path
    arguments.existing_folder: ("<folder>", ["<missing>", "<file>"]),
    arguments.existing_file: ("<file>", ["<missing>", "<folder>"]),
    arguments.output_folder: ("<new>", ["<file>", "<under-file>"]),
    arguments.output_file: ("<new>", ["<folder>", "<under-file>"]),
}
OTHER_VALUES = {  # type -> (a valid value, bad values)
    arguments.ray_address: ("127.0.0.1:6379", ["auto", "head", "head:port", "head:0"]),
}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def options(command: argparse.ArgumentParser) -> list[argparse.Action]:
    """The actions that take a value (not --help, not flags)."""
    return [
        a
        for a in command._actions
        if a.nargs != 0 and not isinstance(a, argparse._HelpAction) and a.dest != "run"
    ]


def label(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.metavar or action.dest


def number_values(number: arguments.Number) -> tuple[str, list[str]]:
    """A valid value of a :class:`Number`, and values just outside what it accepts."""
    bad = ["abc", "1.5"] if number.kind is int else ["abc", "nan", "inf"]
    if number.low is not None:
        bad += sorted({str(number.kind(number.low - 1)), "-1"})  # just below, and negative
        if number.low_open:
            bad.append(str(number.low))
    if number.high is not None:
        bad.append(str(number.kind(number.high + 1)))
        if number.high_open:
            bad.append(str(number.high))
    low = -1 if number.low is None else number.low
    high = low + 2 if number.high is None else number.high
    valid = number.kind(low + 1) if number.kind is int else (low + high) / 2
    return str(valid), bad


def values(command: str, action: argparse.Action) -> tuple[str, list[str]] | None:
    """A valid value of ``action`` and its bad values; None where the command checks it."""
    if (command, label(action)) in CHECKED_BY_THE_COMMAND or action.metavar == KEY_VALUE:
        return None
    kind = action.type
    if isinstance(kind, arguments.Number):
        return number_values(kind)
    if isinstance(kind, arguments.Name):
        return next(iter(kind.names())), ["no-such-name"]
    if kind in PATH_VALUES:
        return PATH_VALUES[kind]
    if kind in OTHER_VALUES:
        return OTHER_VALUES[kind]
    if kind is None and action.choices is not None:
        return next(iter(action.choices)), ["no-such-choice"]
    raise AssertionError(
        f"opsgym {command} {label(action)}: type {kind!r} is not checked by this sweep; "
        "use a type from opsgym.train.arguments or list the option in CHECKED_BY_THE_COMMAND"
    )


def required_arguments(command: str, parser: argparse.ArgumentParser, skip: argparse.Action):
    argv = []
    for action in options(parser):
        if action is skip or not (action.required or not action.option_strings):
            continue
        found = values(command, action)
        valid = "ucb1" if found is None else found[0]
        argv += [*action.option_strings[-1:], valid]
    return argv


def sweep() -> list[tuple[str, str, str]]:
    cases = []
    for command, parser in subcommands().items():
        for action in options(parser):
            found = values(command, action)
            for bad in [] if found is None else found[1]:
                cases.append((command, label(action), bad))
    return cases


CASES = sweep()


def resolve(token: str, tmp_path) -> str:
    """Make the path a placeholder stands for."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir(exist_ok=True)
    paths = {
        "<folder>": tmp_path / "a_folder",
        "<file>": tmp_path / "a_file",
        "<missing>": tmp_path / "missing",
        "<new>": tmp_path / "new" / "thing",
        "<under-file>": tmp_path / "a_file" / "inside",
    }
    return str(paths.get(token, token))


def test_the_sweep_covers_every_subcommand():
    swept = {command for command, _, _ in CASES}
    assert swept == set(subcommands()) - {"list"}  # list takes no arguments
    assert len(CASES) > 80


@pytest.mark.parametrize(("command", "option", "bad"), CASES)
def test_a_bad_value_is_one_line_naming_the_option_and_exit_code_2(
    command, option, bad, tmp_path, capsys
):
    parser = subcommands()[command]
    (action,) = [a for a in options(parser) if label(a) == option]
    argv = [command, *required_arguments(command, parser, action)]
    argv = [resolve(token, tmp_path) for token in argv]
    value = resolve(bad, tmp_path)
    argv += [value] if not action.option_strings else [option, value]
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    error = capsys.readouterr().err
    assert exit_.value.code == 2
    assert error.count("\n") == 1 and error.startswith(f"opsgym {command}: error:")
    assert f"argument {option}:" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("command", sorted(set(subcommands()) - {"list"}))
def test_the_valid_values_of_the_sweep_parse(command, tmp_path):
    parser = subcommands()[command]
    argv = [command, *required_arguments(command, parser, skip=None)]
    args = build_parser().parse_args([resolve(token, tmp_path) for token in argv])
    assert args.command == command


def test_from_a_shell_a_negative_seed_exits_2_with_one_line():
    result = run_cli("train", "--env", "opsgym/LoadBalancing-v0", "--agent", "ucb1", "--seed", "-1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "opsgym train: error: argument --seed: expected an integer >= 0, got '-1' "
        "(see opsgym train --help)"
    ]
    assert result.stdout == ""


def test_a_benchmark_whose_every_trial_fails_exits_non_zero(tmp_path, monkeypatch, capsys):
    from opsgym.train import benchmark

    def broken(env, name, seed=None):
        raise RuntimeError("policy table corrupted")

    monkeypatch.setattr(benchmark, "make_policy", broken)
    argv = ["benchmark", "--envs", "opsgym/LoadBalancing-v0", "--policies", "random"]
    argv += ["--seeds", "2", "--episodes", "1", "--jobs", "1", "--sb3", "--agents"]
    argv += ["--scenarios", "default", "--cold-start-steps", "0", "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "all 2 trials failed" in capsys.readouterr().err

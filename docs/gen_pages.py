"""Generate the documentation's pages that the code already knows (mkdocs-gen-files runs it).

- one page per registered environment: its docstring, its registry entry, its spaces,
  scenarios and reference policies, its picture (``images/frames/``) and its scores in
  the latest published benchmark run;
- the command line, from the parser ``opsgym`` itself uses;
- the published results: every run folder under ``results/`` (the full run first);
- the Python API pages (mkdocstrings) and the navigation (``SUMMARY.md``, read by
  mkdocs-literate-nav). A Markdown file under ``docs/`` that the navigation below does
  not name is listed under "Notes", so that a page added later is never unreachable.

Every function returns Markdown text, so the tests read the pages without building.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from opsgym.baselines import make_policy, policy_availability
from opsgym.envs import opsgym_ids
from opsgym.envs.scenarios import scenarios
from opsgym.train.cli import build_parser

DOCS = Path(__file__).parent
sys.path.insert(0, str(DOCS))  # frames.py, beside this script, names the pictures
from frames import picture_name  # noqa: E402

RESULTS = DOCS / "results"
RUN_ORDER = ("full", "quick")  # published runs, most complete first; others follow by name
HELP_WIDTH = 96  # columns of the --help texts on the command-line page

# The hand-written pages, in reading order, then the generated ones.
GUIDE = [
    ("Home", "index.md"),
    ("Getting started", "getting-started.md"),
    ("Policies and agents", "agents.md"),
    ("Training, tuning and imitation", "training.md"),
    ("The benchmark", "benchmark.md"),
]
AFTER_RESULTS = [
    ("What the experiments found", "findings.md"),
    ("Federated learning", "federated.md"),
    ("Integrations", "integrations.md"),
    ("Performance", "performance.md"),
    ("Development", "development.md"),
]
# title -> module documented by mkdocstrings on its API page
API = {
    "Environments": "opsgym.envs",
    "Scenarios": "opsgym.envs.scenarios",
    "Environment configurations": "opsgym.envs.core.config",
    "Policy protocol": "opsgym.agents.protocol",
    "Hand-written agents": "opsgym.agents",
    "Bandits": "opsgym.agents.bandits",
    "Tabular agents": "opsgym.agents.tabular",
    "Federated averaging": "opsgym.agents.federated",
    "Reference policies": "opsgym.baselines",
    "Running episodes": "opsgym.train.runner",
    "Evaluation": "opsgym.train.evaluate",
}


def env_page_path(env_id: str) -> str:
    """An environment's page is named as its picture."""
    return f"environments/{picture_name(env_id)}.md"


def api_page_path(module: str) -> str:
    return f"api/{module.removeprefix('opsgym.')}.md"


# ----------------------------------------------------------------------------------------
# Published results
# ----------------------------------------------------------------------------------------


def published_runs(results: Path = RESULTS) -> list[Path]:
    """The run folders under ``results`` that hold a ``summary.md``, most complete first."""
    runs = [p.parent for p in results.glob("*/summary.md")]
    rank = {name: i for i, name in enumerate(RUN_ORDER)}
    return sorted(runs, key=lambda run: (rank.get(run.name, len(rank)), run.name))


def env_scores(run: Path, env_id: str) -> list[dict[str, str]]:
    """The default configuration's rows of ``env_id`` in a run's ``summary.csv``: one per
    policy, with its kind, its normalized score and its return (mean and interval)."""
    path = run / "summary.csv"
    if not path.exists():
        return []
    by_policy: dict[str, dict[str, str]] = {}
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["env_id"] != env_id or row["scenario"] != "default":
                continue
            if row["quantity"] in ("normalized_score", "return"):
                entry = by_policy.setdefault(row["policy"], {"kind": row["kind"]})
                entry[row["quantity"]] = _interval(row)
    return [{"policy": name, **entry} for name, entry in by_policy.items()]


def _interval(row: dict[str, str]) -> str:
    mean, low, high = (float(row[key]) for key in ("mean", "mean_low", "mean_high"))
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def results_page(results: Path = RESULTS) -> str:
    lines = [
        "# Published results",
        "",
        "Each published benchmark run is a folder under `docs/results/` holding the "
        "`summary.md` and `summary.csv` that `opsgym benchmark` wrote (and its figures, "
        "where they were published); this page shows every such folder, the full run "
        "first. How the numbers are made: [the benchmark](benchmark.md); what they say: "
        "[what the experiments found](findings.md).",
        "",
    ]
    runs = published_runs(results)
    if not runs:
        return "\n".join([*lines, "No run is published yet.", ""])
    for run in runs:
        lines += [f"## The {run.name} run", ""]
        about = run / "README.md"
        if about.exists():
            lines += [_demote(about.read_text(), 2), ""]
        for figure in sorted(run.glob("*.png")):
            lines += [f"![{figure.stem} of the {run.name} run]({_relative(figure)})", ""]
        if (run / "summary.csv").exists():
            lines += [f"Every number, as CSV: [summary.csv]({_relative(run / 'summary.csv')}).", ""]
        lines += [_demote((run / "summary.md").read_text(), 2), ""]
    return "\n".join(lines)


def _relative(path: Path) -> str:
    """A file under docs/ as a link from a page at the top of docs/."""
    return path.relative_to(DOCS).as_posix()


def _demote(markdown: str, levels: int) -> str:
    """Push every heading ``levels`` deeper, so that a file nests under a page's heading."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m[1]) + levels) + " ", markdown, flags=re.M)


# ----------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------


def environment_page(env_id: str, runs: list[Path]) -> str:
    spec = gym.spec(env_id)
    env_class = load_env_creator(spec.entry_point)
    summary, _, body = inspect.getdoc(env_class).partition("\n")
    env = gym.make(env_id)
    try:
        policies = _policy_rows(env)
        action_space, observation_space = env.action_space, env.observation_space
        render_modes = env.metadata.get("render_modes", [])
    finally:
        env.close()
    name = picture_name(env_id)
    lines = [
        f"# {env_id}",
        "",
        summary,
        "",
        f"![{name}: the last frame of a recorded episode](../images/frames/{name}.png)",
        "",
        "```python",
        "import gymnasium as gym",
        "import opsgym.envs  # registers every opsgym/ id",
        "",
        f'env = gym.make("{env_id}")',
    ]
    if spec.vector_entry_point is not None:
        lines += [
            "envs = gym.make_vec(",
            f'    "{env_id}", num_envs=64, vectorization_mode="vector_entry_point"',
            ")",
        ]
    config_class = getattr(env_class, "config_class", None)
    lines += [
        "```",
        "",
        "| registry entry | |",
        "|---|---|",
        f"| entry point | `{spec.entry_point}` |",
        f"| vector entry point | {_code_or_none(spec.vector_entry_point)} |",
        f"| max_episode_steps | {_code_or_none(spec.max_episode_steps)} |",
        f"| arguments | {_code_or_none(config_class and config_class.__name__)} (keyword "
        "arguments of `gym.make`, listed under Arguments below) |",
        f"| render modes | {', '.join(f'`{mode}`' for mode in render_modes)} |",
        f"| action space (default arguments) | `{action_space}` |",
        f"| observation space (default arguments) | `{observation_space}` |",
        "",
        *_scenario_section(env_id),
        "## Reference policies",
        "",
        f"`opsgym evaluate --env {env_id} --policy NAME`; in Python, "
        "`opsgym.baselines.make_policy(env, NAME, seed)`.",
        "",
        "| policy | what it does |",
        "|---|---|",
        *(f"| `{policy}` | {what} |" for policy, what in policies),
        "",
        *_score_section(env_id, runs),
        _docstring_markdown(body),
        "",
    ]
    return "\n".join(lines)


def _code_or_none(value: object) -> str:
    return "none" if value is None else f"`{value}`"


def _scenario_section(env_id: str) -> list[str]:
    named = scenarios(env_id)
    if not named:
        return []
    lines = [
        "## Scenarios",
        "",
        "Named configurations, each posing one question; the benchmark runs them next to "
        f"the default (`opsgym benchmark --envs {env_id} --scenarios default NAME`).",
        "",
        "| scenario | what it poses | arguments |",
        "|---|---|---|",
    ]
    for scenario in named.values():
        arguments = ", ".join(f"`{key}={value!r}`" for key, value in scenario.env_kwargs.items())
        lines.append(f"| `{scenario.name}` | {scenario.description} | {arguments} |")
    return [*lines, ""]


def _policy_rows(env: gym.Env) -> list[tuple[str, str]]:
    """Each reference policy with the first line of its class's docstring, or the reason
    it cannot run with the default arguments on this installation."""
    rows = []
    for policy, refusal in policy_availability(env).items():
        if refusal is not None:
            rows.append((policy, f"not available here: {refusal}"))
            continue
        doc = inspect.getdoc(type(make_policy(env, policy, seed=0))) or ""
        rows.append((policy, doc.split("\n\n")[0].replace("\n", " ")))
    return rows


def _score_section(env_id: str, runs: list[Path]) -> list[str]:
    for run in runs:
        rows = env_scores(run, env_id)
        if rows:
            break
    else:
        return []
    lines = [
        "## Benchmark scores",
        "",
        f"From the latest published run, [the {run.name} run](../results.md#the-{run.name}-run): "
        "default configuration, normalized score (random 0, oracle or best heuristic 1) "
        "and return, mean over seeds with 95% bootstrap intervals.",
        "",
        "| policy | kind | normalized score | return |",
        "|---|---|---|---|",
    ]
    for row in rows:
        normalized, episode_return = row.get("normalized_score", "-"), row.get("return", "-")
        lines.append(f"| `{row['policy']}` | {row['kind']} | {normalized} | {episode_return} |")
    return [*lines, ""]


def _docstring_markdown(body: str) -> str:
    """An env docstring's Markdown, with its ``>>>`` examples fenced as Python sessions."""
    out: list[str] = []
    in_session = False
    for line in body.strip("\n").split("\n"):
        starts = line.startswith(">>>")
        if starts and not in_session:
            out.append("```pycon")
            in_session = True
        elif in_session and not line.strip():
            out.append("```")
            in_session = False
        out.append(line)
    if in_session:
        out.append("```")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------


def cli_page() -> str:
    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "Generated from the parser of `opsgym` itself: each subcommand's `--help`, with "
        "its defaults and examples. A bad value is refused before any work starts, with "
        "exit code 2 and one line naming the option.",
        "",
        "```text",
        _help_text(parser),
        "```",
        "",
    ]
    for name, command in _subcommands(parser).items():
        lines += [f"## opsgym {name}", "", "```text", _help_text(command), "```", ""]
    return "\n".join(lines)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def _help_text(parser: argparse.ArgumentParser) -> str:
    with _columns(HELP_WIDTH):
        return parser.format_help().rstrip()


@contextmanager
def _columns(width: int):
    """argparse wraps help to $COLUMNS: fix it, so that the page is the same everywhere."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


# ----------------------------------------------------------------------------------------
# Python API and navigation
# ----------------------------------------------------------------------------------------


def api_page(title: str, module: str) -> str:
    return f"# {title}: `{module}`\n\n::: {module}\n"


def notes(docs: Path = DOCS) -> list[str]:
    """Markdown files under ``docs`` that neither the guide nor the generator names (the
    files inside a published run's folder are shown on the results page)."""
    named = {path for _, path in GUIDE + AFTER_RESULTS} | {"environments/index.md"}
    found = {
        path.relative_to(docs).as_posix()
        for path in docs.rglob("*.md")
        if not (
            path.relative_to(docs).parts[0] == "results" and len(path.relative_to(docs).parts) > 2
        )
    }
    return sorted(found - named)


def summary_nav(env_ids: list[str], note_paths: list[str]) -> str:
    """The navigation, in mkdocs-literate-nav's Markdown list format."""
    lines = [f"* [{title}]({path})" for title, path in GUIDE]
    lines.append("* [Environments](environments/index.md)")
    lines += [f"    * [{picture_name(env_id)}]({env_page_path(env_id)})" for env_id in env_ids]
    lines.append("* [Published results](results.md)")
    lines += [f"* [{title}]({path})" for title, path in AFTER_RESULTS]
    lines.append("* [Command line](cli.md)")
    lines.append("* Python API")
    lines += [f"    * [{title}]({api_page_path(module)})" for title, module in API.items()]
    if note_paths:
        lines.append("* Notes")
        lines += [f"    * [{_title(DOCS / path)}]({path})" for path in note_paths]
    return "\n".join(lines) + "\n"


def _title(page: Path) -> str:
    """A page's first heading, else its file name."""
    for line in page.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem


def generated_pages() -> dict[str, str]:
    """Every generated page, path (under docs/) -> Markdown."""
    env_ids = opsgym_ids()
    runs = published_runs()
    pages = {env_page_path(env_id): environment_page(env_id, runs) for env_id in env_ids}
    pages["results.md"] = results_page()
    pages["cli.md"] = cli_page()
    pages.update({api_page_path(module): api_page(title, module) for title, module in API.items()})
    pages["SUMMARY.md"] = summary_nav(env_ids, notes())
    return pages


def write_with_gen_files() -> None:
    import mkdocs_gen_files
    from mkdocs.structure.files import InclusionLevel

    for path, text in generated_pages().items():
        with mkdocs_gen_files.open(path, "w") as file:
            file.write(text)
    # literate-nav reads the navigation; it is no page of its own
    navigation = mkdocs_gen_files.FilesEditor.current().files.get_file_from_path("SUMMARY.md")
    navigation.inclusion = InclusionLevel.EXCLUDED


if __name__ in ("__main__", "<run_path>"):
    write_with_gen_files()

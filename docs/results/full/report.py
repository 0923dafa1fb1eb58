"""Where learning stands: the tables of the findings page and the README, from the full
benchmark's trials.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script) and prints
a Markdown table, per id (at its default configuration, or per scenario), each learner
as normalized IQM over seeds with its 95% bootstrap interval: **bold** where the interval
lies wholly above the best rule's (the heuristic with the highest IQM), *italic* where it
lies wholly below. A rule or learner with fewer trials than the run's seeds is shown as
"k of N seeds: IQM" and marks nothing; one with none is "queued".

- The findings page's: the best rule, tuned PPO from scratch, PPO started from the rule
  (warm-started and residual) and the best of the other learners (every SB3 algorithm
  and hand-written agent besides those three).
- The findings page's table of the scenarios (``--scenarios``): per id and scenario with
  results, the best rule and each learner the run trains on the scenarios.
- The README's (``--readme``): the best rule, the best learner that starts from scratch
  and the best that starts from the rule, of those whose every seed is in.
- The run's compute (``--compute``): per id, its trials and the core-hours they took.

"Best" is the highest IQM of several learners, which favours the luckiest slightly.
With ``--write`` the script puts every table in its page instead of printing one, in
place of the page's table with the same column names: after copying a snapshot of the
run's ``trials.jsonl`` here, it is the one step that updates the pages (a test keeps them
equal to the committed trials).

    python docs/results/full/report.py [--scenarios | --readme | --compute | --write] [RESULTS_FOLDER]
"""

from __future__ import annotations

import functools
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from opsgym.train.benchmark import FULL, REFERENCE, preset_plan, read_trials
from opsgym.train.benchmark_summary import Aggregate, PolicyResult, summarize
from opsgym.train.rule_comparison import best_rule, starts_from_rule
from opsgym.train.table import markdown_table

ROOT = Path(__file__).resolve().parents[3]
PPO_FORMS = ("ppo", "ppo_warm", "ppo_residual")


def budget_label(steps: int) -> str:
    """' (1M)' or ' (50,000 steps)' for a budget other than the run's 100,000 steps."""
    if steps == 100_000:
        return ""
    return f" ({steps // 1_000_000}M)" if steps % 1_000_000 == 0 else f" ({steps:,} steps)"


def iqm_cell(aggregate: Aggregate) -> str:
    low, high = aggregate.iqm_ci
    return f"{aggregate.iqm:.3f} [{low:.3f}, {high:.3f}]"


def rule_cell(rule: PolicyResult, seeds: int) -> str:
    """The rule's name, normalized IQM and interval (or its seeds so far)."""
    if rule.normalized.n < seeds:
        return f"{rule.policy} {rule.normalized.n} of {seeds} seeds: {rule.normalized.iqm:.3f}"
    return f"{rule.policy} {iqm_cell(rule.normalized)}"


def cell(learner: PolicyResult, rule: PolicyResult, seeds: int) -> str:
    """A learner's normalized IQM and interval, marked against the rule's interval once
    the rule's every seed is in."""
    if learner.normalized.n < seeds:
        return f"{learner.normalized.n} of {seeds} seeds: {learner.normalized.iqm:.3f}"
    text = iqm_cell(learner.normalized)
    if rule.normalized.n < seeds:
        return text
    low, high = learner.normalized.iqm_ci
    if low > rule.normalized.iqm_ci[1]:
        return f"**{text}**"
    if high < rule.normalized.iqm_ci[0]:
        return f"*{text}*"
    return text


def best_cell(learners: list[PolicyResult], rule: PolicyResult, seeds: int) -> str:
    """The best of ``learners`` whose every seed is in, named, or "queued"."""
    complete = [r for r in learners if r.normalized.n == seeds]
    best = max(complete, key=lambda r: r.normalized.iqm, default=None)
    if best is None:
        return "queued"
    return f"{best.policy}{budget_label(best.train_steps)} {cell(best, rule, seeds)}"


@functools.cache  # every table reads the same run
def configurations(folder: Path) -> tuple[int, list[tuple[tuple[str, str], dict]]]:
    """The run's seeds, and per (id, scenario), sorted with each id's default
    configuration first, its results by policy."""
    records = [r for r in read_trials(folder / "trials.jsonl") if r["status"] == "ok"]
    results, _ = summarize(records)
    by_configuration: dict[tuple[str, str], dict[str, PolicyResult]] = defaultdict(dict)
    for result in results:
        if result.normalized is not None:
            by_configuration[(result.env_id, result.scenario)][result.policy] = result
    return len({r["seed"] for r in records}), list(by_configuration.items())


def default_configurations(folder: Path) -> tuple[int, list[tuple[str, dict]]]:
    """The run's seeds, and per id (sorted) its default configuration's results by policy."""
    seeds, results = configurations(folder)
    return seeds, [
        (env_id, group) for (env_id, scenario), group in results if scenario == "default"
    ]


def report(folder: Path) -> str:
    """The findings page's table."""
    seeds, defaults = default_configurations(folder)
    rows = []
    for env_id, group in defaults:
        rule = best_rule(list(group.values()))
        learners = {name: r for name, r in group.items() if r.kind != REFERENCE}
        label = budget_label(learners["ppo"].train_steps) if "ppo" in learners else ""
        row = [
            f"{env_id.removeprefix('opsgym/')}{label}",
            rule_cell(rule, seeds),
        ]
        for name in PPO_FORMS:
            row.append(cell(learners[name], rule, seeds) if name in learners else "queued")
        others = [r for name, r in learners.items() if name not in PPO_FORMS]
        rows.append([*row, best_cell(others, rule, seeds)])
    headers = ["id", "best rule", "PPO", "PPO warm-started", "PPO residual", "best other learner"]
    return markdown_table(headers, rows)


def readme_report(folder: Path) -> str:
    """The README's table: the rule, and the best learner from scratch and from the rule."""
    seeds, defaults = default_configurations(folder)
    rows = []
    for env_id, group in defaults:
        rule = best_rule(list(group.values()))
        learners = [r for r in group.values() if r.kind != REFERENCE]
        scratch = [r for r in learners if not starts_from_rule(r.policy)]
        started = [r for r in learners if starts_from_rule(r.policy)]
        rows.append(
            [
                f"`{env_id}`",
                rule_cell(rule, seeds),
                best_cell(scratch, rule, seeds),
                best_cell(started, rule, seeds),
            ]
        )
    headers = ["id", "best rule", "best learner from scratch", "best learner from the rule"]
    return markdown_table(headers, rows)


def scenario_report(folder: Path) -> str:
    """The findings page's table of the scenarios: the best rule and each learner the full
    run trains there ("not run" where the id's learners do not include it)."""
    seeds, results = configurations(folder)
    plan = preset_plan(FULL, envs=(), seeds=seeds)
    learners = plan.scenario_learners
    rows = []
    for (env_id, scenario), group in results:
        rule = best_rule(list(group.values()))
        if scenario == "default" or rule is None:
            continue
        planned = plan.learners(env_id, scenario)
        row = [f"{env_id.removeprefix('opsgym/')} {scenario}", rule_cell(rule, seeds)]
        for name in learners:
            if name not in planned:
                row.append("not run")
            elif name not in group:
                row.append("queued")
            else:
                learner = group[name]
                row.append(cell(learner, rule, seeds) + budget_label(learner.train_steps))
        rows.append(row)
    return markdown_table(["id and scenario", "best rule", *learners], rows)


def compute_report(folder: Path) -> str:
    """The run's compute per id: the sum of its trials' wall times. A trial that took over
    three times its policy's median there and a minute more was stopped for a while by a
    pause (``kill -STOP``), whose time its wall time includes: it counts at the median."""
    by_policy: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for record in read_trials(folder / "trials.jsonl"):
        key = (record["env_id"], record["scenario"], record["policy"])
        by_policy[key].append(record["wall_seconds"])
    seconds: dict[str, float] = defaultdict(float)
    trials: dict[str, int] = defaultdict(int)
    paused = 0
    for (env_id, _, _), walls in by_policy.items():
        median = statistics.median(walls)
        for wall in walls:
            stopped = wall > 3 * median and wall - median > 60
            paused += stopped
            seconds[env_id] += median if stopped else wall
            trials[env_id] += 1
    rows = [
        [f"`{env_id}`", f"{trials[env_id]:,}", f"{seconds[env_id] / 3600:.1f}"]
        for env_id in sorted(seconds)
    ]
    total = sum(seconds.values()) / 3600
    rows.append(["all", f"{sum(trials.values()):,}", f"{total:.1f}"])
    table = markdown_table(["id", "trials", "core-hours"], rows)
    return (
        f"{table}\n\nTrials paused for a while, counted at their policy's median wall "
        f"time: {paused}."
    )


TABLES = {
    report: ROOT / "docs" / "findings.md",
    scenario_report: ROOT / "docs" / "findings.md",
    readme_report: ROOT / "README.md",
}


def header_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def replace_table(page: str, table: str) -> str:
    """``page`` with ``table`` in place of its one table with the same column names."""
    lines = page.split("\n")
    headers = header_cells(table.split("\n")[0])
    starts = [
        i
        for i, line in enumerate(lines)
        if line.startswith("|")
        and (i == 0 or not lines[i - 1].startswith("|"))
        and header_cells(line) == headers
    ]
    if len(starts) != 1:
        raise ValueError(
            f"the page has {len(starts)} tables with the columns {' | '.join(headers)}, not one"
        )
    end = start = starts[0]
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join([*lines[:start], table, *lines[end:]])


def write_tables(folder: Path) -> None:
    """Put every table of ``folder``'s run in its page."""
    for table, page in TABLES.items():
        page.write_text(replace_table(page.read_text(), table(folder)))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    options = [a for a in arguments if a.startswith("--")]
    folders = [a for a in arguments if not a.startswith("--")]
    folder = Path(folders[0]) if folders else Path(__file__).parent
    printers = {
        "--scenarios": scenario_report,
        "--readme": readme_report,
        "--compute": compute_report,
    }
    if unknown := sorted(set(options) - {*printers, "--write"}):
        sys.exit(
            f"report.py: unknown option {unknown[0]}; the options are --scenarios, --readme, "
            "--compute and --write"
        )
    if "--write" in options:
        write_tables(folder)
    else:
        print(next((printers[o] for o in options if o in printers), report)(folder))

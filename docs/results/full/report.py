"""Where learning stands: the tables of the findings page and the README, from the full
benchmark's trials.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script) and prints
two Markdown tables, per id at its default configuration, each learner as normalized IQM
over seeds with its 95% bootstrap interval: **bold** where the interval lies wholly above
the best rule's (the heuristic with the highest IQM), *italic* where it lies wholly below.

- The findings page's: the best rule, tuned PPO from scratch, PPO started from the rule
  (warm-started and residual) and the best of the other learners (every SB3 algorithm
  and hand-written agent besides those three). A learner with fewer trials than the
  run's seeds is shown as "k of N seeds: IQM"; one with none is "queued".
- The README's (``--readme``): the best rule, the best learner that starts from scratch
  and the best that starts from the rule, of those whose every seed is in.

"Best" is the highest IQM of several learners, which favours the luckiest slightly.
With ``--write`` the script puts both tables in their pages instead of printing one: after
copying a snapshot of the run's ``trials.jsonl`` here, it is the one step that updates the
pages (a test keeps them equal to the committed trials).

    python docs/results/full/report.py [--readme | --write] [RESULTS_FOLDER]
"""

from __future__ import annotations

import functools
import sys
from collections import defaultdict
from pathlib import Path

from opsgym.train.benchmark import REFERENCE, read_trials
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


def cell(learner: PolicyResult, rule: PolicyResult, seeds: int) -> str:
    """A learner's normalized IQM and interval, marked against the rule's interval."""
    if learner.normalized.n < seeds:
        return f"{learner.normalized.n} of {seeds} seeds: {learner.normalized.iqm:.3f}"
    text = iqm_cell(learner.normalized)
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


@functools.cache  # both tables read the same run
def default_configurations(folder: Path) -> tuple[int, list[tuple[str, dict]]]:
    """The run's seeds, and per id (sorted) its default configuration's results by policy."""
    records = [r for r in read_trials(folder / "trials.jsonl") if r["status"] == "ok"]
    results, _ = summarize([r for r in records if r["scenario"] == "default"])
    by_env: dict[str, dict[str, PolicyResult]] = defaultdict(dict)
    for result in results:
        if result.normalized is not None:
            by_env[result.env_id][result.policy] = result
    return len({r["seed"] for r in records}), sorted(by_env.items())


def report(folder: Path) -> str:
    """The findings page's table."""
    seeds, configurations = default_configurations(folder)
    rows = []
    for env_id, group in configurations:
        rule = best_rule(list(group.values()))
        learners = {name: r for name, r in group.items() if r.kind != REFERENCE}
        label = budget_label(learners["ppo"].train_steps) if "ppo" in learners else ""
        row = [
            f"{env_id.removeprefix('opsgym/')}{label}",
            f"{rule.policy} {iqm_cell(rule.normalized)}",
        ]
        for name in PPO_FORMS:
            row.append(cell(learners[name], rule, seeds) if name in learners else "queued")
        others = [r for name, r in learners.items() if name not in PPO_FORMS]
        rows.append([*row, best_cell(others, rule, seeds)])
    headers = ["id", "best rule", "PPO", "PPO warm-started", "PPO residual", "best other learner"]
    return markdown_table(headers, rows)


def readme_report(folder: Path) -> str:
    """The README's table: the rule, and the best learner from scratch and from the rule."""
    seeds, configurations = default_configurations(folder)
    rows = []
    for env_id, group in configurations:
        rule = best_rule(list(group.values()))
        learners = [r for r in group.values() if r.kind != REFERENCE]
        scratch = [r for r in learners if not starts_from_rule(r.policy)]
        started = [r for r in learners if starts_from_rule(r.policy)]
        rows.append(
            [
                f"`{env_id}`",
                f"{rule.policy} {iqm_cell(rule.normalized)}",
                best_cell(scratch, rule, seeds),
                best_cell(started, rule, seeds),
            ]
        )
    headers = ["id", "best rule", "best learner from scratch", "best learner from the rule"]
    return markdown_table(headers, rows)


def replace_table(page: str, table: str) -> str:
    """``page`` with ``table`` in place of its table whose header names "best rule"."""
    lines = page.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if line.startswith("| id") and "best rule" in line),
        None,
    )
    if start is None:
        raise ValueError('the page has no table whose header starts "| id" and names "best rule"')
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join([*lines[:start], table, *lines[end:]])


def write_tables(folder: Path) -> None:
    """Put the findings page's and the README's tables of ``folder``'s run in their pages."""
    for table, page in (
        (report, ROOT / "docs" / "findings.md"),
        (readme_report, ROOT / "README.md"),
    ):
        page.write_text(replace_table(page.read_text(), table(folder)))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    options = [a for a in arguments if a.startswith("--")]
    folders = [a for a in arguments if not a.startswith("--")]
    folder = Path(folders[0]) if folders else Path(__file__).parent
    if unknown := sorted(set(options) - {"--readme", "--write"}):
        sys.exit(f"report.py: unknown option {unknown[0]}; the options are --readme and --write")
    if "--write" in options:
        write_tables(folder)
    else:
        print((readme_report if "--readme" in options else report)(folder))

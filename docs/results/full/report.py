"""Where learning stands: the findings page's table, from the full benchmark's trials.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script) and prints
Markdown: per id, at its default configuration, the best rule (the heuristic with the
highest normalized IQM), tuned PPO from scratch, PPO started from the rule (warm-started
and residual), and the best of the other learners (every SB3 algorithm and hand-written
agent besides those three), each as normalized IQM over seeds with its 95% bootstrap
interval: **bold** where the interval lies wholly above the rule's, *italic* where it
lies wholly below. A learner with fewer trials than the run's seeds is shown as
"k of N seeds: IQM" and left out of "best other"; one with none is "queued".

    python docs/results/full/report.py [RESULTS_FOLDER]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from opsgym.train.benchmark import REFERENCE, read_trials
from opsgym.train.benchmark_summary import Aggregate, PolicyResult, summarize
from opsgym.train.rule_comparison import best_rule
from opsgym.train.table import markdown_table

PPO_FORMS = ("ppo", "ppo_warm", "ppo_residual")


def budget_label(steps: int) -> str:
    """' (1M)' or ' (50,000 steps)' where PPO trained for other than 100,000 steps."""
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


def report(folder: Path) -> str:
    records = [r for r in read_trials(folder / "trials.jsonl") if r["status"] == "ok"]
    seeds = len({r["seed"] for r in records})
    results, _ = summarize([r for r in records if r["scenario"] == "default"])
    by_env: dict[str, dict[str, PolicyResult]] = defaultdict(dict)
    for result in results:
        if result.normalized is not None:
            by_env[result.env_id][result.policy] = result
    rows = []
    for env_id, group in sorted(by_env.items()):
        rule = best_rule(list(group.values()))
        learners = {name: r for name, r in group.items() if r.kind != REFERENCE}
        label = budget_label(learners["ppo"].train_steps) if "ppo" in learners else ""
        row = [
            f"{env_id.removeprefix('opsgym/')}{label}",
            f"{rule.policy} {iqm_cell(rule.normalized)}",
        ]
        for name in PPO_FORMS:
            row.append(cell(learners[name], rule, seeds) if name in learners else "queued")
        others = [
            r for name, r in learners.items() if name not in PPO_FORMS and r.normalized.n == seeds
        ]
        best = max(others, key=lambda r: r.normalized.iqm, default=None)
        row.append("queued" if best is None else f"{best.policy} {cell(best, rule, seeds)}")
        rows.append(row)
    headers = ["id", "best rule", "PPO", "PPO warm-started", "PPO residual", "best other learner"]
    return markdown_table(headers, rows)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))

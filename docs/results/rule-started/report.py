"""The table of learners that start from scratch or from the rule, at equal budget.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script) and prints
Markdown: per configuration where a rule-started learner ran, the best heuristic (the
rule), scratch PPO, warm-started PPO and residual PPO, each as normalized IQM over seeds
with its 95% bootstrap interval, the learners' cold-start dips against the rule, and
whether a rule-started learner's interval lies wholly above the rule's; "-" where a
learner has no trials.

    python docs/results/rule-started/report.py [RESULTS_FOLDER]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from opsgym.train.benchmark import read_trials
from opsgym.train.benchmark_summary import aggregate_cell, summarize
from opsgym.train.rule_comparison import best_rule, dip_cell, seed_dips
from opsgym.train.table import markdown_table

SCRATCH = "ppo"
RULE_STARTED = ("ppo_warm", "ppo_residual")
LEARNERS = (SCRATCH, *RULE_STARTED)


def report(folder: Path) -> str:
    records = [r for r in read_trials(folder / "trials.jsonl") if r["status"] == "ok"]
    results, _ = summarize(records)
    by_config = defaultdict(dict)
    for result in results:
        if result.normalized is not None:
            by_config[result.env_id, result.scenario][result.policy] = result
    rows = []
    for (env_id, scenario), group in by_config.items():
        if not any(name in group for name in RULE_STARTED):
            continue
        rule = best_rule(list(group.values()))
        trials = [r for r in records if (r["env_id"], r["scenario"]) == (env_id, scenario)]
        row = [
            env_id.removeprefix("opsgym/") + ("" if scenario == "default" else f" ({scenario})"),
            rule.policy,
            aggregate_cell(rule.normalized, use_iqm=True),
        ]
        above = []
        for name in LEARNERS:
            learner = group.get(name)
            if learner is None:  # not run here (yet)
                row += ["-", "-"]
                continue
            dips = dip_cell(seed_dips(trials, name, rule.policy))
            row += [aggregate_cell(learner.normalized, use_iqm=True), dips]
            if name in RULE_STARTED and learner.normalized.iqm_ci[0] > rule.normalized.iqm_ci[1]:
                above.append(name)
        rows.append([*row, ", ".join(above) or "-"])
    headers = ["id", "rule", "rule IQM", "PPO", "dip", "PPO warm", "dip"]
    headers += ["PPO residual", "dip", "above the rule"]
    return markdown_table(headers, rows)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))

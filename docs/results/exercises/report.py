"""The exercises' tables: the learned detector, the learned forecaster and the CDN's policies.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script) and prints
Markdown: per environment, each policy's normalized score and the quantities an operator
reads (NAB score, false pages and missed anomaly windows; cost and SLA attainment; byte hit
ratio and origin egress) per configuration, as means over seeds with 95% bootstrap
intervals; then each new policy's difference from the best of the policies it is measured
against, paired by seed (the same evaluation episodes).

    python docs/results/exercises/report.py [RESULTS_FOLDER]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from opsgym.train.benchmark import read_trials
from opsgym.train.benchmark_summary import Scorer, bootstrap_interval
from opsgym.train.table import format_bounds, markdown_table

# env id -> (the policies the exercises add, those they are measured against, the
# columns: name -> per-episode value)
TABLES = {
    "opsgym/AnomalyDetection-v0": (
        ("isolation_forest", "isolation_forest_multivariate"),
        ("static_threshold", "rolling_zscore", "seasonal_zscore", "ewma_chart"),
        {
            "NAB score": lambda m, i: m["nab_score"][i],
            "false pages": lambda m, i: m["false_alerts"][i],
            "missed windows": lambda m, i: m["windows"][i] * (1 - m["recall"][i]),
            "F1": lambda m, i: m["f1"][i],
        },
    ),
    "opsgym/Autoscaling-v0": (
        ("ml_forecast",),
        ("hpa", "predictive", "seasonal"),
        {
            "cost [$]": lambda m, i: m["objective_usd"][i],
            "SLA attainment": lambda m, i: m["sla_attainment"][i],
        },
    ),
    "opsgym/CDN-v0": (
        ("global_top_k", "regional_top_k", "trend"),
        ("lru_pull",),  # what an edge does without pre-positioning
        {
            "byte hit ratio": lambda m, i: m["byte_hit_ratio"][i],
            "origin egress [GB]": lambda m, i: m["origin_egress_gb"][i],
        },
    ),
}


def cell(values: list[float]) -> str:
    """The mean over seeds and its 95% bootstrap interval."""
    return format_bounds(float(np.mean(values)), *bootstrap_interval(values))


def per_seed(records: list[dict]) -> dict[tuple[str, str], dict[int, dict]]:
    """(scenario, policy) -> seed -> the trial's record."""
    table: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for record in records:
        table[record["scenario"], record["policy"]][record["seed"]] = record
    return table


def normalized_by_seed(trials: dict[tuple[str, str], dict[int, dict]], scenario: str):
    """policy -> seed -> normalized score, anchored per seed as the benchmark anchors."""
    policies = {p: seeds for (s, p), seeds in trials.items() if s == scenario}
    scores: dict[str, dict[int, float]] = defaultdict(dict)
    for seed in next(iter(policies.values())):
        means = {p: float(np.mean(seeds[seed]["returns"])) for p, seeds in policies.items()}
        scorer = Scorer(means)
        for policy, value in means.items():
            scores[policy][seed] = scorer(value)
    return scores


def report(folder: Path) -> str:
    records = [r for r in read_trials(folder / "trials.jsonl") if r["status"] == "ok"]
    sections = []
    for env_id, (new, before, columns) in TABLES.items():
        trials = per_seed([r for r in records if r["env_id"] == env_id])
        scenarios = list(dict.fromkeys(s for s, _ in trials))
        rows, differences = [], []
        for scenario in scenarios:
            normalized = normalized_by_seed(trials, scenario)
            for policy, scores in normalized.items():
                seeds = trials[scenario, policy]
                values = [
                    [
                        float(np.mean([f(r["metrics"], i) for i in range(len(r["returns"]))]))
                        for r in seeds.values()
                    ]
                    for f in columns.values()
                ]
                rows.append(
                    [scenario, policy, cell(list(scores.values())), *(cell(v) for v in values)]
                )
            best = max(before, key=lambda p: np.mean(list(normalized[p].values())))
            for policy in (p for p in new if p in normalized):
                gaps = [normalized[policy][s] - normalized[best][s] for s in normalized[policy]]
                differences.append([scenario, policy, best, cell(gaps)])
        sections.append(
            f"### {env_id}\n\n"
            + markdown_table(["configuration", "policy", "normalized", *columns], rows)
            + f"\n\nNormalized score minus the best of {', '.join(before)} in the same "
            "configuration, paired by seed (positive: the new policy is better):\n\n"
            + markdown_table(["configuration", "policy", "against", "difference"], differences)
        )
    return "\n\n".join(sections)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))

"""The DeepRM table: mean slowdown and jobs dropped per policy at p = 0.3, 0.5, 0.7.

Reads a benchmark's ``trials.jsonl`` (by default the one next to this script; of a
larger run, such as the full benchmark, only the ``deeprm-p*`` scenarios) and prints
Markdown: per scenario and policy, the mean over seeds of each seed's mean slowdown and
jobs dropped (over its evaluation episodes), with 95% bootstrap intervals, then each
policy's paired difference from SJF (same seeds, hence the same evaluation episodes).

    python docs/results/deeprm/report.py [RESULTS_FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from opsgym.train.benchmark import REFERENCE, read_trials
from opsgym.train.benchmark_summary import aggregate_cell, bootstrap_interval, summarize
from opsgym.train.table import format_bounds, markdown_table

COLUMNS = ("mean_slowdown", "dropped_jobs")


def per_seed_slowdown(records: list[dict], scenario: str, policy: str) -> dict[int, float]:
    return {
        r["seed"]: float(np.mean(r["metrics"]["mean_slowdown"]))
        for r in records
        if r["status"] == "ok" and r["scenario"] == scenario and r["policy"] == policy
    }


def report(folder: Path) -> str:
    records = [
        r
        for r in read_trials(folder / "trials.jsonl")
        if r["env_id"] == "opsgym/ResourceAllocation-v0" and r["scenario"].startswith("deeprm-p")
    ]
    results, failed = summarize(records)
    if failed:
        raise SystemExit(f"{len(failed)} failed trials in {folder}: rerun with --resume")
    headers = ["p", "policy", "seeds", "training steps", *COLUMNS]
    rows, differences = [], []
    for r in results:
        p = r.scenario.removeprefix("deeprm-p")
        steps = f"{r.train_steps:,}" if r.kind != REFERENCE else "-"
        rows.append(
            [
                p,
                r.policy,
                str(r.score.n),
                steps,
                *(aggregate_cell(r.metrics[m]) for m in COLUMNS),
            ]
        )
        if r.policy in ("sjf", "random"):
            continue
        mine = per_seed_slowdown(records, r.scenario, r.policy)
        sjf = per_seed_slowdown(records, r.scenario, "sjf")
        gaps = [mine[s] - sjf[s] for s in sorted(mine) if s in sjf]
        difference = format_bounds(float(np.mean(gaps)), *bootstrap_interval(gaps))
        differences.append([p, r.policy, str(len(gaps)), difference])
    text = markdown_table(headers, rows)
    if differences:
        text += "\n\nMinus SJF's mean slowdown, paired by seed (negative: better than SJF):\n\n"
        text += markdown_table(["p", "policy", "seeds", "difference [95% CI]"], differences)
    return text


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))

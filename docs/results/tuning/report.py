"""The tuning studies on record, one row per study in ``baselines/tuning/``.

Per study: its budget, how many trials completed or were pruned, the winning trial's
confirmed mean normalized score (its training seed and the confirmation seeds, scored
on the validation episodes), and the best rule's score on the same validation episodes,
normalized the same way (random 0, the study's ceiling 1: the oracle, or the best
heuristic where the id has none).

    python docs/results/tuning/report.py [RECORDS_FOLDER]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from opsgym.train.benchmark_summary import normalize
from opsgym.train.table import markdown_table

RECORDS = Path(__file__).resolve().parents[3] / "baselines" / "tuning"


def row(record: dict) -> list[str]:
    floor = record["score"]["floor"]["mean_return"]
    ceiling = record["score"]["ceiling"]
    rules = {
        name: value
        for name, value in record["references"].items()
        if name not in ("random", "oracle")
    }
    best_rule = max(rules, key=rules.get)
    states = Counter(trial["state"] for trial in record["trials"])
    best = record["best"]
    return [
        record["env_id"].removeprefix("opsgym/"),
        record["agent"],
        f"{record['budget']:,}",
        f"{states['complete']} / {states['pruned']}",
        f"{best['score']:.3f} (trial {best['number']})",
        f"{best_rule} {normalize(rules[best_rule], floor, ceiling['mean_return']):.3f}",
        ceiling["policy"],
    ]


def report(folder: Path) -> str:
    records = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    header = [
        "id",
        "learner",
        "steps per trial",
        "complete / pruned",
        "best, confirmed",
        "best rule",
        "ceiling (1)",
    ]
    return markdown_table(header, [row(record) for record in records])


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else RECORDS))

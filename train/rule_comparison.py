"""Learning from scratch or from the rule, against the rule: the benchmark's comparison.

Per environment configuration: the best reference heuristic (the rule an operator runs),
the best learner that starts from scratch and the best that starts from the rule
(``<algo>_warm``, ``<algo>_residual``, ``bc``), each by normalized IQM with its 95%
bootstrap interval, and each learner's cold-start dip: how far below the rule its
learning curve falls (in normalized score) and at which training step it is back at
or above the rule.

The curve of a trial is its periodic evaluations on the first ``curve_episodes`` of its
seed's evaluation episodes; the rule's score on those same episodes (from its own trial
record, which holds every episode's return) is the line to stay above, normalized with
random's and the ceiling's returns on the same episodes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from opsgym.train.benchmark import REFERENCE
from opsgym.train.benchmark_summary import PolicyResult, aggregate_cell, anchors, normalize
from opsgym.train.rule_started import rule_started_names
from opsgym.train.table import markdown_table


def starts_from_rule(policy: str) -> bool:
    return policy == "bc" or policy in rule_started_names()


@dataclass
class Dip:
    """One curve's fall below the rule: depth in normalized score, and the step at which
    it is back at or above the rule after its lowest point (None: not within training)."""

    depth: float
    regained_at: int | None


def dip(curve: list[tuple[float, float]], rule: float) -> Dip:
    """The dip of a normalized ``curve`` of (step, score) below a normalized ``rule``."""
    if not curve:
        return Dip(math.nan, None)
    scores = [score for _, score in curve]
    lowest = int(np.argmin(scores))
    depth = max(0.0, rule - scores[lowest])
    if depth == 0.0:
        return Dip(0.0, 0)
    regained = next((int(step) for step, score in curve[lowest:] if score >= rule), None)
    return Dip(depth, regained)


def trial_dip(record: dict, references: dict[str, dict], rule: str) -> Dip | None:
    """The dip of a learner's trial against the rule's trial of the same seed, or None
    where the references cannot normalize its curve."""
    episodes = int(record.get("curve_episodes", 0))
    if not record.get("curve") or rule not in references or episodes < 1:
        return None
    means = {name: float(np.mean(r["returns"][:episodes])) for name, r in references.items()}
    anchor = anchors(means)
    if not anchor.span:
        return None
    curve = [
        (step, normalize(value, anchor.floor, anchor.ceiling)) for step, value in record["curve"]
    ]
    return dip(curve, normalize(means[rule], anchor.floor, anchor.ceiling))


def dip_cell(dips: list[Dip]) -> str:
    """Mean depth over seeds, and when the seeds that fell were back at the rule."""
    if not dips:
        return "n/a"
    fell = [d for d in dips if d.depth > 0]
    if not fell:
        return "none"
    text = f"{np.mean([d.depth for d in dips]):.2g}"
    regained = [d.regained_at for d in fell if d.regained_at is not None]
    if not regained:
        return f"{text}, not back"
    text += f", back by step {int(np.median(regained)):,}"
    if len(regained) < len(fell):
        text += f" ({len(fell) - len(regained)} of {len(dips)} seeds not back)"
    return text


def best_rule(results: list[PolicyResult]) -> PolicyResult | None:
    """The heuristic with the highest normalized IQM among one configuration's results (the
    rule an operator runs), or None without one."""
    heuristics = [
        r for r in results if r.kind == REFERENCE and r.policy not in ("random", "oracle")
    ]
    return max(heuristics, key=lambda r: r.normalized.iqm) if heuristics else None


def rule_comparison_table(results: list[PolicyResult], records: list[dict]) -> str:
    """The Markdown section (see the module docstring), or '' without both kinds of learner."""
    trials: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        if record.get("status") == "ok":
            trials[(record["env_id"], record["scenario"])].append(record)
    by_config: dict[tuple[str, str], list[PolicyResult]] = defaultdict(list)
    for result in results:
        if result.normalized is not None:
            by_config[(result.env_id, result.scenario)].append(result)
    rows = []
    for config, group in by_config.items():
        rule = best_rule(group)
        learners = [r for r in group if r.kind != REFERENCE]
        scratch = [r for r in learners if not starts_from_rule(r.policy)]
        started = [r for r in learners if starts_from_rule(r.policy)]
        if rule is None or not started:
            continue
        cells = [config[0] if config[1] == "default" else f"{config[0]} ({config[1]})"]
        cells += [rule.policy, aggregate_cell(rule.normalized, use_iqm=True)]
        for kind in (scratch, started):
            if not kind:
                cells += ["-", "", "", ""]
                continue
            best = max(kind, key=lambda r: r.normalized.iqm)
            dips = seed_dips(trials[config], best.policy, rule.policy)
            cells += [best.policy, aggregate_cell(best.normalized, use_iqm=True), dip_cell(dips)]
            cells.append(f"{best.train_steps:,}")
        best_started = max(started, key=lambda r: r.normalized.iqm)
        low = best_started.normalized.iqm_ci[0]
        cells.append("yes" if low > rule.normalized.iqm_ci[1] else "no")
        rows.append(cells)
    if not rows:
        return ""
    headers = ["configuration", "rule", "rule IQM", "best scratch", "IQM", "dip", "steps"]
    headers += ["best rule-started", "IQM", "dip", "steps", "above the rule"]
    return (
        "### Learning from scratch or from the rule\n\n"
        "Per configuration: the best heuristic (the rule), the best learner that starts "
        "from scratch and the best that starts from the rule (warm start, residual, "
        "behaviour cloning), by normalized IQM with 95% bootstrap intervals. Dip: how far "
        "below the rule the learning curve falls (normalized score, mean over seeds, on "
        "the curve's evaluation episodes) and the median training step at which the seeds "
        "that fell were back at or above the rule. Above the rule: the rule-started learner's interval "
        "lies wholly above the rule's.\n\n" + markdown_table(headers, rows)
    )


def seed_dips(records: list[dict], policy: str, rule: str) -> list[Dip]:
    """The dip of every trial of ``policy`` in ``records`` (one configuration), each
    against the ``rule``'s trial of the same seed."""
    references: dict[int, dict[str, dict]] = defaultdict(dict)
    for record in records:
        if record["kind"] == REFERENCE:
            references[record["seed"]][record["policy"]] = record
    dips = []
    for record in records:
        if record["policy"] == policy:
            measured = trial_dip(record, references[record["seed"]], rule)
            if measured is not None:
                dips.append(measured)
    return dips

"""Statistics, tables and plots of a benchmark, recomputed from its trial records.

Per seed, a policy's score is its mean return over that seed's evaluation episodes.
The normalized score maps the same seed's random policy to 0 and its ceiling to 1: the
oracle where the environment has one, else the best reference policy of that seed. Where
the ceiling does not earn measurably more than random (:attr:`Anchors.span`), there is
no normalized score: the returns are reported alone.
Across seeds each quantity is reported as its mean and interquartile mean (IQM, the
robust aggregate recommended by Agarwal et al., "Deep RL at the Edge of the Statistical
Precipice", NeurIPS 2021), each with a 95% percentile-bootstrap interval from
``scipy.stats.bootstrap``.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from opsgym.agents.atomic import atomic_write, write_text
from opsgym.train.benchmark import REFERENCE
from opsgym.train.benchmark_figures import draw_figures
from opsgym.train.table import format_bounds, format_number, markdown_table

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
FEW_SEEDS = 5
MIN_SPAN = 0.01  # of the anchors' magnitude, by which the ceiling must beat random


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean of the middle 50% of the values."""
    return stats.trim_mean(values, 0.25, axis=axis)


def bootstrap_interval(values, statistic=np.mean) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of ``statistic`` over ``values``.

    A constant sample has no spread to resample (scipy returns NaN for it): its
    interval is the value itself. A single value has no interval (NaN, NaN).
    """
    sample = np.asarray(values, dtype=float)
    if sample.size < 2:
        return math.nan, math.nan
    if np.all(sample == sample[0]):
        return float(sample[0]), float(sample[0])
    result = stats.bootstrap(
        (sample,),
        lambda x, axis: statistic(x, axis=axis),
        confidence_level=0.95,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass
class Aggregate:
    """Mean and IQM over seeds, each with its 95% bootstrap interval."""

    mean: float
    mean_ci: tuple[float, float]
    iqm: float
    iqm_ci: tuple[float, float]
    n: int

    @classmethod
    def of(cls, values) -> Aggregate:
        sample = np.asarray(values, dtype=float)
        return cls(
            float(sample.mean()),
            bootstrap_interval(sample, np.mean),
            float(iqm(sample)),
            bootstrap_interval(sample, iqm),
            int(sample.size),
        )


@dataclass
class PolicyResult:
    env_id: str
    scenario: str
    policy: str
    kind: str
    score: Aggregate
    normalized: Aggregate | None
    metrics: dict[str, Aggregate]
    train_seconds: float
    train_steps: int
    cold_start: Aggregate | None = None  # regret over the first training steps
    cold_start_steps: int = 0
    cold_start_reference: str = ""


def summarize(records: list[dict]) -> tuple[list[PolicyResult], list[dict]]:
    """Aggregate successful trial records; also return the failed ones."""
    ok = [r for r in records if r.get("status") == "ok"]
    failed = [r for r in records if r.get("status") != "ok"]
    by_config: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in ok:
        by_config[(record["env_id"], record["scenario"])].append(record)
    results = []
    # each id's default configuration first, then its scenarios
    for (env_id, scenario), group in sorted(
        by_config.items(), key=lambda item: (item[0][0], item[0][1] != "default", item[0][1])
    ):
        score = {(r["policy"], r["seed"]): float(np.mean(r["returns"])) for r in group}
        scale = _anchors(group, score)
        policies = sorted({r["policy"] for r in group}, key=lambda p: _order(group, p))
        for policy in policies:
            mine = sorted((r for r in group if r["policy"] == policy), key=lambda r: r["seed"])
            seeds = [r["seed"] for r in mine]
            normalized = [
                normalize(score[(policy, s)], scale[s].floor, scale[s].ceiling)
                for s in seeds
                if s in scale
            ]
            metric_names = list(mine[0]["metrics"])
            results.append(
                PolicyResult(
                    env_id=env_id,
                    scenario=scenario,
                    policy=policy,
                    kind=mine[0]["kind"],
                    score=Aggregate.of([score[(policy, s)] for s in seeds]),
                    normalized=Aggregate.of(normalized) if normalized else None,
                    metrics={
                        name: Aggregate.of([np.mean(r["metrics"][name]) for r in mine])
                        for name in metric_names
                    },
                    # the median: a trial paused between sessions counts its pause
                    train_seconds=float(np.median([r["train_seconds"] for r in mine])),
                    train_steps=int(mine[0]["train_steps"]),
                    **_cold_start(mine),
                )
            )
    return results, failed


def _cold_start(records: list[dict]) -> dict:
    """The cold-start fields of a learner's results (none for reference policies)."""
    measured = [r for r in records if "cold_start_regret" in r]
    if not measured:
        return {}
    return {
        "cold_start": Aggregate.of([r["cold_start_regret"] for r in measured]),
        "cold_start_steps": int(measured[0]["cold_start_steps"]),
        "cold_start_reference": measured[0]["cold_start_reference"],
    }


def _anchors(group: list[dict], score: dict) -> dict[int, Anchors]:
    """The anchors of each seed whose anchors span a scale."""
    scale = {}
    for seed in sorted({s for _, s in score}):
        references = {
            r["policy"]: score[(r["policy"], seed)]
            for r in group
            if r["kind"] == REFERENCE and r["seed"] == seed
        }
        anchor = anchors(references)
        if anchor.span:
            scale[seed] = anchor
    return scale


@dataclass
class Anchors:
    """The scores that a normalized score maps to 0 and to 1, and whose they are."""

    floor: float | None
    ceiling: float | None
    ceiling_policy: str | None

    @property
    def span(self) -> bool:
        """Whether the anchors make a scale: the ceiling earns more than random by at least
        ``MIN_SPAN`` of the larger of their magnitudes. A narrower scale would magnify the
        evaluation's noise into normalized scores far outside [0, 1] (on CDN's
        ``pull-everything`` every policy earns within 0.5% of random), and an inverted
        one would turn every score's sign."""
        if self.floor is None or self.ceiling is None:
            return False
        return self.ceiling - self.floor > MIN_SPAN * max(abs(self.floor), abs(self.ceiling))


def anchors(references: dict[str, float]) -> Anchors:
    """Random's score (0) and the ceiling (1) among reference policies' scores on the same
    episodes: the oracle's where there is one, else the best other reference policy's."""
    floor = references.get("random")
    if "oracle" in references:
        return Anchors(floor, references["oracle"], "oracle")
    others = {name: value for name, value in references.items() if name != "random"}
    if not others:
        return Anchors(floor, None, None)
    best = max(others, key=others.__getitem__)
    return Anchors(floor, others[best], best)


def normalize(score: float, floor: float, ceiling: float) -> float:
    """``score`` on the scale where ``floor`` is 0 and ``ceiling`` is 1."""
    return (score - floor) / (ceiling - floor)


class Scorer:
    """Mean returns to normalized scores against reference policies' scores on the same
    episodes, or the returns themselves where random and the ceiling cannot anchor them."""

    def __init__(self, references: dict[str, float]) -> None:
        self.anchor = anchors(references)
        self.normalized = self.anchor.span

    @property
    def kind(self) -> str:
        return "normalized score" if self.normalized else "mean return"

    def __call__(self, mean_return: float) -> float:
        if not self.normalized:
            return mean_return
        return normalize(mean_return, self.anchor.floor, self.anchor.ceiling)

    def describe(self) -> dict:
        return {
            "kind": self.kind,
            "floor": {"policy": "random", "mean_return": self.anchor.floor},
            "ceiling": {"policy": self.anchor.ceiling_policy, "mean_return": self.anchor.ceiling},
        }


def _order(group: list[dict], policy: str) -> tuple[int, int]:
    """Random first, then reference policies, the oracle, then learners; else run order."""
    kinds = {r["policy"]: r["kind"] for r in group}
    rank = 0 if policy == "random" else 2 if policy == "oracle" else 1
    if kinds[policy] != REFERENCE:
        rank = 3
    first = min(i for i, r in enumerate(group) if r["policy"] == policy)
    return rank, first


def aggregate_cell(aggregate: Aggregate | None, use_iqm: bool = False) -> str:
    """An aggregate's mean (or IQM) and its interval, as a table cell."""
    if aggregate is None:
        return "n/a"
    if use_iqm:
        return format_bounds(aggregate.iqm, *aggregate.iqm_ci)
    return format_bounds(aggregate.mean, *aggregate.mean_ci)


def summary_tables(results: list[PolicyResult], max_metrics: int = 3) -> str:
    """One Markdown table per environment configuration."""
    sections = []
    by_config: dict[tuple[str, str], list[PolicyResult]] = defaultdict(list)
    for result in results:
        by_config[(result.env_id, result.scenario)].append(result)
    for (env_id, scenario), group in by_config.items():
        metric_names = list(group[0].metrics)[:max_metrics]
        headers = ["policy", "kind", "normalized (mean)", "normalized (IQM)", "return"]
        headers += metric_names + ["train s (median)"]
        rows = []
        for r in group:
            kind = "trained" if r.kind != REFERENCE else "reference"
            rows.append(
                [
                    r.policy,
                    kind,
                    aggregate_cell(r.normalized),
                    aggregate_cell(r.normalized, use_iqm=True),
                    aggregate_cell(r.score),
                ]
                + [aggregate_cell(r.metrics.get(m)) for m in metric_names]
                + [f"{r.train_seconds:.0f}" if r.train_steps else "-"]
            )
        title = env_id if scenario == "default" else f"{env_id} ({scenario})"
        seeds = max(r.score.n for r in group)
        note = (
            f"{seeds} seeds: intervals are wide; policies whose intervals overlap are not "
            "ranked by this run."
            if seeds < FEW_SEEDS
            else f"{seeds} seeds."
        )
        if all(r.normalized is None for r in group):
            note += (
                " No normalized scores: the ceiling does not earn "
                f"{MIN_SPAN:.0%} more than random here, so compare the returns."
            )
        sections.append(f"### {title}\n\n{note}\n\n{markdown_table(headers, rows)}")
    return "\n\n".join(sections)


def cold_start_table(results: list[PolicyResult]) -> str:
    """A Markdown section of every learner's cold-start regret, or '' if none was measured."""
    rows = []
    for r in results:
        if r.cold_start is None:
            continue
        config = r.env_id if r.scenario == "default" else f"{r.env_id} ({r.scenario})"
        rows.append(
            [
                config,
                r.policy,
                f"{r.cold_start_steps:,}",
                r.cold_start_reference,
                aggregate_cell(r.cold_start),
                format_number(r.cold_start.mean / r.cold_start_steps),
            ]
        )
    if not rows:
        return ""
    headers = ["configuration", "learner", "steps", "reference", "regret (mean)", "per step"]
    return (
        "### Cold start\n\n"
        "Regret over each learner's first training steps: the reference's total reward "
        "minus the learner's on the same steps (same configuration, same episode seeds, "
        "reset as training reset them; the reward units are the environment's). The "
        "reference is the oracle where there is one, else the heuristic with the highest "
        "total on those steps. Mean over seeds with its 95% bootstrap interval; negative "
        "means the learner out-earned the reference while learning.\n\n"
        + markdown_table(headers, rows)
    )


def write_summary(records: list[dict], out: str | Path, header: str = "") -> str:
    """Write ``summary.md``, ``summary.csv`` and the plots; return the Markdown."""
    from opsgym.train.rule_comparison import rule_comparison_table

    out = Path(out)
    results, failed = summarize(records)
    text = header + summary_tables(results)
    for section in (cold_start_table(results), rule_comparison_table(results, records)):
        if section:
            text += "\n\n" + section
    if failed:
        text += "\n\n### Failed trials\n\n" + "\n".join(
            f"- {r['key']}: {r.get('error', 'unknown error')}" for r in failed
        )
    write_text(out / "summary.md", text + "\n")
    _write_csv(results, out / "summary.csv")
    draw_figures(results, records, out)
    return text


def _write_csv(results: list[PolicyResult], path: Path) -> None:
    with atomic_write(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "env_id",
                "scenario",
                "policy",
                "kind",
                "quantity",
                "n",
                "mean",
                "mean_low",
                "mean_high",
                "iqm",
                "iqm_low",
                "iqm_high",
                "train_seconds",
                "train_steps",
            ]
        )
        for r in results:
            quantities = {"return": r.score, **r.metrics}
            if r.normalized is not None:
                quantities["normalized_score"] = r.normalized
            if r.cold_start is not None:
                quantities["cold_start_regret"] = r.cold_start
            for name, a in quantities.items():
                writer.writerow(
                    [
                        r.env_id,
                        r.scenario,
                        r.policy,
                        r.kind,
                        name,
                        a.n,
                        a.mean,
                        *a.mean_ci,
                        a.iqm,
                        *a.iqm_ci,
                        r.train_seconds,
                        r.train_steps,
                    ]
                )

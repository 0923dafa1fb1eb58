"""Evaluate reference policies on an environment and tabulate their domain metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from opsgym.baselines import make_policy, policy_names
from opsgym.train.checkpoints import load_trained_policy
from opsgym.train.runner import (
    EpisodeResult,
    evaluation_seeds,
    is_online,
    make_env,
    run_episode,
)
from opsgym.train.stats import mean_interval
from opsgym.train.table import format_interval, markdown_table


@dataclass
class Evaluation:
    """One policy's episodes on one environment configuration."""

    policy: str
    episodes: list[EpisodeResult]

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and 95% interval half-width of the return and of every domain metric."""
        columns = {"return": [e.episode_return for e in self.episodes]}
        for episode in self.episodes:
            for name, value in episode.metrics.items():
                columns.setdefault(name, []).append(value)
        return {name: mean_interval(values) for name, values in columns.items()}


def evaluate_policies(
    env_id: str,
    policies: list[str] | None = None,
    episodes: int = 10,
    seed: int = 0,
    env_kwargs: dict | None = None,
    runs: Sequence[str | Path] = (),
    stochastic: bool = False,
) -> list[Evaluation]:
    """Run each named reference policy and each trained run for ``episodes`` episodes.

    Every policy sees the same episode seeds, so the workloads (arrivals, sizes,
    failures) are identical across policies: differences are the policies' own. The
    seeds are evaluation seeds, which training never uses.

    Args:
        env_id: a registered opsgym id.
        policies: reference policy names; ``None`` means every reference policy of the
            env, unless ``runs`` are given.
        episodes: the number of episodes per policy.
        seed: the base seed of the evaluation episodes and of the policies' generators.
        env_kwargs: constructor arguments of the environment.
        runs: run folders written by ``opsgym train``.
        stochastic: the trained SB3 models sample their actions (from a generator seeded
            with ``seed``) instead of taking the most likely one.
    """
    env = make_env(env_id, env_kwargs)
    if policies is None:
        policies = [] if runs else policy_names(env)
    named = [(name, make_policy(env, name, seed=seed)) for name in policies]
    sample_seed = seed if stochastic else None
    named += [load_trained_policy(path, env, sample_seed) for path in runs]
    seeds = evaluation_seeds(seed, episodes)
    results = [
        Evaluation(name, [run_episode(env, policy, s, is_online(policy)) for s in seeds])
        for name, policy in named
    ]
    env.close()
    return results


def evaluation_table(evaluations: list[Evaluation]) -> str:
    """A Markdown table: one row per policy, the return then each metric, mean ± 95% CI."""
    summaries = [(e.policy, e.summary()) for e in evaluations]
    columns: list[str] = []
    for _, summary in summaries:
        columns += [name for name in summary if name not in columns]
    rows = [
        [policy] + [format_interval(*summary[c]) if c in summary else "" for c in columns]
        for policy, summary in summaries
    ]
    return markdown_table(["policy", *columns], rows)

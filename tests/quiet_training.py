"""Training settings for the tests: each names only what differs from a quiet, short run."""

from __future__ import annotations

from pathlib import Path

from opsgym.train.training import TrainSettings


def quiet_training(out: Path, env_id: str, agent: str, **changes) -> TrainSettings:
    """Settings of ``agent`` trained on ``env_id`` into ``out``: no progress bar, no periodic
    evaluation, one episode in the final one, but for ``changes`` (fields of
    :class:`TrainSettings`)."""
    quiet = {"eval_every": 0, "eval_episodes": 1, "progress": False}
    return TrainSettings(env_id=env_id, agent=agent, out=str(out), **(quiet | changes))

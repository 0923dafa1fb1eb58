"""Hand-written agents' tuned hyperparameters, per agent and environment id, as data.

``baselines/hyperparams/agents.yml`` maps an agent name to environment ids, and each id
to the agent's constructor arguments (the tabular agents' schedules as mappings, e.g.
``epsilon: {kind: linear, start: 1.0, end: 0.05, steps: 50000}``), in the spirit of the
SB3 algorithms' rl-zoo3 files next to it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from opsgym.agents import WRAPS


def hyperparams_path() -> Path:
    """The shipped YAML file of the hand-written agents' hyperparameters."""
    return Path(str(resources.files("opsgym.baselines") / "hyperparams" / "agents.yml"))


def load(agent: str, env_id: str, path: str | Path | None = None) -> dict:
    """The constructor arguments of ``agent`` for ``env_id`` (empty if it has no block).

    An agent built around another (:data:`opsgym.agents.WRAPS`) starts from that
    agent's block; its own block overrides it.

    Raises:
        ValueError: the file cannot be read, or a block is not a mapping.
    """
    path = Path(path) if path is not None else hyperparams_path()
    try:
        blocks = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read agent hyperparameters from {path}: {error}") from error
    if not isinstance(blocks, dict) or not isinstance(blocks.get(agent, {}), dict):
        raise ValueError(f"{path}: expected agent names mapping environment ids to arguments")
    block = blocks.get(agent, {}).get(env_id, {})
    if not isinstance(block, dict):
        raise ValueError(f"{path}: the block of {agent} on {env_id} is not a mapping")
    wrapped = WRAPS.get(agent)
    return (load(wrapped, env_id, path) if wrapped else {}) | block

"""Named scenarios: configurations of an environment that pose one hard question each.

A scenario is an environment id plus constructor arguments, with a name and the
question it asks (does a learner notice a backend that degrades? survive heavy tails?).
The benchmark runs every scenario next to each environment's default configuration.

>>> from opsgym.envs.scenarios import scenarios
>>> sorted(scenarios("opsgym/LoadBalancing-v0"))  # doctest: +SKIP
['drift-failures', 'drift-failures-gradual', 'drift-slowdown', 'drift-slowdown-gradual', 'feedback-only', 'heavy-tail']
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """One named configuration of an environment."""

    env_id: str
    name: str
    description: str
    env_kwargs: dict = field(default_factory=dict, hash=False)


_SCENARIOS: dict[str, dict[str, Scenario]] = {}


def register_scenario(env_id: str, name: str, description: str, **env_kwargs) -> None:
    """Add a scenario of ``env_id``; registering the same name again replaces it."""
    if name == "default":
        raise ValueError("'default' is the environment's own configuration, not a scenario")
    _SCENARIOS.setdefault(env_id, {})[name] = Scenario(env_id, name, description, env_kwargs)


def scenarios(env_id: str) -> dict[str, Scenario]:
    """The scenarios of ``env_id`` by name (empty if it has none)."""
    return dict(_SCENARIOS.get(env_id, {}))

"""Named scenarios: configurations of an environment that pose one hard question each.

A scenario is an environment plus constructor arguments, with a name and the question
it asks (does a learner notice a backend that degrades? survive heavy tails?). Each
environment package declares its own in ``SCENARIOS``; each is registered as an id of
its own, ``opsgym/<Name>-<scenario>-v<version>``, and the benchmark runs every scenario
next to each environment's default configuration.

>>> from opsgym.envs.scenarios import scenarios
>>> scenarios("opsgym/Caching-v0")["adversary-flood"].id
'opsgym/Caching-adversary-flood-v0'
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from gymnasium.envs.registration import get_env_id, parse_env_id

from opsgym.envs.packages import package


@dataclass(frozen=True)
class Scenario:
    """One named configuration of an environment."""

    env_id: str  # the environment's own id
    name: str
    description: str
    env_kwargs: dict = field(default_factory=dict, hash=False)

    @property
    def id(self) -> str:
        """The scenario's registered id: the environment's, with the scenario's name
        before the version (a scenario is a configuration of that version's dynamics)."""
        namespace, name, version = parse_env_id(self.env_id)
        return get_env_id(namespace, f"{name}-{self.name}", version)


def scenarios(env_id: str) -> dict[str, Scenario]:
    """The scenarios of the environment ``env_id`` by name (empty if it has none).

    Raises:
        ValueError: ``env_id`` is no opsgym environment.
    """
    return {
        name: Scenario(env_id, name, description, copy.deepcopy(env_kwargs))
        for name, (description, env_kwargs) in package(env_id).SCENARIOS.items()
    }

"""The environment packages: every subpackage of :mod:`opsgym.envs` but ``core``.

Each exports the same surface from its ``__init__.py``, which the registry, the
scenarios, the reference policies, the benchmark, ``opsgym list``, federated training
and the tests read instead of keeping tables of their own:

| name | what it is |
|------|------------|
| ``ID`` | its Gymnasium id, ``opsgym/<Name>-v<version>`` |
| ``ENV`` | the Gymnasium environment class, the id's entry point |
| ``VECTOR_ENV`` | its native vector environment class (the id's ``vector_entry_point``), or None |
| ``CONFIG`` | its configuration dataclass (:class:`opsgym.envs.core.config.EnvConfig`); ``CONFIG(**kwargs).max_episode_steps`` is the horizon the id registers |
| ``SCENARIOS`` | scenario name -> (the question it asks, its constructor arguments) |
| ``POLICIES`` | the module of its reference policies, which exports ``POLICIES`` (name -> factory) and ``TEACHER`` (the best heuristic, imitation's default teacher); environments import no policy: the module is in :mod:`opsgym.baselines`, which reads the environments |
| ``NODE_VARIATIONS`` | the constructor arguments of federated node i (cycled); empty: every node runs the default configuration, nodes differ by their seeds only |

Adding an environment is adding its package here: nothing lists the packages.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

SURFACE = ("ID", "ENV", "VECTOR_ENV", "CONFIG", "SCENARIOS", "POLICIES", "NODE_VARIATIONS")
_NOT_ENVIRONMENTS = {"core"}


def _environment_packages() -> dict[str, ModuleType]:
    packages = {}
    found = pkgutil.iter_modules([str(Path(__file__).parent)])
    for name in sorted(info.name for info in found if info.ispkg):
        if name in _NOT_ENVIRONMENTS:
            continue
        package = importlib.import_module(f"opsgym.envs.{name}")
        missing = [item for item in SURFACE if not hasattr(package, item)]
        if missing:
            raise ImportError(f"opsgym.envs.{name} does not export {missing}: see {__name__}")
        packages[package.ID] = package
    return packages


# env id -> its package, in the packages' alphabetical order
PACKAGES: dict[str, ModuleType] = _environment_packages()


def package(env_id: str) -> ModuleType:
    """The package of the environment ``env_id`` (a base id, not a scenario's).

    Raises:
        ValueError: ``env_id`` is no opsgym environment (the message lists them).
    """
    if env_id not in PACKAGES:
        raise ValueError(f"unknown environment {env_id!r}; choose from {sorted(PACKAGES)}")
    return PACKAGES[env_id]

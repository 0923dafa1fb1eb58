"""The environment packages: every subpackage of :mod:`opsgym.envs` but ``core``.

Each exports the same surface, which the registry, the scenarios, the reference
policies, the benchmark, ``opsgym list``, federated training and the tests read instead
of keeping tables of their own. A package's ``__init__.py`` states what is its own
(``ENV``, ``SCENARIOS``, and ``VECTOR_ENV`` and ``NODE_VARIATIONS`` where it has them);
this module derives the rest when it finds the packages:

| name | what it is |
|------|------------|
| ``ID`` | its Gymnasium id, ``opsgym/<Name>-v<version>``: ``ENV.env_id`` |
| ``ENV`` | the Gymnasium environment class, the id's entry point |
| ``VECTOR_ENV`` | its native vector environment class (the id's ``vector_entry_point``); None when the package states none |
| ``CONFIG`` | its configuration dataclass (:class:`opsgym.envs.core.config.EnvConfig`), ``ENV.config_class``; ``CONFIG(**kwargs).max_episode_steps`` is the horizon the id registers |
| ``SCENARIOS`` | scenario name -> (the question it asks, its constructor arguments) |
| ``POLICIES`` | the module of its reference policies, ``opsgym.baselines.<package>``, which exports ``POLICIES`` (name -> factory) and ``TEACHER`` (the best heuristic, imitation's default teacher); environments import no policy: the module is in :mod:`opsgym.baselines`, which reads the environments |
| ``NODE_VARIATIONS`` | the constructor arguments of federated node i (cycled); empty (when the package states none): every node runs the default configuration, nodes differ by their seeds only |

Adding an environment is adding its package here: nothing lists the packages.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

SURFACE = ("ID", "ENV", "VECTOR_ENV", "CONFIG", "SCENARIOS", "POLICIES", "NODE_VARIATIONS")
_STATED = ("ENV", "SCENARIOS")  # what every package states; the rest may be derived
_NOT_ENVIRONMENTS = {"core"}


def _complete_surface(package: ModuleType) -> None:
    """Give ``package`` the surface names its ``__init__`` does not state (see the module's
    docstring), and list them all in its ``__all__``.

    Raises:
        ImportError: the package does not state ``ENV`` or ``SCENARIOS``.
    """
    missing = [item for item in _STATED if not hasattr(package, item)]
    if missing:
        raise ImportError(f"{package.__name__} does not export {missing}: see {__name__}")
    derived = {
        "ID": package.ENV.env_id,
        "VECTOR_ENV": None,
        "CONFIG": package.ENV.config_class,
        "POLICIES": f"opsgym.baselines.{package.__name__.rpartition('.')[2]}",
        "NODE_VARIATIONS": [],
    }
    for item, value in derived.items():
        if not hasattr(package, item):
            setattr(package, item, value)
    package.__all__ = sorted({*getattr(package, "__all__", ()), *SURFACE})


def _environment_packages() -> dict[str, ModuleType]:
    packages = {}
    found = pkgutil.iter_modules([str(Path(__file__).parent)])
    for name in sorted(info.name for info in found if info.ispkg):
        if name in _NOT_ENVIRONMENTS:
            continue
        package = importlib.import_module(f"opsgym.envs.{name}")
        _complete_surface(package)
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

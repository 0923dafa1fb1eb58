"""opsgym environments. Importing this module registers every id under ``opsgym/``.

>>> import gymnasium as gym
>>> import opsgym.envs
>>> env = gym.make("opsgym/LoadBalancing-v0")
>>> flood = gym.make("opsgym/Caching-adversary-flood-v0")

``gymnasium.make("opsgym.envs:opsgym/LoadBalancing-v0")`` imports this module first and
works without the explicit import.

Each environment package (:mod:`opsgym.envs.packages` lists what each exports) gives
its id, ``opsgym/<Name>-v<version>``, and one id per scenario,
``opsgym/<Name>-<scenario>-v<version>``: the same entry point with the scenario's
arguments as the spec's ``kwargs``, so ``gym.make`` of a scenario id makes what
``gym.make`` of the environment's id with those arguments makes. A scenario id carries
its environment's version: it is a configuration of that version's dynamics.

Each spec also has a ``description`` attribute, the question a scenario asks (for an
environment's own id, the first line of its docstring). Gymnasium's ``EnvSpec`` has no
such field, so opsgym sets it on the registered spec (``gym.spec(id).description``):
it is not passed to the constructor, not in ``spec.to_json()`` and not on a made
env's ``env.spec``.

Episode length: every id registers ``max_episode_steps``, its configuration's
``max_episode_steps`` (the horizon for the environments whose episodes have a fixed
number of steps, a bound that no episode reaches first for Caching and
ResourceAllocation), and the environment ends its episodes itself on the same step,
so gymnasium's ``TimeLimit`` never cuts one first. The configuration owns the horizon:
an argument that lengthens the episode (``episode_length``, Autoscaling's
``episode_steps``, ...) must come with ``max_episode_steps`` of the new length in the
same ``gym.make`` call, or ``TimeLimit`` ends the episode at the registered step;
a shorter episode needs nothing. :func:`make_kwargs` adds it to the arguments, and
opsgym's commands make every env with it.
A native vector env ends its episodes itself, on its configuration's step: the
``max_episode_steps`` that ``make_vec`` passes it cuts none (nor does it make a
longer one, which gymnasium's ``TimeLimit`` would).

Native vector environments (``vector_entry_point``, built by ``gymnasium.make_vec(id,
num_envs=N, vectorization_mode="vector_entry_point")``, scenario ids included) advance
N instances with numpy batch operations, with the bookkeeping of
:mod:`opsgym.envs.vector`: LoadBalancing, ConfigTuning, AnomalyDetection,
ServiceRouting, ResourceAllocation and Routing (without LP snapshots) follow their
single env bit for bit (instance i seeded s + i); Autoscaling to rounding (numpy's exp
is not libm's); IndexSelection (cost-model backend only) in distribution (one
multinomial draw for all instances). The others have none, because their state is not
a fixed-shape array: Caching keeps per-object records of the cached objects, and serves
a varying number of requests between two decisions; CachingPrefetch, an ordered
dictionary of the cached objects and a table of each object's observed successors; CDN,
per-edge caches through which each interval's requests pass one by one.
"""

from __future__ import annotations

from types import ModuleType

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator, register, registry

from opsgym.envs.packages import PACKAGES
from opsgym.envs.scenarios import scenarios


def _entry_point(cls: type | None) -> str | None:
    return None if cls is None else f"{cls.__module__}:{cls.__qualname__}"


def _register(env_id: str, package: ModuleType, kwargs: dict, description: str) -> None:
    # Re-importing (e.g. after importlib.reload) must not re-register: gymnasium warns.
    if env_id in registry:
        return
    register(
        id=env_id,
        entry_point=_entry_point(package.ENV),
        vector_entry_point=_entry_point(package.VECTOR_ENV),
        max_episode_steps=package.CONFIG.build(**kwargs).max_episode_steps,
        kwargs=kwargs,
    )
    registry[env_id].description = description


for _env_id, _package in PACKAGES.items():
    _register(_env_id, _package, {}, (_package.ENV.__doc__ or "").strip().splitlines()[0])
    for _scenario in scenarios(_env_id).values():
        _register(_scenario.id, _package, _scenario.env_kwargs, _scenario.description)


def opsgym_ids() -> list[str]:
    """Every opsgym environment's own id, sorted (its scenarios' ids are not included)."""
    return sorted(PACKAGES)


def registered_ids() -> list[str]:
    """Every registered opsgym id, sorted: the environments' and their scenarios'."""
    return sorted(env_id for env_id in registry if env_id.startswith("opsgym/"))


def make_kwargs(env_id: str, env_kwargs: dict | None = None) -> dict:
    """The keyword arguments of ``gym.make`` or ``gym.make_vec`` for ``env_id`` configured
    by ``env_kwargs``: those, and the ``max_episode_steps`` of that configuration (-1, no
    time limit, where the configuration bounds no episode), so that gymnasium's time limit
    agrees with the environment's own end of episode.

    Raises:
        ValueError, TypeError: ``env_kwargs`` is no valid configuration of ``env_id``.
    """
    spec = gym.spec(env_id)
    arguments = {**spec.kwargs, **(env_kwargs or {})}
    arguments.pop("render_mode", None)
    config_class = load_env_creator(spec.entry_point).config_class
    horizon = config_class.build(**arguments).max_episode_steps
    return {**(env_kwargs or {}), "max_episode_steps": -1 if horizon is None else horizon}

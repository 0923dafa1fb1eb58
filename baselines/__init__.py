"""Reference policies: every environment's heuristics and its oracle, by name.

>>> import gymnasium as gym
>>> import opsgym.envs
>>> from opsgym.baselines import make_policy
>>> env = gym.make("opsgym/LoadBalancing-v0")
>>> policy = make_policy(env, "least_connections", seed=0)

The name ``"oracle"`` is each environment's privileged reference (it reads the
simulator, not the observation); ``"random"`` is the uniform policy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import gymnasium as gym

from opsgym.agents.protocol import Policy
from opsgym.envs.packages import PACKAGES, package

PolicyFactory = Callable[..., Policy]

# each environment class -> its reference policies by name, from the module its package
# names in POLICIES
_POLICIES: dict[type[gym.Env], dict[str, PolicyFactory]] = {
    env_package.ENV: importlib.import_module(env_package.POLICIES).POLICIES
    for env_package in PACKAGES.values()
}


def default_teacher(env_id: str) -> str:
    """The best heuristic of the environment ``env_id`` in the quick benchmark (its
    policies module's ``TEACHER``): imitation's teacher when none is named."""
    return importlib.import_module(package(env_id).POLICIES).TEACHER


def policy_availability(env: gym.Env) -> dict[str, str | None]:
    """Every reference policy of ``env``'s kind, with None where it can run on ``env`` as
    configured and otherwise the reason it refuses.

    A policy refuses to be built when it needs what this configuration hides (queue
    lengths in a feedback-only load balancer, say) or an optional package that is not
    installed (the reason then gives the ``pip install`` that adds it).
    """
    availability: dict[str, str | None] = {}
    for name, factory in _policies_for(env).items():
        try:
            factory(env, 0)
        except ValueError as refusal:
            availability[name] = str(refusal)
        else:
            availability[name] = None
    return availability


def policy_names(env: gym.Env) -> list[str]:
    """The names of the reference policies that can run on ``env`` as configured."""
    return [name for name, refusal in policy_availability(env).items() if refusal is None]


def make_policy(env: gym.Env, name: str, seed: int | None = None) -> Policy:
    """Build the reference policy ``name`` for ``env``.

    Raises:
        ValueError: ``name`` is not a policy of this environment (the message lists
            them), or it refuses this configuration (the message says why).
    """
    policies = _policies_for(env)
    if name not in policies:
        raise ValueError(
            f"unknown policy {name!r} for {_env_name(env)}; choose from {sorted(policies)}"
        )
    try:
        return policies[name](env, seed)
    except ValueError as refusal:
        raise ValueError(f"{name} cannot run on {_env_name(env)}: {refusal}") from refusal


def _policies_for(env: gym.Env) -> dict[str, PolicyFactory]:
    for env_class, policies in _POLICIES.items():
        if isinstance(env.unwrapped, env_class):
            return policies
    raise ValueError(f"no reference policies are defined for {_env_name(env)}")


def _env_name(env: gym.Env) -> str:
    return env.spec.id if env.spec is not None else type(env.unwrapped).__name__

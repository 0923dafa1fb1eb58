"""opsgym environments. Importing this module registers every id under ``opsgym/``.

>>> import gymnasium as gym
>>> import opsgym.envs
>>> env = gym.make("opsgym/LoadBalancing-v0")

``gymnasium.make("opsgym.envs:opsgym/LoadBalancing-v0")`` imports this module first and
works without the explicit import.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    # Re-importing (e.g. after importlib.reload) must not re-register: gymnasium warns.
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)


# ----------------------------------------------------------------------------------------
# Load balancing
# ----------------------------------------------------------------------------------------

_register("opsgym/LoadBalancing-v0", "opsgym.envs.load_balancing:LoadBalancingEnv")

# ----------------------------------------------------------------------------------------
# Self-tuning systems
# ----------------------------------------------------------------------------------------

_register("opsgym/ConfigTuning-v0", "opsgym.envs.config_tuning:ConfigTuningEnv")
_register("opsgym/IndexSelection-v0", "opsgym.envs.index_selection:IndexSelectionEnv")


def opsgym_ids() -> list[str]:
    """Every registered opsgym environment id, sorted."""
    return sorted(env_id for env_id in registry if env_id.startswith("opsgym/"))

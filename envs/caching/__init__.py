"""opsgym/Caching: eviction and admission decisions on real and synthetic request streams."""

from opsgym.envs.caching.config import CachingConfig
from opsgym.envs.caching.env import CachingEnv
from opsgym.envs.caching.oracle import BeladyOracle
from opsgym.envs.caching.simulator import DecisionCache

__all__ = ["BeladyOracle", "CachingConfig", "CachingEnv", "DecisionCache"]

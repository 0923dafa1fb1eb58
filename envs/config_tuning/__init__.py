"""opsgym/ConfigTuning: a service that tunes its own threads, pool, cache and timeout."""

from opsgym.envs.config_tuning.config import ConfigTuningConfig
from opsgym.envs.config_tuning.env import ConfigTuningEnv
from opsgym.envs.config_tuning.oracle import PhaseBestOracle, best_configuration
from opsgym.envs.config_tuning.simulator import Config, ServiceModel, performance

__all__ = [
    "Config",
    "ConfigTuningConfig",
    "ConfigTuningEnv",
    "PhaseBestOracle",
    "ServiceModel",
    "best_configuration",
    "performance",
]

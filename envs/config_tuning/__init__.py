"""opsgym/ConfigTuning: a service that tunes its own threads, pool, cache and timeout."""

from opsgym.envs.config_tuning.config import ConfigTuningConfig
from opsgym.envs.config_tuning.env import ConfigTuningEnv
from opsgym.envs.config_tuning.oracle import PhaseBestOracle, best_configuration
from opsgym.envs.config_tuning.simulator import Config, ServiceModel, performance
from opsgym.envs.config_tuning.vector import ConfigTuningVectorEnv

ENV = ConfigTuningEnv
VECTOR_ENV = ConfigTuningVectorEnv
SCENARIOS = {
    "stationary": (
        "the workload mix never changes: the default's I/O shift switched off",
        {"drift": "none"},
    ),
    "drift-gradual": (
        "the I/O-bound share rises from 20% to 80% over 50 intervals (a gradual rollout)",
        {"drift_ramp": 50},
    ),
}

__all__ = [
    "Config",
    "ConfigTuningConfig",
    "ConfigTuningEnv",
    "PhaseBestOracle",
    "ServiceModel",
    "best_configuration",
    "performance",
]

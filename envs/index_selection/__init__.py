"""opsgym/IndexSelection: a database that learns which indexes to keep."""

from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.env import IndexSelectionEnv
from opsgym.envs.index_selection.oracle import PhaseBestOracle, best_index_set
from opsgym.envs.index_selection.vector import IndexSelectionVectorEnv

ENV = IndexSelectionEnv
VECTOR_ENV = IndexSelectionVectorEnv
SCENARIOS = {
    "stationary": (
        "one popularity ranking for the whole episode: the default's shuffles switched off",
        {"drift": "none"},
    ),
    "drift-gradual": (
        "each new popularity ranking phases in over the first 25 windows of its phase",
        {"drift_ramp": 25},
    ),
}

__all__ = ["IndexSelectionConfig", "IndexSelectionEnv", "PhaseBestOracle", "best_index_set"]

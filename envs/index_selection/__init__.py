"""opsgym/IndexSelection: a database that learns which indexes to keep."""

from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.env import IndexSelectionEnv
from opsgym.envs.index_selection.oracle import PhaseBestOracle, best_index_set
from opsgym.envs.index_selection.vector import IndexSelectionVectorEnv

ID = "opsgym/IndexSelection-v0"
ENV = IndexSelectionEnv
VECTOR_ENV = IndexSelectionVectorEnv
CONFIG = IndexSelectionConfig
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

POLICIES = "opsgym.baselines.index_selection"
NODE_VARIATIONS: list[dict] = []

__all__ = [
    "CONFIG",
    "ENV",
    "ID",
    "IndexSelectionConfig",
    "IndexSelectionEnv",
    "NODE_VARIATIONS",
    "POLICIES",
    "PhaseBestOracle",
    "SCENARIOS",
    "VECTOR_ENV",
    "best_index_set",
]

"""opsgym/IndexSelection: a database that learns which indexes to keep."""

from opsgym.envs.index_selection.config import IndexSelectionConfig
from opsgym.envs.index_selection.env import IndexSelectionEnv
from opsgym.envs.index_selection.oracle import PhaseBestOracle, best_index_set

__all__ = ["IndexSelectionConfig", "IndexSelectionEnv", "PhaseBestOracle", "best_index_set"]

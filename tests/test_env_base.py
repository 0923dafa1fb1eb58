"""What the envs' common base supplies: docstring sections, the package surface, the
ConfigTuning performance table's bulk fill."""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np
import pytest
from gymnasium import spaces

from opsgym.envs.config_tuning import ConfigTuningConfig
from opsgym.envs.config_tuning.simulator import PerformanceTable, ServiceModel, performance
from opsgym.envs.configured import ConfiguredEnv
from opsgym.envs.core.config import EnvConfig, setting
from opsgym.envs.core.kinds import Integer
from opsgym.envs.packages import SURFACE, _complete_surface


@dataclass(frozen=True, kw_only=True)
class TinyConfig(EnvConfig):
    size: int = setting(2, Integer(1, 9), "cells of the line")
    episode_length: int = setting(4, Integer(1, 99), "steps per episode")


def tiny_env_class(doc: str) -> type[ConfiguredEnv]:
    class TinyEnv(ConfiguredEnv[np.ndarray, int], config_class=TinyConfig):
        __doc__ = doc
        env_id = "test/Tiny-v3"
        example = {"size": 3}

        @staticmethod
        def spaces(config):
            return spaces.Discrete(2), spaces.Box(0.0, 1.0, (config.size,), np.float32)

    return TinyEnv


def test_the_markers_become_the_arguments_and_vector_sections():
    env_class = tiny_env_class("Walk a line.\n\n    {ARGUMENTS}\n\n    {VECTOR_ENV}\n")
    doc = env_class.__doc__
    lines = doc.split("\n")
    assert lines[2] == "    ## Arguments"
    assert "    | `size` | int in [1, 9] | `2` | cells of the line |" in lines
    assert '    >>> env = gym.make("test/Tiny-v3", size=3)' in lines
    vector = doc[doc.index("## Vector Environment") :]
    assert 'gym.make_vec("test/Tiny-v3", num_envs=N' in vector
    package = env_class.__module__.rpartition(".")[0]
    assert f"(`{package}.vector`)" in " ".join(vector.split())
    assert max(len(line) for line in lines) <= 100


@pytest.mark.parametrize(
    "doc", ["no marker", "{ARGUMENTS}\n{ARGUMENTS}", "{ARGUMENTS}\n{VECTOR_ENV}\n{VECTOR_ENV}"]
)
def test_a_docstring_without_one_arguments_marker_is_refused_by_name(doc):
    with pytest.raises(ValueError, match=r"TinyEnv's docstring needs one \{ARGUMENTS\} line"):
        tiny_env_class(doc)


def test_a_package_states_env_and_scenarios_and_the_rest_is_derived():
    env_class = tiny_env_class("Walk.\n{ARGUMENTS}")
    package = types.ModuleType("opsgym.envs.tiny")
    package.ENV, package.SCENARIOS, package.__all__ = env_class, {}, ["TinyConfig"]
    _complete_surface(package)
    assert package.ID == "test/Tiny-v3" and package.CONFIG is TinyConfig
    assert package.POLICIES == "opsgym.baselines.tiny"
    assert package.VECTOR_ENV is None and package.NODE_VARIATIONS == []
    assert package.__all__ == sorted({"TinyConfig", *SURFACE})


def test_what_a_package_states_is_kept():
    package = types.ModuleType("opsgym.envs.tiny")
    package.ENV, package.SCENARIOS = tiny_env_class("Walk.\n{ARGUMENTS}"), {}
    package.NODE_VARIATIONS = [{"size": 5}]
    _complete_surface(package)
    assert package.NODE_VARIATIONS == [{"size": 5}]


def test_a_package_without_scenarios_is_refused_by_name():
    package = types.ModuleType("opsgym.envs.tiny")
    package.ENV = tiny_env_class("Walk.\n{ARGUMENTS}")
    with pytest.raises(ImportError, match=r"opsgym.envs.tiny does not export \['SCENARIOS'\]"):
        _complete_surface(package)


def test_the_performance_table_gives_every_row_of_a_batch_the_model_bits():
    config = ConfigTuningConfig(drift_ramp=3)
    table = PerformanceTable(config)
    model = ServiceModel(cores=config.cores)
    rng = np.random.default_rng(0)
    # 40 rows of 10 entries in one lookup: the table holds the 10, every row reads its own
    pick = rng.integers(0, 10, size=40)
    indices = rng.integers(0, table.sizes, size=(10, 4))[pick]
    burst = (rng.random(10) < 0.5)[pick]
    level = rng.integers(0, table.ramp + 1, size=10)[pick]
    rows = table.lookup(indices, burst, level)
    entries = set(zip(map(tuple, indices.tolist()), burst.tolist(), level.tolist()))
    assert table.known.sum() == len(entries)
    for grid, b, v, row in zip(indices.tolist(), burst.tolist(), level.tolist(), rows):
        truth = performance(model, config.config_at(grid), table.rates[b], float(table.mixes[v]))
        assert row.tolist() == [getattr(truth, name) for name in PerformanceTable.COLUMNS]
    assert np.array_equal(table.lookup(indices, burst, level), rows)  # now read, not computed

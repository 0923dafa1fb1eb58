"""The base of every opsgym env: its arguments are the fields of one configuration."""

from __future__ import annotations

import importlib
import json
import textwrap
from typing import Any, Generic, SupportsFloat, TypeVar

import gymnasium as gym

from opsgym.envs.core import validation
from opsgym.envs.core.config import EnvConfig, arguments_table
from opsgym.envs.core.episode_guard import EpisodeGuard

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")
ARGUMENTS_MARKER = "{ARGUMENTS}"
VECTOR_ENV_MARKER = "{VECTOR_ENV}"


class ConfiguredEnv(gym.Env[ObsType, ActType], Generic[ObsType, ActType]):
    """An env built from a configuration, ``class XEnv(ConfiguredEnv[...], config_class=XConfig)``
    with the class attributes ``env_id`` (its Gymnasium id) and ``example`` (arguments that
    show it off).

    The constructor takes the configuration's fields as keyword arguments (``gym.make``'s),
    or a whole one as ``config=``; it stores it as ``self.config``, builds the spaces with
    the subclass's ``spaces(config)`` and leaves the rest to its ``_set_up(config)``.
    ``reset`` seeds ``np_random`` and lets ``_start`` draw the episode; ``step`` checks the
    order of calls and the action, lets ``_advance`` take it, and adds the
    ``episode_metrics()`` to the info of the step that ends the episode.
    The subclass's docstring is completed from these facts: its line ``{ARGUMENTS}``
    becomes the Arguments section (the table of the fields, the horizon its id registers,
    ``gym.make`` with the arguments ``example``), and a line ``{VECTOR_ENV}``, where the env
    has a native vector env that follows it bit for bit, the Vector Environment section
    saying so.
    It renders with its package's ``render.rgb_frame`` and its ``_text_frame()``.
    """

    config_class: type[EnvConfig]
    env_id: str
    example: dict[str, Any] = {}

    def __init_subclass__(cls, config_class: type[EnvConfig] | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if config_class is None:
            return
        cls.config_class = config_class
        if cls.__doc__ is not None:  # python -OO strips docstrings
            cls.__doc__ = _completed_docstring(cls)

    def __init__(
        self, config: EnvConfig | None = None, render_mode: str | None = None, **kwargs: Any
    ) -> None:
        self.config = self.config_class.build(config, **kwargs)
        self.render_mode = validation.render_mode(render_mode, self.metadata["render_modes"])
        self.action_space, self.observation_space = self.spaces(self.config)
        self._actions = int(self.action_space.n)
        self._guard = EpisodeGuard()
        self._set_up(self.config)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        super().reset(seed=seed)
        observation, info = self._start(options)
        self._guard.start()
        return observation, info

    def step(self, action: ActType) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        self._guard.check()
        result = self._advance(validation.action_index(action, self._actions))
        if result[2] or result[3]:  # terminated or truncated
            self._guard.end()
            result[4]["episode_metrics"] = self.episode_metrics()
        return result

    @staticmethod
    def spaces(config: Any) -> tuple[gym.Space, gym.Space]:
        """The action and observation spaces of an env of ``config``."""
        raise NotImplementedError

    def _set_up(self, config: Any) -> None:
        """Build the simulator and the state of an env of ``config``."""
        raise NotImplementedError

    def _start(self, options: dict[str, Any] | None) -> tuple[ObsType, dict[str, Any]]:
        """Draw a new episode from ``self.np_random`` (seeded by ``reset``); return its
        first observation and info."""
        raise NotImplementedError

    def _advance(self, action: int) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        """Take ``action`` (an index checked against the action space); return ``step``'s
        5-tuple, whose info ``step`` completes with the episode metrics when it ends."""
        raise NotImplementedError

    def episode_metrics(self) -> dict[str, float]:
        """The metrics of the episode so far, in operators' units."""
        raise NotImplementedError

    def render(self) -> Any:
        """A frame of the ``render_mode`` the env was made with: ``"rgb_array"`` draws
        it with the ``rgb_frame`` of the env's package's ``render`` module (imported
        now: Pillow loads only when a picture is asked for), ``"ansi"`` writes
        :meth:`_text_frame`."""
        if self.render_mode == "rgb_array":
            package = type(self).__module__.rpartition(".")[0]
            return importlib.import_module(f"{package}.render").rgb_frame(self)
        if self.render_mode == "ansi":
            return self._text_frame()
        return None

    def _text_frame(self) -> str:
        """The state as text, for ``render_mode="ansi"``."""
        raise NotImplementedError


def _completed_docstring(cls: type[ConfiguredEnv]) -> str:
    sections = {
        ARGUMENTS_MARKER: _arguments_section(cls),
        VECTOR_ENV_MARKER: _vector_env_section(cls),
    }
    lines = cls.__doc__.split("\n")
    counts = {marker: sum(line.strip() == marker for line in lines) for marker in sections}
    if counts[ARGUMENTS_MARKER] != 1 or counts[VECTOR_ENV_MARKER] > 1:
        raise ValueError(
            f"{cls.__name__}'s docstring needs one {ARGUMENTS_MARKER} line and at most one "
            f"{VECTOR_ENV_MARKER} line, got {counts}"
        )
    completed = []
    for line in lines:
        section = sections.get(line.strip())
        if section is None:
            completed.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        completed += [indent + text if text else text for text in section]
    return "\n".join(completed)


def _arguments_section(cls: type[ConfiguredEnv]) -> list[str]:
    """The Arguments section: the table of the configuration's fields, the horizon the id
    registers, and ``gym.make`` with the arguments ``example``."""
    arguments = "".join(f", {name}={_literal(value)}" for name, value in cls.example.items())
    return [
        "## Arguments",
        "",
        *arguments_table(cls.config_class),
        "",
        "Each id registers `max_episode_steps`, the most steps an episode of its configuration",
        "takes (see Episode End); a longer episode needs `max_episode_steps` too (`opsgym.envs`).",
        "",
        ">>> import gymnasium as gym",
        ">>> import opsgym.envs",
        f'>>> env = gym.make("{cls.env_id}"{arguments})',
        ">>> observation, info = env.reset(seed=0)",
    ]


def _literal(value: object) -> str:
    """``value`` as Python source, strings in double quotes as the docstrings write them."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _vector_env_section(cls: type[ConfiguredEnv]) -> list[str]:
    """The Vector Environment section of an env whose native vector env follows it bit for
    bit (the contract of :mod:`opsgym.envs.vector`)."""
    vector_module = f"{cls.__module__.rpartition('.')[0]}.vector"
    sentence = (
        f'`gym.make_vec("{cls.env_id}", num_envs=N, vectorization_mode="vector_entry_point")` '
        f"advances N instances in numpy arrays (`{vector_module}`); instance i reset with seed "
        "s + i follows this env reset with seed s + i bit for bit."
    )
    return ["## Vector Environment", "", *textwrap.wrap(sentence, 88, break_on_hyphens=False)]


class EnvOracle:
    """The base of the oracles that read their env's state, not only its observations
    (the one exception to the rule that policies see observations):
    ``class XOracle(EnvOracle)`` with ``env_class = XEnv``.

    Args:
        env: the environment to read; wrappers are looked through.
    """

    env_class: type[gym.Env]

    def __init__(self, env: gym.Env) -> None:
        self.env = validation.unwrapped_as(env, self.env_class, type(self).__name__)

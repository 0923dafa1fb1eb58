"""The base of every opsgym env: its arguments are the fields of one configuration."""

from __future__ import annotations

import importlib
from typing import Any, Generic, TypeVar

import gymnasium as gym

from opsgym.envs.core import validation
from opsgym.envs.core.config import EnvConfig, arguments_table

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")
ARGUMENTS_MARKER = "{ARGUMENTS}"


class ConfiguredEnv(gym.Env[ObsType, ActType], Generic[ObsType, ActType]):
    """An env built from a configuration, ``class XEnv(ConfiguredEnv[...], config_class=XConfig)``.

    The constructor takes the configuration's fields as keyword arguments (``gym.make``'s),
    or a whole one as ``config=``; it stores it as ``self.config``, builds the spaces with
    the subclass's ``spaces(config)`` and leaves the rest to its ``_set_up(config)``. The
    line ``{ARGUMENTS}`` of the subclass's docstring becomes the table of the fields.
    It renders with its package's ``render.rgb_frame`` and its ``_text_frame()``.
    """

    config_class: type[EnvConfig]

    def __init_subclass__(cls, config_class: type[EnvConfig] | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if config_class is None:
            return
        cls.config_class = config_class
        if cls.__doc__ is not None:  # python -OO strips docstrings
            cls.__doc__ = _with_arguments_table(cls.__name__, cls.__doc__, config_class)

    def __init__(
        self, config: EnvConfig | None = None, render_mode: str | None = None, **kwargs: Any
    ) -> None:
        self.config = self.config_class.build(config, **kwargs)
        self.render_mode = validation.render_mode(render_mode, self.metadata["render_modes"])
        self.action_space, self.observation_space = self.spaces(self.config)
        self._set_up(self.config)

    @staticmethod
    def spaces(config: Any) -> tuple[gym.Space, gym.Space]:
        """The action and observation spaces of an env of ``config``."""
        raise NotImplementedError

    def _set_up(self, config: Any) -> None:
        """Build the simulator and the state of an env of ``config``."""
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


def _with_arguments_table(name: str, doc: str, config_class: type[EnvConfig]) -> str:
    lines = doc.split("\n")
    markers = [i for i, line in enumerate(lines) if line.strip() == ARGUMENTS_MARKER]
    if len(markers) != 1:
        raise ValueError(f"{name}'s docstring needs one {ARGUMENTS_MARKER} line")
    at = markers[0]
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    table = [indent + line if line else line for line in arguments_table(config_class)]
    return "\n".join(lines[:at] + table + lines[at + 1 :])


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

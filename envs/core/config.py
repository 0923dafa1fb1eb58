"""Environment configurations: frozen dataclasses whose fields declare their own checks.

An environment's arguments are the fields of one frozen dataclass deriving from
:class:`EnvConfig`, each declared with :func:`setting`: its default, its *kind* (the
values it takes, with their limits: :mod:`opsgym.envs.core.kinds`) and one line of
documentation. One mechanism then validates every environment's arguments and writes its
docstring's Arguments table (:func:`arguments_table`):

- numpy scalars and arrays are accepted wherever the equivalent Python value is, and are
  stored as plain Python values, so that a configuration stays hashable and JSON-able;
- a boolean must be a boolean: ``"False"``, ``"no"`` or ``0`` is refused;
- numbers must be finite and within their field's limits, sizes included: the limits are
  generous, but refuse an episode or a fleet that would exhaust memory;
- a field that only some modes read (``used_when``) must keep its default under the
  others, so that no argument is silently ignored;
- an unknown keyword argument is refused with the list of the valid ones.

Checks that involve several fields are written in the configuration's ``validate``. A
configuration also derives what follows from its fields alone (rates, scales, reward
terms), so that the single env, its vector env and its oracles compute it in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from opsgym.envs.core.kinds import Kind, Real

# the kinds most fields take
POSITIVE = Real(0.0, open_low=True)
PROBABILITY = Real(0.0, 1.0)


@dataclass(frozen=True)
class When:
    """A condition on one field: its value is one of ``values`` (or, ``negated``, is not)."""

    name: str
    values: tuple
    negated: bool = False

    def holds(self, config: object) -> bool:
        return (getattr(config, self.name) in self.values) != self.negated

    def __str__(self) -> str:
        values = " or ".join(repr(value) for value in self.values)
        return f"{self.name} is {'not ' if self.negated else ''}{values}"


def when(name: str, *values: object) -> When:
    """The condition that field ``name`` has one of ``values``."""
    return When(name, values)


def unless(name: str, *values: object) -> When:
    """The condition that field ``name`` has none of ``values``."""
    return When(name, values, negated=True)


@dataclass(frozen=True)
class Setting:
    """What :func:`setting` declares about a field."""

    kind: Kind
    doc: str
    used_when: When | None = None
    required: bool = False


def setting(
    default: object,
    kind: Kind,
    doc: str,
    used_when: When | None = None,
    *,
    required: bool = False,
) -> Any:
    """Declare a configuration field: ``setting(0.5, Real(0.0, 1.0), "its meaning")``, and
    for a field that only some modes read, ``setting(..., when("drift", "level"))``.

    Args:
        default: the value when the argument is not given.
        kind: what values it takes (:class:`Real`, :class:`Integer`, ...).
        doc: one line for the Arguments table, with units in brackets.
        used_when: the condition under which the environment reads the field; under any
            other, a value other than the default is an error.
        required: the field (default None) must be given when ``used_when`` holds.
    """
    return dataclasses.field(
        default=default, metadata={"setting": Setting(kind, doc, used_when, required)}
    )


def settings(config_class: type) -> dict[str, Setting]:
    """The declared settings of a configuration class, by field name, in order."""
    return {item.name: item.metadata["setting"] for item in dataclasses.fields(config_class)}


Config = TypeVar("Config", bound="EnvConfig")


@dataclass(frozen=True)
class EnvConfig:
    """The base of every environment's configuration; see the module's docstring."""

    def __post_init__(self) -> None:
        declared = settings(type(self))
        for name, declaration in declared.items():
            value = declaration.kind.check(name, getattr(self, name))
            object.__setattr__(self, name, value)
        defaults = {item.name: item.default for item in dataclasses.fields(self)}
        for name, declaration in declared.items():
            condition = declaration.used_when
            if condition is None:
                continue
            value = getattr(self, name)
            if condition.holds(self):
                if declaration.required and value is None:
                    raise ValueError(f"{name} is required when {condition}")
            elif value != defaults[name]:
                current = getattr(self, condition.name)
                raise ValueError(
                    f"{name} is used only when {condition}, got {name}={value!r} with "
                    f"{condition.name}={current!r}: leave it out, or change {condition.name}"
                )
        self.validate()

    def validate(self) -> None:
        """Check what involves several fields; subclasses override it."""

    @property
    def max_episode_steps(self) -> int | None:
        """The most steps an episode of this configuration takes, which its id registers as
        ``max_episode_steps``: ``episode_length`` unless a subclass says otherwise (None:
        no bound is known from the configuration alone)."""
        return self.episode_length

    @classmethod
    def build(cls: type[Config], config: Config | None = None, **kwargs: Any) -> Config:
        """The configuration ``config``, or one built from keyword arguments (``gym.make``'s).

        Raises:
            TypeError: an unknown argument (the message lists the valid ones), a
                ``config`` of another class, or both ``config`` and keyword arguments.
        """
        if config is not None:
            if not isinstance(config, cls):
                raise TypeError(f"config must be a {cls.__name__}, got {config!r}")
            if kwargs:
                raise TypeError(
                    f"give either config= or keyword arguments, not both; got config and "
                    f"{sorted(kwargs)}"
                )
            return config
        names = [item.name for item in dataclasses.fields(cls)]
        unknown = [key for key in kwargs if key not in names]
        if unknown:
            raise TypeError(
                f"{cls.__name__} has no argument {unknown[0]!r}; the valid arguments are: "
                f"{', '.join(names)}"
            )
        return cls(**kwargs)


def _default_text(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_default_text(item) for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def arguments_table(config_class: type) -> list[str]:
    """The Markdown lines of the Arguments section: what ``config_class`` is, then the
    table of its fields."""
    lines = [
        f"The fields of `{config_class.__name__}` (`{config_class.__module__}`): give them as",
        "keyword arguments (to `gym.make` too), or a whole configuration as `config=`.",
        "",
        "| Parameter | Type | Default | Description |",
        "|-----------|------|---------|-------------|",
    ]
    for item in dataclasses.fields(config_class):
        declared: Setting = item.metadata["setting"]
        doc = declared.doc
        if declared.used_when is not None:
            need = "required" if declared.required else "used only"
            doc = f"{doc}; {need} when {declared.used_when}"
        default = _default_text(item.default)
        lines.append(f"| `{item.name}` | {declared.kind.describe()} | `{default}` | {doc} |")
    return lines

"""The kinds of values a configuration field takes (:mod:`opsgym.envs.core.config`).

A kind checks a value, returning it normalised (numpy scalars and arrays as Python numbers
and tuples) or raising an error that names the field, and describes what it accepts for
the docstring's Arguments table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from opsgym.envs.core import validation


class Kind(Protocol):
    """The values a field takes: ``check`` returns the value normalised or raises an error
    naming the field; ``describe`` says what is accepted, for the Arguments table."""

    def check(self, name: str, value: object) -> Any: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Real:
    """A finite float within ``low`` and ``high`` (None: unbounded)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def check(self, name: str, value: object) -> float:
        return validation.real(
            name, value, self.low, self.high, open_low=self.open_low, open_high=self.open_high
        )

    def describe(self) -> str:
        bounds = validation.interval(
            self.low, self.high, open_low=self.open_low, open_high=self.open_high
        )
        return f"float {bounds}".strip()


@dataclass(frozen=True)
class Integer:
    """An int in [low, high]; ``high`` is the sanity limit of a size."""

    low: int | None = None
    high: int | None = None

    def check(self, name: str, value: object) -> int:
        return validation.integer(name, value, minimum=self.low, maximum=self.high)

    def describe(self) -> str:
        return f"int {validation.interval(self.low, self.high)}".strip()


@dataclass(frozen=True)
class Flag:
    """A boolean, and nothing that merely looks like one."""

    def check(self, name: str, value: object) -> bool:
        return validation.flag(name, value)

    def describe(self) -> str:
        return "bool"


@dataclass(frozen=True)
class Choice:
    """One of a few strings."""

    options: tuple[str, ...]

    def check(self, name: str, value: object) -> str:
        return validation.choice(name, value, self.options)

    def describe(self) -> str:
        quoted = [f'"{option}"' for option in self.options]
        return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@dataclass(frozen=True)
class Text:
    """A non-empty string, such as a file path (an ``os.PathLike`` becomes its string)."""

    def check(self, name: str, value: object) -> str:
        text = os.fspath(value) if isinstance(value, os.PathLike) else validation.plain(value)
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {value!r}")
        if not text:
            raise ValueError(f"{name} must not be empty")
        return text

    def describe(self) -> str:
        return "str"


@dataclass(frozen=True)
class OrNone:
    """None, or a value of ``kind``."""

    kind: Kind

    def check(self, name: str, value: object) -> Any:
        return None if value is None else self.kind.check(name, value)

    def describe(self) -> str:
        return f"{self.kind.describe()} or None"


@dataclass(frozen=True)
class Items:
    """A non-empty list of values of ``kind``, stored as a tuple: exactly ``length``
    items, or at most ``max_length`` (the sanity limit)."""

    kind: Kind
    length: int | None = None
    max_length: int | None = None

    def check(self, name: str, value: object) -> tuple:
        return validation.sequence(
            name, value, self.kind.check, length=self.length, max_length=self.max_length
        )

    def describe(self) -> str:
        if self.length is not None:
            count = f"{self.length}"
        else:
            count = "1 or more" if self.max_length is None else f"1 to {self.max_length:,}"
        inner = self.kind.describe()
        return f"list of {count} ({inner})" if " " in inner else f"list of {count} {inner}"

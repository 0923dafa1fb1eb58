"""Argument checks whose error messages name the offending argument.

Every environment validates its constructor arguments with these helpers, so that a bad
configuration fails at construction with ``ValueError: <name> ...`` instead of deep
inside numpy halfway through an episode.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def positive(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    number = _finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def non_negative(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    number = _finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number


def in_range(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return ``value`` as a float, or raise if it is outside the interval [low, high].

    ``open_low`` and ``open_high`` exclude the matching end point.
    """
    number = _finite(name, value)
    below = number <= low if open_low else number < low
    above = number >= high if open_high else number > high
    if below or above:
        left = "(" if open_low else "["
        right = ")" if open_high else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}")
    return number


def probability(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not in [0, 1]."""
    return in_range(name, value, 0.0, 1.0)


def integer(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value``, or raise if it is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)


def unwrapped_as(env: object, env_class: type, user: str):
    """The innermost env under ``env``'s wrappers, or raise if it is not an ``env_class``.

    Args:
        env: an environment, possibly wrapped (anything with ``.unwrapped``).
        env_class: the environment class the caller works with.
        user: who asks, for the message (a policy or oracle name).
    """
    unwrapped = getattr(env, "unwrapped", env)
    if not isinstance(unwrapped, env_class):
        raise TypeError(f"{user} needs a {env_class.__name__}, got {type(unwrapped).__name__}")
    return unwrapped


def render_mode(value: object, supported: Sequence[str]) -> str | None:
    """Return ``value`` if it is None or a supported render mode, else raise ``TypeError``.

    ``TypeError`` rather than ``ValueError`` because that is how SB3's ``make_vec_env``
    and rl-zoo3 learn that an environment does not render as they ask ("rgb_array"): they
    retry without a render mode.
    """
    if value is not None and value not in supported:
        raise TypeError(f"render_mode must be None or one of {list(supported)}, got {value!r}")
    return value


def sequence(name: str, values: object, check, *, length: int | None = None) -> tuple:
    """Check every element of a non-empty sequence with ``check(element_name, element)``.

    Args:
        name: the argument's name, used in messages as ``name[i]``.
        values: the sequence to check.
        check: one of the scalar checks of this module, e.g. :func:`positive`.
        length: the required length, if any.

    Returns:
        A tuple of the checked elements.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a list of numbers, got {values!r}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must have {length} elements, got {len(values)}")
    return tuple(check(f"{name}[{i}]", value) for i, value in enumerate(values))


def action_index(action: object, n: int) -> int:
    """Return a discrete action as an int, or raise if it is not an integer in [0, n)."""
    try:
        index = operator.index(action)  # accepts int, numpy integers and 0-d integer arrays
    except TypeError:
        raise ValueError(f"action must be an integer in [0, {n}), got {action!r}") from None
    if not 0 <= index < n:
        raise ValueError(f"action must be an integer in [0, {n}), got {action!r}")
    return index

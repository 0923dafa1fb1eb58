"""Argument checks whose error messages name the offending argument.

Every environment validates its arguments with these checks (through the field
declarations of :mod:`opsgym.envs.core.config`), so that a bad configuration fails at
construction with ``ValueError: <name> ...`` instead of deep inside numpy halfway through
an episode. Numpy scalars and arrays are accepted wherever the equivalent Python number
or list is (an Optuna or ``np.arange`` sweep passes ``np.int64``); booleans are never
taken for numbers, nor numbers or strings for booleans.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np


def plain(value: object) -> object:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists,
    inside lists and tuples too."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    return value


def _number_text(number: float) -> str:
    if float(number).is_integer():
        return f"{int(number):,}"
    return f"{number:g}"


def interval(
    low: float | None,
    high: float | None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> str:
    """The bounds ``low`` and ``high`` (None: unbounded) in words: ``"in (0, 1]"``,
    ``"> 0"``, ``"<= 10"``, or ``""`` without either."""
    if low is not None and high is not None:
        left = "(" if open_low else "["
        right = ")" if open_high else "]"
        return f"in {left}{_number_text(low)}, {_number_text(high)}{right}"
    if low is not None:
        return f"{'>' if open_low else '>='} {_number_text(low)}"
    if high is not None:
        return f"{'<' if open_high else '<='} {_number_text(high)}"
    return ""


def _outside(
    number: float, low: float | None, high: float | None, open_low: bool, open_high: bool
) -> bool:
    if low is not None and (number <= low if open_low else number < low):
        return True
    return high is not None and (number >= high if open_high else number > high)


def real(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number within
    ``low`` and ``high`` (None: unbounded; ``open_*`` excludes that end point)."""
    number = plain(value)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(number)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if _outside(number, low, high, open_low, open_high):
        bounds = interval(low, high, open_low=open_low, open_high=open_high)
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return number


def positive(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    return real(name, value, 0.0, open_low=True)


def non_negative(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number >= 0."""
    return real(name, value, 0.0)


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
    return real(name, value, low, high, open_low=open_low, open_high=open_high)


def probability(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not in [0, 1]."""
    return real(name, value, 0.0, 1.0)


def integer(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in [minimum, maximum]
    (None: unbounded); the message names the bounds."""
    number = plain(value)
    bounds = interval(minimum, maximum)
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"{name} must be an integer{' ' + bounds if bounds else ''}, got {value!r}")
    if _outside(number, minimum, maximum, False, False):
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return number


def flag(name: str, value: object) -> bool:
    """Return ``value``, or raise if it is not a boolean: ``"False"``, ``"no"`` or ``0``
    are refused rather than read as true or false."""
    answer = plain(value)
    if not isinstance(answer, bool):
        raise TypeError(f"{name} must be true or false (a boolean), got {value!r}")
    return answer


def choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value``, or raise if it is not one of ``choices``."""
    value = plain(value)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


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


def sequence(
    name: str,
    values: object,
    check,
    *,
    length: int | None = None,
    max_length: int | None = None,
) -> tuple:
    """Check every element of a non-empty sequence with ``check(element_name, element)``.

    Args:
        name: the argument's name, used in messages as ``name[i]``.
        values: the sequence to check (a list, a tuple or a numpy array).
        check: one of the scalar checks of this module, e.g. :func:`positive`.
        length: the required length, if any.
        max_length: the largest length allowed, if any.

    Returns:
        A tuple of the checked elements.
    """
    items = plain(values)
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(f"{name} must be a list, got {values!r}")
    if len(items) == 0:
        raise ValueError(f"{name} must not be empty")
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have {length} elements, got {len(items)}")
    if max_length is not None and len(items) > max_length:
        raise ValueError(f"{name} must have at most {max_length:,} elements, got {len(items):,}")
    return tuple(check(f"{name}[{i}]", value) for i, value in enumerate(items))


def action_index(action: object, n: int) -> int:
    """Return a discrete action as an int, or raise if it is not an integer in [0, n)."""
    try:
        index = operator.index(action)  # accepts int, numpy integers and 0-d integer arrays
    except TypeError:
        raise ValueError(f"action must be an integer in [0, {n}), got {action!r}") from None
    if not 0 <= index < n:
        raise ValueError(f"action must be an integer in [0, {n}), got {action!r}")
    return index

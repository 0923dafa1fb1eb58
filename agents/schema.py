"""Checking saved files against what their readers need, before anything uses them.

Every reader of a file opsgym wrote (an agent checkpoint, the observation statistics
beside an SB3 model, a run folder's ``config.json``, a benchmark's trial records)
declares what it needs and lets this module check it, so that a truncated, edited or
foreign file fails at load with a message naming the file and what is wrong in it,
never later with an ``IndexError`` in ``act()`` or a ``KeyError`` from deep inside.

- :class:`ArraySpec` describes one array of an ``.npz`` file (dtype kind, shape with
  fixed or named dimensions, bounds; floats must be finite) and :func:`read_arrays`
  checks a whole file against a mapping of them.
- A JSON spec is a Python type (``int``, ``float``, ``bool``, ``str``, ``dict``, ``list``),
  a ``dict`` of specs (an object with at least these keys), a one-item ``list`` (a list
  whose items all match the item), or a function that raises ``ValueError`` on a bad
  value; :func:`check` checks a value and :func:`read_json` a file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

JsonSpec = type | dict | list | Callable[[Any], None]

_KINDS = {"f": "floats", "i": "integers", "u": "unsigned integers", "b": "booleans"}
_TYPES = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    dict: "a JSON object",
    list: "a list",
}


@dataclass(frozen=True)
class ArraySpec:
    """What one array of an ``.npz`` file must be.

    Args:
        shape: each dimension's size, or a name: a named dimension may have any size,
            but the same size in every array of the file that names it.
        kind: the dtype kind: ``"f"`` floats (which must be finite), ``"i"`` integers,
            ``"u"`` unsigned integers, ``"b"`` booleans.
        low: the smallest value allowed, if any.
        high: the largest value allowed, if any.
    """

    shape: tuple[int | str, ...]
    kind: str = "f"
    low: float | None = None
    high: float | None = None


def read_arrays(path: str | Path, specs: dict[str, ArraySpec]) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``path``, checked against ``specs``.

    Raises:
        ValueError: naming the file: see :func:`open_arrays` and :func:`check_arrays`.
    """
    arrays = open_arrays(path)
    check_arrays(path, arrays, specs)
    return arrays


def open_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, unchecked.

    Raises:
        ValueError: naming the file: missing, empty, not an ``.npz`` archive, truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} not found")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes)")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array")
        with archive:
            return {name: archive[name] for name in archive.files}
    except Exception as error:  # numpy and zipfile raise many kinds on a damaged file
        raise ValueError(
            f"{path} is not a readable .npz archive ({type(error).__name__}: {error})"
        ) from error


def check_arrays(
    path: str | Path, arrays: dict[str, np.ndarray], specs: dict[str, ArraySpec]
) -> None:
    """Raise ``ValueError`` naming ``path`` unless ``arrays`` are exactly what ``specs`` say."""
    missing = sorted(set(specs) - set(arrays))
    if missing:
        raise ValueError(f"{path}: missing array(s) {missing}")
    unexpected = sorted(set(arrays) - set(specs))
    if unexpected:
        raise ValueError(f"{path}: unexpected array(s) {unexpected}")
    sizes: dict[str, int] = {}
    for name, spec in specs.items():
        _check_array(f"{path}: array {name!r}", arrays[name], spec, sizes)


def _check_array(at: str, array: np.ndarray, spec: ArraySpec, sizes: dict[str, int]) -> None:
    """Check one array against its spec; ``sizes`` holds the named dimensions seen so far."""
    if array.dtype.kind != spec.kind:
        raise ValueError(f"{at} holds {array.dtype} values, expected {_KINDS[spec.kind]}")
    sizes_text = ", ".join(str(size) for size in spec.shape)
    expected = f"({sizes_text},)" if len(spec.shape) == 1 else f"({sizes_text})"
    if array.ndim != len(spec.shape):
        raise ValueError(f"{at} has shape {array.shape}, expected {expected}")
    for size, wanted in zip(array.shape, spec.shape):
        if isinstance(wanted, str):
            seen = sizes.setdefault(wanted, size)
            if seen != size:
                raise ValueError(
                    f"{at} has shape {array.shape}: its {wanted!r} dimension is {size} here "
                    f"and {seen} in another array"
                )
        elif size != wanted:
            raise ValueError(
                f"{at} has shape {array.shape}, expected {expected} "
                "(saved for another environment or configuration?)"
            )
    if spec.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{at} holds NaN or infinite values")
    if spec.low is not None and array.size and array.min() < spec.low:
        raise ValueError(f"{at} holds {array.min()}, below its minimum {spec.low}")
    if spec.high is not None and array.size and array.max() > spec.high:
        raise ValueError(f"{at} holds {array.max()}, above its maximum {spec.high}")


def check(value: Any, spec: JsonSpec, file: str | Path, path: str = "") -> None:
    """Raise ``ValueError`` naming ``file`` and the key ``path`` unless ``value`` fits ``spec``."""
    at = f"{file}: {path or 'the top level'}"
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{at} must be a JSON object, got {_show(value)}")
        for key, inner in spec.items():
            inner_path = f"{path}.{key}" if path else key
            if key not in value:
                raise ValueError(f"{file}: missing {inner_path!r}")
            check(value[key], inner, file, inner_path)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            raise ValueError(f"{at} must be a list, got {_show(value)}")
        for index, item in enumerate(value):
            check(item, spec[0], file, f"{path}[{index}]")
    elif isinstance(spec, type):
        if not _is_a(value, spec):
            raise ValueError(f"{at} must be {_TYPES[spec]}, got {_show(value)}")
    else:
        try:
            spec(value)
        except ValueError as error:
            raise ValueError(f"{at}: {error}") from None


def _is_a(value: Any, kind: type) -> bool:
    if kind is float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and not math.isnan(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_json(path: str | Path, spec: JsonSpec) -> Any:
    """The JSON document in ``path``, checked against ``spec``.

    Raises:
        ValueError: naming the file: missing, unreadable, not JSON, or not fitting ``spec``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path}: not a readable JSON document ({error})") from error
    check(data, spec, path)
    return data

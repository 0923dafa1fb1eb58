"""Checkpoints of the hand-written agents: one ``.npz`` of arrays plus a JSON header.

The header (stored in the archive as a UTF-8 byte array) names the agent type, the
format version and the parameters; arrays hold the learned state. Each agent declares
what its checkpoint holds (an :class:`~opsgym.agents.schema.ArraySpec` per array and a
JSON spec of its parameters), and loading checks the file against that declaration
before the agent takes anything from it: a checkpoint that loads is one the agent can
act from. Nothing is ever unpickled, and saving replaces the file atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from opsgym.agents.atomic import atomic_write
from opsgym.agents.schema import ArraySpec, JsonSpec, check, check_arrays, open_arrays

FORMAT_VERSION = 2  # 2: the UCB family keeps raw mean rewards, no longer scaled ones
_HEADER = "__header__"


def generator_state(state) -> None:
    """Check that ``state`` restores a PCG64 generator (``np.random.default_rng``'s)."""
    try:
        np.random.PCG64().state = state
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(f"not the state of a PCG64 random generator ({error!r})") from error


def save_checkpoint(path: str | Path, kind: str, params: dict, arrays: dict) -> Path:
    """Write ``arrays`` and a header to ``path`` (``.npz`` is appended if missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    header = {"kind": kind, "format_version": FORMAT_VERSION, "params": params}
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_write(path, binary=True) as handle:
        np.savez(handle, **{_HEADER: encoded}, **{k: np.asarray(v) for k, v in arrays.items()})
    return path


def load_checkpoint(
    path: str | Path, kind: str, arrays: dict[str, ArraySpec], params: JsonSpec
) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a checkpoint of agent type ``kind``: its parameters and arrays, both checked.

    Args:
        path: the ``.npz`` file (the suffix may be left out).
        kind: the agent type the checkpoint must hold.
        arrays: what each array must be.
        params: what the header's parameters must be.

    Raises:
        ValueError: naming the file: missing, corrupt, of another agent type or format
            version, or not what ``arrays`` and ``params`` declare.
    """
    path = Path(path)
    if not path.is_file() and path.with_name(path.name + ".npz").is_file():
        path = path.with_name(path.name + ".npz")
    try:
        found = open_arrays(path)
    except ValueError as error:
        raise ValueError(f"not an opsgym agent checkpoint: {error}") from error
    try:
        header = json.loads(found.pop(_HEADER).tobytes().decode())
    except (KeyError, ValueError) as error:  # no header, or not UTF-8 JSON
        raise ValueError(f"{path} is not an opsgym agent checkpoint: no readable header") from error
    check(header, {"kind": str, "format_version": int}, path, "header")
    if header["kind"] != kind:
        raise ValueError(f"{path} holds a {header['kind']!r} agent, not a {kind!r} agent")
    if header["format_version"] != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format {header['format_version']}, "
            f"this opsgym reads format {FORMAT_VERSION}"
        )
    check(header, {"params": params}, path, "header")
    check_arrays(path, found, arrays)
    return header["params"], found

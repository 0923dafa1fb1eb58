"""Checkpoints of the hand-written agents: one ``.npz`` of arrays plus a JSON header.

The header (stored in the archive as a UTF-8 byte array) names the agent type, the
format version and the hyperparameters; arrays hold the learned state. Loading checks
the type, the version and every array's shape, and never unpickles anything.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
_HEADER = "__header__"


def save_checkpoint(path: str | Path, kind: str, params: dict, arrays: dict) -> Path:
    """Write ``arrays`` and a header to ``path`` (``.npz`` is appended if missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    header = {"kind": kind, "format_version": FORMAT_VERSION, "params": params}
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **{_HEADER: encoded}, **{k: np.asarray(v) for k, v in arrays.items()})
    return path


def load_checkpoint(path: str | Path, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a checkpoint of agent type ``kind``: its hyperparameters and arrays.

    Raises:
        ValueError: the file is missing, corrupt, of another agent type or version.
    """
    path = Path(path)
    if not path.is_file() and path.with_name(path.name + ".npz").is_file():
        path = path.with_name(path.name + ".npz")
    if not path.is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not an opsgym agent checkpoint: {error}") from error
    if header.get("kind") != kind:
        raise ValueError(f"{path} holds a {header.get('kind')!r} agent, not a {kind!r} agent")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format {header.get('format_version')}, "
            f"this opsgym reads format {FORMAT_VERSION}"
        )
    return header["params"], arrays


def expect_shape(path: str | Path, name: str, array: np.ndarray, shape: tuple) -> np.ndarray:
    """Return ``array`` if it has ``shape``, else raise naming the array and the file."""
    if array.shape != tuple(shape):
        raise ValueError(
            f"{path}: array {name!r} has shape {array.shape}, this agent needs {tuple(shape)} "
            "(trained on another environment?)"
        )
    return array

"""Writing files so that a crash never leaves half of one.

A whole file (a checkpoint, a run folder's ``config.json``, a benchmark summary) is
written to a temporary file in the same folder, flushed to disk and renamed over its
target (:func:`atomic_write`): whenever the process dies, the target holds either the
previous file or the new one, never a mix. A record appended to a log (a line of
``trials.jsonl``, a row of ``evaluations.csv``) goes to disk in one ``write`` call before
:func:`append_line` returns, so a crash can tear at most the last line.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """A handle whose content replaces ``path`` when the ``with`` block ends normally.

    If the block raises (or the process dies), ``path`` is left as it was and the
    temporary file is removed (a kill leaves a hidden ``.<name>.*.tmp`` behind).
    Text is written as UTF-8 with ``\\n`` line ends on every platform.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open (not tempfile) so the new file gets the permissions the umask allows
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    try:
        with os.fdopen(descriptor, "wb" if binary else "w", **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` by ``text`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path) as handle:
        handle.write(text)


def append_line(path: str | Path, line: str) -> None:
    """Append ``line`` and a newline to ``path`` in one write, flushed to disk."""
    data = (line + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        while data:  # a write interrupted by a signal may take only part of the data
            data = data[os.write(descriptor, data) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so that a rename survives a power cut (POSIX only)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

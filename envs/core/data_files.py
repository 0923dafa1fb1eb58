"""Opening data files: gzip or not, text or binary, and one error for a file that is wrong.

Every reader of a data file in opsgym (cache traces, load traces, labelled series, job
traces, GraphML topologies) opens it here, so that all of them:

- detect gzip by its magic bytes, never by the file's name, and name the other
  compressions they cannot read;
- refuse a missing or unreadable file, an empty one, and a truncated or corrupt gzip;
- refuse binary data where text is expected (bytes that are not UTF-8, or control
  characters), naming the line it starts on;
- raise :class:`DataFileError`, whose message starts with the file and, where there is
  one, the line (text, 1-based) or the record (binary, 0-based).
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import re
import zlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

GZIP_MAGIC = b"\x1f\x8b"
# Compressions whose files opsgym does not decompress, by their magic bytes.
UNSUPPORTED_COMPRESSIONS = {
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}
# C0 control characters other than tab, line feed and carriage return: in a text file
# they are binary data.
BINARY_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")


class DataFileError(ValueError):
    """A data file that cannot be read or is not what its reader expects.

    Attributes:
        path: the file, as the message names it.
        line: the 1-based line of a text file where the problem is, or None.
        record: the 0-based record of a binary file where the problem is, or None.
    """

    def __init__(
        self, path: object, problem: str, *, line: int | None = None, record: int | None = None
    ) -> None:
        place = ""
        if line is not None:
            place = f"line {line}: "
        elif record is not None:
            place = f"record {record}: "
        super().__init__(f"{path}: {place}{problem}")
        self.path, self.line, self.record = str(path), line, record


def packaged(name: str) -> Traversable:
    """A data file shipped in ``opsgym/envs/data``."""
    return resources.files("opsgym.envs").joinpath("data", name)


def read_bytes(source: str | os.PathLike | Traversable, *, gzip_only: bool = False) -> bytes:
    """The content of a file, decompressed when it starts with gzip's magic bytes.

    Args:
        source: a path, or a packaged file from :func:`packaged`.
        gzip_only: refuse a file that is not gzip (for formats defined as compressed).

    Raises:
        DataFileError: the file is missing or unreadable, empty (before or after
            decompression), a truncated or corrupt gzip, compressed by something else
            than gzip, or not gzip while ``gzip_only``.
    """
    file = Path(source) if isinstance(source, (str, os.PathLike)) else source
    try:
        data = file.read_bytes()
    except OSError as error:  # missing, unreadable, a directory
        raise DataFileError(source, f"cannot be read ({error.strerror or error})") from None
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise DataFileError(source, f"truncated or corrupt gzip ({error})") from None
    else:
        for magic, name in UNSUPPORTED_COMPRESSIONS.items():
            if data.startswith(magic):
                raise DataFileError(
                    source, f"is {name}-compressed; decompress it, or recompress it with gzip"
                )
        if gzip_only and data:
            raise DataFileError(source, "not a gzip file (this format is gzip-compressed)")
    if not data:
        raise DataFileError(source, "the file is empty")
    return data


def read_text(source: str | os.PathLike | Traversable) -> str:
    """The UTF-8 text of a file (gzip or not), without a byte-order mark.

    Raises:
        DataFileError: as :func:`read_bytes`, or the file holds binary data: bytes that
            are not UTF-8, or control characters other than tab and line ends (the
            message names the line where they start).
    """
    data = read_bytes(source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataFileError(source, "binary data, not UTF-8 text", line=line) from None
    binary = BINARY_IN_TEXT.search(text)
    if binary:
        line = text.count("\n", 0, binary.start()) + 1
        raise DataFileError(
            source, f"binary data, not text (control character {binary.group()!r})", line=line
        )
    return text


def lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends (``\\n``, ``\\r\\n`` or ``\\r``), line 1 first."""
    split = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return split[:-1] if split[-1] == "" else split


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank row of CSV ``text`` with the 1-based line it starts on."""
    reader = csv.reader(line + "\n" for line in lines(text))
    start = 1
    for row in reader:
        if any(field.strip() for field in row):
            yield start, row
        start = reader.line_num + 1


def parse_number(
    text: str,
    what: str,
    source: object,
    line: int,
    *,
    integer: bool = False,
    low: float | None = None,
) -> float:
    """The finite number (an int when ``integer``) at least ``low`` that ``text`` writes.

    Raises:
        DataFileError: naming ``what``, the file and the line, when ``text`` is not such
            a number.
    """
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise DataFileError(source, f"{what} must be {kind}, got {text!r}", line=line) from None
    if not math.isfinite(value):
        raise DataFileError(source, f"{what} must be finite, got {text!r}", line=line)
    if low is not None and value < low:
        raise DataFileError(source, f"{what} must be >= {low:g}, got {text!r}", line=line)
    return value

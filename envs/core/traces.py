"""Readers of object-request traces in the formats cache researchers exchange.

Every reader returns a :class:`Trace`: the requested object ids in order and, where the
format carries them, the objects' sizes [bytes]. A malformed file raises
:class:`TraceError` naming the file and the line (text formats, 1-based) or the record
(binary formats, 0-based), so a user's own trace fails with a message they can act on.

Formats:

- ``"ids"``: text, one integer object id per line.
- ``"csv"``: text with a header naming the columns ``time,obj_id,size`` (others ignored).
- ``"cache2k"``: gzip of big-endian int32 object ids, the format of the cache2k-benchmark
  traces (``numpy.frombuffer(gzip.open(path).read(), ">i4")``).
- ``"oracle_general"``: libCacheSim's ``oracleGeneral`` binary, 24-byte little-endian
  records ``<u4 time, u8 obj_id, u4 size, i8 next_access_vtime>``.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

FORMATS = ("ids", "csv", "cache2k", "oracle_general")

# The cache2k trace of an e-commerce product-page cache, 2013-07-03 ("Web07"), CC BY 4.0
# (envs/data/LICENSE-trace-mt.txt).
WEB07_FILE = "trace-mt-20130703.trc.bin.gz"

ORACLE_GENERAL_RECORD = np.dtype(
    [("time", "<u4"), ("obj_id", "<u8"), ("size", "<u4"), ("next_access_vtime", "<i8")]
)


class TraceError(ValueError):
    """A trace file that cannot be read; the message names the file and the place."""


@dataclass(frozen=True)
class Trace:
    """A request stream: object ids in request order, and their sizes if known.

    Attributes:
        ids: int64 (uint64 for ``oracle_general``) object ids, one per request.
        sizes: int64 sizes [bytes] of the requested objects, or ``None`` when the
            format has none (every object then has size 1).
    """

    ids: np.ndarray
    sizes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


def read_trace(path: str | Path, trace_format: str | None = None) -> Trace:
    """Read a trace, guessing its format from the file name when none is given.

    ``*.csv`` is CSV, ``*.oracleGeneral*`` or ``*.og.bin`` oracleGeneral, ``*.gz`` cache2k,
    anything else one id per line.
    """
    path = Path(path)
    if trace_format is None:
        trace_format = guess_format(path)
    if trace_format not in FORMATS:
        raise ValueError(f"trace_format must be one of {list(FORMATS)}, got {trace_format!r}")
    readers = {
        "ids": read_ids,
        "csv": read_csv,
        "cache2k": read_cache2k,
        "oracle_general": read_oracle_general,
    }
    try:
        return readers[trace_format](path)
    except TraceError:
        raise
    except OSError as error:  # missing, unreadable, a directory
        raise TraceError(f"{path}: cannot be read ({error.strerror or error})") from None


def guess_format(path: Path) -> str:
    """The format a trace's file name suggests (see :func:`read_trace`)."""
    name = path.name.lower()
    if name.endswith(".csv"):
        return "csv"
    if "oraclegeneral" in name or name.endswith(".og.bin"):
        return "oracle_general"
    if name.endswith(".gz"):
        return "cache2k"
    return "ids"


def read_ids(path: str | Path) -> Trace:
    """Read a text trace of one integer object id per line."""
    path = Path(path)
    ids = []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                ids.append(int(line))
            except ValueError:
                raise TraceError(
                    f"{path}: line {number}: expected an integer object id, got {line.strip()!r}"
                ) from None
    if not ids:
        raise TraceError(f"{path}: the trace is empty")
    return Trace(np.array(ids, dtype=np.int64))


def read_csv(path: str | Path) -> Trace:
    """Read a CSV trace with the header ``time,obj_id,size`` (extra columns are ignored)."""
    path = Path(path)
    ids, sizes = [], []
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None:
            raise TraceError(f"{path}: the trace is empty")
        columns = [name.strip() for name in header]
        missing = [name for name in ("time", "obj_id", "size") if name not in columns]
        if missing:
            raise TraceError(
                f"{path}: line 1: the header must name the columns time, obj_id and size; "
                f"missing {missing} in {header}"
            )
        id_column, size_column = columns.index("obj_id"), columns.index("size")
        width = max(id_column, size_column) + 1
        for number, row in enumerate(rows, start=2):
            if len(row) < width:
                raise TraceError(
                    f"{path}: line {number}: expected {len(columns)} fields, got {row}"
                )
            try:
                obj_id = int(row[id_column])
            except ValueError:
                raise TraceError(
                    f"{path}: line {number}: obj_id must be an integer, got {row[id_column]!r}"
                ) from None
            try:
                size = int(row[size_column])
            except ValueError:
                size = 0
            if size <= 0:
                raise TraceError(
                    f"{path}: line {number}: size must be a positive integer [bytes], "
                    f"got {row[size_column]!r}"
                )
            ids.append(obj_id)
            sizes.append(size)
    if not ids:
        raise TraceError(f"{path}: the trace has a header but no requests")
    return Trace(np.array(ids, dtype=np.int64), np.array(sizes, dtype=np.int64))


def read_cache2k(path: str | Path) -> Trace:
    """Read a cache2k-benchmark trace: gzip of big-endian int32 object ids."""
    path = Path(path)
    return decode_cache2k(path.read_bytes(), str(path))


def decode_cache2k(data: bytes, name: str) -> Trace:
    """Decode a cache2k trace held in memory (its gzip bytes); ``name`` is used in errors."""
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise TraceError(f"{name}: not a readable gzip file ({error})") from None
    return Trace(_records(name, raw, np.dtype(">i4")).astype(np.int64))


def read_oracle_general(path: str | Path) -> Trace:
    """Read a libCacheSim ``oracleGeneral`` trace (uncompressed 24-byte records)."""
    path = Path(path)
    records = _records(path, path.read_bytes(), ORACLE_GENERAL_RECORD)
    sizes = records["size"].astype(np.int64)
    empty = np.flatnonzero(sizes == 0)
    if empty.size:
        raise TraceError(f"{path}: record {int(empty[0])}: size must be > 0 [bytes], got 0")
    return Trace(records["obj_id"].copy(), sizes)


def web07() -> Trace:
    """The shipped Web07 trace: 76,118 requests to 20,484 product pages (cache2k, CC BY 4.0)."""
    data = resources.files("opsgym.envs").joinpath("data", WEB07_FILE).read_bytes()
    return decode_cache2k(data, WEB07_FILE)


def _records(path: Path | str, data: bytes, dtype: np.dtype) -> np.ndarray:
    if not data:
        raise TraceError(f"{path}: the trace is empty")
    whole, extra = divmod(len(data), dtype.itemsize)
    if extra:
        raise TraceError(
            f"{path}: record {whole} is truncated: {extra} of {dtype.itemsize} bytes "
            f"(the file holds {len(data)} bytes)"
        )
    return np.frombuffer(data, dtype=dtype)

"""Readers of object-request traces in the formats cache researchers exchange.

Every reader returns a :class:`Trace`: the requested object ids in order and, where the
format carries them, the objects' sizes [bytes]. Files are opened by
:mod:`opsgym.envs.core.data_files`, so any of them may be gzip-compressed (recognized by
its content, not its name), and a file that is not what its format says raises
:class:`~opsgym.envs.core.data_files.DataFileError` naming the file and the line (text
formats, 1-based) or the record (binary formats, 0-based).

Formats:

- ``"ids"``: text, one integer object id per line.
- ``"csv"``: text with a header naming the columns ``time,obj_id,size`` (others ignored).
- ``"cache2k"``: gzip of big-endian int32 object ids, the format of the cache2k-benchmark
  traces (``numpy.frombuffer(gzip.open(path).read(), ">i4")``).
- ``"oracle_general"``: libCacheSim's ``oracleGeneral`` binary, 24-byte little-endian
  records ``<u4 time, u8 obj_id, u4 size, i8 next_access_vtime>``.

Object ids are labels: any integer, negative ones included, is a valid id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opsgym.envs.core.data_files import (
    DataFileError,
    csv_rows,
    lines,
    packaged,
    parse_number,
    read_bytes,
    read_text,
)

FORMATS = ("ids", "csv", "cache2k", "oracle_general")

# The cache2k trace of an e-commerce product-page cache, 2013-07-03 ("Web07"), CC BY 4.0
# (envs/data/LICENSE-trace-mt.txt).
WEB07_FILE = "trace-mt-20130703.trc.bin.gz"

ORACLE_GENERAL_RECORD = np.dtype(
    [("time", "<u4"), ("obj_id", "<u8"), ("size", "<u4"), ("next_access_vtime", "<i8")]
)
# What libCacheSim writes in next_access_vtime when the object is not requested again.
NO_NEXT_ACCESS = (-1, np.iinfo(np.int64).max)
# Bytes a text file is made of; a binary trace made only of them is a text file.
TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r"


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

    Raises:
        DataFileError: the file cannot be read or is not a trace of that format.
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
    return readers[trace_format](path)


def guess_format(path: Path) -> str:
    """The format a trace's file name suggests, a final ``.gz`` set aside.

    ``*.csv`` is CSV, ``*.oracleGeneral*`` or ``*.og.bin`` oracleGeneral, ``*.txt`` one id
    per line; any other name ending in ``.gz`` is cache2k, and anything else one id per
    line.
    """
    name = path.name.lower()
    inner = name.removesuffix(".gz")
    if inner.endswith(".csv"):
        return "csv"
    if "oraclegeneral" in inner or inner.endswith(".og.bin"):
        return "oracle_general"
    if name.endswith(".gz") and not inner.endswith(".txt"):
        return "cache2k"
    return "ids"


def read_ids(path: str | Path) -> Trace:
    """Read a text trace of one integer object id per line."""
    ids = [
        parse_number(line, "the object id", path, number, integer=True)
        for number, line in enumerate(lines(read_text(path)), start=1)
    ]
    return Trace(np.array(ids, dtype=np.int64))


def read_csv(path: str | Path) -> Trace:
    """Read a CSV trace with the header ``time,obj_id,size`` (extra columns are ignored).

    Times are numbers that never decrease; sizes are positive integers [bytes].
    """
    rows = csv_rows(read_text(path))
    header_line, header = next(rows, (1, []))
    columns = [name.strip() for name in header]
    missing = [name for name in ("time", "obj_id", "size") if name not in columns]
    if missing:
        raise DataFileError(
            path,
            f"the header must name the columns time, obj_id and size; missing {missing} "
            f"in {header}",
            line=header_line,
        )
    time_column, id_column, size_column = (
        columns.index(name) for name in ("time", "obj_id", "size")
    )
    width = max(time_column, id_column, size_column) + 1
    ids, sizes = [], []
    last_time = -np.inf
    for number, row in rows:
        if len(row) < width:
            raise DataFileError(path, f"expected {len(columns)} fields, got {row}", line=number)
        time = parse_number(row[time_column], "time", path, number)
        if time < last_time:
            raise DataFileError(
                path, f"time {row[time_column]!r} is before the previous line's", line=number
            )
        last_time = time
        ids.append(parse_number(row[id_column], "obj_id", path, number, integer=True))
        sizes.append(
            parse_number(row[size_column], "size [bytes]", path, number, integer=True, low=1)
        )
    if not ids:
        raise DataFileError(path, "the trace has a header but no requests")
    return Trace(np.array(ids, dtype=np.int64), np.array(sizes, dtype=np.int64))


def read_cache2k(path: str | Path) -> Trace:
    """Read a cache2k-benchmark trace: gzip of big-endian int32 object ids.

    The format has no structure to check beyond its length: every whole number of
    int32 is a trace, so a gzip of other binary data whose length is a multiple of 4
    reads as one. A gzip of text is refused (is the format right?).
    """
    return Trace(_records(path, read_bytes(path, gzip_only=True), np.dtype(">i4")).astype(np.int64))


def read_oracle_general(path: str | Path) -> Trace:
    """Read a libCacheSim ``oracleGeneral`` trace (24-byte records, gzip or not).

    Checked: every record is whole; times never decrease; sizes are positive (libCacheSim
    can skip size-0 requests instead; here they are an error); and each
    ``next_access_vtime`` agrees with the trace itself: it holds the position of the
    object's next request, counted from 0 or from 1 (converters differ, so the offset is
    inferred from the file and must be the same throughout), or -1 or INT64_MAX (no next
    request) where the object is not requested again in the file, or a position past the
    file's end (a trace cut short).

    Not checkable: object ids are opaque 64-bit hashes, and times and sizes are the
    source's, so a file that passes these checks may still come from another trace or
    use other units.
    """
    records = _records(path, read_bytes(path), ORACLE_GENERAL_RECORD)
    times = records["time"].astype(np.int64)
    backwards = np.flatnonzero(np.diff(times) < 0)
    if backwards.size:
        r = int(backwards[0]) + 1
        raise DataFileError(
            path, f"time {times[r]} is before the previous record's {times[r - 1]}", record=r
        )
    sizes = records["size"].astype(np.int64)
    empty = np.flatnonzero(sizes == 0)
    if empty.size:
        raise DataFileError(path, "size must be > 0 [bytes], got 0", record=int(empty[0]))
    _check_next_accesses(path, records["obj_id"], records["next_access_vtime"])
    return Trace(records["obj_id"].copy(), sizes)


def web07() -> Trace:
    """The shipped Web07 trace: 76,118 requests to 20,484 product pages (cache2k, CC BY 4.0)."""
    return read_cache2k(packaged(WEB07_FILE))


def next_requests(ids: np.ndarray) -> np.ndarray:
    """The position of each request's next request to the same object, -1 if none."""
    order = np.argsort(ids, kind="stable")
    repeated = ids[order[1:]] == ids[order[:-1]]
    following = np.full(len(ids), -1, dtype=np.int64)
    following[order[:-1][repeated]] = order[1:][repeated]
    return following


def _check_next_accesses(path, ids: np.ndarray, stored: np.ndarray) -> None:
    following = next_requests(ids)
    known = following >= 0
    offset = 0
    if known.any():  # the first request with a next one fixes the counting, from 0 or 1
        first = int(np.argmax(known))
        offset = int(stored[first] - following[first])
        if offset not in (0, 1):
            raise DataFileError(
                path,
                f"next_access_vtime is {stored[first]}, but the object is next requested "
                f"by record {following[first]}: the file is not an oracleGeneral trace",
                record=first,
            )
    ends = np.isin(stored, NO_NEXT_ACCESS) | (stored >= len(ids) + offset)
    wrong = np.flatnonzero(~np.where(known, stored == following + offset, ends))
    if wrong.size:
        r = int(wrong[0])
        expected = (
            f"{following[r] + offset} (record {following[r]} requests the object next)"
            if known[r]
            else "-1 (the object is not requested again)"
        )
        raise DataFileError(
            path,
            f"next_access_vtime is {stored[r]}, expected {expected}: the file is not an "
            "oracleGeneral trace, or was edited",
            record=r,
        )


def _records(path, data: bytes, dtype: np.dtype) -> np.ndarray:
    if not data.translate(None, TEXT_BYTES):
        raise DataFileError(path, "holds text, not binary records; is trace_format right?")
    whole, extra = divmod(len(data), dtype.itemsize)
    if extra:
        raise DataFileError(
            path,
            f"truncated: {extra} of {dtype.itemsize} bytes (the file holds {len(data)} bytes)",
            record=whole,
        )
    return np.frombuffer(data, dtype=dtype)

"""Readers of load traces: a CSV of timestamp, value (and optionally a missing flag).

A trace file is a CSV with a header line, whose columns are, by position, an ISO 8601
timestamp, the number of requests in the row's interval, and optionally a column named
``missing`` (1 marks a row whose count was not recorded). Files are opened by
:mod:`opsgym.envs.core.data_files` (gzip or not, whatever their name). Rows must be on
a regular grid (the most common gap between consecutive timestamps); a jump in time is a
gap, and gap rows and rows marked missing are kept as *missing*, never as zero load.
Counts become rates [requests/s] by dividing by the row interval.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from opsgym.envs.core.data_files import DataFileError, csv_rows, packaged, parse_number, read_text
from opsgym.envs.core.seasonal import SECONDS_PER_DAY

PACKAGED_TRACES = {"nasa": "nasa_http_requests_per_minute.csv.gz"}


@dataclass(frozen=True)
class LoadTrace:
    """A trace on a grid of simulation steps.

    Attributes:
        name: where it came from (a file name), for messages.
        rates: the request rate in each step [requests/s]; 0 where missing.
        missing: whether each step lacks data.
        start_seconds: the time of the first step since a Monday 00:00 [s].
        step_seconds: the step length [s].
    """

    name: str
    rates: np.ndarray
    missing: np.ndarray
    start_seconds: float
    step_seconds: float


def load_trace(source: str, step_seconds: float) -> LoadTrace:
    """The packaged trace ``source`` (``"nasa"``) or the CSV file at path ``source``.

    Cached: an environment reset never reads a file. A file is cached by its path, size
    and modification time, so that one edited on disk is read again.
    """
    if source in PACKAGED_TRACES:
        return _packaged(source, step_seconds)
    path = Path(source).resolve()
    if not path.is_file():
        raise ValueError(f"workload: no such trace file {str(path)!r}")
    stat = path.stat()
    return _file(str(path), stat.st_size, stat.st_mtime_ns, step_seconds)


@functools.lru_cache(maxsize=8)
def _packaged(source: str, step_seconds: float) -> LoadTrace:
    name = PACKAGED_TRACES[source]
    return parse_trace(read_text(packaged(name)), name, step_seconds)


@functools.lru_cache(maxsize=8)
def _file(path: str, size: int, mtime_ns: int, step_seconds: float) -> LoadTrace:
    """The trace at ``path``; its ``size`` and ``mtime_ns`` only key the cache."""
    return parse_trace(read_text(path), path, step_seconds)


def parse_trace(text: str, name: str, step_seconds: float) -> LoadTrace:
    """Parse a trace's CSV ``text`` and put it on a grid of ``step_seconds`` steps.

    Raises:
        DataFileError: the file is empty, or a line has a bad timestamp, a non-numeric,
            non-finite or negative value, a bad missing flag, or a time that does not
            increase or is off the grid; the message names the file and line.
    """
    rows = csv_rows(text)
    _, header = next(rows, (1, []))
    if not header:
        raise DataFileError(name, "empty trace (a header line and data rows are expected)")
    has_missing = len(header) >= 3 and header[2].strip().lower() == "missing"
    times: list[float] = []
    counts: list[float] = []
    flags: list[bool] = []
    line_numbers: list[int] = []
    for number, fields in rows:
        if len(fields) < 2:
            raise DataFileError(name, f"expected timestamp,value, got {fields}", line=number)
        try:
            stamp = datetime.fromisoformat(fields[0].strip())
        except ValueError:
            raise DataFileError(name, f"bad timestamp {fields[0]!r}", line=number) from None
        count = parse_number(fields[1], "the value (a count)", name, number, low=0.0)
        flag = False
        if has_missing:
            text_flag = fields[2].strip() if len(fields) > 2 else ""
            if text_flag not in ("0", "1"):
                raise DataFileError(name, f"missing must be 0 or 1, got {fields}", line=number)
            flag = text_flag == "1"
        if times and _seconds(stamp) <= times[-1]:
            raise DataFileError(name, f"time {fields[0]!r} does not increase", line=number)
        times.append(_seconds(stamp))
        counts.append(count)
        flags.append(flag)
        line_numbers.append(number)
    if not times:
        raise DataFileError(name, "no data rows")
    if len(times) == 1:
        raise DataFileError(name, "one data row; a trace needs at least two")

    interval = Counter(b - a for a, b in zip(times, times[1:])).most_common(1)[0][0]
    slots = int(round((times[-1] - times[0]) / interval)) + 1
    rates = np.zeros(slots)
    missing = np.ones(slots, dtype=bool)  # a slot no row fills is a gap
    for time, count, flag, number in zip(times, counts, flags, line_numbers):
        slot = (time - times[0]) / interval
        if abs(slot - round(slot)) > 1e-6:
            raise DataFileError(name, f"time is off the trace's {interval:g} s grid", line=number)
        rates[round(slot)] = count / interval
        missing[round(slot)] = flag
    rates[missing] = 0.0
    start = times[0] % (7 * SECONDS_PER_DAY)
    rates, missing = _regrid(rates, missing, interval, step_seconds, name)
    return LoadTrace(name, rates, missing, start, step_seconds)


def _seconds(stamp: datetime) -> float:
    """Seconds since Monday 1 January 2001 00:00, in the trace's own (naive) clock."""
    return (stamp.replace(tzinfo=None) - datetime(2001, 1, 1)).total_seconds()


def _regrid(
    rates: np.ndarray, missing: np.ndarray, interval: float, step: float, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Average rows into longer steps, or hold each row over several shorter steps."""
    if step >= interval and _is_multiple(step, interval):
        per_step = int(round(step / interval))
        usable = len(rates) // per_step * per_step
        rates = rates[:usable].reshape(-1, per_step).mean(axis=1)
        missing = missing[:usable].reshape(-1, per_step).any(axis=1)
        return rates, missing
    if step < interval and _is_multiple(interval, step):
        repeat = int(round(interval / step))
        return np.repeat(rates, repeat), np.repeat(missing, repeat)
    raise ValueError(
        f"step_seconds must divide or be a multiple of the {interval:g} s interval of {name}, "
        f"got {step:g}"
    )


def _is_multiple(big: float, small: float) -> bool:
    ratio = big / small
    return abs(ratio - round(ratio)) < 1e-9

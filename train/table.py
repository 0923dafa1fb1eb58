"""Markdown tables for the terminal and for summary files."""

from __future__ import annotations

import math
from collections.abc import Sequence


def format_number(value: float) -> str:
    """Four significant digits, without scientific notation for everyday magnitudes."""
    if math.isnan(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def format_interval(mean: float, half_width: float) -> str:
    """``mean ± half_width``, or the mean alone when there is no interval."""
    if math.isnan(half_width):
        return format_number(mean)
    return f"{format_number(mean)} ± {format_number(half_width)}"


def format_bounds(value: float, low: float, high: float) -> str:
    """``value [low, high]``, or the value alone when there is no interval (``low`` NaN)."""
    if math.isnan(low):
        return format_number(value)
    return f"{format_number(value)} [{format_number(low)}, {format_number(high)}]"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose columns are padded to line up in a terminal."""
    widths = [len(h) for h in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(headers)}")
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])

"""Argument types of the ``opsgym`` command line.

Each checks one kind of value while the arguments are parsed, so that a bad value is a
one-line error naming the option (exit code 2) before any work starts: argparse adds
``argument --seed:`` in front of the message a type raises.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from pathlib import Path


class Number:
    """A number of ``kind`` within bounds; a float must also be finite.

    Args:
        kind: ``int`` or ``float``.
        low, high: the bounds, if any.
        low_open, high_open: whether the bound itself is excluded.
    """

    def __init__(
        self,
        kind: type = int,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
    ) -> None:
        self.kind, self.low, self.high = kind, low, high
        self.low_open, self.high_open = low_open, high_open

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {self}, got {text!r}") from None
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        too_high = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if not math.isfinite(value) or too_low or too_high:
            raise argparse.ArgumentTypeError(f"expected {self}, got {text!r}")
        return value

    def __str__(self) -> str:
        noun = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{noun} in {left}{self.low}, {self.high}{right}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {self.low}"
        if self.high is not None:
            return f"{noun} {'<' if self.high_open else '<='} {self.high}"
        return noun


positive_int = Number(int, low=1)
non_negative_int = Number(int, low=0)  # seeds, and counts where 0 means "none"


class Name:
    """One of a set of names, listed only when a value is checked (some are slow to
    import).

    Args:
        names: returns the valid names.
        what: what a name names, for the message ("environment", "agent").
    """

    def __init__(self, names: Callable[[], Iterable[str]], what: str) -> None:
        self.names, self.what = names, what

    def __call__(self, text: str) -> str:
        valid = list(self.names())
        if text not in valid:
            raise argparse.ArgumentTypeError(
                f"unknown {self.what} {text!r}; choose from {', '.join(valid)}"
            )
        return text


def existing_folder(text: str) -> str:
    """A folder that exists (a run folder, say)."""
    if not Path(text).is_dir():
        problem = "is a file" if Path(text).exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text!r} {problem}; expected a folder")
    return text


def existing_file(text: str) -> str:
    """A file that exists (a configuration, say)."""
    if not Path(text).is_file():
        problem = "is a folder" if Path(text).exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text!r} {problem}; expected a file")
    return text


def output_folder(text: str) -> str:
    """A folder to write into: an existing folder, or a path where one can be made."""
    blocker = _file_in_the_way(Path(text))
    if blocker is not None:
        raise argparse.ArgumentTypeError(f"{str(blocker)!r} is a file; expected a folder")
    return text


def output_file(text: str) -> str:
    """A file to write: not an existing folder, and no file where its folder would be."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; expected a file name")
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise argparse.ArgumentTypeError(f"{str(blocker)!r} is a file; expected a folder")
    return text


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing path at or above ``folder`` if it is not a folder, else None."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def ray_address(text: str) -> str:
    """``host:port`` (or ``ray://host:port``) of a Ray cluster; reachability is checked
    when the command connects."""
    from opsgym.train.ray_backend import ClusterUnreachable, parse_address

    try:
        parse_address(text)
    except ClusterUnreachable as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text

"""Replace one block of a hand-kept YAML file, keeping every other line as it was.

The hyperparameter files are YAML with comments (each block's status line, the notes of
past tuning) that a load-and-dump round trip would drop. :func:`set_block` edits the
text instead: it finds the block at a key path by its indentation (two spaces a level,
block style, as those files are written), swaps the block and the comment lines directly
above it for the new ones, or appends them, and then checks, by parsing both texts,
that the new file holds exactly the old data with that one block replaced.
"""

from __future__ import annotations

import textwrap
from copy import deepcopy

import yaml

INDENT = 2
COMMENT_WIDTH = 90


def set_block(text: str, path: tuple[str, ...], block: dict, comment: str) -> str:
    """``text`` with the mapping at ``path`` replaced by ``block``, under ``comment``.

    Args:
        text: the YAML file's text.
        path: the keys from the top level down to the block, e.g. ``("opsgym/X-v0",)``.
        block: the block's new content.
        comment: the comment that goes directly above the block (wrapped, ``#``-prefixed),
            replacing the comment lines directly above the old block.

    Raises:
        ValueError: the file does not parse, or its layout is one this textual edit
            cannot follow (the check after the edit failed).
    """
    if not path:
        raise ValueError("the key path of a block must not be empty")
    try:
        before = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"the file is not valid YAML: {error}") from error
    lines = text.splitlines()
    start, end, depth = 0, len(lines), 0
    for depth, key in enumerate(path):
        indent = depth * INDENT
        line = _find_key(lines, start, end, key, indent)
        if line is None:
            lines[end:end] = _new_entry(path[depth:], block, comment, indent, lines[:end])
            break
        block_end = _block_end(lines, line, end, indent)
        if depth == len(path) - 1:
            first = _comment_start(lines, start, line, indent)
            lines[first:block_end] = _entry(path[-1], block, comment, indent)
            break
        start, end = line + 1, block_end
    updated = "\n".join(lines) + "\n"
    _check(before, updated, path, block)
    return updated


def _key_text(key: str) -> str:
    return yaml.safe_dump({key: None}, default_flow_style=False).split(": null")[0]


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _find_key(lines: list[str], start: int, end: int, key: str, indent: int) -> int | None:
    prefix = " " * indent + _key_text(key) + ":"
    for i in range(start, end):
        line = lines[i]
        if line.startswith(prefix) and line[len(prefix) :][:1] in ("", " "):
            return i
    return None


def _block_end(lines: list[str], line: int, end: int, indent: int) -> int:
    """One past the last line indented deeper than the key at ``line``."""
    last = line
    for i in range(line + 1, end):
        if not lines[i].strip():
            continue
        if _indent_of(lines[i]) <= indent:
            break
        last = i
    return last + 1


def _comment_start(lines: list[str], start: int, line: int, indent: int) -> int:
    """The first of the comment lines (at the key's indentation) directly above ``line``."""
    first = line
    while first > start and lines[first - 1].startswith(" " * indent + "#"):
        if _indent_of(lines[first - 1]) != indent:
            break
        first -= 1
    return first


def _comment_lines(comment: str, indent: int) -> list[str]:
    prefix = " " * indent + "# "
    return textwrap.wrap(
        comment, COMMENT_WIDTH, initial_indent=prefix, subsequent_indent=prefix + "  "
    )


def _entry(key: str, block: dict, comment: str, indent: int) -> list[str]:
    """The comment, the key and the block, block style with flow-style leaves."""
    body = []
    for name, value in block.items():
        nested = isinstance(value, (dict, list))  # flow style for the innermost only
        dumped = yaml.safe_dump({name: value}, default_flow_style=None if nested else False)
        body += [" " * (indent + INDENT) + row for row in dumped.splitlines()]
    return [*_comment_lines(comment, indent), " " * indent + _key_text(key) + ":", *body]


def _new_entry(
    path: tuple[str, ...], block: dict, comment: str, indent: int, above: list[str]
) -> list[str]:
    """The lines that add ``path`` (parents first) at the end of its parent."""
    lines = [""] if indent == 0 and any(line.strip() for line in above) else []
    for depth, key in enumerate(path[:-1]):
        lines.append(" " * (indent + depth * INDENT) + _key_text(key) + ":")
    return lines + _entry(path[-1], block, comment, indent + (len(path) - 1) * INDENT)


def _check(before: dict, updated: str, path: tuple[str, ...], block: dict) -> None:
    expected = deepcopy(before)
    node = expected
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = block
    try:
        after = yaml.safe_load(updated)
    except yaml.YAMLError as error:
        raise ValueError(f"editing the block {list(path)} broke the file: {error}") from error
    if after != expected:
        raise ValueError(
            f"the file's layout is not one the block editor follows; edit {list(path)} by hand"
        )

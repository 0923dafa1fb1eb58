"""Helpers for environments that advance many instances at once with numpy.

No gymnasium here: how seeds spread over instances, how a batch of actions is checked,
and how per-instance values are laid out the way Gymnasium's vector envs report infos
(an array per key, with a boolean ``_key`` array marking the instances that have it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np


def instance_seeds(seed: int | Sequence[int | None] | None, count: int) -> list[int | None]:
    """One seed per instance: ``seed + i`` for instance i, as Gymnasium's vector envs do.

    Args:
        seed: ``None`` (fresh entropy for each), an int, or one seed per instance.
        count: the number of instances.
    """
    if seed is None or isinstance(seed, (int, np.integer)):
        return [None if seed is None else int(seed) + i for i in range(count)]
    if len(seed) != count:
        raise ValueError(f"seed: expected {count} seeds, got {len(seed)}")
    return list(seed)


def action_indices(actions: object, count: int, n: int) -> np.ndarray:
    """``count`` discrete actions in [0, n) as int64, or a ValueError naming them."""
    array = np.asarray(actions)
    if array.shape != (count,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"actions: expected {count} integers, got {actions!r}")
    if count and (array.min() < 0 or array.max() >= n):
        raise ValueError(f"actions: each must be in [0, {n}), got {actions!r}")
    return array.astype(np.int64)


def scatter(values: np.ndarray, rows: np.ndarray, count: int, fill: float = 0) -> np.ndarray:
    """An array over all ``count`` instances holding ``values`` at ``rows``."""
    values = np.asarray(values)
    if rows.size == count:
        return values
    full = np.full((count, *values.shape[1:]), fill, dtype=values.dtype)
    full[rows] = values
    return full


def masked_info(values: dict, rows: np.ndarray, count: int) -> dict:
    """Per-instance values of ``rows`` (arrays, or nested dicts of them) as a vector info.

    Every key gets an array over all instances and a ``_key`` mask that is true at
    ``rows``, the layout of :class:`gymnasium.vector.SyncVectorEnv`'s infos.
    """
    mask = np.zeros(count, dtype=bool)
    mask[rows] = True
    info: dict = {}
    for key, value in values.items():
        if isinstance(value, dict):
            info[key] = masked_info(value, rows, count)
        else:
            info[key] = scatter(value, rows, count)
        info["_" + key] = mask
    return info


def add_info(info: dict, values: dict, rows: np.ndarray, count: int) -> None:
    """Add the values of ``rows`` to the vector ``info`` of other instances, in place."""
    for key, value in values.items():
        if key not in info:
            info.update(masked_info({key: value}, rows, count))
            continue
        if isinstance(value, dict):
            add_info(info[key], value, rows, count)
        else:
            info[key][rows] = value
        mask = info["_" + key].copy()  # masks may be shared between keys
        mask[rows] = True
        info["_" + key] = mask


def builtin_sum(terms: np.ndarray) -> np.ndarray:
    """What Python's ``sum()`` gives of the finite floats ``terms`` along their first
    axis, in order: left-to-right addition (never numpy's pairwise sum), or from Python
    3.12 on CPython's Neumaier-compensated summation. Batched sums then match a single
    env's."""
    total = np.array(terms[0], dtype=np.float64)
    if sys.version_info < (3, 12):
        for x in terms[1:]:
            total += x
        return total
    compensation = np.zeros_like(total)
    for x in terms[1:]:
        added = total + x
        compensation += np.where(abs(total) >= abs(x), (total - added) + x, (x - added) + total)
        total = added
    return np.where(compensation != 0.0, total + compensation, total)  # as CPython: -0.0 stays

"""Values of integer keys, each computed once on first use and looked up many at once.

For vector envs whose instances meet few distinct keys (a set of built indexes, a
configuration under a workload), so that a batch of lookups costs one binary search
while the value of a key is computed by the single env's own code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class LazyTable:
    """The values of the keys asked for so far, by sorted key.

    Args:
        compute: the value of one key, an array of ``shape``.
        shape: each value's shape.
    """

    def __init__(self, compute: Callable[[int], np.ndarray], shape: tuple[int, ...]) -> None:
        self.compute = compute
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros((0, *shape))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The values of ``keys`` (int64), one row each."""
        slots = np.searchsorted(self.keys, keys)
        found = slots < self.keys.size
        found[found] = self.keys[slots[found]] == keys[found]
        if not found.all():
            new = np.unique(keys[~found])
            values = np.stack([self.compute(int(key)) for key in new.tolist()])
            order = np.argsort(np.concatenate([self.keys, new]), kind="stable")
            self.keys = np.concatenate([self.keys, new])[order]
            self.values = np.concatenate([self.values, values])[order]
            slots = np.searchsorted(self.keys, keys)
        return self.values[slots]

"""Action masks as Gymnasium's spaces and sb3-contrib's MaskablePPO read them.

``Discrete.sample(mask=...)`` takes an int8 array, 1 for a valid action and 0 for an
invalid one, so every env's ``info["action_mask"]`` is int8; ``action_masks()`` stays
boolean, the type MaskablePPO documents for the masks it reads.
"""

from __future__ import annotations

import numpy as np


def info_mask(valid: np.ndarray) -> np.ndarray:
    """The boolean mask ``valid`` as the int8 array an info carries (a copy)."""
    return np.asarray(valid).astype(np.int8)

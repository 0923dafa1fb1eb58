"""The elementwise operations of stage functions that run on one instance or on many.

A stage function written once for both drivers takes its operations as ``xp`` (the
array API's convention): :data:`SCALAR` for the single env, whose values are Python
numbers (numpy's functions cost more than the arithmetic there), or :data:`ARRAY` for
the vector env, whose values are numpy arrays over instances. The square root and the
minimum and maximum are exact in both, so both drivers give the same bits; the sine and
cosine are the standard library's and numpy's, which may differ in the last bit.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

SCALAR = SimpleNamespace(sqrt=math.sqrt, sin=math.sin, cos=math.cos, minimum=min, maximum=max)
ARRAY = np

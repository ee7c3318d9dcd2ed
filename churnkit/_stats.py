"""The "typical" value of a numeric feature: a median some account has."""

from __future__ import annotations

import numpy as np

__all__ = ["middle_value"]


def middle_value(x: np.ndarray) -> float:
    """The lower of the two middle values (the median itself for odd sizes).

    ``np.median`` averages the two middle values of an even count, which no
    account may have: half the accounts on a free plan (MRR 0) and half paying
    9.99 read "MRR 9.99 (typical: 5)". NaN for no values.

    >>> middle_value(np.array([0.0, 9.99, 0.0, 9.99]))
    0.0
    >>> middle_value(np.array([3.0, 1.0, 2.0]))
    2.0
    """
    x = np.asarray(x, dtype=np.float64)
    if not len(x):
        return float("nan")
    k = (len(x) - 1) // 2
    return float(np.partition(x, k)[k])

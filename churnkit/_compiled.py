"""Compiled (numba) loops for the passes numpy has no single primitive for.

Imported only for large tables: numba's start-up (about 0.5 s to import and
load a cached function) is worth paying only when a pass over tens of millions
of rows gets several times faster. Compiled functions are cached on disk.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def counting_order(codes, offsets):  # pragma: no cover - compiled
    """Stable counting sort of rows by code: ``order[p]`` is the row at ``p``.

    ``offsets`` are the group starts from the code counts (``offsets[c]`` is
    the first position of code ``c``). One sequential pass over the rows.
    """
    next_free = offsets[:-1].copy()
    order = np.empty(len(codes), dtype=np.int64)
    for row in range(len(codes)):
        code = codes[row]
        order[next_free[code]] = row
        next_free[code] += 1
    return order

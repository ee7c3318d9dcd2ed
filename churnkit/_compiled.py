"""Compiled (numba) loops for the passes numpy has no single primitive for.

Imported only for large tables: numba's start-up (about 1 s to import and
load the cached functions) is worth paying only when a pass over tens of millions
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


@numba.njit(cache=True, nogil=True)
def segment_searchsorted(values, offsets, codes, x, right):  # pragma: no cover
    """For each query, ``searchsorted`` of ``x[i]`` in its customer's slice.

    ``values[offsets[c]:offsets[c + 1]]`` is sorted for every customer ``c``;
    returns absolute positions. Each binary search stays inside one short
    slice, so it costs a few cache lines instead of a search of the table.
    """
    out = np.empty(len(codes), dtype=np.int64)
    for i in range(len(codes)):
        lo = offsets[codes[i]]
        hi = offsets[codes[i] + 1]
        target = x[i]
        while lo < hi:
            mid = (lo + hi) >> 1
            if values[mid] < target or (right and values[mid] == target):
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out

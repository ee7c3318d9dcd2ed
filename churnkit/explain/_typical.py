"""Per-row "typical" values of many features at once, from a tenure-band table.

:func:`typical_block` is ``typical_rows`` (``churnkit.features._reference``)
for many columns in one gather: the same band lookup (binary search of each
row's band among the table's sorted band codes, the all-rows band for bands
the table lacks) done once, then one fancy index of the table's object block,
instead of one Series read and lookup per column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.features._reference import ALL

__all__ = ["typical_block"]


def typical_block(table: pd.DataFrame, bands, columns) -> np.ndarray | None:
    """``typical_rows(table, bands, c)`` for each ``c`` in ``columns``, side by side.

    Returns an object array of shape ``(len(bands), len(columns))``, or None
    when the table's band codes are not unique and sorted with one all-rows
    band (``typical_rows`` then decides, column by column).
    """
    bands = np.asarray(bands, dtype=np.int64)
    codes = table.index.to_numpy()
    if (
        len(codes) == 0
        or codes.dtype.kind not in "iu"
        or np.count_nonzero(codes == ALL) != 1
        or np.any(codes[1:] <= codes[:-1])
    ):
        return None
    values = table[list(columns)].to_numpy(dtype=object)
    pos = np.clip(np.searchsorted(codes, bands), 0, len(codes) - 1)
    found = (codes[pos] == bands) & (bands != ALL)
    all_row = values[int(np.flatnonzero(codes == ALL)[0])]
    return np.where(found[:, None], values[pos], all_row[None, :])

"""Window reductions over a time-ordered table that numpy has no one call for.

Used by the kernel in :mod:`churnkit.features._windows`: counts per category
in many windows (from prefix counts, or by listing the windows' rows once),
the last or next row holding a value, and distinct values per window.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "prefix_category_counts",
    "window_category_counts",
    "last_valid",
    "next_valid",
    "distinct_counts",
]


def prefix_category_counts(codes, wanted, hi, bounds) -> dict:
    """``{(window, code): rows of code in [lo, hi)}`` from prefix counts."""
    dtype = np.int32 if len(codes) < 2**31 else np.int64
    before = np.empty(len(codes) + 1, dtype=dtype)  # before[p]: rows < p of code
    before[0] = 0
    is_code = np.empty(len(codes), dtype=bool)  # reused: no fresh pages per code
    counts = {}
    for code in wanted:
        np.equal(codes, code, out=is_code)
        np.cumsum(is_code, out=before[1:])
        at_hi = before[hi]
        for window, lo in bounds.items():
            counts[window, code] = np.maximum(at_hi - before[lo], 0).astype(np.float64)
    return counts


def window_category_counts(codes, lo, hi, n_cats) -> np.ndarray:
    """(rows, n_cats) float matrix: rows of each category in [lo[i], hi[i])."""
    lengths = np.maximum(hi - lo, 0)
    total = int(lengths.sum())
    n = len(lo)
    if total == 0 or n_cats == 0:
        return np.zeros((n, max(n_cats, 1)))
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(total, dtype=np.int64)
    pos += np.repeat(lo - starts, lengths)
    row = np.repeat(np.arange(n, dtype=np.int64) * n_cats, lengths)
    cats = codes[pos].astype(np.int64)
    valid = cats >= 0
    if not valid.all():
        row, cats = row[valid], cats[valid]
    flat = np.bincount(row + cats, minlength=n * n_cats)
    return flat.reshape(n, n_cats).astype(np.float64)


def last_valid(valid: np.ndarray) -> np.ndarray:
    """For each i, the largest j <= i with valid[j] (or -1)."""
    idx = np.where(valid, np.arange(len(valid)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


def next_valid(valid: np.ndarray) -> np.ndarray:
    """For each i, the smallest j >= i with valid[j] (or len); one extra slot."""
    n = len(valid)
    idx = np.where(valid, np.arange(n), n)
    out = np.minimum.accumulate(idx[::-1])[::-1] if n else idx
    return np.append(out, n)


def distinct_counts(view, column, lo, hi) -> np.ndarray:
    """Distinct category values in each window (rows sorted per customer by time)."""
    codes = view.columns[column]
    n_cats = max(len(view.categories.get(column, ())), 1)
    lengths = np.maximum(hi - lo, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(len(lo))
    row = np.repeat(np.arange(len(lo)), lengths)
    pos = (
        np.arange(total)
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
        + np.repeat(lo, lengths)
    )
    values = codes[pos].astype(np.int64)
    keep = values >= 0
    pairs = np.unique(row[keep] * n_cats + values[keep])
    return np.bincount(pairs // n_cats, minlength=len(lo)).astype(np.float64)

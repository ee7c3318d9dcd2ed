"""Gaps between a customer's active days: the kernel's ``gap_mean`` and ``gap_cv``.

A customer's active days are the distinct calendar days (UTC) with at least
one event; the gaps are the whole days between consecutive active days. Rows
of a view are ordered by time within each customer, so the gap that row ``i``
closes is ``day[i] - day[i - 1]`` (0 on the same day, and 0 on a customer's
first row). With exclusive prefix sums ``S1`` (gaps), ``S2`` (squared gaps) and
``C`` (gaps > 0), the gaps between the active days of rows ``[lo, hi)`` are the
gaps closed by rows ``lo + 1 .. hi - 1``: ``S1[hi] - S1[lo + 1]`` and so on.
That holds for any window: the day of row ``lo`` is inside the window, so
every gap closed inside it starts inside it too.
"""

from __future__ import annotations

import numpy as np

from churnkit._time import NS_PER_DAY

__all__ = ["GAP_AGGREGATIONS", "gap_stat", "gap_prefix"]

#: Kernel aggregations served here.
GAP_AGGREGATIONS = ("gap_mean", "gap_cv")


def gap_prefix(time, offsets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exclusive prefix sums ``(S1, S2, C)`` of gaps, squared gaps, gap counts.

    Each has ``len(time) + 1`` int64 entries; ``S1[i]`` sums the gaps closed by
    rows ``< i``.
    """
    n = len(time)
    day = np.floor_divide(np.asarray(time, dtype=np.int64), NS_PER_DAY)
    gap = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.subtract(day[1:], day[:-1], out=gap[1:])
    starts = np.asarray(offsets[:-1], dtype=np.int64)
    gap[starts[starts < n]] = 0  # a customer's first row closes no gap
    out = []
    for values in (gap, gap * gap, (gap > 0).astype(np.int64)):
        prefix = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(values, out=prefix[1:])
        out.append(prefix)
    return tuple(out)


def gap_stat(view, agg: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``gap_mean`` (days) or ``gap_cv`` of the active days in rows ``[lo, hi)``.

    ``gap_mean`` is NaN with fewer than two active days; ``gap_cv`` (standard
    deviation over mean, population form) is NaN with fewer than two gaps.
    """
    s1, s2, count = view._views.get(
        ("gap_prefix",), lambda: gap_prefix(view.time, view.offsets)
    )
    has = hi > lo
    first = np.where(has, lo + 1, hi)  # rows lo+1 .. hi-1 close the gaps
    m = np.where(has, count[hi] - count[first], 0)
    total = np.where(has, s1[hi] - s1[first], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if agg == "gap_mean":
            return np.where(m > 0, total / np.maximum(m, 1), np.nan)
        squares = np.where(has, s2[hi] - s2[first], 0)
        # std / mean = sqrt(m * S2 - S1^2) / S1, exact in integers until the sqrt
        spread = np.maximum(m * squares - total * total, 0).astype(np.float64)
        return np.where(m >= 2, np.sqrt(spread) / np.maximum(total, 1), np.nan)

"""Compiled (numba) loops of the fused window kernel.

Imported only by :mod:`churnkit.features._fused`, and only for large tables
(numba's start-up is worth paying only then). Each loop walks the query rows
(customer code, cutoff), sorted by customer then cutoff, and keeps one pointer
per window bound into the customer's time-ordered slice of the table: a pointer
only moves forward while the customer's cutoffs grow, so every row of a slice
is passed once per bound, whatever the number of specs.

The results equal the numpy kernel's (:mod:`churnkit.features._windows`) to
the bit: counts and distinct days are integers; sums repeat numpy's pairwise
summation in the order ``np.add.reduceat`` adds the same rows (the numpy
kernel sums windows reaching the table's last row with ``reduceat`` too, so a
customer's sums never depend on being the table's last customer).
"""

from __future__ import annotations

import numba
import numpy as np

NS_PER_DAY = 86_400_000_000_000
#: Codes of the aggregations (shared with ``_fused``).
COUNT, ACTIVE_DAYS, SINCE_LAST, SINCE_FIRST, SUM, MEAN, LAST, FIRST = range(8)
#: numpy's pairwise summation: blocks up to this size use 8 accumulators.
PW_BLOCKSIZE = 128


@numba.njit(cache=True, nogil=True)
def _pairwise_block(a, lo, n, init):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``a[lo:lo + n]`` for ``n <= PW_BLOCKSIZE``."""
    if n < 8:
        res = init
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise(a, lo, n, init):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``a[lo:lo + n]`` (``init`` seeds short runs).

    Runs of more than ``PW_BLOCKSIZE`` values are halved (at a multiple of 8)
    until they are blocks, and the halves' sums added, as numpy does; written
    with an explicit stack because numba cannot cache recursive functions.
    """
    if n <= PW_BLOCKSIZE:
        return _pairwise_block(a, lo, n, init)
    st_lo = np.empty(128, dtype=np.int64)
    st_n = np.empty(128, dtype=np.int64)
    st_state = np.empty(128, dtype=np.int64)
    sums = np.empty(128, dtype=np.float64)
    top, n_sums = 1, 0
    st_lo[0], st_n[0], st_state[0] = lo, n, 0
    while top > 0:
        k = top - 1
        size = st_n[k]
        if size <= PW_BLOCKSIZE:
            sums[n_sums] = _pairwise_block(a, st_lo[k], size, init)
            n_sums += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if st_state[k] == 0:  # left half next
            st_state[k] = 1
            st_lo[top], st_n[top], st_state[top] = st_lo[k], half, 0
            top += 1
        elif st_state[k] == 1:  # then the right half
            st_state[k] = 2
            st_lo[top], st_n[top] = st_lo[k] + half, size - half
            st_state[top] = 0
            top += 1
        else:  # both halves summed: left + right
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
            top -= 1
    return sums[0]


@numba.njit(cache=True, nogil=True)
def _matches(cats, row, codes, first, stop):  # pragma: no cover - compiled
    code = cats[row]
    for j in range(first, stop):
        if codes[j] == code:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def window_positions(
    time,
    offsets,
    cats,
    n_cats,
    codes,
    bounds,
    q0,
    q1,
    kind,
    lo_b,
    hi_b,
    filtered,
    code_start,
    code_list,
    out,
):  # pragma: no cover - compiled
    """Window bounds of queries ``q0:q1`` and the count-like specs.

    ``bounds[b, i]`` is the time of bound ``b`` for query ``i``; returns
    ``pos[b, i - q0]``, the first row of the customer at or after it. Spec
    ``s`` covers ``[bound lo_b[s], bound hi_b[s])`` (``lo_b < 0``: all
    history) and writes ``out[s, i]``. Per bound the loop keeps the number of
    rows of each category and of first-rows-of-a-day before its pointer.
    """
    n_bounds = bounds.shape[0]
    pos = np.empty((n_bounds, q1 - q0), dtype=np.int64)
    width = max(n_cats, 1)
    per_cat = np.zeros((n_bounds, width), dtype=np.int64)
    new_days = np.zeros(n_bounds, dtype=np.int64)
    pointer = np.zeros(n_bounds, dtype=np.int64)
    last_bound = np.zeros(n_bounds, dtype=np.int64)
    # per bound: whether a spec reads its category counts / day counts
    need_cats = np.zeros(n_bounds, dtype=np.bool_)
    need_days = np.zeros(n_bounds, dtype=np.bool_)
    for s in range(len(kind)):
        for b in (lo_b[s], hi_b[s]):
            if b >= 0:
                need_cats[b] |= kind[s] == COUNT and filtered[s] and len(cats) > 0
                need_days[b] |= kind[s] == ACTIVE_DAYS
    current = -1
    start = 0
    end = 0
    for i in range(q0, q1):
        c = codes[i]
        if c != current:
            current = c
            start = offsets[c]
            end = offsets[c + 1]
            for b in range(n_bounds):
                last_bound[b] = np.iinfo(np.int64).min
        for b in range(n_bounds):
            x = bounds[b, i]
            if x < last_bound[b] or last_bound[b] == np.iinfo(np.int64).min:
                pointer[b] = start  # new customer (or a bound moving back)
                new_days[b] = 0
                for k in range(width):
                    per_cat[b, k] = 0
            last_bound[b] = x
            r = pointer[b]
            if need_cats[b] or need_days[b]:
                while r < end and time[r] < x:
                    if need_cats[b] and cats[r] >= 0:
                        per_cat[b, cats[r]] += 1
                    if need_days[b] and (
                        r == start or time[r] // NS_PER_DAY != time[r - 1] // NS_PER_DAY
                    ):
                        new_days[b] += 1
                    r += 1
            else:
                while r < end and time[r] < x:
                    r += 1
            pointer[b] = r
            pos[b, i - q0] = r
        for s in range(len(kind)):
            hb = hi_b[s]
            lb = lo_b[s]
            hi = pointer[hb]
            lo = start if lb < 0 else pointer[lb]
            k = kind[s]
            if k == COUNT:
                if filtered[s]:
                    total = 0
                    for j in range(code_start[s], code_start[s + 1]):
                        total += per_cat[hb, code_list[j]]
                        if lb >= 0:
                            total -= per_cat[lb, code_list[j]]
                    out[s, i] = total
                else:
                    out[s, i] = hi - lo
            elif k == ACTIVE_DAYS:
                if hi > lo:
                    days = new_days[hb] - (new_days[lb] if lb >= 0 else 0)
                    if (
                        lo > start
                        and time[lo] // NS_PER_DAY == time[lo - 1] // NS_PER_DAY
                    ):
                        days += 1  # the window starts inside a day already counted
                    out[s, i] = days
                else:
                    out[s, i] = 0.0
            elif hi > lo:  # days since the last / first row
                when = time[hi - 1] if k == SINCE_LAST else time[lo]
                out[s, i] = (bounds[hb, i] - when) / NS_PER_DAY
            else:
                out[s, i] = np.nan
    return pos


@numba.njit(cache=True, nogil=True)
def window_values(
    values,
    time,
    offsets,
    cats,
    codes,
    bounds,
    pos,
    q0,
    q1,
    kind,
    lo_b,
    hi_b,
    filtered,
    code_start,
    code_list,
    init,
    out,
):  # pragma: no cover - compiled
    """Sums, means, last and first values (and filtered days since) per window.

    ``pos`` are the bound positions from :func:`window_positions` for queries
    ``q0:q1``. Every window, a table's tail too, is summed the way
    ``np.add.reduceat`` sums a segment (as ``_segment_reduce`` does); missing
    values count as 0 in sums.
    """
    longest = 0
    for c in range(len(offsets) - 1):
        longest = max(longest, offsets[c + 1] - offsets[c])
    buffer = np.empty(longest, dtype=np.float64)
    for i in range(q0, q1):
        start = offsets[codes[i]]
        for s in range(len(kind)):
            hi = pos[hi_b[s], i - q0]
            lo = start if lo_b[s] < 0 else pos[lo_b[s], i - q0]
            k = kind[s]
            first, stop = code_start[s], code_start[s + 1]
            if k == SUM or k == MEAN:
                m = 0
                valid = 0
                for r in range(lo, hi):
                    if filtered[s] and not _matches(cats, r, code_list, first, stop):
                        continue
                    v = values[r]
                    if np.isnan(v):
                        v = 0.0
                    else:
                        valid += 1
                    buffer[m] = v
                    m += 1
                if m == 0:
                    total = 0.0
                else:  # as np.add.reduceat sums a segment, the table's tail too
                    total = buffer[0] + _pairwise(buffer, 1, m - 1, init)
                if k == SUM:
                    out[s, i] = total
                else:
                    out[s, i] = total / valid if valid > 0 else np.nan
                continue
            found = -1
            if k == LAST or k == SINCE_LAST:
                r = hi - 1
                step = -1
                if r < lo:
                    r = -1
            else:
                r = lo
                step = 1
                if r >= hi:
                    r = -1
            while r >= lo and r < hi:
                ok = not filtered[s] or _matches(cats, r, code_list, first, stop)
                if ok and (
                    k == SINCE_LAST or k == SINCE_FIRST or not np.isnan(values[r])
                ):
                    found = r
                    break
                r += step
            if found < 0:
                out[s, i] = np.nan
            elif k == LAST or k == FIRST:
                out[s, i] = values[found]
            else:
                out[s, i] = (bounds[hi_b[s], i] - time[found]) / NS_PER_DAY
    return out

"""The grouped, time-ordered arrays behind :class:`churnkit.Events`.

An :class:`EventTable` holds one event table as numpy arrays ordered by
(customer code, time, tie-breakers), with ``offsets`` such that the rows of
customer ``c`` are ``offsets[c]:offsets[c + 1]``. Everything the feature kernel
needs is a view of this kind: the events themselves, the events of one kind, or
support tickets ordered by their ``closed_time``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping

import numpy as np

from churnkit._time import NS_PER_DAY

NAT = np.iinfo(np.int64).min


#: Rows from which a table is worth numba's start-up (about 0.5 s of CPU to
#: import and load the cached loops): below it numpy's radix passes and grid-key
#: searches cost less. Once loaded, the loops serve every table from LOADED_FROM
#: rows. 5M: the feature kernel loads numba from 1M-row tables anyway
#: (``churnkit.features._fused``), so a store this large shares one start-up
#: (medium bench, build + features: 4.9-5.8 s of CPU against 5.8-7.2 s at 20M).
COMPILED_FROM = 5_000_000
LOADED_FROM = 1_000_000
#: Rows from which column gathers are spread over two threads.
THREADED_FROM = 1_000_000


def use_compiled(n_rows: int) -> bool:
    """Whether a pass over ``n_rows`` rows should run in compiled code."""
    if n_rows >= COMPILED_FROM:
        return True
    return n_rows >= LOADED_FROM and "churnkit._compiled" in sys.modules


def group_order(
    codes: np.ndarray, time: np.ndarray, n_customers: int, offsets=None
) -> np.ndarray:
    """Permutation that orders rows by (customer code, time), stably.

    Event logs usually arrive ordered by time. Then a stable sort by customer
    code alone gives the (customer, time) order. Large tables get a compiled
    counting sort (one pass, from the ``offsets`` of the code counts); smaller
    ones a radix sort: numpy's stable sort of 16-bit integers is a counting
    sort, so the low 16 bits cost one O(n) pass and the high bits another.
    Unordered input is first ordered by time (one argsort), then grouped the
    same way.
    """
    n = len(codes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n > 1 and not bool(np.all(time[1:] >= time[:-1])):
        by_time = np.argsort(time, kind="stable")
        return by_time[group_order(codes[by_time], time[by_time], n_customers, offsets)]
    if use_compiled(n):
        from churnkit._compiled import counting_order

        if offsets is None:
            offsets = offsets_from_codes(codes, n_customers)
        return counting_order(codes, offsets)
    # astype(uint16) keeps the low 16 bits of the (non-negative) codes
    order = np.argsort(codes.astype(np.uint16), kind="stable")
    if n_customers <= np.iinfo(np.uint16).max:
        return order
    high = (codes[order] >> 16).astype(np.uint16)
    return order[np.argsort(high, kind="stable")]


def take_columns(columns: dict, order: np.ndarray) -> dict:
    """``{name: values[order]}``, the gathers spread over two threads.

    numpy's ``take`` releases the GIL, and each gather is a pass of cache
    misses over a large column: two run at once in about the time of one.
    """
    if len(order) < THREADED_FROM or len(columns) < 2:
        return {k: np.take(v, order) for k, v in columns.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        taken = pool.map(lambda v: np.take(v, order), columns.values())
        return dict(zip(columns, taken, strict=True))


def fix_ties(order, time_sorted, offsets, tie_keys) -> np.ndarray:
    """Reorder rows of one customer with equal times by ``tie_keys``.

    ``time_sorted`` is ``time[order]``; ``tie_keys`` are arrays in input row
    order, in priority order (kind code first), or functions that return the
    keys of given input rows (columns not coded yet). Only the tied rows are
    sorted, so the cost is proportional to their number.
    """
    if len(order) < 2 or not tie_keys:
        return order
    same = time_sorted[1:] == time_sorted[:-1]
    starts = offsets[1:-1]
    same[starts[(starts > 0) & (starts < len(order))] - 1] = False  # new customer
    if not same.any():
        return order
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    positions = np.flatnonzero(tied)
    run_start = np.ones(len(positions), dtype=bool)
    run_start[1:] = ~same[positions[1:] - 1]
    run_id = np.cumsum(run_start)
    rows = order[positions]
    keys = [k(rows) if callable(k) else np.asarray(k)[rows] for k in reversed(tie_keys)]
    local = np.lexsort((*keys, run_id))
    order = order.copy()
    order[positions] = rows[local]
    return order


def bisect_segments(values, lo, hi, x, side="left") -> np.ndarray:
    """Vectorised ``searchsorted`` of ``x[i]`` in the sorted ``values[lo[i]:hi[i]]``.

    Returns absolute positions. Every query bisects its own slice at once, so
    the cost is O(len(x) * log(longest slice)) with no Python loop over
    customers and no cutoff x event join. Queries whose slice is already
    narrowed down drop out of the loop.
    """
    lo = np.asarray(lo, dtype=np.int64).copy()
    hi = np.asarray(hi, dtype=np.int64).copy()
    x = np.asarray(x)
    idx = np.flatnonzero(lo < hi)
    right = side == "right"
    while len(idx):
        low, high = lo[idx], hi[idx]
        mid = (low + high) >> 1
        v = values[mid]
        go = (v <= x[idx]) if right else (v < x[idx])
        low = np.where(go, mid + 1, low)
        high = np.where(go, high, mid)
        lo[idx], hi[idx] = low, high
        idx = idx[low < high]
    return lo


#: Fewer queries than this are answered in their own order (sorting costs
#: more than the cache misses it saves).
SORT_QUERIES_FROM = 2_048


def row_order(codes: np.ndarray, t: np.ndarray):
    """The order that sorts rows (customer code, time) by code then time, or
    None when they are sorted already or too few to be worth sorting."""
    n = len(codes)
    if n < SORT_QUERIES_FROM:
        return None
    step = np.diff(codes)
    if bool(np.all((step > 0) | ((step == 0) & (t[1:] >= t[:-1])))):
        return None
    return np.lexsort((t, codes))


def offsets_from_codes(codes: np.ndarray, n_customers: int) -> np.ndarray:
    """Row offsets per customer once rows are grouped by ``codes``."""
    counts = np.bincount(codes, minlength=n_customers)
    offsets = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def reordered_kinds(kinds: dict) -> dict:
    """Column kinds of a table reordered by a time column (see ``reordered_by``)."""
    return {**kinds, "opened_time": "time"}


class OnceCache:
    """Values computed once per key, also when several threads ask at once.

    The feature kernel evaluates specs on two threads; specs that need the
    same view (a subset, the window bounds of one window) wait for the one
    thread computing it instead of computing it twice. Caches hold derived
    data only, so they are not pickled.
    """

    def __init__(self):
        self._values: dict = {}
        self._locks: dict = {}
        self._guard = threading.Lock()

    def get(self, key, make):
        """The value under ``key``, from ``make()`` the first time."""
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = make()
        return self._values[key]

    def put(self, key, value) -> None:
        """Store a value computed elsewhere (a saved store's index)."""
        with self._guard:
            self._values.setdefault(key, value)

    def __contains__(self, key) -> bool:
        return key in self._values

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()


class LazyColumns(Mapping):
    """Columns of a row subset, gathered from the parent only when first read.

    ``drop`` leaves a parent column out; ``extra`` adds ready arrays.
    """

    def __init__(self, parent: Mapping, index: np.ndarray, drop=(), extra=None):
        self._parent = parent
        self._index = index
        self._names = [k for k in parent if k not in drop]
        self._extra = dict(extra or {})
        self._names += [k for k in self._extra if k not in self._names]
        self._done = OnceCache()

    def __getitem__(self, key):
        if key in self._extra:
            return self._extra[key]
        if key not in self._names:
            raise KeyError(key)
        return self._done.get(key, lambda: self._parent[key][self._index])

    def __contains__(self, key) -> bool:
        return key in self._extra or key in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    # pickled (joblib workers) as the gathered arrays
    def __reduce__(self):
        return (dict, (dict(self.items()),))


class EventTable:
    """One event table grouped by customer and ordered by time.

    Attributes
    ----------
    name : str
        Table name ("usage", "billing", "support", ...).
    offsets : ndarray of int64, shape (n_customers + 1,)
        Rows of customer ``c`` are ``offsets[c]:offsets[c + 1]``.
    time : ndarray of int64
        Event times in nanoseconds since 1970 (naive UTC).
    columns : dict of str to ndarray
        Other columns: float64 numbers, int64 nanosecond times (``NAT`` when
        missing) or small-integer category codes (-1 when missing).
    categories : dict of str to tuple
        The categories of each categorical column, indexed by code.
    """

    def __init__(self, name, offsets, time, columns, categories, kinds):
        self.name = name
        self.offsets = offsets
        self.time = time
        self.columns = columns
        self.categories = categories
        self.kinds = kinds  # column -> "number" | "time" | "category"
        self._views = OnceCache()  # subsets, reorderings, search keys, caches
        arrays = [offsets, time]
        if isinstance(columns, dict):
            arrays += list(columns.values())
        elif hasattr(columns, "arrays"):  # deferred columns: coded read-only
            arrays += list(columns.arrays.values())
        for array in arrays:
            if isinstance(array, np.ndarray) and array.flags.writeable:
                array.flags.writeable = False

    def __len__(self) -> int:
        return len(self.time)

    @property
    def n_customers(self) -> int:
        return len(self.offsets) - 1

    def customer_codes(self) -> np.ndarray:
        """The customer code of every row (computed, not stored)."""
        return np.repeat(
            np.arange(self.n_customers, dtype=np.int32), np.diff(self.offsets)
        )

    def positions(self, codes, t, side="left", grid=None) -> np.ndarray:
        """Position of the first row of customer ``codes[i]`` with time >= ``t[i]``.

        ``positions - offsets[codes]`` is the number of that customer's events
        strictly before ``t`` (``side="right"``: at or before).

        When every query time is a multiple of ``grid`` nanoseconds (cutoffs at
        midnight and windows of whole days: ``grid`` is a day), one global
        ``searchsorted`` over the keys ``code * M + floor(time / grid)`` answers
        all queries at once; the keys are built once per grid and cached.
        Otherwise each query bisects its customer's slice: in compiled code for
        large tables (no key array, and each search stays in one short slice).

        Queries are answered in (customer, time) order: when the rows come in
        another order (shuffled cutoffs, a random sample of accounts), they are
        sorted first and the positions put back in the rows' order. Searches in
        order touch the table front to back; in random order each one misses
        the cache (about 14x the CPU at 600k queries into 10M rows).
        """
        codes = np.asarray(codes)
        t = np.asarray(t)
        order = row_order(codes, t)
        if order is not None:
            out = np.empty(len(codes), dtype=np.int64)
            out[order] = self.positions(codes[order], t[order], side, grid)
            return out
        if use_compiled(len(self.time)):
            from churnkit._compiled import segment_searchsorted

            return segment_searchsorted(
                self.time, self.offsets, codes, np.asarray(t), side == "right"
            )
        if grid is not None and side == "left":
            keys = self._grid_keys(grid)
            if keys is not None:
                key_array, low, width = keys
                slot = np.clip(np.floor_divide(t, grid) - low, 0, width - 1)
                query = (codes * width + slot).astype(key_array.dtype, copy=False)
                return np.searchsorted(key_array, query, side="left")
        return bisect_segments(
            self.time, self.offsets[codes], self.offsets[codes + 1], t, side
        )

    def _grid_keys(self, grid: int):
        """Sorted keys ``code * width + (floor(time / grid) - low)``.

        int32 when every key fits (a searchsorted over half the bytes is
        about 40% faster: the search is bound by cache misses), else int64.
        """
        return self._views.get(("grid", int(grid)), lambda: self._make_grid_keys(grid))

    def _make_grid_keys(self, grid: int):
        if not len(self.time):
            return (np.empty(0, dtype=np.int64), 0, 1)
        low = int(np.floor_divide(self.time.min(), grid)) - 1
        width = int(np.floor_divide(self.time.max(), grid)) - low + 2
        n_keys = width * (self.n_customers + 1)
        if n_keys >= 2**62:
            return None
        dtype = np.int32 if n_keys < 2**31 else np.int64
        slots = np.floor_divide(self.time, grid)
        slots -= low
        keys = slots.astype(dtype, copy=False)
        keys += np.repeat(
            np.arange(self.n_customers, dtype=dtype) * dtype(width),
            np.diff(self.offsets),
        )
        return (keys, low, width)

    def day_keys(self):
        """The grid keys of whole days: ``(keys, low, width)`` or None."""
        return self._grid_keys(NS_PER_DAY)

    def day_prefix(self) -> np.ndarray:
        """``prefix[i]``: rows ``j <= i`` that start a new (customer, day).

        Distinct active days in rows ``(lo, hi]`` are ``prefix[hi] - prefix[lo]``.
        From the day keys when they exist (a new key is a new customer-day).
        """
        return self._views.get(("day_prefix",), self._make_day_prefix)

    def _make_day_prefix(self) -> np.ndarray:
        n = len(self.time)
        new = np.empty(n, dtype=np.int32)
        if n:
            new[0] = 1
            keys = self.day_keys()
            if keys is not None:
                np.not_equal(keys[0][1:], keys[0][:-1], out=new[1:], casting="unsafe")
            else:
                day = np.floor_divide(self.time, NS_PER_DAY)
                np.not_equal(day[1:], day[:-1], out=new[1:], casting="unsafe")
                new[self.offsets[:-1][np.diff(self.offsets) > 0]] = 1
        prefix = np.empty(n + 1, dtype=np.int32)
        np.cumsum(new, out=prefix[:-1])
        prefix[-1] = prefix[-2] if n else 0
        return prefix

    def search_index(self) -> dict:
        """The derived arrays a saved store keeps, so a loaded one starts warm.

        ``{"day_keys": (keys, low, width), "day_prefix": prefix, "by": {column:
        EventTable}}``: window bounds of midnight cutoffs, distinct active
        days, and the rows reordered by each other time column (support
        tickets by ``closed_time``). Computed here when not cached yet.
        """
        time_columns = [c for c, kind in self.kinds.items() if kind == "time"]
        return {
            "day_keys": self.day_keys(),
            "day_prefix": self.day_prefix(),
            "by": {c: self.reordered_by(c) for c in time_columns if c in self.columns},
        }

    def adopt_index(self, day_keys=None, day_prefix=None, by=None) -> None:
        """Put a saved :meth:`search_index` in this table's caches."""
        if day_keys is not None:
            self._views.put(("grid", NS_PER_DAY), day_keys)
        if day_prefix is not None:
            self._views.put(("day_prefix",), day_prefix)
        for column, view in (by or {}).items():
            self._views.put(("by", column), view)

    def code_of(self, column: str, value) -> int:
        """The code of a category value, or -1 when the value never occurs."""
        try:
            return self.categories[column].index(str(value))
        except ValueError:
            return -1

    def subset(self, mask, key) -> EventTable:
        """Rows where ``mask`` holds, as a new table (cached under ``key``).

        ``mask`` is a boolean array, or a function returning one (called only
        when ``key`` is not cached yet).
        """
        return self._views.get(key, lambda: self._make_subset(mask))

    def _make_subset(self, mask) -> EventTable:
        if callable(mask):
            mask = mask()
        index = np.flatnonzero(mask)
        kept_before = np.zeros(len(mask) + 1, dtype=np.int64)
        np.cumsum(mask, out=kept_before[1:])
        offsets = kept_before[self.offsets]  # kept rows before each customer
        return EventTable(
            self.name,
            offsets,
            self.time[index],
            LazyColumns(self.columns, index),
            self.categories,
            self.kinds,
        )

    def reordered_by(self, column: str) -> EventTable:
        """Rows with a non-missing time ``column``, ordered by it per customer.

        Used for support tickets by ``closed_time``: the original open time
        becomes the column ``"opened_time"``.
        """
        return self._views.get(("by", column), lambda: self._make_reordered(column))

    def _make_reordered(self, column: str) -> EventTable:
        other = self.columns[column]
        keep = other != NAT
        codes = self.customer_codes()[keep]
        times = other[keep]
        order = group_order(codes, times, self.n_customers)
        index = np.flatnonzero(keep)[order]
        opened = {"opened_time": self.time[index]}
        return EventTable(
            self.name,
            offsets_from_codes(codes, self.n_customers),
            times[order],
            LazyColumns(self.columns, index, drop=(column,), extra=opened),
            self.categories,
            reordered_kinds(self.kinds),
        )

    def restrict(self, codes: np.ndarray) -> EventTable:
        """The rows of customers ``codes`` only, renumbered 0..len(codes)-1."""
        starts, stops = self.offsets[codes], self.offsets[codes + 1]
        lengths = stops - starts
        offsets = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        index = np.arange(offsets[-1], dtype=np.int64)
        index += np.repeat(starts - offsets[:-1], lengths)
        return EventTable(
            self.name,
            offsets,
            self.time[index],
            LazyColumns(self.columns, index),
            self.categories,
            self.kinds,
        )

    def nbytes(self) -> int:
        """Bytes of the table's arrays (columns not coded yet: their row order)."""
        total = self.offsets.nbytes + self.time.nbytes
        if hasattr(self.columns, "nbytes"):
            return int(total + self.columns.nbytes())
        return int(total + sum(a.nbytes for a in self.columns.values()))

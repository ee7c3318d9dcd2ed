"""The one windowed-aggregation kernel every feature builder runs on.

A feature is a :class:`FeatureSpec`: which table, which rows (``where``),
which value, which aggregation, over which trailing window. For each
(customer, cutoff) row the kernel finds the window's bounds in the customer's
time-ordered slice of the store by bisection, then aggregates:

* counts are differences of positions (exact);
* sums, means, minima and maxima reduce only the rows inside each window
  (``ufunc.reduceat``), so they are as exact as a direct sum;
* distinct active days are differences of a prefix count of "first event of
  its day" flags;
* "last value" reads the last non-missing value before the window's end.

Only rows with ``time < cutoff`` count; a window ``W`` covers
``[cutoff - offset - W, cutoff - offset)``. Values recorded later than their
row's time (a ticket's ``closed_time`` and ``csat``) are read from a view
ordered by that later time, so they count only once they exist.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnkit._memory import reuse_freed_memory
from churnkit._store import NAT, THREADED_FROM, EventTable, OnceCache
from churnkit._tables import NS_PER_DAY
from churnkit._time import duration_label, parse_duration, subtract_duration
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["FeatureSpec", "Derived", "compute_specs", "AGGREGATIONS"]

AGGREGATIONS = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "last",
    "first",
    "days_since_last",
    "days_since_first",
    "active_days",
    "distinct",
    "open",
    "tenure_days",
    "attribute",
)
_NEEDS_COLUMN = {"sum", "mean", "min", "max", "last", "first", "distinct", "attribute"}
_SPEC_TABLES = ("usage", "billing", "support", "customers")
DERIVED_OPS = ("ratio", "trend", "pct_change", "difference", "per_month")
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class FeatureSpec:
    """One aggregation of one event table over a trailing window.

    Parameters
    ----------
    name : str
        Output column name, e.g. ``"usage__login_count_30d"``.
    table : str
        "usage", "billing" or "support".
    agg : str, default="count"
        One of ``count, sum, mean, min, max, last, first, days_since_last,
        days_since_first, active_days, distinct, open``. ``open`` counts the
        intervals (tickets) opened before the cutoff and not closed before it.
    column : str, default=None
        Value column for ``sum, mean, min, max, last, first, distinct``. The
        special column ``"resolution_days"`` of support is ``closed_time - time``
        in days.
    window : str, default=None
        Trailing window such as "30D"; None means all history.
    where : dict, default=None
        Row filter on category columns, e.g. ``{"event": "login"}`` or
        ``{"kind": ["payment", "payment_failed"]}``.
    by : str, default="time"
        The time column windows apply to. ``"closed_time"`` counts support
        tickets by when they were closed (and so when their CSAT became known).
    offset : str, default=None
        Move the window's end back: ``[t - offset - window, t - offset)``; with
        ``agg="last"`` and no window it gives a value as of ``t - offset``.
    match : str or list of str, default=None
        With a category ``column``: turn it into 1.0 where it is one of these
        values, 0.0 elsewhere (e.g. "was the last payment attempt a failure").
    group, unit, direction, template : str
        Description used by :func:`describe_features` and reason codes;
        ``template`` is a format string with ``{value}`` and ``{typical}``.
    output : bool, default=True
        False for helper specs used only by :class:`Derived` features.
    """

    name: str
    table: str
    agg: str = "count"
    column: str | None = None
    window: str | None = None
    where: dict | None = None
    by: str = "time"
    offset: str | None = None
    match: str | tuple | list | None = None
    group: str | None = None
    unit: str = ""
    direction: str = "higher"
    template: str = ""
    output: bool = True


@dataclass(frozen=True)
class Derived:
    """A feature computed from two others.

    ``op`` is ``"ratio"`` (left / right, NaN when right is 0), ``"trend"``
    (left / (right + 1)), ``"pct_change"`` ((left - right) / right, NaN when
    right is 0), ``"difference"`` (left - right) or ``"per_month"`` (left per
    month of the duration ``right`` in days, counting at least one month).
    """

    name: str
    op: str
    left: str
    right: str
    group: str | None = None
    unit: str = ""
    direction: str = "higher"
    template: str = ""
    output: bool = True
    table: str = field(default="")


def validate_spec(spec, events) -> None:
    """Check a spec against the store, with errors naming the spec and the fix."""
    if isinstance(spec, Derived):
        if spec.op not in DERIVED_OPS:
            raise SchemaError(
                f"Derived feature {spec.name!r}: `op` must be one of {DERIVED_OPS}; "
                f"got {spec.op!r}."
            )
        return
    if not isinstance(spec, FeatureSpec):
        raise ChurnkitTypeError(
            f"Feature specs must be FeatureSpec or Derived; got {type(spec).__name__}."
        )
    if spec.agg not in AGGREGATIONS:
        raise SchemaError(
            f"Feature {spec.name!r}: `agg` must be one of {AGGREGATIONS}; "
            f"got {spec.agg!r}."
        )
    if spec.agg in _NEEDS_COLUMN and spec.column is None:
        raise SchemaError(f"Feature {spec.name!r}: agg={spec.agg!r} needs a `column`.")
    if spec.window is not None:
        if not isinstance(spec.window, str | pd.Timedelta | pd.offsets.BaseOffset):
            raise ChurnkitTypeError(
                f"Feature {spec.name!r}: `window` must be a string such as '30D'; "
                f"got {spec.window!r}."
            )
        parse_duration(spec.window, name="window", allow_zero=False)
    if spec.offset is not None:
        if not isinstance(spec.offset, str | pd.Timedelta | pd.offsets.BaseOffset):
            raise ChurnkitTypeError(
                f"Feature {spec.name!r}: `offset` must be a string such as '30D'; "
                f"got {spec.offset!r}."
            )
        parse_duration(spec.offset, name="offset")
    if spec.table not in _SPEC_TABLES:
        raise SchemaError(
            f"Feature {spec.name!r}: `table` must be one of {list(_SPEC_TABLES)}; "
            f"got {spec.table!r}."
        )
    if spec.table == "customers":
        if spec.agg not in ("tenure_days", "attribute"):
            raise SchemaError(
                f"Feature {spec.name!r}: the customers table supports agg "
                f"'tenure_days' and 'attribute'; got {spec.agg!r}."
            )
        if spec.agg == "attribute" and spec.column not in events.customers:
            raise SchemaError(
                f"Feature {spec.name!r}: customers has no column {spec.column!r}; it "
                f"has {list(events.customers.columns)}."
            )
        return
    table = events.table(spec.table)
    if table is None:
        return  # a missing table produces NaN/0 features, not an error
    known = {"time", *table.columns, "resolution_days"}
    for col in [spec.column, spec.by, *(spec.where or {})]:
        if col is not None and col not in known:
            raise SchemaError(
                f"Feature {spec.name!r}: table {spec.table!r} has no column {col!r}; "
                f"it has {sorted(known)}."
            )


class _Context:
    """Per-transform cache of views and bound positions (shared across specs)."""

    def __init__(self, events, codes, t, specs):
        self.events = events
        self.codes = codes
        self.t = t  # int64 ns per row
        self.positions = OnceCache()
        self.results: dict = {}
        self.shifted = OnceCache()
        self.grid = self._common_grid(specs)

    def _common_grid(self, specs):
        """The largest time unit (ns) every window bound is a multiple of.

        Cutoffs at midnight with windows of whole days give one day; the kernel
        then finds window bounds with a single global ``searchsorted``.
        """
        if len(self.t) == 0:
            return None
        grid = int(np.gcd.reduce(np.unique(self.t)))
        for spec in specs:
            if not isinstance(spec, FeatureSpec) or spec.table == "customers":
                continue
            for part in (spec.offset, spec.window):
                if part is None:
                    continue
                duration = parse_duration(part, name="window")
                if not isinstance(duration, pd.Timedelta):
                    return None  # calendar offsets: bisect instead
                grid = int(np.gcd(grid, duration.value))
        return grid if grid > 0 else None

    def view(self, spec: FeatureSpec) -> EventTable | None:
        table = self.events.table(spec.table)
        if table is None:
            return None
        if spec.where:
            key = tuple(
                (col, tuple(sorted(map(str, _as_list(values)))))
                for col, values in sorted(spec.where.items())
            )
            base = table
            table = base.subset(lambda: _where_mask(base, key), ("where", key))
        if spec.by != "time":
            table = table.reordered_by(spec.by)
        return table

    def bound(self, delta) -> np.ndarray:
        """Cutoff minus a duration (None: the cutoff), as int64 ns per row."""
        if delta is None:
            return self.t
        return self.shifted.get(
            delta,
            lambda: subtract_duration(self.t.view("datetime64[ns]"), delta).view(
                "int64"
            ),
        )

    def position(self, view: EventTable, delta) -> np.ndarray:
        return self.positions.get(
            (id(view), delta),
            lambda: view.positions(self.codes, self.bound(delta), grid=self.grid),
        )


def _as_list(values) -> list:
    return [values] if isinstance(values, str | int | float) else list(values)


def _where_mask(table: EventTable, key) -> np.ndarray:
    """Rows whose category columns take one of the wanted values."""
    mask = None
    for col, values in key:
        codes = table.columns[col]
        wanted = [c for c in (table.code_of(col, v) for v in values) if c >= 0]
        part = np.zeros(len(table), dtype=bool)
        for code in wanted:  # a few values: one comparison each beats np.isin
            part |= codes == code
        mask = part if mask is None else mask & part
    return mask


def _combine(a, b):
    """Sum of two durations (either may be None)."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, pd.Timedelta) and isinstance(b, pd.Timedelta):
        return a + b
    raise SchemaError("A window with an offset must both be exact spans such as '30D'.")


# Fewer distinct customers than this fraction of the store: work on their rows
# only (scoring one account must not touch every event of every customer).
RESTRICT_BELOW = 0.02


class _Restricted:
    """The part of an Events store that belongs to a few customers."""

    def __init__(self, events, unique_codes):
        self._events = events
        self._codes = unique_codes
        self._tables = OnceCache()
        self.signup_time = events.signup_time[unique_codes]
        self.customers = events.customers.iloc[unique_codes].reset_index(drop=True)

    def table(self, name):
        def restricted():
            full = self._events.table(name)
            return None if full is None else full.restrict(self._codes)

        return self._tables.get(name, restricted)


#: Threads the kernel evaluates specs on (numpy releases the GIL in its passes),
#: from this many cutoff rows (or a table of ``THREADED_FROM`` rows) on.
KERNEL_THREADS = 2
PARALLEL_FROM_ROWS = 10_000


@reuse_freed_memory()
def compute_specs(events, specs, codes, t, out=None) -> dict[str, np.ndarray]:
    """Evaluate specs for rows (customer code, cutoff ns); returns name -> array.

    ``out`` optionally maps names to float64 arrays (the columns of the output
    frame's block): those results are written there and returned as those
    arrays, so the frame is assembled without a second copy of every feature.

    Specs are independent tasks (counts per category over several windows
    form one task), run largest table first on :data:`KERNEL_THREADS` threads
    when the work is large; views and window bounds they share are computed
    once (:class:`~churnkit._store.OnceCache`). Derived specs follow, in order.
    Every value is computed by the same numpy passes whichever thread runs it,
    so results do not depend on the threads.
    """
    codes = np.asarray(codes, dtype=np.int64)
    if len(codes) and len(codes) < RESTRICT_BELOW * events.n_customers:
        unique, codes = np.unique(codes, return_inverse=True)
        events = _Restricted(events, unique)
    ctx = _Context(
        events, np.asarray(codes, dtype=np.int64), np.asarray(t, "int64"), specs
    )
    out = out or {}
    by_name = {spec.name: spec for spec in specs}

    def keep(name, value):
        target = out.get(name)
        if target is not None:
            target[:] = value
            value = target
        ctx.results[name] = value  # one key per task: safe across threads

    def category_task(key, members):
        def run():
            counts = _category_counts(key, members, ctx)
            for name, _, _ in members:
                spec = by_name[name]
                keep(
                    name, counts[name] if counts is not None else _aggregate(spec, ctx)
                )

        return run

    def spec_task(spec):
        return lambda: keep(spec.name, _aggregate(spec, ctx))

    groups = _category_count_groups(specs)
    grouped = {name for members in groups.values() for name, _, _ in members}
    tasks = [  # (table rows, members, task)
        (_table_rows(ctx, key[0]), len(members), category_task(key, members))
        for key, members in groups.items()
    ]
    tasks += [
        (_table_rows(ctx, spec.table), 1, spec_task(spec))
        for spec in specs
        if isinstance(spec, FeatureSpec) and spec.name not in grouped
    ]
    tasks.sort(key=lambda task: -task[0] * task[1])  # stable among equals
    largest = max((rows for rows, _, _ in tasks), default=0)
    parallel = len(codes) >= PARALLEL_FROM_ROWS or largest >= THREADED_FROM
    run_tasks([task for _, _, task in tasks], KERNEL_THREADS if parallel else 1)
    for spec in specs:
        if isinstance(spec, Derived):
            keep(spec.name, _derived(spec, ctx.results))
    return {spec.name: ctx.results[spec.name] for spec in specs}


def run_tasks(tasks, threads: int) -> None:
    """Run callables in order on the calling thread and ``threads - 1`` helpers.

    The calling thread takes tasks too: its large temporaries come from the
    main heap, where the memory scope keeps freed blocks for reuse (a helper
    thread allocates from a glibc arena of its own). Helpers see the caller's
    context (numpy's ``errstate`` lives there). The first error is raised once
    every thread has stopped; no new task starts after an error.
    """
    pending = iter(tasks)
    lock = threading.Lock()
    errors = []

    def drain():
        while True:
            with lock:
                task = None if errors else next(pending, None)
            if task is None:
                return
            try:
                task()
            except BaseException as exc:  # re-raised on the calling thread
                with lock:
                    errors.append(exc)

    helpers = [
        threading.Thread(target=contextvars.copy_context().run, args=(drain,))
        for _ in range(max(threads, 1) - 1)
    ]
    for helper in helpers:
        helper.start()
    drain()
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]


def _table_rows(ctx, name) -> int:
    """Rows of an event table (0 for the customers table or a missing one)."""
    table = ctx.events.table(name) if name != "customers" else None
    return 0 if table is None else len(table)


#: Prefix counts per category win when ``values x table rows`` is below this
#: many times the rows inside the windows: a listed row costs several int64
#: passes (repeat, gather, bincount), a prefix count two cheap ones per row.
PREFIX_COUNTS_FACTOR = 8.0


def _category_count_groups(specs) -> dict:
    """Specs ``count where col == value`` over windows, grouped to share work.

    Returns ``{(table, col, by, offset): [(name, value, window), ...]}`` for
    groups of three specs or more.
    """
    groups: dict = {}
    for spec in specs:
        if (
            isinstance(spec, FeatureSpec)
            and spec.agg == "count"
            and spec.where
            and len(spec.where) == 1
            and spec.table != "customers"
            and spec.window is not None
        ):
            ((col, values),) = spec.where.items()
            values = _as_list(values)
            if len(values) == 1:
                key = (spec.table, col, spec.by, spec.offset)
                groups.setdefault(key, []).append((spec.name, values[0], spec.window))
    return {key: members for key, members in groups.items() if len(members) >= 3}


def _category_counts(key, members, ctx) -> dict[str, np.ndarray] | None:
    """Counts per category value over windows, for one group of specs.

    Specs like ``count where event == k`` for several kinds ``k`` and windows
    share their work: the window bounds are found once per window, and the
    counts come either from one prefix count per value over the table
    (``cumsum(codes == k)``, read at both bounds of every window) or, when the
    windows hold few rows, from listing those rows once and counting them per
    category with ``bincount``, whichever touches fewer elements. None when
    the table or column is missing (each spec is then evaluated on its own).
    """
    table_name, col, by, offset = key
    view = ctx.view(FeatureSpec("_base", table_name, "count", by=by))
    if view is None or col not in view.columns:
        return None
    offset_ = parse_duration(offset, name="offset") if offset else None
    hi = ctx.position(view, offset_)
    bounds = {}
    for _, _, window in members:
        if window not in bounds:
            window_ = parse_duration(window, name="window")
            bounds[window] = ctx.position(view, _combine(offset_, window_))
    codes = view.columns[col]
    wanted = sorted({view.code_of(col, value) for _, value, _ in members} - {-1})
    in_windows = sum(int(np.maximum(hi - lo, 0).sum()) for lo in bounds.values())
    if len(wanted) * len(codes) < PREFIX_COUNTS_FACTOR * in_windows:
        counts = _prefix_category_counts(codes, wanted, hi, bounds)
    else:
        n_cats = len(view.categories[col])
        counts = {}
        for window, lo in bounds.items():
            matrix = _window_category_counts(codes, lo, hi, n_cats)
            for code in wanted:
                counts[window, code] = matrix[:, code]
    out = {}
    for name, value, window in members:
        code = view.code_of(col, value)
        out[name] = counts[window, code] if code >= 0 else np.zeros(len(hi))
    return out


def _prefix_category_counts(codes, wanted, hi, bounds) -> dict:
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


def _window_category_counts(codes, lo, hi, n_cats) -> np.ndarray:
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


def _derived(spec: Derived, results) -> np.ndarray:
    a, b = results[spec.left], results[spec.right]
    with np.errstate(divide="ignore", invalid="ignore"):
        if spec.op == "ratio":
            return np.where(b != 0, a / np.where(b != 0, b, 1), np.nan)
        if spec.op == "trend":
            return a / (b + 1.0)
        if spec.op == "per_month":  # right is a duration in days, at least a month
            return a / np.maximum(b / DAYS_PER_MONTH, 1.0)
        if spec.op == "pct_change":
            return np.where(b != 0, (a - b) / np.where(b != 0, b, 1), np.nan)
        return a - b


def _aggregate(spec: FeatureSpec, ctx: _Context) -> np.ndarray:
    n = len(ctx.codes)
    if spec.table == "customers":
        return _customer_value(spec, ctx)
    empty_value = (
        0.0
        if spec.agg in ("count", "sum", "active_days", "distinct", "open")
        else np.nan
    )
    view = ctx.view(spec)
    if view is None:
        return np.full(n, empty_value)
    offset = parse_duration(spec.offset, name="offset") if spec.offset else None
    window = parse_duration(spec.window, name="window") if spec.window else None
    if spec.agg == "open":
        return _open_intervals(spec, ctx, view)
    hi = ctx.position(view, offset)
    if window is None:
        lo = view.offsets[ctx.codes]
    else:
        lo = ctx.position(view, _combine(offset, window))
    agg = spec.agg
    if agg == "count":
        return (hi - lo).astype(np.float64)
    if agg == "days_since_last" or agg == "days_since_first":
        idx = hi - 1 if agg == "days_since_last" else lo
        has = hi > lo
        when = np.where(has, view.time[np.where(has, idx, 0)] if len(view) else 0, 0)
        end = ctx.bound(offset)
        return np.where(has, (end - when) / NS_PER_DAY, np.nan)
    if agg == "active_days":
        flags = view.day_prefix()
        has = hi > lo
        inside = flags[np.maximum(hi - 1, 0)] - flags[lo]  # new days in (lo, hi)
        return np.where(has, inside + 1.0, 0.0)
    values = _values(view, spec)
    if agg == "last" or agg == "first":
        return _last_value(view, spec, values, lo, hi, agg == "first")
    if agg == "distinct":
        return _distinct(view, spec.column, lo, hi)
    return _reduce(view, spec, values, lo, hi)


def _customer_value(spec: FeatureSpec, ctx: _Context) -> np.ndarray:
    """Per-customer values: ``tenure_days`` or a static numeric ``attribute``."""
    events = ctx.events
    if spec.agg == "tenure_days":
        return (ctx.t - events.signup_time[ctx.codes]) / NS_PER_DAY
    column = events.customers[spec.column]
    values = pd.to_numeric(column, errors="coerce").to_numpy("float64", na_value=np.nan)
    return values[ctx.codes]


def _values(view: EventTable, spec: FeatureSpec) -> np.ndarray:
    column = spec.column
    if column == "resolution_days":
        return _cached(
            view,
            ("resolution_days",),
            lambda: (
                (view.time - view.columns["opened_time"]) / NS_PER_DAY
                if "opened_time" in view.columns
                else np.where(
                    view.columns["closed_time"] != NAT,
                    (view.columns["closed_time"] - view.time) / NS_PER_DAY,
                    np.nan,
                )
            ),
        )
    raw = view.columns[column]
    if spec.match is not None:
        wanted = [spec.match] if isinstance(spec.match, str) else list(spec.match)
        codes = [view.code_of(column, w) for w in wanted]
        key = ("match", column, tuple(wanted))
        return _cached(
            view,
            key,
            lambda: np.where(raw >= 0, np.isin(raw, codes).astype(float), np.nan),
        )
    if view.kinds[column] == "category":
        return raw  # codes; only last/first/distinct make sense
    if view.kinds[column] == "time":
        return _cached(
            view,
            ("time", column),
            lambda: np.where(raw != NAT, raw, np.nan).astype(float),
        )
    return raw


def _cached(view: EventTable, key, make):
    cache_key = ("cache", key) if not isinstance(key, tuple) else ("cache", *key)
    return view._views.get(cache_key, make)


def _reduce(view, spec, values, lo, hi) -> np.ndarray:
    agg = spec.agg
    n = len(lo)
    if values.dtype.kind != "f":
        raise SchemaError(
            f"Feature {spec.name!r}: agg={agg!r} needs a numeric column; "
            f"{spec.column!r} is categorical. Use `match=` to turn it into 0/1."
        )
    missing = np.isnan(values)
    any_missing = bool(missing.any())
    if agg in ("sum", "mean"):
        filled = (
            _cached(
                view,
                ("filled", spec.column, str(spec.match)),
                lambda: np.where(missing, 0.0, values),
            )
            if any_missing
            else values
        )
        sums = _segment_reduce(np.add, filled, lo, hi, 0.0)
        if agg == "sum":
            return sums
        if any_missing:
            valid = _cached(
                view,
                ("valid_prefix", spec.column, str(spec.match)),
                lambda: np.concatenate([[0], np.cumsum(~missing)]),
            )
            counts = (valid[hi] - valid[lo]).astype(float)
        else:
            counts = (hi - lo).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    ufunc = np.fmin if agg == "min" else np.fmax
    out = _segment_reduce(ufunc, values, lo, hi, np.nan)
    return out if n else out


def _segment_reduce(ufunc, values, lo, hi, empty) -> np.ndarray:
    """ufunc.reduce over values[lo[i]:hi[i]] for each i (``empty`` when lo >= hi)."""
    out = np.full(len(lo), empty, dtype=np.float64)
    nonempty = hi > lo
    if not nonempty.any():
        return out
    a, b = lo[nonempty], hi[nonempty]
    n = len(values)
    at_end = b >= n
    res = np.empty(len(a), dtype=np.float64)
    inner = ~at_end
    if inner.any():
        idx = np.empty(2 * int(inner.sum()), dtype=np.int64)
        idx[0::2], idx[1::2] = a[inner], b[inner]
        res[inner] = ufunc.reduceat(values, idx)[0::2]
    if at_end.any():  # windows reaching the last row: reduce the few tails apart
        starts = a[at_end]
        res[at_end] = [ufunc.reduce(values[s:]) for s in starts]
    out[nonempty] = res
    return out


def _last_value(view, spec, values, lo, hi, first) -> np.ndarray:
    is_category = values.dtype.kind in "iu" and spec.match is None
    missing = (values < 0) if is_category else np.isnan(values)
    has = hi > lo
    if not missing.any():
        idx = lo if first else hi - 1
        ok = has
    else:
        key = ("nextvalid" if first else "lastvalid", spec.column, str(spec.match))
        if first:
            nxt = _cached(view, key, lambda: _next_valid(~missing))
            idx = nxt[np.minimum(lo, len(values))]
            ok = has & (idx < hi)
        else:
            prev = _cached(view, key, lambda: _last_valid(~missing))
            idx = prev[np.maximum(hi - 1, 0)] if len(values) else hi
            ok = has & (idx >= lo)
    safe = np.where(ok, idx, 0)
    if len(values) == 0:
        return np.full(len(lo), -1.0 if is_category else np.nan)
    picked = values[safe].astype(np.float64)
    return np.where(ok, picked, -1.0 if is_category else np.nan)


def _last_valid(valid: np.ndarray) -> np.ndarray:
    """For each i, the largest j <= i with valid[j] (or -1)."""
    idx = np.where(valid, np.arange(len(valid)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


def _next_valid(valid: np.ndarray) -> np.ndarray:
    """For each i, the smallest j >= i with valid[j] (or len); one extra slot."""
    n = len(valid)
    idx = np.where(valid, np.arange(n), n)
    out = np.minimum.accumulate(idx[::-1])[::-1] if n else idx
    return np.append(out, n)


def _distinct(view, column, lo, hi) -> np.ndarray:
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


def _open_intervals(spec, ctx, view) -> np.ndarray:
    """Tickets opened before t and not closed before t (closed at/after t is open)."""
    opened = ctx.position(view, None) - view.offsets[ctx.codes]
    if "closed_time" not in view.columns:
        return opened.astype(np.float64)
    closed_view = view.reordered_by("closed_time")
    closed = ctx.position(closed_view, None) - closed_view.offsets[ctx.codes]
    return (opened - closed).astype(np.float64)


def window_label(window) -> str:
    """'30D' -> '30d' for names."""
    return duration_label(parse_duration(window, name="window", allow_zero=False))

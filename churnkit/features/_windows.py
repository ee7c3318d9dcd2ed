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

import numpy as np
import pandas as pd

from churnkit._memory import reuse_freed_memory
from churnkit._time import NS_PER_DAY, dates_ns, parse_duration
from churnkit.events._notices import notice_given
from churnkit.events._store import NAT, THREADED_FROM, EventTable, row_order
from churnkit.exceptions import SchemaError
from churnkit.features._ages import completed_years, plausible_ages
from churnkit.features._context import KernelContext, RestrictedEvents
from churnkit.features._fused import fused_tasks
from churnkit.features._gaps import GAP_AGGREGATIONS, gap_stat
from churnkit.features._segments import (
    distinct_counts,
    last_valid,
    next_valid,
    prefix_category_counts,
    window_category_counts,
)
from churnkit.features._spec import Derived, FeatureSpec, as_list
from churnkit.features._tasks import run_tasks

__all__ = ["compute_specs"]

DAYS_PER_MONTH = 365.25 / 12


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
    once (:class:`~churnkit.events._store.OnceCache`). Derived specs follow, in
    order. Every value is computed by the same numpy passes whichever thread runs it,
    so results do not depend on the threads.

    Rows are evaluated in (customer, cutoff) order: rows given in another
    order (shuffled labels, a random sample of accounts) are sorted first and
    every result is put back in the rows' order, so each pass over the store
    runs front to back instead of missing the cache at every row. The values
    are the same, to the bit, in any row order.
    """
    codes = np.asarray(codes, dtype=np.int64)
    t = np.asarray(t, "int64")
    order = row_order(codes, t)
    if order is not None:
        ordered = compute_specs(events, specs, codes[order], t[order])
        out = out or {}
        results = {}
        for name, value in ordered.items():
            target = out.get(name)
            if target is None:
                target = np.empty(len(value), dtype=value.dtype)
            target[order] = value
            results[name] = target
            del value
        return results
    if len(codes) and len(codes) < RESTRICT_BELOW * events.n_customers:
        unique, codes = np.unique(codes, return_inverse=True)
        events = RestrictedEvents(events, unique)
    ctx = KernelContext(
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

    # (table rows, members, task); the fused loops take the specs they cover
    tasks, fused = fused_tasks(ctx, specs, keep)
    rest = [spec for spec in specs if spec.name not in fused]
    groups = _category_count_groups(rest)
    grouped = {name for members in groups.values() for name, _, _ in members}
    tasks += [
        (_table_rows(ctx, key[0]), len(members), category_task(key, members))
        for key, members in groups.items()
    ]
    tasks += [
        (_table_rows(ctx, spec.table), 1, spec_task(spec))
        for spec in rest
        if isinstance(spec, FeatureSpec) and spec.name not in grouped
    ]
    tasks.sort(key=lambda task: -task[0] * task[1])  # stable among equals
    largest = max((rows for rows, _, _ in tasks), default=0)
    parallel = len(codes) >= PARALLEL_FROM_ROWS or largest >= THREADED_FROM
    run_tasks([task for _, _, task in tasks], KERNEL_THREADS if parallel else 1)
    for spec in specs:
        if isinstance(spec, Derived):
            value = _derived(spec, ctx.results)
            if spec.op == "pct_change":
                value = _since_signup(spec, value, by_name.get(spec.right), ctx)
            keep(spec.name, value)
    return {spec.name: ctx.results[spec.name] for spec in specs}


#: The least share of an earlier window a count is scaled from (less: as much).
MIN_SHARE = 0.25


def _since_signup(spec, value, before, ctx) -> np.ndarray:
    """A change against an earlier window (``before``) begun before the signup
    counts it per day of the customer, scaled to the window (a stable player
    90 to 180 days old read +400 %), as if there for :data:`MIN_SHARE` of it
    at least (an onboarding hour is no baseline; NaN here moved a Dask fit)."""
    if not isinstance(before, FeatureSpec) or not (before.window and before.offset):
        return value
    offset = parse_duration(before.offset, name="offset")
    start = ctx.bound(_combine(offset, parse_duration(before.window, name="window")))
    stop = ctx.bound(offset)
    signup = np.asarray(ctx.events.signup_time)[ctx.codes]
    partial = (start < signup) & (signup < stop)
    if not partial.any():
        return value
    share = (stop - np.maximum(start, signup)) / np.maximum(stop - start, 1)
    share = np.maximum(share, MIN_SHARE)
    now, then = ctx.results[spec.left], ctx.results[spec.right]
    scaled = np.where(partial, then / np.where(partial, share, 1.0), then)
    with np.errstate(divide="ignore", invalid="ignore"):
        fair = np.where(scaled != 0, (now - scaled) / scaled, np.nan)
    return np.where(partial, fair, value)


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
            values = as_list(values)
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
        counts = prefix_category_counts(codes, wanted, hi, bounds)
    else:
        n_cats = len(view.categories[col])
        counts = {}
        for window, lo in bounds.items():
            matrix = window_category_counts(codes, lo, hi, n_cats)
            for code in wanted:
                counts[window, code] = matrix[:, code]
    out = {}
    for name, value, window in members:
        code = view.code_of(col, value)
        out[name] = counts[window, code] if code >= 0 else np.zeros(len(hi))
    return out


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


def _aggregate(spec: FeatureSpec, ctx: KernelContext) -> np.ndarray:
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
    if agg in GAP_AGGREGATIONS:  # gaps between active days: churnkit.features._gaps
        return gap_stat(view, agg, lo, hi)
    if agg == "active_days":
        flags = view.day_prefix()
        has = hi > lo
        inside = flags[np.maximum(hi - 1, 0)] - flags[lo]  # new days in (lo, hi)
        return np.where(has, inside + 1.0, 0.0)
    values = _values(view, spec)
    if agg == "last" or agg == "first":
        return _last_value(view, spec, values, lo, hi, agg == "first")
    if agg == "distinct":
        return distinct_counts(view, spec.column, lo, hi)
    return _reduce(view, spec, values, lo, hi)


def _customer_value(spec: FeatureSpec, ctx: KernelContext) -> np.ndarray:
    """Per-customer values: ``tenure_days``, ``notice_given`` or a static
    numeric ``attribute``."""
    events = ctx.events
    if spec.agg == "tenure_days":
        return (ctx.t - events.signup_time[ctx.codes]) / NS_PER_DAY
    if spec.agg == "notice_given":
        whole = getattr(events, "whole", None)
        engine, codes = whole(ctx.codes) if whole else (events, ctx.codes)
        return notice_given(engine, codes, ctx.t)
    column = events.customers[spec.column]
    if pd.api.types.is_datetime64_any_dtype(column.dtype) or (
        spec.unit in ("days", "years")
        and not pd.api.types.is_numeric_dtype(column.dtype)
    ):  # a date (datetime, or text read as dates): days (years) to the cutoff
        dates = dates_ns(column)[ctx.codes]
        if spec.unit == "years":
            t = np.asarray(ctx.t, dtype=np.int64)
            years = completed_years(t, dates)
            return plausible_ages(years, spec.column, events.customer_ids[ctx.codes])
        return np.where(dates == NAT, np.nan, (ctx.t - dates) / NS_PER_DAY)
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
        starts, stops = a[inner], b[inner]
        # reduceat also reduces each gap between one window's end and the next
        # window's start: with the windows in row order those gaps add up to at
        # most the table, in any other order to up to rows x table
        order = None
        if len(starts) > 1 and (starts[1:] < starts[:-1]).any():
            order = np.argsort(starts, kind="stable")
            starts, stops = starts[order], stops[order]
        idx = np.empty(2 * len(starts), dtype=np.int64)
        idx[0::2], idx[1::2] = starts, stops
        reduced = ufunc.reduceat(values, idx)[0::2]
        if order is not None:
            reduced[order] = reduced.copy()
        res[inner] = reduced
    if at_end.any():  # windows reaching the last row: reduce the few tails apart
        starts = a[at_end]
        # reduceat, like the windows above: ufunc.reduce sums in another order,
        # so a customer's value would depend on being the table's last one
        res[at_end] = [ufunc.reduceat(values[s:], [0])[0] for s in starts]
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
            nxt = _cached(view, key, lambda: next_valid(~missing))
            idx = nxt[np.minimum(lo, len(values))]
            ok = has & (idx < hi)
        else:
            prev = _cached(view, key, lambda: last_valid(~missing))
            idx = prev[np.maximum(hi - 1, 0)] if len(values) else hi
            ok = has & (idx >= lo)
    safe = np.where(ok, idx, 0)
    if len(values) == 0:
        return np.full(len(lo), -1.0 if is_category else np.nan)
    picked = values[safe].astype(np.float64)
    return np.where(ok, picked, -1.0 if is_category else np.nan)


def _open_intervals(spec, ctx, view) -> np.ndarray:
    """Tickets opened before t and not closed before t (closed at/after t is open)."""
    opened = ctx.position(view, None) - view.offsets[ctx.codes]
    if "closed_time" not in view.columns:
        return opened.astype(np.float64)
    closed_view = view.reordered_by("closed_time")
    closed = ctx.position(closed_view, None) - closed_view.offsets[ctx.codes]
    return (opened - closed).astype(np.float64)

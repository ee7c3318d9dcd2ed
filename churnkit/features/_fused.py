"""The fused window kernel: many specs of one table in one pass per customer.

:func:`fused_tasks` picks, among the specs of a
:func:`~churnkit.features._windows.compute_specs` call, those the compiled
loops of :mod:`churnkit.features._fused_loops` evaluate -- counts (with or
without a ``where`` on one category column), distinct active days, days since
the last or first row, sums, means, last and first values -- and groups them
by (table, time column). Each group is evaluated in one walk over the query
rows, sorted by customer and cutoff, with one forward-moving pointer per
distinct window bound, instead of one search and one reduction per spec. The
other specs (``min``/``max``, ``distinct``, ``open``, gaps, ``match``,
categorical values, ``where`` on several columns, the customers table) stay on
the numpy kernel, and so does everything when the tables are small (numba's
start-up costs more than it saves).

The values are the numpy kernel's, to the bit (``tests/features/
test_fused_kernel.py`` holds the two against each other).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pandas as pd

from churnkit._time import parse_duration
from churnkit.features._spec import FeatureSpec, as_list

__all__ = ["fused_tasks"]

#: Tables from this many rows are evaluated by the fused loops (smaller ones
#: too once the loops are loaded, from ``FUSED_LOADED_FROM`` rows).
FUSED_FROM = 1_000_000
FUSED_LOADED_FROM = 50_000
#: Query rows per task: a group is split into chunks that run on the kernel's
#: threads (the loops release the GIL).
CHUNK_ROWS = 150_000

_COUNT_LIKE = {
    "count": 0,
    "active_days": 1,
    "days_since_last": 2,
    "days_since_first": 3,
}
_VALUE_AGGS = {"sum": 4, "mean": 5, "last": 6, "first": 7}
_LOOPS = "churnkit.features._fused_loops"


def use_fused(n_rows: int) -> bool:
    """Whether a table of ``n_rows`` rows is worth the compiled loops."""
    if n_rows >= FUSED_FROM:
        return True
    return n_rows >= FUSED_LOADED_FROM and _LOOPS in sys.modules


def _duration(value):
    return None if value is None else parse_duration(value, name="window")


def _bounds_of(spec: FeatureSpec):
    """(lo, hi) deltas of a spec's window (lo None: all history), or None."""
    offset, window = _duration(spec.offset), _duration(spec.window)
    if window is None:
        return None, offset
    if offset is None:
        return window, None
    if isinstance(offset, pd.Timedelta) and isinstance(window, pd.Timedelta):
        return offset + window, offset
    return None  # a calendar window with an offset: the numpy kernel explains


def _where_column(spec: FeatureSpec):
    """The one category column a spec filters on (None: no filter; False: other)."""
    if not spec.where:
        return None
    if len(spec.where) != 1:
        return False
    return next(iter(spec.where))


def _fusable(spec, table) -> bool:
    if not isinstance(spec, FeatureSpec) or spec.table == "customers":
        return False
    if spec.agg not in _COUNT_LIKE and spec.agg not in _VALUE_AGGS:
        return False
    if spec.by != "time" and spec.by not in table.columns:
        return False
    column = _where_column(spec)
    if column is False or (
        column is not None and table.kinds.get(column) != "category"
    ):
        return False
    if spec.agg == "active_days" and column is not None:
        return False  # distinct days of a subset: the numpy kernel's day prefix
    if spec.agg in _VALUE_AGGS:
        if spec.match is not None or table.kinds.get(spec.column) != "number":
            return False
    return _bounds_of(spec) is not None


def fused_tasks(ctx, specs, keep) -> tuple[list, set]:
    """Tasks evaluating the specs the fused loops cover, and those specs' names.

    Returns ``([(weight, 1, task), ...], names)`` in the form
    ``compute_specs`` schedules (weight: table rows x specs, largest first);
    a group of specs is split into tasks of ``CHUNK_ROWS`` query rows, and
    the task finishing a group calls ``keep(name, values)`` for its specs.
    """
    n = len(ctx.codes)
    if n == 0:
        return [], set()
    groups: dict = {}
    for spec in specs:
        if not isinstance(spec, FeatureSpec) or spec.table == "customers":
            continue
        table = ctx.events.table(spec.table)
        if table is None or not use_fused(len(table)) or not _fusable(spec, table):
            continue
        groups.setdefault((spec.table, spec.by), []).append(spec)
    tasks, names = [], set()
    for (table_name, by), members in groups.items():
        column = _filter_column(members)
        members = [s for s in members if _where_column(s) in (None, column)]
        group = _Group(ctx, table_name, by, column, members, keep)
        rows = len(ctx.events.table(table_name))
        tasks += [(rows * len(members), chunk) for chunk in group.chunks()]
        names.update(spec.name for spec in members)
    return [(rows, 1, task) for rows, task in tasks], names


def _filter_column(members):
    """The category column most ``where`` filters of a group use."""
    counts: dict = {}
    for spec in members:
        column = _where_column(spec)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _init_of_short_sums() -> float:
    """The value numpy's pairwise sum starts short runs from (-0.0 or 0.0)."""
    return float(np.add.reduceat(np.full(4, -0.0), [0, 3])[0])


class _Group:
    """Specs of one (table, time column), evaluated chunk by chunk of queries."""

    def __init__(self, ctx, table_name, by, column, members, keep):
        self.ctx = ctx
        self.table_name = table_name
        self.by = by
        self.column = column
        self.members = members
        self.keep = keep
        self.lock = threading.Lock()
        self.prepared = None
        n = len(ctx.codes)
        n_chunks = max(1, -(-n // CHUNK_ROWS))
        self.edges = np.linspace(0, n, n_chunks + 1).astype(np.int64)
        self.pending = n_chunks

    def chunks(self):
        return [self._chunk_task(k) for k in range(len(self.edges) - 1)]

    def _chunk_task(self, k):
        return lambda: self._run(int(self.edges[k]), int(self.edges[k + 1]))

    def _prepare(self):
        """Views, bound arrays and the spec tables the loops read (once)."""
        with self.lock:
            if self.prepared is None:
                self.prepared = self._make_prepared()
            return self.prepared

    def _make_prepared(self):
        ctx = self.ctx
        view = ctx.view(FeatureSpec("_base", self.table_name, "count", by=self.by))
        deltas: list = []

        def bound_index(delta):
            if delta not in deltas:
                deltas.append(delta)
            return deltas.index(delta)

        cats = (
            np.asarray(view.columns[self.column])
            if self.column is not None
            else np.zeros(0, dtype=np.int8)
        )
        n_cats = len(view.categories[self.column]) if self.column is not None else 0
        count_part, value_parts = _SpecTable(), {}
        for spec in self.members:
            lo, hi = _bounds_of(spec)
            lo_b = -1 if spec.window is None else bound_index(lo)
            hi_b = bound_index(hi)
            codes = None
            if spec.where:
                ((col, values),) = spec.where.items()
                codes = [view.code_of(col, v) for v in as_list(values)]
                codes = sorted({c for c in codes if c >= 0})
            if spec.agg in _COUNT_LIKE and (codes is None or spec.agg == "count"):
                count_part.add(spec.name, _COUNT_LIKE[spec.agg], lo_b, hi_b, codes)
            else:
                agg = _VALUE_AGGS.get(spec.agg, _COUNT_LIKE.get(spec.agg))
                key = spec.column if spec.agg in _VALUE_AGGS else None
                value_parts.setdefault(key, _SpecTable()).add(
                    spec.name, agg, lo_b, hi_b, codes
                )
        bounds = np.empty((max(len(deltas), 1), len(ctx.codes)), dtype=np.int64)
        for b, delta in enumerate(deltas):
            bounds[b] = ctx.bound(delta)
        from churnkit.features import _fused_loops as loops

        values = {}
        for key in value_parts:
            values[key] = (
                np.ascontiguousarray(view.columns[key], dtype=np.float64)
                if key is not None
                else np.zeros(0, dtype=np.float64)
            )
        n = len(ctx.codes)
        return {
            "loops": loops,
            "time": view.time,
            "offsets": view.offsets,
            "cats": cats,
            "n_cats": n_cats,
            "bounds": bounds,
            "count": count_part.frozen(n),
            "values": {
                key: (values[key], part.frozen(n)) for key, part in value_parts.items()
            },
            "init": _init_of_short_sums(),
        }

    def _run(self, q0, q1):
        p = self._prepare()
        loops, codes = p["loops"], self.ctx.codes
        spec_table, out, _ = p["count"]
        pos = loops.window_positions(
            p["time"],
            p["offsets"],
            p["cats"],
            p["n_cats"],
            codes,
            p["bounds"],
            q0,
            q1,
            *spec_table,
            out,
        )
        for values, (spec_table, out, _) in p["values"].values():
            loops.window_values(
                values,
                p["time"],
                p["offsets"],
                p["cats"],
                codes,
                p["bounds"],
                pos,
                q0,
                q1,
                *spec_table,
                p["init"],
                out,
            )
        with self.lock:
            self.pending -= 1
            last = self.pending == 0
        if last:
            for part in [p["count"], *(v[1] for v in p["values"].values())]:
                for j, name in enumerate(part[2]):
                    self.keep(name, part[1][j])


class _SpecTable:
    """Specs as the arrays the loops take: kind, bounds, filter codes."""

    def __init__(self):
        self.names, self.kind, self.lo, self.hi = [], [], [], []
        self.filtered, self.codes = [], [[]]

    def add(self, name, kind, lo_b, hi_b, codes):
        self.names.append(name)
        self.kind.append(kind)
        self.lo.append(lo_b)
        self.hi.append(hi_b)
        self.filtered.append(codes is not None)
        self.codes.append(list(codes or []))

    def frozen(self, n):
        starts = np.cumsum([len(c) for c in self.codes]).astype(np.int64)
        flat = np.asarray([c for codes in self.codes for c in codes], dtype=np.int64)
        arrays = (
            np.asarray(self.kind, dtype=np.int64),
            np.asarray(self.lo, dtype=np.int64),
            np.asarray(self.hi, dtype=np.int64),
            np.asarray(self.filtered, dtype=np.bool_),
            starts,
            flat,
        )
        out = np.empty((len(self.names), n), dtype=np.float64)
        return arrays, out, self.names

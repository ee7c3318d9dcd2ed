"""What the kernel reads from: views of the store and window bounds, cached.

:class:`KernelContext` holds, for one call of
:func:`~churnkit.features._windows.compute_specs`, the filtered and reordered
views of the event tables and the window bounds the specs share;
:class:`RestrictedEvents` is the part of a store that belongs to a few
customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._time import parse_duration, subtract_duration
from churnkit.events._store import EventTable, OnceCache
from churnkit.features._spec import FeatureSpec, as_list


class KernelContext:
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
                (col, tuple(sorted(map(str, as_list(values)))))
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


class RestrictedCustomers:
    """The customers table's rows of a few customers, taken column by column.

    ``customers[column]`` is that column's rows, in the order of the codes,
    indexed 0..k-1: what ``customers.iloc[codes].reset_index(drop=True)``
    holds. A column is taken the first time it is read; taking every column
    up front took the customer ids too, an Arrow string column whose ``take``
    concatenates its chunks: O(customers) on every call (about 3 ms per
    builder for one account at 1M customers).
    """

    def __init__(self, customers: pd.DataFrame, codes):
        self._customers = customers
        self._codes = codes
        self._columns = OnceCache()

    @property
    def columns(self) -> pd.Index:
        return self._customers.columns

    def __contains__(self, column) -> bool:
        return column in self._customers.columns

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, column) -> pd.Series:
        def take():
            return self._customers[column].iloc[self._codes].reset_index(drop=True)

        return self._columns.get(column, take)


class RestrictedEvents:
    """The part of an Events store that belongs to a few customers."""

    def __init__(self, events, unique_codes):
        self._events = events
        self._codes = unique_codes
        self._tables = OnceCache()
        self.signup_time = events.signup_time[unique_codes]
        self.customers = RestrictedCustomers(events.customers, unique_codes)
        self.customer_ids = events.customer_ids[unique_codes]

    def whole(self, codes):
        """(the whole store, ``codes`` as its codes): for data kept per store,
        such as the spells."""
        return self._events, self._codes[codes]

    def table(self, name):
        def restricted():
            full = self._events.table(name)
            return None if full is None else full.restrict(self._codes)

        return self._tables.get(name, restricted)

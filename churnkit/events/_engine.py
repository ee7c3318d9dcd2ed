"""The engine side of :class:`~churnkit.events.Events`: grouped arrays and codes.

What labels, features and metrics read from an Events store, kept apart from
what users call: :class:`EventsEngine` holds the grouped tables, the customer
codes and the spell arrays, and an Events store reaches it as ``events._engine``.
It does not depend on ``observed_until``, so stores that differ only there
share one engine: the spell methods take it as ``until`` (a subscription end
the data has not reached is the end of a paid period, not a churn; see
:func:`~churnkit.events._spells.observed_spells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.events._build import IdLookup
from churnkit.events._spells import END_OF_TIME, Spells, observed_spells
from churnkit.events._store import EventTable
from churnkit.events._tables import CHURN_KINDS
from churnkit.exceptions import SchemaError


class EventsEngine:
    """Grouped, read-only arrays of an Events store, addressed by customer code.

    Parameters
    ----------
    customer_ids : Index
        The customer ids in code order (sorted); code ``c`` is
        ``customer_ids[c]``.
    signup_time : ndarray of int64
        Signup times (nanoseconds since 1970) in code order.
    tables : dict of str to EventTable
        The grouped event tables present (usage, billing, support).
    spells : Spells
        Active spells ordered by (code, start), and the churn kinds.
    customers : DataFrame, default=None
        The customers table in code order (the same frame as
        ``Events.customers``), whose attributes profile features read.

    Attributes
    ----------
    customer_ids : Index
    signup_time : ndarray of int64
    tables : dict of str to EventTable
    churn_kinds : tuple of str
    customers : DataFrame or None
    """

    def __init__(
        self, customer_ids, signup_time, tables, spells: Spells, customers=None
    ):
        self.customer_ids = customer_ids
        self.signup_time = signup_time
        self.tables: dict[str, EventTable] = tables
        self.spell_code, self.spell_start = spells.code, spells.start
        self.spell_end, self.spell_kind = spells.end, spells.kind
        self.spell_cancel = spells.cancel
        self.notices = spells.notices
        self.churn_kinds = tuple(spells.churn_kinds)
        self._id_lookup = IdLookup(customer_ids)
        self.customers = customers

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    def table(self, name: str) -> EventTable | None:
        """The grouped store of one event table, or None when it was not given.

        "subscriptions" is the MRR rows derived from the subscriptions when a
        billing table was given too (without one they are the billing table).
        """
        if name == "subscriptions":
            return self.subscription_mrr
        return self.tables.get(name)

    def codes(self, customer_ids, *, table: str = "X") -> np.ndarray:
        """Customer codes for ids; unknown ids raise a :class:`SchemaError`."""
        ids = pd.Series(np.asarray(customer_ids))
        codes = self._id_lookup(ids)
        if (codes < 0).any():
            bad = ids[codes < 0]
            hint = ""
            known = self.customer_ids
            if len(bad) == len(ids) and len(known) and ids.dtype != known.dtype:
                hint = (
                    f" The ids are {ids.dtype} here but {known.dtype} in the "
                    "store: convert them, e.g. X['customer_id'].astype("
                    f"{known.dtype.name!r})."
                )
            shown = [v.item() if hasattr(v, "item") else v for v in bad.head(5)]
            raise SchemaError(
                f"{table}: {len(bad)} row(s) name customers this Events store does "
                f"not know, e.g. {shown}. Build the cutoffs with "
                "`ck.make_cutoffs(events, ...)` or use the Events these ids come "
                f"from.{hint}"
            )
        return codes

    def spells_at(self, until=None, grace=0):
        """(code, start, end, kind) of the spells as known at ``until`` (int64 ns;
        all recorded ends when None), ``end`` = churn time or END_OF_TIME."""
        spells = Spells(
            self.spell_code,
            self.spell_start,
            self.spell_end,
            self.spell_kind,
            self.churn_kinds,
            getattr(self, "spell_cancel", None),
        )
        return observed_spells(spells, until, grace)

    def eligible_spells(self, until=None, grace=0):
        """(code, start, end) arrays of active spells, ``end`` = churn time."""
        return self.spells_at(until, grace)[:3]

    def churn_arrays(self, kind=None, until=None, grace=0):
        """(code, time) of churns ordered by (code, time); only ``kind`` if given."""
        code, _, end, spell_kind = self.spells_at(until, grace)
        mask = end < END_OF_TIME
        if kind is not None:
            if kind in self.churn_kinds:
                mask &= spell_kind == self.churn_kinds.index(kind)
            elif kind in CHURN_KINDS:  # a contract kind no churn row has
                mask &= False
            else:
                known = [
                    *CHURN_KINDS,
                    *sorted(set(self.churn_kinds) - set(CHURN_KINDS)),
                ]
                raise SchemaError(f"`kind` must be one of {known}; got {kind!r}.")
        return code[mask], end[mask]

    # set on a bucket of a partitioned layout (churnkit.distributed): the whole
    # data set's first event, each event table's first time ({table: Timestamp
    # or NaT}) and (bucket, n_buckets, the non-empty buckets)
    dataset_first_event_time = None
    dataset_table_starts = None
    layout_bucket = None
    # the MRR of the subscriptions' ``mrr`` (billing rows derived from them)
    # when a billing table was given too: revenue KPIs fill in with it where
    # billing has no ``mrr`` (churnkit.metrics._mrr)
    subscription_mrr: EventTable | None = None

    def table_frame(self, table: EventTable) -> pd.DataFrame:
        """``table`` as a DataFrame: customer_id, time and its other columns,
        times as datetime64 and categories as :class:`pandas.Categorical`."""
        out = {
            "customer_id": self.customer_ids.to_numpy()[table.customer_codes()],
            "time": table.time.view("datetime64[ns]"),
        }
        for col, values in table.columns.items():
            kind = table.kinds[col]
            if kind == "time":
                out[col] = values.view("datetime64[ns]")
            elif kind == "category":
                out[col] = pd.Categorical.from_codes(
                    values.astype(np.int32), categories=list(table.categories[col])
                )
            else:
                out[col] = values
        return pd.DataFrame(out)

    def first_event_time(self) -> pd.Timestamp:
        """The earliest ``time`` of the event tables, NaT when they hold none
        (of the whole data set for a bucket of a partitioned layout)."""
        if self.dataset_first_event_time is not None:
            return self.dataset_first_event_time
        firsts = [int(t.time.min()) for t in self.tables.values() if len(t)]
        return pd.Timestamp(min(firsts)) if firsts else pd.NaT

    def table_start(self, name: str) -> pd.Timestamp:
        """The earliest ``time`` of event table ``name``, NaT when it holds
        none: of the whole data set for a bucket of a partitioned layout (a
        bucket's own first row is not where the data begins)."""
        starts = self.dataset_table_starts
        if starts is not None:
            return starts.get(name, pd.NaT)
        if self.dataset_first_event_time is not None:  # an older layout
            return self.dataset_first_event_time
        table = self.tables.get(name)
        return (
            pd.Timestamp(int(table.time.min()))
            if table is not None and len(table)
            else pd.NaT
        )

    # the engine is data too: copies share it
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __setstate__(self, state):
        self.__dict__.update(state)
        # unpickled arrays are writeable again: keep the store read-only
        arrays = [state.get(k) for k in ("signup_time", "spell_code", "spell_start")]
        arrays += [state.get("spell_end"), state.get("spell_kind")]
        arrays += [state.get("spell_cancel")]
        arrays += list(state.get("notices") or ())
        tables = list(state.get("tables", {}).values())
        tables += [t for t in [state.get("subscription_mrr")] if t is not None]
        for table in tables:
            arrays += [table.offsets, table.time]
            if isinstance(table.columns, dict):
                arrays += list(table.columns.values())
            elif hasattr(table.columns, "arrays"):  # deferred ones: see _deferred
                arrays += list(table.columns.arrays.values())
        for array in arrays:
            if isinstance(array, np.ndarray) and array.flags.writeable:
                array.flags.writeable = False

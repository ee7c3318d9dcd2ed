"""Events: the validated, immutable event store every other step reads from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import recording
from churnkit._memory import reuse_freed_memory
from churnkit._time import parse_duration, to_timestamp
from churnkit.events._build import (
    EVENT_TABLES,
    IdLookup,
    RowPolicy,
    build_customers,
    build_table,
)
from churnkit.events._columns import apply_mapping, check_all_columns
from churnkit.events._currency import (
    warn_mixed_currencies,
    warn_number_text_attributes,
)
from churnkit.events._engine import EventsEngine
from churnkit.events._idtypes import ids_like_customers
from churnkit.events._persist import StoreFiles
from churnkit.events._read import column_names, read_table
from churnkit.events._spells import (
    END_OF_TIME,
    billing_from_subscriptions,
    build_spells,
    clean_subscriptions,
)
from churnkit.events._store import NAT, EventTable
from churnkit.events._summary import summary_table
from churnkit.events._tables import CONTRACTS
from churnkit.events._until import observed_until_of
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["Events"]


class Events(StoreFiles):
    """A validated, immutable store of a subscription business's event tables.

    Tables are checked against churnkit's data contract, grouped once by
    customer and ordered by time into numpy arrays, and then shared by reference
    by every cutoff set, feature builder and model clone.

    Parameters
    ----------
    customers : DataFrame or path, default=None
        ``customer_id``, ``signup_time`` and optional static attributes (plan,
        seats, segment, ...). Required unless ``subscriptions`` gives the
        signups.
    usage : DataFrame or path, default=None
        ``customer_id``, ``time``, ``event`` (the kind) and optional
        ``quantity`` (non-negative; 1 per event when absent).
    billing : DataFrame or path, default=None
        ``customer_id``, ``time``, ``kind`` (invoice, payment, payment_failed,
        refund, plan_change, discount, ...) and optional ``amount``, ``mrr``
        (the MRR in effect after the row) and ``plan``.
    support : DataFrame or path, default=None
        ``customer_id``, ``time`` (opened) and optional ``closed_time``,
        ``priority``, ``category`` and ``csat``.
    churn : DataFrame or path, default=None
        ``customer_id``, ``time`` (end of service) and optional ``kind``
        ("voluntary" or "involuntary"). One churn per customer; describe
        returns with ``subscriptions``.
    subscriptions : DataFrame or path, default=None
        ``customer_id``, ``start``, ``end`` and optional ``mrr``, ``plan`` and
        ``cancel_time`` (or ``canceled_at``). Spells closer than ``grace`` are
        merged; the end of a merged spell is a churn once the data has passed
        it (``end + grace < observed_until``), a later spell a return. An end
        the data has not reached is the end of a paid period: the customer is
        active (censored), unless a ``cancel_time`` before ``observed_until``
        schedules the churn at ``end``. A null ``end``, ``9999-12-31`` or any
        end after 2262 means "open". When ``billing`` has no ``mrr``, MRR
        comes from the spells.
    columns : dict, default=None
        Per table, a mapping from your column names to churnkit's, e.g.
        ``{"usage": {"user_id": "customer_id", "ts": "time"}}``. A column
        mapped to ``None`` is not read at all (files are read without it, as
        with ``usecols``) and is listed in :attr:`report`: other columns of the
        event tables are stored and usable by feature specs, so map the ones
        you do not need, such as a per-row event id, to ``None``.
    grace : str, default="0D"
        Longest gap between two subscription spells that is not a churn.
    observed_until : str or Timestamp, default=None
        Exclusive end of the data. By default just after the latest event
        ``time``, signup, churn-table ``time``, subscription start or
        ``cancel_time`` (a ticket's ``closed_time`` and a subscription's
        ``end``, which may lie in the future, do not count); when every one of
        these times is a midnight (dates without times), midnight after the
        last day, so that the last day counts. Set it when the extract was
        taken later than the last event.
    errors : {"raise", "drop"}, default="raise"
        What to do with defective rows (null or unparseable times, negative or
        non-numeric values, churn before signup...): raise a
        :class:`SchemaError` naming them, or drop them and count them in
        :attr:`report`. Defects of the ``customers`` table itself (null,
        duplicate or unparseable ids and signups) always raise: dropping a
        customer would silently drop all their events.
    unknown_customers : {"raise", "drop"}, default=None
        What to do with event rows whose customer is not in ``customers``;
        defaults to ``errors``.

    Attributes
    ----------
    customers : DataFrame
        One row per customer, ordered by ``customer_id``: ``customer_id``,
        ``signup_time`` and the static attributes.
    observed_until : Timestamp
        Exclusive end of the data.
    report : DataFrame
        Every input row excluded or altered: ``table``, ``reason``, ``rows``,
        ``action``.
    warnings : DataFrame
        The warnings issued while the store was built: ``category``,
        ``message``.

    Notes
    -----
    Events with equal times are ordered by (time, kind in contract order,
    value), so "last value" features never depend on the input row order.
    ``copy.deepcopy`` and :func:`sklearn.base.clone` return the same store:
    events are data, not hyperparameters.

    Examples
    --------
    >>> import pandas as pd, churnkit as ck
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "signup_time": ["2024-01-01", "2024-02-01"]})
    >>> usage = pd.DataFrame({"customer_id": ["a", "b", "a"], "event": "login",
    ...                       "time": ["2024-01-02", "2024-02-03", "2024-03-01"]})
    >>> ck.Events(customers=customers, usage=usage)
    Events(2 customers; usage: 3 rows; 2024-01-01..2024-03-01)
    """

    def __init__(
        self,
        customers=None,
        usage=None,
        billing=None,
        support=None,
        churn=None,
        subscriptions=None,
        *,
        columns=None,
        grace="0D",
        observed_until=None,
        errors="raise",
        unknown_customers=None,
    ):
        if errors not in ("raise", "drop"):
            raise SchemaError(f"`errors` must be 'raise' or 'drop'; got {errors!r}.")
        unknown_customers = errors if unknown_customers is None else unknown_customers
        if unknown_customers not in ("raise", "drop"):
            raise SchemaError(
                "`unknown_customers` must be 'raise' or 'drop'; "
                f"got {unknown_customers!r}."
            )
        if columns is not None and not isinstance(columns, dict):
            raise ChurnkitTypeError(
                "`columns` must be a dict of per-table mappings, such as "
                f"{{'usage': {{'user_id': 'customer_id'}}}}; got {columns!r}."
            )
        columns = columns or {}
        unknown_tables = set(columns) - set(CONTRACTS)
        if unknown_tables:
            raise SchemaError(
                f"`columns` names unknown table(s) {sorted(unknown_tables)}; tables "
                f"are {list(CONTRACTS)}."
            )
        policy = RowPolicy(errors, unknown_customers)
        grace_ = parse_duration(grace, name="grace")
        if not isinstance(grace_, pd.Timedelta):
            raise SchemaError(
                f"`grace` must be an exact span such as '7D'; got {grace!r}."
            )

        given = {
            "customers": customers,
            "usage": usage,
            "billing": billing,
            "support": support,
            "churn": churn,
            "subscriptions": subscriptions,
        }
        given = {name: data for name, data in given.items() if data is not None}
        if "customers" not in given and "subscriptions" not in given:
            raise SchemaError(
                "Events needs a `customers` table (customer_id, signup_time) or a "
                "`subscriptions` table (customer_id, start, end) to know who the "
                "customers are and when they signed up. A log of purchases or "
                "usage alone can give one: each customer's first row is the "
                "signup, e.g. `customers = usage.groupby('customer_id', "
                "as_index=False)['time'].min().rename(columns={'time': "
                "'signup_time'})` (with your column names, before `columns=` "
                "renames them)."
            )

        # every table's columns checked before any is read in full
        check_all_columns({n: column_names(d) for n, d in given.items()}, columns)

        def read(name):
            # one table at a time: a table read from a file is freed once built
            data = given.pop(name, None)
            if data is None:
                return None
            mapping = columns.get(name)
            skip = []
            if isinstance(mapping, dict):
                skip = [k for k, v in mapping.items() if v is None]
                mapping = {k: v for k, v in mapping.items() if v is not None}
            df = apply_mapping(read_table(data, name, mapping, skip), name, mapping)
            warn_mixed_currencies(name, df)
            if skip:
                policy.record(name, f"columns {skip} not read", len(df), "ignored")
            return df

        # the build frees many large temporaries: keep them for reuse; the
        # warnings met stay with the store (`warnings`), saved and loaded
        with reuse_freed_memory(), recording() as met:
            subs = clean_subscriptions(read("subscriptions"), policy)
            customers_df, signup_time = build_customers(read("customers"), subs)
            warn_number_text_attributes(customers_df)
            if len(customers_df) == 0 and observed_until is None:
                raise SchemaError(no_customers_message(subs, policy))
            customer_ids = pd.Index(
                customers_df["customer_id"].to_numpy(), name="customer_id"
            )
            lookup = IdLookup(customer_ids)
            subs = ids_like_customers(subs, lookup)  # 101 and "101": one id
            tables: dict[str, EventTable] = {}
            for name in EVENT_TABLES:
                df = read(name)
                if df is not None:
                    tables[name] = build_table(name, df, lookup, policy)
                del df
            spells = build_spells(
                read("churn"),
                subs,
                lookup=lookup,
                signup_time=signup_time,
                grace=grace_,
                policy=policy,
            )
            # before deriving billing: a subscription's (future) end is not data
            default_until = observed_until_of(
                observed_until, customer_ids, signup_time, tables, subs, spells, grace_
            )
            subscription_mrr = None
            if subs is not None and "mrr" in subs:
                # with a billing table too, revenue KPIs fill in with it where
                # billing has no `mrr` (churnkit.metrics._mrr)
                given_billing = "billing" in tables
                derived = billing_from_subscriptions(
                    subs,
                    lookup,
                    policy,
                    grace_.value,
                    record=not given_billing,
                    until=default_until.value,
                )
                if given_billing:
                    subscription_mrr = derived
                else:
                    tables["billing"] = derived

        self.customers = customers_df
        self._engine = EventsEngine(
            customer_ids, signup_time, tables, spells, customers=customers_df
        )
        # whether churn is recorded at all (else KPIs need an inactivity rule)
        self._engine.contractual = churn is not None or subscriptions is not None
        self._engine.subscription_mrr = subscription_mrr
        self._observed_until = default_until
        self._report = policy.report
        self._warnings = met
        self._grace = grace_
        self._frozen = True

    # ---------------------------------------------------------------- public
    @property
    def observed_until(self) -> pd.Timestamp:
        """Exclusive end of the data (see the class docstring)."""
        return self._observed_until

    def with_observed_until(self, observed_until) -> Events:
        """The same store with another ``observed_until`` (arrays are shared).

        Parameters
        ----------
        observed_until : str or Timestamp
            The new exclusive end of the data.

        Returns
        -------
        Events
            A store sharing this one's arrays.
        """
        clone = object.__new__(Events)
        object.__setattr__(clone, "__dict__", dict(self.__dict__))
        clone.__dict__["_observed_until"] = to_timestamp(
            observed_until, name="observed_until"
        )
        return clone

    @property
    def first_event_time(self) -> pd.Timestamp:
        """The earliest ``time`` of any row of the event tables.

        The usage, billing and support tables count, billing derived from
        ``subscriptions`` included (its rows are the subscription starts and
        ends). Signups do not count, nor do churn rows: an extract whose events
        begin years after the oldest signups starts here.

        Returns
        -------
        Timestamp
            The earliest event time, or ``NaT`` when the store has no event
            rows.

        Examples
        --------
        >>> import pandas as pd, churnkit as ck
        >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
        ...                           "signup_time": ["2022-01-01", "2022-02-01"]})
        >>> usage = pd.DataFrame({"customer_id": ["a", "b"], "event": "login",
        ...                       "time": ["2024-03-05", "2024-01-02 10:00"]})
        >>> ck.Events(customers=customers, usage=usage).first_event_time
        Timestamp('2024-01-02 10:00:00')
        >>> ck.Events(customers=customers).first_event_time
        NaT
        """
        return self._engine.first_event_time()

    @property
    def n_customers(self) -> int:
        """The number of customers."""
        return self._engine.n_customers

    @property
    def report(self) -> pd.DataFrame:
        """Input rows excluded or altered, per table and reason."""
        return pd.DataFrame(self._report, columns=["table", "reason", "rows", "action"])

    @property
    def warnings(self) -> pd.DataFrame:
        """The warnings issued while the store was built (``category``,
        ``message``, in order), kept through :meth:`save` and :meth:`load`
        so that a report built later still names them."""
        return pd.DataFrame(
            getattr(self, "_warnings", []), columns=["category", "message"]
        )

    @property
    def churn_kinds(self) -> tuple[str, ...]:
        """The churn kinds, in the order of their codes."""
        return self._engine.churn_kinds

    @property
    def grace(self) -> pd.Timedelta:
        """Longest gap between two subscription spells that is not a churn."""
        return self._grace

    @property
    def spells(self) -> pd.DataFrame:
        """Active spells as known at ``observed_until``: ``customer_id``,
        ``start``, ``end`` (NaT while active) and ``churn_kind`` of the churn
        that ends the spell.

        An end the data does not reach (``end + grace >= observed_until``) is
        the end of a paid period, so the spell is open, unless a
        ``cancel_time`` before ``observed_until`` schedules the churn."""
        engine = self._engine
        code, start, end, kind = engine.spells_at(
            self._observed_until.value, self._grace.value
        )
        kind = pd.Categorical.from_codes(
            kind.astype(int), categories=list(engine.churn_kinds)
        )
        return pd.DataFrame(
            {
                "customer_id": engine.customer_ids.to_numpy()[code],
                "start": start.view("datetime64[ns]"),
                "end": np.where(end == END_OF_TIME, NAT, end).view("datetime64[ns]"),
                "churn_kind": kind,
            }
        )

    @property
    def churns(self) -> pd.DataFrame:
        """Every churn: ``customer_id``, ``time`` and ``kind``, ordered by time."""
        spells = self.spells
        out = spells[spells["end"].notna()][["customer_id", "end", "churn_kind"]]
        out = out.rename(columns={"end": "time", "churn_kind": "kind"})
        return out.sort_values(["time", "customer_id"], kind="stable").reset_index(
            drop=True
        )

    def frame(self, name: str) -> pd.DataFrame:
        """One event table as a validated DataFrame in (customer, time) order.

        Parameters
        ----------
        name : {"usage", "billing", "support"}
            The table.

        Returns
        -------
        DataFrame
            ``customer_id``, ``time`` and the table's other columns, categories
            as :class:`pandas.Categorical`.
        """
        engine = self._engine
        table = engine.tables.get(name)
        if table is None:
            kept = {
                "subscriptions": " Subscriptions are kept as active spells "
                "(`events.spells`, their ends in `events.churns`) and their MRR "
                "as billing rows.",
                "churn": " Churns are in `events.churns`.",
            }.get(name, "")
            raise SchemaError(
                f"This Events store has no {name!r} table; it has "
                f"{list(engine.tables)}.{kept}"
            )
        return engine.table_frame(table)

    def summary(self) -> pd.DataFrame:
        """Rows, customers and time range per table, plus excluded rows.

        Returns
        -------
        DataFrame
            Indexed by ``table`` (customers, churn and each event table):
            ``rows``, ``rows_excluded``, ``customers``, ``first``, ``last``.
        """
        return summary_table(self)

    def __repr__(self) -> str:
        engine = self._engine
        parts = [f"{self.n_customers:,} customers"]
        parts += [f"{name}: {len(t):,} rows" for name, t in engine.tables.items()]
        start = (
            pd.Timestamp(int(engine.signup_time.min())) if self.n_customers else None
        )
        end = self._observed_until - pd.Timedelta(1)
        span = f"{start:%Y-%m-%d}..{end:%Y-%m-%d}" if start is not None else "empty"
        return f"Events({'; '.join(parts)}; {span})"

    # events are data: copies and clones share the store
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __setattr__(self, name, value):
        if getattr(self, "_frozen", False):
            raise AttributeError(
                "Events is immutable; build a new one (or use "
                "`with_observed_until`) instead of setting attributes."
            )
        object.__setattr__(self, name, value)

    def __setstate__(self, state):
        # the engine keeps its own arrays read-only when unpickled
        object.__setattr__(self, "__dict__", state)


def no_customers_message(subs, policy) -> str:
    """The error for a store with no customer: nothing to score or count."""
    source = "customers" if subs is None else "subscriptions"
    dropped = [r for r in policy.report if r["table"] == source]
    why = ""
    if dropped:
        reasons = "; ".join(f"{r['reason']}: {r['rows']:,}" for r in dropped)
        why = f" left once defective rows were dropped ({reasons})"
    return (
        f"Events: the `{source}` table has no rows{why}, so the store would hold "
        "no customer, and every count, rate and score would be empty or taken "
        "from the clock. Check the file (a header with no rows?) or the filter "
        "that built the frame; to build an empty store on purpose, date it with "
        "`observed_until=`."
    )

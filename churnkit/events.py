"""Events: the validated, immutable event store every other step reads from."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit._memory import reuse_freed_memory
from churnkit._store import (
    NAT,
    EventTable,
    fix_ties,
    group_order,
    offsets_from_codes,
    reordered_kinds,
    take_columns,
)
from churnkit._tables import (
    CHURN_KINDS,
    CONTRACTS,
    NON_NEGATIVE_AMOUNT_KINDS,
    Exclusions,
    apply_mapping,
    category_codes,
    examples,
    parse_numbers,
    parse_times,
    read_table,
    smallest_int,
)
from churnkit._time import parse_duration, to_timestamp
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError

__all__ = ["Events"]

EVENT_TABLES = ("usage", "billing", "support")
END_OF_TIME = np.iinfo(np.int64).max
_FORMAT_VERSION = 1


class Events:
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
        ``customer_id``, ``start``, ``end`` (null while active) and optional
        ``mrr`` and ``plan``. Spells closer than ``grace`` are merged; the end
        of a merged spell is a churn, a later spell a return. When ``billing``
        has no ``mrr``, MRR comes from the spells.
    columns : dict, default=None
        Per table, a mapping from your column names to churnkit's, e.g.
        ``{"usage": {"user_id": "customer_id", "ts": "time"}}``.
    grace : str, default="0D"
        Longest gap between two subscription spells that is not a churn.
    observed_until : str or Timestamp, default=None
        Exclusive end of the data. By default just after the latest event
        ``time``, signup, churn-table ``time`` or subscription start (a ticket's
        ``closed_time`` and a subscription's ``end``, which may lie in the
        future, do not count). Set it when the extract was taken
        later than the last event.
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
        self._errors = errors
        self._unknown = unknown_customers
        self._report: list[dict] = []
        self._grace = parse_duration(grace, name="grace")
        if not isinstance(self._grace, pd.Timedelta):
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
                "customers are and when they signed up."
            )

        def read(name):
            # one table at a time: a table read from a file is freed once built
            data = given.pop(name, None)
            if data is None:
                return None
            return apply_mapping(read_table(data, name), name, columns.get(name))

        # the build frees many large temporaries: keep them for reuse
        with reuse_freed_memory():
            subs = self._clean_subscriptions(read("subscriptions"))
            self._build_customers(read("customers"), subs)
            self.tables: dict[str, EventTable] = {}
            for name in EVENT_TABLES:
                df = read(name)
                if df is not None:
                    self.tables[name] = self._build_table(name, df)
                del df
            churn_table = read("churn")
            self._build_spells(churn_table, subs)
            # before deriving billing: a subscription's (future) end is not data
            self._observed_until = self._default_observed_until(subs)
            if "billing" not in self.tables and subs is not None and "mrr" in subs:
                self.tables["billing"] = self._billing_from_subscriptions(subs)

        if observed_until is not None:
            self._observed_until = to_timestamp(observed_until, name="observed_until")
        self._frozen = True

    # ------------------------------------------------------------------ build
    def _exclude(self, name, df, excl: Exclusions, show_columns) -> np.ndarray:
        """Raise on defects, or drop them and record the counts. Returns keep."""
        bad = excl.excluded()
        if not bad.any():
            return np.ones(len(df), dtype=bool)
        # rows of unknown customers follow `unknown_customers`, the rest `errors`
        defects = dict(excl.masks)
        if self._unknown == "drop" and "unknown customer" in defects:
            unknown = defects.pop("unknown customer")
            defects = {
                r: m & ~unknown for r, m in defects.items() if (m & ~unknown).any()
            }
        if self._errors == "raise" and defects:
            reason, mask = next(iter(defects.items()))
            raise SchemaError(
                f"Table {name!r}: {int(mask.sum())} row(s) where "
                f"{excl.messages[reason]}:\n{examples(df, mask, show_columns)}\n"
                "Fix or remove these rows, or pass `errors='drop'` to drop them "
                "(they are counted in `events.report`)."
            )
        for reason, count in excl.counts().items():
            if count == 0:  # every row of this reason counted for an earlier one
                continue
            self._report.append(
                {"table": name, "reason": reason, "rows": count, "action": "dropped"}
            )
        return ~bad

    def _clean_subscriptions(self, df):
        if df is None:
            return None
        excl = Exclusions("subscriptions", len(df))
        out = pd.DataFrame({"customer_id": df["customer_id"].to_numpy()})
        self._check_ids(df, "subscriptions", excl)
        out["start"] = parse_times(
            df["start"], table="subscriptions", column="start", required=True, excl=excl
        )
        end = (
            df["end"]
            if "end" in df
            else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        )
        out["end"] = parse_times(
            end, table="subscriptions", column="end", required=False, excl=excl
        )
        ends = out["end"].to_numpy()
        excl.add(
            "end before start",
            (ends != NAT) & (ends < out["start"].to_numpy()),
            "`end` is before `start`",
        )
        if "mrr" in df:
            out["mrr"] = parse_numbers(
                df["mrr"], table="subscriptions", column="mrr", excl=excl
            )
            excl.add("negative mrr", out["mrr"].to_numpy() < 0, "`mrr` is negative")
        if "plan" in df:
            out["plan"] = df["plan"].to_numpy()
        keep = self._exclude("subscriptions", df, excl, ["customer_id", "start", "end"])
        out = out[keep].reset_index(drop=True)
        out["end"] = out["end"].where(out["end"] != NAT, END_OF_TIME)
        return out

    def _check_ids(self, df, name, excl):
        ids = df["customer_id"]
        excl.add("null customer_id", ids.isna().to_numpy(), "`customer_id` is null")
        _check_id_types(ids.dropna(), name)

    def _build_customers(self, df, subs):
        if df is None:
            first = subs.groupby("customer_id", sort=True)["start"].min()
            df = pd.DataFrame({"customer_id": first.index, "signup_time": first.values})
            df["signup_time"] = (
                df["signup_time"].astype("int64").astype("datetime64[ns]")
            )
        ids = df["customer_id"]
        if ids.isna().any():
            raise SchemaError(
                "Table 'customers', column 'customer_id': "
                f"{int(ids.isna().sum())} null id(s):\n"
                f"{examples(df, ids.isna().to_numpy(), df.columns[:4])}\n"
                "Every customer needs an id: fill or drop these rows."
            )
        dup = ids.duplicated(keep=False)
        if dup.any():
            raise SchemaError(
                "Table 'customers', column 'customer_id': "
                f"{int(ids[dup].nunique())} id(s) appear more than once:\n"
                f"{examples(df, dup.to_numpy(), df.columns[:4])}\n"
                "customers holds one row per customer: deduplicate it, e.g. "
                "`customers.drop_duplicates('customer_id', keep='last')`."
            )
        _check_id_types(ids, "customers")
        try:
            order = np.argsort(ids.to_numpy(), kind="stable")
        except TypeError:
            raise SchemaError(
                "Table 'customers', column 'customer_id' mixes numbers and strings "
                f"(e.g. {ids.head(4).tolist()}). Use one type, e.g. "
                "`df['customer_id'] = df['customer_id'].astype(str)` in every table."
            ) from None
        df = df.iloc[order].reset_index(drop=True)
        if "signup_time" not in df:
            if subs is None:
                raise SchemaError(
                    "Table 'customers' is missing required column 'signup_time' "
                    f"(columns present: {list(df.columns)}); it can only be left "
                    "out when a `subscriptions` table gives the signups."
                )
            first = subs.groupby("customer_id")["start"].min()
            signup = first.reindex(df["customer_id"]).to_numpy()
            no_sub = pd.isna(signup)
            if no_sub.any():
                raise SchemaError(
                    "Table 'customers' has no 'signup_time' and "
                    f"{int(no_sub.sum())} customer(s) have no subscription to take "
                    f"it from, e.g. {df['customer_id'][no_sub].head(5).tolist()}."
                )
            df["signup_time"] = signup.astype("int64").astype("datetime64[ns]")
        excl = Exclusions("customers", len(df))
        signup = parse_times(
            df["signup_time"],
            table="customers",
            column="signup_time",
            required=True,
            excl=excl,
        )
        if excl.masks:
            reason, mask = next(iter(excl.masks.items()))
            raise SchemaError(
                f"Table 'customers': {int(mask.sum())} row(s) where "
                f"{excl.messages[reason]}:\n"
                f"{examples(df, mask, ['customer_id', 'signup_time'])}\n"
                "Every customer needs a signup time: fix these rows or drop them."
            )
        df["signup_time"] = signup.view("datetime64[ns]")
        self.customer_ids = pd.Index(df["customer_id"].to_numpy(), name="customer_id")
        self.signup_time = signup
        self.signup_time.flags.writeable = False
        self.customers = df
        self._id_lookup = _IdLookup(self.customer_ids)

    def _codes(self, name, df, excl) -> np.ndarray:
        """Customer codes of a table's rows; unknown ids are defects."""
        codes = self._id_lookup(df["customer_id"])
        unknown = (codes < 0) & df["customer_id"].notna().to_numpy()
        if unknown.any() and self._unknown == "raise":
            hint = ""
            if (unknown.all() and len(self.customer_ids)) and (
                df["customer_id"].dtype != self.customer_ids.dtype
            ):
                hint = (
                    f" The ids are {df['customer_id'].dtype} here but "
                    f"{self.customer_ids.dtype} in customers: convert one of them."
                )
            raise SchemaError(
                f"Table {name!r}: {int(unknown.sum())} row(s) belong to customers "
                "that are not in `customers`:\n"
                f"{examples(df, unknown, ['customer_id', 'time'])}\n"
                "Add these customers to `customers`, or pass "
                f"`unknown_customers='drop'` to drop their rows (counted in "
                f"`events.report`).{hint}"
            )
        excl.add("unknown customer", unknown, "the customer is not in `customers`")
        return codes

    def _build_table(self, name, df) -> EventTable:
        contract = CONTRACTS[name]
        excl = Exclusions(name, len(df))
        self._check_ids(df, name, excl)
        codes = self._codes(name, df, excl)
        time = parse_times(
            df["time"], table=name, column="time", required=True, excl=excl
        )
        columns, categories, kinds = {}, {}, {}
        for col in contract.times[1:]:
            if col in df:
                columns[col] = parse_times(
                    df[col], table=name, column=col, required=False, excl=excl
                )
                kinds[col] = "time"
        for col in contract.numbers:
            if col in df:
                columns[col] = parse_numbers(df[col], table=name, column=col, excl=excl)
                kinds[col] = "number"
        extra = [
            c
            for c in df.columns
            if c not in ("customer_id", "time", *contract.times, *contract.numbers)
            and c not in contract.categories
        ]
        for col in [*contract.categories, *extra]:
            if col not in df:
                continue
            if col in extra and _is_numeric(df[col]):
                columns[col] = parse_numbers(df[col], table=name, column=col, excl=excl)
                kinds[col] = "number"
                continue
            codes_, cats = category_codes(df[col], contract.categories.get(col, ()))
            columns[col] = smallest_int(codes_, len(cats))
            categories[col], kinds[col] = cats, "category"
        self._value_rules(name, df, columns, categories, excl)
        keep = self._exclude(name, df, excl, ["customer_id", "time", *columns][:6])
        if not keep.all():
            codes, time = codes[keep], time[keep]
            columns = {k: v[keep] for k, v in columns.items()}
        n_customers = len(self.customer_ids)
        offsets = offsets_from_codes(codes, n_customers)
        order = group_order(codes, time, n_customers, offsets)
        del codes
        # "time" is never among ``columns`` (it is the contract's first time)
        grouped = take_columns({"time": time, **columns}, order)
        time = grouped.pop("time")
        tie_keys = []
        if contract.kind_column in columns:
            tie_keys.append(columns[contract.kind_column])
        tie_keys += [v for k, v in columns.items() if k != contract.kind_column]
        # ties only permute rows with equal times: ``time`` stays sorted as is,
        # and only the rows the tie-break moved are gathered again
        tied_order = fix_ties(order, time, offsets, tie_keys)
        if tied_order is not order:
            moved = np.flatnonzero(tied_order != order)
            for key, values in grouped.items():
                values[moved] = columns[key][tied_order[moved]]
        return EventTable(name, offsets, time, grouped, categories, kinds)

    def _value_rules(self, name, df, columns, categories, excl):
        if name == "usage" and "quantity" in columns:
            q = columns["quantity"]
            excl.add(
                "null quantity",
                np.isnan(q) & df["quantity"].isna().to_numpy(),
                "`quantity` is null (leave the column out for 1 per event)",
            )
            excl.add("negative quantity", q < 0, "`quantity` is negative")
        if name == "billing":
            if "mrr" in columns:
                excl.add("negative mrr", columns["mrr"] < 0, "`mrr` is negative")
            if "amount" in columns:
                kind = columns["kind"]
                strict = np.isin(
                    kind,
                    [
                        categories["kind"].index(k)
                        for k in NON_NEGATIVE_AMOUNT_KINDS
                        if k in categories["kind"]
                    ],
                )
                excl.add(
                    "negative amount",
                    strict & (columns["amount"] < 0),
                    "`amount` is negative on an invoice or payment row "
                    f"(kinds {list(NON_NEGATIVE_AMOUNT_KINDS)})",
                )
        if name == "support" and "closed_time" in columns:
            closed = columns["closed_time"]
            opened = parse_times(
                df["time"],
                table=name,
                column="time",
                required=False,
                excl=Exclusions(name, len(df)),
            )
            excl.add(
                "closed before opened",
                (closed != NAT) & (opened != NAT) & (closed < opened),
                "`closed_time` is before the ticket's `time` (opened)",
            )

    def _build_spells(self, churn, subs):
        """Active spells: eligible at t iff start < t <= end (end = churn time)."""
        n = len(self.customer_ids)
        kinds_cats = ("voluntary", "involuntary")
        if subs is not None:
            spells = self._merge_subscriptions(subs)
        else:
            spells = pd.DataFrame(
                {
                    "code": np.arange(n, dtype=np.int64),
                    "start": self.signup_time,
                    "end": np.full(n, END_OF_TIME),
                }
            )
        spells["kind"] = np.int8(-1)
        if churn is not None:
            spells, kinds_cats = self._attach_churn(churn, spells, subs is not None)
        spells = spells.sort_values(["code", "start"], kind="stable").reset_index(
            drop=True
        )
        self._spell_code = spells["code"].to_numpy(np.int64)
        self._spell_start = spells["start"].to_numpy(np.int64)
        self._spell_end = spells["end"].to_numpy(np.int64)
        self._spell_kind = spells["kind"].to_numpy(np.int8)
        self._churn_kinds = tuple(kinds_cats)
        for array in (
            self._spell_code,
            self._spell_start,
            self._spell_end,
            self._spell_kind,
        ):
            array.flags.writeable = False

    def _merge_subscriptions(self, subs) -> pd.DataFrame:
        codes = self._id_lookup(subs["customer_id"])
        unknown = codes < 0
        if unknown.any():
            if self._unknown == "raise":
                raise SchemaError(
                    f"Table 'subscriptions': {int(unknown.sum())} row(s) belong to "
                    "customers not in `customers`:\n"
                    f"{examples(subs, unknown, ['customer_id', 'start'])}\n"
                    "Add them to `customers` or pass `unknown_customers='drop'`."
                )
            self._report.append(
                {
                    "table": "subscriptions",
                    "reason": "unknown customer",
                    "rows": int(unknown.sum()),
                    "action": "dropped",
                }
            )
        frame = pd.DataFrame(
            {
                "code": codes,
                "start": subs["start"].to_numpy(),
                "end": subs["end"].to_numpy(),
            }
        )[~unknown]
        frame = frame.sort_values(["code", "start", "end"], kind="stable")
        code = frame["code"].to_numpy()
        start = frame["start"].to_numpy()
        end = frame["end"].to_numpy()
        reach = pd.Series(end).groupby(code).cummax().to_numpy()
        grace = self._grace.value
        prev_reach = np.roll(reach, 1)
        new = np.ones(len(code), dtype=bool)
        if len(code) > 1:
            same = code[1:] == code[:-1]
            # saturating add: an open-ended spell never ends
            limit = np.where(
                prev_reach[1:] > END_OF_TIME - grace,
                END_OF_TIME,
                prev_reach[1:] + grace,
            )
            new[1:] = ~same | (start[1:] > limit)
        group = np.cumsum(new) - 1
        merged = pd.DataFrame({"code": code, "start": start, "end": end, "g": group})
        merged = merged.groupby("g").agg(
            code=("code", "first"), start=("start", "min"), end=("end", "max")
        )
        signup = self.signup_time[merged["code"].to_numpy()]
        merged["start"] = np.maximum(merged["start"].to_numpy(), signup)
        return merged.reset_index(drop=True)

    def _attach_churn(self, churn, spells, from_subscriptions):
        excl = Exclusions("churn", len(churn))
        self._check_ids(churn, "churn", excl)
        codes = self._codes("churn", churn, excl)
        time = parse_times(
            churn["time"], table="churn", column="time", required=True, excl=excl
        )
        if "kind" in churn:
            kind, cats = category_codes(churn["kind"], ("voluntary", "involuntary"))
        else:
            kind, cats = np.full(len(churn), -1), ("voluntary", "involuntary")
        signup = np.where(codes >= 0, self.signup_time[np.maximum(codes, 0)], NAT)
        excl.add(
            "churn before signup",
            (codes >= 0) & (time != NAT) & (time < signup),
            "the churn `time` is before the customer's `signup_time`",
        )
        if not from_subscriptions:
            dup = pd.Series(codes).duplicated(keep=False).to_numpy() & (codes >= 0)
            excl.add(
                "several churns",
                dup,
                "a customer churns more than once; describe returns with a "
                "`subscriptions` table (customer_id, start, end)",
            )
        keep = self._exclude("churn", churn, excl, ["customer_id", "time", "kind"])
        codes, time, kind = codes[keep], time[keep], kind[keep].astype(np.int8)
        if not from_subscriptions:
            end = np.full(len(spells), END_OF_TIME)
            spell_kind = np.full(len(spells), -1, dtype=np.int8)
            end[codes] = time
            spell_kind[codes] = kind
            spells["end"], spells["kind"] = end, spell_kind
            return spells, cats
        # with subscriptions, churn rows only give the kind of the nearest spell end
        ends = spells[spells["end"] < END_OF_TIME].reset_index()
        left = pd.DataFrame({"code": codes, "time": time, "kind": kind}).sort_values(
            "time"
        )
        right = ends[["index", "code", "end"]].sort_values("end")
        tolerance = max(self._grace.value, 86_400 * 10**9)
        matched = pd.merge_asof(
            left,
            right,
            left_on="time",
            right_on="end",
            by="code",
            direction="nearest",
            tolerance=tolerance,
        )
        hit = matched["index"].notna()
        if (~hit).any():
            self._report.append(
                {
                    "table": "churn",
                    "reason": "no matching subscription end",
                    "rows": int((~hit).sum()),
                    "action": "ignored",
                }
            )
        spell_kind = spells["kind"].to_numpy().copy()
        spell_kind[matched.loc[hit, "index"].astype(int).to_numpy()] = matched.loc[
            hit, "kind"
        ].to_numpy()
        spells["kind"] = spell_kind
        return spells, cats

    def _billing_from_subscriptions(self, subs) -> EventTable:
        """MRR rows from spells: the spell's MRR at its start, 0 at its end."""
        codes = self._id_lookup(subs["customer_id"])
        ok = codes >= 0
        start, end, mrr = (subs[c].to_numpy()[ok] for c in ("start", "end", "mrr"))
        codes = codes[ok]
        has_end = end < END_OF_TIME
        all_codes = np.concatenate([codes, codes[has_end]])
        time = np.concatenate([start, end[has_end]])
        # codes: 0 = subscription_end, 1 = subscription_start, so at equal times
        # (a plan change between back-to-back spells) the end applies first and
        # the new spell's MRR is the one in effect afterwards
        kinds = np.concatenate([np.ones(len(codes)), np.zeros(has_end.sum())]).astype(
            np.int8
        )
        values = np.concatenate([mrr, np.zeros(has_end.sum())])
        order = np.lexsort((kinds, time, all_codes))
        self._report.append(
            {
                "table": "billing",
                "reason": "derived from subscriptions",
                "rows": len(order),
                "action": "derived",
            }
        )
        return EventTable(
            "billing",
            offsets_from_codes(all_codes, len(self.customer_ids)),
            time[order],
            {"kind": kinds[order], "mrr": values[order]},
            {"kind": ("subscription_end", "subscription_start")},
            {"kind": "category", "mrr": "number"},
        )

    def _default_observed_until(self, subs) -> pd.Timestamp:
        latest = [int(self.signup_time.max())] if len(self.signup_time) else []
        for table in self.tables.values():
            if len(table) and table.name in EVENT_TABLES:
                latest.append(int(table.time.max()))
        if subs is not None and len(subs):
            latest.append(int(subs["start"].max()))
        elif len(self._spell_end):
            # a churn table's cancellations are recorded events too
            ended = self._spell_end[self._spell_end < END_OF_TIME]
            if len(ended):
                latest.append(int(ended.max()))
        if not latest:
            return pd.Timestamp.now().floor("D")
        return pd.Timestamp(max(latest) + 1)

    # ---------------------------------------------------------------- public
    @property
    def observed_until(self) -> pd.Timestamp:
        """Exclusive end of the data (see the class docstring)."""
        return self._observed_until

    def with_observed_until(self, observed_until) -> Events:
        """The same store with another ``observed_until`` (arrays are shared)."""
        clone = object.__new__(Events)
        object.__setattr__(clone, "__dict__", dict(self.__dict__))
        clone.__dict__["_observed_until"] = to_timestamp(
            observed_until, name="observed_until"
        )
        return clone

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def report(self) -> pd.DataFrame:
        """Input rows excluded or altered, per table and reason."""
        return pd.DataFrame(self._report, columns=["table", "reason", "rows", "action"])

    @property
    def churn_kinds(self) -> tuple[str, ...]:
        return self._churn_kinds

    def table(self, name: str) -> EventTable | None:
        """The grouped store of one event table, or None when it was not given."""
        return self.tables.get(name)

    def codes(self, customer_ids, *, table: str = "X") -> np.ndarray:
        """Customer codes for ids; unknown ids raise a :class:`SchemaError`."""
        ids = pd.Series(np.asarray(customer_ids))
        codes = self._id_lookup(ids)
        if (codes < 0).any():
            bad = ids[codes < 0]
            raise SchemaError(
                f"{table}: {len(bad)} row(s) name customers this Events store does "
                f"not know, e.g. {bad.head(5).tolist()}. Build the cutoffs with "
                "`ck.make_cutoffs(events, ...)` or use the Events these ids come from."
            )
        return codes

    @property
    def spells(self) -> pd.DataFrame:
        """Active spells: ``customer_id``, ``start``, ``end`` (NaT while active)
        and ``churn_kind`` of the churn that ends the spell."""
        end = self._spell_end
        kind = pd.Categorical.from_codes(
            self._spell_kind.astype(int), categories=list(self._churn_kinds)
        )
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids.to_numpy()[self._spell_code],
                "start": self._spell_start.view("datetime64[ns]"),
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
        """One event table as a validated DataFrame in (customer, time) order."""
        table = self.tables.get(name)
        if table is None:
            raise SchemaError(
                f"This Events store has no {name!r} table; it has {list(self.tables)}."
            )
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

    def summary(self) -> pd.DataFrame:
        """Rows, customers and time range per table, plus excluded rows."""
        report = self.report
        rows = []
        for name, table in self.tables.items():
            active = int((np.diff(table.offsets) > 0).sum())
            dropped = int(
                report.loc[
                    (report["table"] == name) & (report["action"] == "dropped"), "rows"
                ].sum()
            )
            rows.append(
                {
                    "table": name,
                    "rows": len(table),
                    "rows_excluded": dropped,
                    "customers": active,
                    "first": pd.Timestamp(int(table.time.min()))
                    if len(table)
                    else pd.NaT,
                    "last": pd.Timestamp(int(table.time.max()))
                    if len(table)
                    else pd.NaT,
                }
            )
        churned = self._spell_end < END_OF_TIME
        n_churn = int(churned.sum())
        churn_times = self._spell_end[churned]
        rows.insert(
            0,
            {
                "table": "customers",
                "rows": self.n_customers,
                "rows_excluded": 0,
                "customers": self.n_customers,
                "first": pd.Timestamp(int(self.signup_time.min()))
                if self.n_customers
                else pd.NaT,
                "last": pd.Timestamp(int(self.signup_time.max()))
                if self.n_customers
                else pd.NaT,
            },
        )
        rows.insert(
            1,
            {
                "table": "churn",
                "rows": n_churn,
                "rows_excluded": int(
                    report.loc[
                        (report["table"] == "churn") & (report["action"] == "dropped"),
                        "rows",
                    ].sum()
                ),
                "customers": int(len(np.unique(self._spell_code[churned]))),
                "first": pd.Timestamp(int(churn_times.min())) if n_churn else pd.NaT,
                "last": pd.Timestamp(int(churn_times.max())) if n_churn else pd.NaT,
            },
        )
        return pd.DataFrame(rows).set_index("table")

    def __repr__(self) -> str:
        parts = [f"{self.n_customers:,} customers"]
        parts += [f"{name}: {len(t):,} rows" for name, t in self.tables.items()]
        start = pd.Timestamp(int(self.signup_time.min())) if self.n_customers else None
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
        object.__setattr__(self, "__dict__", state)
        # unpickled arrays are writeable again: keep the store read-only
        arrays = [state.get(k) for k in ("signup_time", "_spell_code", "_spell_start")]
        arrays += [state.get("_spell_end"), state.get("_spell_kind")]
        for table in state.get("tables", {}).values():
            arrays += [table.offsets, table.time]
            if isinstance(table.columns, dict):
                arrays += list(table.columns.values())
        for array in arrays:
            if isinstance(array, np.ndarray) and array.flags.writeable:
                array.flags.writeable = False

    # ------------------------------------------------------------- save/load
    def save(self, path, *, index: bool = True) -> Path:
        """Write the grouped store to a folder (numpy arrays + JSON + parquet).

        :meth:`load` reads it back, memory-mapping the arrays, without
        validating or grouping again.

        Parameters
        ----------
        path : str or Path
            The folder (created if needed).
        index : bool, default=True
            Also write each table's search index: the keys that find window
            bounds for midnight cutoffs in one search, the prefix count of
            active days, and support tickets ordered by ``closed_time``. A
            loaded store then starts warm: at the bench's medium size (14.5M
            events) building them costs about 0.8 s in every new process, and
            they add about half the store's size on disk.

        Returns
        -------
        Path
            The folder.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {
            "format_version": _FORMAT_VERSION,
            "observed_until": self._observed_until.isoformat(),
            "churn_kinds": list(self._churn_kinds),
            "report": self._report,
            "grace_ns": int(self._grace.value),
            "tables": {},
        }
        self.customers.to_parquet(path / "customers.parquet")
        arrays = {
            "spell_code": self._spell_code,
            "spell_start": self._spell_start,
            "spell_end": self._spell_end,
            "spell_kind": self._spell_kind,
        }
        for name, table in self.tables.items():
            meta["tables"][name] = {
                "columns": list(table.columns),
                "kinds": table.kinds,
                "categories": {k: list(v) for k, v in table.categories.items()},
            }
            _add_table_arrays(arrays, name, table)
            if index:
                meta["tables"][name]["index"] = _save_index(table, name, arrays)
        for key, array in arrays.items():
            np.save(path / f"{key}.npy", array, allow_pickle=False)
        (path / "events.json").write_text(json.dumps(meta, indent=1, default=str))
        return path

    @classmethod
    def load(cls, path, *, mmap: bool = True) -> Events:
        """Read a store written by :meth:`save` (arrays memory-mapped by default)."""
        path = Path(path)
        meta_file = path / "events.json"
        if not meta_file.exists():
            raise SchemaError(
                f"{str(path)!r} is not a saved Events store (no events.json); write "
                "one with `events.save(path)`."
            )
        meta = json.loads(meta_file.read_text())
        if meta.get("format_version") != _FORMAT_VERSION:
            raise SchemaError(
                f"{str(path)!r} was saved in format {meta.get('format_version')}; this "
                f"churnkit reads format {_FORMAT_VERSION}. Rebuild and save it again."
            )
        mode = "r" if mmap else None

        def read(key):
            return np.load(path / f"{key}.npy", mmap_mode=mode, allow_pickle=False)

        self = object.__new__(cls)
        d = self.__dict__
        d["customers"] = pd.read_parquet(path / "customers.parquet")
        d["customer_ids"] = pd.Index(
            d["customers"]["customer_id"].to_numpy(), name="customer_id"
        )
        d["signup_time"] = (
            d["customers"]["signup_time"].to_numpy("datetime64[ns]").view("int64")
        )
        d["_id_lookup"] = _IdLookup(d["customer_ids"])
        d["_report"] = meta["report"]
        d["_errors"], d["_unknown"] = "raise", "raise"
        d["_grace"] = pd.Timedelta(meta["grace_ns"])
        d["_observed_until"] = pd.Timestamp(meta["observed_until"])
        d["_churn_kinds"] = tuple(meta["churn_kinds"])
        for key in ("spell_code", "spell_start", "spell_end", "spell_kind"):
            d[f"_{key}"] = read(key)
        d["tables"] = {}
        for name, info in meta["tables"].items():
            categories = {k: tuple(v) for k, v in info["categories"].items()}
            table = _read_table(
                read, name, name, info["columns"], categories, info["kinds"]
            )
            if "index" in info:  # stores saved before the index have none
                _load_index(table, name, info, read)
            d["tables"][name] = table
        d["_frozen"] = True
        return self

    # ------------------------------------------------------------ internals
    def eligible_spells(self):
        """(code, start, end) arrays of active spells, ``end`` = churn time."""
        return self._spell_code, self._spell_start, self._spell_end

    def churn_arrays(self, kind=None):
        """(code, time) of churns ordered by (code, time); only ``kind`` if given."""
        mask = self._spell_end < END_OF_TIME
        if kind is not None:
            if kind in self._churn_kinds:
                mask &= self._spell_kind == self._churn_kinds.index(kind)
            elif kind in CHURN_KINDS:  # a contract kind no churn row has
                mask &= False
            else:
                known = [
                    *CHURN_KINDS,
                    *sorted(set(self._churn_kinds) - set(CHURN_KINDS)),
                ]
                raise SchemaError(f"`kind` must be one of {known}; got {kind!r}.")
        return self._spell_code[mask], self._spell_end[mask]


def _add_table_arrays(arrays, prefix, table) -> None:
    """Name a table's arrays for :meth:`Events.save` (``prefix.time``, ...)."""
    arrays[f"{prefix}.offsets"] = table.offsets
    arrays[f"{prefix}.time"] = table.time
    for col, values in table.columns.items():
        arrays[f"{prefix}.col.{col}"] = values


def _read_table(read, name, prefix, columns, categories, kinds) -> EventTable:
    """The table :func:`_add_table_arrays` saved under ``prefix``."""
    return EventTable(
        name,
        read(f"{prefix}.offsets"),
        read(f"{prefix}.time"),
        {col: read(f"{prefix}.col.{col}") for col in columns},
        categories,
        kinds,
    )


def _save_index(table, name, arrays) -> dict:
    """Add a table's search index to ``arrays``; returns its metadata."""
    index = table.search_index()
    meta = {"by": {}}
    if index["day_keys"] is not None:
        keys, low, width = index["day_keys"]
        arrays[f"{name}.index.day_keys"] = keys
        meta["day_keys"] = [int(low), int(width)]
    arrays[f"{name}.index.day_prefix"] = index["day_prefix"]
    for column, view in index["by"].items():
        _add_table_arrays(arrays, f"{name}.by.{column}", view)
        meta["by"][column] = list(view.columns)
    return meta


def _load_index(table, name, info, read) -> None:
    """Put a saved search index (memory-mapped) into the table's caches."""
    meta = info["index"]
    day_keys = None
    if "day_keys" in meta:
        low, width = meta["day_keys"]
        day_keys = (read(f"{name}.index.day_keys"), low, width)
    by = {}
    for column, columns in meta["by"].items():
        by[column] = _read_table(
            read,
            name,
            f"{name}.by.{column}",
            columns,
            table.categories,
            reordered_kinds(info["kinds"]),
        )
    table.adopt_index(day_keys, read(f"{name}.index.day_prefix"), by)


class _IdLookup:
    """Maps customer ids to dense codes (position in the sorted id index)."""

    def __init__(self, ids: pd.Index):
        self.ids = ids
        self._dense = None
        if pd.api.types.is_integer_dtype(ids.dtype) and len(ids):
            lo, hi = int(ids.min()), int(ids.max())
            if hi - lo < 4 * len(ids) + 1024:  # dense integer ids: a lookup table
                table = np.full(hi - lo + 1, -1, dtype=np.int32)
                table[ids.to_numpy() - lo] = np.arange(len(ids), dtype=np.int32)
                self._dense = (lo, hi, table)

    def __call__(self, values) -> np.ndarray:
        values = values if isinstance(values, pd.Series) else pd.Series(values)
        if isinstance(values.dtype, pd.CategoricalDtype):
            cat_codes = self(pd.Series(values.cat.categories))
            raw = values.cat.codes.to_numpy()
            return np.where(raw < 0, -1, cat_codes[np.maximum(raw, 0)]).astype(np.int32)
        if self._dense is not None and pd.api.types.is_integer_dtype(values.dtype):
            lo, hi, table = self._dense
            v = values.to_numpy()
            if len(v) and v.min() >= lo and v.max() <= hi:
                return table[v - lo]
            inside = (v >= lo) & (v <= hi)
            idx = np.where(inside, v - lo, 0)
            return np.where(inside, table[idx], -1).astype(np.int32)
        try:
            return self.ids.get_indexer(values).astype(np.int32)
        except TypeError:
            return np.full(len(values), -1, dtype=np.int32)


def _check_id_types(ids: pd.Series, table: str) -> None:
    if ids.dtype == object:
        types = ids.map(type).value_counts()
        if len(types) > 1:
            raise SchemaError(
                f"Table {table!r}, column 'customer_id' mixes types "
                f"{[t.__name__ for t in types.index]} (e.g. {ids.head(4).tolist()}). "
                "Use one type in every table, e.g. `.astype(str)`."
            )


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
        series
    )


def _warn(message: str) -> None:
    warnings.warn(message, ChurnkitWarning, stacklevel=3)

"""Reading one table into the store: customers, customer codes, value rules.

The steps :class:`~churnkit.events.Events` runs on each table it is given: the
``customers`` table becomes the sorted id index and signup times, and each event
table becomes an :class:`~churnkit.events._store.EventTable` grouped by customer
and ordered by time. Defective rows raise or are dropped and counted, as the
:class:`RowPolicy` of the build says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._categories import category_codes, smallest_int
from churnkit.events._deferred import DeferredColumn, TableCategories, TableColumns
from churnkit.events._duplicates import repeated_rows, warn_repeated_rows
from churnkit.events._epochs import (
    warn_early_times,
    warn_kindless_rows,
    warn_support_without_close,
    warn_unknown_billing_kinds,
    warn_unknown_priorities,
    warn_zero_quantities,
)
from churnkit.events._idtypes import (
    as_customer_id_type,
    check_id_types,
    id_form_hint,
)
from churnkit.events._store import (
    NAT,
    EventTable,
    fix_ties,
    group_order,
    offsets_from_codes,
    take_columns,
)
from churnkit.events._tables import (
    CONTRACTS,
    NON_NEGATIVE_AMOUNT_KINDS,
    Exclusions,
    examples,
    number_format_hint,
    parse_numbers,
    parse_times,
)
from churnkit.exceptions import DataQualityWarning, SchemaError

EVENT_TABLES = ("usage", "billing", "support")


@dataclass
class RowPolicy:
    """What a build does with defective rows, and the record of what it did.

    Parameters
    ----------
    errors : {"raise", "drop"}
        Defective rows raise a :class:`SchemaError` or are dropped.
    unknown : {"raise", "drop"}
        The same for rows of customers not in ``customers``.
    report : list of dict
        Every row excluded or altered: ``table``, ``reason``, ``rows``,
        ``action`` (appended to as the build goes).
    """

    errors: str
    unknown: str
    report: list[dict] = field(default_factory=list)

    def record(self, table: str, reason: str, rows: int, action: str) -> None:
        """Add one line to the report."""
        self.report.append(
            {"table": table, "reason": reason, "rows": rows, "action": action}
        )

    def exclude(self, name, df, excl: Exclusions, show_columns) -> np.ndarray:
        """Raise on defects, or drop them, count them and warn. Returns keep.

        ``errors='drop'`` never empties a non-empty table (it raises).
        """
        bad = excl.excluded()
        if not bad.any():
            return np.ones(len(df), dtype=bool)
        # rows of unknown customers follow `unknown_customers`, the rest `errors`
        defects = dict(excl.masks)
        if self.unknown == "drop" and "unknown customer" in defects:
            unknown = defects.pop("unknown customer")
            defects = {
                r: m & ~unknown for r, m in defects.items() if (m & ~unknown).any()
            }
        counts = {r: c for r, c in excl.counts().items() if c and r in defects}
        reason = next(iter(defects), None)
        # the columns the defects are in, shown beside the key columns
        said = excl.messages.get(reason, "") if self.errors == "raise" else ""
        named = re.findall(
            r"column '([^']+)'", said or " ".join(excl.messages.values())
        )
        show = list(dict.fromkeys([*show_columns, *(c for c in named if c in df)]))
        if self.errors == "raise" and defects:
            mask, hint = defects[reason], _number_hint(df, [reason])
            fix = "Fix or remove these rows, or pass `errors='drop'` to drop them"
            fix += " (they are counted in `events.report`)."
            if mask.all():  # dropping would empty the table: no way out
                fix = "No row of the table can be read: fix the column first."
            raise SchemaError(
                f"Table {name!r}: {int(mask.sum())} row(s) where "
                f"{excl.messages[reason]}:\n{examples(df, mask, show)}\n"
                f"{fix}{hint}"
            )
        if defects and bad.all():
            raise SchemaError(
                f"Table {name!r}: all its {len(df):,} rows are defective "
                f"({_reasons(excl, excl.counts())}), so `errors='drop'` would "
                f"empty it:\n{examples(df, bad, show)}\nFix the values named."
                + _number_hint(df, counts)
            )
        for why, count in excl.counts().items():
            if count:  # 0: every row of this reason counted for an earlier one
                self.record(name, why, count, "dropped")
        if counts:  # unknown customers warned already
            n = sum(counts.values())
            most = f" ({n / len(df):.0%}, most of the table: check the column)"
            most = most if 2 * n > len(df) else ""
            dropped = np.logical_or.reduce(list(defects.values()))
            warn(
                f"Table {name!r}: `errors='drop'` dropped {n:,} of {len(df):,} "
                f"rows{most}: {_reasons(excl, counts)}. They are counted in "
                f"`events.report`; e.g.:\n{examples(df, dropped, show)}"
                f"{_number_hint(df, counts)}",
                DataQualityWarning,
            )
        return ~bad


def _reasons(excl: Exclusions, counts: dict) -> str:
    """``"2 where column 'amount' holds text...; 1 where ..."``."""
    return "; ".join(f"{c:,} where {excl.messages[r]}" for r, c in counts.items() if c)


def _number_hint(df, reasons) -> str:
    """The fix for each text column whose numbers are written as money."""
    columns = [r[12:] for r in reasons if r.startswith("non-numeric ")]
    hints = (number_format_hint(df[c], c) for c in columns if c in df)
    return "".join("\n" + h.strip() for h in hints if h)


class IdLookup:
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
            # nullable ids (Int64 with <NA>): missing ones fall outside, code -1
            v = values.to_numpy(dtype=np.int64, na_value=lo - 1)
            if len(v) and v.min() >= lo and v.max() <= hi:
                return table[v - lo]
            inside = (v >= lo) & (v <= hi)
            idx = np.where(inside, v - lo, 0)
            return np.where(inside, table[idx], -1).astype(np.int32)
        try:
            return self.ids.get_indexer(values).astype(np.int32)
        except TypeError:
            return np.full(len(values), -1, dtype=np.int32)


def missing_ids(ids: pd.Series) -> np.ndarray:
    """Null ids and empty text: an export's "" is no customer (Sparkify's
    logged-out rows have userId "", which a CSV reads as null anyway)."""
    missing = ids.isna().to_numpy()
    if ids.dtype == object or isinstance(ids.dtype, pd.StringDtype):
        missing = missing | ids.eq("").fillna(False).to_numpy(bool)
    return missing


def check_ids(df, name, excl) -> None:
    """Null or empty ids are defects; ids of mixed types raise."""
    ids = df["customer_id"]
    missing = missing_ids(ids)
    what = "`customer_id` is null"
    if missing.any() and not ids.isna().to_numpy()[missing].all():
        what = "`customer_id` is null or empty text ('')"
    excl.add("null customer_id", missing, what)
    check_id_types(ids[~missing], name)


def build_customers(df, subs):
    """The customers, sorted by id, with their signups as int64 nanoseconds.

    Without a ``customers`` table (or its ``signup_time``) the signups are the
    first subscription starts. Returns ``(customers, signup_time)``.
    """
    if df is None:
        first = subs.groupby("customer_id", sort=True)["start"].min()
        df = pd.DataFrame({"customer_id": first.index, "signup_time": first.values})
        df["signup_time"] = df["signup_time"].astype("int64").astype("datetime64[ns]")
    ids = df["customer_id"]
    missing = missing_ids(ids)
    if missing.any():
        raise SchemaError(
            "Table 'customers', column 'customer_id': "
            f"{int(missing.sum())} null id(s) (missing or empty text ''):\n"
            f"{examples(df, missing, df.columns[:4])}\n"
            "Every customer needs an id: fill or drop these rows (rows of "
            "logged-out visitors, often '' in an export, belong to no customer: "
            "drop them from every table, e.g. `df = df[df['customer_id'] != '']`)."
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
    check_id_types(ids, "customers")
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
                "out when a `subscriptions` table gives the signups. A snapshot "
                "with one row per customer and a churn column (such as Telco's) "
                "is no event log: fit it with `ck.ChurnClassifier().fit(X, y)`."
            )
        first = subs.groupby("customer_id")["start"].min()
        signup = first.reindex(df["customer_id"]).to_numpy()
        no_sub = pd.isna(signup)
        if no_sub.any():
            hint = (  # never subscribed: no spell to churn from
                " Leave them out (`customers[customers['customer_id'].isin("
                "subscriptions['customer_id'])]`) or give every customer a "
                "`signup_time` (they are then kept, never active)."
            )
            if no_sub.all() and df["customer_id"].dtype != subs["customer_id"].dtype:
                hint = (
                    f" The ids are {df['customer_id'].dtype} in customers but "
                    f"{subs['customer_id'].dtype} in subscriptions: convert one "
                    "of them, e.g. `df['customer_id'].astype(str)` in both."
                )
            raise SchemaError(
                "Table 'customers' has no 'signup_time' and "
                f"{int(no_sub.sum())} customer(s) have no subscription to take "
                f"it from, e.g. {df['customer_id'][no_sub].head(5).tolist()}." + hint
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
    warn_early_times("customers", "signup_time", signup, df["customer_id"].to_numpy())
    if excl.masks:
        reason, mask = next(iter(excl.masks.items()))
        raise SchemaError(
            f"Table 'customers': {int(mask.sum())} row(s) where "
            f"{excl.messages[reason]}:\n"
            f"{examples(df, mask, ['customer_id', 'signup_time'])}\n"
            "Every customer needs a signup time: fix these rows or drop them."
        )
    df["signup_time"] = signup.view("datetime64[ns]")
    signup.flags.writeable = False
    return df, signup


def customer_codes(name, df, excl, lookup: IdLookup, policy: RowPolicy) -> np.ndarray:
    """Customer codes of a table's rows; unknown ids are defects."""
    codes = lookup(df["customer_id"])
    unknown = (codes < 0) & ~missing_ids(df["customer_id"])
    alike = (
        as_customer_id_type(df["customer_id"], lookup.ids) if unknown.any() else None
    )
    if alike is not None:  # 100105 and "100105": a parquet file and a CSV one
        codes = lookup(alike)
        unknown = (codes < 0) & ~missing_ids(df["customer_id"])
    if not unknown.any():
        excl.add("unknown customer", unknown, "the customer is not in `customers`")
        return codes
    customer_ids = lookup.ids
    hint = ""
    if (unknown.all() and len(customer_ids)) and (
        df["customer_id"].dtype != customer_ids.dtype
    ):
        hint = (
            f" The ids are {df['customer_id'].dtype} here but "
            f"{customer_ids.dtype} in customers: convert one of them."
        )
    padding = id_form_hint(df["customer_id"][unknown], customer_ids)
    shown = examples(df, unknown, ["customer_id", "time"])
    n = int(unknown.sum())
    if policy.unknown == "raise":
        fix = "Add these customers to `customers`"
        fix = f"{padding} Otherwise: {fix[0].lower()}{fix[1:]}" if padding else fix
        raise SchemaError(
            f"Table {name!r}: {n} row(s) belong to customers that are not in "
            f"`customers`:\n{shown}\n{fix}, or pass `unknown_customers='drop'` "
            f"to drop their rows (counted in `events.report`).{hint}"
        )
    if unknown.all() and (hint or padding):  # a known mismatch would empty it
        raise SchemaError(
            f"Table {name!r}: none of its {n:,} rows belongs to a customer in "
            f"`customers`, so `unknown_customers='drop'` would empty it:\n{shown}"
            f"\n{(padding + hint).strip()}"
        )
    warn(
        f"Table {name!r}: {n:,} of {len(df):,} rows belong to customers not in "
        f"`customers` and were dropped (unknown_customers='drop'), e.g.:\n{shown}"
        f"\n{padding}".rstrip(),
        DataQualityWarning,
    )
    excl.add("unknown customer", unknown, "the customer is not in `customers`")
    return codes


def build_table(name, df, lookup: IdLookup, policy: RowPolicy) -> EventTable:
    """One event table, validated, grouped by customer and ordered by time."""
    contract = CONTRACTS[name]
    excl = Exclusions(name, len(df))
    check_ids(df, name, excl)
    codes = customer_codes(name, df, excl, lookup, policy)
    time = parse_times(df["time"], table=name, column="time", required=True, excl=excl)
    warn_early_times(name, "time", time, df["customer_id"].to_numpy())
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
    read = {"customer_id", *contract.times, *contract.numbers, *contract.categories}
    extra = [c for c in df.columns if c not in read and c != "time"]
    deferred = {}
    for col in [*contract.categories, *extra]:
        if col not in df:
            continue
        if col in extra and _is_numeric(df[col]):
            columns[col] = parse_numbers(df[col], table=name, column=col, excl=excl)
            kinds[col] = "number"
            continue
        if col in extra:  # no rule reads it: coded when a feature first does
            deferred[col] = DeferredColumn(df[col], f"{name}.{col}")
            kinds[col] = "category"
            continue
        codes_, cats = category_codes(
            df[col],
            contract.categories.get(col, ()),
            where=f"{name}.{col}",
            report=lambda rows, col=col: policy.record(
                name, f"{col} in another case or with spaces", rows, "normalised"
            ),
        )
        columns[col] = smallest_int(codes_, len(cats))
        categories[col], kinds[col] = cats, "category"
        if name == "usage" and col == contract.kind_column:
            warn_kindless_rows(codes_, cats)
        if name == "support" and col == "priority":
            warn_unknown_priorities(codes_, cats, contract.categories[col])
        if name == "billing" and col == contract.kind_column:
            warn_unknown_billing_kinds(codes_, cats, contract.categories[col])
    if name == "usage":  # idle days written as rows of zeros
        warn_zero_quantities({c: columns[c] for c in kinds if kinds[c] == "number"})
    if name == "support" and "csat" in kinds and "closed_time" not in kinds:
        warn_support_without_close(df.columns)
    value_rules(name, df, columns, categories, excl)
    keep = policy.exclude(name, df, excl, ["customer_id", "time", *kinds][:6])
    kept_rows = None  # input row of each kept row, when rows were dropped
    if not keep.all():
        kept_rows = np.flatnonzero(keep)
        codes, time = codes[keep], time[keep]
        columns = {k: v[keep] for k, v in columns.items()}
    n_customers = len(lookup.ids)
    offsets = offsets_from_codes(codes, n_customers)
    order = group_order(codes, time, n_customers, offsets)
    del codes
    # "time" is never among ``columns`` (it is the contract's first time)
    grouped = take_columns({"time": time, **columns}, order)
    time = grouped.pop("time")
    # deferred columns break ties too: by the ranks of the tied rows' values
    to_input = (lambda rows: rows) if kept_rows is None else kept_rows.__getitem__
    keys = {
        k: columns[k]
        if k in columns
        else lambda rows, d=deferred[k]: d.tie_key(to_input(rows))
        for k in kinds
    }
    tie_keys = []
    if contract.kind_column in keys:
        tie_keys.append(keys[contract.kind_column])
    tie_keys += [v for k, v in keys.items() if k != contract.kind_column]
    # ties only permute rows with equal times: ``time`` stays sorted as is,
    # and only the rows the tie-break moved are gathered again
    tied_order = fix_ties(order, time, offsets, tie_keys)
    repeats = repeated_rows(df, offsets, time, to_input(tied_order))
    warn_repeated_rows(name, df, repeats, time)
    if tied_order is not order:
        moved = np.flatnonzero(tied_order != order)
        for key, values in grouped.items():
            values[moved] = columns[key][tied_order[moved]]
    if deferred:
        rows = to_input(tied_order)
        for column in deferred.values():
            column.place(rows)
        grouped = TableColumns(grouped, deferred, order=list(kinds))
        categories = TableCategories(categories, deferred)
    return EventTable(name, offsets, time, grouped, categories, kinds)


def value_rules(name, df, columns, categories, excl) -> None:
    """Mark rows whose values break the table's contract (negative, null...)."""
    if name == "usage" and "quantity" in columns:
        q = columns["quantity"]
        excl.add(
            "null quantity",
            np.isnan(q) & df["quantity"].isna().to_numpy(),
            "`quantity` is null (leave the column out for 1 per event)",
        )
        excl.add(
            "negative quantity",
            q < 0,
            "`quantity` is negative (if its sign is a direction, such as a "
            "withdrawal, keep the size and name the direction in `event`: "
            "`usage['quantity'] = usage['quantity'].abs()`)",
        )
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


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
        series
    )

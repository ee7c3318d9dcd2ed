"""Fitting a user's tables to churnkit's contract: their columns and mappings.

:func:`check_all_columns` reads every table's column names (a frame's
columns, a parquet schema, a CSV header) before any table is read in full,
and names every table at fault in one error, with a likely mapping for each
missing column; :func:`apply_mapping` renames one table's columns as it is
built; :func:`activity_table` is the table whose rows are activity for an
inactivity rule.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._tables import CONTRACTS
from churnkit.exceptions import ChurnkitTypeError, DataQualityWarning, SchemaError

#: rows (or customer-periods) without a churn from which that is worth a word
MIN_SILENT_ROWS = 100

__all__ = [
    "activity_json",
    "activity_name",
    "activity_parts",
    "activity_table",
    "apply_mapping",
    "check_all_columns",
    "check_mapping",
    "likely_columns",
    "warn_never_inactive",
    "warn_no_churn",
]


def check_mapping(name: str, mapping, present) -> None:
    """A user's ``columns[name]``: a dict naming columns the table has."""
    if not isinstance(mapping, dict):
        raise ChurnkitTypeError(
            f"`columns[{name!r}]` must be a dict from your column names to "
            f"churnkit's, such as {{'user_id': 'customer_id'}}; got {mapping!r}."
        )
    missing = [c for c in mapping if c not in present]
    if missing:
        raise SchemaError(
            f"Table {name!r}: `columns` maps {missing} but the table has no "
            f"such column. Columns present: {list(present)}."
            + (_separator_hint(present) or "")
        )


def _separator_hint(present) -> str | None:
    """The fix for a file whose header reads as one column (';' separated)."""
    present = list(present)
    if len(present) == 1 and re.search(r"[\s;|]", str(present[0])):
        return (
            " Its header reads as one column: the file seems to separate "
            "its columns by something else than ',' (spaces, tabs, ';'); "
            "save it as a comma-separated file, or read it with pandas "
            "(pd.read_csv(path, sep=...)) and pass the frame."
        )
    return None


def _warn_cents(name: str, mapping: dict) -> None:
    """Warn when a column named in cents (Recurly's ``amount_in_cents``,
    Stripe's minor units) is mapped to money: read as it is, every amount is
    a hundred times too large."""
    for source, target in mapping.items():
        if target in ("amount", "mrr") and re.search(
            r"(^|_)(in_)?cents?($|_)|pence|minor_units?", str(source).lower()
        ):
            warn(
                f"Table {name!r}: column {source!r} is mapped to `{target}` and "
                "its name says cents: churnkit reads amounts as they are, so "
                "9.99 written 999 is 999. Divide by 100 first, e.g. "
                f"df[{source!r}] = df[{source!r}] / 100.",
                DataQualityWarning,
            )


def apply_mapping(df: pd.DataFrame, name: str, mapping) -> pd.DataFrame:
    """Rename user columns to contract names and check the required ones."""
    contract = CONTRACTS[name]
    if mapping:
        check_mapping(name, mapping, df.columns)
        _warn_cents(name, mapping)
        df = df.rename(columns=mapping)
    if df.columns.duplicated().any():
        dup = list(df.columns[df.columns.duplicated()])
        raise SchemaError(
            f"Table {name!r} has duplicate column names {dup} (after applying "
            "`columns`). Rename or drop one of them."
        )
    missing = [c for c in contract.required if c not in df.columns]
    if missing:
        hint = ""
        # with the optional times the table lacks: a subscription's `end`
        wanted = missing + [t for t in contract.times if t not in df.columns]
        guesses = likely_columns(
            list(dict.fromkeys(wanted)),
            [c for c in df.columns if c not in contract.required],
            name,
        )
        if guesses:
            shown = ", ".join(f"{k!r}: {v!r}" for k, v in guesses.items())
            hint = f" Perhaps: columns={{{name!r}: {{{shown}}}}}."
        hint = _separator_hint(df.columns) or hint
        raise SchemaError(
            f"Table {name!r} is missing required column(s) {missing}. Columns "
            f"present: {list(df.columns)}. Rename yours with "
            f"`columns={{{name!r}: {{'your_name': {missing[0]!r}}}}}`.{hint}"
        )
    return df


# words a user's column for a contract column often holds (lower case)
_LIKELY = {
    "customer_id": (
        "customer",
        "user",
        "account",
        "client",
        "member",
        "subscriber",
        "requester",
        "contact",
        "msisdn",
        "msno",
        "id",
    ),
    "time": ("time", "date", "_at", "ts", "timestamp", "day"),
    "signup_time": ("signup", "sign_up", "created", "joined", "start"),
    "start": ("start", "begin", "activat", "from", "signup", "date"),
    "event": ("event", "kind", "type", "action", "name", "activity"),
    "kind": ("kind", "type", "event", "status", "action"),
    "end": ("end", "stop", "expir", "cancel", "until"),
}
# a trial's or the current billing period's bounds are no subscription's
# start or end (Recurly's trial_started_at, current_period_ends_at)
_UNLIKELY = ("trial", "period")


def likely_columns(missing, present, table: str = "customers") -> dict:
    """``{present column: missing contract column}`` where a name suggests it.

    A bare ``id`` is the customer's in the customers table; in another table
    it is the row's own (a ticket's, an invoice's), so a ``requester_id`` or
    ``owner_id`` is the likelier customer there. A trial's or a billing
    period's bounds are the last guesses for a subscription's start and end.
    """
    out, taken = {}, set()
    for want in missing:
        unlikely = []
        for word in _LIKELY.get(want, ()):
            hits = [c for c in present if c not in taken and word in str(c).lower()]
            if word == "id" and table != "customers":
                hits.sort(key=lambda c: str(c).lower() == "id")  # stable: bare last
            if want in ("start", "end"):
                unlikely += [
                    c for c in hits if any(w in str(c).lower() for w in _UNLIKELY)
                ]
                hits = [c for c in hits if c not in unlikely]
            found = hits[0] if hits else None
            if found is not None:
                out[found] = want
                taken.add(found)
                break
        else:
            if unlikely:  # only a trial's or a period's: better than nothing
                out[unlikely[0]] = want
                taken.add(unlikely[0])
    return out


def check_all_columns(names: dict, columns: dict) -> None:
    """One error for every table whose columns do not fit its contract.

    ``names`` maps a table to its column names (as given, before ``columns``
    renames them; None when unknown), ``columns`` to the user's mapping. With
    one table at fault its own message is raised; with several, all of them
    in one error, so a user fixes every table in one go.
    """
    problems = []
    for name, present in names.items():
        if present is None:
            continue
        mapping = columns.get(name)
        if isinstance(mapping, dict):
            mapping = {k: v for k, v in mapping.items() if v is not None}
        try:
            renamed = apply_mapping(pd.DataFrame(columns=present), name, mapping)
        except SchemaError as exc:
            problems.append(exc)
            continue
        if name == "customers" and "subscriptions" not in names:
            problems += _no_signup(list(renamed.columns), present)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listed = "\n".join(f"- {exc}" for exc in problems)
        raise SchemaError(
            f"{len(problems)} tables do not have the columns churnkit needs:\n{listed}"
        )


def _no_signup(renamed: list, present: list) -> list:
    """[the error] when customers lack ``signup_time`` and nothing else gives it."""
    if "signup_time" in renamed:
        return []
    guesses = likely_columns(
        ["signup_time"], [c for c in renamed if c != "customer_id"]
    )
    hint = (
        " A snapshot with one row per customer and a churn column (such as "
        "Telco's) is no event log: fit it with `ck.ChurnClassifier().fit(X, y)`."
    )
    if guesses:
        found = next(iter(guesses))
        hint = f" Perhaps: columns={{'customers': {{{found!r}: 'signup_time'}}}}."
    return [
        SchemaError(
            "Table 'customers' is missing required column 'signup_time' (columns "
            f"present: {present}); it can only be left out when a "
            f"`subscriptions` table gives the signups.{hint}"
        )
    ]


def activity_table(events, table):
    """The store's rows that are activity for an inactivity rule.

    ``table`` is a table name (``"usage"``: every row is activity) or a pair
    ``(name, kinds)`` keeping the rows of those kinds only, such as
    ``("billing", ["payment"])``: a refund or a failed payment is not the
    customer acting. An error names the tables (or kinds) the store has when
    there is no such table (or kind).
    """
    name, kinds = activity_parts(table)
    store = events._engine.table(name)
    if store is None:
        raise SchemaError(
            f"`table`={name!r}: this Events store has no such table, so there "
            f"is no activity to measure; it has {list(events._engine.tables)}. "
            "Pass `table=` naming the table whose rows are activity."
        )
    if kinds is None:
        return store
    column = CONTRACTS[name].kind_column if name in CONTRACTS else None
    if column is None or column not in store.categories:
        raise SchemaError(
            f"`table`={table!r}: the {name} table has no kind column to choose "
            "rows by; pass the table name alone."
        )
    present = store.categories[column]
    unknown = [k for k in kinds if k not in present]
    # one bucket of a partitioned layout may lack a kind the data set has
    bucket = any(
        getattr(events._engine, extent, None) is not None
        for extent in ("dataset_table_starts", "dataset_first_event_time")
    )
    if unknown and not bucket:
        raise SchemaError(
            f"`table`={table!r}: {unknown} never occur in {name}.{column}; it "
            f"holds {list(present)[:20]}. Values are matched exactly "
            "(case-sensitive)."
        )
    codes = [present.index(k) for k in kinds if k in present]
    return store.subset(
        lambda: np.isin(store.columns[column], codes), ("activity", column, kinds)
    )


def activity_parts(table) -> tuple[str, tuple[str, ...] | None]:
    """``(table name, kinds or None)`` of an activity ``table`` argument."""
    if isinstance(table, str):
        return table, None
    parts = tuple(table) if isinstance(table, (tuple, list)) else ()
    if len(parts) == 2 and isinstance(parts[0], str):
        kinds = [parts[1]] if isinstance(parts[1], str) else list(parts[1])
        if kinds and all(isinstance(k, str) for k in kinds):
            return parts[0], tuple(kinds)
    raise ChurnkitTypeError(
        "`table` names the table whose rows are activity: a name such as "
        "'usage', or a pair of a name and the kinds that count, such as "
        f"('billing', ['payment']); got {table!r}."
    )


def activity_name(table) -> str:
    """How a message names an activity ``table``: "billing ('payment')"."""
    name, kinds = activity_parts(table)
    return name if kinds is None else f"{name} ({', '.join(map(repr, kinds))})"


def activity_json(table):
    """An activity ``table`` as a model file's header keeps it (JSON): the
    name, or ``[name, [kinds]]``; None stays None."""
    if table is None:
        return None
    name, kinds = activity_parts(table)
    return name if kinds is None else [name, list(kinds)]


def warn_never_inactive(events, table, n_rows: int, func: str, what: str) -> None:
    """Warn that no customer was ever inactive by ``table``'s rows.

    Called when ``n_rows`` (at least :data:`MIN_SILENT_ROWS`) labelled rows or
    customer-periods hold no churn at all: rows a system posts for everyone
    (a bank's monthly interest and fees, reminders) keep every customer
    "active". Names the table's most frequent kinds and the option that
    counts only some of them.
    """
    if n_rows < MIN_SILENT_ROWS:
        return
    name, kinds = activity_parts(table)
    store = events._engine.table(name)
    column = CONTRACTS[name].kind_column if name in CONTRACTS else None
    listed, option = "", ""
    if store is not None and column in store.categories and kinds is None:
        counts = np.bincount(
            np.asarray(store.columns[column])[np.asarray(store.columns[column]) >= 0],
            minlength=len(store.categories[column]),
        )
        top = np.argsort(-counts, kind="stable")[:5]
        listed = ", ".join(
            f"{store.categories[column][i]!r} ({counts[i] / max(len(store), 1):.0%})"
            for i in top
            if counts[i]
        )
        option = (
            f" If some rows are not the customer acting (interest or fees a bank "
            f"posts, messages a system sends), count only the kinds that are: "
            f"table=({name!r}, [...]) (CLI --activity-kinds); {name}.{column} "
            f"holds {listed}."
        )
    warn(
        f"{func}: none of the {n_rows:,} {what} is a churn: every customer has a "
        f"{activity_name(table)} row in every window.{option}",
        DataQualityWarning,
    )


def warn_no_churn(events, func: str) -> None:
    """Warn when the store records no churn: every label would be 0."""
    if getattr(events._engine, "contractual", True):
        return
    warn(
        f"{func}: this Events store records no churn (no `churn` table and no "
        "`subscriptions`), so no customer ever churns and every label is 0. "
        "For a business without cancellations (purchases, usage), label churn "
        "as inactivity: ck.label_inactivity(events, cutoffs, horizon='90D'). "
        "Otherwise pass a `churn` table (customer_id, time) or `subscriptions` "
        "(customer_id, start, end) to ck.Events.",
        DataQualityWarning,
    )

"""The input contract a fitted builder remembers, and its check at scoring time.

At ``fit`` a builder records what its features read from the Events store: the
tables, their columns and the kind of each column (number, time, category),
the vocabulary of every category column it filters or reads (values seen
before the latest training cutoff), the customer attributes and their kind,
and the time range of the training data. At ``transform`` the store attached
now is checked against it:

- a table the builder read is missing: a :class:`SchemaError` naming it, unless
  the caller asked to score without it (``ck.set_events(model, events,
  missing_tables=("billing",))``); then that table's features are NaN and a
  :class:`ChurnkitWarning` names them;
- a column is missing or changed kind: a :class:`SchemaError`;
- category values never seen in training (event kinds, ticket categories,
  plans): counted and reported in one :class:`ChurnkitWarning` per call, with
  the number of events (or rows) of each, never silently dropped.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._tables import CONTRACTS
from churnkit.exceptions import DataQualityWarning, SchemaDriftWarning, SchemaError
from churnkit.features._statistics import store_value_counts
from churnkit.features._unseen import unseen_counts

__all__ = [
    "learn_contract",
    "check_contract",
    "report_once",
    "missing_features",
    "warn_unread_numbers",
]

_SPECIAL = {"time", "resolution_days"}
_MAX_LISTED = 5
_COLLECTOR: contextvars.ContextVar = contextvars.ContextVar(
    "churnkit_contract_messages", default=None
)


def _spec_columns(spec) -> list[str]:
    cols = [getattr(spec, "column", None), getattr(spec, "by", None)]
    cols += list(getattr(spec, "where", None) or {})
    return [c for c in cols if c is not None and c not in _SPECIAL]


def learn_contract(events, specs, max_cutoff: int, extra_columns=()) -> dict:
    """What ``specs`` read from ``events``, as a plain (picklable) dict.

    ``extra_columns`` lists further ``(table, column)`` pairs the builder reads
    outside its specs (categorical levels learned from a table).
    """
    engine = events._engine
    tables: dict[str, dict] = {}
    customers: dict[str, str] = {}
    wanted: dict[str, set] = {}
    for spec in specs:
        table = getattr(spec, "table", "")
        if not table:
            continue  # Derived: its operands name their tables
        if table == "customers":
            if getattr(spec, "column", None) not in (None, "signup_time"):
                customers[spec.column] = _attribute_kind(events.customers[spec.column])
            continue
        wanted.setdefault(table, set()).update(_spec_columns(spec))
    for table, col in extra_columns:
        wanted.setdefault(table, set()).add(col)
    for name in sorted(wanted):
        table = engine.table(name)
        if table is None:
            continue  # absent at fit: its features were built as absent
        entry = {"columns": {}, "vocabularies": {}}
        # every category column of the table's contract: the vocabulary decides
        # which per-kind features exist, so values unseen in training are
        # reported even when no spec filters on them. Other text columns
        # (request ids, notes) only when a spec reads them: they are coded
        # lazily and cost nothing until then
        categorical = {
            c
            for c, k in table.kinds.items()
            if k == "category" and c in CONTRACTS[name].categories
        }
        for col in sorted(wanted[name] | categorical):
            kind = table.kinds.get(col)
            if kind is None:
                continue  # validate_spec reports unknown columns
            entry["columns"][col] = kind
            if kind == "category":
                values, counts = store_value_counts(table, col, max_cutoff)
                entry["vocabularies"][col] = tuple(
                    v for v, n in zip(values, counts, strict=True) if n > 0
                )
        tables[name] = entry
    first = engine.first_event_time()
    return {
        "tables": tables,
        "customers": customers,
        "time_range": (
            None if pd.isna(first) else str(first),
            str(pd.Timestamp(max_cutoff)) if max_cutoff else None,
        ),
    }


def _attribute_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "category"
    return "number" if pd.api.types.is_numeric_dtype(series) else "category"


def check_contract(
    contract: dict, events, max_cutoff: int, *, owner: str, allowed=()
) -> set[str]:
    """Check the store attached now; return the tables to score as missing.

    Raises a :class:`SchemaError` for a missing table (unless in ``allowed``),
    a missing column or a column whose kind changed; reports unseen category
    values through :func:`report_once`.
    """
    engine = events._engine
    missing_tables = set()
    for name, entry in contract.get("tables", {}).items():
        table = engine.table(name)
        if table is None:
            if name in allowed:
                missing_tables.add(name)
                continue
            kinds = entry.get("vocabularies", {}).get("kind", ())
            why = (
                "the training billing came from the subscriptions' `mrr`: do "
                "the subscriptions given now lack the `mrr` column?"
                if "subscription_start" in kinds
                else "a failed export?"
            )
            raise SchemaError(
                f"{owner} was fitted with the {name!r} table, which the Events store "
                f"attached now lacks ({why}). Scoring without it would "
                f"silently change the predictions. Add the {name!r} table to the "
                f"extract, or score without it on purpose with "
                f"ck.set_events(model, events, missing_tables=({name!r},)): its "
                "features then become missing (NaN) and a warning names them."
            )
        for col, kind in entry["columns"].items():
            now = table.kinds.get(col)
            if now is None:
                raise SchemaError(
                    f"{owner} was fitted on table {name!r} with column {col!r}, which "
                    f"the Events store attached now lacks; it has "
                    f"{sorted(table.columns)}. Give the new extract the same "
                    "columns as the training one (or a `mapping=` that renames "
                    "them), or refit."
                )
            if now != kind:
                raise SchemaError(
                    f"{owner} was fitted on table {name!r} with column {col!r} read as "
                    f"{kind}s; the Events store attached now reads it as {now}s. "
                    "Give the column the same type as in training, or refit."
                )
        for col, vocab in entry["vocabularies"].items():
            _report_unseen(table, name, col, vocab, max_cutoff)
    customers = events.customers
    for col, kind in contract.get("customers", {}).items():
        if col not in customers:
            raise SchemaError(
                f"{owner} was fitted with the customer attribute {col!r}, which the "
                f"customers table attached now lacks; it has "
                f"{list(customers.columns)}. Add the column, or refit."
            )
        now = _attribute_kind(customers[col])
        if now != kind:
            raise SchemaError(
                f"{owner} was fitted with the customer attribute {col!r} as {kind}s; "
                f"the customers table attached now holds {now}s (dtype "
                f"{customers[col].dtype}). Give the column the same type as in "
                "training, or refit."
            )
    return missing_tables


def _report_unseen(table, name, col, vocab, max_cutoff) -> None:
    categories = table.categories[col]
    known = np.zeros(len(categories), dtype=bool)
    index = {v: i for i, v in enumerate(categories)}
    for value in vocab:
        if value in index:
            known[index[value]] = True
    if known.all():
        return
    counts = unseen_counts(table, col, known, max_cutoff)  # no scan per call
    unseen = np.flatnonzero(~known & (counts > 0))
    if len(unseen):
        report_once(
            unseen_message(
                f"{name}.{col}",
                [categories[i] for i in unseen],
                counts[unseen],
                unit="events",
                consequence="they count toward totals but get no feature of their "
                "own (not zeroed: the totals include them)",
            )
        )


def unseen_message(where, values, counts, *, unit, consequence) -> str:
    """'usage.event: 2 values not seen in training (12 events): 'X' (10), ...'."""
    order = np.argsort(-np.asarray(counts), kind="stable")
    listed = ", ".join(
        f"{str(values[i])!r} ({int(counts[i]):,})" for i in order[:_MAX_LISTED]
    )
    more = f" and {len(values) - _MAX_LISTED} more" if len(values) > _MAX_LISTED else ""
    return (
        f"{where}: {len(values)} value(s) not seen in training, "
        f"{int(np.sum(counts)):,} {unit}: {listed}{more}; {consequence}. Values are "
        "matched exactly (case-sensitive); map them to the training spelling with "
        "the Events `mapping`/a rename, or refit to learn them."
    )


def missing_features(specs, missing_tables) -> list[str]:
    """Output names of specs reading a missing table, directly or via operands."""
    affected: set[str] = set()
    for spec in specs:
        table = getattr(spec, "table", "")
        if table and table in missing_tables:
            affected.add(spec.name)
        elif not table and (spec.left in affected or spec.right in affected):
            affected.add(spec.name)
    return [s.name for s in specs if s.output and s.name in affected]


def report_once(message: str) -> None:
    """Warn, or hand the message to the enclosing :func:`collect_reports`."""
    messages = _COLLECTOR.get()
    if messages is None:
        warn(message, SchemaDriftWarning)
    elif message not in messages:
        messages.append(message)


@contextlib.contextmanager
def collect_reports():
    """Gather contract reports of several builders; warn each once at the end.

    Yields the list the messages are gathered in (None when nested: the outer
    call reports).
    """
    if _COLLECTOR.get() is not None:  # nested: the outer call reports
        yield None
        return
    messages: list[str] = []
    token = _COLLECTOR.set(messages)
    try:
        yield messages
    finally:
        _COLLECTOR.reset(token)
    for message in messages:
        warn(message, SchemaDriftWarning)


def warn_unread_numbers(engine, contracts, tables=("usage", "billing", "support")):
    """Warn when one of ``tables`` (those a builder of the pipeline reads) has
    numeric columns no builder read (the ``input_contract_`` of each, in
    ``contracts``): a wide table's metrics (``data_mb``, ``level_reached``)
    kept in the store and feeding nothing. A support ``csat`` without close
    times is left out on purpose (the store's build said why)."""
    read: dict[str, set] = {}
    for contract in contracts:
        for name, entry in (contract or {}).get("tables", {}).items():
            read.setdefault(name, set()).update(entry.get("columns", {}))
    unread = []
    for name in tables:
        table = engine.table(name)
        if table is None:
            continue
        if name == "support" and "closed_time" not in table.columns:
            read.setdefault(name, set()).add("csat")
        unread += [
            f"{name}.{col}"
            for col, kind in table.kinds.items()
            if kind == "number"
            and col not in read.get(name, set())
            and col not in _SPECIAL
        ]
    if not unread:
        return
    shown = ", ".join(unread[:8]) + (" ..." if len(unread) > 8 else "")
    melt = (
        " For usage metrics kept wide (one column each), melt them into rows, "
        "`df.melt(id_vars=['customer_id', 'time'], var_name='event', "
        "value_name='quantity')`."
        if any(u.startswith("usage.") for u in unread)
        else ""
    )
    warn(
        f"No feature reads the numeric column(s) {shown}: they are kept in the "
        "store and feed nothing (usage features count events per `event` kind "
        "and sum `quantity`; billing features sum the `amount` of payment rows "
        f"and read `mrr`).{melt} Read them with a ck.FeatureSpec of your own.",
        DataQualityWarning,
    )

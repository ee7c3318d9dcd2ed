"""Shapes of exports that betray a misreading: numbers as times, zero rows.

Exports from analytics and billing tools write times as UNIX epoch numbers,
in seconds, milliseconds or (Stripe, RevenueCat) both across a column's
history; warehouses write ``19970101``. churnkit refuses numbers as times
(:func:`churnkit.events._tables.parse_times`), and :func:`numbers_fix` says
which conversion fits the values given. A user who converted with the wrong
unit gets dates in January 1970 (milliseconds read as seconds overflow
instead): :func:`warn_early_times` counts them. A wide daily export (one
column per metric) melted to rows keeps its zeros, each an event and an
active day: :func:`warn_zero_quantities` counts them, as
:func:`warn_kindless_rows` counts usage rows with no event kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.exceptions import DataQualityWarning

__all__ = [
    "EARLIEST_PLAUSIBLE",
    "ZERO_SHARE",
    "numbers_fix",
    "warn_early_times",
    "warn_kindless_rows",
    "warn_unknown_priorities",
    "warn_unknown_billing_kinds",
    "warn_support_without_close",
    "warn_zero_quantities",
]

#: share of usage rows with quantity 0 from which they are counted aloud
ZERO_SHARE = 0.05

#: times before this are read as a unit mix-up (epoch numbers give 1970)
EARLIEST_PLAUSIBLE = pd.Timestamp("1980-01-01")

# epoch numbers of 1980-01-01 .. 2100-01-01 in each unit: disjoint ranges
_UNITS = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_LOW, _HIGH = 315_532_800, 4_102_444_800  # seconds


def _unit_of(value: float) -> str | None:
    for unit, scale in _UNITS.items():
        if _LOW * scale <= abs(value) < _HIGH * scale:
            return unit
    return None


def numbers_fix(values, column: str) -> str:
    """The conversion that reads ``values`` (numbers) as the times they are.

    >>> numbers_fix([1706745600, 1709251200], "time")
    "`df['time'] = pd.to_datetime(df['time'], unit='s')` (UNIX epoch seconds)"
    >>> numbers_fix([19970101, 19971231], "time")[:50]
    "`df['time'] = pd.to_datetime(df['time'].astype('In"
    >>> "both" in numbers_fix([1706745600, 1743465600000], "t")
    True
    >>> "YYMMDD" in numbers_fix([930101, 981231], "date")
    True
    """
    numbers = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna()
    ymd = numbers.between(1900_01_01, 2100_12_31) & (numbers % 1 == 0)
    if len(numbers) and ymd.all():
        return (
            f"`df[{column!r}] = pd.to_datetime(df[{column!r}].astype('Int64')"
            ".astype('string'), format='%Y%m%d')` (dates written as YYYYMMDD)"
        )
    if len(numbers) and (numbers % 1 == 0).all() and numbers.between(101, 991231).all():
        month, day = (numbers // 100) % 100, numbers % 100
        if month.between(1, 12).all() and day.between(1, 31).all():
            return (
                f"`df[{column!r}] = pd.to_datetime(df[{column!r}].astype('Int64')"
                ".astype('string').str.zfill(6), format='%y%m%d')` (dates written "
                "as YYMMDD; '%y' reads 00-68 as 20xx and 69-99 as 19xx)"
            )
    units = {_unit_of(float(v)) for v in numbers}
    if units == {"s", "ms"}:
        return (
            "a column with both UNIX epoch seconds and milliseconds (an export "
            "whose format changed): bring them to one unit first, e.g. "
            f"`t = df[{column!r}]; df[{column!r}] = pd.to_datetime(t.where(t < "
            "1e11, t // 1000), unit='s')`"
        )
    if len(units) == 1 and None not in units:
        unit = units.pop()
        name = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}
        return (
            f"`df[{column!r}] = pd.to_datetime(df[{column!r}], unit={unit!r})` "
            f"(UNIX epoch {name.get(unit, 'nanoseconds')})"
        )
    return (
        f"`pd.to_datetime(df[{column!r}], unit='s')` for UNIX epoch seconds "
        "('ms' for milliseconds), or `format='%Y%m%d'` on text for YYYYMMDD"
    )


def warn_early_times(table: str, column: str, ns: np.ndarray, ids) -> None:
    """Warn when times fall before :data:`EARLIEST_PLAUSIBLE` (kept as given).

    ``ns``: int64 nanoseconds (``NaT`` as int64 min); ``ids``: the rows'
    customer ids, for the examples.
    """
    early = (ns < EARLIEST_PLAUSIBLE.value) & (ns != np.iinfo(np.int64).min)
    n = int(early.sum())
    if not n:
        return
    rows = np.flatnonzero(early)[:3]
    shown = ", ".join(
        f"{ids[i]!r} at {pd.Timestamp(int(ns[i])):%Y-%m-%d %H:%M}" for i in rows
    )
    warn(
        f"Table {table!r}, column {column!r}: {n:,} of {len(ns):,} rows are "
        f"before {EARLIEST_PLAUSIBLE:%Y-%m-%d} (e.g. {shown}). Dates in January "
        "1970 are UNIX epoch numbers converted with the wrong unit (seconds read "
        "as milliseconds, or a column that mixes both); windows, tenures and "
        "'days since' read them as decades old. Convert with the unit each "
        "value has (unit='s' for 10 digits, unit='ms' for 13).",
        DataQualityWarning,
    )


def warn_zero_quantities(numbers: dict) -> None:
    """Warn when :data:`ZERO_SHARE` or more of the usage rows hold 0 in every
    numeric column (``quantity``, or the metrics of a wide
    daily table: ``voice_minutes``, ``data_mb``...).

    Every row is an event and its day an active day, whatever its values: a
    daily export with a row per idle day (zeros), melted to rows or kept wide,
    reads every idle day as activity (a prepaid extract with 12 % such rows
    labelled 65 churners where there were 279).
    """
    if not numbers:
        return
    names = list(numbers)
    idle = None
    for values in numbers.values():
        nothing = values == 0  # a missing value is no zero: a quantity of views
        idle = nothing if idle is None else idle & nothing
    n, total = int(idle.sum()), len(idle)
    if total == 0 or n < ZERO_SHARE * total:
        return
    if names == ["quantity"]:
        where, fix = "column 'quantity'", "usage[usage['quantity'] > 0]"
        what = "have quantity 0"
    else:
        where = f"columns {names[:6]}"
        fix = f"usage[(usage[{names[:6]}] != 0).any(axis=1)]"
        what = "hold 0 in every one"
    warn(
        f"Table 'usage', {where}: {n:,} of {total:,} rows ({n / total:.0%}) "
        f"{what}, and every row counts as an event and its day as "
        "an active day. If a zero means nothing happened (a daily export with "
        f"a row per idle day), drop those rows first: `usage = {fix}` (see "
        "'Daily metrics instead of events' in docs/guide/your-data.md).",
        DataQualityWarning,
    )


def warn_kindless_rows(codes: np.ndarray, categories) -> None:
    """Warn about usage rows whose ``event`` is missing or blank.

    They count as events and activity in the all-kinds features, in no
    per-kind feature, and no ``table=("usage", [kinds])`` can name them (a
    Berka export's empty ``k_symbol``: 35 % of the rows; a blank kind became
    the feature "Days since last ' '").
    """
    blank = np.array([str(c).strip() == "" for c in categories], dtype=bool)
    kindless = codes < 0
    if blank.any():
        kindless |= np.isin(codes, np.flatnonzero(blank))
    n = int(kindless.sum())
    if not n:
        return
    warn(
        f"Table 'usage', column 'event': {n:,} of {len(codes):,} rows have no "
        "kind (missing or blank). They count as events and as activity in the "
        "all-kinds features, in no per-kind feature, and a `table=('usage', "
        "[kinds])` cannot name them. Name them, e.g. `usage['event'] = "
        "usage['event'].fillna('other')`, or drop them.",
        DataQualityWarning,
    )


def warn_unknown_priorities(codes: np.ndarray, categories, known) -> None:
    """Warn when a support table's ``priority`` holds none of the ``known``
    words: the high-priority features count 'high' and 'urgent' only, so a
    helpdesk's numbers (Freshdesk's 1 to 4) read 0 for every account."""
    present = np.unique(codes[codes >= 0])
    if not len(present):
        return
    values = [categories[i] for i in present]
    if any(str(v).strip().lower() in known for v in values):
        return
    shown = ", ".join(repr(v) for v in values[:6])
    more = f" and {len(values) - 6} more" if len(values) > 6 else ""
    warn(
        f"Table 'support', column 'priority': none of its values ({shown}{more}) "
        f"is one of {list(known)}, so the high-priority ticket features count "
        "no ticket ('high' and 'urgent' are high). Map them to those words, "
        "e.g. Freshdesk's numbers: df['priority'] = df['priority'].map({1: "
        "'low', 2: 'medium', 3: 'high', 4: 'urgent'}) (check your helpdesk's "
        "order: in some, 1 is the highest).",
        DataQualityWarning,
    )


def warn_support_without_close(columns) -> None:
    """Warn when a support table has ``csat`` but no ``closed_time``: a rating
    is given at a ticket's close, so without it the rating cannot be placed
    in time (read at the opening it would leak a later rating into earlier
    cutoffs); the CSAT and open-ticket features are left out."""
    hints = [
        c
        for c in columns
        if any(w in str(c).lower() for w in ("close", "solve", "resol", "status"))
    ]
    named = f" The table has {hints}: " if hints else " "
    close = hints[0] if hints else "solved_at"
    warn(
        "Table 'support' has `csat` but no `closed_time`: a satisfaction rating "
        "is given when a ticket closes, so without the close time churnkit cannot "
        "tell which ratings were known at a cutoff, nor which tickets were open; "
        "the CSAT and open-ticket features are left out (reading a rating at the "
        f"ticket's opening would leak it into earlier cutoffs).{named}map the close "
        f"time, e.g. columns={{'support': {{{close!r}: 'closed_time'}}}} (a "
        "'resolved' flag says that a ticket closed, not when).",
        DataQualityWarning,
    )


def warn_unknown_billing_kinds(codes: np.ndarray, categories, known) -> None:
    """Warn when billing rows carry kinds no built-in feature or KPI counts
    (a chargeback, a 'Paid' status): they are kept, their ``mrr`` and ``plan``
    still read, but no count of payments, failures or refunds includes them."""
    present, counts = np.unique(codes[codes >= 0], return_counts=True)
    other = [(categories[i], int(n)) for i, n in zip(present, counts, strict=True)]
    other = [(v, n) for v, n in other if v not in set(known)]
    if not other:
        return
    shown = ", ".join(f"{v!r} ({n:,})" for v, n in other[:6])
    more = f" and {len(other) - 6} more" if len(other) > 6 else ""
    counted = [k for k in known if not str(k).startswith("subscription_")]
    guesses = {v: _billing_kind_guess(str(v)) for v, _ in other}
    mapping = {v: g for v, g in guesses.items() if g is not None}
    example = f" e.g. df['kind'] = df['kind'].replace({mapping!r})," if mapping else ""
    warn(
        f"Table 'billing', column 'kind': {sum(n for _, n in other):,} row(s) of "
        f"kind(s) {shown}{more} that no built-in feature or KPI counts (the kinds "
        f"counted are {counted}; their `mrr` and `plan` are still read). Map them "
        f"to one of those if they mean one,{example} or read them with a "
        "FeatureSpec of your own.",
        DataQualityWarning,
    )


def _billing_kind_guess(kind: str) -> str | None:
    """The billing kind an export's word likely means, or None."""
    word = kind.lower()
    if any(w in word for w in ("chargeback", "reversal", "dispute", "refund")):
        return "refund"
    if any(w in word for w in ("fail", "declin", "bounce", "reject", "unpaid")):
        return "payment_failed"
    if any(w in word for w in ("paid", "success", "settled", "charge", "collect")):
        return "payment"
    if any(w in word for w in ("bill", "invoice", "due")):
        return "invoice"
    return None

"""Validation of the raw tables handed to :class:`churnkit.Events`.

Each function here takes a user's DataFrame (or a path), applies the column
mapping, checks it against the data contract of DESIGN.md and returns clean
columns plus a record of every row it had to exclude. Errors name the table, the
column, a few offending rows and the fix; nothing is dropped without a count.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import blank_as_missing, is_day_first
from churnkit.events._epochs import numbers_fix
from churnkit.events._zones import warn_local_zone, warn_text_offsets
from churnkit.exceptions import DataQualityWarning, SchemaError

MAX_EXAMPLES = 5

# Contract order of known kinds: ties at equal times are broken in this order,
# unknown kinds follow alphabetically.
BILLING_KINDS = (
    "invoice",
    "payment",
    "payment_failed",
    "refund",
    "plan_change",
    "discount",
    "subscription_end",
    "subscription_start",
)
CHURN_KINDS = ("voluntary", "involuntary")
PRIORITIES = ("low", "normal", "medium", "high", "urgent")


@dataclass(frozen=True)
class TableContract:
    """What one table must and may hold."""

    name: str
    required: tuple[str, ...]
    times: tuple[str, ...] = ()  # timestamp columns, the first is the event time
    numbers: tuple[str, ...] = ()  # float columns
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    non_negative: tuple[str, ...] = ()
    kind_column: str | None = None  # categorical column that orders ties first


CONTRACTS = {
    "customers": TableContract(
        "customers", ("customer_id",), times=("signup_time",), numbers=()
    ),
    "usage": TableContract(
        "usage",
        ("customer_id", "time", "event"),
        times=("time",),
        numbers=("quantity",),
        categories={"event": ()},
        non_negative=("quantity",),
        kind_column="event",
    ),
    "billing": TableContract(
        "billing",
        ("customer_id", "time", "kind"),
        times=("time",),
        numbers=("amount", "mrr"),
        categories={"kind": BILLING_KINDS, "plan": ()},
        non_negative=("mrr",),
        kind_column="kind",
    ),
    "support": TableContract(
        "support",
        ("customer_id", "time"),
        times=("time", "closed_time"),
        numbers=("csat",),
        categories={"priority": PRIORITIES, "category": ()},
    ),
    "churn": TableContract(
        "churn",
        ("customer_id", "time"),
        times=("time",),
        categories={"kind": CHURN_KINDS},
        kind_column="kind",
    ),
    "subscriptions": TableContract(
        "subscriptions",
        ("customer_id", "start"),
        times=("start", "end"),
        numbers=("mrr",),
        categories={"plan": ()},
        non_negative=("mrr",),
    ),
}
# Billing amounts that cannot be negative (refunds and plan changes may be).
NON_NEGATIVE_AMOUNT_KINDS = ("invoice", "payment", "payment_failed")


@dataclass
class Exclusions:
    """Row-level defects found in one table: reason -> boolean mask of rows."""

    table: str
    n_rows: int
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, mask: np.ndarray, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if reason in self.masks:
            self.masks[reason] |= mask
        else:
            self.masks[reason] = mask.copy()
            self.messages[reason] = message

    def excluded(self) -> np.ndarray:
        """Rows excluded for any reason (each row counted once, first reason)."""
        out = np.zeros(self.n_rows, dtype=bool)
        for mask in self.masks.values():
            out |= mask
        return out

    def counts(self) -> dict[str, int]:
        """Rows per reason; a row with several defects counts for the first."""
        seen = np.zeros(self.n_rows, dtype=bool)
        counts = {}
        for reason, mask in self.masks.items():
            counts[reason] = int((mask & ~seen).sum())
            seen |= mask
        return counts


def examples(df: pd.DataFrame, mask: np.ndarray, columns) -> str:
    """A few offending rows, as text for an error message."""
    rows = df.loc[np.asarray(mask, dtype=bool), [c for c in columns if c in df]]
    shown = rows.head(MAX_EXAMPLES).to_string(max_colwidth=40)
    more = (
        f"\n... and {len(rows) - MAX_EXAMPLES} more" if len(rows) > MAX_EXAMPLES else ""
    )
    return f"{shown}{more}"


def parse_times(
    series: pd.Series, *, table: str, column: str, required: bool, excl: Exclusions
) -> np.ndarray:
    """Timestamps as int64 nanoseconds since 1970 (naive UTC); NaT as INT64 min.

    Rules: datetime dtypes are used as they are (tz-aware converted to UTC);
    strings and datetime objects are parsed; a mix of tz-aware and naive values
    is an error; numbers are an error (19970101 is not nanoseconds since 1970).
    Categorical text (parquet dictionary columns) is read as its values.
    Text in two formats (``02/01/2024`` and ``13/02/2024``) is an error, as
    in pandas; ISO 8601 text may mix dates and date-times. Blank text and
    ``"NaT"`` (how CSV and text exports write a missing time) are missing,
    like null: an open subscription's ``end``, a null ``time``.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = _decategorize(series)
    series = blank_as_missing(series)
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        if series.notna().any():
            given = series.dropna()
            raise SchemaError(
                f"Table {table!r}, column {column!r}: timestamps are numbers "
                f"(dtype {series.dtype}, e.g. {given.head(3).tolist()}). Numbers "
                "are ambiguous: 19970101 would be read as nanoseconds since 1970. "
                f"Parse them first: {numbers_fix(_spread(given), column)}."
            )
        series = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        warn_local_zone(series, table, column)
        parsed = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(series):
        parsed = series
    else:
        parsed = _parse_text_times(series, table=table, column=column)
    try:
        ns = parsed.astype("datetime64[ns]")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        ns = _clip_out_of_range(parsed, table, column, excl)
    values = ns.to_numpy().view("int64")
    null = values == np.iinfo(np.int64).min
    unread = f"values in column {column!r} could not be read as dates"
    unparseable = null & series.notna().to_numpy()
    if unparseable.any():
        digits = series[unparseable].astype(str).str.fullmatch(r"\s*\d{6,19}\s*")
        if digits.all():  # epoch numbers or YYYYMMDD written as text
            fix = numbers_fix(_spread(series[unparseable].astype(str)), column)
            unread += (
                " (they are numbers written as text: `df[col] = pd.to_numeric("
                f"df[col])`, then {fix})"
            )
    if required:
        excl.add(f"unparseable {column}", unparseable, unread)
        excl.add(
            f"null {column}",
            null & ~unparseable,
            f"column {column!r} is null",
        )
    else:
        excl.add(f"unparseable {column}", unparseable, unread)
    return values


def _decategorize(series: pd.Series) -> pd.Series:
    """A categorical column as its values (parsed later once per category)."""
    categories = series.cat.categories
    if pd.api.types.is_datetime64_any_dtype(categories):
        return series.astype(categories.dtype)
    codes = series.cat.codes.to_numpy()
    values = np.asarray(categories, dtype=object)
    out = np.where(
        codes >= 0, values[np.maximum(codes, 0)] if len(values) else None, None
    )
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def _parse_text_times(series: pd.Series, *, table: str, column: str) -> pd.Series:
    values = series.dropna()
    _check_no_numbers(values, table=table, column=column)
    if len(values) and pd.api.types.infer_dtype(values, skipna=True) == "string":
        aware = values.str.contains(_TZ_TAIL)
    else:
        aware = values.map(_is_tz_aware) if len(values) else values
    if len(values) and aware.any() and not aware.all():
        show = pd.concat([values[aware].head(2), values[~aware].head(2)])
        raise SchemaError(
            f"Table {table!r}, column {column!r} mixes timezone-aware and naive "
            f"timestamps ({int(aware.sum())} aware, {int((~aware).sum())} naive), "
            f"e.g.\n{show.to_string()}\nMake them consistent, e.g. "
            f"`pd.to_datetime(df[{column!r}], utc=True)` if naive ones are UTC."
        )
    utc = bool(len(values) and aware.all())
    if utc and pd.api.types.infer_dtype(values, skipna=True) == "string":
        warn_text_offsets(values, table, column)
    iso = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=utc)
    if not (iso.isna() & series.notna()).any():
        if isinstance(iso.dtype, pd.DatetimeTZDtype):
            iso = iso.dt.tz_convert("UTC").dt.tz_localize(None)
        return iso
    text = len(values) and pd.api.types.infer_dtype(values, skipna=True) == "string"
    try:
        with warnings.catch_warnings():
            # a first value that is no date: pandas warns it parses one by one,
            # which the retry below does anyway
            warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
            # day-first text ('31/08/2023' beside '05/04/2023'): pandas infers
            # month-first from the first value, and the rest is "another format"
            fmt = (
                day_first_format(values.iloc[0])
                if text and is_day_first(values)
                else None
            )
            parsed = pd.to_datetime(
                series,
                errors="coerce",
                utc=bool(len(values) and aware.all()),
                format=fmt,
            )
    except (ValueError, TypeError):
        parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    retry = parsed.isna() & series.notna()
    if retry.any():  # values in another format than the first one pandas saw
        again = pd.to_datetime(series[retry], errors="coerce", format="mixed")
        _check_one_format(series, parsed, again, table=table, column=column)
        if isinstance(again.dtype, pd.DatetimeTZDtype):
            again = again.dt.tz_convert("UTC").dt.tz_localize(None)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        # one unit for both; microseconds when a date lies outside the ns range
        # (parse_times then counts it as out of range)
        for unit in ("datetime64[ns]", "datetime64[us]"):
            try:
                parsed, again = parsed.astype(unit), again.astype(unit)
                break
            except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                continue
        parsed[retry] = again
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    _warn_ambiguous(values, table=table, column=column)
    return parsed


_DAY_MONTH = re.compile(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:$|[T\s])")


_DMY_PARTS = re.compile(
    r"^\s*\d{1,2}(?P<sep>[/.-])\d{1,2}(?P=sep)(?P<year>\d{2,4})"
    r"(?:(?P<t>[T ])\d{1,2}:\d{2}(?P<sec>:\d{2}(?P<frac>\.\d+)?)?)?\s*$"
)


def day_first_format(sample) -> str:
    """The day-first ``strftime`` format of a sample value: ``'%d/%m/%Y %H:%M'``
    for ``'13/01/2020 00:02'`` (``'%d/%m/%Y'`` when the sample has another shape)."""
    m = _DMY_PARTS.match(str(sample))
    if not m:
        return "%d/%m/%Y"
    sep = m.group("sep")
    out = f"%d{sep}%m{sep}" + ("%Y" if len(m.group("year")) == 4 else "%y")
    if m.group("t"):
        out += m.group("t") + "%H:%M" + (":%S" if m.group("sec") else "")
        out += ".%f" if m.group("frac") else ""
    return out


def _warn_ambiguous(values: pd.Series, *, table: str, column: str) -> None:
    """Warn when every date reads as well day-first as month-first.

    pandas reads ``01/08/2018`` as January 8th. A column where some first
    field exceeds 12 is day-first (two formats: an error above), one where
    some second field does is month-first; with neither, nothing tells.
    """
    if not len(values) or pd.api.types.infer_dtype(values, skipna=True) != "string":
        return
    distinct = pd.Series(pd.unique(values.to_numpy(dtype=object)), dtype=object)
    fields = distinct.str.extract(_DAY_MONTH)
    if fields.isna().any(axis=None):  # not all d/m/y-shaped
        return
    first, second = fields[0].astype(int), fields[1].astype(int)
    if (first > 12).any() or (second > 12).any() or (first == second).all():
        return
    warn(
        f"Table {table!r}, column {column!r}: every date reads both day-first "
        f"and month-first (e.g. {distinct.iloc[0]!r}), so they were read "
        "month-first (pandas' default: 01/08/2018 is January 8th). If they are "
        f"day-first, parse the column yourself: `df[{column!r}] = "
        f"pd.to_datetime(df[{column!r}], "
        f"format={day_first_format(distinct.iloc[0])!r})`.",
        DataQualityWarning,
    )


_YEAR_FIRST = re.compile(r"\s*[+-]?\d{4}-\d{1,2}-\d{1,2}(?:$|[T\s])")


def _check_one_format(series, parsed, again, *, table, column) -> None:
    """Dates in two formats would be read two ways: an error, as in pandas."""
    other = again.notna()
    first = parsed.notna()
    if not (other.any() and first.any()):
        return
    # year-first dates (ISO 8601 and its variants) cannot be read two ways
    read = pd.concat([series[first], series[again.index[other.to_numpy()]]])
    if read.astype(str).str.match(_YEAR_FIRST).all():
        return
    a = series[first].head(2).tolist()
    b = series[again.index[other.to_numpy()]].head(2).tolist()
    raise SchemaError(
        f"Table {table!r}, column {column!r} holds dates in more than one format: "
        f"{int(first.sum())} row(s) read like {a}, {int(other.sum())} other(s) "
        f"like {b} do not fit that format. Read two ways, a day-first column "
        "would silently swap days and months (pandas raises too). Parse the "
        f"column yourself with its format, e.g. `df[{column!r}] = "
        f"pd.to_datetime(df[{column!r}], format={day_first_format(a[0])!r})`, or pass "
        "format='mixed' and dayfirst=... to pd.to_datetime if you mean it."
    )


def _check_no_numbers(values: pd.Series, *, table: str, column: str) -> None:
    """Numbers among text or datetime objects are an error, as in a number dtype.

    pandas would read ``19970101`` in an object column as nanoseconds since 1970.
    """
    kind = pd.api.types.infer_dtype(values, skipna=True) if len(values) else "empty"
    if kind not in ("integer", "floating", "decimal", "mixed-integer") and (
        kind not in ("mixed", "mixed-integer-float")
    ):
        return
    numbers = values.map(
        lambda v: (
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
        )
    )
    if not numbers.any():
        return
    sample = values[numbers].head(3).tolist()
    raise SchemaError(
        f"Table {table!r}, column {column!r}: {int(numbers.sum())} timestamp(s) are "
        f"numbers (e.g. {sample}). Numbers are ambiguous: 19970101 would be read as "
        "nanoseconds since 1970. Parse them first: "
        f"{numbers_fix(_spread(values[numbers]), column)}."
    )


def _spread(values: pd.Series, n: int = 1000) -> pd.Series:
    """At most ``n`` values spread over the column (an export that changed
    its unit midway shows both)."""
    return values.iloc[:: max(1, len(values) // n)]


#: A time of day followed by a zone: ``Z``, ``+01:00``, ``+0100``, ``+01``,
#: `` UTC``, ``GMT+1``, with or without a space before it.
_TZ_TAIL = re.compile(
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*"
    r"(?:[zZ]|(?:UTC|GMT|utc|gmt)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}(?::?\d{2})?)$"
)


def _is_tz_aware(value) -> bool:
    if isinstance(value, pd.Timestamp) or hasattr(value, "tzinfo"):
        return getattr(value, "tzinfo", None) is not None
    return bool(_TZ_TAIL.search(str(value).strip()))


def _clip_out_of_range(parsed, table, column, excl) -> pd.Series:
    lo, hi = pd.Timestamp.min, pd.Timestamp.max
    out_of_range = parsed.notna() & ((parsed < lo) | (parsed > hi))
    excl.add(
        f"out-of-range {column}",
        out_of_range.to_numpy(),
        f"column {column!r} holds dates outside 1677-09-22..2262-04-11",
    )
    return parsed.where(~out_of_range).astype("datetime64[ns]")


_CURRENCY = r"[$€£¥\s]|\b(?:USD|EUR|GBP)\b"
_DOT_DECIMAL = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[+-]?\d+\.\d+$|^[+-]?\d+$"
_COMMA_DECIMAL = r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^[+-]?\d+,\d+$|^[+-]?\d+$"


def number_format_hint(values: pd.Series, column: str) -> str:
    """The fix for numbers written as money (``'$1,200.00'``, ``'1.200,00 €'``).

    Such text is not read for you (pandas, polars and skrub do not either):
    ``'1,200'`` is 1200 or 1.2 depending on the locale. When every value has
    one shape (',' thousands and a '.' decimal, or the reverse), the hint gives
    the line that reads it; when both shapes fit, both lines; otherwise (text
    that is no amount) it is empty.
    """
    text = values.dropna().astype(str).drop_duplicates().head(1000)
    bare = text.str.replace(_CURRENCY, "", regex=True)
    if not len(bare) or not ((bare != text).any() or bare.str.contains(",").any()):
        return ""  # no currency sign and no separator: no amount
    written = (bare != text) | bare.str.contains(",")
    shown = text[written].iloc[0]  # one with a sign or separator, not '20.00'
    dot = bool(bare.str.match(_DOT_DECIMAL).all())
    comma = bool(bare.str.match(_COMMA_DECIMAL).all())
    us = (
        f"`df[{column!r}] = pd.to_numeric(df[{column!r}].str.replace("
        "r'[$€£¥,\\s]', '', regex=True))`"
    )
    eu = (
        f"`df[{column!r}] = pd.to_numeric(df[{column!r}].str.replace("
        "r'[$€£¥.\\s]', '', regex=True).str.replace(',', '.'))`"
    )
    if dot and comma and bare.str.contains(r"[.,]").any():
        fix = (
            f"they read both ways (e.g. {shown!r}), so use the line for "
            f"your format: ',' thousands and '.' decimal: {us}; '.' thousands "
            f"and ',' decimal: {eu}"
        )
    elif dot or comma:
        fix = f"convert the column first: {us if dot else eu}"
    else:
        return ""
    return (
        f" The values of {column!r} are amounts written with a currency sign or "
        f"separators (e.g. {shown!r}); churnkit does not guess a number "
        f"format (pandas does not either): {fix}."
    )


def parse_numbers(
    series: pd.Series, *, table: str, column: str, excl: Exclusions
) -> np.ndarray:
    """A numeric column as float64; text that is not a number is a defect."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        bad = np.isnan(values) & series.notna().to_numpy()
        excl.add(
            f"non-numeric {column}",
            bad,
            f"column {column!r} holds text that is not a number",
        )
    excl.add(
        f"infinite {column}",
        np.isinf(values),
        f"column {column!r} is infinite",
    )
    return values

"""Parsing of durations (horizons, gaps, windows) and cutoff times.

Durations are either exact spans given as Timedelta strings with a unit
("30D", "12h") or calendar offsets ("1MS", "1QS", "1YS") that move to the next
month, quarter or year start. A bare number ("30", ``30``) is an error: pandas
would read it as 30 nanoseconds. "1M", "1Q" and "1Y" are errors too: they are
ambiguous (pandas reads "M" as a month end, users often mean a month).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitTypeError, SchemaError

#: Nanoseconds in a day: times are int64 nanoseconds since 1970 throughout.
NS_PER_DAY = 86_400 * 10**9

_NUMBER_UNIT = re.compile(r"^\s*([+-]?\d*\.?\d+)\s*([A-Za-z ]+?)\s*$")
# calendar offsets: month/quarter/year begin or end
_CALENDAR_UNITS = {"MS", "ME", "QS", "QE", "YS", "YE", "BMS", "BME"}
_AMBIGUOUS_UNITS = {"M", "Q", "Y", "A", "AS"}


def parse_duration(value, *, name: str, allow_zero: bool = True):
    """Parse a horizon, gap or window into a Timedelta or a calendar DateOffset.

    Parameters
    ----------
    value : str, pandas.Timedelta, datetime.timedelta or pandas.DateOffset
        "30D", "12h", "2W" (exact spans) or "1MS", "3MS", "1YS" (calendar
        offsets). A DateOffset such as ``pd.DateOffset(months=1)`` (the same
        day of the next month) is used as it is.
    name : str
        Parameter name used in error messages, e.g. ``"horizon"``.
    allow_zero : bool, default=True
        Whether a zero duration is allowed (a gap may be zero, a window not).

    Returns
    -------
    pandas.Timedelta or pandas.DateOffset
    """
    if isinstance(value, pd.offsets.BaseOffset) and not isinstance(value, pd.Timedelta):
        offset = value
        return _check_offset(offset, value, name, allow_zero)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value,
        (bool, np.timedelta64),  # np.timedelta64 subclasses np.integer
    ):
        raise SchemaError(
            f"`{name}` must carry a unit, such as '30D' or '1MS'; got {value!r}, "
            "which pandas would read as nanoseconds."
        )
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        if match is None:
            raise SchemaError(
                f"`{name}` must be a duration with a unit, such as '30D' (days), "
                f"'12h' or '1MS' (one calendar month); got {value!r}."
            )
        unit = match.group(2)
        if unit in _AMBIGUOUS_UNITS:
            raise SchemaError(
                f"`{name}`={value!r} is ambiguous: use '1MS' for calendar months "
                "(up to the next month start), '1YS' for calendar years, "
                "pd.DateOffset(months=1) for the same day of the next month, or an "
                "exact span such as '30D'."
            )
        if unit in _CALENDAR_UNITS:
            offset = pd.tseries.frequencies.to_offset(value.strip())
            return _check_offset(offset, value, name, allow_zero)
        try:
            td = pd.Timedelta(value)
        except ValueError:
            raise SchemaError(
                f"`{name}` could not be read as a duration; got {value!r}. Use a "
                "Timedelta string such as '30D' or a calendar offset such as '1MS'."
            ) from None
        return _check_timedelta(td, value, name, allow_zero)
    if isinstance(value, (pd.Timedelta, np.timedelta64)) or hasattr(
        value, "total_seconds"
    ):
        return _check_timedelta(pd.Timedelta(value), value, name, allow_zero)
    raise ChurnkitTypeError(
        f"`{name}` must be a string such as '30D' or '1MS', a Timedelta or a "
        f"DateOffset; got {type(value).__name__} {value!r}."
    )


def _check_timedelta(td, raw, name, allow_zero):
    if td < pd.Timedelta(0) or (td == pd.Timedelta(0) and not allow_zero):
        raise SchemaError(
            f"`{name}` must be {'non-negative' if allow_zero else 'positive'}; "
            f"got {raw!r}."
        )
    return td


def _check_offset(offset, raw, name, allow_zero):
    n = getattr(offset, "n", 1)
    ref = pd.Timestamp("2000-01-15")
    if ref + offset == ref:  # pd.DateOffset(months=0)
        n = 0
    elif n > 0 and ref + offset < ref:  # pd.DateOffset(months=-1) has n=1
        n = -1
    if n < 0 or (n == 0 and not allow_zero):
        raise SchemaError(
            f"`{name}` must be {'non-negative' if allow_zero else 'positive'}; "
            f"got {raw!r}."
        )
    if n == 0:  # adding "0MS" would roll forward to the next month start
        return pd.Timedelta(0)
    return offset


def add_duration(times, duration):
    """Add a Timedelta or calendar offset to datetime64[ns] values.

    Accepts a numpy datetime64 array, a DatetimeIndex or a Timestamp and
    returns the same kind of value (arrays as datetime64[ns]).
    """
    if isinstance(duration, pd.Timedelta):
        return (
            times + duration.to_timedelta64()
            if isinstance(times, np.ndarray)
            else times + duration
        )
    if isinstance(times, np.ndarray):
        # calendar offsets are applied on the (few) distinct values only
        uniq, inverse = np.unique(times, return_inverse=True)
        moved = (pd.DatetimeIndex(uniq) + duration).to_numpy("datetime64[ns]")
        return moved[inverse]
    return times + duration


def subtract_duration(times, duration):
    """``times - duration`` for a Timedelta or a calendar offset (see add_duration)."""
    if isinstance(duration, pd.Timedelta):
        return add_duration(times, -duration)
    if isinstance(times, np.ndarray):
        uniq, inverse = np.unique(times, return_inverse=True)
        moved = (pd.DatetimeIndex(uniq) - duration).to_numpy("datetime64[ns]")
        return moved[inverse]
    return times - duration


def latest_on_grid(limit, durations, freq) -> pd.Timestamp:
    """The latest midnight of the ``freq`` grid whose window ends by ``limit``.

    The window of a grid point ``t`` ends at ``t`` plus each of ``durations``
    in turn (a gap, then a horizon): :func:`add_duration`'s arithmetic, the
    labels' own. Subtracting a calendar offset is not its inverse
    (``2017-03-03 - MonthBegin()`` is 2017-03-01, whose month ends after
    03-03), so the candidate steps back along the grid until its window fits.

    >>> latest_on_grid(pd.Timestamp("2017-03-03"), [pd.offsets.MonthBegin()], "MS")
    Timestamp('2017-02-01 00:00:00')
    >>> latest_on_grid(pd.Timestamp("2024-07-01"), [pd.Timedelta("30D")], "MS")
    Timestamp('2024-06-01 00:00:00')
    """
    step = pd.tseries.frequencies.to_offset(freq)
    t = limit
    for duration in reversed(list(durations)):
        t = subtract_duration(t, duration)
    # at midnight: the grid's points are days (rollback keeps the time of an
    # end one nanosecond after the last event)
    t = step.rollback(pd.Timestamp(t).normalize())

    def end(at):
        for duration in durations:
            at = add_duration(at, duration)
        return at

    while end(t) > limit:
        t = t - step
    return t


def duration_label(duration) -> str:
    """A compact label for names: Timedelta('30D') -> '30d', offset '1MS' -> '1ms'."""
    if isinstance(duration, pd.Timedelta):
        days = duration / pd.Timedelta("1D")
        if days == int(days):
            return f"{int(days)}d"
        hours = duration / pd.Timedelta("1h")
        if hours == int(hours):
            return f"{int(hours)}h"
        return f"{int(duration / pd.Timedelta('1s'))}s"
    return duration.freqstr.lower()


def to_timestamp(value, *, name: str) -> pd.Timestamp:
    """Parse a cutoff-like value into a naive UTC Timestamp (tz-aware converted)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool
    ):
        raise SchemaError(
            f"`{name}` must be a date such as '2024-01-01'; got the number {value!r}. "
            "Numbers are ambiguous (19970101 is not nanoseconds since 1970): pass a "
            "string or a pandas.Timestamp."
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise SchemaError(
            f"`{name}` could not be read as a date; got {value!r}. Pass a string "
            "such as '2024-01-01' or a pandas.Timestamp."
        ) from None
    if ts is pd.NaT:
        raise SchemaError(f"`{name}` must be a date; got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    try:
        return ts.as_unit("ns")
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        raise SchemaError(
            f"`{name}` is {value!r}, outside the dates churnkit can hold "
            "(1677-09-22 to 2262-04-11). For an open end, such as a 9999-12-31 "
            "placeholder, leave it out (None) instead."
        ) from None


# dates (and times) written as text: 2024-01-31, 2024/1/31, 31/01/2024, 1.31.24
DATE_TEXT = re.compile(
    r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*"
)
DATE_SHARE = 0.9  #: text columns whose values read as dates this often are dates


def date_share(texts, counts=None) -> float:
    """Share of values (weighted by ``counts``) that are dates written as text."""
    texts = pd.Series(np.asarray(texts, dtype=object), dtype=object)
    if not len(texts):
        return 0.0
    dates = texts.map(lambda v: isinstance(v, str)) & texts.astype(str).str.fullmatch(
        DATE_TEXT
    )
    weights = np.ones(len(texts)) if counts is None else np.asarray(counts, float)
    return float(weights[dates.to_numpy(bool)].sum() / max(weights.sum(), 1.0))


def is_date_column(series: pd.Series) -> bool:
    """A datetime column, or text that reads as dates (:data:`DATE_SHARE`)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
        series.dtype
    ):
        return False
    values = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    counts = values.value_counts(sort=False)
    return len(counts) > 0 and date_share(counts.index, counts.to_numpy()) >= (
        DATE_SHARE
    )


#: d/m/y or m/d/y text: its first two fields
_DAY_MONTH = re.compile(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:$|[T\s])")


def is_day_first(text: pd.Series) -> bool:
    """Whether d/m/y-shaped text is day-first: some first field exceeds 12
    and no second one does ('13/02/1974'); pandas reads such text month-first
    wherever the day is 12 or less ('11/02/1974' as November 2nd)."""
    distinct = pd.Series(pd.unique(text.dropna().to_numpy(dtype=object)), dtype=object)
    distinct = distinct.astype(str)  # distinct first: few, even in long columns
    fields = distinct.str.extract(_DAY_MONTH).dropna()
    if fields.empty:
        return False
    first, second = fields[0].astype(int), fields[1].astype(int)
    return bool((first > 12).any() and not (second > 12).any())


def dates_ns(series: pd.Series) -> np.ndarray:
    """A date column (datetime or text) as int64 ns, NaT (int64 min) where
    missing or unreadable; time zones are converted to naive UTC. Text that is
    evidently day-first (:func:`is_day_first`) is read day-first throughout."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
    else:
        text = series.astype(object).where(series.notna())
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        retry = parsed.isna() & text.notna()
        if retry.any():
            again = pd.to_datetime(
                text[retry],
                errors="coerce",
                format="mixed",
                utc=True,
                dayfirst=is_day_first(text[retry]),
            )
            parsed = parsed.where(~retry, again)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.to_numpy("datetime64[ns]").view("int64")


def check_calendar_zone(cutoffs, spans) -> None:
    """Refuse a calendar horizon or gap ('1MS') with cutoffs in a local zone.

    Cutoffs are read as naive UTC: 2020-03-01 00:00 in Berlin is 2020-02-29
    23:00 UTC, and one month start later is one hour later, so every window
    was one hour long (fightchurn: 3 churners instead of 110, silently).
    """
    calendar = {n: g for n, (d, g) in spans.items() if not isinstance(d, pd.Timedelta)}
    if not calendar or not isinstance(cutoffs, pd.DataFrame):
        return
    if "cutoff_time" in cutoffs.columns:
        times = cutoffs["cutoff_time"]
    elif "cutoff_time" in (cutoffs.index.names or ()):
        times = cutoffs.index.get_level_values("cutoff_time")
    else:
        return
    zone = getattr(times.dtype, "tz", None)
    if zone is None or str(zone) == "UTC":
        return
    name, given = next(iter(calendar.items()))
    raise SchemaError(
        f"cutoffs are in time zone {str(zone)!r} and {name}={given!r} is a calendar "
        "span: cutoffs are read in UTC, where a local month start is the day "
        "before, so the window would end at the next UTC month start. Pass "
        "cutoffs in UTC or without a zone (cutoffs['cutoff_time'] = "
        "cutoffs['cutoff_time'].dt.tz_localize(None) keeps the local dates), "
        f"or a fixed {name} such as '30D'."
    )


def cutoff_grid(start, end, freq, at) -> np.ndarray:
    """The cutoff times of ``make_cutoffs``: ``at`` (sorted, distinct) or the
    grid from ``start`` to ``end`` (both included) with ``freq``."""
    if at is not None:
        if start is not None or end is not None:
            raise SchemaError(
                "Pass either `at` or `start`/`end` to make_cutoffs, not both."
            )
        values = (
            at
            if isinstance(at, (list, tuple, np.ndarray, pd.Index, pd.Series))
            else [at]
        )
        # by their integer nanoseconds: numpy converts Timestamps through
        # Python datetimes, dropping the nanosecond of an observed_until
        times = [to_timestamp(v, name="at").as_unit("ns").value for v in values]
        return np.unique(np.array(times, dtype=np.int64).view("datetime64[ns]"))
    if start is None or end is None:
        raise SchemaError(
            "make_cutoffs needs `start` and `end` (a grid, e.g. start='2024-01-01', "
            "end='2024-12-01', freq='MS') or `at` (explicit cutoff times)."
        )
    start_, end_ = to_timestamp(start, name="start"), to_timestamp(end, name="end")
    if end_ < start_:
        raise SchemaError(f"`end` ({end_}) is before `start` ({start_}).")
    if not isinstance(freq, str):
        raise ChurnkitTypeError(
            f"`freq` must be a pandas offset alias such as 'MS' or '7D'; got {freq!r}."
        )
    try:
        grid = pd.date_range(start_, end_, freq=freq)
    except ValueError as exc:
        raise SchemaError(
            f"`freq`={freq!r} is not a pandas offset alias such as 'MS', "
            f"'W-MON' or '7D' ({exc})."
        ) from None
    if len(grid) == 0:
        raise SchemaError(
            f"No cutoff on the grid from {start_} to {end_} with "
            f"freq={freq!r}; widen the range."
        )
    return grid.to_numpy("datetime64[ns]")


def blank_as_missing(series: pd.Series) -> pd.Series:
    """Text that is blank or ``"NaT"`` (any case, spaces around) as missing:
    how CSV and text exports write a missing time."""
    if not (
        pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
    ):
        return series
    try:
        text = series.str.strip().str.lower()
    except AttributeError:  # no text at all (datetime objects)
        return series
    blank = text.isin(["", "nat"]).to_numpy(bool)
    return series.mask(blank) if blank.any() else series


def is_nonzero(duration) -> bool:
    """False only for a zero ``pd.Timedelta`` (no gap, no shift)."""
    return not (isinstance(duration, pd.Timedelta) and duration == pd.Timedelta(0))


def label_window(t, gap_, horizon_, horizon, gap):
    """``(t + gap, t + gap + horizon)`` as datetime64[ns], checked for overflow.

    Beyond pandas' last date (2262-04-11) nanosecond times wrap around to the
    distant past, where a window would look observed and label its rows "not
    churned": such windows are an error naming the rows and the fix.
    """
    limit = pd.Timestamp.max
    try:
        start = add_duration(t, gap_) if is_nonzero(gap_) else t
        stop = add_duration(start, horizon_)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        over = None
    else:
        if not len(t):
            return start, stop
        over = (stop < start) | (start < t)  # wrapped around (Timedeltas)
        if isinstance(gap_, pd.Timedelta) and isinstance(horizon_, pd.Timedelta):
            # in Python ints: the sum itself may not fit in int64
            last_start = max(limit.value - gap_.value - horizon_.value, -(2**63))
            over |= t.view("int64") > last_start
        if not over.any():
            return start, stop
    if over is None:  # a calendar offset: pandas raised for some cutoffs
        rows = f"some of the {len(t)} cutoff rows (latest cutoff "
        rows += f"{pd.Timestamp(t.max())})"
    else:
        rows = f"{int(over.sum())} of {len(t)} cutoff rows (latest cutoff "
        rows += f"{pd.Timestamp(t[over].max())})"
    raise SchemaError(
        f"horizon={horizon!r} with gap={gap!r}: the label window of {rows} ends after "
        f"{limit}, the last time pandas can hold, so its outcome can never be "
        "observed. Use a shorter horizon or gap."
    )

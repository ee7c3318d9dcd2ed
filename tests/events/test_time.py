"""Durations (horizons, gaps, windows) and cutoff times: churnkit._time."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from churnkit._time import (
    add_duration,
    duration_label,
    parse_duration,
    subtract_duration,
    to_timestamp,
)
from churnkit.exceptions import ChurnkitTypeError, SchemaError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30D", pd.Timedelta(days=30)),
        ("2W", pd.Timedelta(days=14)),
        ("12h", pd.Timedelta(hours=12)),
        ("30 days", pd.Timedelta(days=30)),
        ("1.5D", pd.Timedelta(hours=36)),
        ("0D", pd.Timedelta(0)),
        (pd.Timedelta("3D"), pd.Timedelta(days=3)),
        (datetime.timedelta(days=2), pd.Timedelta(days=2)),
        (np.timedelta64(1, "D"), pd.Timedelta(days=1)),
    ],
)
def test_exact_spans(value, expected):
    parsed = parse_duration(value, name="horizon")
    assert isinstance(parsed, pd.Timedelta)
    assert parsed == expected


@pytest.mark.parametrize(
    ("value", "moved"),
    [
        # calendar offsets move to the next month / quarter / year start
        ("1MS", pd.Timestamp("2024-02-01")),
        (" 1MS ", pd.Timestamp("2024-02-01")),
        ("2MS", pd.Timestamp("2024-03-01")),
        ("1QS", pd.Timestamp("2024-04-01")),
        ("1YS", pd.Timestamp("2025-01-01")),
        (pd.DateOffset(months=1), pd.Timestamp("2024-02-15")),
        (pd.offsets.MonthBegin(1), pd.Timestamp("2024-02-01")),
    ],
)
def test_calendar_offsets(value, moved):
    parsed = parse_duration(value, name="horizon")
    assert isinstance(parsed, pd.offsets.BaseOffset)
    assert pd.Timestamp("2024-01-15") + parsed == moved


def test_calendar_offset_from_a_month_start_is_one_month():
    parsed = parse_duration("1MS", name="horizon")
    assert pd.Timestamp("2024-02-01") + parsed == pd.Timestamp("2024-03-01")


@pytest.mark.parametrize("value", ["0MS", pd.DateOffset(months=0)])
def test_zero_calendar_gap_is_no_shift(value):
    # MonthBegin(0) would roll 2024-01-15 forward to 2024-02-01
    assert parse_duration(value, name="gap") == pd.Timedelta(0)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("30", r"`horizon` must be a duration with a unit.*got '30'"),
        ("D", r"`horizon` must be a duration with a unit"),
        ("soon", r"`horizon` must be a duration with a unit.*got 'soon'"),
        (30, r"`horizon` must carry a unit.*got 30, which pandas would read as nano"),
        (30.0, r"`horizon` must carry a unit"),
        (-1, r"`horizon` must carry a unit.*got -1"),
        ("-30D", r"`horizon` must be positive; got '-30D'"),
        ("-1MS", r"`horizon` must be positive; got '-1MS'"),
        (pd.DateOffset(months=-1), r"`horizon` must be positive"),
        (pd.Timedelta("-1D"), r"`horizon` must be positive"),
        ("0D", r"`horizon` must be positive; got '0D'"),
        ("0MS", r"`horizon` must be positive; got '0MS'"),
    ],
)
def test_bad_durations(value, match):
    with pytest.raises(SchemaError, match=match):
        parse_duration(value, name="horizon", allow_zero=False)


@pytest.mark.parametrize("value", ["1M", "3M", "1Y", "1Q"])
def test_ambiguous_units(value):
    with pytest.raises(SchemaError, match=rf"`window`='{value}' is ambiguous.*'1MS'"):
        parse_duration(value, name="window")


def test_negative_gap_is_an_error_but_zero_is_allowed():
    assert parse_duration("0D", name="gap") == pd.Timedelta(0)
    with pytest.raises(SchemaError, match=r"`gap` must be non-negative; got '-1D'"):
        parse_duration("-1D", name="gap")


@pytest.mark.parametrize("value", [None, True, ["30D"], {"days": 30}])
def test_wrong_types(value):
    with pytest.raises(ChurnkitTypeError, match=r"`horizon` must be a string"):
        parse_duration(value, name="horizon")


@pytest.mark.parametrize(
    ("duration", "label"),
    [
        (pd.Timedelta("30D"), "30d"),
        (pd.Timedelta("12h"), "12h"),
        (pd.Timedelta("90s"), "90s"),
        (parse_duration("1MS", name="w"), "ms"),
    ],
)
def test_duration_label(duration, label):
    assert duration_label(duration) == label


@pytest.mark.parametrize("duration", ["7D", "1MS"])
def test_add_and_subtract_on_arrays_and_timestamps(duration):
    d = parse_duration(duration, name="window")
    times = np.array(["2024-01-01", "2024-03-01", "2024-01-01"], dtype="datetime64[ns]")
    added = add_duration(times, d)
    assert added.dtype == np.dtype("datetime64[ns]")
    expected = [pd.Timestamp(t) + d for t in times]
    assert list(pd.DatetimeIndex(added)) == expected
    assert add_duration(pd.Timestamp("2024-01-01"), d) == expected[0]
    back = subtract_duration(times, d)
    assert list(pd.DatetimeIndex(back)) == [pd.Timestamp(t) - d for t in times]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01", pd.Timestamp("2024-01-01")),
        ("2024-01-01T02:00:00+02:00", pd.Timestamp("2024-01-01")),
        (pd.Timestamp("2024-01-01", tz="US/Eastern"), pd.Timestamp("2024-01-01 05:00")),
        (datetime.date(2024, 1, 1), pd.Timestamp("2024-01-01")),
    ],
)
def test_to_timestamp(value, expected):
    ts = to_timestamp(value, name="at")
    assert ts == expected
    assert ts.tzinfo is None


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (19970101, r"`at` must be a date such as '2024-01-01'; got the number 1997"),
        (1.5, r"`at` must be a date.*got the number"),
        ("not a date", r"`at` could not be read as a date; got 'not a date'"),
        (None, r"`at` must be a date; got None"),
    ],
)
def test_bad_timestamps(value, match):
    with pytest.raises(SchemaError, match=match):
        to_timestamp(value, name="at")


def test_times_in_a_local_zone_warn_that_periods_are_utc():
    import warnings

    import churnkit as ck
    from churnkit.exceptions import DataQualityWarning

    def berlin(values):
        return pd.to_datetime(values).tz_localize("Europe/Berlin")

    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": berlin(["2024-03-01", "2024-04-01"])}
    )
    with pytest.warns(
        DataQualityWarning,
        match=r"'customers', column 'signup_time' is in Europe/Berlin: times are "
        r"stored in UTC.*df\['signup_time'\] = df\['signup_time'\]\.dt\.tz_localize",
    ):
        events = ck.Events(customers=customers)
    # 2024-03-01 00:00 in Berlin is 2024-02-29 23:00 UTC: the month before
    assert events.customers["signup_time"].iloc[0] == pd.Timestamp("2024-02-29 23:00")
    with warnings.catch_warnings():  # UTC-aware times: nothing to say
        warnings.simplefilter("error", DataQualityWarning)
        utc = customers.assign(
            signup_time=customers["signup_time"].dt.tz_convert("UTC")
        )
        ck.Events(customers=utc)


def test_text_times_with_utc_offsets_warn_like_a_local_zone():
    # a CSV export of London times (+01:00 in summer): a top-up at 00:30 on
    # 06-01 is stored as 05-31 23:30 UTC, in May. Was converted silently
    import warnings

    import churnkit as ck
    from churnkit.exceptions import DataQualityWarning

    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    billing = pd.DataFrame(
        {"customer_id": ["a", "a"], "kind": "payment", "amount": 10.0,
         "time": ["2024-01-15T10:00:00+00:00", "2024-06-01T00:30:00+01:00"]}
    )  # fmt: skip
    with pytest.warns(DataQualityWarning, match=r"local times with UTC offsets") as w:
        events = ck.Events(customers=customers, billing=billing)
    assert "(e.g. +01:00)" in str(w[0].message)
    assert events.frame("billing")["time"].iloc[1] == pd.Timestamp("2024-05-31 23:30")
    # the fix the warning gives reads the wall clock, and UTC text says nothing
    fixed = billing.assign(
        time=pd.to_datetime(
            billing["time"].str.replace(r"\s*(Z|[+-]\d\d:?\d\d)$", "", regex=True)
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        local = ck.Events(customers=customers, billing=fixed)
        ck.Events(customers=customers, billing=billing.iloc[:1])
    assert local.frame("billing")["time"].iloc[1] == pd.Timestamp("2024-06-01 00:30")

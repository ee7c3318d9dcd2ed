"""Rows repeated exactly: counted in a warning (events), refused (churn)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import DataQualityWarning, SchemaError


def _customers():
    return pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": ["2024-01-01", "2024-01-01"]}
    )


def _usage():
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "a", "b"],
            "time": [
                "2024-01-02 10:00",
                "2024-01-03",
                "2024-01-02 10:00",  # same customer and time as row 0 ...
                "2024-01-05",
                "2024-01-03",  # ... and as row 1, other event
            ],
            "event": ["login", "login", "export", "login", "export"],
            "seats": [1.0, np.nan, 1.0, 2.0, np.nan],
        }
    )


def test_rows_at_one_time_that_differ_are_not_repeats():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ck.Events(customers=_customers(), usage=_usage())


def test_a_table_appended_twice_is_counted_and_kept():
    usage = _usage()
    twice = pd.concat([usage, usage.iloc[[0, 1, 3]]], ignore_index=True)
    with pytest.warns(DataQualityWarning) as seen:
        events = ck.Events(customers=_customers(), usage=twice)
    (message,) = [
        str(w.message) for w in seen if "repeat another row" in str(w.message)
    ]
    assert message.startswith(
        "Table 'usage': 3 row(s) repeat another row exactly (same customer, time "
        "and values), e.g.:"
    )
    assert "`df.drop_duplicates()`" in message
    # kept, as given: the warning is the only change
    assert len(events.frame("usage")) == 8
    # rows of two customers at one time are no repeats, nor is a missing value
    # against a present one
    other = _usage()
    other.loc[2, "event"] = "login"
    other.loc[2, "seats"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ck.Events(customers=_customers(), usage=other)


def test_a_churn_row_repeated_is_refused_or_one_is_kept():
    churn = pd.DataFrame({"customer_id": ["a", "a", "b"], "time": ["2024-03-01"] * 3})
    with pytest.raises(
        SchemaError, match=r"1 row\(s\) where the row repeats an earlier"
    ):
        ck.Events(customers=_customers(), usage=_usage(), churn=churn)
    events = ck.Events(  # the churns lie after the usage: said to be observed
        customers=_customers(),
        usage=_usage(),
        churn=churn,
        errors="drop",
        observed_until="2024-04-01",
    )
    assert len(events.churns) == 2  # one churn each; the copy dropped and counted
    report = events.report.set_index("reason")
    assert report.loc["repeated churn row", "rows"] == 1
    # two different times are returns, not copies
    returns = churn.assign(time=["2024-03-01", "2024-04-01", "2024-03-01"])
    with pytest.raises(SchemaError, match="churns more than once"):
        ck.Events(customers=_customers(), usage=_usage(), churn=returns)


def test_a_log_of_dates_repeats_rows_on_busy_days_without_a_warning():
    """CDNOW: two purchases on one day read as the same row once amounts are
    left out; a few such rows are the data, half of them a second copy."""
    days = pd.date_range("2024-01-02", periods=20, freq="D").strftime("%Y-%m-%d")
    usage = pd.DataFrame({"customer_id": "a", "time": days, "event": "purchase"})
    busy = pd.concat([usage, usage.iloc[[3]]], ignore_index=True)  # 1 of 21
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ck.Events(customers=_customers(), usage=busy)
    with pytest.warns(DataQualityWarning, match="20 row"):
        ck.Events(customers=_customers(), usage=pd.concat([usage, usage]))

"""Label windows reaching past pandas' last date (2262-04-11) are an error.

Nanosecond times past ``pd.Timestamp.max`` wrap around to the year 1677, where
the window looks observed: a 100,000-day horizon used to label every row "not
churned". Now the window end is checked before any label is computed.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import SchemaError


def _events():
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": ["2024-01-01", "2024-01-01"]}
    )
    churn = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2024-02-10"], "kind": ["voluntary"]}
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "time": ["2024-01-05", "2024-01-06", "2024-03-01"],
            "event": "login",
        }
    )
    return ck.Events(
        customers=customers, churn=churn, usage=usage, observed_until="2024-04-01"
    )


def _cutoffs(*days):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b"] * len(days),
            "cutoff_time": pd.to_datetime([d for d in days for _ in "ab"]),
        }
    )


@pytest.mark.parametrize(
    ("horizon", "gap"),
    [("100000D", "0D"), ("30D", "100000D"), ("3000MS", "0D"), ("106000D", "700D")],
)
def test_label_churn_window_past_2262_is_an_error(horizon, gap):
    with pytest.raises(SchemaError) as err:
        ck.label_churn(_events(), _cutoffs("2024-01-10"), horizon=horizon, gap=gap)
    msg = str(err.value)
    # a calendar offset raises in pandas for some cutoffs: not counted
    rows = "some of the 2" if horizon.endswith("MS") else "2 of 2"
    assert f"{rows} cutoff rows (latest cutoff 2024-01-10 00:00:00)" in msg
    assert "2262-04-11" in msg and "shorter horizon" in msg
    assert repr(horizon) in msg


def test_label_inactivity_window_past_2262_is_an_error():
    with pytest.raises(SchemaError, match="last time pandas can hold"):
        ck.label_inactivity(_events(), _cutoffs("2024-01-10"), horizon="100000D")


def test_only_the_rows_past_the_range_are_counted():
    # a horizon that fits for the January cutoff and not for the March one
    horizon = pd.Timestamp.max - pd.Timestamp("2024-02-01")
    with pytest.raises(SchemaError) as err:
        ck.label_churn(_events(), _cutoffs("2024-01-10", "2024-03-01"), horizon=horizon)
    assert "2 of 4 cutoff rows" in str(err.value)
    assert "latest cutoff 2024-03-01" in str(err.value)


def test_windows_within_range_are_labelled_as_before():
    # hand-computed: a churns on 2024-02-10; the window is [01-10, 01-10 + h).
    # 30D from 01-10 ends 02-09 (exclusive): a not churned; 31D ends 02-10
    # (exclusive): still not; 32D ends 02-11: a churned. b never churns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        for horizon, a_churned in [("30D", 0), ("31D", 0), ("32D", 1)]:
            labels = ck.label_churn(_events(), _cutoffs("2024-01-10"), horizon=horizon)
            got = dict(zip(labels["customer_id"], labels["churned"], strict=True))
            assert got == {"a": a_churned, "b": 0}, horizon


def test_long_horizon_within_range_is_censored_not_an_error():
    # 50,000 days ends in 2160: inside pandas' range, after observed_until
    with pytest.warns(ck.ChurnkitWarning, match="censored"):
        labels = ck.label_churn(_events(), _cutoffs("2024-01-10"), horizon="50000D")
    assert len(labels) == 0
    assert labels.attrs["excluded"]["censored"] == 2

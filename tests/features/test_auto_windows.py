"""windows="auto": windows chosen at fit from the data's rhythm and the label
horizon (a daily and a quarterly toy log pin the choice), measured on events
before the cutoffs only, kept for scoring."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import churnkit as ck
from churnkit.features._auto_windows import choose_windows, horizon_in_days

START = pd.Timestamp("2022-01-01")
CUTOFF = pd.Timestamp("2024-01-01")


def _log(step_days, n_customers=30, until=CUTOFF, extra=None):
    """Each customer active every ``step_days`` days (offset by its number)."""
    rows = []
    for i in range(n_customers):
        times = pd.date_range(
            START + pd.Timedelta(days=i % step_days), until, freq=f"{step_days}D"
        )
        rows += [(f"c{i}", t + pd.Timedelta("9h"), "buy") for t in times]
    usage = pd.DataFrame(
        rows + list(extra or []), columns=["customer_id", "time", "event"]
    )
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n_customers)],
            "signup_time": START - pd.Timedelta("1D"),
        }
    )
    return ck.Events(customers=customers, usage=usage, observed_until="2026-01-01")


def _X(events, cutoff=CUTOFF):
    return ck.make_cutoffs(events, at=str(cutoff.date()))


def test_daily_log_keeps_7_30_90_days():
    events = _log(1)
    features = ck.ChurnFeatures(events, horizon="30D").fit(_X(events))
    assert features.windows_ == ("7D", "30D", "90D")
    choice = features.window_choice_
    assert choice.typical_gap_days == 1.0
    assert choice.horizon_days == 30.0
    assert "usage__events_7d" in features.get_feature_names_out()


def test_quarterly_log_gets_windows_up_to_a_year():
    events = _log(91)
    features = ck.ChurnFeatures(events).fit(_X(events))
    # a calendar quarter apart: whole months of days (a 90-day window holds
    # no row 91 days after the last)
    assert features.windows_ == ("92D", "184D", "366D")
    assert features.window_choice_.typical_gap_days == 91.0
    assert features.window_choice_.horizon_days is None
    names = set(features.get_feature_names_out())
    assert {"usage__events_92d", "usage__events_184d", "usage__events_366d"} <= names
    assert "usage__events_7d" not in names
    summary = features.window_choice_.summary()
    assert summary.startswith('windows="auto" chose (92D, 184D, 366D): typical gap')
    assert "91.0 days" in summary
    assert features.describe_features().attrs["window_choice"] == summary


def test_horizon_read_from_the_labels():
    """label_inactivity records its horizon; X and y selected from it carry it."""
    events = _log(1)
    cutoffs = ck.make_cutoffs(events, start="2023-06-01", end="2023-09-01")
    labels = ck.label_inactivity(events, cutoffs, horizon="90D")
    assert labels.attrs["horizon"] == "90D"
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    features = ck.ChurnFeatures(events).fit(X, y)
    # daily activity, 90-day horizon: s = 90 / 4 days -> 30, 90, 365
    assert features.windows_ == ("30D", "90D", "365D")
    assert features.window_choice_.horizon_days == 90.0
    # an explicit horizon wins over the labels'
    assert ck.ChurnFeatures(events, horizon="30D").fit(X, y).windows_ == (
        "7D",
        "30D",
        "90D",
    )


def test_only_events_before_the_cutoffs_are_measured():
    """A burst of daily events after the cutoff does not change the choice."""
    burst = [
        (f"c{i}", CUTOFF + pd.Timedelta(days=d), "buy")
        for i in range(30)
        for d in range(200)
    ]
    quiet, noisy = _log(91), _log(91, extra=burst)
    assert (
        ck.ChurnFeatures(quiet).fit(_X(quiet)).windows_
        == ck.ChurnFeatures(noisy).fit(_X(noisy)).windows_
    )
    # the same store, cutoffs after the burst: now the data look daily
    later = ck.make_cutoffs(noisy, at="2024-07-01")
    assert ck.ChurnFeatures(noisy).fit(later).windows_[0] == "7D"


def test_fitted_windows_travel_to_scoring():
    """Scoring a daily extract with a model fitted on quarterly data keeps its
    windows (and columns); nothing is re-chosen at transform."""
    quarterly, daily = _log(91), _log(1)
    features = ck.ChurnFeatures(quarterly).fit(_X(quarterly))
    ck.set_events(features, daily)
    out = features.transform(_X(daily))
    assert list(out.columns) == list(features.get_feature_names_out())
    assert "usage__events_366d" in out.columns
    assert features.windows_ == ("92D", "184D", "366D")
    # the daily customers bought every day: 366 events in 366 days
    assert (out["usage__events_366d"] == 366).all()
    # clone keeps asking for "auto"; the choice is a fitted attribute
    assert clone(features).get_params()["windows"] == "auto"
    assert not hasattr(clone(features), "windows_")


def test_explicit_windows_and_standalone_builders():
    events = _log(91)
    X = _X(events)
    fixed = ck.ChurnFeatures(events, windows=("30D",)).fit(X)
    assert fixed.windows_ == ("30D",) and fixed.window_choice_ is None
    usage = ck.UsageFeatures(events).fit(X)  # its own default: "auto"
    assert usage.windows_ == ("92D", "184D", "366D")
    assert usage.window_choice_.table == "usage"
    billing = ck.BillingFeatures(events, windows="auto").fit(X)  # no billing table
    assert billing.windows_ == ("7D", "30D", "90D")
    assert billing.window_choice_.typical_gap_days is None


def test_the_choice_is_logged(caplog):
    events = _log(91)
    with caplog.at_level(logging.INFO, logger="churnkit"):
        ck.ChurnFeatures(events).fit(_X(events))
    assert any('windows="auto" chose (92D' in r.getMessage() for r in caplog.records)


def test_too_few_repeat_customers_fall_back_to_the_horizon():
    events = _log(91, n_customers=5)  # 5 rows with a gap: fewer than 10
    features = ck.ChurnFeatures(events).fit(_X(events))
    assert features.window_choice_.typical_gap_days is None
    assert features.windows_ == ("7D", "30D", "90D")
    assert "too few customers" in features.window_choice_.summary()


@pytest.mark.parametrize(
    ("gap", "horizon", "expected"),
    [
        (1.0, 30.0, ("7D", "30D", "90D")),
        (None, None, ("7D", "30D", "90D")),
        (14.0, None, ("14D", "60D", "180D")),
        (24.0, None, ("30D", "90D", "365D")),
        (30.4, None, ("31D", "92D", "366D")),
        (91.0, None, ("92D", "184D", "366D")),
        (200.0, None, ("180D", "365D", "730D")),
        (48.0, 273.0, ("60D", "180D", "365D")),  # CDNOW: irregular buyers
        (1.0, 273.0, ("60D", "180D", "365D")),
    ],
)
def test_choose_windows_ladder(gap, horizon, expected):
    assert choose_windows(gap, horizon) == expected


def test_horizon_in_days():
    assert horizon_in_days("30D") == 30.0
    assert horizon_in_days(None) is None
    assert horizon_in_days("1MS") == pytest.approx(365 / 12, abs=0.01)
    assert np.isclose(horizon_in_days(pd.Timedelta("12h")), 0.5)


def test_bad_windows_still_say_what_to_pass():
    events = _log(1)
    with pytest.raises(ck.exceptions.ChurnkitTypeError, match="Did you mean"):
        ck.ChurnFeatures(events, windows="30D").fit(_X(events))


def test_monthly_snapshots_are_counted_in_every_month():
    # a telecom panel: one row per customer on the 1st of each month; a 30-day
    # window held none after a 31-day month (every `*_30d` 0 at the Aug 1,
    # Sep 1, Nov 1 and Jan 1 cutoffs, usage 'down 100 %' for everyone)
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    ids = [f"c{i}" for i in range(20)]
    usage = pd.DataFrame(
        {"customer_id": np.repeat(ids, len(months)),
         "time": np.tile(months, len(ids)), "event": "snapshot"}
    )  # fmt: skip
    customers = pd.DataFrame({"customer_id": ids, "signup_time": "2022-06-01"})
    events = ck.Events(customers=customers, usage=usage, observed_until="2025-01-01")
    train = ck.make_cutoffs(events, start="2023-06-01", end="2024-06-01")
    features = ck.UsageFeatures(events).fit(train)
    assert features.windows_ == ("31D", "92D", "366D")
    X = ck.make_cutoffs(events, start="2024-07-01", end="2025-01-01")
    out = features.transform(X)
    assert (out["usage__events_31d"] == 1).all()
    assert (out["usage__events_92d"] == 3).all()

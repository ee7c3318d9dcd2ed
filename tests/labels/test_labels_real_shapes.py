"""Labels on real-shaped data: date-only logs, renewing subscriptions (issue 15)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitWarning
from tests.shared_data import (
    CDNOW,
    DATASETS,
    FIGHTCHURN,
    cdnow_transactions,
    fightchurn_subscriptions,
)

T = pd.Timestamp


def _log(last):
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "time": ["2024-02-01", "2024-02-10", last],
            "event": "x",
        }
    )
    return ck.Events(customers=customers, usage=usage)


def test_a_date_only_log_runs_to_the_end_of_its_last_day():
    assert _log("2024-03-31").observed_until == T("2024-04-01")


def test_one_time_of_day_keeps_just_after_the_latest_event():
    events = _log("2024-03-31 10:30")
    assert events.observed_until == T("2024-03-31 10:30") + pd.Timedelta(1)


def test_a_label_window_ending_with_the_last_day_is_not_censored():
    events = _log("2024-03-31")
    cutoffs = ck.make_cutoffs(events, at="2024-03-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        labels = ck.label_inactivity(events, cutoffs, horizon="1MS")
    # a is active on 02-01; the window [03-01, 04-01) holds b's purchase only
    assert labels["churned"].tolist() == [1, 0]


def test_the_censoring_warning_says_why_and_how_to_set_observed_until():
    events = _log("2024-03-31")
    cutoffs = ck.make_cutoffs(events, at="2024-03-15")
    with pytest.warns(ChurnkitWarning) as record:
        labels = ck.label_inactivity(events, cutoffs, horizon="30D")
    assert labels.empty and labels.attrs["excluded"] == {"censored": 2}
    message = str(record[0].message)
    assert "`events.observed_until` = 2024-04-01 00:00:00" in message
    assert "not observed yet" in message
    # the fix: the end of the latest censored window, 03-15 + 30D
    assert "observed_until='2024-04-14'" in message
    assert "with_observed_until('2024-04-14')" in message


@pytest.mark.skipif(not CDNOW.exists(), reason="shared data sets absent")
def test_cdnow_39_week_label_needs_no_observed_until():
    raw = cdnow_transactions()
    signup = raw.groupby("customer_id")["time"].min().rename("signup_time")
    events = ck.Events(
        customers=signup.reset_index(),
        usage=raw.assign(event="purchase")[["customer_id", "time", "event"]],
    )
    assert events.observed_until == T("1998-07-01")
    cutoffs = pd.DataFrame(
        {"customer_id": signup.index, "cutoff_time": T("1997-10-01")}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        labels = ck.label_inactivity(events, cutoffs, horizon="273D")
    assert len(labels) == 23_570
    # the README: no purchase in the 39-week holdout for 70.06 % of customers
    holdout = raw[(raw["time"] >= "1997-10-01") & (raw["time"] < "1998-07-01")]
    expected = 23_570 - holdout["customer_id"].nunique()
    assert labels["churned"].sum() == expected
    assert labels["churned"].mean() == pytest.approx(0.7006, abs=5e-5)


def _fightchurn_events():
    subs = fightchurn_subscriptions()
    return subs, ck.Events(subscriptions=subs)


@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_labels_match_the_readme_label():
    subs, events = _fightchurn_events()
    # the subscriptions are dates: the data runs to the end of 2020-07-01, the
    # latest renewal; every current period ends after that
    assert events.observed_until == T("2020-07-02")
    cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        labels = ck.label_churn(events, cutoffs, horizon="1MS")
    # README: churn date = end of the last subscription if before 2020-07-01
    first = pd.to_datetime(subs.groupby("customer_id")["start"].min())
    last = pd.to_datetime(subs.groupby("customer_id")["end"].max())
    churner = last < T("2020-07-01")
    assert churner.sum() == 180
    # every churner who was active at the start of their churn month is a 1
    month = last.dt.to_period("M").dt.to_timestamp()
    expected = churner & (first < month) & (month >= T("2020-02-01"))
    got = labels.loc[labels["churned"] == 1, "customer_id"]
    assert sorted(got) == sorted(expected[expected].index)
    assert got.is_unique


@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_scoring_after_the_data_keeps_customers_mid_period():
    _, events = _fightchurn_events()
    # 1,440 accounts are active at the end; their paid periods end in July,
    # which does not make them churners on 2020-07-15
    today = ck.make_cutoffs(events, at="2020-07-15")
    assert len(today) == 1_440


SAMPLE = DATASETS / "cdnow" / "CDNOW_sample.txt"


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared data sets absent")
def test_cli_trains_scores_and_explains_a_transaction_log(tmp_path, capsys):
    from churnkit.cli import main

    raw = pd.read_csv(
        SAMPLE, sep=r"\s+", header=None,
        names=["master_id", "customer_id", "date", "number_of_cds", "dollar_value"],
    )  # fmt: skip
    raw["time"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    signup = raw.groupby("customer_id")["time"].min().rename("signup_time")
    customers, usage = tmp_path / "customers.csv", tmp_path / "usage.csv"
    signup.reset_index().to_csv(customers, index=False)
    raw.assign(event="purchase", quantity=raw["number_of_cds"])[
        ["customer_id", "time", "event", "quantity"]
    ].to_csv(usage, index=False)
    tables = ["--customers", str(customers), "--usage", str(usage)]
    model = tmp_path / "model.ckm"
    # contractual labels on a log without cancellations: the error names the fix
    train = ["train", *tables, "--model-type", "logistic", "--model", str(model)]
    assert main(train) == 1
    err = capsys.readouterr().err
    assert "record no churn" in err and "--label inactivity --horizon 90D" in err
    assert "Widen" not in err
    label = ["--label", "inactivity"]
    args = ["train", *tables, *label, "--horizon", "90D", "--model-type", "logistic"]
    assert main([*args, "--out", str(model)]) == 0
    assert "Validation on the latest cutoff" in capsys.readouterr().out
    scores = tmp_path / "scores.csv"
    assert main(["score", "--model", str(model), *tables, *label,
                 "--out", str(scores)]) == 0  # fmt: skip
    frame = pd.read_csv(scores)
    # scored: the customers who bought within the 90-day horizon before the
    # scoring day (the end of the data: midnight after the last purchase day);
    # the others have churned already
    at = raw["time"].max() + pd.Timedelta("1D")
    recent = raw[(raw["time"] >= at - pd.Timedelta("90D")) & (raw["time"] < at)]
    assert 0 < len(frame) == recent["customer_id"].nunique() < 2_357
    assert frame["churn_probability"].between(0, 1).all()
    customer = str(frame["customer_id"].iloc[0])
    assert main(["explain", "--model", str(model), *tables, *label,
                 "--customer", customer]) == 0  # fmt: skip
    assert "Risk drivers" in capsys.readouterr().out


def test_a_subscription_starting_after_the_data_is_not_known_yet():
    subs = pd.DataFrame({"customer_id": ["a"], "start": ["2024-03-01"], "end": [None]})
    events = ck.Events(subscriptions=subs, observed_until="2024-02-01")
    assert events.spells.empty and events.churns.empty
    cutoffs = pd.DataFrame({"customer_id": ["a"], "cutoff_time": [T("2024-01-01")]})
    with pytest.warns(ChurnkitWarning):
        labels = ck.label_churn(events, cutoffs, horizon="7D")
    assert labels.attrs["excluded"] == {"not eligible": 1}

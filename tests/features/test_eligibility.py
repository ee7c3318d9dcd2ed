"""Rows nobody should score: after the data, before signup, after a churn."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import DataQualityWarning
from churnkit.features._eligibility import check_rows, ineligible_rows


def _store():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_time": ["2024-01-01", "2024-03-01", "2024-01-01"],
        }
    )
    # c churns on 2024-02-10 and returns on 2024-04-01
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "c"],
            "start": ["2024-01-01", "2024-03-01", "2024-01-01", "2024-04-01"],
            "end": [None, None, "2024-02-10", None],
        }
    )
    usage = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "time": ["2024-02-01"] * 3, "event": "x"}
    )
    return ck.Events(
        customers=customers,
        subscriptions=subs,
        usage=usage,
        observed_until="2024-06-01",
    )


def test_each_kind_of_ineligible_row_by_hand():
    events = _store()
    rows = [
        ("a", "2024-05-01"),  # active: fine
        ("a", "2024-07-01"),  # after the data (2024-06-01)
        ("b", "2024-02-01"),  # before b's signup (2024-03-01)
        ("b", "2024-03-01"),  # at signup: not yet (start < t)
        ("c", "2024-03-01"),  # churned on 02-10, not yet back
        ("c", "2024-02-10"),  # the churn instant: still active (t <= end)
        ("c", "2024-05-01"),  # returned on 04-01: fine
    ]
    ids = np.array([r[0] for r in rows], dtype=object)
    t = pd.to_datetime([r[1] for r in rows]).to_numpy("datetime64[ns]")
    code = events._engine.codes(ids, table="X")
    masks = ineligible_rows(events, code, t.view("int64"))
    assert masks["after_data"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert masks["before_signup"].tolist() == [0, 0, 1, 1, 0, 0, 0]
    assert masks["churned"].tolist() == [0, 0, 0, 0, 1, 0, 0]
    with pytest.warns(DataQualityWarning) as records:
        check_rows(events, ids, t)
    (record,) = records
    message = str(record.message)
    assert "X: 4 of 7 row(s) describe no active customer" in message
    assert "1 with the cutoff after the data ends (e.g. ('a', 2024-07-01))" in message
    assert "2 with the customer not signed up before the cutoff" in message
    assert "1 with the customer already churned at the cutoff" in message
    assert "ck.make_cutoffs(events, at=...)" in message


def test_a_pipeline_warns_when_scoring_such_rows_and_not_otherwise(saas_pipeline):
    model, events = saas_pipeline
    today = ck.make_cutoffs(events, at=events.observed_until)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        model.predict_proba(today.head(20))  # the eligible rows: silent
    late = today.head(2).assign(cutoff_time=events.observed_until + pd.Timedelta("30D"))
    with pytest.warns(DataQualityWarning, match="2 with the cutoff after the data"):
        model.predict_proba(late)


@pytest.fixture(scope="module")
def saas_pipeline():
    data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    events = data.events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cutoffs = ck.make_cutoffs(events, start="2024-09-01", end="2025-03-01")
        labels = ck.label_churn(events, cutoffs, horizon="30D")
        model = ck.make_churn_pipeline(events, model="logistic", random_state=0)
        model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    return model, events

"""Scoring one account at a time gives the rows of scoring them all at once.

A one-account request takes the fast paths (the restricted store, the
feature memo, the matrix DMatrix, the kept Categorical levels and the cached
category maps of the model input); a batch of many accounts takes them or not
by its size. Each account's probability, SHAP values and top drivers must be
the batch's row for it, to the bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import churnkit as ck

pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def scored():
    data = ck.datasets.make_saas_events(n_customers=1_000, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-03-01")
    labels = ck.label_churn(data.events, cutoffs, horizon="60D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    model = ck.make_churn_pipeline(data.events, random_state=0).fit(X, y)
    today = ck.make_cutoffs(data.events, at="2025-04-01")
    batch = today.sample(n=12, random_state=1).reset_index(drop=True)
    return model, batch


def test_one_account_at_a_time_equals_the_batch(scored):
    model, batch = scored
    proba = model.predict_proba(batch)
    explanation = ck.ChurnExplainer(model).explain(batch)
    drivers = explanation.top_drivers(k=3)
    for i in range(len(batch)):
        one = batch.iloc[[i]].reset_index(drop=True)
        np.testing.assert_array_equal(model.predict_proba(one), proba[[i]])
        alone = ck.ChurnExplainer(model).explain(one)
        pd.testing.assert_frame_equal(
            alone.values, explanation.values.iloc[[i]], check_exact=True
        )
        pd.testing.assert_series_equal(
            alone.base_values, explanation.base_values.iloc[[i]], check_exact=True
        )
        pd.testing.assert_frame_equal(
            alone.data, explanation.data.iloc[[i]], check_exact=True
        )
        customer = one["customer_id"].iloc[0]
        want = drivers[drivers["customer_id"] == customer].reset_index(drop=True)
        got = alone.top_drivers(k=3)
        if len(want):
            pd.testing.assert_frame_equal(got, want)
        else:  # no driver passes the rules: no row (an empty column has no dtype)
            assert got.empty and list(got.columns) == list(want.columns)
    assert len(drivers), "the batch must have some drivers to compare"


def test_logistic_reasons_do_not_depend_on_the_batch():
    # the reference is the training mean of the model input (input_mean_),
    # not the mean of the explained rows: one-hot levels included
    data = ck.datasets.make_saas_events(n_customers=400, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-03-01")
    labels = ck.label_churn(data.events, cutoffs, horizon="60D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    model = ck.make_churn_pipeline(
        data.events, model="logistic", calibration=None, random_state=0
    ).fit(X, y)
    clf = model[-1]
    encoded = clf.model_input(model[:-1].transform(X))
    means = encoded.mean()
    assert set(clf.input_mean_) == set(encoded.columns)
    np.testing.assert_allclose(pd.Series(clf.input_mean_)[means.index], means)
    today = ck.make_cutoffs(data.events, at="2025-04-01")
    batch = today.sample(n=40, random_state=1).reset_index(drop=True)
    whole = ck.ChurnExplainer(model).explain(batch)
    half = ck.ChurnExplainer(model).explain(batch.iloc[:7].reset_index(drop=True))
    np.testing.assert_allclose(
        half.values.to_numpy(), whole.values.iloc[:7].to_numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        half.base_values.to_numpy(), whole.base_values.iloc[:7].to_numpy()
    )

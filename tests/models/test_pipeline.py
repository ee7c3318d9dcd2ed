"""The churn pipeline with scikit-learn's tools: clone, GridSearchCV, joblib."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError


@pytest.fixture(scope="module")
def labelled():
    data = ck.datasets.make_saas_events(n_customers=400, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-05-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    return data.events, labels[["customer_id", "cutoff_time"]], labels["churned"]


def test_grid_search_tunes_windows_and_model_together(labelled):
    events, X, y = labelled
    pipe = ck.make_churn_pipeline(events, model="xgboost", random_state=0)
    grid = {
        "features__windows": [("30D",), ("7D", "30D", "90D")],
        "model__calibration": [None, "sigmoid"],
    }
    search = GridSearchCV(
        pipe, grid, cv=ck.CutoffSplit(2, horizon="30D"), scoring="roc_auc"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["features__windows"] in grid["features__windows"]
    # every refit and clone shares the one store
    assert search.best_estimator_.named_steps["features"].events is events
    names = search.best_estimator_.named_steps["features"].get_feature_names_out()
    windows = search.best_params_["features__windows"]
    assert any(n.endswith(f"_{windows[-1].lower()}") for n in names)


def test_cross_validate_and_clone_do_not_copy_events(labelled):
    events, X, y = labelled
    pipe = ck.make_churn_pipeline(events, model="logistic", random_state=0)
    assert clone(pipe).named_steps["features"].events is events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        scores = cross_validate(
            pipe,
            X,
            y,
            cv=ck.CutoffSplit(2, horizon="30D"),
            scoring="roc_auc",
            return_estimator=True,
        )
    assert all(e.named_steps["features"].events is events for e in scores["estimator"])
    assert (scores["test_score"] > 0.5).all()


def test_joblib_round_trip_gives_identical_probabilities(labelled, tmp_path):
    events, X, y = labelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        model = ck.make_churn_pipeline(events, random_state=0).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_unknown_feature_parameter():
    with pytest.raises(ChurnkitTypeError, match="unknown parameter"):
        ck.make_churn_pipeline(None, window=("30D",))

"""Determinism: the same inputs and ``random_state`` give the same results.

Two runs on the same tables, and a run on the same tables with every table's
rows (and the cutoff rows) shuffled, must give identical features, models,
probabilities, ``ck.evaluate`` numbers and explanations, once the outputs are
aligned on (customer_id, cutoff_time).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit import ChurnkitWarning

TABLES = ("customers", "usage", "billing", "support", "churn")
MODELS = ("logistic", "xgboost")
SHUFFLED = 1  # the seed of the shuffled run; None is the original row order


@dataclass
class Run:
    X: pd.DataFrame
    y: pd.Series
    model: object
    features: pd.DataFrame
    proba: pd.Series  # indexed by (customer_id, cutoff_time), in X's order
    scores: pd.Series
    explanation: pd.DataFrame | None


@pytest.fixture(scope="module")
def data(saas):
    """The session's synthetic business (conftest); runs copy its tables."""
    return saas


def _labels(data, seed):
    tables = {name: data[name].copy() for name in TABLES}
    if seed is not None:
        tables = {
            name: df.sample(frac=1, random_state=seed + i)
            for i, (name, df) in enumerate(tables.items())
        }
    events = ck.Events(**tables)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        cutoffs = ck.make_cutoffs(events, start="2024-04-01", end="2025-05-01")
        labels = ck.label_churn(events, cutoffs, horizon="30D")
    if seed is not None:
        labels = labels.sample(frac=1, random_state=seed)
    return events, labels


def _fit(events, labels, model):
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        pipe = ck.make_churn_pipeline(events, model=model, random_state=0).fit(X, y)
    features = pipe[0].transform(X)
    proba = pd.Series(pipe.predict_proba(X)[:, 1], index=features.index)
    scores = ck.evaluate(y.to_numpy(), proba.to_numpy())
    return Run(X, y, pipe, features, proba, scores, _explain(pipe, X))


def _explain(pipe, X):
    return ck.ChurnExplainer(pipe).explain(X).values


@pytest.fixture(scope="module")
def runs(data):
    """{(model, seed, attempt): Run}: two runs in order, one shuffled."""
    out = {}
    for seed, attempt in ((None, 0), (None, 1), (SHUFFLED, 0)):
        events, labels = _labels(data, seed)
        for model in MODELS:
            out[model, seed, attempt] = _fit(events, labels, model)
    return out


def _state(pipe):
    """Everything a fitted pipeline learned, as comparable Python values."""
    clf = pipe[-1]
    state = {
        "features": list(pipe[0].get_feature_names_out()),
        "feature_map": dict(clf.feature_map_),
        "best_iteration": clf.best_iteration_,
        "holdout": {k: v for k, v in clf.holdout_.items() if k != "n_rows"},
        "n_holdout": clf.holdout_["n_rows"],
    }
    if clf.calibrator_ is not None:
        state["calibrator"] = sorted(vars(clf.calibrator_).items())
    if clf.model_kind_ == "xgboost":
        state["booster"] = bytes(clf.estimator_.get_booster().save_raw("json"))
    else:
        state["coef"] = clf.estimator_.coef_.tolist()
        state["intercept"] = clf.estimator_.intercept_.tolist()
        scale = clf.preprocessor_.named_steps["encode"].named_transformers_["num"]
        state["mean"] = scale.named_steps["scale"].mean_.tolist()
        state["median"] = scale.named_steps["impute"].statistics_.tolist()
    return state


@pytest.mark.parametrize("model", MODELS)
def test_two_runs_are_identical(runs, model):
    first, second = runs[model, None, 0], runs[model, None, 1]
    pd.testing.assert_frame_equal(first.features, second.features, check_exact=True)
    assert _state(first.model) == _state(second.model)
    pd.testing.assert_series_equal(first.proba, second.proba, check_exact=True)
    pd.testing.assert_series_equal(first.scores, second.scores, check_exact=True)
    pd.testing.assert_frame_equal(
        first.explanation, second.explanation, check_exact=True
    )


@pytest.mark.parametrize("model", MODELS)
def test_shuffled_tables_and_cutoffs_give_the_same_model(runs, model):
    ordered, shuffled = runs[model, None, 0], runs[model, SHUFFLED, 0]
    assert not ordered.X.index.equals(shuffled.X.index)  # really shuffled
    # features: the same values for every (customer, cutoff), whatever the order
    pd.testing.assert_frame_equal(
        ordered.features.sort_index(), shuffled.features.sort_index(), check_exact=True
    )
    # the fitted model is bit for bit the same ...
    assert _state(ordered.model) == _state(shuffled.model)
    np.testing.assert_array_equal(
        ordered.model.predict_proba(ordered.X), shuffled.model.predict_proba(ordered.X)
    )


@pytest.mark.parametrize("model", MODELS)
def test_shuffled_tables_and_cutoffs_give_the_same_outputs(runs, model):
    ordered, shuffled = runs[model, None, 0], runs[model, SHUFFLED, 0]
    # ... and so are its outputs once aligned; a matrix product over rows in
    # another order may round the last bit differently (BLAS blocking), hence
    # the tolerance of 1e-12 on probabilities, scores and explanations
    a, b = ordered.proba.sort_index(), shuffled.proba.sort_index()
    assert a.index.equals(b.index)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(ordered.scores, shuffled.scores, rtol=1e-12)
    pd.testing.assert_frame_equal(
        ordered.explanation.sort_index(),
        shuffled.explanation.sort_index(),
        check_exact=False,
        rtol=0,
        atol=1e-12,
    )


def test_the_runs_are_not_trivial(runs):
    run = runs["xgboost", None, 0]
    assert run.y.sum() >= 50 and run.y.nunique() == 2
    assert run.proba.nunique() > 100
    assert 0.7 < run.scores["roc_auc"] <= 1

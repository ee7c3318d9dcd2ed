"""sample_weight through ChurnClassifier.fit, its calibrators and pipelines.

Integer weights are checked against duplicated rows (the definition of a
weight), zero weights against dropped rows; metadata routing carries the
weights into cross_validate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, make_scorer
from sklearn.model_selection import cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

import churnkit as ck
from churnkit import ChurnClassifier, CutoffSplit, SchemaError
from churnkit.models._calibration import IsotonicCalibrator, SigmoidCalibrator


def panel(n_customers=300, n_cutoffs=5, seed=0):
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [[f"C{i:04d}" for i in range(n_customers)], cutoffs],
        names=["customer_id", "cutoff_time"],
    )
    n = len(index)
    X = pd.DataFrame(
        {"usage": rng.normal(size=n), "tickets": rng.poisson(1.0, size=n)},
        index=index,
    ).astype(float)
    p = expit(-1.0 - 1.5 * X["usage"] + 0.4 * X["tickets"])
    return X, pd.Series((rng.random(n) < p).astype(int), index=index)


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        return func(*args, **kwargs)


def weights_for(X, seed=1):
    """Weights that matter: heavier for high-usage rows."""
    rng = np.random.default_rng(seed)
    return np.where(X["usage"].to_numpy() > 0, 3.0, 0.5) * rng.uniform(0.5, 1.5)


# --------------------------------------------------------------------------- #
# The classifier
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_unit_weights_change_nothing(model):
    X, y = panel()
    plain = quiet(ChurnClassifier(model, random_state=0).fit, X, y)
    ones = quiet(
        ChurnClassifier(model, random_state=0).fit, X, y, sample_weight=np.ones(len(y))
    )
    np.testing.assert_allclose(
        plain.predict_proba(X), ones.predict_proba(X), rtol=1e-7, atol=1e-10
    )


@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_weights_change_the_model(model):
    X, y = panel()
    plain = quiet(ChurnClassifier(model, random_state=0).fit, X, y)
    weighted = quiet(
        ChurnClassifier(model, random_state=0).fit, X, y, sample_weight=weights_for(X)
    )
    diff = np.abs(plain.predict_proba(X)[:, 1] - weighted.predict_proba(X)[:, 1])
    assert diff.max() > 1e-3


def _unregularized():
    # without a penalty the fit does not depend on the (unweighted) scaling of
    # the preprocessing, so weights and duplicated rows must agree exactly
    return ChurnClassifier(
        LogisticRegression(C=1e10, tol=1e-12, max_iter=10_000), calibration=None
    )


def test_integer_weights_equal_duplicated_rows():
    X, y = panel()
    w = np.random.default_rng(3).integers(1, 4, size=len(y))
    weighted = _unregularized().fit(X, y, sample_weight=w)
    repeat = np.repeat(np.arange(len(y)), w)
    dup = _unregularized().fit(X.iloc[repeat], y.iloc[repeat])
    np.testing.assert_allclose(
        weighted.predict_proba(X), dup.predict_proba(X), rtol=1e-5, atol=1e-8
    )


def test_zero_weights_equal_dropped_rows():
    X, y = panel()
    keep = np.random.default_rng(4).random(len(y)) < 0.7
    weighted = _unregularized().fit(X, y, sample_weight=keep.astype(float))
    dropped = _unregularized().fit(X[keep], y[keep])
    np.testing.assert_allclose(
        weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-5, atol=1e-8
    )


def test_weights_follow_their_rows_when_x_is_shuffled():
    X, y = panel()
    w = weights_for(X)
    a = quiet(ChurnClassifier("xgboost", random_state=0).fit, X, y, sample_weight=w)
    perm = np.random.default_rng(5).permutation(len(y))
    b = quiet(
        ChurnClassifier("xgboost", random_state=0).fit,
        X.iloc[perm],
        y.iloc[perm],
        sample_weight=w[perm],
    )
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)


def test_weights_combine_with_class_weight():
    X, y = panel()
    w = weights_for(X)
    clf = ChurnClassifier("logistic", calibration=None, class_weight={0: 1, 1: 2})
    both = clf.fit(X, y, sample_weight=w)
    by_hand = ChurnClassifier("logistic", calibration=None).fit(
        X, y, sample_weight=w * np.where(y == 1, 2.0, 1.0)
    )
    np.testing.assert_allclose(
        both.estimator_.coef_, by_hand.estimator_.coef_, rtol=1e-6
    )


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.ones(7), r"shape \(7,\), X has 1500 rows"),
        (-np.ones(1500), r"1500 negative, NaN or infinite value\(s\), e.g. at rows"),
        (np.r_[np.nan, np.ones(1499)], r"at rows \[0\] \(\[nan\]\)"),
        (np.zeros(1500), "is all zero"),
    ],
)
def test_bad_weights_are_refused(weights, match):
    X, y = panel()
    with pytest.raises(SchemaError, match=match):
        ChurnClassifier("logistic").fit(X, y, sample_weight=weights)


def test_estimator_without_sample_weight_is_refused():
    X, y = panel()
    clf = ChurnClassifier(KNeighborsClassifier(), calibration=None)
    with pytest.raises(SchemaError, match="KNeighborsClassifier.fit takes no"):
        clf.fit(X, y, sample_weight=weights_for(X))
    clf.fit(X, y)  # unweighted still works


# --------------------------------------------------------------------------- #
# The calibrators
# --------------------------------------------------------------------------- #
@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=30, max_size=30),
    st.integers(0, 2**31 - 1),
)
def test_calibrator_weights_equal_duplicated_rows(counts, seed):
    rng = np.random.default_rng(seed)
    margin = rng.normal(size=30)
    y = (rng.random(30) < expit(2 * margin)).astype(int)
    y[:2] = [0, 1]  # both classes
    w = np.asarray(counts)
    repeat = np.repeat(np.arange(30), w)
    grid = np.linspace(-3, 3, 13)
    a = SigmoidCalibrator().fit(margin, y, sample_weight=w)
    b = SigmoidCalibrator().fit(margin[repeat], y[repeat])
    np.testing.assert_allclose(a.predict(grid), b.predict(grid), atol=1e-5)
    c = IsotonicCalibrator().fit(margin, y, sample_weight=w)
    d = IsotonicCalibrator().fit(margin[repeat], y[repeat])
    inner = np.clip(c.isotonic_.predict(grid) - d.isotonic_.predict(grid), -1, 1)
    np.testing.assert_allclose(inner, 0, atol=1e-9)


def test_calibrator_is_weighted_in_the_classifier():
    X, y = panel()
    w = np.ones(len(y))
    latest = X.index.get_level_values("cutoff_time") == X.index.levels[1].max()
    w[latest & (y.to_numpy() == 1)] = 5.0  # hold-out churners count 5 times
    plain = ChurnClassifier("logistic", random_state=0).fit(X, y)
    weighted = ChurnClassifier("logistic", random_state=0).fit(X, y, sample_weight=w)
    # more (weighted) churners in the hold-out: calibrated probabilities rise
    assert weighted.calibrator_.intercept_ > plain.calibrator_.intercept_ + 0.5


# --------------------------------------------------------------------------- #
# Pipelines, metadata routing, cross_validate
# --------------------------------------------------------------------------- #
def test_pipeline_passes_model_sample_weight(saas, labelled):
    X, y = labelled
    w = np.where(np.arange(len(y)) % 2 == 0, 4.0, 1.0)
    pipe = ck.make_churn_pipeline(saas.events, "logistic", random_state=0)
    plain_proba = quiet(pipe.fit, X, y).predict_proba(X)
    weighted = quiet(
        ck.make_churn_pipeline(saas.events, "logistic", random_state=0).fit,
        X,
        y,
        model__sample_weight=w,
    )
    diff = np.abs(plain_proba - weighted.predict_proba(X))
    assert diff.max() > 1e-4


def test_weighted_cross_validate_with_metadata_routing():
    X, y = panel(n_cutoffs=6)
    w = weights_for(X)
    cv = CutoffSplit(n_splits=3, horizon="1MS")
    with sklearn.config_context(enable_metadata_routing=True):

        def run(params):
            clf = ChurnClassifier("logistic", random_state=0)
            clf.set_fit_request(sample_weight=True)
            pipe = Pipeline([("model", clf)])
            return quiet(
                cross_validate,
                pipe,
                X,
                y,
                cv=cv,
                scoring=make_scorer(
                    log_loss, response_method="predict_proba", greater_is_better=False
                ).set_score_request(sample_weight=True),
                params=params,
                error_score="raise",
            )["test_score"]

        weighted = run({"sample_weight": w})
        plain = run({})
    assert np.isfinite(weighted).all() and np.isfinite(plain).all()
    assert not np.allclose(weighted, plain)


def test_set_fit_request_is_available():
    clf = ChurnClassifier()
    with sklearn.config_context(enable_metadata_routing=True):
        assert clf.set_fit_request(sample_weight=True) is clf
    routing = clf.get_metadata_routing()
    assert routing.fit.requests["sample_weight"] is True

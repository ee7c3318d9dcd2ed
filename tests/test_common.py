"""Every scikit-learn API check, in one place.

scikit-learn's own estimator checks on ChurnClassifier and the feature
builders; clone/get_params/set_params; set_output; the churn pipeline inside
GridSearchCV and cross_validate with CutoffSplit, sharing one Events store;
joblib round trips; the scorer protocol. The behaviour of each stage is tested
in its own folder (tests/models/, tests/features/, ...).
"""

from __future__ import annotations

import copy
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import churnkit as ck
from churnkit import ChurnkitWarning, SchemaError
from churnkit.evaluation import CutoffSplit
from churnkit.models import ChurnClassifier


def _panel(n_customers=300, n_cutoffs=6, seed=0):
    """Features indexed by (customer_id, cutoff_time), as the builders return."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [np.arange(n_customers), cutoffs], names=["customer_id", "cutoff_time"]
    )
    n = len(index)
    X = pd.DataFrame(
        {"usage": rng.normal(size=n), "tickets": rng.poisson(1.0, size=n)},
        index=index,
    ).astype(float)
    p = expit(-1.0 - 1.5 * X["usage"] + 0.4 * X["tickets"])
    y = pd.Series((rng.random(n) < p).astype(int), index=index, name="churned")
    return X, y


def _cutoffs(saas, n=2, at="2024-06-01"):
    """``n`` of the business's customers at one cutoff."""
    ids = saas.customers["customer_id"].iloc[:n]
    return pd.DataFrame({"customer_id": ids, "cutoff_time": pd.Timestamp(at)})


# --------------------------------------------------------------------------- #
# ChurnClassifier
# --------------------------------------------------------------------------- #
@parametrize_with_checks(
    [ChurnClassifier("logistic"), ChurnClassifier("xgboost")],
    expected_failed_checks=lambda est: {
        # a weight of 2 is not a duplicated row here: the hold-out (early
        # stopping, calibration) is drawn from rows, and the preprocessing's
        # scaling is unweighted; tests/models/test_sample_weight.py checks the
        # equivalence where it holds (an unpenalized model, the calibrators)
        "check_sample_weight_equivalence_on_dense_data": (
            "rows, not weights, are split into the hold-out"
        ),
    },
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        check(estimator)


def test_init_only_stores_params():
    clf = ChurnClassifier("nonsense", calibration="bogus", validation_fraction=9)
    assert clf.get_params()["model"] == "nonsense"  # no validation in __init__
    with pytest.raises(SchemaError, match="`model` must be 'xgboost', 'logistic'"):
        clf.fit(np.zeros((4, 1)), [0, 1, 0, 1])


def test_clone_keeps_params():
    clf = ChurnClassifier("logistic", calibration=None, random_state=3)
    assert clone(clf).get_params() == clf.get_params()


# --------------------------------------------------------------------------- #
# Feature builders
# --------------------------------------------------------------------------- #
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_set_params",
    "check_get_params_invariance",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
]
BUILDERS = [
    ck.UsageFeatures,
    ck.BillingFeatures,
    ck.SupportFeatures,
    ck.ProfileFeatures,
    ck.CustomFeatures,
    ck.ChurnFeatures,
]


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("Builder", BUILDERS, ids=lambda b: b.__name__)
def test_sklearn_api_checks(Builder, check, saas):
    getattr(estimator_checks, check)(Builder.__name__, Builder(saas.events))


def test_clone_and_deepcopy_share_the_store(saas):
    events = saas.events
    builder = ck.ChurnFeatures(events)
    assert clone(builder).events is events
    assert copy.deepcopy(builder).events is events
    fitted = clone(builder).fit(_cutoffs(saas, n=1))
    assert all(b.events is events for _, b in fitted.builders_)


def test_clone_of_an_estimator_shares_the_store(saas):
    transformer = FunctionTransformer(kw_args={"events": saas.events})
    assert clone(transformer).kw_args["events"] is saas.events


def test_pipeline_set_output_and_feature_names(saas):
    pipe = Pipeline(
        [
            ("features", ck.ChurnFeatures(saas.events, include=("usage", "billing"))),
            ("id", FunctionTransformer(feature_names_out="one-to-one")),
        ]
    )
    pipe.set_output(transform="pandas")
    out = pipe.fit_transform(_cutoffs(saas))
    assert list(out.columns) == list(pipe[0].get_feature_names_out())
    # names carry one group prefix, never two
    assert all(n.count("__") == 1 for n in out.columns)


# --------------------------------------------------------------------------- #
# Model selection with CutoffSplit
# --------------------------------------------------------------------------- #
def test_cross_validate_with_churn_classifier():
    X, y = _panel()
    cv = CutoffSplit(n_splits=3, horizon="1MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)  # small hold-outs
        result = cross_validate(
            ChurnClassifier("logistic", random_state=0),
            X,
            y,
            cv=cv,
            scoring="roc_auc",
            return_indices=True,
        )
    assert len(result["test_score"]) == 3
    assert (result["test_score"] > 0.7).all()
    times = X.index.get_level_values("cutoff_time")
    test_months = [times[idx].unique().tolist() for idx in result["indices"]["test"]]
    assert test_months == [
        [t] for t in pd.date_range("2024-04-01", periods=3, freq="MS")
    ]


def test_grid_search_with_churn_classifier():
    X, y = _panel(n_customers=200)
    search = GridSearchCV(
        ChurnClassifier(random_state=0),
        {"model": ["logistic", "xgboost"], "calibration": [None]},
        cv=CutoffSplit(n_splits=2, horizon="30D"),
        scoring="roc_auc",
    )
    search.fit(X, y)
    assert search.best_params_["model"] in ("logistic", "xgboost")
    assert search.cv_results_["split1_test_score"].shape == (2,)
    best = search.best_estimator_  # no calibrator; the hold-out chose rounds or C
    assert best.calibrator_ is None and best.holdout_["refit"] is True


def test_grid_search_tunes_windows_and_model_together(saas, labelled):
    events, (X, y) = saas.events, labelled
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


def test_cross_validate_and_clone_do_not_copy_events(saas, labelled):
    events, (X, y) = saas.events, labelled
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


def test_emp_scorer_in_grid_search():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from churnkit.evaluation import emp_score, emp_scorer

    X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, scoring=emp_scorer, cv=3
    ).fit(X, y)
    assert np.isfinite(search.best_score_)
    model = search.best_estimator_
    assert emp_scorer(model, X, y) == pytest.approx(
        emp_score(y, model.predict_proba(X)[:, 1])
    )
    assert ck.emp_scorer is emp_scorer


# --------------------------------------------------------------------------- #
# Pickling
# --------------------------------------------------------------------------- #
def test_joblib_round_trip_gives_identical_probabilities(
    fitted_xgboost, labelled, tmp_path
):
    X, _ = labelled
    path = tmp_path / "model.joblib"
    joblib.dump(fitted_xgboost, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(
        loaded.predict_proba(X), fitted_xgboost.predict_proba(X)
    )


# --------------------------------------------------------------------------- #
# Tags, calibration and Displays on the fitted pipeline
# --------------------------------------------------------------------------- #
def test_sklearn_tags_declare_what_the_estimators_accept(saas):
    from sklearn.base import is_classifier

    tags = ChurnClassifier().__sklearn_tags__()
    assert is_classifier(ChurnClassifier())
    assert tags.classifier_tags.multi_class is False
    assert tags.input_tags.allow_nan and tags.input_tags.string
    assert tags.input_tags.categorical
    for Builder in BUILDERS:
        tags = Builder(saas.events).__sklearn_tags__()
        assert tags.input_tags.two_d_array is False, Builder.__name__
        assert tags.requires_fit is True, Builder.__name__


def test_frozen_pipeline_is_recalibrated_by_calibrated_classifier_cv(
    fitted_logistic, labelled
):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    X, y = labelled
    calibrated = CalibratedClassifierCV(
        FrozenEstimator(fitted_logistic), method="isotonic", ensemble=False
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # isotonic regression keeps the mean of what it was fitted on: the share
    # of churners among the calibration rows
    assert proba[:, 1].mean() == pytest.approx(y.mean(), abs=1e-12)
    # the frozen pipeline was not refitted (conftest checks it too)
    assert calibrated.calibrated_classifiers_[0].estimator.estimator is (
        fitted_logistic
    )


def test_displays_read_the_pipeline_probabilities(fitted_xgboost, labelled):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay, calibration_curve
    from sklearn.metrics import RocCurveDisplay, roc_auc_score

    X, y = labelled
    proba = fitted_xgboost.predict_proba(X)[:, 1]
    roc = RocCurveDisplay.from_estimator(fitted_xgboost, X, y)
    assert roc.roc_auc == pytest.approx(roc_auc_score(y, proba))
    calib = CalibrationDisplay.from_estimator(fitted_xgboost, X, y, n_bins=5)
    prob_true, prob_pred = calibration_curve(y, proba, n_bins=5)
    np.testing.assert_allclose(calib.prob_true, prob_true)
    np.testing.assert_allclose(calib.prob_pred, prob_pred)
    plt.close("all")

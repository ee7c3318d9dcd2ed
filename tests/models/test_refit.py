"""One hold-out pass (rounds + calibrator), then one refit on every row."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import churnkit as ck
from churnkit.models._calibration import choose_holdout
from churnkit.models._xgboost import (
    EARLY_STOPPING_ROUNDS,
    EVAL_EVERY,
    early_stop,
    scaled_rounds,
)


def panel(n_customers=500, n_cutoffs=5, seed=0):
    """A customer x monthly-cutoff table whose churn depends on two columns."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [np.arange(n_customers), cutoffs], names=["customer_id", "cutoff_time"]
    )
    n = len(index)
    X = pd.DataFrame(
        {
            "logins": rng.poisson(5, n).astype(float),
            "tickets": rng.poisson(1, n).astype(float),
            "noise": rng.normal(size=n),
        },
        index=index,
    )
    risk = -0.4 * X["logins"] + 0.8 * X["tickets"] + rng.logistic(size=n)
    y = (risk > np.quantile(risk, 0.8)).astype(int).to_numpy()
    return X, y


@pytest.mark.parametrize(
    "best, n_all, n_train, expected",
    [(100, 2000, 1600, 125), (5, 10, 8, 6), (40, 1000, 1000, 40), (7, 5, 10, 7)],
)
def test_scaled_rounds_by_hand(best, n_all, n_train, expected):
    assert scaled_rounds(best, n_all, n_train) == expected


@pytest.mark.parametrize("model", ["xgboost", "logistic"])
def test_calibration_changes_probabilities_not_the_ranking(model):
    X, y = panel()
    cal = ck.ChurnClassifier(model, random_state=0).fit(X, y)
    raw = ck.ChurnClassifier(model, calibration=None, random_state=0).fit(X, y)
    assert cal.calibrator_ is not None and raw.calibrator_ is None
    assert cal.holdout_["refit"] is True
    # the same base model, refit on every row: calibration is only the map
    np.testing.assert_array_equal(cal.decision_function(X), raw.decision_function(X))
    p_cal, p_raw = cal.predict_proba(X)[:, 1], raw.predict_proba(X)[:, 1]
    assert roc_auc_score(y, p_cal) == pytest.approx(roc_auc_score(y, p_raw), abs=1e-12)
    assert not np.allclose(p_cal, p_raw)


def test_early_stop_picks_the_checked_round_with_the_lowest_holdout_loss():
    X, y = panel()
    clf = ck.ChurnClassifier(random_state=0).fit(X, y)
    Xm = clf.model_input(X)
    split, _ = choose_holdout(X.index, y, 0.2, 0)
    booster, best = early_stop(Xm, y, None, split, seed=3, n_jobs=1)
    grown = booster.num_boosted_rounds()
    assert best % EVAL_EVERY == 0
    assert grown - best >= EARLY_STOPPING_ROUNDS or grown == 1000
    import xgboost as xgb

    dhold = xgb.DMatrix(Xm.iloc[split.hold], enable_categorical=True)
    yh = y[split.hold]
    losses = {}
    for rounds in range(EVAL_EVERY, grown + 1, EVAL_EVERY):
        m = booster.predict(dhold, output_margin=True, iteration_range=(0, rounds))
        m = m.astype("float64")
        losses[rounds] = np.mean(np.logaddexp(0, m) - yh * m)
    assert min(losses, key=losses.get) == best


def test_refit_uses_the_scaled_rounds_on_every_row_and_pickles():
    X, y = panel()
    clf = ck.ChurnClassifier(random_state=0).fit(X, y)
    n_train = len(y) - clf.holdout_["n_rows"]
    expected = scaled_rounds(clf.holdout_["rounds"], len(y), n_train)
    assert clf.best_iteration_ + 1 == expected
    assert clf.estimator_.get_booster().num_boosted_rounds() == expected
    assert clf.estimator_.callbacks is None  # no churnkit object in the model
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_sample_order_does_not_change_the_refit():
    X, y = panel(n_customers=300)
    order = np.random.default_rng(1).permutation(len(y))
    a = ck.ChurnClassifier(random_state=0).fit(X, y)
    b = ck.ChurnClassifier(random_state=0).fit(X.iloc[order], y[order])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))

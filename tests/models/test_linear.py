"""The logistic base model's C, chosen on the hold-out (churnkit.models._linear)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from churnkit.models import ChurnClassifier
from churnkit.models._calibration import Holdout
from churnkit.models._linear import C_GRID, DEFAULT_C, choose_c


def _noisy(n, seed):
    """One weak signal and nine noise columns: a strong penalty generalises."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 10)), columns=[f"x{i}" for i in range(10)])
    y = (0.3 * X["x0"] + rng.logistic(size=n) > 2.0).astype(np.int64).to_numpy()
    return X, y


def test_grid_is_half_decades_from_a_thousandth_to_ten():
    np.testing.assert_allclose(
        C_GRID, [0.001, 0.00316, 0.01, 0.0316, 0.1, 0.316, 1.0, 3.16, 10.0], rtol=1e-2
    )


def test_choose_c_takes_the_lowest_holdout_log_loss():
    X, y = _noisy(600, 0)
    split = Holdout(np.arange(400), np.arange(400, 600), "latest_cutoffs", [])
    est, c = choose_c(X, y, None, split)
    losses = []
    for value in C_GRID:  # cold-start reference fits, the log-loss by hand
        ref = LogisticRegression(C=value, max_iter=1000, tol=1e-10)
        m = ref.fit(X.iloc[:400], y[:400]).decision_function(X.iloc[400:])
        losses.append(np.mean(np.logaddexp(0, m) - y[400:] * m))
    assert c == C_GRID[int(np.argmin(losses))] == est.C
    assert est.warm_start is False


def test_weights_enter_the_holdout_log_loss():
    X, y = _noisy(600, 1)
    split = Holdout(np.arange(400), np.arange(400, 600), "latest_cutoffs", [])
    w = np.ones(600)
    _, plain = choose_c(X, y, None, split)
    _, ones = choose_c(X, y, w, split)
    assert plain == ones  # unit weights change nothing


def test_without_a_holdout_the_logistic_model_keeps_the_default_c():
    X, y = _noisy(60, 2)  # too few churners to hold any out
    clf = ChurnClassifier("logistic", calibration=None).fit(X, y)
    assert clf.holdout_["kind"] is None
    assert clf.estimator_.C == DEFAULT_C

"""ChurnSurvival on data with a known hazard, its sklearn contract and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, NotFittedError, SchemaError

BETA = np.array([0.8, -0.5])
FOLLOW = 120.0  # days of administrative follow-up


def exponential(n=3000, seed=0):
    """Times with hazard exp(x @ BETA) / 40 per day, censored at FOLLOW days."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    plan = rng.choice(["basic", "pro"], n)
    rate = np.exp(x @ BETA + 0.3 * (plan == "basic")) / 40.0
    t = rng.exponential(1 / rate)
    X = pd.DataFrame(
        {"x0": x[:, 0], "x1": x[:, 1], "plan": pd.Categorical(plan)},
        index=pd.Index([f"C-{i}" for i in range(n)], name="customer_id"),
    )
    X.loc[X.index[:50], "x1"] = np.nan  # missing values are allowed
    frame = pd.DataFrame({"duration": np.minimum(t, FOLLOW), "event": (t < FOLLOW)})
    return X, ck.survival_array(frame.astype({"event": int})), rate


@pytest.fixture(scope="module")
def data():
    return exponential()


@pytest.fixture(scope="module", params=["xgboost", "cox", "linear"])
def fitted(request, data):
    X, y, _ = data
    return ck.ChurnSurvival(request.param, random_state=0).fit(X, y)


def test_linear_cox_recovers_the_coefficients(data):
    X, y, _ = data
    model = ck.ChurnSurvival("linear", alpha=0.0).fit(X, y)
    scale = X[["x0", "x1"]].fillna(X["x1"].median()).std(ddof=0).to_numpy()
    np.testing.assert_allclose(model.coef_[["x0", "x1"]] / scale, BETA, atol=0.08)


def test_curves_are_survival_functions_and_calibrated(fitted, data):
    X, y, rate = data
    curves = fitted.predict_survival_function(X.iloc[:200], [1.0, 30.0, 60.0, 119.0])
    S = curves.to_numpy()
    assert ((S >= 0) & (S <= 1)).all()
    assert (np.diff(S, axis=1) <= 1e-12).all()
    assert list(curves.index) == list(X.index[:200])
    # P(churn within h) against the true exponential model, across horizons
    for h in (30, 60, 90):
        p = fitted.predict_proba(X, horizon=f"{h}D")[:, 1]
        truth = 1 - np.exp(-rate * h)
        assert abs(p.mean() - truth.mean()) < 0.03, (h, p.mean(), truth.mean())
        assert np.corrcoef(p, truth)[0, 1] > 0.8
    np.testing.assert_allclose(
        fitted.predict_proba(X.iloc[:5])[:, 1],
        fitted.predict_proba(X.iloc[:5], horizon="30D")[:, 1],
    )


def test_risk_ranks_and_times(fitted, data):
    X, y, rate = data
    c = fitted.score(X, y)
    assert c > 0.7
    assert c == pytest.approx(ck.concordance_index(y, fitted.predict(X)))
    median = fitted.predict_time(X, kind="median")
    mean = fitted.predict_time(X, kind="restricted_mean")
    assert (mean <= FOLLOW + 1e-9).all() and (mean > 0).all()
    finite = np.isfinite(median)
    true_median = np.log(2) / rate
    assert np.corrcoef(median[finite], true_median[finite])[0, 1] > 0.7
    assert (median[~finite] >= 0).all()


def test_sklearn_contract(data):
    X, y, _ = data
    model = ck.ChurnSurvival("cox", horizon="60D", random_state=3)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(X)
    frame = pd.DataFrame({"duration": y["duration"], "event": y["event"].astype(int)})
    a = clone(model).fit(X, y).predict(X.iloc[:20])
    b = clone(model).fit(X, frame).predict(X.iloc[:20])
    np.testing.assert_allclose(a, b)


def test_errors_name_the_fix(data):
    X, y, _ = data
    model = ck.ChurnSurvival("linear").fit(X.iloc[:300], y[:300])
    with pytest.raises(SchemaError, match="longest training follow-up"):
        model.predict_proba(X.iloc[:3], horizon="400D")
    with pytest.raises(SchemaError, match="exact span"):
        model.predict_proba(X.iloc[:3], horizon="1MS")
    # a bare number names the exact span to write, not a calendar one
    with pytest.raises(SchemaError, match=r"must carry a unit: .* '30D'"):
        model.predict_proba(X.iloc[:3], horizon=30)
    with pytest.raises(ChurnkitTypeError, match="survival target"):
        ck.ChurnSurvival().fit(X, np.zeros(len(X)))
    with pytest.raises(SchemaError, match="X has 3000 rows but y has 10"):
        ck.ChurnSurvival().fit(X, y[:10])
    censored = y.copy()
    censored["event"] = False
    with pytest.raises(SchemaError, match="no row of y is an event"):
        ck.ChurnSurvival().fit(X, censored)
    with pytest.raises(SchemaError, match="lacks 1 feature"):
        model.predict(X.drop(columns="x0"))
    with pytest.raises(SchemaError, match="model"):
        ck.ChurnSurvival("weibull").fit(X, y)


def test_in_a_pipeline_on_the_built_in_data():
    from sklearn.pipeline import make_pipeline

    data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = ck.make_cutoffs(data.events, start="2024-01-01", end="2025-03-01")
        frame = ck.label_survival(data.events, grid, max_horizon="180D")
        X = frame[["customer_id", "cutoff_time"]]
        model = make_pipeline(
            ck.ChurnFeatures(data.events, horizon="30D"),
            ck.ChurnSurvival(random_state=0),
        ).fit(X, ck.survival_array(frame))
        p = model.predict_proba(X)[:, 1]
    assert p.shape == (len(X),)
    assert model.score(X, ck.survival_array(frame)) > 0.6

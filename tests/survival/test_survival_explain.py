"""explain_survival: SHAP of the risk score adds up, in risk units and in points."""

from __future__ import annotations

import numpy as np
import pytest
from test_survival_model import exponential

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, SchemaError


@pytest.fixture(scope="module")
def data():
    return exponential(n=1500, seed=1)


@pytest.mark.parametrize("model", ["xgboost", "cox", "linear"])
def test_contributions_add_up_to_the_risk_and_the_probability(data, model):
    X, y, _ = data
    surv = ck.ChurnSurvival(model, random_state=0).fit(X, y)
    horizon = "30D" if model == "xgboost" else "90D"
    explanation = ck.explain_survival(surv, X.iloc[:300], horizon=horizon)
    risk = surv.predict(X.iloc[:300])
    np.testing.assert_allclose(
        explanation.margin, risk, atol=1e-4 * max(1, np.abs(risk).max())
    )
    p = surv.predict_proba(X.iloc[:300], horizon=horizon)[:, 1]
    np.testing.assert_allclose(explanation.probability, p, atol=1e-5)
    total = explanation.base_probability + explanation.probability_values.sum(axis=1)
    np.testing.assert_allclose(total, explanation.probability, atol=1e-9)
    # x0 raises the hazard (beta +0.8): the strongest driver of risky rows
    assert explanation.global_importance()["feature"].iloc[0] == "x0"


def test_linear_values_are_coefficients_times_inputs(data):
    X, y, _ = data
    surv = ck.ChurnSurvival("linear").fit(X, y)
    explanation = ck.explain_survival(surv, X.iloc[:50])
    Xm = surv._input.transform(X.iloc[:50])
    np.testing.assert_allclose(
        explanation.values["x0"], surv.coef_["x0"] * Xm["x0"], atol=1e-12
    )
    plan = [c for c in Xm.columns if c.startswith("plan=")]
    np.testing.assert_allclose(
        explanation.values["plan"],
        (Xm[plan] * surv.coef_[plan]).sum(axis=1),
        atol=1e-12,
    )


def test_errors(data):
    X, y, _ = data
    surv = ck.ChurnSurvival("xgboost", random_state=0).fit(X.iloc[:500], y[:500])
    with pytest.raises(SchemaError, match="first interval"):
        ck.explain_survival(surv, X.iloc[:5], horizon="60D")
    with pytest.raises(ChurnkitTypeError, match="ChurnExplainer"):
        ck.explain_survival(object(), X.iloc[:5])


def test_a_pipeline_reads_the_training_typical_alone_or_in_a_batch():
    from sklearn.pipeline import make_pipeline

    data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2025-03-01")
    frame = ck.label_survival(data.events, cutoffs, max_horizon="180D")
    X, y = frame[["customer_id", "cutoff_time"]], ck.survival_array(frame)
    model = make_pipeline(
        ck.ChurnFeatures(data.events), ck.ChurnSurvival("cox", random_state=0)
    ).fit(X, y)
    today = ck.make_cutoffs(data.events, at="2025-04-01")
    batch = ck.explain_survival(model, today, horizon="90D")
    assert "log relative hazard" in repr(batch)
    shown = batch.top_drivers(k=3)["customer_id"].unique()[:5]
    assert len(shown)
    for customer in shown:
        alone = ck.explain_survival(
            model, today[today["customer_id"] == customer], horizon="90D"
        )
        assert alone.reasons(customer) == batch.reasons(customer)

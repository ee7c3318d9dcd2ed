"""ChurnClassifier(monotone=...): xgboost constrained by each feature's direction."""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit import ChurnkitTypeError, ChurnkitWarning, SchemaError
from churnkit.models import ChurnClassifier
from churnkit.models._monotone import DIRECTIONS_ATTR, contradicted


def u_shaped(seed=0, n=1500):
    """Churn risk U-shaped in ``usage`` (high at both ends), rising in ``tickets``.

    Unconstrained trees learn the U; a model constrained to "risk rises with
    usage" cannot.
    """
    rng = np.random.default_rng(seed)
    usage = rng.uniform(-3, 3, size=n)
    tickets = rng.uniform(0, 5, size=n)
    plan = rng.choice(["basic", "pro"], size=n)
    logit = 1.5 * usage**2 - 4 + 0.8 * tickets - 0.5 * (plan == "pro")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"usage": usage, "tickets": tickets, "plan": pd.Categorical(plan)})
    return X, y


def grid(X, column, n=61):
    """Rows equal to X's first row except ``column``, swept over its range."""
    rows = X.iloc[np.zeros(n, dtype=int)].reset_index(drop=True)
    rows[column] = np.linspace(X[column].min() - 1, X[column].max() + 1, n)
    return rows


def fit(X, y, monotone, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        return ChurnClassifier("xgboost", random_state=0, monotone=monotone, **kw).fit(
            X, y
        )


def test_unconstrained_model_learns_the_u_so_the_check_has_teeth():
    X, y = u_shaped()
    clf = fit(X, y, False)
    margin = clf.decision_function(grid(X, "usage"))
    assert clf.monotone_constraints_ == {}
    assert (np.diff(margin) < -1e-9).any()  # falls on the left arm of the U


@pytest.mark.parametrize(
    ("direction", "sign"), [("higher", 1), ("lower", -1), (1, 1), (-1, -1)]
)
@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", None])
def test_constrained_prediction_is_monotone_in_the_feature(
    direction, sign, calibration
):
    X, y = u_shaped()
    clf = fit(X, y, {"usage": direction}, calibration=calibration)
    assert clf.monotone_constraints_ == {"usage": sign}
    rows = grid(X, "usage")
    margin = clf.decision_function(rows)
    proba = clf.predict_proba(rows)[:, 1]
    assert (sign * np.diff(margin) >= -1e-9).all()
    assert (sign * np.diff(proba) >= -1e-9).all()
    assert np.ptp(margin) > 0  # constrained, not flattened to a constant


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), row=st.integers(0, 299))
def test_monotone_for_any_data_and_any_other_feature_values(seed, row):
    X, y = u_shaped(seed, n=300)
    clf = fit(X, y, {"usage": "higher", "tickets": "lower"})
    for column, sign in (("usage", 1), ("tickets", -1)):
        rows = grid(X.iloc[[row]], column, n=25)
        rows[column] = np.linspace(-5, 7, 25)
        margin = clf.decision_function(rows)
        assert (sign * np.diff(margin) >= -1e-9).all()


def test_true_reads_the_directions_stored_by_the_feature_builder():
    X, y = u_shaped()
    X.attrs[DIRECTIONS_ATTR] = {
        "usage": "higher",
        "tickets": "either",
        "plan": "lower",  # categorical: never constrained
        "gone": "higher",  # not a column of X: ignored
    }
    clf = fit(X, y, True)
    assert clf.monotone_constraints_ == {"usage": 1}
    margin = clf.decision_function(grid(X, "usage"))
    assert (np.diff(margin) >= -1e-9).all()


def test_true_without_directions_warns_and_leaves_the_model_unconstrained():
    X, y = u_shaped()
    with pytest.warns(ChurnkitWarning, match="no feature directions"):
        clf = ChurnClassifier(monotone=True, random_state=0).fit(X, y)
    assert clf.monotone_constraints_ == {}


def test_categorical_column_given_a_direction_is_named_in_a_warning():
    X, y = u_shaped()
    with pytest.warns(ChurnkitWarning, match=r"categorical column.*'plan'"):
        clf = ChurnClassifier(
            monotone={"plan": "higher", "usage": "higher"}, random_state=0
        ).fit(X, y)
    assert clf.monotone_constraints_ == {"usage": 1}


def test_monotone_with_array_input_names_columns_x0_x1():
    X, y = u_shaped()
    clf = fit(X[["usage", "tickets"]].to_numpy(), y, {"x0": "higher"})
    assert clf.monotone_constraints_ == {"x0": 1}


@pytest.mark.parametrize(
    ("monotone", "error", "match"),
    [
        ({"usage": "up"}, SchemaError, "'higher'"),
        ({"usage": True}, SchemaError, "'higher'"),
        ({"usgae": "higher"}, SchemaError, r"not in X: \['usgae'\]"),
        ("higher", ChurnkitTypeError, "'auto', True, False or a dict"),
        (1, ChurnkitTypeError, "'auto', True, False or a dict"),
    ],
)
def test_bad_monotone_is_a_clear_error(monotone, error, match):
    X, y = u_shaped(n=200)
    with pytest.raises(error, match=match):
        ChurnClassifier(monotone=monotone).fit(X, y)


@pytest.mark.parametrize("monotone", [True, {"usage": "higher"}])
def test_monotone_is_for_xgboost_only(monotone):
    X, y = u_shaped(n=200)
    with pytest.raises(SchemaError, match="model='xgboost' only"):
        ChurnClassifier("logistic", monotone=monotone).fit(X, y)


def test_auto_is_the_default_and_does_nothing_without_directions():
    X, y = u_shaped()
    assert ChurnClassifier().monotone == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        plain = ChurnClassifier(random_state=0).fit(X, y)
        logistic = ChurnClassifier("logistic", random_state=0).fit(X, y)
    off = fit(X, y, False)
    assert plain.monotone_constraints_ == logistic.monotone_constraints_ == {}
    np.testing.assert_array_equal(plain.decision_function(X), off.decision_function(X))


def test_auto_uses_stored_directions_and_false_ignores_them():
    X, y = u_shaped()
    X.attrs[DIRECTIONS_ATTR] = {"usage": "higher", "tickets": "higher"}
    assert fit(X, y, "auto").monotone_constraints_ == {"usage": 1, "tickets": 1}
    free = fit(X, y, False)
    assert free.monotone_constraints_ == {}
    assert (np.diff(free.decision_function(grid(X, "usage"))) < -1e-9).any()


@pytest.mark.parametrize("monotone", ["auto", True])
def test_pipeline_constrains_exactly_the_directed_numeric_features(monotone):
    data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    X = ck.make_cutoffs(data.events, start="2024-03-01", end="2024-09-01", freq="MS")
    labels = ck.label_churn(data.events, X, horizon="30D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        model = ck.make_churn_pipeline(
            data.events, random_state=0, monotone=monotone
        ).fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    features = model.named_steps["features"]
    table = features.transform(labels[["customer_id", "cutoff_time"]].head(5))
    desc = ck.describe_features(model).set_index("feature")
    assert table.attrs[DIRECTIONS_ATTR] == desc["direction"].to_dict()
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    sign = {"higher": 1, "lower": -1}
    expected = {
        c: sign[desc.at[c, "direction"]]
        for c in numeric
        if desc.at[c, "direction"] in sign
    }
    clf = model.named_steps["model"]
    # "auto" leaves out what the labels contradict; True keeps every direction
    assert set(clf.monotone_released_) <= set(expected)
    if monotone == "auto":
        expected = {
            c: s for c, s in expected.items() if c not in clf.monotone_released_
        }
    else:
        assert clf.monotone_released_ == {}
    assert expected and clf.monotone_constraints_ == expected
    booster = clf.estimator_.get_booster()
    assert "monotone_constraints" in booster.save_config()


# ------------------------------------------- directions the labels contradict
def errors_and_logins(seed=0, n=2000):
    """Risk rises with ``errors`` and falls with ``logins``; the builder's prior
    reads both as engagement ("lower": fewer is riskier)."""
    rng = np.random.default_rng(seed)
    errors = rng.poisson(2, size=n).astype(float)
    logins = rng.poisson(10, size=n).astype(float)
    logit = 0.8 * errors - 0.3 * logins
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"errors": errors, "logins": logins})
    X.attrs[DIRECTIONS_ATTR] = {"errors": "lower", "logins": "lower"}
    return X, y


def test_contradicted_z_is_the_one_column_auc_in_standard_errors():
    # churners [1, 2, 5] vs stayers [0, 0, 1], twice: mean ranks 0 -> 2.5,
    # 1 -> 6.5, 2 -> 9.5, 5 -> 11.5, so the churners' rank sum R1 = 55 and
    # AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0) = (55 - 21) / 36
    X = pd.DataFrame(
        {"errors": [0, 0, 1, 1, 2, 5] * 2, "logins": [9, 8, 7, 3, 2, 1] * 2}
    )
    y = np.array([0, 0, 0, 1, 1, 1] * 2)
    auc = 34 / 36
    se = np.sqrt(13 / (12 * 36))
    z = contradicted(X, y, {"errors": -1, "logins": -1})
    assert z == {"errors": round(-(auc - 0.5) / se, 2)}  # -2.56
    assert contradicted(X, y, {"errors": 1, "logins": -1}) == {}  # agreeing
    # missing values are left out, not ranked
    X.loc[0, "errors"] = np.nan
    assert list(contradicted(X, y, {"errors": -1})) == ["errors"]


def test_auto_releases_a_direction_the_labels_contradict():
    X, y = errors_and_logins()
    clf = fit(X, y, "auto")
    assert clf.monotone_constraints_ == {"logins": -1}
    assert list(clf.monotone_released_) == ["errors"]
    assert clf.monotone_released_["errors"] < -2
    # the model is free to learn that errors raise the risk
    margin = clf.decision_function(grid(X, "errors"))
    assert margin[-1] > margin[0]


def test_an_unconstrained_model_releases_what_its_reasons_must_not_filter():
    # a logistic model is never constrained, but its reasons read the
    # directions: 'error' events that raise its risk (Sparkify's thumbs down,
    # help, errors) could never be a reason while "lower" held
    X, y = errors_and_logins()
    clf = ChurnClassifier("logistic", random_state=0).fit(X, y)
    assert clf.monotone_constraints_ == {}
    assert list(clf.monotone_released_) == ["errors"]
    margin = clf.decision_function(grid(X, "errors"))
    assert margin[-1] > margin[0]
    plain = ChurnClassifier("logistic", random_state=0, monotone=False).fit(X, y)
    assert plain.monotone_released_ == {}


def test_true_keeps_a_contradicted_direction_and_warns():
    X, y = errors_and_logins()
    with pytest.warns(ChurnkitWarning, match=r"contradict 1 of the directions.*errors"):
        clf = ChurnClassifier("xgboost", random_state=0, monotone=True).fit(X, y)
    assert clf.monotone_constraints_ == {"errors": -1, "logins": -1}
    assert clf.monotone_released_ == {}


def test_reasons_of_a_released_feature_are_not_filtered_by_its_prior():
    from churnkit.explain._explainer import _descriptions

    X, y = errors_and_logins()
    clf = fit(X, y, "auto")
    model = SimpleNamespace(steps=[("model", clf)])
    desc = pd.DataFrame(
        {"feature": ["errors", "logins"], "direction": ["lower", "lower"]}
    )
    with patch("churnkit.features.describe_features", return_value=desc):
        found = _descriptions(model, None)
    assert found.set_index("feature")["direction"].to_dict() == {
        "errors": "either",
        "logins": "lower",
    }
    assert desc["direction"].tolist() == ["lower", "lower"]  # not changed in place


@pytest.mark.parametrize("kind", ["xgboost", "cox"])
def test_survival_auto_releases_a_direction_the_labels_contradict(kind):
    # as for the classifier, tested on churn within the horizon (30 days):
    # the churners leave within 20 days, the others are followed for 60
    X, y = errors_and_logins()
    duration = np.where(y == 1, 1.0 + np.arange(len(y)) % 20, 60.0)
    target = pd.DataFrame({"event": y.astype(bool), "duration": duration})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        model = ck.ChurnSurvival(kind, random_state=0).fit(X, target)
    assert list(model.monotone_released_) == ["errors"]
    assert model.monotone_released_["errors"] < -2
    risk = model.predict_proba(grid(X, "errors"))[:, 1]
    assert risk[-1] > risk[0]  # free to learn that errors raise the risk
    # True keeps it and says so
    with pytest.warns(ChurnkitWarning, match=r"contradict 1 of the directions"):
        kept = ck.ChurnSurvival(kind, random_state=0, monotone=True).fit(X, target)
    assert kept.monotone_released_ == {}

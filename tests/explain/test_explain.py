"""Tests of churnkit.explain: additivity, fast paths, drivers, sentences, plots."""

from __future__ import annotations

import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import churnkit as ck
from churnkit.exceptions import (
    AccountNotFoundError,
    ChurnkitError,
    ChurnkitTypeError,
    ChurnkitWarning,
    NotFittedError,
    SchemaError,
)
from churnkit.explain import ChurnExplainer, Explanation

matplotlib.use("Agg")

T1, T2 = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")
DESCRIPTIONS = pd.DataFrame(
    {
        "feature": [
            "usage__change",
            "billing__failed",
            "support__days_since",
            "billing__flag",
            "profile__plan",
        ],
        "group": ["usage", "billing", "support", "billing", "profile"],
        "unit": ["fraction", "payments", "days", "flag", "category"],
        "direction": ["lower", "higher", "lower", "higher", "either"],
        "template": [
            "usage changed {value:+.0%} vs the previous 30 days "
            "(typical: {typical:+.0%})",
            "{value:.0f} failed payments in the last 90 days",
            "last ticket {value:.0f} days ago (typical: {typical:.0f})",
            "the latest payment attempt failed",
            "on the {value} plan",
        ],
    }
)


def hand_explanation(reference=None):
    """Three rows, five features, values chosen by hand."""
    index = pd.MultiIndex.from_tuples(
        [("C-1", T1), ("C-1", T2), ("C-2", T1)], names=["customer_id", "cutoff_time"]
    )
    data = pd.DataFrame(
        {
            "usage__change": [-0.62, 0.10, np.nan],
            "billing__failed": [2.0, 0.0, 1.0],
            "support__days_since": [np.nan, 12.0, 3.0],
            "billing__flag": [1.0, 0.0, 0.0],
            "profile__plan": pd.Categorical(["pro", "starter", None]),
        },
        index=index,
    )
    values = np.array(
        [
            [0.5, 1.0, -0.2, 0.25, 0.0],
            [-0.3, -0.1, 0.0, -0.4, 0.05],
            [0.2, 0.4, 0.1, -0.1, 0.3],
        ]
    )
    return Explanation(
        values,
        np.full(3, -2.0),
        data,
        calibrate=expit,
        descriptions=DESCRIPTIONS,
        reference=reference,
        model_kind="xgboost",
        method="tree_shap",
    )


# --------------------------------------------------------------------------- #
# Fixtures: the session's churn business and its fitted pipelines (conftest)
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def business(saas, labelled):
    X, y = labelled
    return saas.events, X, y


@pytest.fixture(scope="module")
def pipelines(fitted_xgboost, fitted_logistic):
    return {"xgboost": fitted_xgboost, "logistic": fitted_logistic}


@pytest.fixture(scope="module")
def explained(pipelines, business):
    _, X, _ = business
    rows = X.tail(400)
    return {
        kind: (rows, ChurnExplainer(model).explain(rows))
        for kind, model in pipelines.items()
    }


def numeric_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.poisson(2.0, size=n).astype(float),
        }
    )
    X.loc[::9, "b"] = np.nan
    logit = 1.2 * X["a"] - 0.8 * X["b"].fillna(0) + 0.3 * X["c"] - 1
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


# --------------------------------------------------------------------------- #
# Explanations add up
# --------------------------------------------------------------------------- #
def test_xgboost_pipeline_adds_up_to_the_margin(pipelines, explained):
    rows, ex = explained["xgboost"]
    margin = pipelines["xgboost"].decision_function(rows)
    total = ex.base_values.to_numpy() + ex.values.to_numpy().sum(axis=1)
    assert np.all(np.abs(total - margin) <= 1e-5 * np.maximum(1, np.abs(margin)))
    assert ex.values.shape == (
        len(rows),
        len(ck.describe_features(pipelines["xgboost"])),
    )
    assert ex.method == "tree_shap" and ex.model_kind == "xgboost"


def test_logistic_pipeline_adds_up_to_the_margin(pipelines, explained):
    rows, ex = explained["logistic"]
    margin = pipelines["logistic"].decision_function(rows)
    np.testing.assert_allclose(ex.margin.to_numpy(), margin, rtol=0, atol=1e-9)
    # one-hot levels and missing indicators are summed back to their feature
    assert list(ex.values.columns) == list(ex.data.columns)
    assert ex.method == "linear"


@pytest.mark.parametrize("kind, atol", [("xgboost", 1e-6), ("logistic", 1e-12)])
def test_probability_points_add_up_to_predict_proba(pipelines, explained, kind, atol):
    rows, ex = explained[kind]
    proba = pipelines[kind].predict_proba(rows)[:, 1]
    total = ex.base_probability + ex.probability_values.sum(axis=1)
    np.testing.assert_allclose(total.to_numpy(), proba, rtol=0, atol=atol)
    np.testing.assert_allclose(ex.probability.to_numpy(), proba, rtol=0, atol=atol)
    # each feature keeps the sign of its log-odds contribution
    same = np.sign(ex.probability_values.to_numpy()) == np.sign(ex.values.to_numpy())
    assert same[ex.values.to_numpy() != 0].all()


def test_probability_rule_is_the_secant_slope():
    ex = hand_explanation()
    margin = -2.0 + np.array([1.55, -0.75, 0.9])
    slope = (expit(margin) - expit(-2.0)) / (margin + 2.0)
    np.testing.assert_allclose(
        ex.probability_values.to_numpy(), ex.values.to_numpy() * slope[:, None]
    )
    np.testing.assert_allclose(ex.base_probability.to_numpy(), expit(-2.0))


def test_explaining_a_subset_gives_the_same_rows(pipelines, explained):
    rows, ex = explained["xgboost"]
    part = ChurnExplainer(pipelines["xgboost"]).explain(rows.iloc[[5, 17]])
    pd.testing.assert_frame_equal(part.values, ex.values.iloc[[5, 17]])


# --------------------------------------------------------------------------- #
# Fast paths
# --------------------------------------------------------------------------- #
def test_tree_shap_equals_shap_tree_explainer():
    import shap
    from xgboost import XGBClassifier

    X, y = numeric_table()
    model = XGBClassifier(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
    reference = shap.TreeExplainer(model)
    ex = ChurnExplainer(model).explain(X.iloc[:100])
    np.testing.assert_allclose(
        ex.values.to_numpy(), reference.shap_values(X.iloc[:100]), atol=1e-5
    )
    np.testing.assert_allclose(
        ex.base_values.to_numpy(), float(reference.expected_value), atol=1e-5
    )
    # a numpy matrix and a bare Booster give the same numbers
    booster_ex = ChurnExplainer(model.get_booster()).explain(X.to_numpy()[:100])
    np.testing.assert_allclose(booster_ex.values.to_numpy(), ex.values.to_numpy())
    assert booster_ex.feature_names == ["a", "b", "c"]


def test_churn_classifier_xgboost_uses_trees_up_to_best_iteration():
    import shap

    X, y = numeric_table(n=1500)
    clf = ck.ChurnClassifier("xgboost", calibration=None, random_state=0).fit(X, y)
    ex = ChurnExplainer(clf).explain(X.iloc[:50])
    booster = clf.estimator_.get_booster()[: clf.best_iteration_ + 1]
    reference = shap.TreeExplainer(booster).shap_values(X.iloc[:50])
    np.testing.assert_allclose(ex.values.to_numpy(), reference, atol=1e-5)
    margin = clf.decision_function(X.iloc[:50])
    assert np.all(
        np.abs(ex.margin.to_numpy() - margin) <= 1e-5 * np.maximum(1, abs(margin))
    )


def test_logistic_closed_form_by_hand():
    X, y = numeric_table()
    X["plan"] = pd.Categorical(np.where(np.arange(len(X)) % 3 == 0, "pro", "starter"))
    clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    background = X.iloc[:200]
    ex = ChurnExplainer(clf, background=background).explain(X.iloc[200:210])
    Xm = clf.model_input(X.iloc[200:210]).to_numpy()
    ref = clf.model_input(background).to_numpy().mean(axis=0)
    coef, intercept = clf.estimator_.coef_[0], clf.estimator_.intercept_[0]
    by_column = coef * (Xm - ref)  # b has a missing indicator, plan two levels
    columns = list(clf.model_input(X.iloc[:1]).columns)
    expected = {
        f: by_column[:, [clf.feature_map_[c] == f for c in columns]].sum(axis=1)
        for f in ["a", "b", "c", "plan"]
    }
    for f, v in expected.items():
        np.testing.assert_allclose(ex.values[f].to_numpy(), v, atol=1e-12)
    np.testing.assert_allclose(ex.base_values.to_numpy(), intercept + coef @ ref)
    assert len(columns) == 6  # a, b, c, b's missing indicator, plan=pro, plan=starter


def test_logistic_default_reference_is_the_training_mean():
    X, y = numeric_table()
    clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    one = ChurnExplainer(clf).explain(X.iloc[:1])
    # scaled columns: the training mean is 0, so one row is not its own reference
    coef = clf.estimator_.coef_[0]
    np.testing.assert_allclose(
        one.values.sum(axis=1).to_numpy(), clf.model_input(X.iloc[:1]).to_numpy() @ coef
    )
    np.testing.assert_allclose(one.base_values.to_numpy(), clf.estimator_.intercept_[0])


@pytest.mark.parametrize("n_columns", [3, 12])
def test_generic_estimator_adds_up(n_columns):
    from sklearn.naive_bayes import GaussianNB  # forests now use TreeSHAP

    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        rng.normal(size=(300, n_columns)), columns=[f"x{i}" for i in range(n_columns)]
    )
    y = (X["x0"] + rng.normal(size=300) > 0.5).astype(int)
    clf = ck.ChurnClassifier(GaussianNB(), calibration=None).fit(X, y)
    explainer = ChurnExplainer(clf, background=X.iloc[:50])
    ex = explainer.explain(X.iloc[:5])
    np.testing.assert_allclose(
        ex.margin.to_numpy(), clf.decision_function(X.iloc[:5]), atol=1e-9
    )
    assert ex.method == ("shap_exact" if n_columns <= 10 else "shap_permutation")
    assert (
        ex.values["x0"].abs().mean() > ex.values.drop(columns="x0").abs().mean().max()
    )


def test_static_table_index_and_reasons():
    X, y = numeric_table()
    X.index = [f"C-{i}" for i in range(len(X))]
    clf = ck.ChurnClassifier("xgboost", calibration=None, random_state=0).fit(X, y)
    ex = ChurnExplainer(clf).explain(X)
    assert ex.values.index.equals(X.index)
    drivers = ex.top_drivers(k=2)
    assert list(drivers.columns[:2]) == ["customer_id", "rank"]
    first = drivers["customer_id"].iloc[0]
    sentence = ex.reasons(first, k=1)
    assert sentence == [drivers["reason"].iloc[0]]
    assert sentence[0].startswith(f"{drivers['display_name'].iloc[0]}: ")
    with pytest.raises(ChurnkitTypeError, match="`cutoff_time` applies to rows"):
        ex.reasons(first, cutoff_time="2025-01-01")


# --------------------------------------------------------------------------- #
# What a user reads
# --------------------------------------------------------------------------- #
def test_top_drivers_by_hand():
    drivers = hand_explanation().top_drivers(k=2)
    assert list(drivers.columns) == [
        "customer_id",
        "cutoff_time",
        "rank",
        "feature",
        "value",
        "contribution",
        "group",
        "reason",
        "display_name",
        "reference",
        "value_text",
        "reference_text",
    ]
    # row 1: billing 1.0, usage 0.5 (flag 0.25 cut by k); row 2: its probability
    # expit(-2.75) = 6.0% is below the base expit(-2) = 11.9%: no risk reasons;
    # row 3: billing 0.4, plan 0.3 (missing)
    assert drivers["feature"].tolist() == [
        "billing__failed",
        "usage__change",
        "billing__failed",
        "profile__plan",
    ]
    assert drivers["rank"].tolist() == [1, 2, 1, 2]
    assert drivers["contribution"].tolist() == [1.0, 0.5, 0.4, 0.3]
    assert drivers["group"].tolist() == ["billing", "usage", "billing", "profile"]
    assert drivers["customer_id"].tolist() == ["C-1", "C-1", "C-2", "C-2"]
    assert drivers["value"].tolist()[:2] == [2.0, -0.62]
    assert drivers["value_text"].tolist() == ["2", "-62%", "1", ""]
    assert drivers["reason"].tolist() == [
        "2 failed payments in the last 90 days",
        "Usage changed -62% vs the previous 30 days",
        "1 failed payments in the last 90 days",
        "No plan recorded",
    ]


def test_protective_drivers_by_hand():
    ex = hand_explanation()
    protective = ex.top_drivers(k=5, protective=True)
    # C-1 at T2 lowers its risk 11.9% -> 6.0% over 0.75 log-odds (7.9 points
    # per unit): billing__failed's -0.1 is 0.79 points, under the 1-point
    # threshold every reason must reach; C-2's -0.1 is 1.46 points (14.6 per unit)
    assert protective["feature"].tolist() == [
        "support__days_since",
        "billing__flag",
        "usage__change",
        "billing__flag",
    ]
    assert protective["contribution"].tolist() == [-0.2, -0.4, -0.3, -0.1]
    assert ex.protective("C-1", "2025-02-01") == [
        "It is not the case that the latest payment attempt failed",
        "Usage changed +10% vs the previous 30 days",
    ]
    assert ex.reasons("C-1", T2, protective=True, k=1) == ex.protective("C-1", k=1)


def test_reasons_pick_the_latest_cutoff_and_read_missing_values():
    ex = hand_explanation()
    assert ex.reasons("C-1") == ["No strong risk drivers"]  # latest cutoff: T2
    assert ex.reasons("C-1", "2025-01-01", k=None) == [
        "2 failed payments in the last 90 days",
        "Usage changed -62% vs the previous 30 days",
        "The latest payment attempt failed",
    ]
    assert ex.protective("C-1", T1) == ["No ticket on record"]
    assert ex.reasons("C-2", k=None) == [
        "1 failed payments in the last 90 days",
        "No plan recorded",
        "No full previous 30 days of usage to compare with",
        "Last ticket 3 days ago",
    ]
    for protective in (False, True):
        for sentence in ex.top_drivers(k=5, protective=protective)["reason"]:
            assert "nan" not in sentence and not sentence[0].islower()


def test_typical_comes_from_the_reference_rows():
    reference = pd.DataFrame(
        {
            "usage__change": np.linspace(-0.1, 0.16, 40),
            "support__days_since": np.r_[np.arange(39.0), np.nan],
            "billing__failed": np.zeros(40),
        }
    )
    ex = hand_explanation(reference=reference)
    assert ex.reasons("C-1", T1, k=2)[1] == (
        "Usage changed -62% vs the previous 30 days (typical: +3%)"
    )
    assert ex.protective("C-1", T1) == [
        "No ticket on record (typical: last ticket 19 days ago)"
    ]
    # without a reference and with fewer than 30 rows, "typical" is left out
    assert hand_explanation().reasons("C-1", T1, k=2)[1].endswith("30 days")


def test_reasons_on_a_real_pipeline(explained):
    rows, ex = explained["xgboost"]
    drivers = ex.top_drivers(k=3)
    assert (drivers["contribution"] > 0).all()
    assert drivers.groupby(["customer_id", "cutoff_time"])["rank"].max().max() <= 3
    assert set(drivers["group"]) <= {"usage", "billing", "support", "profile"}
    for sentence in drivers["reason"]:
        assert "nan" not in sentence.lower().split() and not sentence[0].islower()
        assert "{" not in sentence
    customer = rows["customer_id"].iloc[-1]
    latest = ex.top_drivers(k=3).query("customer_id == @customer")
    latest = latest[latest["cutoff_time"] == latest["cutoff_time"].max()]
    assert ex.reasons(customer) == (
        latest["reason"].tolist() or ["No strong risk drivers"]
    )


def test_unknown_account_and_cutoff_errors():
    ex = hand_explanation()
    with pytest.raises(AccountNotFoundError, match=r"Account 'C-9' is not among the 3"):
        ex.reasons("C-9")
    with pytest.raises(KeyError, match=r"e\.g\. 'C-1', 'C-2'"):
        ex.plot("C-9")
    with pytest.raises(ChurnkitError, match=r"no explained row at cutoff '2024-05-01'"):
        ex.reasons("C-2", "2024-05-01")
    with pytest.raises(SchemaError, match="`cutoff_time` must be a date"):
        ex.reasons("C-2", "not a date")


def test_by_group_and_global_importance_by_hand():
    ex = hand_explanation()
    groups = ex.by_group()
    assert list(groups.columns) == ["usage", "billing", "support", "profile"]
    np.testing.assert_allclose(groups["billing"].to_numpy(), [1.25, -0.5, 0.3])
    np.testing.assert_allclose(groups.sum(axis=1), ex.values.sum(axis=1))
    imp = ex.global_importance()
    assert imp["feature"].iloc[0] == "billing__failed"
    np.testing.assert_allclose(imp["importance"].iloc[0], 1.5 / 3)
    assert imp["share"].sum() == pytest.approx(1.0)
    by_group = ex.global_importance(by="group")
    assert by_group.set_index("group").loc["billing", "importance"] == pytest.approx(
        2.05 / 3
    )
    points = ex.by_group(scale="probability")
    np.testing.assert_allclose(points.sum(axis=1), ex.probability - ex.base_probability)


def test_tables_are_indexed_like_the_features(explained):
    rows, ex = explained["logistic"]
    for table in (ex.values, ex.data, ex.probability_values, ex.by_group()):
        assert table.index.names == ["customer_id", "cutoff_time"]
        assert len(table) == len(rows)
    for series in (ex.base_values, ex.margin, ex.probability, ex.base_probability):
        assert series.index.equals(ex.values.index)
    assert len(ex) == len(rows)


def test_repr():
    assert repr(hand_explanation()) == (
        "<Explanation: 3 accounts x 5 features, model='xgboost' (tree_shap), "
        "base value -2.000 log-odds>"
    )


# --------------------------------------------------------------------------- #
# shap and plots
# --------------------------------------------------------------------------- #
def test_to_shap_works_with_shap_plots(explained):
    import matplotlib.pyplot as plt
    import shap

    _, ex = explained["xgboost"]
    sv = ex.to_shap()
    assert sv.values.shape == ex.values.shape
    assert sv.base_values.shape == (len(ex),)
    assert sv.feature_names == ex.feature_names
    assert sv.data.dtype == np.float64  # categorical levels as codes
    shap.plots.bar(sv, show=False)
    plt.close("all")
    shap.plots.waterfall(sv[0], show=False)
    plt.close("all")
    shap.plots.beeswarm(ex.to_shap(scale="probability"), show=False)
    plt.close("all")


def test_plots_draw_on_the_given_axes(explained, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show called"))
    rows, ex = explained["xgboost"]
    fig, (ax1, ax2) = plt.subplots(1, 2)
    customer = rows["customer_id"].iloc[0]
    assert ex.plot(customer, ax=ax1, max_display=6) is ax1
    labels = [t.get_gid() for t in ax1.texts if t.get_ha() == "left"]
    assert len(labels) == 6 and labels[0].endswith("other features")
    assert all(" = " in label for label in labels[1:])
    assert customer in ax1.get_title()
    assert ex.plot_global(ax=ax2, by="group") is ax2
    assert len(ax2.patches) == 4
    plt.close(fig)
    fig = plt.figure()
    assert ex.plot(customer, scale="probability") is plt.gca()
    plt.close(fig)


def test_waterfall_bars_walk_from_base_to_margin():
    import matplotlib.pyplot as plt

    ex = hand_explanation()
    fig, ax = plt.subplots()
    ex.plot("C-1", T1, ax=ax, max_display=10, scale="log-odds", display_names=False)
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    assert bars[0].get_x() == pytest.approx(-2.0)
    end = bars[-1].get_x() + bars[-1].get_width()
    assert end == pytest.approx(ex.margin.iloc[0])
    assert "usage__change = -62%" in [t.get_gid() for t in ax.texts]
    plt.close(fig)


# --------------------------------------------------------------------------- #
# Errors and imports
# --------------------------------------------------------------------------- #
def test_bad_models_raise_clear_errors(business):
    events, X, y = business
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ChurnExplainer(ck.make_churn_pipeline(events))
    with pytest.raises(ChurnkitTypeError, match="not the class ChurnClassifier"):
        ChurnExplainer(ck.ChurnClassifier)
    with pytest.raises(ChurnkitTypeError, match="got LogisticRegression"):
        from sklearn.linear_model import LogisticRegression

        ChurnExplainer(LogisticRegression())
    fitted = ck.ChurnClassifier("logistic").fit(*numeric_table())
    with pytest.raises(SchemaError, match="`descriptions` must be a DataFrame"):
        ChurnExplainer(fitted, descriptions={"a": 1})


def test_bad_arguments_raise_clear_errors(explained):
    rows, ex = explained["xgboost"]
    with pytest.raises(
        SchemaError, match="`scale` must be 'log-odds' or 'probability'; got 'odds'"
    ):
        ex.by_group(scale="odds")
    with pytest.raises(SchemaError, match="`k` must be a positive integer; got 0"):
        ex.top_drivers(k=0)
    with pytest.raises(SchemaError, match="`by` must be 'feature' or 'group'"):
        ex.global_importance(by="customer")
    with pytest.raises(SchemaError, match="X has no rows"):
        ChurnExplainer(ck.ChurnClassifier("logistic").fit(*numeric_table())).explain(
            numeric_table()[0].iloc[:0]
        )


def test_non_binary_booster_is_refused():
    import xgboost as xgb

    X, _ = numeric_table(n=100)
    booster = xgb.train(
        {"objective": "reg:squarederror"},
        xgb.DMatrix(X, label=X["a"]),
        num_boost_round=2,
    )
    with pytest.raises(SchemaError, match="objective is 'reg:squarederror'"):
        ChurnExplainer(booster)


def test_heavy_dependencies_are_imported_lazily():
    code = (
        "import sys, churnkit.explain; "
        "heavy = ('shap', 'xgboost', 'matplotlib'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


# --------------------------------------------------------------------------- #
# Faithfulness on planted causes (benchmarks/explain_faithfulness.py, smaller)
# --------------------------------------------------------------------------- #
def test_top_reason_matches_the_planted_cause():
    sys.path.insert(0, "benchmarks")
    from explain_faithfulness import faithfulness, split_labels

    data = ck.datasets.make_saas_events(n_customers=3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        train, test = split_labels(data)
        model = ck.make_churn_pipeline(data.events, random_state=0)
        model.fit(train[["customer_id", "cutoff_time"]], train["churned"])
    table, _ = faithfulness(model, test, data.truth)
    assert len(table) >= 80
    assert table["hit"].mean() >= 0.75

"""Reasons a customer-success manager can act on (issue 14).

Direction and mirror rules, references by tenure band, numbers by unit, phrased
missing values, the probability-point threshold, and the measured check on the
three data sets (slow).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

import churnkit as ck
from churnkit import Explanation
from churnkit._stats import middle_value
from churnkit.exceptions import SchemaError
from churnkit.explain._format import text, unit_kind
from churnkit.explain._text import Sentence, missing_phrase
from churnkit.features._naming import display_name
from churnkit.features._reference import tenure_band, typical_by_band, typical_rows

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def one_feature(values, contributions, typical, *, direction="lower", unit="events",
                template="logins in the last 30 days: {value:.0f} (typical: "
                "{typical:.0f})", base=-1.0, **kwargs):  # fmt: skip
    n = len(values)
    index = pd.Index([f"C-{i}" for i in range(n)], name="customer_id")
    data = pd.DataFrame({"usage__logins": np.asarray(values, float)}, index=index)
    desc = pd.DataFrame(
        {
            "feature": ["usage__logins"],
            "group": ["usage"],
            "unit": [unit],
            "direction": [direction],
            "template": [template],
        }
    )
    return Explanation(
        np.asarray(contributions, float)[:, None],
        np.full(n, base),
        data,
        calibrate=expit,
        descriptions=desc,
        typical=pd.DataFrame({"usage__logins": typical}, index=index),
        **kwargs,
    )


# ----------------------------------------------------------------- deliverable 1
def test_a_risk_reason_states_a_value_on_the_risky_side():
    # direction "lower": fewer logins = more risk; reference 9 for every row
    ex = one_feature([1.0, 30.0, 9.0], [0.8, 0.8, 0.8], [9.0, 9.0, 9.0])
    assert ex.reasons("C-0") == ["Logins in the last 30 days: 1 (typical: 9)"]
    assert ex.reasons("C-1") == ["No strong risk drivers"]  # 30 > 9: safe side
    assert ex.reasons("C-2") == ["No strong risk drivers"]  # equals reference
    drivers = ex.top_drivers()
    assert drivers["customer_id"].tolist() == ["C-0"]
    assert drivers["reference"].tolist() == [9.0]
    assert drivers["reference_text"].tolist() == ["9"]


def test_protective_reasons_obey_the_mirror_rule():
    # base expit(1) = 73%; contributions -0.8 lower the probability
    ex = one_feature([1.0, 30.0], [-0.8, -0.8], [9.0, 9.0], base=1.0)
    assert ex.protective("C-1") == ["Logins in the last 30 days: 30 (typical: 9)"]
    assert ex.protective("C-0") == ["No strong protective drivers"]
    higher = one_feature([1.0, 30.0], [0.8, 0.8], [9.0, 9.0], direction="higher")
    assert higher.reasons("C-1") == ["Logins in the last 30 days: 30 (typical: 9)"]
    assert higher.reasons("C-0") == ["No strong risk drivers"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 50, allow_nan=False),
            st.floats(-2, 2, allow_nan=False),
            st.floats(0, 50, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["lower", "higher", "either"]),
)
def test_no_reason_contradicts_itself(rows, direction):
    values, contribs, typical = map(np.array, zip(*rows, strict=True))
    ex = one_feature(values, contribs, typical, direction=direction, min_points=0)
    for protective, sign in ((False, 1), (True, -1)):
        drivers = ex.top_drivers(protective=protective)
        v = np.round(drivers["value"].to_numpy(float))
        t = np.round(drivers["reference"].to_numpy(float))
        assert (v != t).all()
        assert (np.sign(drivers["contribution"]) == sign).all()
        if direction == "higher":
            assert (sign * (v - t) > 0).all()
        elif direction == "lower":
            assert (sign * (v - t) < 0).all()


# ----------------------------------------------------------------- deliverable 2
def test_value_equal_to_its_reference_at_shown_precision_is_not_a_reason():
    ex = one_feature(
        [0.128, 0.05],
        [0.9, 0.9],
        [0.131, 0.131],
        unit="events per month",
        template="{value:,.0f} events per month of tenure (typical: {typical:,.0f})",
    )
    assert ex.reasons("C-0") == ["No strong risk drivers"]  # 0.13 vs 0.13
    assert ex.reasons("C-1") == ["0.05 events per month of tenure (typical: 0.13)"]


def test_tenure_bands_and_their_reference():
    assert tenure_band([0, 29.9, 30, 90.9, 91, 400, 800, np.nan]).tolist() == [
        0, 0, 1, 1, 2, 4, 5, -1,
    ]  # fmt: skip
    # 40 new accounts with 3 messages, 40 old ones with 64; 10 mid with 20
    features = pd.DataFrame({"messages": [3.0] * 40 + [64.0] * 40 + [20.0] * 10})
    bands = np.array([0] * 40 + [5] * 40 + [3] * 10)
    table = typical_by_band(features, bands)
    assert table.loc[0, "messages"] == 3.0
    assert table.loc[5, "messages"] == 64.0
    assert table.loc[-1, "messages"] == np.median(features["messages"])
    # band 3 has 10 rows (< 30): it borrows from the nearest band towards the
    # middle (the largest band, 0 here by the first maximum): 3
    assert table.loc[3, "messages"] in (3.0, 64.0)
    assert typical_rows(table, np.array([0, 5, -1]), "messages").tolist() == [
        3.0,
        64.0,
        np.median(features["messages"]),
    ]


def test_a_new_account_is_compared_with_new_accounts(saas, labelled):
    X, y = labelled
    model = ck.make_churn_pipeline(saas.events, random_state=0).fit(X, y)
    reference = model.steps[0][1].reference_
    assert set(reference.index) == {-1, 0, 1, 2, 3, 4, 5}
    explanation = ck.ChurnExplainer(model).explain(X.tail(200))
    tenure = explanation.data["profile__tenure_days"].to_numpy()
    typical = explanation.reference["profile__tenure_days"].to_numpy(float)
    bands = tenure_band(tenure)
    expected = typical_rows(reference, bands, "profile__tenure_days").astype(float)
    np.testing.assert_allclose(typical, expected)


# ----------------------------------------------------------------- deliverable 3
@pytest.mark.parametrize(
    ("values", "unit", "signed", "expected"),
    [
        ([0.128, 5.0, 23.652311661905447, 1234.5], "events per month", False,
         ["0.13", "5", "23.7", "1,234"]),
        ([-0.62, 0.03, 0.0], "fraction", True, ["-62%", "+3%", "0%"]),
        ([9.99, 1234.4, -12.0], "currency", True, ["+$9.99", "+$1,234", "-$12"]),
        ([2.4, 160.0, 1e4], "events", False, ["2", "160", "10,000"]),
        ([4.26], "score", False, ["4.3"]),
        ([1.0, 0.0], "flag", False, ["yes", "no"]),
        ([np.nan], "days", False, [""]),
    ],
)  # fmt: skip
def test_numbers_are_formatted_by_unit(values, unit, signed, expected):
    assert text(values, unit_kind(unit), signed=signed, currency="$").tolist() == (
        expected
    )


def test_missing_values_are_phrased():
    mrr = "MRR changed by {value:+,.0f} over the last 90 days (typical: {typical})"
    # missing when there is no MRR 90 days back (a younger account): the MRR may
    # well be recorded within them
    assert missing_phrase(mrr, "x") == (
        "no MRR at the start of the last 90 days to compare with"
    )
    assert missing_phrase("last 'login' {value:.0f} days ago", "x") == (
        "no 'login' on record"
    )
    change = "usage changed {value:+.0%} vs the previous 30 days"
    assert missing_phrase(change, "x") == (
        "no full previous 30 days of usage to compare with"
    )
    assert missing_phrase("on the {value} plan", "Plan") == "no plan recorded"
    # a statement (a flag's template) unknown for an account never charged
    # (was "no latest payment attempt failed and is not recovered recorded")
    failed = "the latest payment attempt failed and is not recovered"
    assert missing_phrase(failed, "Latest payment attempt failed") == (
        "no record to tell whether the latest payment attempt failed and is not "
        "recovered"
    )
    ex = one_feature([np.nan], [0.9], [0.0], unit="currency", template=mrr)
    # the typical part of a missing value says what it is typical of
    assert ex.reasons("C-0") == [
        "No MRR at the start of the last 90 days to compare with "
        "(typical: MRR changed by 0 over the last 90 days)"
    ]


def test_a_missing_gap_reads_as_too_few_active_days():
    # gap_mean, gap_cv and the overdue ratio are NaN for a one-time buyer (on
    # CDNOW the overdue ratio was a top reason of 237 of 400 accounts, read as
    # "No days since last activity / usual gap recorded")
    from churnkit.features._rfm import rfm_specs

    gap_specs = [s for s in rfm_specs(has_amount=False) if "gap" in s.name]
    gap_specs += [s for s in rfm_specs(has_amount=False) if "overdue" in s.name]
    assert len(gap_specs) == 3
    for spec in gap_specs:
        assert missing_phrase(spec.template, spec.display_name) == (
            "too few active days to have a usual gap"
        )
    overdue = gap_specs[-1]
    ex = one_feature([np.nan], [0.9], [1.9], unit="ratio", template=overdue.template)
    assert ex.reasons("C-0") == [
        "Too few active days to have a usual gap "
        "(typical: silent for 1.9x the customer's usual gap)"
    ]


def _static_table(n=600, seed=0, text_dtype=object):
    rng = np.random.default_rng(seed)
    contract = rng.choice(
        ["Month-to-month", "One year", "Two year"], n, p=[0.6, 0.2, 0.2]
    )
    charges = rng.gamma(2.0, 800.0, n).round(2)
    X = pd.DataFrame(
        {
            "Contract": pd.array(contract, dtype=text_dtype),
            # numbers written as text, as in a CSV with blanks (Telco)
            "TotalCharges": pd.array(charges.astype(str), dtype=text_dtype),
            "tenure": rng.integers(0, 72, n),
        }
    )
    logit = 1.5 * (contract == "Month-to-month") - charges / 2000 - 1.0
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


@pytest.mark.parametrize("model", ["xgboost", "logistic"])
@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_text_columns_of_a_static_table_read_as_values(text_dtype, model):
    """Text levels are values, not missing: "Contract: One year (typical:
    Month-to-month)", never "No contract recorded"; numbers written as text
    read as the numbers the model uses, with a median as typical."""
    X, y = _static_table(text_dtype=text_dtype)
    clf = ck.ChurnClassifier(model, random_state=0).fit(X, y)
    ex = ck.ChurnExplainer(clf).explain(X.iloc[:200])
    drivers = pd.concat([ex.top_drivers(k=3), ex.top_drivers(k=3, protective=True)])
    assert len(drivers) > 50
    assert not drivers["reason"].str.contains("recorded").any()
    contract = drivers[drivers["feature"] == "Contract"]
    assert len(contract) > 0
    values = X["Contract"].astype(object)
    for _, row in contract.iterrows():
        assert row["value_text"] == values[row["customer_id"]]  # the row's label
        if row["value_text"] == row["reference_text"]:
            assert row["reason"] == f"Contract: {row['value_text']} (most common)"
        else:
            assert row["reason"] == (
                f"Contract: {row['value_text']} (typical: {row['reference_text']})"
            )
    # the planted driver is the most common level: it is quoted as a reason
    risky = ex.top_drivers(k=3)
    assert (
        risky["reason"].eq("Contract: Month-to-month (most common)")
        & risky["feature"].eq("Contract")
    ).any()
    charges = drivers[drivers["feature"] == "TotalCharges"]
    assert len(charges) > 0
    median = middle_value(X["TotalCharges"].astype(float).to_numpy())  # fit rows
    assert np.allclose(charges["reference"].astype(float), median)
    assert all(isinstance(v, float) for v in charges["value"])  # numbers, not text
    # typical comes from the fit rows: an account alone reads as in the batch
    first = contract["customer_id"].iloc[0]
    alone = ck.ChurnExplainer(clf).explain(X.loc[[first]])
    assert alone.reference.iloc[0].tolist() == ex.reference.loc[first].tolist()
    assert clf.typical_["Contract"] == X["Contract"].astype(object).mode()[0]


def _static_set(loader: str):
    """``(X, y)`` of a static table, by its loader in benchmarks/model_quality.py."""
    path = ROOT / "benchmarks" / "model_quality.py"
    spec = importlib.util.spec_from_file_location("model_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, loader)()


@pytest.mark.skipif(not (DATASETS / "telco_ibm").exists(), reason="no shared data")
def test_telco_reasons_name_the_accounts_values():
    X, y = _static_set("load_telco")
    clf = ck.ChurnClassifier("xgboost", random_state=0).fit(X.iloc[:5000], y[:5000])
    drivers = ck.ChurnExplainer(clf).explain(X.iloc[5000:5400]).top_drivers(k=3)
    assert len(drivers) > 100
    # 344 of 456 read "No contract recorded" and the like before text columns
    # were coded as levels
    assert not drivers["reason"].str.contains("recorded").any()
    # a value equal to its reference is quoted only for a categorical feature
    # and then says "(most common)"; the month-to-month contract, the most
    # common level, is the strongest driver of most at-risk accounts
    same = drivers["value_text"] == drivers["reference_text"]
    assert drivers.loc[same, "reason"].str.endswith("(most common)").all()
    assert not drivers.loc[~same, "reason"].str.contains("most common").any()
    contract = drivers["reason"].eq("Contract: Month-to-month (most common)")
    assert contract.sum() > 50
    assert drivers["value_text"].ne("").all()


def test_features_without_description_read_without_raw_floats():
    index = pd.Index(["a", "b"], name="customer_id")
    data = pd.DataFrame({"monthly_charges": [23.652311661905447, 1.0]}, index=index)
    ex = Explanation(
        [[0.9], [-0.9]],
        [-1.0, -1.0],
        data,
        calibrate=expit,
        typical=pd.DataFrame({"monthly_charges": [21.19165160646279] * 2}, index),
    )
    assert ex.reasons("a") == ["Monthly charges: 23.7 (typical: 21.2)"]


def test_the_most_common_level_can_be_a_reason():
    """A categorical level equal to the typical (most common) one is a reason
    when it drives the score, and says so; a number equal to its typical
    value is not (it would read "Tenure: 27 (typical: 27)")."""
    index = pd.Index(["a", "b", "c"], name="customer_id")
    levels = ["Month-to-month", "One year"]
    data = pd.DataFrame(
        {
            "contract": pd.Categorical(
                ["Month-to-month", "One year", "Month-to-month"], categories=levels
            ),
            "tenure": [27.0, 27.0, 3.0],
        },
        index=index,
    )
    typical = pd.DataFrame(
        {"contract": ["Month-to-month"] * 3, "tenure": [27.0] * 3}, index=index
    )
    # log-odds contributions; base -1 (26.9%)
    values = [[0.8, 0.6], [0.7, 0.0], [-0.5, 0.9]]
    ex = Explanation(values, [-1.0] * 3, data, calibrate=expit, typical=typical)
    # a: the contract is quoted, the tenure equal to its typical value is not
    assert ex.reasons("a") == ["Contract: Month-to-month (most common)"]
    assert ex.reasons("b") == ["Contract: One year (typical: Month-to-month)"]
    assert ex.reasons("c") == ["Tenure: 3 (typical: 27)"]
    assert ex.protective("c") == ["Contract: Month-to-month (most common)"]
    drivers = ex.top_drivers()
    first = drivers.iloc[0]
    assert (first["value_text"], first["reference_text"]) == (
        "Month-to-month",
        "Month-to-month",
    )


# ----------------------------------------------------------------- deliverable 4
def test_weak_drivers_are_not_reasons():
    # base expit(-1) = 26.9%; +0.02 log-odds moves it by ~0.4 points
    ex = one_feature([1.0], [0.02], [9.0])
    assert ex.reasons("C-0") == ["No strong risk drivers"]
    assert ex.reasons("C-0", min_points=0.001) == [
        "Logins in the last 30 days: 1 (typical: 9)"
    ]
    assert len(ex.top_drivers(min_points=0.001)) == 1
    assert len(ex.top_drivers()) == 0
    with pytest.raises(SchemaError, match="min_points"):
        ex.top_drivers(min_points=2)


def test_at_a_low_base_rate_a_tenth_of_the_base_is_strong():
    # base expit(-3.5) = 2.93%; +0.15 log-odds moves the probability by
    # expit(-3.35) - expit(-3.5) = 0.41 points: under 1 point, over a tenth of
    # the base (0.29 points), so a reason; +0.08 moves it 0.22 points: not
    ex = one_feature([1.0, 1.0], [0.15, 0.08], [9.0, 9.0], base=-3.5)
    moved = expit(-3.35) - expit(-3.5)
    assert 0.1 * expit(-3.5) < moved < 0.01
    assert ex.reasons("C-0") == ["Logins in the last 30 days: 1 (typical: 9)"]
    assert ex.reasons("C-1") == ["No strong risk drivers"]
    # a 26.9% base: 1 point is the smaller threshold, as before
    assert one_feature([1.0], [0.02], [9.0]).reasons("C-0") == [
        "No strong risk drivers"
    ]


def test_at_a_high_base_rate_a_tenth_of_the_room_above_it_is_strong():
    # base expit(3.5) = 97.07%: +0.3 log-odds moves it by expit(3.8) -
    # expit(3.5) = 0.72 points: under 1 point, over a tenth of the 2.93
    # points of room above the base, so a reason (was: "No
    # strong risk drivers" for 97 % of an Olist-shaped model's accounts);
    # +0.05 moves it 0.14 points: not
    ex = one_feature([1.0, 1.0], [0.3, 0.05], [9.0, 9.0], base=3.5)
    moved = expit(3.8) - expit(3.5)
    assert 0.1 * (1 - expit(3.5)) < moved < 0.01
    assert ex.reasons("C-0") == ["Logins in the last 30 days: 1 (typical: 9)"]
    assert ex.reasons("C-1") == ["No strong risk drivers"]


def test_low_risk_accounts_have_no_risk_drivers():
    index = pd.Index(["low"], name="customer_id")
    data = pd.DataFrame({"a": [1.0], "b": [5.0]}, index=index)
    # +0.5 from a, -3 from b: probability expit(-3.5) < base expit(-1)
    ex = Explanation([[0.5, -3.0]], [-1.0], data, calibrate=expit)
    assert ex.reasons("low") == ["No strong risk drivers"]
    assert ex.protective("low") == ["B: 5"]


def test_prioritize_says_no_strong_risk_drivers():
    ex = one_feature([1.0, 30.0], [0.8, 0.8], [9.0, 9.0])
    risk = ex.probability.rename("risk")
    table = ck.prioritize(risk, value=pd.Series([100.0, 100.0], index=risk.index),
                          explanation=ex, k=1)  # fmt: skip
    reasons = table.set_index("customer_id")["reason_1"]
    assert reasons["C-0"] == "Logins in the last 30 days: 1 (typical: 9)"
    assert reasons["C-1"] == "No strong risk drivers"


# ----------------------------------------------------------------- deliverable 5
def test_display_names_are_read_from_templates():
    cases = {
        "product events in the last 30 days: {value:,.0f} (typical: {typical})":
            "Product events, last 30 days",
        "last 'login' {value:.0f} days ago (typical: {typical:.0f})":
            "Days since last 'login'",
        "MRR changed by {value:+,.0f} over the last 90 days":
            "MRR change, last 90 days",
        "{value:,.1f} events per seat in the last 7 days":
            "Events per seat, last 7 days",
        "": "Monthly charges",
    }  # fmt: skip
    for template, name in cases.items():
        feature = "monthly_charges" if not template else "x__y"
        assert display_name(template, feature) == name
    # static tables' camelCase columns read as words; "_" names keep their case
    words = {
        "TotalCharges": "Total charges",
        "IsActiveMember": "Is active member",
        "customerID": "Customer ID",
        "HTTPCode": "HTTP code",
        "profile__planTier": "Plan tier",
        "Total_Trans_Amt": "Total Trans Amt",
        "MRR": "MRR",
        "tenure": "Tenure",
    }
    assert {f: display_name(None, f) for f in words} == words


# ----------------------------------------------------------------- deliverable 7
def _benchmark():
    path = ROOT / "benchmarks" / "reason_quality.py"
    spec = importlib.util.spec_from_file_location("reason_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", ["builtin", "fightchurn", "cdnow"])
def test_reason_quality_reports_zeros(name):
    bench = _benchmark()
    if name != "builtin" and not DATASETS.exists():
        pytest.skip("shared data sets not available")
    row = bench.run(name)
    assert row is not None
    assert row["reasons"] > 0
    for check in CHECKS:
        assert row[check] == 0, (check, row)


CHECKS = (
    "contradictions",
    "value=reference",
    "raw_floats",
    "unknown/nan",
    "present_unshown",
    "whatif_fails",
)


@pytest.mark.skipif(not DATASETS.exists(), reason="shared data sets not available")
@pytest.mark.parametrize("name", ["telco", "bank", "mlc", "churners"])
def test_reason_quality_on_the_static_tables(name):
    """Text levels, numbers written as text and plain numbers all read as values
    (Telco had 335 of 421 reasons showing no value before text was coded)."""
    row = _benchmark().run(name)
    assert row is not None and row["reasons"] > 100
    for check in CHECKS:
        assert row[check] == 0, (check, row)


# ----------------------------------------------------------------- deliverable 6
def _tree_models():
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )

    return [
        HistGradientBoostingClassifier(max_iter=30, random_state=0),
        RandomForestClassifier(30, max_depth=6, random_state=0),
        ExtraTreesClassifier(30, max_depth=6, random_state=0),
    ]


@pytest.mark.parametrize(
    "index",
    [pytest.param(0, marks=pytest.mark.slow), 1, 2],  # HGB fits in ~10 s
)
def test_sklearn_trees_use_tree_shap_and_add_up(index):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 6)), columns=[f"f{i}" for i in range(6)])
    X["plan"] = pd.Categorical(rng.choice(["a", "b", "c"], 300))
    y = (X["f0"] + X["f1"] * X["f2"] + rng.normal(size=300) > 0).astype(int)
    est = _tree_models()[index]
    clf = ck.ChurnClassifier(est, calibration=None, random_state=0).fit(X, y)
    ex = ck.ChurnExplainer(clf).explain(X.head(50))
    assert ex.method == "tree_shap"
    margin = clf.decision_function(X.head(50))
    np.testing.assert_allclose(ex.margin.to_numpy(), margin, rtol=0, atol=1e-6)
    # the strongest feature by mean |contribution| is a planted one
    assert ex.global_importance()["feature"].iloc[0] in {"f0", "f1", "f2"}


def test_lightgbm_uses_tree_shap():
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    y = (X["a"] - X["b"] + rng.normal(size=300) > 0).astype(int)
    est = lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, random_state=0)
    clf = ck.ChurnClassifier(est, calibration=None, random_state=0).fit(X, y)
    ex = ck.ChurnExplainer(clf).explain(X.head(40))
    assert ex.method == "tree_shap"
    np.testing.assert_allclose(
        ex.margin.to_numpy(), clf.decision_function(X.head(40)), atol=1e-6
    )


def test_one_day_is_singular():
    sentence = Sentence(
        "last 'login' {value:.0f} days ago (typical: {typical:.0f})", "x"
    )
    out = sentence.many(
        np.array(["1", "11", "21", "0.1"], dtype=object),
        np.array(["1", "1", "", ""], dtype=object),
        np.zeros(4, dtype=bool),
    )
    assert out.tolist() == [
        "Last 'login' 1 day ago (typical: 1)",
        "Last 'login' 11 days ago (typical: 1)",
        "Last 'login' 21 days ago",
        "Last 'login' 0.1 days ago",
    ]


def test_numeric_levels_read_like_categories():
    """A numeric feature of a few whole-number values with no direction (a
    classifier's ``numeric_levels_``): its most common value can be a reason,
    0/1 flags read yes / no, a 0/1 count stays a number."""
    index = pd.Index(["a", "b"], name="customer_id")
    data = pd.DataFrame(
        {
            "NumOfProducts": [1.0, 3.0],
            "IsActiveMember": [0.0, 1.0],
            "num_complaints": [1.0, 0.0],
        },
        index=index,
    )
    typical = pd.DataFrame(
        {
            "NumOfProducts": [1.0] * 2,
            "IsActiveMember": [1.0] * 2,
            "num_complaints": [0.0] * 2,
        },
        index=index,
    )
    levels = {
        "NumOfProducts": [1.0, 2.0, 3.0, 4.0],
        "IsActiveMember": [0.0, 1.0],
        "num_complaints": [0.0, 1.0],
    }
    values = [[0.9, 0.5, 0.3], [0.9, -0.4, -0.2]]
    kwargs = {"calibrate": expit, "typical": typical}
    ex = Explanation(values, [-1.0] * 2, data, numeric_levels=levels, **kwargs)
    assert ex.reasons("a") == [
        "Num of products: 1 (most common)",
        "Is active member: no (typical: yes)",
        "Num complaints: 1 (typical: 0)",
    ]
    assert ex.reasons("b", k=1) == ["Num of products: 3 (typical: 1)"]
    assert ex.protective("b") == [
        "Is active member: yes (most common)",
        "Num complaints: 0 (most common)",
    ]
    # without the levels, a number equal to its typical value is no reason
    plain = Explanation(values, [-1.0] * 2, data, **kwargs)
    assert plain.reasons("a") == [
        "Is active member: 0 (typical: 1)",
        "Num complaints: 1 (typical: 0)",
    ]


def test_money_named_as_money_reads_in_the_currency_given():
    index = pd.Index(["a"], name="customer_id")
    data = pd.DataFrame(
        {"MonthlyCharges": [99.65], "Balance": [159661.0], "tenure": [2.0]}, index
    )
    typical = pd.DataFrame(
        {"MonthlyCharges": [70.35], "Balance": [97199.0], "tenure": [29.0]}, index
    )
    values = [[0.9, 0.8, 0.7]]
    kwargs = {"calibrate": expit, "typical": typical}
    ex = Explanation(values, [-1.0], data, currency="$", **kwargs)
    assert ex.reasons("a") == [
        "Monthly charges: $99.65 (typical: $70.35)",
        "Balance: $159,661 (typical: $97,199)",
        "Tenure: 2 (typical: 29)",
    ]
    # no currency given: plain numbers
    assert Explanation(values, [-1.0], data, **kwargs).reasons("a", k=1) == [
        "Monthly charges: 99.6 (typical: 70.4)"  # 99.65 is 99.6499... in binary
    ]


# ------------------------------------------------- one fact, one reason
def test_twin_columns_are_features_that_rank_the_rows_the_same_way():
    from churnkit.models._typical import twin_columns

    rng = np.random.default_rng(0)
    minutes = rng.uniform(0, 300, 500)
    X = pd.DataFrame(
        {
            "minutes": minutes,
            "charge": np.round(0.17 * minutes, 2) + 0.0,  # a price per minute
            "calls": np.round(minutes / 3 + rng.normal(0, 5, 500)),  # close, not one
            "flat": 1.0,  # constant: in no group
            "minutes_copy": np.where(minutes > 250, np.nan, minutes),
        }
    )
    # the copy is missing where minutes are highest: ranked apart, below
    # every value, so it orders the rows another way
    assert twin_columns(X, list(X.columns)) == [["minutes", "charge"]]
    X["flat_too"] = 1.0
    assert twin_columns(X[["flat", "flat_too"]], ["flat", "flat_too"]) == []
    # a rare event's counts in two windows: the same for the 30 rows that
    # have one, too few (under 50 off the common value) to call them one fact
    rare = np.zeros(500)
    rare[:30] = np.arange(1, 31)
    counts = pd.DataFrame({"in_7d": rare, "in_30d": 2 * rare})
    assert twin_columns(counts, ["in_7d", "in_30d"]) == []


def test_twins_are_one_reason_with_the_points_of_both():
    data = pd.DataFrame(
        {"minutes": [277.0], "charge": [47.1], "tickets": [4.0]},
        index=pd.Index(["C-1"], name="customer_id"),
    )
    values, base = [[0.5, 0.3, 0.6]], [-2.0]
    typical = pd.DataFrame({"minutes": [180.0], "charge": [30.6], "tickets": [1.0]},
                           index=data.index)  # fmt: skip
    plain = Explanation(values, base, data, calibrate=expit, typical=typical)
    assert [r.split(":")[0] for r in plain.reasons("C-1")] == [
        "Tickets", "Minutes", "Charge"
    ]  # fmt: skip
    merged = Explanation(
        values, base, data, calibrate=expit, typical=typical,
        twins=[["minutes", "charge"]],
    )  # fmt: skip
    # minutes carries more of the fact (0.5 of 0.8): it words the reason,
    # which ranks first with 0.8; charge is no second reason
    assert merged.reasons("C-1") == [
        "Minutes: 277 (typical: 180)",
        "Tickets: 4 (typical: 1)",
    ]
    drivers = merged.top_drivers(k=3)
    assert drivers["feature"].tolist() == ["minutes", "tickets"]
    assert np.allclose(drivers["contribution"], [0.8, 0.6])
    # the per-feature values are SHAP's own, unchanged
    assert np.allclose(merged.values.to_numpy(), values)


@pytest.mark.skipif(not (DATASETS / "telecom_mlc_churn").exists(), reason="no data")
def test_mlc_minutes_and_their_charge_are_one_reason():
    X, y = _static_set("load_mlc")
    clf = ck.ChurnClassifier("xgboost", random_state=0).fit(X.iloc[:4000], y[:4000])
    assert len(clf.twins_) == 4 and ["total_day_minutes", "total_day_charge"] in [
        sorted(g, key=lambda c: "charge" in c) for g in clf.twins_
    ]
    drivers = ck.ChurnExplainer(clf).explain(X.iloc[4000:]).top_drivers(k=3)
    # 60 of 190 accounts' top three named minutes and their charge before
    per_account = drivers.groupby("customer_id")["feature"].apply(
        lambda f: f.str.replace("_charge|_minutes", "", regex=True).duplicated().any()
    )
    assert len(per_account) > 150 and not per_account.any()


def test_tenure_is_compared_with_every_training_row_not_its_own_band():
    # a band's median tenure is the account's own, give or take ("Customer
    # for 125 days (typical: 134)"); other features keep their band's median
    tenure = np.array([10.0, 20, 25, 100, 120, 140, 400, 500, 600] * 10)
    logins = np.array([1.0, 2, 3, 10, 11, 12, 30, 31, 32] * 10)
    features = pd.DataFrame({"profile__tenure_days": tenure, "usage__logins": logins})
    table = typical_by_band(features, tenure_band(tenure))
    assert set(table["profile__tenure_days"]) == {float(np.median(tenure))}  # 120
    assert table.loc[tenure_band([15.0])[0], "usage__logins"] == 2.0
    assert table.loc[tenure_band([450.0])[0], "usage__logins"] == 31.0


def test_a_fact_restated_by_a_weaker_reason_of_the_account_is_left_out():
    # one plan change 20 days ago: the 30-day and the 90-day counts both read
    # "1 (typical: 0)"; one CDNOW-like purchase: events and active days both 1
    idx = pd.Index(["C-1", "C-2"], name="customer_id")
    names = ["changes_30d", "changes_90d", "tickets_30d", "logins_30d"]
    data = pd.DataFrame(
        [[1.0, 1.0, 4.0, 2.0], [1.0, 2.0, 4.0, 2.0]], index=idx, columns=names
    )
    typical = pd.DataFrame([[0.0, 0.0, 1.0, 9.0]] * 2, index=idx, columns=names)
    desc = pd.DataFrame(
        {
            "feature": names,
            "group": ["billing", "billing", "support", "usage"],
            "display_name": ["Plan changes, 30d", "Plan changes, 90d",
                             "Tickets, 30d", "Logins, 30d"],
            "direction": ["higher", "higher", "higher", "lower"],
        }
    )  # fmt: skip
    values = [[0.5, 0.4, 0.3, 0.2]] * 2
    ex = Explanation(
        values, [-2.0, -2.0], data, calibrate=expit, typical=typical,
        descriptions=desc,
    )  # fmt: skip
    drivers = ex.top_drivers(k=3)
    by = drivers.groupby("customer_id")["feature"].agg(list)
    # C-1: the 90-day count says what the 30-day one said: the next reason
    # (tickets) and then logins take its place
    assert by["C-1"] == ["changes_30d", "tickets_30d", "logins_30d"]
    # C-2 had a second change 30-90 days ago: two facts, both said
    assert by["C-2"] == ["changes_30d", "changes_90d", "tickets_30d"]


def test_a_date_still_ahead_reads_in_days():
    # an energy retailer's fixed_end_date: 'Fixed end date: -4 days ago
    # (typical: -98 days)' on the accounts whose term ends in four days
    said = Sentence("fixed end date: {value:,.0f} days ago", "Fixed end date")
    got = said.many(
        np.array(["-4", "12", "-1"], dtype=object),
        np.array(["-98", "-98", "-98"], dtype=object),
        np.array([False, False, False]),
    )
    assert got.tolist() == [
        "Fixed end date: in 4 days (typical: in 98 days)",
        "Fixed end date: 12 days ago (typical: in 98 days)",
        "Fixed end date: in 1 day (typical: in 98 days)",
    ]

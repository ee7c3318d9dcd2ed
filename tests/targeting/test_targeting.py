"""Tests of churnkit.targeting.prioritize."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError
from churnkit.targeting import prioritize

T1 = pd.Timestamp("2025-01-01")
T0 = pd.Timestamp("2024-12-01")


def _risk(probabilities=(0.9, 0.3, 0.6, 0.1), ids=("A", "B", "C", "D"), time=T1):
    index = pd.MultiIndex.from_arrays(
        [list(ids), [time] * len(ids)], names=["customer_id", "cutoff_time"]
    )
    return pd.Series(probabilities, index=index)


# per customer: A 0.9 x 100 = 90, B 0.3 x 1000 = 300, C 0.6 x 200 = 120, D 0.1 x 50 = 5
VALUE = pd.Series({"A": 100.0, "B": 1000.0, "C": 200.0, "D": 50.0}).rename_axis(
    "customer_id"
)


class FakeExplanation:
    """Stands in for churnkit.explain.Explanation: only top_drivers is used."""

    def __init__(self, drivers):
        self.drivers = drivers
        self.calls = []

    def top_drivers(self, k=3):
        self.calls.append(k)
        return self.drivers


def _drivers(customers, time=T1, k=3):
    rows = [
        {
            "customer_id": customer,
            "cutoff_time": time,
            "rank": rank,
            "feature": f"f{rank}",
            "value": 1.0,
            "contribution": 1.0 / rank,
            "group": "usage",
            "reason": f"{customer} reason {rank}",
        }
        for customer in customers
        for rank in range(k, 0, -1)  # unsorted on purpose
    ]
    return pd.DataFrame(rows)


def test_sorted_by_expected_value_at_risk_not_by_probability():
    out = prioritize(_risk(), VALUE)
    expected = pd.DataFrame(
        {
            "customer_id": ["B", "C", "A", "D"],
            "cutoff_time": [T1] * 4,
            "churn_probability": [0.3, 0.6, 0.9, 0.1],
            "value": [1000.0, 200.0, 100.0, 50.0],
            "value_at_risk": [300.0, 120.0, 90.0, 5.0],
            "rank": [1, 2, 3, 4],
            "tier": pd.Categorical(
                ["medium", "high", "high", "low"],
                categories=["low", "medium", "high"],
                ordered=True,
            ),
        }
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert out["rank"].dtype.kind == "i"
    assert out[out["tier"] >= "medium"]["customer_id"].tolist() == ["B", "C", "A"]


def test_tier_thresholds_are_inclusive_and_configurable():
    risk = _risk((0.5, 0.2, 0.19999, 0.0))
    out = prioritize(risk, 1.0).set_index("customer_id")
    assert out.loc[["A", "B", "C", "D"], "tier"].tolist() == [
        "high",
        "medium",
        "low",
        "low",
    ]
    custom = prioritize(risk, 1.0, tiers={"call": 0.4, "email": 0.15})
    custom = custom.set_index("customer_id")["tier"]
    assert list(custom.cat.categories) == ["email", "call"]
    assert custom.loc[["A", "B"]].tolist() == ["call", "email"]
    assert custom.loc[["C", "D"]].isna().tolist() == [False, True]


def test_value_per_customer_is_used_for_each_cutoff():
    risk = pd.concat([_risk((0.5, 0.2), ("A", "B"), T0), _risk((0.4, 0.8), ("A", "B"))])
    out = prioritize(risk, VALUE)
    assert out["value_at_risk"].tolist() == [800.0, 200.0, 50.0, 40.0]
    assert list(zip(out["customer_id"], out["cutoff_time"], strict=True)) == [
        ("B", T1),
        ("B", T0),
        ("A", T0),
        ("A", T1),
    ]


def test_dataframes_with_id_columns():
    X = pd.DataFrame({"customer_id": ["A", "B", "C", "D"], "cutoff_time": [T1] * 4})
    risk = X.assign(churn_probability=[0.9, 0.3, 0.6, 0.1], plan="pro")
    value = pd.DataFrame({"customer_id": list("DCBA"), "value": [50, 200, 1000, 100]})
    out = prioritize(risk, value)
    pd.testing.assert_frame_equal(out, prioritize(_risk(), VALUE), check_dtype=False)


def test_plain_index_of_ids_and_scalar_value():
    risk = pd.Series([0.2, 0.7], index=["x", "y"])
    out = prioritize(risk, 10)
    assert out.columns[0] == "customer_id"
    assert out["customer_id"].tolist() == ["y", "x"]
    assert out["value_at_risk"].tolist() == [7.0, 2.0]


def test_ties_broken_by_probability_then_input_order_and_negative_values_last():
    risk = _risk((0.2, 0.4, 0.1, 0.3))
    value = pd.Series({"A": 100.0, "B": 50.0, "C": 200.0, "D": -10.0})
    out = prioritize(risk, value.rename_axis("customer_id"))
    # A, B and C all put 20 at risk: B (0.4) first, then A (0.2) before C (0.1)
    assert out["customer_id"].tolist() == ["B", "A", "C", "D"]
    assert out["value_at_risk"].tolist() == [20.0, 20.0, 20.0, -3.0]


def test_callable_value_at_risk_and_top():
    def margin_after_offer(probability, value):
        return probability * value - 25

    out = prioritize(_risk(), VALUE, value_at_risk=margin_after_offer, top=2)
    assert out["customer_id"].tolist() == ["B", "C"]
    assert out["value_at_risk"].tolist() == [275.0, 95.0]
    assert out["rank"].tolist() == [1, 2]


def test_reasons_from_an_explanation_object():
    explanation = FakeExplanation(_drivers(["A", "B", "C"]))
    with pytest.warns(ChurnkitWarning, match=r"no drivers for 1 of 4 customers.*'D'"):
        out = prioritize(_risk(), VALUE, explanation=explanation)
    assert explanation.calls == [3]
    row = out.set_index("customer_id").loc["B"]
    assert row[["reason_1", "reason_2", "reason_3"]].tolist() == [
        "B reason 1",
        "B reason 2",
        "B reason 3",
    ]
    assert out.set_index("customer_id").loc["D", ["reason_1", "reason_3"]].isna().all()
    assert list(out.columns[-3:]) == ["reason_1", "reason_2", "reason_3"]


def test_reasons_match_customer_and_cutoff():
    drivers = pd.concat([_drivers(["A"], T0), _drivers(["A"], T1)])
    drivers.loc[drivers["cutoff_time"] == T0, "reason"] += " (old)"
    risk = pd.concat([_risk((0.5,), ("A",), T0), _risk((0.4,), ("A",))])
    out = prioritize(risk, VALUE, explanation=drivers, k=2)
    assert out[["cutoff_time", "reason_1", "reason_2"]].values.tolist() == [
        [T0, "A reason 1 (old)", "A reason 2 (old)"],
        [T1, "A reason 1", "A reason 2"],
    ]
    # without cutoff_time in risk, each customer's latest cutoff is used
    by_customer = pd.Series({"A": 0.4}).rename_axis("customer_id")
    out = prioritize(by_customer, VALUE, explanation=FakeExplanation(drivers))
    assert out["reason_1"].tolist() == ["A reason 1"]


def test_reasons_with_other_datetime_resolution():
    drivers = _drivers(["A", "B", "C", "D"])
    drivers["cutoff_time"] = drivers["cutoff_time"].astype("datetime64[s]")
    risk = _risk()
    risk.index = risk.index.set_levels(
        risk.index.levels[1].astype("datetime64[ns]"), level=1
    )
    out = prioritize(risk, VALUE, explanation=drivers)
    assert out["reason_1"].notna().all()


def test_gupta_example_from_the_docstring():
    ids = pd.Index(["A", "B", "C"], name="customer_id")
    out = ck.prioritize(
        pd.Series([0.9, 0.3, 0.1], index=ids),
        pd.Series([100.0, 1000.0, 50.0], index=ids),
    )
    assert out["customer_id"].tolist() == ["B", "A", "C"]


@pytest.mark.parametrize(
    ("risk", "value", "error", "match"),
    [
        (np.array([0.1, 0.2]), 1.0, SchemaError, r"bare ndarray without customer ids"),
        ([0.1, 0.2], 1.0, SchemaError, r"bare list.*Series indexed like X"),
        (pd.Series([0.1, 0.2]), 1.0, SchemaError, r"row numbers \(an unnamed Range"),
        (_risk((0.1, np.nan, 0.3, 0.4)), 1.0, SchemaError, r"1 missing values"),
        (_risk((0.1, 1.2, 0.3, 7.0)), 1.0, SchemaError, r"2 values are not.*1\.2"),
        (
            _risk((0.1, 0.2), ("A", "A")),
            1.0,
            SchemaError,
            r"1 duplicated ids.*'A'",
        ),
        (
            _risk(),
            VALUE.drop(["B", "D"]),
            SchemaError,
            r"`value` is missing for 2 of 4 rows.*'B'",
        ),
        (_risk(), VALUE.rename_axis("account"), SchemaError, r"by \['account'\]"),
        (
            _risk(),
            VALUE.where(VALUE.index != "C"),
            SchemaError,
            r"`value` has 1 missing values.*'C'",
        ),
        (_risk(), "100", ChurnkitTypeError, r"`value` must be a Series"),
        (
            pd.DataFrame({"customer_id": ["A"], "p": [0.1], "q": [0.2]}),
            1.0,
            SchemaError,
            r"one value column, or a column named 'churn_probability'",
        ),
        (
            pd.Series([0.1], index=pd.MultiIndex.from_tuples([("A", T1)])),
            1.0,
            SchemaError,
            r"unnamed levels",
        ),
    ],
)
def test_input_errors(risk, value, error, match):
    with pytest.raises(error, match=match):
        prioritize(risk, value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tiers": {"high": 1.5}}, SchemaError, r"`tiers\['high'\]` must be a proba"),
        ({"tiers": {"a": 0.5, "b": 0.5}}, SchemaError, r"thresholds must differ"),
        ({"tiers": {}}, ChurnkitTypeError, r"non-empty mapping"),
        ({"value_at_risk": "max"}, SchemaError, r"'expected' \(probability x value\)"),
        ({"value_at_risk": lambda p, v: p[:1]}, SchemaError, r"one finite number"),
        ({"top": 0}, SchemaError, r"`top` must be a positive integer"),
        ({"k": 0}, SchemaError, r"`k` must be at least 1"),
        ({"explanation": "shap"}, ChurnkitTypeError, r"must be an Explanation"),
        (
            {"explanation": pd.DataFrame({"customer_id": ["A"], "rank": [1]})},
            SchemaError,
            r"lack columns \['reason'\]",
        ),
    ],
)
def test_option_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        prioritize(_risk(), VALUE, **kwargs)


def test_reasons_need_a_customer_id():
    risk = pd.Series([0.4], index=pd.Index(["A"], name="account"))
    value = pd.Series([10.0], index=pd.Index(["A"], name="account"))
    assert prioritize(risk, value).columns[0] == "account"
    with pytest.raises(SchemaError, match=r"matched on customer_id.*\['account'\]"):
        prioritize(risk, value, explanation=_drivers(["A"]))


def test_reasons_match_on_an_id_named_in_both():
    """A static table indexed by its own id column ("customerID"): the risk and
    the explanation's drivers share the name, and reasons attach by it."""
    risk = pd.Series([0.4, 0.9], index=pd.Index(["A", "B"], name="customerID"))
    drivers = _drivers(["A", "B"]).rename(columns={"customer_id": "customerID"})
    out = prioritize(risk, 10.0, explanation=drivers)
    assert out.columns[0] == "customerID"
    assert out.set_index("customerID").loc["B", "reason_1"] == "B reason 1"
    # an id named differently in each still names the fix
    with pytest.raises(SchemaError, match=r"rename_axis\('customer_id'\)"):
        prioritize(risk.rename_axis("account"), 10.0, explanation=drivers)

"""``ChurnClassifier.typical_``: the reference of reasons on a feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd

import churnkit as ck
from churnkit._stats import middle_value
from churnkit.models import _typical
from churnkit.models._typical import typical_values


def test_typical_values_by_hand():
    frame = pd.DataFrame(
        {
            "tenure": [1, 5, 30, 2],
            "plan": pd.Categorical(["a", "b", "b", None]),
            "contract": np.array(["m", "m", "y", "y "], dtype=object),
            "charges": ["1.5", " ", "3.5", "10"],
            "flag": [True, False, True, True],
            "empty": [np.nan] * 4,
            "signup": pd.to_datetime(["2024-01-01"] * 4),
        }
    )
    out = typical_values(frame, numeric_text=["charges"])
    assert out == {
        "tenure": 2.0,  # of 1, 2, 5, 30 the lower middle: a value some row has
        "plan": "b",
        "contract": "m",
        "charges": 3.5,  # median of 1.5, 3.5, 10; the blank is missing
        "flag": 1.0,
        "empty": out["empty"],
    }
    assert np.isnan(out["empty"])
    assert all(type(v) in (float, str) for v in out.values())


def test_many_rows_use_a_seeded_sample(monkeypatch):
    monkeypatch.setattr(_typical, "TYPICAL_ROWS", 50)
    x = np.arange(1000, dtype=float)
    frame = pd.DataFrame({"x": x})
    first, again = typical_values(frame), typical_values(frame)
    assert first == again
    assert first["x"] != np.median(x)  # a sample of 50, not all rows
    assert abs(first["x"] - np.median(x)) < 200


def test_classifier_keeps_the_fit_rows_typical_values():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "tenure": rng.integers(0, 72, n).astype(float),
            "contract": rng.choice(["Month-to-month", "One year"], n, p=[0.7, 0.3]),
        }
    )
    y = (rng.random(n) < 0.2 + 0.3 * (X["contract"] == "Month-to-month")).astype(int)
    clf = ck.ChurnClassifier("logistic", random_state=0).fit(X, y)
    assert clf.typical_ == {
        "tenure": middle_value(X["tenure"].to_numpy()),
        "contract": "Month-to-month",
    }
    # one account alone has a typical part (fewer than 30 explained rows had none)
    ex = ck.ChurnExplainer(clf).explain(X.iloc[:1])
    median = middle_value(X["tenure"].to_numpy())
    assert ex.reference.iloc[0].tolist() == [median, "Month-to-month"]


def test_numeric_levels_by_hand():
    n = 120
    frame = pd.DataFrame(
        {
            "products": np.tile([1, 2, 1, 4], n // 4),  # 4 whole-number values
            "active": np.tile([0, 1, 1, 0], n // 4).astype(bool),
            "balance": np.tile([0.0, 10.5, 3.2, 8.0], n // 4),  # not whole
            "tenure": np.arange(n) % 11,  # 11 values: a quantity
            "constant": np.ones(n),  # one value: nothing to compare
            "plan": ["a", "b", "c", "d"] * (n // 4),
        }
    )
    assert _typical.numeric_levels(frame) == {
        "products": [1.0, 2.0, 4.0],
        "active": [0.0, 1.0],
    }
    # features with a known direction, and too few rows, are never levels
    assert _typical.numeric_levels(frame, skip=["products"]) == {"active": [0.0, 1.0]}
    assert _typical.numeric_levels(frame.iloc[: _typical.MIN_LEVEL_ROWS - 1]) == {}
    # a level's typical value is the most frequent one, not the median
    rows = pd.DataFrame({"products": [1, 1, 1, 2, 2, 3, 3]})  # median 2
    assert typical_values(rows, levels=["products"]) == {"products": 1.0}
    assert typical_values(rows) == {"products": 2.0}
    # equally frequent: the smallest
    assert typical_values(pd.DataFrame({"k": [3, 1]}), levels=["k"]) == {"k": 1.0}


def test_classifier_reads_few_whole_numbers_as_levels():
    """Churn_Modelling's shape: one product is the most common and riskier than
    two; the median hid it as a reason ("1 (typical: 1)"), the level reads it."""
    rng = np.random.default_rng(3)
    n = 3000
    products = rng.choice([1, 2, 3], n, p=[0.5, 0.45, 0.05])
    active = rng.integers(0, 2, n)
    X = pd.DataFrame(
        {
            "NumOfProducts": products,
            "IsActiveMember": active,
            "Age": rng.integers(18, 80, n).astype(float),
        }
    )
    risk = np.select([products == 1, products == 2], [0.3, 0.05], 0.8)
    y = (rng.random(n) < risk * np.where(active == 1, 0.6, 1.4)).astype(int)
    clf = ck.ChurnClassifier(random_state=0).fit(X, y)
    assert clf.numeric_levels_ == {
        "NumOfProducts": [1.0, 2.0, 3.0],
        "IsActiveMember": [0.0, 1.0],
    }
    assert clf.typical_["NumOfProducts"] == 1.0
    ex = ck.ChurnExplainer(clf).explain(X)
    drivers = ex.top_drivers()
    reasons = set(drivers["reason"])
    assert "Num of products: 1 (most common)" in reasons
    assert "Is active member: no (typical: yes)" in reasons or (
        "Is active member: no (most common)" in reasons
    )
    # the first reason of every account with reasons is its strongest driver
    first = drivers[drivers["rank"] == 1].set_index("customer_id")["feature"]
    strongest = ex.probability_values.idxmax(axis=1).loc[first.index]
    assert (strongest == first).all()

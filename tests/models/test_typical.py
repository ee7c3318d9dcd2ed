"""``ChurnClassifier.typical_``: the reference of reasons on a feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd

import churnkit as ck
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
        "tenure": 3.5,
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
        "tenure": float(np.median(X["tenure"])),
        "contract": "Month-to-month",
    }
    # one account alone has a typical part (fewer than 30 explained rows had none)
    ex = ck.ChurnExplainer(clf).explain(X.iloc[:1])
    median = float(np.median(X["tenure"]))
    assert ex.reference.iloc[0].tolist() == [median, "Month-to-month"]

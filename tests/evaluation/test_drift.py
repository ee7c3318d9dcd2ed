"""Population stability (PSI) per feature and of the scores, computed by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, SchemaDriftWarning, SchemaError

LN = np.log


def psi(b, a):
    b, a = np.maximum(np.asarray(b), 1e-4), np.maximum(np.asarray(a), 1e-4)
    return float(np.sum((a - b) * LN(a / b)))


@pytest.mark.parametrize(
    ("before", "after", "n_bins", "expected"),
    [
        # edge at the median 2.5: shares (.5, .5) -> (.75, .25)
        ([1, 2, 3, 4], [1, 1, 1, 4], 2, psi([0.5, 0.5], [0.75, 0.25])),
        # levels a, b: (.5, .5) -> (.25, .75)
        (list("aabb"), list("abbb"), 10, psi([0.5, 0.5], [0.25, 0.75])),
        # missing values are a bin: (.25, .25, .5) -> (.25, .5, .25)
        (
            [1, 2, np.nan, np.nan],
            [1, 2, 3, np.nan],
            2,
            psi([0.25, 0.25, 0.5], [0.25, 0.5, 0.25]),
        ),
        # an emptied bin is floored at 1e-4
        ([1, 1, 2, 2], [1, 1, 1, 1], 2, psi([0.5, 0.5], [1.0, 0.0])),
        # a level new in after gets its own bin
        (list("aaab"), list("aabc"), 10, psi([0.75, 0.25, 0], [0.5, 0.25, 0.25])),
        # values beyond before's range fall in the end bins
        ([1, 2, 3, 4], [-10, -10, 100, 100], 2, 0.0),
    ],
)
def test_psi_by_hand(before, after, n_bins, expected):
    value = ck.population_stability_index(before, after, n_bins=n_bins)
    assert value == pytest.approx(expected, abs=1e-12)


def test_hand_values_are_what_the_convention_expects():
    assert psi([0.5, 0.5], [0.75, 0.25]) == pytest.approx(0.25 * LN(1.5) + 0.25 * LN(2))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 20), min_size=1, max_size=60),
    st.lists(st.integers(0, 20), min_size=1, max_size=60),
)
def test_psi_is_nonnegative_and_zero_on_itself(before, after):
    assert ck.population_stability_index(before, after) >= 0
    assert ck.population_stability_index(before, before) == 0
    shuffled = list(reversed(before))
    assert ck.population_stability_index(before, shuffled) == 0


def test_feature_drift_table_status_and_warning():
    rng = np.random.default_rng(0)
    n = 3000
    before = pd.DataFrame(
        {
            "logins": rng.poisson(20, n).astype(float),
            "tickets": rng.poisson(1, n).astype(float),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
            "mrr": rng.normal(100, 10, n),
        }
    )
    after = pd.DataFrame(
        {
            "logins": rng.poisson(10, n).astype(float),  # halved: major
            "tickets": rng.poisson(1, n).astype(float),  # same: stable
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n, p=[0.75, 0.25])),
            "mrr": rng.normal(100, 10, n),
        }
    )
    after.loc[: n // 10, "mrr"] = np.nan
    with pytest.warns(
        SchemaDriftWarning,
        match=r"3 of 4 features drifted \(PSI >= 0.25\): logins \(\d",
    ):
        table = ck.feature_drift(before, after)
    assert table.index[0] == "logins"
    assert table["psi"].is_monotonic_decreasing
    assert table.loc["logins", "status"] == "major"
    assert table.loc["tickets", "status"] == "stable"
    # plan: (.5, .5) -> (.75, .25) gives PSI ~0.27 on the population
    assert table.loc["plan", "psi"] == pytest.approx(
        ck.population_stability_index(before["plan"], after["plan"])
    )
    assert table.loc["mrr", "missing_after"] == pytest.approx((n // 10 + 1) / n)
    assert table.loc["mrr", "missing_before"] == 0
    assert np.isnan(table.loc["plan", "mean_before"])
    assert table.loc["logins", "mean_after"] == pytest.approx(after["logins"].mean())
    assert list(table.columns) == [
        "psi",
        "status",
        "mean_before",
        "mean_after",
        "missing_before",
        "missing_after",
        "n_bins",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = ck.feature_drift(before, before)
    assert (quiet["psi"] == 0).all()
    with pytest.warns(SchemaDriftWarning, match="logins"):
        moderate = ck.feature_drift(before, after, threshold=0.1)
    assert set(moderate.index[moderate["psi"] >= 0.1]) >= {"logins"}


def test_feature_drift_columns_and_errors():
    before = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 1.0]})
    with pytest.warns(
        SchemaDriftWarning, match=r"left out 2 column\(s\).*\['b', 'c'\]"
    ):
        table = ck.feature_drift(
            before, pd.DataFrame({"a": [1.0, 2.0], "c": [0.0, 1.0]})
        )
    assert list(table.index) == ["a"]
    with pytest.raises(SchemaError, match="share no column"):
        ck.feature_drift(before, pd.DataFrame({"z": [1.0]}))
    with pytest.raises(ChurnkitTypeError, match="must be a DataFrame"):
        ck.feature_drift(before, np.zeros((2, 2)))
    with pytest.raises(SchemaError, match="n_bins"):
        ck.feature_drift(before, before, n_bins=1)


def test_score_drift():
    rng = np.random.default_rng(1)
    base = rng.beta(1, 9, 4000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = ck.score_drift(base, rng.beta(1, 9, 4000))
    assert same["status"] == "stable" and same["psi"] < 0.1
    assert same["ks_pvalue"] > 0.001
    with pytest.warns(SchemaDriftWarning, match="The churn scores drifted: PSI"):
        moved = ck.score_drift(base, rng.beta(2, 6, 4000))
    assert moved["status"] == "major"
    assert moved["mean_after"] > moved["mean_before"]
    assert moved["n_before"] == 4000
    after = rng.beta(2, 6, 4000)
    with pytest.warns(SchemaDriftWarning):
        again = ck.score_drift(base, after)
    assert again["psi"] == pytest.approx(ck.population_stability_index(base, after))
    with pytest.raises(SchemaError, match="finite"):
        ck.score_drift([0.1, np.inf], [0.2])

"""Identifier-like columns left in a feature table are noted at fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import churnkit as ck
from churnkit.exceptions import DataQualityWarning
from churnkit.models._identifiers import free_text_note, numeric_identifier_note


def test_numeric_identifiers_by_hand():
    rows = pd.Series(np.arange(1, 101))
    assert numeric_identifier_note(rows, "RowNumber").startswith(
        "Column `RowNumber` counts the rows (1 to 100): it looks like an identifier"
    )
    ids = pd.Series(np.random.default_rng(0).choice(10**8, 100, replace=False))
    assert "a different whole number in every row" in numeric_identifier_note(
        ids, "CustomerId"
    )
    # unique whole numbers under another name are a quantity (cents, seconds)
    assert numeric_identifier_note(ids, "total_cents") is None
    # a repeated value, a fraction, a missing value, or too few rows: no note
    assert numeric_identifier_note(pd.Series([1, 1] + list(range(98))), "id") is None
    assert numeric_identifier_note(ids + 0.5, "account_id") is None
    assert numeric_identifier_note(pd.Series([1.0, np.nan] * 50), "id") is None
    assert numeric_identifier_note(pd.Series(np.arange(10)), "row") is None


def test_free_text_by_hand():
    assert free_text_note("Surname", 2932, 10_000, 100).startswith(
        "Column `Surname` has 2,932 distinct values in 10,000 rows"
    )
    assert free_text_note("state", 51, 3333, 51) is None  # levels, not text
    assert free_text_note("email", 10_000, 10_000, 0) is None  # noted as an id
    assert free_text_note("city", 900, 10_000, 100) is None  # under 10 % of rows
    # 30 rows of 4 payment methods are categories, not text
    assert free_text_note("PaymentMethod", 4, 30, 0) is None


def test_classifier_warns_on_churn_modelling_shaped_ids():
    rng = np.random.default_rng(0)
    n = 1000
    X = pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "CustomerId": rng.choice(10**8, n, replace=False),
            "Surname": [f"name{i}" for i in rng.integers(0, 400, n)],
            "Age": rng.integers(18, 90, n),
            "Balance": rng.gamma(2, 1e4, n),
        }
    )
    y = (rng.random(n) < 0.2).astype(int)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ck.ChurnClassifier(random_state=0).fit(X, y)
    notes = [str(w.message) for w in seen if w.category is DataQualityWarning]
    named = sorted(m.split("`")[1] for m in notes)
    assert named == ["CustomerId", "RowNumber", "Surname"]


def test_a_small_table_keeps_its_levels():
    """30 Telco rows: 4 payment methods seen 6 to 9 times are levels, not one
    '(infrequent)' bucket, and no note calls them free text."""
    from churnkit.models._prep import TablePrep

    methods = ["Electronic check"] * 9 + ["Mailed check"] * 8
    methods += ["Bank transfer"] * 7 + ["Credit card"] * 6
    X = pd.DataFrame({"PaymentMethod": methods, "Contract": ["Month"] * 29 + ["Year"]})
    prep = TablePrep().fit(X)
    assert prep.categories_["PaymentMethod"] == sorted(set(methods))
    # a level seen once is still merged, with the rest kept
    assert prep.categories_["Contract"] == ["Month", "(infrequent)"]
    assert prep.notes_ == []
    # a column whose every value is rare says it carries no signal
    one_each = TablePrep().fit(pd.DataFrame({"code": [f"c{i}" for i in range(19)] * 1}))
    assert any("carries no signal" in n for n in one_each.notes_)
    # from 500 rows on, the threshold is min_frequency
    big = pd.DataFrame({"k": ["a"] * 491 + ["b"] * 9})
    assert TablePrep().fit(big).categories_["k"] == ["a", "(infrequent)"]


def test_numbers_mixed_with_text_are_noted():
    """Two thirds numbers and 'n/a': read as categories, each number a level,
    which the note says, with the fix."""
    from churnkit.models._prep import TablePrep

    values = [str(v) for v in range(40)] + ["n/a"] * 20
    prep = TablePrep().fit(pd.DataFrame({"spend": values}))
    assert prep.categorical_columns_ == ["spend"]
    (note,) = prep.notes_
    assert note.startswith(
        "Column `spend` mixes numbers (67% of its values) and text (e.g. 'n/a')"
    )
    assert "pd.to_numeric(X['spend'], errors='coerce')" in note
    # mostly text with a few numbers is a categorical without a note
    words = ["basic"] * 50 + ["pro"] * 40 + ["3"] * 10
    assert TablePrep().fit(pd.DataFrame({"plan": words})).notes_ == []

"""Which class is churn, and in which rows: text labels and a reordered y."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import DataQualityWarning, SchemaError
from churnkit.models._target import check_churn_class, says_churn


@pytest.mark.parametrize(
    ("label", "reads"),
    [
        ("Yes", True),
        ("No", False),
        ("Attrited Customer", True),
        ("Existing Customer", False),
        ("Churned", True),
        ("Not churned", False),
        ("no churn", False),
        ("Exited", True),
        ("Retained", False),
        ("inactive", True),
        ("active", False),
        ("True", True),
        ("one", None),
        ("b", None),
    ],
)
def test_what_a_label_says(label, reads):
    assert says_churn(label) is reads


def _table(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"tenure": rng.integers(0, 72, n).astype(float), "calls": rng.poisson(2, n)},
        index=pd.Index([f"C-{i:04d}" for i in range(n)], name="customer_id"),
    )
    churned = rng.random(n) < 0.15 + 0.5 * (X["tenure"] < 12)
    return X, churned


def test_text_labels_whose_churn_class_sorts_first_are_refused():
    """BankChurners: "Attrited Customer" sorts before "Existing Customer", so the
    second class, the one churnkit predicts, was staying."""
    X, churned = _table()
    y = pd.Series(np.where(churned, "Attrited Customer", "Existing Customer"), X.index)
    with pytest.raises(SchemaError) as err:
        ck.ChurnClassifier(random_state=0).fit(X, y)
    assert str(err.value) == (
        "y's labels are 'Attrited Customer' and 'Existing Customer': churnkit takes "
        "the second in sorted order, 'Existing Customer', as churn "
        "(predict_proba[:, 1]), but 'Attrited Customer' reads as the churned "
        "class. Pass 0/1 labels: y = (y == 'Attrited Customer').astype(int)."
    )
    # the fix it names fits, and predicts the churners
    clf = ck.ChurnClassifier(random_state=0).fit(
        X, (y == "Attrited Customer").astype(int)
    )
    p = clf.predict_proba(X)[:, 1]
    assert p[churned].mean() > p[~churned].mean()


def test_text_labels_in_churn_order_fit_quietly_and_unclear_ones_warn():
    X, churned = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        clf = ck.ChurnClassifier(random_state=0).fit(X, np.where(churned, "Yes", "No"))
    assert list(clf.classes_) == ["No", "Yes"]
    with pytest.warns(
        DataQualityWarning, match="takes the second in sorted order, 'b'"
    ):
        ck.ChurnClassifier(random_state=0).fit(X, np.where(churned, "b", "a"))
    check_churn_class(np.array([0, 1]))  # numbers: 1 is churn, nothing to say


def test_a_reordered_y_series_is_refused_and_a_positional_one_is_not():
    X, churned = _table()
    y = pd.Series(churned.astype(int), index=X.index)
    shuffled = y.sample(frac=1, random_state=0)
    with pytest.raises(SchemaError, match=r"another order .* y = y\.loc\[X\.index\]"):
        ck.ChurnClassifier(random_state=0).fit(X, shuffled)
    ck.ChurnClassifier(random_state=0).fit(X, shuffled.loc[X.index])
    # a y of other labels (a RangeIndex) is matched by position, as in scikit-learn
    ck.ChurnClassifier(random_state=0).fit(X, y.reset_index(drop=True))


def test_nullable_labels_keep_their_type():
    X, churned = _table()
    for dtype, classes in (("Int64", [0, 1]), ("boolean", [False, True])):
        y = pd.Series(churned, index=X.index).astype(dtype)
        clf = ck.ChurnClassifier(random_state=0).fit(X, y)
        assert clf.classes_.tolist() == classes
        assert type(clf.classes_[0]) is type(np.asarray(classes)[0])

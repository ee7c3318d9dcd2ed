"""The labels a classifier is fitted on: which class is churn, and in which rows.

scikit-learn's convention makes the second class in sorted order the positive
one (``predict_proba[:, 1]``). For 0/1 and bool labels that is churn; for text
labels it is an accident of spelling: BankChurners' ``"Attrited Customer"``
sorts before ``"Existing Customer"``, so the model silently learned to predict
staying, and its reasons explained loyalty as risk. :func:`check_churn_class`
reads what the two labels say and refuses labels whose churn class sorts
first, or warns naming the class taken as churn when it cannot tell.

A ``y`` Series holding X's row labels in another order is matched by position,
as scikit-learn does, so it trains on shuffled labels: :func:`check_y_order`
refuses it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length, column_or_1d

from churnkit._logging import warn
from churnkit.exceptions import DataQualityWarning, SchemaError

__all__ = [
    "check_churn_class",
    "check_labels",
    "check_y_order",
    "plain_labels",
    "says_churn",
]

# words of a label meaning the customer left, or stayed (lower case; a word
# starting with a stem counts: "churned", "attrited", "cancelled")
_LEFT_WORDS = {"yes", "y", "true", "1", "left", "gone", "lost", "inactive", "closed"}
_LEFT_STEMS = ("churn", "attrit", "cancel", "exit", "lapse", "quit", "terminat")
_STAYED_WORDS = {"no", "n", "not", "non", "never", "false", "0", "active", "stayed"}
_STAYED_STEMS = ("exist", "retain", "retention", "stay", "remain", "current", "loyal")


def says_churn(label) -> bool | None:
    """True when ``label`` reads as churned, False as stayed, None when unclear."""
    words = re.findall(r"[a-z0-9]+", str(label).lower())
    stayed = any(w in _STAYED_WORDS or w.startswith(_STAYED_STEMS) for w in words)
    left = any(w in _LEFT_WORDS or w.startswith(_LEFT_STEMS) for w in words)
    if stayed:  # "Not churned", "Existing Customer"
        return False
    return True if left else None


def check_churn_class(classes) -> None:
    """Refuse text labels whose churn class is not ``classes[1]``; warn when unclear.

    Numbers and bools are not read: ``1`` and ``True`` are churn by convention.
    """
    if len(classes) != 2 or all(
        isinstance(c, (bool, int, float, np.bool_, np.number)) for c in classes
    ):
        return
    classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    first, second = (says_churn(c) for c in classes)
    if first is True and second is not True or second is False and first is not False:
        raise SchemaError(
            f"y's labels are {classes[0]!r} and {classes[1]!r}: churnkit takes the "
            f"second in sorted order, {classes[1]!r}, as churn (predict_proba[:, 1])"
            f", but {classes[0]!r} reads as the churned class. Pass 0/1 labels: "
            f"y = (y == {classes[0]!r}).astype(int)."
        )
    if second is True and first is not True or first is False and second is not False:
        return
    warn(
        f"y's labels are {classes[0]!r} and {classes[1]!r}: churnkit takes the "
        f"second in sorted order, {classes[1]!r}, as churn (predict_proba[:, 1]). "
        f"If churn is {classes[0]!r}, pass y = (y == {classes[0]!r}).astype(int).",
        DataQualityWarning,
    )


def check_y_order(y, X) -> None:
    """Refuse a ``y`` Series holding the row labels of X in another order."""
    if not isinstance(y, pd.Series) or not isinstance(X, pd.DataFrame):
        return
    if len(y) != len(X) or y.index.equals(X.index) or not X.index.is_unique:
        return
    if not y.index.isin(X.index).all():
        return  # other labels (a RangeIndex against ids): matched by position
    moved = np.flatnonzero(np.asarray(y.index) != np.asarray(X.index))
    shown = ", ".join(f"{X.index[i]!r} <- {y.index[i]!r}" for i in moved[:3])
    raise SchemaError(
        f"y holds the row labels of X in another order ({len(moved):,} of "
        f"{len(X):,} rows differ, e.g. {shown}); labels are matched by "
        "position, so each row would get another row's label. Align them: "
        "y = y.loc[X.index]."
    )


def plain_labels(y):
    """``y`` with pandas' nullable labels (Int64, boolean) as their numpy type.

    Read as floats, 0/1 labels of an ``Int64`` Series made ``classes_`` ``[0.0,
    1.0]``; missing labels stay (as NaN) for the caller's error.
    """
    dtype = getattr(y, "dtype", None)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        dtype, pd.CategoricalDtype
    ):
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is not None and not pd.isna(y).any():
            return y.to_numpy(dtype=numpy_dtype)
    return y


def check_labels(y, frame, owner="ChurnClassifier") -> tuple:
    """``(y, y as 0/1 churn, classes)`` of a fit, every check of the labels.

    One label per row of ``frame`` (in its order, see :func:`check_y_order`),
    none missing, two classes, churn the second (:func:`check_churn_class`).
    ``owner`` names the estimator in the error scikit-learn's checks expect.
    """
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    check_y_order(y, frame)
    y = plain_labels(y)
    y = column_or_1d(y, warn=True)
    if len(y) != len(frame):
        raise SchemaError(
            f"y has {len(y)} label(s) but X has {len(frame)} row(s): pass one "
            "label per row of X, in X's order, e.g. X, y = labels[['customer_id', "
            "'cutoff_time']], labels['churned'] from the same ck.label_churn "
            "table."
        )
    check_consistent_length(frame, y)
    missing = pd.isna(y)
    if missing.any():
        rows = list(frame.index[missing][:3])
        raise SchemaError(
            f"y has {int(missing.sum())} missing label(s), e.g. at {rows}. Drop "
            "those rows (censored cutoffs must not be labelled)."
        )
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y")
    if y_type != "binary":
        raise SchemaError(
            "Only binary classification is supported. The type of the target "
            f"is {y_type}; churnkit predicts churn (1) against no churn (0)."
        )
    classes = np.unique(y)
    if len(classes) < 2:
        only = classes[0].item() if hasattr(classes[0], "item") else classes[0]
        raise SchemaError(
            f"y contains only one class ({only!r}); the classifier needs "
            "rows of both classes (churned and not churned). With labels from "
            "ck.label_churn, use more or later cutoffs, or a longer `horizon`, "
            "so that some customers churn."
        )
    check_churn_class(classes)
    return y, (y == classes[1]).astype(np.int64), classes

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

from churnkit._logging import warn
from churnkit.exceptions import DataQualityWarning, SchemaError

__all__ = ["check_churn_class", "check_y_order", "plain_labels", "says_churn"]

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

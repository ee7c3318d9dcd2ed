"""Sample weights of ChurnClassifier: checked once, then given to every fit.

The user's ``sample_weight`` multiplies the ``class_weight`` weights for the
base model (xgboost, the logistic regression or the user's estimator), and
weights the calibrator's fit on the hold-out (without ``class_weight``, which
is there to shape the ranking, not the probabilities).
"""

from __future__ import annotations

import numpy as np

from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["check_sample_weight", "combine_weights", "fit_weighted"]


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """``sample_weight`` as float64 of length ``n``, or None.

    Weights must be finite and non-negative, with a positive sum; a scalar
    gives every row the same weight.
    """
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype="float64")
    except (TypeError, ValueError):
        raise ChurnkitTypeError(
            "`sample_weight` must be numbers, one per row of X; got values of "
            f"type {np.asarray(sample_weight).dtype}."
        ) from None
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1 or len(w) != n:
        raise SchemaError(
            f"`sample_weight` has shape {w.shape}, X has {n} rows: pass one "
            "weight per row of X, in X's order."
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        raise SchemaError(
            f"`sample_weight` has {len(bad)} negative, NaN or infinite value(s), "
            f"e.g. at rows {bad[:5].tolist()} ({w[bad[:5]].tolist()}); weights "
            "must be finite and >= 0 (0 leaves a row out)."
        )
    if w.sum() <= 0:
        raise SchemaError(
            "`sample_weight` is all zero: no row would count. Give the rows to "
            "learn from a weight > 0."
        )
    return w


def combine_weights(class_weights, sample_weight):
    """The base model's weights: class weights times sample weights."""
    if class_weights is None:
        return sample_weight
    if sample_weight is None:
        return class_weights
    return class_weights * sample_weight


def fit_weighted(estimator, X, y, sample_weight):
    """``estimator.fit(X, y)``, with ``sample_weight`` when there are weights."""
    if sample_weight is None:
        return estimator.fit(X, y)
    from sklearn.utils.validation import has_fit_parameter

    if not has_fit_parameter(estimator, "sample_weight"):
        raise SchemaError(
            f"{type(estimator).__name__}.fit takes no `sample_weight`, so the "
            "weights cannot be applied. Use model='xgboost' or 'logistic', or an "
            "estimator whose fit accepts sample_weight."
        )
    return estimator.fit(X, y, sample_weight=sample_weight)

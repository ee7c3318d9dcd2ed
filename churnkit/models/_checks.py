"""scikit-learn glue of ChurnClassifier: its not-fitted error, parameter and
column checks (shared by ``ChurnClassifier.fit`` and the engine fit of
``churnkit.models._engine_fit``)."""

from __future__ import annotations

from contextlib import contextmanager

import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import validate_data

from churnkit.exceptions import ChurnkitTypeError, NotFittedError, SchemaError
from churnkit.models._output import as_input

__all__ = [
    "EstimatorNotFittedError",
    "check_X",
    "check_params",
    "columns_as_schema_error",
]

_MODELS = ("xgboost", "logistic", "auto")
_CALIBRATIONS = ("sigmoid", "isotonic", None)


class EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """churnkit's NotFittedError that scikit-learn also recognises as its own."""


@contextmanager
def columns_as_schema_error(estimator, reset: bool):
    """Column mismatches at predict time as a SchemaError naming the columns.

    scikit-learn's own message (which its checks match) is kept and the fix added.
    """
    try:
        yield
    except SchemaError:
        raise
    except ValueError as exc:
        if reset or "feature" not in str(exc):  # e.g. "Input contains infinity"
            raise
        fitted = getattr(estimator, "feature_names_in_", None)
        expected = (
            f" The model was fitted on the columns {list(fitted)}; pass X with "
            "exactly those, in that order (X[model.feature_names_in_])."
            if fitted is not None
            else ""
        )
        raise SchemaError(
            f"X does not have the columns of fit. {str(exc).strip()}\n"
            f"{expected.strip()}"
        ) from None


def check_params(est) -> str:
    """Validate the classifier's parameters; return the model kind."""
    model = est.model
    if isinstance(model, str):
        if model not in _MODELS:
            raise SchemaError(
                f"`model` must be 'xgboost', 'logistic', 'auto' or a "
                f"scikit-learn classifier instance; got {model!r}."
            )
        kind = model
    elif isinstance(model, type):
        raise ChurnkitTypeError(
            f"`model` must be an estimator instance, not the class "
            f"{model.__name__}; pass {model.__name__}() instead."
        )
    elif hasattr(model, "fit") and (
        hasattr(model, "predict_proba") or hasattr(model, "decision_function")
    ):
        kind = "estimator"
    else:
        raise ChurnkitTypeError(
            "`model` must be 'xgboost', 'logistic' or a classifier with `fit` "
            f"and `predict_proba` or `decision_function`; got {model!r}."
        )
    if est.calibration not in _CALIBRATIONS:
        raise SchemaError(
            "`calibration` must be 'sigmoid', 'isotonic' or None; got "
            f"{est.calibration!r}."
        )
    if kind == "estimator" and est.class_weight is not None:
        raise SchemaError(
            "`class_weight` applies to model='xgboost' or 'logistic' only; set "
            "it on your estimator instead and leave class_weight=None."
        )
    if not (isinstance(est.monotone, (bool, dict)) or est.monotone == "auto"):
        raise ChurnkitTypeError(
            "`monotone` must be 'auto', True, False or a dict {column: "
            f"'higher' | 'lower' | 'either'}}; got {est.monotone!r}."
        )
    if kind not in ("xgboost", "auto") and (
        est.monotone is True or (isinstance(est.monotone, dict) and est.monotone)
    ):
        raise SchemaError(
            "`monotone` applies to model='xgboost' only; got model="
            f"{kind!r} with monotone={est.monotone!r}. Leave monotone='auto' "
            "or False."
        )
    fraction = est.validation_fraction
    if not isinstance(fraction, (float, int)) or not 0 < fraction <= 0.5:
        raise SchemaError(
            f"`validation_fraction` must be a number in (0, 0.5]; got {fraction!r}."
        )
    return kind


def check_X(est, X, *, reset: bool) -> pd.DataFrame:
    """Validate X and return it as a DataFrame with string column names."""
    X = as_input(X)
    if isinstance(X, pd.DataFrame):
        if X.columns.duplicated().any():
            dup = list(X.columns[X.columns.duplicated()].unique())
            raise SchemaError(
                f"X has duplicate column names {dup}; rename them so each "
                "feature has one name."
            )
        with columns_as_schema_error(est, reset):
            validate_data(est, X, reset=reset, skip_check_array=True)
        n, p = X.shape
        if p == 0:
            raise SchemaError(
                f"0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required."
            )
        if n == 0 and reset:
            raise SchemaError(
                f"Found array with 0 sample(s) (shape=(0, {p})) while a minimum "
                "of 1 is required."
            )
        frame = X.copy(deep=False)
    else:
        with columns_as_schema_error(est, reset):
            values = validate_data(
                est,
                X,
                reset=reset,
                accept_sparse=False,
                dtype=None,
                ensure_all_finite="allow-nan",
                ensure_min_samples=1 if reset else 0,
            )
        frame = pd.DataFrame(values)
    if reset:
        names = getattr(est, "feature_names_in_", None)
        est._columns = (
            [str(c) for c in names]
            if names is not None
            else [f"x{i}" for i in range(frame.shape[1])]
        )
    frame.columns = est._columns
    return frame

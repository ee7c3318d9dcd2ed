"""scikit-learn glue of ChurnClassifier: its not-fitted error and column checks."""

from __future__ import annotations

from contextlib import contextmanager

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from churnkit.exceptions import NotFittedError, SchemaError

__all__ = ["EstimatorNotFittedError", "columns_as_schema_error"]


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
            f"X does not have the columns of fit. {str(exc).strip()}{expected}"
        ) from None

"""Exceptions and warnings raised by churnkit.

Every error churnkit raises on bad input is a :class:`ChurnkitError`; the ones
about tables also subclass :class:`ValueError` (or :class:`TypeError`), so code
that already catches those keeps working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ChurnkitError",
    "SchemaError",
    "ChurnkitTypeError",
    "NotFittedError",
    "ChurnkitWarning",
]


class ChurnkitError(Exception):
    """Base class of every error churnkit raises on purpose."""


class SchemaError(ChurnkitError, ValueError):
    """A table or parameter value does not follow churnkit's data contract.

    The message names the table, the column, a few offending rows and the fix.
    """


class ChurnkitTypeError(ChurnkitError, TypeError):
    """An argument has the wrong type (a string where a tuple is expected, ...)."""


class NotFittedError(ChurnkitError, _SklearnNotFittedError):
    """An estimator, builder or explainer was used before ``fit``.

    It subclasses :class:`sklearn.exceptions.NotFittedError` (itself a
    ``ValueError`` and an ``AttributeError``), so code written for scikit-learn
    catches it the same way.
    """


class ChurnkitWarning(UserWarning):
    """Something was handled for you (rows dropped, text converted, a likely leak)."""

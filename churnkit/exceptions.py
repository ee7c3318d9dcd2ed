"""Exceptions and warnings raised by churnkit.

Every error churnkit raises on bad input is a :class:`ChurnkitError`; the ones
about tables also subclass :class:`ValueError` (or :class:`TypeError`), so code
that already catches those keeps working.
"""

from __future__ import annotations

__all__ = [
    "ChurnkitError",
    "SchemaError",
    "ChurnkitTypeError",
    "NotFittedError",  # noqa: F822 - built on first use, see __getattr__
    "ChurnkitWarning",
    "CensoringWarning",
    "LeakageWarning",
    "CalibrationWarning",
    "SchemaDriftWarning",
    "DataQualityWarning",
    "AccountNotFoundError",
]


class ChurnkitError(Exception):
    """Base class of every error churnkit raises on purpose."""


class SchemaError(ChurnkitError, ValueError):
    """A table or parameter value does not follow churnkit's data contract.

    The message names the table, the column, a few offending rows and the fix.
    """


class ChurnkitTypeError(ChurnkitError, TypeError):
    """An argument has the wrong type (a string where a tuple is expected, ...)."""


class ChurnkitWarning(UserWarning):
    """Something was handled for you (rows dropped, text converted, a likely leak).

    Every warning churnkit issues is an instance of one of its topic subclasses
    below, so a filter on ``ChurnkitWarning`` silences them all, and a filter on
    one topic silences that topic alone::

        warnings.filterwarnings("ignore", category=ck.CensoringWarning)
    """


class CensoringWarning(ChurnkitWarning):
    """Rows were left out because the data cannot decide them.

    Cutoff rows censored by the end of the data, customers not eligible at a
    cutoff (not yet signed up, already churned), periods after the last
    observed instant: routine, counted in the message.
    """


class LeakageWarning(ChurnkitWarning):
    """A feature probably leaks the label (it alone separates the classes)."""


class CalibrationWarning(ChurnkitWarning):
    """Calibration or the time-ordered hold-out could not be done as asked.

    The calibration was skipped (too few rows or churners in the hold-out), or
    the hold-out of the latest cutoffs fell back to a random one because ``X``
    carries no ``customer_id`` / ``cutoff_time`` index.
    """


class SchemaDriftWarning(ChurnkitWarning):
    """The data at ``transform`` / ``predict`` differs from the data at ``fit``.

    A table or column seen at fit is missing (its features become NaN), a
    column held numbers at fit and text now, a model file comes from another
    churnkit version.
    """


class DataQualityWarning(ChurnkitWarning):
    """Values were read or converted for you, or cannot give an answer.

    Text read as numbers, category spellings mapped to the standard values, a
    score undefined because ``y_true`` holds one class, a store that records no
    churn, rows without an explanation.
    """


class AccountNotFoundError(ChurnkitError, KeyError):
    """The account (or its cutoff) is not among the explained or scored rows."""

    def __str__(self):  # KeyError would show the message in quotes
        return str(self.args[0])


def _not_fitted_error():
    """:class:`NotFittedError`, built on first use (it subclasses scikit-learn's,
    and importing scikit-learn at ``import churnkit`` would slow every start)."""
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(ChurnkitError, SklearnNotFittedError):
        """An estimator, builder or explainer was used before ``fit``.

        It is also :class:`sklearn.exceptions.NotFittedError` (so also a
        ``ValueError`` and an ``AttributeError``): code catching scikit-learn's
        error, or either built-in, catches churnkit's too.

        Examples
        --------
        >>> import sklearn.exceptions
        >>> import churnkit as ck
        >>> issubclass(ck.NotFittedError, sklearn.exceptions.NotFittedError)
        True
        """

    NotFittedError.__module__ = __name__
    NotFittedError.__qualname__ = "NotFittedError"
    return NotFittedError


def __getattr__(name):
    if name == "NotFittedError":
        value = globals()["NotFittedError"] = _not_fitted_error()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

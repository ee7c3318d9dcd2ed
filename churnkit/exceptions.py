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
    "NotFittedError",
    "ChurnkitWarning",
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


class NotFittedError(ChurnkitError, ValueError, AttributeError):
    """An estimator, builder or explainer was used before ``fit``.

    Like :class:`sklearn.exceptions.NotFittedError` it is both a ``ValueError``
    and an ``AttributeError``, so scikit-learn's checks and code that catches
    either keep working (importing scikit-learn here would slow every
    ``import churnkit``).
    """


class ChurnkitWarning(UserWarning):
    """Something was handled for you (rows dropped, text converted, a likely leak)."""


class AccountNotFoundError(ChurnkitError, KeyError):
    """The account (or its cutoff) is not among the explained or scored rows."""

    def __str__(self):  # KeyError would show the message in quotes
        return str(self.args[0])

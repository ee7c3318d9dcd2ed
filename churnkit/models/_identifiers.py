"""Columns of a feature table that name customers rather than describe them.

An identifier left in X carries no signal, yet a tree model splits on it and
its reasons quote it ("Row number: 126 (typical: 5,000)"). A text column with
a different value in every row is noted by ``TablePrep`` itself; this module
notes the two shapes it missed on Churn_Modelling: whole numbers, a different
one in every row, under an id-like name or counting rows (``RowNumber`` 1 to
10,000; ``CustomerId``), and text with far more values than levels (``Surname``:
2,932 names in 10,000 rows).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["MIN_ROWS", "free_text_note", "numeric_identifier_note"]

MIN_ROWS = 20  #: fewer rows: too few to call a column an identifier
#: words of a column name that say it identifies (camelCase and _ split)
_ID_WORDS = {"id", "ids", "uuid", "guid", "key", "number", "no", "num", "row", "index"}
#: a text column with more distinct values than this share of the rows (and
#: than the levels a categorical keeps, and than FREE_TEXT_VALUES) reads as
#: names or free text
FREE_TEXT_SHARE = 0.1
FREE_TEXT_VALUES = 50  #: fewer values: categories, however few the rows


def _words(name) -> set:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return set(re.findall(r"[a-z0-9]+", spaced.lower()))


def numeric_identifier_note(series: pd.Series, col) -> str | None:
    """A note when ``series`` holds whole numbers, a different one in every
    row, and its name says so or its values count the rows (1..n)."""
    n = len(series)
    if n < MIN_ROWS or pd.api.types.is_bool_dtype(series.dtype):
        return None
    x = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    if np.isnan(x).any():
        return None
    counts_rows = float(x.max() - x.min()) == n - 1
    if not (counts_rows or _words(col) & _ID_WORDS):
        return None  # the cheap tests first: most numeric columns stop here
    if not np.all(x == np.round(x)) or not pd.Series(x).is_unique:
        return None
    if counts_rows:
        what = f"counts the rows ({x.min():,.0f} to {x.max():,.0f})"
    else:
        what = "has a different whole number in every row"
    return (
        f"Column `{col}` {what}: it looks like an identifier and carries no "
        "signal, but the model can split on it and reasons would quote it. Drop "
        "it or move it to the index."
    )


def free_text_note(col, n_values: int, n_rows: int, n_levels: int) -> str | None:
    """A note when a text column has far more values than levels (names, text)."""
    if n_rows < MIN_ROWS or n_values >= n_rows:  # all distinct: noted elsewhere
        return None
    if n_values <= max(n_levels, FREE_TEXT_SHARE * n_rows, FREE_TEXT_VALUES):
        return None
    return (
        f"Column `{col}` has {n_values:,} distinct values in {n_rows:,} rows: names "
        f"or free text more than categories. The model keeps its {n_levels:,} most "
        "frequent values as levels and reasons would quote them (a surname is no "
        "churn driver). Drop it, or group its values into a few categories."
    )

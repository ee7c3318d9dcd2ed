"""The typical value of each feature over a classifier's training rows.

A fitted :class:`~churnkit.ChurnClassifier` keeps, as ``typical_``, the median
of each numeric feature (numbers written as text read as the numbers the
model uses) and the most frequent level of each text or categorical one, over
its fit rows. Reason sentences on a static table compare an account with
these ("Tenure: 1 (typical: 29)"), so an account reads the same alone or in
any batch, and a single account still gets a "(typical: ...)" part; before,
typical was the median of the explained rows, none for fewer than 30.

A numeric feature with a few whole-number values and no known direction
(Churn_Modelling's ``NumOfProducts``: 1 to 4; a 0/1 flag) is a set of levels
more than a quantity. The classifier keeps those as ``numeric_levels_``; its
typical value is the most frequent level, and reasons read it like a
categorical one ("Num of products: 1 (most common)", where 2 products are
safer), as a median it would hide its strongest driver.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._stats import middle_value

__all__ = [
    "MAX_LEVELS",
    "TYPICAL_ROWS",
    "TWIN_CORRELATION",
    "numeric_levels",
    "twin_columns",
    "typical_values",
]

#: more fit rows than this: the typical values come from a seeded sample of
#: this many (the median of 200,000 rows is within ~0.3 % of the quantile)
TYPICAL_ROWS = 200_000
MAX_LEVELS = 10  #: at most this many whole-number values: a numeric column of levels
#: fewer fit rows than this: too few to tell levels from a sample of a quantity
MIN_LEVEL_ROWS = 100
#: rank correlation from which two features state one fact (``twins_``)
TWIN_CORRELATION = 0.9999
TWIN_ROWS = 5_000  #: at most this many fit rows are read for it (a seeded sample)
TWIN_MIN_SPREAD = 50  #: rows off a column's most frequent value, to judge it


def _sampled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, or a seeded sample of ``TYPICAL_ROWS`` rows, the same on every fit."""
    if len(frame) <= TYPICAL_ROWS:
        return frame
    rows = np.random.default_rng(0).choice(len(frame), TYPICAL_ROWS, replace=False)
    return frame.iloc[np.sort(rows)]


def _numbers(col) -> np.ndarray:
    x = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return x[~np.isnan(x)]


def numeric_levels(frame: pd.DataFrame, skip=()) -> dict:
    """Numeric columns with 2 to ``MAX_LEVELS`` whole-number values, and those values.

    Parameters
    ----------
    frame : DataFrame
        The fit rows, as the classifier validated them.
    skip : iterable of str, default=()
        Columns never read as levels (features with a known direction).

    Returns
    -------
    dict of str to list of float
        Column -> its sorted values; empty for fewer than ``MIN_LEVEL_ROWS`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnkit.models._typical import numeric_levels
    >>> frame = pd.DataFrame({"products": [1, 2, 1, 3] * 30,
    ...                       "balance": [0.0, 10.5, 3.2, 8.0] * 30})
    >>> numeric_levels(frame)
    {'products': [1.0, 2.0, 3.0]}
    """
    if len(frame) < MIN_LEVEL_ROWS:
        return {}
    frame, skip, out = _sampled(frame), set(skip), {}
    for name, col in frame.items():
        dtype = col.dtype
        if name in skip or not (
            pd.api.types.is_numeric_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        x = _numbers(col)
        # a cheap look at the first rows rejects most quantities
        if len(np.unique(x[:1000])) > MAX_LEVELS:
            continue
        values = np.unique(x)
        if 2 <= len(values) <= MAX_LEVELS and np.all(values == np.round(values)):
            out[str(name)] = [float(v) for v in values]
    return out


def _plain(value):
    """A Python scalar (float, int, bool, str) for a safe model save."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return None if value is None or pd.isna(value) else str(value)


def typical_values(frame: pd.DataFrame, numeric_text=(), levels=()) -> dict:
    """Median (numbers) or most frequent level (text, categories) of each column.

    Parameters
    ----------
    frame : DataFrame
        The fit rows, as the classifier validated them.
    numeric_text : iterable of str, default=()
        Text columns the model reads as numbers (``TablePrep``'s numeric
        columns that are not numeric in ``frame``): their median as a number.
    levels : iterable of str, default=()
        Numeric columns read as levels (:func:`numeric_levels`): their most
        frequent value (the smallest of equally frequent ones).

    Returns
    -------
    dict of str to scalar
        One entry per column with a value: NaN for a numeric column without
        any, absent for a text column without any and for datetimes.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnkit.models._typical import typical_values
    >>> frame = pd.DataFrame({"tenure": [1, 5, 30], "plan": ["a", "b", "b"],
    ...                       "charges": ["1.5", " ", "3.5"]})
    >>> typical_values(frame, numeric_text=["charges"])
    {'tenure': 5.0, 'plan': 'b', 'charges': 1.5}
    """
    frame = _sampled(frame)
    numeric_text, levels = set(numeric_text), set(levels)
    out = {}
    for name, col in frame.items():
        dtype = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        if name in numeric_text or (
            pd.api.types.is_numeric_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype)
        ):
            x = _numbers(col)
            if name in levels and len(x):
                values, counts = np.unique(x, return_counts=True)
                out[str(name)] = float(values[np.argmax(counts)])
            else:
                out[str(name)] = middle_value(x)
            continue
        counts = col.value_counts(dropna=True, sort=True)
        if len(counts):
            out[str(name)] = _plain(counts.index[0])
    return out


def twin_columns(frame: pd.DataFrame, columns) -> list[list[str]]:
    """Groups of ``columns`` of ``frame`` that order the rows the same way.

    Parameters
    ----------
    frame : DataFrame
        Training rows, the ``columns`` numeric (NaN for missing).
    columns : list of str

    Returns
    -------
    list of list of str
        Groups of two or more columns whose pairwise Spearman correlation
        (missing values ranked apart, below every value) is at least
        :data:`TWIN_CORRELATION`; a column with fewer than
        :data:`TWIN_MIN_SPREAD` rows off its most frequent value (constant,
        or a rare event's counts) is in none.

    Examples
    --------
    >>> import pandas as pd
    >>> import numpy as np
    >>> minutes = np.arange(100.0)
    >>> X = pd.DataFrame({"minutes": minutes, "tickets": minutes % 7,
    ...                   "charge": 0.17 * minutes})
    >>> from churnkit.models._typical import twin_columns
    >>> twin_columns(X, ["minutes", "tickets", "charge"])
    [['minutes', 'charge']]
    """
    columns = [c for c in columns if c in frame]
    if len(columns) < 2 or len(frame) < 3:
        return []
    block = frame[columns]
    if len(block) > TWIN_ROWS:
        rows = np.random.default_rng(0).choice(len(block), TWIN_ROWS, replace=False)
        block = block.iloc[np.sort(rows)]
    ranks = block.rank(method="average", na_option="bottom").to_numpy(float, copy=True)
    ranks -= ranks.mean(axis=0)
    norm = np.sqrt((ranks**2).sum(axis=0))
    # a column that is one value but for a few rows (a rare event's counts)
    # ranks like another by chance on a sample: not enough to call them one
    mode = block.apply(lambda c: c.value_counts(dropna=False).iloc[0]).to_numpy()
    varied = np.flatnonzero((norm > 0) & (len(block) - mode >= TWIN_MIN_SPREAD))
    if len(varied) < 2:
        return []
    z = ranks[:, varied] / norm[varied]
    close = np.triu(z.T @ z >= TWIN_CORRELATION, k=1)
    # connected groups (a few pairs): each column points at its group's first
    root = np.arange(len(varied))
    for i, j in zip(*np.nonzero(close), strict=True):
        a, b = root[i], root[j]
        root[root == max(a, b)] = min(a, b)
    groups = pd.Series(np.arange(len(varied))).groupby(root).agg(list)
    return [[columns[varied[k]] for k in g] for g in groups if len(g) > 1]

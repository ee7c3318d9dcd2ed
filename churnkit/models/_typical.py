"""The typical value of each feature over a classifier's training rows.

A fitted :class:`~churnkit.ChurnClassifier` keeps, as ``typical_``, the median
of each numeric feature (numbers written as text read as the numbers the
model uses) and the most frequent level of each text or categorical one, over
its fit rows. Reason sentences on a static table compare an account with
these ("Tenure: 1 (typical: 29)"), so an account reads the same alone or in
any batch, and a single account still gets a "(typical: ...)" part; before,
typical was the median of the explained rows, none for fewer than 30.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TYPICAL_ROWS", "typical_values"]

#: more fit rows than this: the typical values come from a seeded sample of
#: this many (the median of 200,000 rows is within ~0.3 % of the quantile)
TYPICAL_ROWS = 200_000


def _plain(value):
    """A Python scalar (float, int, bool, str) for a safe model save."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return None if value is None or pd.isna(value) else str(value)


def typical_values(frame: pd.DataFrame, numeric_text=()) -> dict:
    """Median (numbers) or most frequent level (text, categories) of each column.

    Parameters
    ----------
    frame : DataFrame
        The fit rows, as the classifier validated them.
    numeric_text : iterable of str, default=()
        Text columns the model reads as numbers (``TablePrep``'s numeric
        columns that are not numeric in ``frame``): their median as a number.

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
    {'tenure': 5.0, 'plan': 'b', 'charges': 2.5}
    """
    if len(frame) > TYPICAL_ROWS:  # a seeded sample, the same on every fit
        rows = np.random.default_rng(0).choice(len(frame), TYPICAL_ROWS, replace=False)
        frame = frame.iloc[np.sort(rows)]
    numeric_text = set(numeric_text)
    out = {}
    for name, col in frame.items():
        dtype = col.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        if name in numeric_text or (
            pd.api.types.is_numeric_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype)
        ):
            x = pd.to_numeric(col, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            x = x[~np.isnan(x)]
            out[str(name)] = float(np.median(x)) if len(x) else float("nan")
            continue
        counts = col.value_counts(dropna=True, sort=True)
        if len(counts):
            out[str(name)] = _plain(counts.index[0])
    return out

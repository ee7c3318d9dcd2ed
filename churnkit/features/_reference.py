"""What is "typical" for an account: feature medians among accounts of its tenure.

A reason such as "3 messages in 90 days (typical: 64)" is only fair when the
reference is computed among comparable accounts: a 3-week-old account is not
compared with 3-year-old ones. :func:`typical_by_band` summarises the training
features per tenure band (median of numeric features, most frequent level of
categorical ones); :func:`typical_rows` looks the reference of each explained
row up by its own band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._stats import middle_value
from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME

__all__ = [
    "TENURE_BANDS",
    "MIN_BAND_ROWS",
    "band_labels",
    "tenure_days",
    "tenure_band",
    "typical_by_band",
    "typical_rows",
]

#: lower edges of the tenure bands, in days: first month, 1-3 months, 3-6
#: months, 6-12 months, 1-2 years, 2 years and more
TENURE_BANDS = (0, 30, 91, 182, 365, 730)
#: a band with fewer training rows (with a value) uses the next band towards
#: the middle of the population, and finally all rows
MIN_BAND_ROWS = 30
ALL = -1  #: band code of "all training rows"
#: the features tenure itself decides (a band's median tenure is the
#: account's own, give or take: "Customer for 125 days (typical: 134)" said
#: nothing): compared with all training rows
TENURE_FEATURES = ("profile__tenure_days", "profile__signup_cohort")


def band_labels() -> list:
    """Readable labels of the bands: ``['first month', '1-3 months', ...]``."""
    return [
        "first month",
        "1-3 months",
        "3-6 months",
        "6-12 months",
        "1-2 years",
        "2 years or more",
    ]


def tenure_days(events, index) -> np.ndarray:
    """Days from each row's signup to its cutoff; NaN where unknown.

    Parameters
    ----------
    events : Events
        The store with the customers' ``signup_time``.
    index : MultiIndex
        Rows as (``customer_id``, ``cutoff_time``).
    """
    names = list(getattr(index, "names", []))
    if events is None or CUSTOMER_ID not in names or CUTOFF_TIME not in names:
        return np.full(len(index), np.nan)
    ids = index.get_level_values(CUSTOMER_ID)
    start = _signups(events, ids)
    if start is None:
        return np.full(len(index), np.nan)
    cutoff = pd.DatetimeIndex(index.get_level_values(CUTOFF_TIME))
    cutoff = cutoff.tz_localize(None) if cutoff.tz is not None else cutoff
    days = (cutoff.to_numpy(dtype="datetime64[ns]") - start) / np.timedelta64(1, "D")
    return np.asarray(days, dtype="float64")


def _signups(events, ids):
    """Signup times of ``ids`` (NaT when unknown), found for these rows only:
    one account costs one lookup whatever the size of the store."""
    engine = getattr(events, "_engine", None)
    if engine is not None and getattr(engine, "signup_time", None) is not None:
        lookup = getattr(engine, "_id_lookup", None)
        if lookup is not None:
            codes = lookup(pd.Series(np.asarray(ids)))
            start = engine.signup_time[np.maximum(codes, 0)].view("datetime64[ns]")
            return np.where(codes >= 0, start, np.datetime64("NaT", "ns"))
    customers = events.customers
    if "signup_time" not in customers:
        return None
    signup = pd.Series(
        pd.to_datetime(customers["signup_time"]).to_numpy(),
        index=customers[CUSTOMER_ID].to_numpy(),
    )
    signup = signup[~signup.index.duplicated(keep="first")]
    return signup.reindex(ids).to_numpy(dtype="datetime64[ns]")


def tenure_band(days) -> np.ndarray:
    """Band code (0 = first month ... 5 = 2 years or more) of each tenure; -1 NaN."""
    days = np.asarray(days, dtype="float64")
    band = np.searchsorted(np.asarray(TENURE_BANDS[1:]), days, side="right")
    return np.where(np.isnan(days), ALL, band).astype(np.int64)


def _summary(col, rows) -> object:
    values = col.iloc[rows] if rows is not None else col
    if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        col.dtype
    ):
        counts = values.value_counts(dropna=True, sort=True)
        return (counts.index[0], int(counts.iloc[0])) if len(counts) else (None, 0)
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    x = x[~np.isnan(x)]
    return (middle_value(x), len(x)) if len(x) else (np.nan, 0)


def typical_by_band(features: pd.DataFrame, bands) -> pd.DataFrame:
    """Reference of each feature in each tenure band, from training features.

    Parameters
    ----------
    features : DataFrame
        Training feature table.
    bands : array-like of int
        :func:`tenure_band` of each row (-1 where unknown).

    Returns
    -------
    DataFrame
        Indexed by band code (``-1`` for all rows, then each band with rows),
        one column per feature: the median of the rows with a value (the most
        frequent level for categorical features). A band with fewer than
        :data:`MIN_BAND_ROWS` values of a feature takes the value of the
        nearest band towards the middle that has enough, else of all rows.
        Attribute ``attrs["rows"]`` holds the number of rows of each band.
    """
    bands = np.asarray(bands, dtype=np.int64)
    codes = [ALL, *range(len(TENURE_BANDS))]
    columns = {}
    members = {c: None if c == ALL else np.flatnonzero(bands == c) for c in codes}
    for name in features.columns:
        col = features[name]
        values, counts = {}, {}
        for code in codes:
            values[code], counts[code] = _summary(col, members[code])
        # borrow from the neighbour with more rows until enough values
        middle = max(range(len(TENURE_BANDS)), key=lambda c: counts[c])
        out = {ALL: values[ALL]}
        for code in range(len(TENURE_BANDS)):
            step = 1 if code < middle else -1
            c = code
            while counts[c] < MIN_BAND_ROWS and c != middle:
                c += step
            out[code] = values[c] if counts[c] >= MIN_BAND_ROWS else values[ALL]
        if name in TENURE_FEATURES:
            out = dict.fromkeys(codes, values[ALL])
        columns[name] = [out[code] for code in codes]
    index = pd.Index(codes, name="tenure_band")
    table = pd.DataFrame(columns, index=index, columns=list(features.columns))
    table = table.astype(object)
    table.attrs["rows"] = {
        int(code): int((bands == code).sum()) if code != ALL else len(bands)
        for code in codes
    }
    return table


def typical_rows(table: pd.DataFrame, bands, feature) -> np.ndarray:
    """The reference of ``feature`` for rows of the given bands (object array)."""
    bands = np.asarray(bands, dtype=np.int64)
    column = table[feature]
    codes = column.index.to_numpy()
    pos = np.searchsorted(codes, bands)
    pos = np.clip(pos, 0, len(codes) - 1)
    found = (codes[pos] == bands) & (bands != ALL)
    values = column.to_numpy(dtype=object)
    out = np.where(found, values[pos], column.loc[ALL])
    return np.asarray(out, dtype=object)

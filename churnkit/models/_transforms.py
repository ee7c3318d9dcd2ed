"""Shape numeric features for linear models: tame heavy tails, drop constants.

Event features are heavy-tailed: counts and amounts span orders of magnitude,
ratios and changes have a few huge values (``usage__events_change_90d`` up to
299 with mean 7 on the fightchurn simulation). Standard scaling then lets a few
accounts set the coefficients. :class:`FeatureShaper` sits between
:class:`~churnkit.models._prep.TablePrep` and the encoder of
``ChurnClassifier(model="logistic")``. Each numeric column gets a kind from
its values at fit:

- ``"constant"`` (at most one distinct value at fit, and never missing, or
  always): dropped;
- ``"flag"`` (two distinct values, or one value and missing ones): unchanged;
- ``"log"`` (counts, amounts, durations: no negative value at fit and a long
  right tail) and ``"clip"`` (changes, ratios, scores: signed, or not
  long-tailed): shaped.

With ``method="quantile"`` (the default) a shaped column becomes its
percentile rank at fit, in [0, 1]: the 101 percentiles of the fit's values,
ties mapped to the middle of the percentiles they span, linear interpolation
in between, and values outside the fit's range mapped to 0 or 1. With
``method="kind"``, ``"log"`` columns are clipped at the fit's 99.5 % quantile
and become ``sign(x) * log1p(|x|)``, and ``"clip"`` columns are clipped at the
fit's 0.5 % and 99.5 % quantiles. Forward in time on the fightchurn
simulation (``benchmarks/linear_quality.py``, mean of 2 folds), logistic
ROC-AUC was 0.649 without shaping, 0.685 with ``"kind"`` and 0.707 with
``"quantile"``; on the built-in data (3 folds) 0.771, 0.783 and 0.785: hence
the default.

The transform is a fixed function of each column, so a linear model on its
output is still linear in the model input: the closed-form explanations stay
exact (they are computed on the shaped columns and summed back to the user's
feature through ``feature_map_``), while reason texts read the raw values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["FeatureShaper", "signed_log1p", "percentile_rank"]

LOW_QUANTILE = 0.005  # clip bounds learned at fit ...
HIGH_QUANTILE = 0.995  # ... for every shaped column
LONG_TAIL = 3.0  # "log" when max > LONG_TAIL * (99th-percentile spread) ...
SKEW = 1.0  # ... or skewness above this (right tail)
PERCENTILES = np.linspace(0.0, 1.0, 101)
_METHODS = ("quantile", "kind")


def signed_log1p(x):
    """``sign(x) * log1p(|x|)``: log-like for large values, linear near 0.

    Parameters
    ----------
    x : array-like
        Values (NaN stays NaN).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> signed_log1p([0.0, 1.0, -1.0, 99.0]).round(4).tolist()
    [0.0, 0.6931, -0.6931, 4.6052]
    """
    x = np.asarray(x, dtype="float64")
    return np.sign(x) * np.log1p(np.abs(x))


def percentile_rank(x, quantiles):
    """Percentile rank of ``x`` given the 101 percentiles of a fit sample.

    Parameters
    ----------
    x : array-like
        Values to map (NaN stays NaN).
    quantiles : array-like of shape (101,)
        ``np.quantile(sample, np.linspace(0, 1, 101))``.

    Returns
    -------
    ndarray
        In [0, 1]: linear between percentiles, a value shared by several
        percentiles (ties) at their mean, 0 below the sample and 1 above.

    Examples
    --------
    >>> q = np.quantile([0.0, 1, 2, 3, 4], np.linspace(0, 1, 101))
    >>> percentile_rank([0.0, 1.0, 2.5, 10.0, -3.0], q).tolist()
    [0.0, 0.25, 0.625, 1.0, 0.0]
    """
    q = np.asarray(quantiles, dtype="float64")
    levels, first, counts = np.unique(q, return_index=True, return_counts=True)
    p = np.linspace(0.0, 1.0, len(q))
    mid = (p[first] + p[first + counts - 1]) / 2  # ties: the middle of their span
    x = np.asarray(x, dtype="float64")
    return np.where(np.isnan(x), np.nan, np.interp(x, levels, mid))


def _kind(values: np.ndarray) -> str:
    """The rule of one column from its non-missing values at fit."""
    finite = values[~np.isnan(values)]
    distinct = np.unique(finite)
    if len(distinct) == 1 and len(finite) < len(values):
        return "flag"  # one value or missing: the missing indicator is the signal
    if len(distinct) <= 1:
        return "constant"
    if len(distinct) == 2:
        return "flag"
    if finite.min() < 0:
        return "clip"
    q50, q99 = np.quantile(finite, [0.5, 0.99])
    spread = max(q99 - q50, np.finfo("float64").tiny)
    sd = finite.std()
    skew = 0.0 if sd == 0 else float(np.mean(((finite - finite.mean()) / sd) ** 3))
    if finite.max() - q50 > LONG_TAIL * spread or skew > SKEW:
        return "log"
    return "clip"


class FeatureShaper(TransformerMixin, BaseEstimator):
    """Per-column shaping of numeric features for linear models.

    Parameters
    ----------
    numeric_columns : list of str or None, default=None
        Columns to shape (the others, e.g. categoricals, pass through). None:
        every float column.
    method : {"quantile", "kind"}, default="quantile"
        How ``"log"`` and ``"clip"`` columns are shaped (see the module notes):
        their percentile rank at fit, or signed log1p / quantile clipping.

    Attributes
    ----------
    kinds_ : dict of str to str
        Numeric column -> ``"constant"``, ``"flag"``, ``"log"`` or ``"clip"``
        (see the module notes).
    bounds_ : dict of str to tuple of float
        Column -> ``(low, high)`` clip bounds on the raw values, learned at fit
        (``method="kind"``).
    quantiles_ : dict of str to ndarray
        Column -> its 101 percentiles at fit (``method="quantile"``).
    dropped_columns_ : list of str
        Constant columns, left out of the output (``n_dropped_`` of them).
    numeric_columns_ : list of str
        Numeric columns of the output.
    categorical_columns_ : list of str
        Other columns of the output, unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"logins": [0.0, 1, 3, 1000], "same": 1.0,
    ...                   "change": [-1.0, 0.0, 0.5, 2.0]})
    >>> shaper = FeatureShaper(method="kind").fit(X)
    >>> shaper.kinds_
    {'logins': 'log', 'same': 'constant', 'change': 'clip'}
    >>> shaper.transform(X).round(3).to_dict("list")
    {'logins': [0.015, 0.693, 1.386, 6.894], 'change': [-0.985, 0.0, 0.5, 1.977]}
    """

    def __init__(self, numeric_columns=None, *, method="quantile"):
        self.numeric_columns = numeric_columns
        self.method = method

    def fit(self, X: pd.DataFrame, y=None) -> FeatureShaper:
        """Learn each numeric column's rule and clip bounds.

        Parameters
        ----------
        X : DataFrame
            Output of :class:`~churnkit.models._prep.TablePrep`.
        y : None
            Ignored.

        Returns
        -------
        self : FeatureShaper
        """
        if self.method not in _METHODS:
            raise ValueError(
                f"`method` must be 'quantile' or 'kind'; got {self.method!r}."
            )
        numeric = (
            [c for c in X.columns if X[c].dtype == np.float64]
            if self.numeric_columns is None
            else list(self.numeric_columns)
        )
        kinds, bounds, quantiles = {}, {}, {}
        for col in numeric:
            values = X[col].to_numpy(dtype="float64")
            kinds[col] = _kind(values)
            if kinds[col] not in ("log", "clip"):
                continue
            if self.method == "quantile":
                quantiles[col] = np.nanquantile(values, PERCENTILES)
            else:
                lo, hi = np.nanquantile(values, [LOW_QUANTILE, HIGH_QUANTILE])
                bounds[col] = (float(lo), float(hi))
        dropped = [c for c in numeric if kinds[c] == "constant"]
        if len(dropped) == len(X.columns):  # a model needs at least one column
            dropped = []
        self.kinds_ = kinds
        self.bounds_ = bounds
        self.quantiles_ = quantiles
        self.dropped_columns_ = dropped
        self.n_dropped_ = len(dropped)
        self.numeric_columns_ = [c for c in numeric if c not in dropped]
        self.categorical_columns_ = [c for c in X.columns if c not in kinds]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted rules; constant columns are left out.

        Parameters
        ----------
        X : DataFrame
            Same columns as at fit.

        Returns
        -------
        DataFrame
            Indexed like ``X``, the columns of ``get_feature_names_out()``.
        """
        keep = [c for c in X.columns if c not in set(self.dropped_columns_)]
        out = X.loc[:, keep].copy(deep=False)
        for col, (lo, hi) in self.bounds_.items():
            values = np.clip(out[col].to_numpy(dtype="float64"), lo, hi)
            if self.kinds_[col] == "log":
                values = signed_log1p(values)
            out[col] = values
        for col, q in self.quantiles_.items():
            out[col] = percentile_rank(out[col].to_numpy(dtype="float64"), q)
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: the input names without the dropped ones.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        ndarray of str
        """
        dropped = set(self.dropped_columns_)
        return np.asarray([c for c in self.feature_names_in_ if c not in dropped])

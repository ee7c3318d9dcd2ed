"""The survival model's input: feature tables in, xgboost or linear model input out,
and the ``(event, duration)`` target in every form users hold it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.survival._labels import make_target


def read_target(y, n_rows=None):
    """(event bool array, duration float array) of a survival target.

    Accepts a structured array with an (event, time) pair of fields (the
    first boolean field is the event, the first float field the time: what
    ``ck.survival_array`` and scikit-survival's ``Surv`` make) or a DataFrame
    with ``duration`` and ``event`` columns.
    """
    if isinstance(y, pd.DataFrame):
        if not {"duration", "event"} <= set(y.columns):
            raise SchemaError(
                "y: a DataFrame target needs `duration` and `event` columns (as "
                f"from ck.label_survival); it has {list(y.columns)[:6]}."
            )
        target = make_target(y["event"].to_numpy(), y["duration"].to_numpy())
    elif isinstance(y, np.ndarray) and y.dtype.names and len(y.dtype.names) >= 2:
        names = y.dtype.names
        flag = [n for n in names if y.dtype[n].kind == "b"]
        times = [n for n in names if y.dtype[n].kind in "fiu"]
        if not flag or not times:
            raise SchemaError(
                f"y: a structured target needs a boolean event field and a numeric "
                f"time field; got fields {names}."
            )
        target = make_target(y[flag[0]], y[times[0]])
    else:
        raise ChurnkitTypeError(
            "y must be a survival target: ck.survival_array(frame) (a structured "
            "array, also scikit-survival's Surv) or a DataFrame with `duration` "
            f"and `event` columns; got {type(y).__name__}. For 0/1 churn labels "
            "use ck.ChurnClassifier."
        )
    if n_rows is not None and len(target) != n_rows:
        raise SchemaError(
            f"X has {n_rows} rows but y has {len(target)}; pass one target per row."
        )
    return target["event"], target["duration"]


class SurvivalInput:
    """Columns learned at fit: categories fixed, linear models standardised.

    For trees the table keeps numeric columns (float64, NaN kept) and
    categorical ones (pandas Categorical with the fit categories). For the
    linear model categories are one-hot encoded, missing numbers take the
    training median, and every column is standardised with training moments.
    """

    def __init__(self, *, linear):
        self.linear = linear

    def fit(self, X):
        if not isinstance(X, pd.DataFrame):
            raise ChurnkitTypeError(
                "ChurnSurvival takes a DataFrame of features (e.g. from "
                f"ck.ChurnFeatures); got {type(X).__name__}."
            )
        if len(X) == 0:
            raise SchemaError("X has no rows; fit on at least one labelled row.")
        self.columns = [str(c) for c in X.columns]
        self.categories = {}
        for c in X.columns:
            col = X[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                self.categories[str(c)] = list(col.cat.categories)
            elif not (
                pd.api.types.is_numeric_dtype(col.dtype)
                or pd.api.types.is_bool_dtype(col.dtype)
            ):
                self.categories[str(c)] = sorted(col.dropna().astype(str).unique())
        self.numeric = [c for c in self.columns if c not in self.categories]
        if self.linear:
            frame = self._encoded(X)
            self.medians = frame.median().fillna(0.0)
            filled = frame.fillna(self.medians)
            self.means = filled.mean()
            scale = filled.std(ddof=0)
            self.scales = scale.where(scale > 0, 1.0)
        return self

    def _table(self, X) -> pd.DataFrame:
        missing = [c for c in self.columns if c not in set(map(str, X.columns))]
        if missing:
            raise SchemaError(
                f"X lacks {len(missing)} feature column(s) seen in fit, e.g. "
                f"{missing[:5]}; pass the same features (the same feature step)."
            )
        X = X.set_axis([str(c) for c in X.columns], axis=1)
        out = {}
        for c in self.columns:
            col = X[c]
            if c in self.categories:
                values = col.astype(object).where(col.notna(), None)
                if not isinstance(col.dtype, pd.CategoricalDtype):
                    values = values.map(lambda v: None if v is None else str(v))
                out[c] = pd.Categorical(values, categories=self.categories[c])
            else:
                out[c] = pd.to_numeric(col, errors="raise").astype("float64")
        return pd.DataFrame(out, index=X.index)

    def _encoded(self, X) -> pd.DataFrame:
        table = self._table(X)
        parts = [table[self.numeric]]
        for c, levels in self.categories.items():
            codes = table[c].cat.codes.to_numpy()
            onehot = (codes[:, None] == np.arange(len(levels))[None, :]).astype(float)
            names = [f"{c}={level}" for level in levels]
            parts.append(pd.DataFrame(onehot, index=table.index, columns=names))
        return pd.concat(parts, axis=1)

    def transform(self, X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ChurnkitTypeError(
                f"X must be a DataFrame of features; got {type(X).__name__}."
            )
        if not self.linear:
            return self._table(X)
        frame = self._encoded(X).fillna(self.medians)
        return (frame - self.means) / self.scales

    def features(self, X) -> pd.DataFrame:
        """The user's features of ``X`` (categories fixed at fit), as explained."""
        return self._table(X)

    def feature_of(self, column) -> str:
        """The user feature a model-input column comes from."""
        return column.split("=", 1)[0] if column not in self.columns else column

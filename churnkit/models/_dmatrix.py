"""An xgboost DMatrix of a few model-input rows without pandas' per-column path.

``xgboost.DMatrix(frame, enable_categorical=True)`` inspects and converts a
pandas frame column by column: on a one-account request with a couple of
hundred model-input columns that fixed cost dwarfs the prediction. The model
input of a ``ChurnClassifier`` holds only float64 columns and pandas
Categoricals whose levels are fixed at fit, so :func:`dmatrix` hands xgboost
one float64 matrix instead, categorical columns as their level codes (missing:
NaN) typed ``"c"`` -- the values xgboost reads from the Categoricals itself
(codes, with -1 as missing) -- and the frame's column names. Frames of
other dtypes go through xgboost's own pandas path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dmatrix", "MAX_FAST_ROWS"]

MAX_FAST_ROWS = 10_000  #: larger frames: xgboost's own (columnar) path


def dmatrix(Xm, *, nthread):
    """``xgboost.DMatrix(Xm, enable_categorical=True, nthread=nthread)``, fast.

    Parameters
    ----------
    Xm : DataFrame
        Model input: float64 and categorical columns.
    nthread : int
        Threads of the DMatrix.

    Returns
    -------
    xgboost.DMatrix
        Same values, names and feature types as xgboost's pandas path.
    """
    from xgboost import DMatrix

    if not isinstance(Xm, pd.DataFrame) or len(Xm) > MAX_FAST_ROWS:
        return DMatrix(Xm, enable_categorical=True, nthread=nthread)
    dtypes = Xm.dtypes.to_numpy()
    kinds = []
    for dtype in dtypes:
        if isinstance(dtype, pd.CategoricalDtype):
            kinds.append("c")
        elif isinstance(dtype, np.dtype) and dtype == np.float64:
            kinds.append("float")
        else:  # nullable, integer, bool, object...: xgboost decides
            return DMatrix(Xm, enable_categorical=True, nthread=nthread)
    names = [str(c) for c in Xm.columns]
    if len(set(names)) != len(names):
        return DMatrix(Xm, enable_categorical=True, nthread=nthread)
    plain = Xm.set_axis(pd.RangeIndex(len(Xm)), axis=0)  # no MultiIndex copies
    kinds = np.array(kinds, dtype=object)
    values = np.empty((len(Xm), len(names)), dtype=np.float64)
    floats = np.flatnonzero(kinds == "float")
    if len(floats):
        values[:, floats] = plain.iloc[:, floats].to_numpy(dtype=np.float64)
    for j in np.flatnonzero(kinds == "c"):
        codes = plain.iloc[:, j].cat.codes.to_numpy().astype(np.float64)
        codes[codes < 0] = np.nan
        values[:, j] = codes
    return DMatrix(
        values,
        feature_names=names,
        feature_types=list(kinds),
        enable_categorical=True,
        nthread=nthread,
    )

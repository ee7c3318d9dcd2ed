"""Which exact TreeSHAP computes an xgboost model's contributions.

Two engines give the same values (path-dependent TreeSHAP of the margin):
xgboost's ``pred_contribs`` (the reference) and churnkit's precomputed path
weights (:mod:`churnkit.explain._treeshap`, several times faster once its
tables are built). The environment variable ``CHURNKIT_TREE_SHAP`` chooses:

- ``auto`` (default): the fast engine when the work is large enough to repay
  building its tables (``rows x trees >= AUTO_MIN_WORK``) and the model allows
  it (binary gbtree, no categorical splits, tables within ``MAX_TABLE_BYTES``,
  numeric input whose column names match the booster's); else ``pred_contribs``.
- ``fast``: the fast engine whenever the model allows it (a warning gives the
  reason when it does not).
- ``xgboost``: always ``pred_contribs``.

Compiled models are cached per booster (weakly) and iteration range.
"""

from __future__ import annotations

import os
import warnings
import weakref

import numpy as np
import pandas as pd

from churnkit.exceptions import SchemaError

__all__ = ["ENV_VAR", "fast_contribs"]

ENV_VAR = "CHURNKIT_TREE_SHAP"
_CHOICES = ("auto", "fast", "xgboost")
#: rows x trees from which ``auto`` uses the fast engine. Below it xgboost's
#: pred_contribs takes a few seconds at most, about what loading numba and
#: building the tables cost (300 depth-6 trees: ~1.3 s; numba's very first
#: compilation, cached on disk afterwards, ~30 s).
AUTO_MIN_WORK = 200_000
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _mode() -> str:
    mode = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if mode not in _CHOICES:
        raise SchemaError(
            f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not one of {_CHOICES}; unset it "
            "or set it to 'auto' (default), 'fast' or 'xgboost'."
        )
    return mode


def _numeric(X):
    """``X`` as a float32 array, or None when it holds non-numeric columns."""
    if isinstance(X, pd.DataFrame):
        if not all(
            isinstance(d, np.dtype) and d.kind in "biuf" for d in X.dtypes
        ):  # categorical, object, nullable extension dtypes: xgboost's own path
            return None
        return X.to_numpy(dtype=np.float32)
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        return None
    return X.astype(np.float32, copy=False)


def _compiled(booster, iteration_range):
    from churnkit.explain._treeshap import Unsupported, compile_booster

    key = (tuple(int(v) for v in iteration_range), booster.num_boosted_rounds())
    per_booster = _CACHE.setdefault(booster, {})
    if key not in per_booster:
        try:
            per_booster[key] = compile_booster(booster, iteration_range)
        except Unsupported as reason:
            per_booster[key] = reason
    return per_booster[key]


def fast_contribs(booster, dmatrix, X, iteration_range, n_threads=None):
    """``pred_contribs`` of ``X`` by the fast engine, or None to use xgboost's.

    Parameters
    ----------
    booster : xgboost.Booster
        The model.
    dmatrix : xgboost.DMatrix
        ``X`` as xgboost sees it (its feature names are checked).
    X : DataFrame or ndarray or None
        The model input; None: use xgboost's engine.
    iteration_range : tuple of int
        Boosting rounds, as in ``Booster.predict``.
    n_threads : int, default=None
        Threads for the fast engine.

    Returns
    -------
    ndarray of shape (n, n_features + 1) or None
        float64 contributions with the bias last, or None.
    """
    mode = _mode()
    if mode == "xgboost" or X is None:
        return None
    names = booster.feature_names
    if names is not None and list(dmatrix.feature_names or []) != list(names):
        return None  # xgboost raises its own clear error on mismatched columns
    rounds = booster.num_boosted_rounds()
    end = iteration_range[1] if iteration_range[1] > 0 else rounds
    if (
        mode == "auto"
        and dmatrix.num_row() * (end - iteration_range[0]) < AUTO_MIN_WORK
    ):
        return None
    values = _numeric(X)
    if values is None:
        return None
    model = _compiled(booster, iteration_range)
    if isinstance(model, Exception):
        if mode == "fast":
            warnings.warn(
                f"{ENV_VAR}=fast, but this model needs xgboost's pred_contribs: "
                f"{model}",
                UserWarning,
                stacklevel=4,
            )
        return None
    return model.shap_values(values, n_threads=n_threads)

"""The xgboost base model: booster settings, rounds and early stopping."""

from __future__ import annotations

import numpy as np
from joblib import effective_n_jobs

from churnkit.exceptions import SchemaError

__all__ = ["XGBOOST_PARAMS", "check_xgboost_names", "fit_xgboost"]

#: Booster settings for churn-sized tabular data (thousands to millions of rows,
#: tens to hundreds of features). Shallow trees keep TreeSHAP cheap and the model
#: smooth; the learning rate is low enough that early stopping, not the number of
#: rounds, decides the fit. Chosen a priori, never tuned on benchmark folds.
XGBOOST_PARAMS = {
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 1.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "tree_method": "hist",
    "eval_metric": "logloss",
}
MAX_ROUNDS = 500  # upper bound on boosting rounds
EARLY_STOPPING_ROUNDS = 50  # stop after this many rounds without hold-out gain
FALLBACK_ROUNDS = 100  # rounds used when no hold-out can be split off


def check_xgboost_names(columns) -> None:
    bad = [c for c in columns if any(ch in c for ch in "[]<")]
    if bad:
        raise SchemaError(
            f"xgboost cannot use column names containing '[', ']' or '<': {bad[:5]}. "
            "Rename those columns (e.g. 'income_lt_40k' for 'income<40k')."
        )


def _as_range(rows: np.ndarray):
    """``rows`` as a slice when they are consecutive positions, else as given."""
    rows = np.asarray(rows)
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all():
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def fit_xgboost(
    Xm, y01, weights, *, seed, n_jobs, split=None, rounds=None, monotone=None
):
    """Fit the xgboost base model; return (model, last boosting round used).

    With a ``split`` (a :class:`~churnkit.models._calibration.Holdout`), fit on
    ``split.train`` with early stopping on ``split.hold``; without, fit
    ``rounds`` rounds on all rows. ``monotone``: ``{column: +1 or -1}``, the
    booster's ``monotone_constraints`` (None or empty: unconstrained).
    """
    from xgboost import XGBClassifier

    params = dict(
        XGBOOST_PARAMS,
        random_state=seed,
        n_jobs=effective_n_jobs(n_jobs),
        enable_categorical=True,
    )
    if monotone:
        params["monotone_constraints"] = dict(monotone)
    if split is None:
        est = XGBClassifier(n_estimators=rounds, **params)
        est.fit(Xm, y01, sample_weight=weights, verbose=False)
        return est, rounds - 1
    # a time hold-out is the latest cutoffs: in canonical order both parts
    # are row ranges, and a range of rows is a view, not a copy of X
    tr, ho = _as_range(split.train), _as_range(split.hold)
    est = XGBClassifier(
        n_estimators=MAX_ROUNDS,
        early_stopping_rounds=EARLY_STOPPING_ROUNDS,
        **params,
    )
    est.fit(
        Xm.iloc[tr],
        y01[tr],
        sample_weight=None if weights is None else weights[tr],
        eval_set=[(Xm.iloc[ho], y01[ho])],
        sample_weight_eval_set=None if weights is None else [weights[ho]],
        verbose=False,
    )
    return est, int(est.best_iteration)

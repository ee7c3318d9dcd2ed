"""The xgboost base model: booster settings, rounds and early stopping.

A default fit boosts in two passes, as cheaply as the work allows:

1. :func:`early_stop` boosts on the training part of the hold-out split with
   the native :class:`xgboost.Booster` and reads the hold-out log-loss every
   ``EVAL_EVERY`` rounds from xgboost's prediction cache (only the new trees
   are evaluated; the log-loss is an elementwise numpy sum, never a BLAS call,
   whose spinning threads doubled the CPU of the boosting): the per-round
   ``eval_set`` of the scikit-learn wrapper cost more than the boosting itself;
2. :func:`fit_xgboost` refits on all rows with the chosen number of rounds,
   scaled by the share of rows the first pass did not see
   (:func:`scaled_rounds`), as one ``XGBClassifier.fit`` without evaluation.
"""

from __future__ import annotations

import numpy as np
from joblib import effective_n_jobs

from churnkit.exceptions import SchemaError

__all__ = [
    "XGBOOST_PARAMS",
    "booster_params",
    "check_xgboost_names",
    "early_stop",
    "fit_xgboost",
    "scaled_rounds",
    "xgboost_params",
]

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
MAX_ROUNDS = 1000  # upper bound on boosting rounds of the early-stopping pass
EARLY_STOPPING_ROUNDS = 25  # stop after this many rounds without hold-out gain
EVAL_EVERY = 5  # rounds between two reads of the hold-out log-loss
FALLBACK_ROUNDS = 100  # rounds used when no hold-out can be split off
#: Up to this many cells (rows x columns), the early-stopping pass trains on a
#: ``DMatrix``: it gives the trees of a ``QuantileDMatrix``, and on IBM Telco
#: (5,282 x 19) saved a quarter of that pass's CPU (building a QuantileDMatrix
#: goes through xgboost's Python data iterator). A DMatrix also holds a float32
#: copy of the table (about 8 bytes a cell: 16 MiB at this bound).
SMALL_DMATRIX_CELLS = 2_000_000


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


def xgboost_params(seed, n_jobs, monotone, overrides=None) -> dict:
    """The base model's settings as ``XGBClassifier`` keyword arguments.

    ``XGBOOST_PARAMS`` plus the seed, the threads, native categoricals and
    ``monotone_constraints`` (``{column: +1 or -1}``, left out when empty):
    what :func:`fit_xgboost` fits with, and what an engine's trainer is given
    (``churnkit.models._engine_fit``), so every engine boosts the same model.
    ``overrides``: settings that replace ``XGBOOST_PARAMS`` entries (the
    configuration ``model="auto"`` chose, see ``churnkit.models._auto``).
    """
    params = dict(
        XGBOOST_PARAMS,
        **(overrides or {}),
        random_state=seed,
        n_jobs=effective_n_jobs(n_jobs),
        enable_categorical=True,
    )
    if monotone:
        params["monotone_constraints"] = dict(monotone)
    return params


def scaled_rounds(best_rounds: int, n_all: float, n_train: float) -> int:
    """Rounds for a refit on ``n_all`` rows after ``best_rounds`` were best on
    ``n_train``: more rows support proportionally more rounds at the same
    learning rate (the rule of scikit-learn's and LightGBM's refits after early
    stopping), never fewer than ``best_rounds``.
    """
    return max(int(best_rounds), int(round(best_rounds * n_all / max(n_train, 1))))


def booster_params(params, columns) -> dict:
    """:func:`xgboost_params` under the native :class:`xgboost.Booster` names.

    ``columns`` (the model input's columns, in order) turn the monotone
    constraints into the booster's positional form ``"(1,0,-1)"``.
    """
    out = {
        k: v
        for k, v in params.items()
        if k
        not in (
            "random_state",
            "n_jobs",
            "enable_categorical",
            "eval_metric",
            "monotone_constraints",
        )
    }
    out.update(
        objective="binary:logistic",
        seed=params["random_state"],
        nthread=params["n_jobs"],
    )
    monotone = params.get("monotone_constraints")
    if monotone:
        out["monotone_constraints"] = _monotone_tuple(columns, monotone)
    return out


def early_stop(Xm, y01, weights, split, *, seed, n_jobs, monotone=None, overrides=None):
    """Boost on ``split.train``, stop on ``split.hold``'s log-loss.

    Returns ``(booster, best_rounds)``: the native booster (with the trees up to
    the stopping round) and the number of rounds, a multiple of ``EVAL_EVERY``,
    with the lowest hold-out log-loss (weighted by ``weights`` when given).
    Boosting stops ``EARLY_STOPPING_ROUNDS`` rounds after the last improvement,
    or at ``MAX_ROUNDS``.
    """
    import xgboost as xgb

    params = xgboost_params(seed, n_jobs, monotone, overrides)
    native = booster_params(params, Xm.columns)  # the native API's names
    tr, ho = _as_range(split.train), _as_range(split.hold)
    w_tr = None if weights is None else weights[tr]
    # a small table trains faster from a DMatrix (the same cuts and trees);
    # a large one only fits in memory as a QuantileDMatrix (no copy of X)
    small = len(y01) * Xm.shape[1] <= SMALL_DMATRIX_CELLS
    dtrain = (xgb.DMatrix if small else xgb.QuantileDMatrix)(
        Xm.iloc[tr],
        y01[tr],
        weight=w_tr,
        enable_categorical=True,
        nthread=params["n_jobs"],
    )
    dhold = xgb.DMatrix(Xm.iloc[ho], enable_categorical=True, nthread=params["n_jobs"])
    y_hold = y01[ho].astype("float64")
    w_hold = np.ones(len(y_hold)) if weights is None else weights[ho]
    w_hold = w_hold / w_hold.sum()
    booster = xgb.Booster(native, cache=[dtrain, dhold])
    best, best_loss = EVAL_EVERY, np.inf
    for i in range(MAX_ROUNDS):
        booster.update(dtrain, i)
        if i == 0:  # names checked once; re-reading them each round cost ~30%
            booster._assign_dmatrix_features = _names_checked
        rounds = i + 1
        if rounds % EVAL_EVERY:
            continue
        # the hold-out is in the booster's cache: predicting adds the new trees
        margin = booster.predict(dhold, output_margin=True, validate_features=False)
        margin = margin.astype("float64")
        loss = float((w_hold * (np.logaddexp(0.0, margin) - y_hold * margin)).sum())
        if loss < best_loss:
            best, best_loss = rounds, loss
        elif rounds - best >= EARLY_STOPPING_ROUNDS:
            break
    # the stand-in must not outlive the fit: a saved booster would carry it
    booster.__dict__.pop("_assign_dmatrix_features", None)
    return booster, best


def _names_checked(data) -> None:
    """Stands in for ``Booster._assign_dmatrix_features`` after the first round.

    The training matrix does not change between rounds, so its feature names,
    checked at the first update, need not be read back from xgboost each round.
    """


def _check_names_once():
    """An xgboost callback that applies :func:`_names_checked` after round 0."""
    from xgboost.callback import TrainingCallback

    class CheckNamesOnce(TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            if epoch == 0:
                model._assign_dmatrix_features = _names_checked
            return False

    return CheckNamesOnce()


def _monotone_tuple(columns, monotone) -> str:
    signs = [int(monotone.get(c, 0)) for c in columns]
    return "(" + ",".join(str(s) for s in signs) + ")"


def fit_xgboost(
    Xm, y01, weights, *, seed, n_jobs, rounds, monotone=None, overrides=None
):
    """Fit ``rounds`` rounds of the xgboost base model on all rows.

    Returns ``(model, last boosting round used)``. ``monotone``: ``{column: +1
    or -1}``, the booster's ``monotone_constraints`` (None or empty:
    unconstrained).
    """
    from xgboost import XGBClassifier

    params = xgboost_params(seed, n_jobs, monotone, overrides)
    est = XGBClassifier(n_estimators=rounds, callbacks=[_check_names_once()], **params)
    est.fit(Xm, y01, sample_weight=weights, verbose=False)
    # a fitted model carries no churnkit objects (set_params would also push
    # every parameter to the booster again)
    est.callbacks = None
    est.get_booster().__dict__.pop("_assign_dmatrix_features", None)
    return est, rounds - 1

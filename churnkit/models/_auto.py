"""``ChurnClassifier(model="auto")``: a small, fixed search on the training rows.

The search tries the candidates of :data:`AUTO_CANDIDATES` (five xgboost
configurations and the logistic model) and keeps the one with the best inner
ROC-AUC. It never sees a row the classifier was not given: every candidate is
a plain ``ChurnClassifier`` (``calibration=None``) fitted on part of the fit
rows and scored on the rest of them:

* with a ``cutoff_time`` index level (two or more cutoffs), up to
  :data:`INNER_FOLDS` forward-chaining splits: the latest cutoffs (at least
  ``validation_fraction`` of the rows, the same rule as the classifier's own
  hold-out) are scored by candidates trained on every earlier cutoff, then the
  block of cutoffs before them by candidates trained on the cutoffs before
  that, and so on while both parts keep ``MIN_CLASS_HOLDOUT`` rows of each
  class. The choice is made forward in time, as the model will be used, and
  on more than one month of churners: with one scored block of a few dozen
  churners (the fightchurn simulation) the ranking of candidates was noise;
* otherwise :data:`INNER_FOLDS`-fold stratified CV (shuffled with the
  classifier's ``random_state``).

The mean fold ROC-AUC decides. The budget is fixed, not timed, so a seeded
search is reproducible: at most ``len(AUTO_CANDIDATES) * INNER_FOLDS``
candidate fits (18), each on part of the rows, then the one ordinary fit of
the chosen model. Ties keep the earlier candidate, so the default wins unless
another one scores strictly better. With too few rows of a class for the inner
split (fewer than 10 per class in a part), the search is skipped and the
default xgboost is fitted.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from churnkit.models._calibration import (
    MIN_CLASS_HOLDOUT,
    choose_holdout,
    cutoff_codes,
)

__all__ = ["AUTO_CANDIDATES", "INNER_FOLDS", "search_models"]

#: (name, model kind, xgboost settings that replace ``XGBOOST_PARAMS``), tried
#: in this order. Chosen a priori to span the usual tuning directions, not
#: tuned on any benchmark fold: the default; deeper trees with larger leaves;
#: slower, more randomised boosting; near-additive stumps; one-vs-rest splits
#: on categoricals (regularises many-level columns such as a US state); and
#: the logistic model (heavy-tail shaping, scaling, one-hot encoding).
AUTO_CANDIDATES = (
    ("xgboost", "xgboost", {}),
    ("xgboost deep", "xgboost", {"max_depth": 6, "min_child_weight": 3.0}),
    (
        "xgboost slow",
        "xgboost",
        {
            "max_depth": 5,
            "learning_rate": 0.02,
            "min_child_weight": 5.0,
            "subsample": 0.7,
            "colsample_bytree": 0.7,
        },
    ),
    (
        "xgboost shallow",
        "xgboost",
        {"max_depth": 2, "learning_rate": 0.1, "colsample_bytree": 1.0},
    ),
    ("xgboost one-hot", "xgboost", {"max_cat_to_onehot": 64}),
    ("logistic", "logistic", {}),
)
INNER_FOLDS = 3  # stratified folds, or at most this many forward-in-time splits


def inner_splits(index, y01, fraction, seed) -> tuple[str | None, list]:
    """The search's (scheme, [(train positions, scored positions), ...]).

    Positions are into the fit rows as given (already in canonical order).
    ``(None, [])`` when a part would have fewer than ``MIN_CLASS_HOLDOUT`` rows
    of a class.
    """
    split, _ = choose_holdout(index, y01, fraction, seed)
    if split is not None and split.kind == "latest_cutoffs":
        return "latest_cutoffs", forward_splits(index, y01, len(split.cutoffs))
    counts = np.bincount(y01, minlength=2)
    if counts.min() < MIN_CLASS_HOLDOUT * INNER_FOLDS:
        return None, []
    folds = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    return "stratified_kfold", list(folds.split(np.zeros(len(y01)), y01))


def forward_splits(index, y01, block) -> list:
    """Forward-chaining splits over blocks of ``block`` distinct cutoffs.

    The first scores the latest block and trains on every earlier cutoff; each
    next one moves a block back in time. Stops at :data:`INNER_FOLDS` splits or
    when a part would have fewer than ``MIN_CLASS_HOLDOUT`` rows of a class
    (the first split always qualifies: it is the classifier's own hold-out).
    """
    codes, uniques = cutoff_codes(index)
    splits, end = [], len(uniques)
    while len(splits) < INNER_FOLDS and end - block >= 1:
        start = end - block
        train = np.flatnonzero(codes < start)
        scored = np.flatnonzero((codes >= start) & (codes < end))
        counts = [np.bincount(y01[rows], minlength=2).min() for rows in (train, scored)]
        if min(counts) < MIN_CLASS_HOLDOUT:
            break
        splits.append((train, scored))
        end = start
    return splits


def _rows(obj, positions):
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.iloc[positions]
    return np.asarray(obj)[positions]


def search_models(make, X, y, y01, index, sample_weight, *, fraction, seed):
    """Score every candidate on the inner splits of the fit rows.

    Parameters
    ----------
    make : callable
        ``make(kind, overrides)`` -> an unfitted plain ``ChurnClassifier``.
    X, y : the fit rows, in canonical order (DataFrame or array; raw labels).
    y01 : ndarray of 0/1, ``y`` as churn indicators.
    index : the fit rows' index (a ``cutoff_time`` level makes it forward in time).
    sample_weight : ndarray or None
    fraction : float, the classifier's ``validation_fraction``.
    seed : int, seeds the folds and every candidate.

    Returns
    -------
    (kind, overrides, search) : the chosen candidate and the record kept as
    ``ChurnClassifier.search_``.
    """
    scheme, splits = inner_splits(index, y01, fraction, seed)
    name0, kind0, over0 = AUTO_CANDIDATES[0]
    search = {
        "scheme": scheme,
        "n_splits": len(splits),
        "n_rows": int(len(y01)),
        "scored_rows": [int(len(s)) for _, s in splits],
        "candidates": [],
        "chosen": name0,
    }
    if not splits:
        return kind0, dict(over0), search
    best = (-np.inf, 0)
    for i, (name, kind, overrides) in enumerate(AUTO_CANDIDATES):
        scores, started = [], time.perf_counter()
        for train, scored in splits:
            clf = make(kind, dict(overrides))
            w = None if sample_weight is None else sample_weight[train]
            with warnings.catch_warnings():  # the final fit warns, not each try
                warnings.simplefilter("ignore")
                clf.fit(_rows(X, train), _rows(y, train), sample_weight=w)
            margin = clf.decision_function(_rows(X, scored))
            sw = None if sample_weight is None else sample_weight[scored]
            scores.append(float(roc_auc_score(y01[scored], margin, sample_weight=sw)))
        mean = float(np.mean(scores))
        search["candidates"].append(
            {
                "name": name,
                "model": kind,
                "params": dict(overrides),
                "inner_roc_auc": mean,
                "fold_roc_auc": scores,
                "fit_s": time.perf_counter() - started,
            }
        )
        if mean > best[0]:  # ties keep the earlier candidate
            best = (mean, i)
    name, kind, overrides = AUTO_CANDIDATES[best[1]]
    search["chosen"] = name
    return kind, dict(overrides), search

"""The logistic base model: its regularisation chosen on the hold-out.

Churn data sets have few positives (a few dozen to a few hundred churners per
cutoff) and tens of correlated event features, so the L2 penalty that fits
best varies from one data set to the next by orders of magnitude. As the
xgboost model chooses its number of rounds on the time-ordered hold-out, the
logistic model chooses its inverse penalty ``C`` there: one fit per value of
:data:`C_GRID` on the training part (warm-started from the previous, stronger
penalty), the hold-out's (weighted) log-loss read for each, the lowest wins,
and the model is then refit on every row with that ``C``. Without a hold-out
(too few rows of a class) the model keeps :data:`DEFAULT_C`.

Logistic ROC-AUC with ``C=1`` and with ``C`` chosen here
(``benchmarks/linear_quality.py``, ``benchmarks/cdnow_quality.py``): fightchurn
forward in time (``CutoffSplit(2)``, monthly cutoffs 2020-02..06, 1-month
horizon) 0.700 -> 0.716 (``C=0.003`` chosen on both folds); the built-in data
(``CutoffSplit(3)``) 0.782 -> 0.795; CDNOW (5-fold CV) 0.7724 -> 0.7721. The
grid costs about twice the CPU time of one fit of the classifier (CDNOW: 4.3 s
-> 8.3 s; fightchurn: 1.5 s -> 2.0 s).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["C_GRID", "DEFAULT_C", "choose_c", "fit_logistic"]

#: Inverse L2 penalties tried on the hold-out: 0.001 to 10, half a decade apart.
C_GRID = tuple(float(10.0**e) for e in np.arange(-3.0, 1.01, 0.5))
#: ``C`` when no hold-out could be split off (scikit-learn's default).
DEFAULT_C = 1.0
MAX_ITER = 1000


def fit_logistic(X, y, weights=None, *, C=DEFAULT_C) -> LogisticRegression:
    """``LogisticRegression(C=C)`` fitted on ``X, y`` (weighted when given)."""
    est = LogisticRegression(C=C, max_iter=MAX_ITER)
    return est.fit(X, y, sample_weight=weights)


def _log_loss(margin, y, w) -> float:
    """Weighted mean log-loss of log-odds ``margin`` (numerically stable)."""
    return float(np.sum(w * (np.logaddexp(0.0, margin) - y * margin)) / np.sum(w))


def choose_c(Xm, y01, weights, split) -> tuple[LogisticRegression, float]:
    """Fit one model per ``C`` of :data:`C_GRID` on ``split.train``.

    Returns the model with the lowest log-loss on ``split.hold`` (weighted by
    ``weights`` when given) and its ``C``; the first (strongest penalty) wins
    a tie. Each fit starts from the previous solution.
    """
    tr, ho = split.train, split.hold
    X_tr, y_tr = Xm.iloc[tr], y01[tr]
    w_tr = None if weights is None else weights[tr]
    X_ho, y_ho = Xm.iloc[ho], y01[ho].astype("float64")
    w_ho = np.ones(len(y_ho)) if weights is None else weights[ho]
    est = LogisticRegression(C=C_GRID[0], max_iter=MAX_ITER, warm_start=True)
    best, best_c, best_loss = None, DEFAULT_C, np.inf
    for c in C_GRID:
        est.set_params(C=c).fit(X_tr, y_tr, sample_weight=w_tr)
        loss = _log_loss(est.decision_function(X_ho), y_ho, w_ho)
        if loss < best_loss:
            best, best_c, best_loss = copy.deepcopy(est), c, loss
    best.set_params(warm_start=False)
    return best, best_c

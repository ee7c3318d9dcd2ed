"""Survival metrics: concordance (Harrell's, Uno's), time-dependent AUC, Brier.

Censoring is handled by inverse probability of censoring weights (IPCW):
``G(t)``, the Kaplan-Meier estimate of the probability of still being
followed at ``t``, from the training target when given (else the evaluated
one). These are the estimators of scikit-survival's
``concordance_index_ipcw``, ``cumulative_dynamic_auc`` and
``integrated_brier_score`` (Uno et al. 2011; Uno et al. 2007; Graf et al.
1999), written here on numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churnkit.exceptions import SchemaError
from churnkit.survival._cox import concordance
from churnkit.survival._input import read_target

__all__ = ["concordance_index", "time_dependent_auc", "integrated_brier_score"]


def concordance_index(y_true, y_score, *, method="harrell", tau=None, y_train=None):
    """Share of comparable pairs whose risk scores are in the right order.

    Parameters
    ----------
    y_true : structured array or DataFrame
        ``(event, duration)`` of the evaluated rows (:func:`survival_array`).
    y_score : array-like of shape (n_samples,)
        Risk scores: higher means churning sooner (``ChurnSurvival.predict``,
        or P(churn within h)).
    method : {"harrell", "uno"}, default="harrell"
        "harrell": every comparable pair counts once. "uno": pairs weighted by
        ``1 / G(t_i)^2`` so the index does not depend on the censoring.
    tau : float, default=None
        Only pairs whose earlier time is below ``tau`` days; None: all.
    y_train : structured array or DataFrame, default=None
        Target of the training rows, for ``G`` of Uno's C; None uses
        ``y_true``.

    Returns
    -------
    float
        0.5 for random scores, 1 for a perfect order. A pair (i, j) is
        comparable when ``t_i < t_j`` and row i churned; ties in score count
        one half.

    Examples
    --------
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> y = ck.survival_array(pd.DataFrame({"duration": [2.0, 4.0, 6.0, 8.0],
    ...                                     "event": [1, 1, 0, 1]}))
    >>> ck.concordance_index(y, [4.0, 3.0, 2.0, 1.0])
    1.0
    >>> round(ck.concordance_index(y, [1.0, 3.0, 2.0, 4.0]), 3)  # 1 of 5 pairs
    0.2
    """
    event, time = read_target(y_true)
    risk = _scores(y_score, len(time))
    if method not in ("harrell", "uno"):
        raise SchemaError(f"`method` must be 'harrell' or 'uno'; got {method!r}.")
    weights = None
    if method == "uno":
        G = _censoring(y_train if y_train is not None else y_true)
        g = G(time, left=True)
        weights = np.where(g > 0, 1.0 / np.maximum(g, 1e-12) ** 2, 0.0)
    conc, comp = concordance(time, event, risk, weights=weights, tau=tau)
    if comp == 0:
        raise SchemaError(
            "concordance_index: no comparable pair (a churn before another "
            "row's time); the evaluated rows need churns."
        )
    return conc / comp


def time_dependent_auc(y_true, y_score, times, *, y_train=None):
    """Cumulative/dynamic AUC: who churns by ``t`` vs who is still a customer.

    Parameters
    ----------
    y_true : structured array or DataFrame
        ``(event, duration)`` of the evaluated rows.
    y_score : array-like of shape (n_samples,) or (n_samples, n_times)
        Risk scores, one per row, or one per row and time (e.g. ``1 -
        S(t)`` from ``predict_survival_function``).
    times : array-like of float
        Days after the cutoff.
    y_train : structured array or DataFrame, default=None
        Target of the training rows, for the censoring weights; None uses
        ``y_true``.

    Returns
    -------
    Series
        AUC at each time (index: ``times``); ``.attrs["mean"]`` is their mean
        weighted by the change of the Kaplan-Meier survival, as in
        scikit-survival.

    Notes
    -----
    Cases churned at or before ``t`` (weight ``1 / G(t_i-)``, Uno et al.
    2007), controls are still followed after ``t``; rows censored before
    ``t`` are neither.

    Examples
    --------
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> y = ck.survival_array(pd.DataFrame({"duration": [2.0, 4.0, 6.0, 8.0],
    ...                                     "event": [1, 1, 0, 1]}))
    >>> ck.time_dependent_auc(y, [4.0, 3.0, 2.0, 1.0], [3.0, 5.0]).tolist()
    [1.0, 1.0]
    """
    event, time = read_target(y_true)
    times = np.atleast_1d(np.asarray(times, dtype="float64"))
    scores = np.asarray(y_score, dtype="float64")
    if scores.ndim == 1:
        scores = np.repeat(_scores(scores, len(time))[:, None], len(times), axis=1)
    if scores.shape != (len(time), len(times)):
        raise SchemaError(
            f"`y_score` must have shape ({len(time)},) or ({len(time)}, "
            f"{len(times)}); got {scores.shape}."
        )
    G = _censoring(y_train if y_train is not None else y_true)
    g = G(time, left=True)
    out = np.full(len(times), np.nan)
    for k, t in enumerate(times):  # a few horizons, each vectorised over rows
        case = event & (time <= t) & (g > 0)
        control = time > t
        if not case.any() or not control.any():
            continue
        use = case | control
        w = np.where(case, 1.0 / np.maximum(g, 1e-12), 1.0)[use]
        out[k] = roc_auc_score(case[use], scores[use, k], sample_weight=w)
    result = pd.Series(out, index=pd.Index(times, name="days"), name="auc")
    km = _kaplan_meier(time, event)(times)
    dS = -np.diff(np.concatenate([[1.0], km]))
    ok = ~np.isnan(out)
    result.attrs["mean"] = (
        float(np.sum(out[ok] * dS[ok]) / np.sum(dS[ok])) if dS[ok].sum() > 0 else np.nan
    )
    return result


def integrated_brier_score(y_true, survival, times, *, y_train=None):
    """Mean squared error of the survival curves, integrated over time.

    Parameters
    ----------
    y_true : structured array or DataFrame
        ``(event, duration)`` of the evaluated rows.
    survival : DataFrame or array-like of shape (n_samples, n_times)
        Predicted P(still a customer at t), e.g.
        ``model.predict_survival_function(X, times)``.
    times : array-like of float
        The days of ``survival``'s columns, increasing (at least two).
    y_train : structured array or DataFrame, default=None
        Target of the training rows, for the censoring weights; None uses
        ``y_true``.

    Returns
    -------
    float
        The trapezoidal integral of the Brier score over ``times`` divided by
        ``times[-1] - times[0]``. 0 is perfect; a constant 0.5 scores 0.25.

    Notes
    -----
    ``BS(t) = mean(1[t_i <= t, churned] * S_i(t)^2 / G(t_i-) + 1[t_i > t] *
    (1 - S_i(t))^2 / G(t))`` (Graf et al. 1999).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> y = ck.survival_array(pd.DataFrame({"duration": [2.0, 4.0, 6.0, 8.0],
    ...                                     "event": [1, 1, 1, 1]}))
    >>> perfect = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    >>> ck.integrated_brier_score(y, perfect, [3.0, 5.0])
    0.0
    """
    event, time = read_target(y_true)
    times = np.asarray(times, dtype="float64")
    S = np.asarray(survival, dtype="float64")
    if len(times) < 2 or np.any(np.diff(times) <= 0):
        raise SchemaError("`times` must hold at least two increasing days.")
    if S.shape != (len(time), len(times)):
        raise SchemaError(
            f"`survival` must have shape ({len(time)}, {len(times)}); got {S.shape}."
        )
    G = _censoring(y_train if y_train is not None else y_true)
    g_rows = G(time, left=True)
    g_times = G(times, left=False)
    case = (event[:, None] & (time[:, None] <= times[None, :])) & (g_rows[:, None] > 0)
    alive = time[:, None] > times[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(case, S**2 / g_rows[:, None], 0.0) + np.where(
            alive, (1 - S) ** 2 / g_times[None, :], 0.0
        )
    brier = err.mean(axis=0)
    return float(np.trapezoid(brier, times) / (times[-1] - times[0]))


def _scores(values, n) -> np.ndarray:
    scores = np.asarray(values, dtype="float64").ravel()
    if len(scores) != n:
        raise SchemaError(f"`y_score` has {len(scores)} values for {n} rows.")
    if not np.isfinite(scores).all():
        raise SchemaError("`y_score` holds NaN or infinite values.")
    return scores


def _kaplan_meier(time, event):
    """t -> Kaplan-Meier survival S(t) (right-continuous), or S(t-) with left."""
    uniq, inverse = np.unique(time, return_inverse=True)
    d = np.bincount(inverse, weights=event.astype(float), minlength=len(uniq))
    n_at = len(time) - np.concatenate([[0], np.cumsum(np.bincount(inverse))[:-1]])
    S = np.cumprod(1.0 - d / n_at)

    def at(t, left=False):
        pos = np.searchsorted(
            uniq, np.asarray(t, dtype="float64"), side="left" if left else "right"
        )
        return np.concatenate([[1.0], S])[pos]

    return at


def _censoring(y):
    """G: the Kaplan-Meier estimate of staying uncensored, from a target."""
    event, time = read_target(y)
    return _kaplan_meier(time, ~event)

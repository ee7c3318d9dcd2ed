"""Scores of a churn model: evaluate, lift and gains tables, calibration error.

Ranking ("the top 10% by score") is the core of lift, gains and profit. It is
defined once, here (:class:`Ranking`), for every function of
:mod:`churnkit.evaluation`:

* customers are sorted by score, highest first;
* customers with equal scores are never ordered among themselves: when a
  cutoff falls inside a group of tied scores, the group contributes its
  churners pro rata (the expected result of breaking the tie at random). The
  result therefore never depends on row order, and a constant score has a
  lift of exactly 1;
* the top fraction ``k`` holds exactly ``k * n`` customers; when that is not a
  whole number, the boundary customer counts for the fractional part (the
  cumulative gains curve, linear between customers, read at ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from churnkit._logging import warn
from churnkit._validation import (
    check_choice,
    check_fractions,
    check_int,
    validate_scores,
)
from churnkit.exceptions import DataQualityWarning, SchemaError

__all__ = [
    "evaluate",
    "lift_table",
    "expected_calibration_error",
    "Ranking",
    "no_class_warning",
    "calibration_bins",
    "STRATEGIES",
]

_EPS = 1e-15  # probabilities are clipped to [_EPS, 1 - _EPS] in the log loss
# the binning strategies of the calibration error and the reliability diagram
STRATEGIES = {"quantile": "equal-frequency bins", "uniform": "equal-width bins"}


def _percent(k: float) -> str:
    """0.1 -> '10%', 0.025 -> '2.5%'."""
    return f"{100 * k:.10g}%"


# --------------------------------------------------------------------------
# ranking: the cumulative gains curve
# --------------------------------------------------------------------------


class Ranking:
    """Customers sorted by score (highest first), with tied scores grouped.

    ``ends[j]`` is the number of customers with a score at least the ``j``-th
    distinct score (``ends[0] = 0``); :meth:`cumulative` sums a per-customer
    quantity over them, and :meth:`at` reads such a sum at any (fractional)
    number of customers, linear within a group of ties and between customers.
    """

    def __init__(self, y_score: np.ndarray) -> None:
        self.order = np.argsort(-y_score, kind="stable")
        self.sorted_scores = y_score[self.order]
        n = len(y_score)
        new = np.r_[True, self.sorted_scores[1:] != self.sorted_scores[:-1]]
        starts = np.flatnonzero(new)
        self.thresholds = self.sorted_scores[starts]  # distinct scores, descending
        self.ends = np.r_[0, starts[1:], n]  # customers at or above each score

    @property
    def n(self) -> int:
        return len(self.order)

    def cumulative(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the customers at or above each distinct score."""
        csum = np.r_[0.0, np.cumsum(values[self.order], dtype=float)]
        return csum[self.ends]

    def at(self, n_targeted: np.ndarray | float, cumulative: np.ndarray) -> np.ndarray:
        """``cumulative`` read at ``n_targeted`` customers (ties pro rata)."""
        return np.interp(n_targeted, self.ends, cumulative)


def no_class_warning(y: np.ndarray, what: str) -> bool:
    """Warn (and return True) when ``y_true`` holds a single class."""
    positives = y.sum()
    if 0 < positives < len(y):
        return False
    if positives == 0:
        why = "`y_true` has no churners (all 0)"
    else:
        why = "`y_true` has only churners (all 1)"
    warn(
        f"{why}, so {what} undefined and returned as NaN. Evaluate on a sample "
        "holding both churners and customers who stayed.",
        DataQualityWarning,
    )
    return True


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------


def evaluate(
    y_true: Any,
    y_score: Any,
    *,
    fractions: Sequence[float] = (0.05, 0.1, 0.2),
    n_bins: int = 10,
) -> pd.Series:
    """Score churn probabilities: ranking, probability quality and lift.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a customer who churned, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1], e.g.
        ``model.predict_proba(X)[:, 1]``. Two Series are matched on their index,
        anything else by position.
    fractions : sequence of float, default=(0.05, 0.1, 0.2)
        Fractions of the customer base, ranked by score, at which lift and
        capture are reported.
    n_bins : int, default=10
        Number of equal-frequency bins of the calibration error (see
        :func:`expected_calibration_error`).

    Returns
    -------
    scores : Series of float, name "score"
        Indexed by metric:

        - ``n``: number of customers; ``positives``: number of churners;
          ``base_rate``: their share.
        - ``roc_auc``: area under the ROC curve; ``pr_auc``: average precision
          (:func:`sklearn.metrics.average_precision_score`). Both are NaN, with
          a :class:`~churnkit.ChurnkitWarning`, when ``y_true`` holds one class.
        - ``log_loss``: mean negative log-likelihood, natural log, probabilities
          clipped to [1e-15, 1 - 1e-15]; ``brier``: mean squared error of the
          probabilities.
        - ``ece``: expected calibration error, ``n_bins`` equal-frequency bins.
        - ``lift@10%``: churn rate among the 10% highest scores divided by the
          base rate; ``capture@10%``: share of all churners found there (recall,
          the cumulative gain). One pair per entry of ``fractions``.

    See Also
    --------
    lift_table : Lift and capture for every decile.
    campaign_profit : What targeting the top of the list earns.

    Notes
    -----
    The top fraction ``k`` holds exactly ``k * n`` customers, highest scores
    first. A group of tied scores straddling the cutoff contributes its churners
    pro rata, the expected result of breaking the tie at random, and a boundary
    customer counts for the fractional part of ``k * n``. So the result never
    depends on row order, a constant score gets a lift of exactly 1, and when
    ``k * n`` is whole, ``lift@k`` equals the first row of
    ``lift_table(n_bins=round(1 / k))``.

    Examples
    --------
    >>> import churnkit as ck
    >>> scores = ck.evaluate([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], fractions=(0.5,))
    >>> scores["roc_auc"], scores["lift@50%"]
    (np.float64(0.75), np.float64(1.0))
    """
    return _evaluate(y_true, y_score, fractions=fractions, n_bins=n_bins)


def _evaluate(
    y_true: Any,
    y_score: Any,
    *,
    fractions: Sequence[float],
    n_bins: int,
) -> pd.Series:
    fractions = check_fractions(fractions, "fractions")
    n_bins = check_int(n_bins, "n_bins")
    y, p = validate_scores(y_true, y_score, probability=True)
    n = len(y)
    positives = y.sum()
    result: dict[str, float] = {
        "n": float(n),
        "positives": float(positives),
        "base_rate": positives / n,
    }
    if no_class_warning(y, "ROC-AUC and PR-AUC are"):
        result["roc_auc"] = result["pr_auc"] = np.nan
    else:
        result["roc_auc"] = float(roc_auc_score(y, p))
        result["pr_auc"] = float(average_precision_score(y, p))
    clipped = np.clip(p, _EPS, 1 - _EPS)
    result["log_loss"] = float(
        -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))
    )
    result["brier"] = float(np.mean((p - y) ** 2))
    result["ece"] = _ece(y, p, n_bins, "quantile")

    ranking = Ranking(p)
    cum_pos = ranking.cumulative(y)
    for k in fractions:
        captured = float(ranking.at(k * n, cum_pos))
        capture = captured / positives if positives > 0 else np.nan
        result[f"lift@{_percent(k)}"] = capture / k
        result[f"capture@{_percent(k)}"] = capture
    return pd.Series(result, name="score", dtype=float)


# --------------------------------------------------------------------------
# lift and gains tables
# --------------------------------------------------------------------------


def lift_table(y_true: Any, y_score: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Lift and gains by decile of predicted risk (bin 1 = highest scores).

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters, so any finite score works.
    n_bins : int, default=10
        Number of bins: 10 for deciles, 20 for ventiles.

    Returns
    -------
    table : DataFrame
        One row per bin, indexed by ``bin`` (1 = the highest scores), with
        columns:

        - ``n``: customers in the bin; ``churners``: churners among them;
          ``churn_rate``: their share.
        - ``cum_fraction``: share of all customers in bins 1 to this one.
        - ``cum_churners``: churners in bins 1 to this one; ``cum_capture``:
          their share of all churners (the cumulative gains curve).
        - ``lift``: ``churn_rate`` divided by the overall churn rate;
          ``cum_lift``: the same for bins 1 to this one
          (``cum_capture / cum_fraction``).
        - ``min_score`` / ``max_score``: the range of scores in the bin.

    See Also
    --------
    plot_gains, plot_lift : The same curves at every cutoff.

    Notes
    -----
    Bins are as equal as possible: the first ``n % n_bins`` bins hold one extra
    customer (as :func:`numpy.array_split`). Customers are ranked by score,
    highest first. Tied scores straddling a bin boundary share their churners
    pro rata between the bins (the expected result of a random tie-break), so
    ``churners`` may be fractional when scores tie, and the table never depends
    on row order. With no churners, lift and capture are NaN (with a warning).

    Examples
    --------
    >>> import churnkit as ck
    >>> table = ck.lift_table([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], n_bins=2)
    >>> table[["n", "churners", "lift"]]  # doctest: +NORMALIZE_WHITESPACE
         n  churners  lift
    bin
    1    2       1.0   1.0
    2    2       1.0   1.0
    """
    return _lift_table(y_true, y_score, n_bins=n_bins)


def _lift_table(y_true: Any, y_score: Any, *, n_bins: int) -> pd.DataFrame:
    bins = check_int(n_bins, "n_bins")
    y, s = validate_scores(y_true, y_score)
    n = len(y)
    if bins > n:
        raise SchemaError(
            f"cannot split {n} customers into {bins} bins; pass `n_bins` <= {n}."
        )
    sizes = np.full(bins, n // bins)
    sizes[: n % bins] += 1
    bounds = np.r_[0, np.cumsum(sizes)]
    ranking = Ranking(s)
    cum_churners = ranking.at(bounds, ranking.cumulative(y))
    churners = np.diff(cum_churners)
    positives = y.sum()
    base_rate = positives / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if positives == 0:
            no_class_warning(y, "lift and capture are")
        churn_rate = churners / sizes
        cum_fraction = bounds[1:] / n
        cum_capture = cum_churners[1:] / positives if positives else np.nan
        table = pd.DataFrame(
            {
                "n": sizes,
                "churners": churners,
                "churn_rate": churn_rate,
                "cum_fraction": cum_fraction,
                "cum_churners": cum_churners[1:],
                "cum_capture": cum_capture,
                "lift": churn_rate / base_rate if positives else np.nan,
                "cum_lift": cum_capture / cum_fraction,
                "min_score": ranking.sorted_scores[bounds[1:] - 1],
                "max_score": ranking.sorted_scores[bounds[:-1]],
            },
            index=pd.RangeIndex(1, bins + 1, name="bin"),
        )
    return table


# --------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------


def calibration_bins(
    y: np.ndarray, p: np.ndarray, n_bins: int, strategy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per non-empty bin: count, mean predicted probability, observed churn rate."""
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], p)  # (lower, upper]; bin 0 also holds its lower
    count = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    keep = count > 0
    return count[keep], sum_p[keep] / count[keep], sum_y[keep] / count[keep]


def _ece(y: np.ndarray, p: np.ndarray, n_bins: int, strategy: str) -> float:
    count, mean_p, rate = calibration_bins(y, p, n_bins, strategy)
    return float(np.sum(count * np.abs(rate - mean_p)) / count.sum())


def expected_calibration_error(
    y_true: Any, y_prob: Any, *, n_bins: int = 10, strategy: str = "quantile"
) -> float:
    """Expected calibration error: how far predicted churn rates are from observed ones.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_prob : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        "quantile": equal-frequency bins, edges at the quantiles of ``y_prob``
        (robust when probabilities crowd near 0, as churn probabilities do);
        "uniform": equal-width bins on [0, 1].

    Returns
    -------
    ece : float
        ``sum_b (n_b / n) * |observed churn rate_b - mean predicted probability_b|``
        over the non-empty bins ``b``, in probability points (0 is perfect).

    See Also
    --------
    plot_calibration : The reliability diagram drawn from the same bins.

    Notes
    -----
    The bins are those of :func:`sklearn.calibration.calibration_curve`: a
    probability goes to bin ``(lower, upper]``, the first bin also holds its
    lower edge, and empty bins are skipped. Tied probabilities always share a
    bin, so with many ties quantile bins can be unequal (or fewer).

    Examples
    --------
    >>> import churnkit as ck
    >>> y, p = [0, 1, 0, 1], [0.2, 0.2, 0.7, 0.7]
    >>> ece = ck.expected_calibration_error(y, p, n_bins=2)
    >>> round(ece, 4)  # bins {0.2, 0.2}: |0.5 - 0.2|; {0.7, 0.7}: |0.5 - 0.7|
    0.25
    """
    n_bins = check_int(n_bins, "n_bins")
    strategy = check_choice(strategy, "strategy", STRATEGIES)
    y, p = validate_scores(y_true, y_prob, name="y_prob", probability=True)
    return _ece(y, p, n_bins, strategy)

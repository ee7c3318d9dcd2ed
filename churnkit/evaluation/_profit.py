"""What a retention campaign earns: campaign_profit, emp_score and emp_scorer.

:func:`emp_score` and :data:`emp_scorer` implement the expected maximum profit
measure for customer churn (Verbraken, Verbeke & Baesens, 2013), for model
selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import make_scorer

from churnkit._validation import (
    align,
    as_series,
    check_fractions,
    check_number,
    check_scores,
    unwrap,
    validate_scores,
)
from churnkit.evaluation._scores import Ranking, no_class_warning
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["campaign_profit", "emp_score", "emp_fraction", "emp_scorer"]


# --------------------------------------------------------------------------
# profit
# --------------------------------------------------------------------------


def _check_value(value: Any, y_true: Any, n: int) -> np.ndarray:
    """Customer value: a scalar, or one finite number per customer."""
    if isinstance(value, bool):
        raise ChurnkitTypeError(f"`value` must be a number or an array; got {value!r}.")
    if np.isscalar(value):
        return np.full(n, check_number(value, "value"))
    series = as_series(value, "value")
    positional = not (
        isinstance(unwrap(y_true), pd.Series) and isinstance(unwrap(value), pd.Series)
    )
    if positional:
        series = series.reset_index(drop=True)
        labels = pd.Series(np.zeros(n))
    else:
        labels = unwrap(y_true)
    _, series = align(labels, series, ("y_true", "value"))
    return check_scores(series, "value", positional, probability=False)


def campaign_profit(
    y_true: Any,
    y_score: Any,
    *,
    value: Any,
    contact_cost: float,
    incentive: float,
    accept_rate: float,
    nonchurner_accept_rate: float = 1.0,
    fractions: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Expected profit of a retention campaign that targets the top of the list.

    The campaign contacts the customers with the highest churn scores and
    offers them an incentive to stay.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a customer who churned (without a campaign), 0 otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    value : float or array-like of shape (n_customers,)
        Value of keeping a customer, e.g. the customer lifetime value (CLV):
        one number for everyone, or one per customer (a Series is matched to
        ``y_true`` on its index).
    contact_cost : float
        Cost of contacting one customer (a call, a mailing), paid for everyone
        targeted.
    incentive : float
        Cost of the incentive (a discount, a free month), paid for every
        targeted customer who accepts it.
    accept_rate : float
        Probability that a contacted churner accepts the offer and stays.
    nonchurner_accept_rate : float, default=1.0
        Probability that a contacted customer who would have stayed anyway takes
        the incentive. 1.0 is the assumption of Neslin et al. (2006) and
        Verbraken et al. (2013): nobody refuses a free gift.
    fractions : sequence of float, default=None
        Fractions of the customer base to evaluate, e.g.
        ``np.linspace(0, 1, 101)``, each rounded to a whole number of customers.
        By default, every distinct score is a cutoff: one row per distinct
        score, plus a first row for targeting nobody.

    Returns
    -------
    profit : DataFrame
        One row per cutoff, sorted by fraction targeted, with columns

        - ``fraction``: share of customers targeted; ``n_targeted``: how many;
        - ``threshold``: target customers with a score at least this (inf for
          nobody);
        - ``churners_targeted``: churners among them;
        - ``expected_saved``: ``accept_rate * churners_targeted``;
        - ``profit``: expected profit of the campaign, in the units of ``value``.

        ``profit.attrs`` holds the best cutoff: ``"best_fraction"``,
        ``"best_n_targeted"``, ``"best_threshold"`` and ``"best_profit"`` (the
        smallest campaign among equally profitable ones). Read them as
        ``profit.attrs["best_fraction"]``; they do not survive every pandas
        operation, so read them before filtering.

    See Also
    --------
    emp_score : The expected maximum profit when the accept rate is uncertain.

    Notes
    -----
    The expected profit of targeting the set ``T`` is (Neslin et al., 2006;
    Verbraken, Verbeke & Baesens, 2013)::

        sum over churners in T     of  accept_rate * (value_i - incentive)
      - sum over non-churners in T of  nonchurner_accept_rate * incentive
      - |T| * contact_cost

    A churner who accepts is kept, and brings ``value`` minus the incentive; one
    who refuses leaves, costing only the contact. Without a campaign the profit
    is 0. Ties are handled as in :func:`evaluate`: a cutoff inside a group of
    tied scores targets part of the group at random, and counts its churners
    and values pro rata.

    Examples
    --------
    >>> import churnkit as ck
    >>> profit = ck.campaign_profit(
    ...     [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1],
    ...     value=100, contact_cost=1, incentive=10, accept_rate=0.5,
    ... )
    >>> profit.attrs["best_fraction"], profit.attrs["best_profit"]
    (0.75, 77.0)
    """
    y, s = validate_scores(y_true, y_score)
    n = len(y)
    values = _check_value(value, y_true, n)
    contact_cost = check_number(contact_cost, "contact_cost", low=0)
    incentive = check_number(incentive, "incentive", low=0)
    accept_rate = check_number(accept_rate, "accept_rate", low=0, high=1)
    nonchurner_accept_rate = check_number(
        nonchurner_accept_rate, "nonchurner_accept_rate", low=0, high=1
    )
    gain = (
        y * accept_rate * (values - incentive)
        - (1 - y) * nonchurner_accept_rate * incentive
        - contact_cost
    )
    ranking = Ranking(s)
    cum_churners = ranking.cumulative(y)
    cum_profit = ranking.cumulative(gain)
    if fractions is None:
        n_targeted = ranking.ends.astype(float)
        threshold = np.r_[np.inf, ranking.thresholds]
        churners, profit = cum_churners, cum_profit
    else:
        grid = check_fractions(fractions, "fractions", allow_zero=True)
        n_targeted = np.unique(np.floor(np.asarray(grid, dtype=float) * n + 0.5))
        positions = n_targeted.astype(int)
        threshold = np.where(
            positions > 0, ranking.sorted_scores[np.maximum(positions - 1, 0)], np.inf
        )
        churners = ranking.at(n_targeted, cum_churners)
        profit = ranking.at(n_targeted, cum_profit)
    table = pd.DataFrame(
        {
            "fraction": n_targeted / n,
            "n_targeted": n_targeted.astype(int),
            "threshold": threshold,
            "churners_targeted": churners,
            "expected_saved": accept_rate * churners,
            "profit": profit,
        }
    )
    best = int(np.argmax(table["profit"].to_numpy()))
    table.attrs.update(
        best_fraction=float(table["fraction"].iat[best]),
        best_n_targeted=int(table["n_targeted"].iat[best]),
        best_threshold=float(table["threshold"].iat[best]),
        best_profit=float(table["profit"].iat[best]),
    )
    return table


# --------------------------------------------------------------------------
# expected maximum profit (EMP) for customer churn
# --------------------------------------------------------------------------


def _roc_convex_hull(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (fpr, tpr) of the ROC convex hull, from (0, 0) to (1, 1).

    Built on integer counts (false positives, true positives), so collinear
    points are detected exactly and dropped.
    """
    ranking = Ranking(s)
    tp = np.rint(ranking.cumulative(y)).astype(np.int64)
    fp = ranking.ends - tp
    hull: list[tuple[int, int]] = []
    for point in zip(fp.tolist(), tp.tolist(), strict=True):
        while len(hull) >= 2:
            (x0, y0), (x1, y1) = hull[-2], hull[-1]
            if (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0) < 0:
                break  # a right (clockwise) turn keeps hull[-1] on the upper hull
            hull.pop()
        hull.append(point)
    counts = np.asarray(hull, dtype=float)
    return counts[:, 0] / fp[-1], counts[:, 1] / tp[-1]


def emp_score(
    y_true: Any,
    y_score: Any,
    *,
    value: float = 200.0,
    incentive: float = 10.0,
    contact_cost: float = 1.0,
    alpha: float = 6.0,
    beta: float = 14.0,
) -> float:
    """Expected maximum profit measure for customer churn (EMPC), per customer.

    The profit, per customer in the base, of a retention campaign run at the
    most profitable cutoff, averaged over an uncertain acceptance rate
    (Verbraken, Verbeke & Baesens, 2013). Higher is better; use it to select
    models with :data:`emp_scorer`.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    value : float, default=200
        Lifetime value of a retained churner (the paper's ``CLV``); one number
        for the whole base, unlike :func:`campaign_profit`'s per-customer value.
    incentive : float, default=10
        Cost of the incentive offered, paid by everyone who accepts it (the
        paper's ``d``; ``0 <= incentive < value``).
    contact_cost : float, default=1
        Cost of contacting one customer (the paper's ``f``).
    alpha : float, default=6
        First parameter of the Beta distribution of the probability ``gamma``
        that a contacted churner accepts the offer (mean
        ``alpha / (alpha + beta)``, 0.3 by default).
    beta : float, default=14
        Second parameter of that Beta distribution.

    Returns
    -------
    float
        Expected maximum profit per customer, in the units of ``value``. NaN,
        with a :class:`~churnkit.ChurnkitWarning`, when ``y_true`` holds one
        class.

    See Also
    --------
    emp_fraction : The expected fraction of the base targeted at that optimum.
    campaign_profit : Profit at every cutoff for known costs and accept rate.

    Notes
    -----
    In the paper's symbols, ``clv = value``, ``d = incentive`` and
    ``f = contact_cost``. With ``delta = d / clv``, ``phi = f / clv``, churn
    prior ``pi0`` and ``pi1 = 1 - pi0``, targeting the customers scored at
    least ``t`` earns, per customer (churners accept with probability
    ``gamma``; non-churners always take the incentive)::

        P(t; gamma) = clv * [(gamma * (1 - delta) - phi) * pi0 * F0(t)
                             - (delta + phi) * pi1 * F1(t)]

    where ``F0(t)`` is the fraction of churners targeted (the true positive
    rate) and ``F1(t)`` the fraction of non-churners targeted (the false
    positive rate). The optimal cutoff is a vertex ``i = 0..m`` of the ROC
    convex hull, from ``(F1, F0) = (0, 0)`` to ``(1, 1)``. Moving from vertex
    ``i`` to ``i + 1`` pays when ``gamma`` exceeds::

        gamma_i = (pi1 * (delta + phi) * (F1[i+1] - F1[i]))
                  / (pi0 * (1 - delta) * (F0[i+1] - F0[i]))  +  phi / (1 - delta)

    which increases with ``i`` on a convex hull. With ``gamma_{-1} = 0``,
    ``gamma_m = inf``, ``B`` the Beta(alpha, beta) CDF and ``B1`` the
    Beta(alpha + 1, beta) CDF (so that the integral of ``gamma * h(gamma)`` over
    ``[a, b]`` is ``alpha / (alpha + beta) * (B1(b) - B1(a))``)::

        EMP = clv * sum_i [ (1 - delta) * pi0 * F0[i] * alpha / (alpha + beta)
                              * (B1(gamma_i) - B1(gamma_{i-1}))
                            - (phi * pi0 * F0[i] + (delta + phi) * pi1 * F1[i])
                              * (B(gamma_i) - B(gamma_{i-1})) ]

    and the expected fraction targeted is
    ``sum_i (pi0 * F0[i] + pi1 * F1[i]) * (B(gamma_i) - B(gamma_{i-1}))``.
    Tied scores form one ROC point, as in :func:`sklearn.metrics.roc_curve`.
    The defaults are those of the paper and of the R package ``EMP``.

    References
    ----------
    T. Verbraken, W. Verbeke and B. Baesens (2013). A novel profit maximizing
    metric for measuring classification performance of customer churn prediction
    models. IEEE Transactions on Knowledge and Data Engineering, 25(5), 961-973.

    S. A. Neslin, S. Gupta, W. Kamakura, J. Lu and C. H. Mason (2006). Defection
    detection: measuring and understanding the predictive accuracy of customer
    churn models. Journal of Marketing Research, 43(2), 204-211.

    Examples
    --------
    >>> import churnkit as ck
    >>> y = [0, 1, 0, 1, 0, 1, 0, 1]
    >>> score = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9]
    >>> round(ck.emp_score(y, score), 4)
    23.8756

    Model selection, e.g. with a higher lifetime value::

        from sklearn.metrics import make_scorer
        scorer = make_scorer(
            ck.emp_score, response_method="predict_proba", value=500
        )
        GridSearchCV(model, grid, scoring=scorer)  # or scoring=ck.emp_scorer
    """
    return _emp(y_true, y_score, value, incentive, contact_cost, alpha, beta)[0]


def emp_fraction(
    y_true: Any,
    y_score: Any,
    *,
    value: float = 200.0,
    incentive: float = 10.0,
    contact_cost: float = 1.0,
    alpha: float = 6.0,
    beta: float = 14.0,
) -> float:
    """Expected fraction of the customer base an EMP-optimal campaign contacts.

    The companion of :func:`emp_score`: the share of customers, ranked by
    score, that the most profitable campaign targets, averaged over the same
    uncertain acceptance rate.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    value : float, default=200
        Lifetime value of a retained churner (the paper's ``CLV``).
    incentive : float, default=10
        Cost of the incentive, paid by everyone who accepts it (``d``).
    contact_cost : float, default=1
        Cost of contacting one customer (``f``).
    alpha : float, default=6
        First parameter of the Beta distribution of the accept rate.
    beta : float, default=14
        Second parameter of that Beta distribution.

    Returns
    -------
    float
        The expected fraction in [0, 1]; NaN, with a
        :class:`~churnkit.ChurnkitWarning`, when ``y_true`` holds one class.

    See Also
    --------
    emp_score : The expected maximum profit itself; its Notes give the formula.

    Examples
    --------
    >>> import churnkit as ck
    >>> y = [0, 1, 0, 1, 0, 1, 0, 1]
    >>> score = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9]
    >>> round(ck.emp_fraction(y, score), 4)
    0.8744
    """
    return _emp(y_true, y_score, value, incentive, contact_cost, alpha, beta)[1]


def _emp(y_true, y_score, value, incentive, contact_cost, alpha, beta):
    """(EMP per customer, expected fraction targeted); see emp_score's Notes."""
    from scipy.stats import beta as beta_dist

    clv = check_number(value, "value")
    if clv <= 0:
        raise SchemaError(f"`value` must be positive; got {value!r}.")
    d = check_number(incentive, "incentive", low=0)
    if d >= clv:
        raise SchemaError(
            f"the `incentive` ({d!r}) must cost less than the lifetime `value` "
            f"({clv!r}); otherwise no churner is worth saving."
        )
    f = check_number(contact_cost, "contact_cost", low=0)
    for name, shape in (("alpha", alpha), ("beta", beta)):
        if check_number(shape, name) <= 0:
            raise SchemaError(f"`{name}` must be positive; got {shape!r}.")
    y, s = validate_scores(y_true, y_score)
    if no_class_warning(y, "the EMP is"):
        return np.nan, np.nan

    delta, phi = d / clv, f / clv
    pi0 = y.mean()
    pi1 = 1 - pi0
    fpr, tpr = _roc_convex_hull(y, s)
    d_fpr, d_tpr = np.diff(fpr), np.diff(tpr)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = (pi1 * (delta + phi) * d_fpr) / (pi0 * (1 - delta) * d_tpr) + phi / (
            1 - delta
        )
    gamma = np.where(d_tpr > 0, gamma, np.inf)  # a flat segment never pays
    gamma = np.maximum.accumulate(gamma)  # guards against rounding only
    bounds = np.r_[0.0, gamma, np.inf]
    weight = np.diff(beta_dist.cdf(bounds, alpha, beta))
    weight1 = np.diff(beta_dist.cdf(bounds, alpha + 1, beta))
    mean_gamma = alpha / (alpha + beta)
    emp = clv * np.sum(
        (1 - delta) * pi0 * tpr * mean_gamma * weight1
        - (phi * pi0 * tpr + (delta + phi) * pi1 * fpr) * weight
    )
    fraction = np.sum((pi0 * tpr + pi1 * fpr) * weight)
    return float(emp), float(fraction)


emp_scorer = make_scorer(emp_score, response_method="predict_proba")
"""Scorer for model selection by EMP with the paper's default costs.

``GridSearchCV(model, grid, scoring=ck.emp_scorer)``. For other costs, build one:
``make_scorer(ck.emp_score, response_method="predict_proba", value=500,
incentive=25)``.
"""

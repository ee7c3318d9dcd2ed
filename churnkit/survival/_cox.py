"""Cox partial likelihood (Breslow ties), its baseline hazard, and concordance.

Vectorised over rows: risk-set sums are cumulative sums over rows sorted by
decreasing time, tied times share the sum of their whole tie group.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def risk_set_index(time):
    """(order by decreasing time, position in that order of each tie group's last row).

    ``S[last]`` with ``S = cumsum(w[order])`` is ``sum(w[j] for t_j >= t_i)``.
    """
    order = np.argsort(-time, kind="stable")
    t = -time[order]  # ascending
    last = np.searchsorted(t, t, side="right") - 1
    return order, last


def breslow(eta, time, event):
    """Breslow's cumulative baseline hazard: (event times ascending, H0 there).

    ``H0(t) = sum over event times s <= t of d(s) / sum_{j: t_j >= s} exp(eta_j)``.
    """
    shift = float(np.max(eta)) if len(eta) else 0.0
    order, last = risk_set_index(time)
    at_risk = np.cumsum(np.exp(eta[order] - shift))[last]
    ev = event[order].astype(bool)
    times, inverse = np.unique(time[order][ev], return_inverse=True)
    deaths = np.bincount(inverse, minlength=len(times)).astype("float64")
    denom = np.zeros(len(times))
    denom[inverse] = at_risk[ev]  # equal within a tie group
    hazard = deaths / denom * np.exp(-shift)
    return times, np.cumsum(hazard)


def fit_linear_cox(X, time, event, *, l2=1.0):
    """Coefficients of a ridge-penalised Cox model (Breslow ties), by L-BFGS.

    ``X`` is standardised; the penalty is ``l2 / 2 * ||beta||^2`` on the mean
    partial log-likelihood.
    """
    n, p = X.shape
    order, last = risk_set_index(time)
    Xs = X[order]
    ev = event[order].astype(bool)
    n_events = max(int(ev.sum()), 1)

    def loss(beta):
        eta = Xs @ beta
        shift = eta.max() if n else 0.0
        w = np.exp(eta - shift)
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w[:, None] * Xs, axis=0)[last]
        ll = np.sum(eta[ev] - shift - np.log(s0[ev]))
        grad = np.sum(Xs[ev] - s1[ev] / s0[ev, None], axis=0)
        value = -ll / n_events + 0.5 * l2 * beta @ beta
        return value, -grad / n_events + l2 * beta

    result = minimize(loss, np.zeros(p), jac=True, method="L-BFGS-B")
    return result.x


def concordance(time, event, risk, *, weights=None, tau=None):
    """(concordant + ties / 2, comparable) pair weights: Harrell's or Uno's C.

    A pair (i, j) is comparable when ``time_i < time_j`` and ``event_i``
    (and ``time_i < tau``); concordant when ``risk_i > risk_j``; ties in risk
    count one half. ``weights[i]`` weighs the pairs of row ``i`` (Uno: the
    inverse squared censoring survival ``1 / G(t_i)^2``). Pairs with tied
    times are not comparable. O(n log n) through sorted ranks.
    """
    time = np.asarray(time, dtype="float64")
    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype="float64")
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype="float64")
    use = event if tau is None else event & (time < tau)
    # for each event row i: among rows with time_j > time_i, how many have
    # lower / equal / higher risk. Sort by time descending and count risks
    # seen so far with a Fenwick tree over risk ranks.
    ranks = np.unique(risk, return_inverse=True)[1]
    order = np.lexsort((ranks, -time))
    t_sorted = time[order]
    # rows strictly later than t_i: those before the first row of i's time group
    start = np.searchsorted(-t_sorted, -t_sorted, side="left")
    sorted_ranks = ranks[order]
    below, equal = _counts_before(sorted_ranks, start)
    later = start.astype("float64")
    sel = use[order]
    ww = w[order][sel]
    conc = np.sum(ww * (below[sel] + 0.5 * equal[sel]))
    comp = np.sum(ww * later[sel])
    return float(conc), float(comp)


def _counts_before(ranks, start, block=512):
    """For each row k: among rows [0, start[k]), how many have rank < / == ranks[k].

    Square-root decomposition: whole blocks before ``start[k]`` answer by
    ``searchsorted`` on their sorted ranks (one loop step per block, vectorised
    over rows), the partial block by a (rows x block) comparison.
    """
    n = len(ranks)
    below = np.zeros(n)
    equal = np.zeros(n)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        done = start >= hi  # the whole block lies before start
        if not done.any():
            continue
        sorted_block = np.sort(ranks[lo:hi])
        r = ranks[done]
        left = np.searchsorted(sorted_block, r, side="left")
        right = np.searchsorted(sorted_block, r, side="right")
        below[done] += left
        equal[done] += right - left
    base = (start // block) * block
    partial = np.flatnonzero(start > base)
    for chunk in np.array_split(partial, max(1, len(partial) // 4096)):
        cols = base[chunk, None] + np.arange(block)
        inside = cols < start[chunk, None]
        other = ranks[np.minimum(cols, n - 1)]
        mine = ranks[chunk, None]
        below[chunk] += np.sum(inside & (other < mine), axis=1)
        equal[chunk] += np.sum(inside & (other == mine), axis=1)
    return below, equal

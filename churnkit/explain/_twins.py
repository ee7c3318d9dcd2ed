"""Features that state one fact, and reasons that count it once.

Two numeric features whose values rank the accounts the same way (MLC's
"total day minutes" and "total day charge", a fixed price per minute; a
count of one event kind and the count of all events where only that kind
exists) are one fact to a customer-success manager. TreeSHAP splits its
credit between them as the trees happened to split, so both came out as
reasons, each with part of the points: "Total day minutes: 277" and "Total
day charge: 47.1" in one account's top three.

:func:`churnkit.models._typical.twin_columns` finds them on the training
rows (the classifier keeps ``twins_``); :func:`merge_twins` ranks each group
as one reason, worded by the member carrying the most points, with the
points of all of them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["drop_restated", "merge_twins", "twin_positions", "twin_sums"]


def twin_positions(names: list, twins) -> list[np.ndarray]:
    """``twins`` (groups of names) as positions in ``names``; groups with
    fewer than two explained features are left out."""
    where = {n: j for j, n in enumerate(names)}
    out = []
    for group in twins or ():
        found = [where[n] for n in group if n in where]
        if len(found) > 1:
            out.append(np.asarray(found))
    return out


def merge_twins(S, P, admissible, twins):
    """Each twin group as one candidate reason per row.

    ``S`` (signed points for ranking), ``P`` (signed probability points) and
    ``admissible`` are (rows x features). For each group, the member with
    the most points among the admissible ones stands for it, with the sums
    of the group's ``S`` and ``P``; the other members are no candidates.
    Returns new arrays; the inputs are not changed.
    """
    if not twins:
        return S, P, admissible
    S, P, admissible = S.copy(), P.copy(), admissible.copy()
    rows = np.arange(len(S))
    for g in twins:
        ok = admissible[:, g]
        pick = g[np.argmax(np.where(ok, S[:, g], -np.inf), axis=1)]
        total_s, total_p, any_ok = S[:, g].sum(axis=1), P[:, g].sum(axis=1), ok.any(1)
        admissible[:, g] = False
        S[rows, pick], P[rows, pick] = total_s, total_p
        admissible[rows, pick] = any_ok
    return S, P, admissible


def twin_sums(V, rows, cols, twins) -> np.ndarray:
    """``V[rows, cols]``, summed over the twin group of each column."""
    out = V[rows, cols].copy()
    for g in twins or ():
        inside = np.isin(cols, g)
        out[inside] = V[rows[inside]][:, g].sum(axis=1)
    return out


def drop_restated(S, shown, groups, k: int) -> np.ndarray:
    """``S`` with a candidate reason dropped (-inf) when a stronger one of its
    row already says the same: same group, same shown value and reference.

    Features that differ over the training rows can still state one fact for
    an account: one CDNOW purchase read "Product events in the last 365 days:
    1 (typical: 4)" and "Active days in the last 365 days: 1 (typical: 4)";
    one plan change "... in the last 90 days: 1" and "... in the last 30 days:
    1". ``shown`` is ``(values, references, numeric)`` as
    :meth:`ReasonRules.shown_numbers` gives them; ``groups`` the group code of
    each feature. Only the ``4 k`` strongest candidates of a row are compared.
    """
    values, refs, numeric = shown
    m, p = S.shape
    depth = min(p, 4 * k)
    if depth < 2 or m == 0:
        return S
    top = np.argpartition(-S, depth - 1, axis=1)[:, :depth]
    order = np.argsort(-np.take_along_axis(S, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    r = np.arange(m)[:, None]
    live = np.isfinite(S[r, top]) & numeric[top]
    v, t, g = values[r, top], refs[r, top], groups[top]
    dropped = np.zeros_like(live)
    for a in range(1, depth):
        for b in range(a):
            same = live[:, a] & live[:, b] & ~dropped[:, b]
            same &= (g[:, a] == g[:, b]) & (v[:, a] == v[:, b]) & (t[:, a] == t[:, b])
            dropped[:, a] |= same
    if not dropped.any():
        return S
    S = S.copy()
    rows = np.broadcast_to(r, top.shape)
    S[rows[dropped], top[dropped]] = -np.inf
    return S

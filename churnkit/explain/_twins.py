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

__all__ = ["merge_twins", "twin_positions", "twin_sums"]


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

"""Reasons of a score change, one per feature group (vectorised helpers).

A change in risk is usually spread over many related features (logins in 7,
30 and 90 days, sessions, ...). Ranking single features then lets one
feature of another group come out on top although the group that moved is a
different one; ranking the groups' totals (the same groups as
:meth:`ScoreChange.by_group`) does not. A group's reason names its largest
contributors and the group's total, so the reasons of an account still add
up to its change.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SHOWN", "group_onehot", "top_k", "join", "group_sentences"]

SHOWN = 2  #: contributors named in a group's reason
#: the part of a group's total its changed features do not explain is named
#: from this many probability points and this share of the total on
REST_POINTS, REST_SHARE = 0.005, 0.25
UNCHANGED = " pts through features whose values did not change (interactions)"


def group_onehot(groups) -> tuple:
    """(group names in order of first appearance, 0/1 matrix features x groups)."""
    groups = np.asarray(groups, dtype=object)
    names = np.asarray(list(dict.fromkeys(groups.tolist())), dtype=object)
    return names, (groups[:, None] == names[None, :]).astype("float64")


def top_k(S, k, min_points):
    """(row position, column, rank) of each row's ``k`` largest ``S >= min_points``."""
    S = np.where(S >= min_points, S, -np.inf)
    k = min(k, S.shape[1])
    order = np.argsort(-S, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(S, order, axis=1)
    keep = np.isfinite(top)
    ranks = np.cumsum(keep, axis=1)
    positions = np.broadcast_to(np.arange(len(S))[:, None], order.shape)
    return positions[keep], order[keep], ranks[keep]


def join(*parts) -> np.ndarray:
    """Element-wise concatenation of string arrays and scalars."""
    out = np.asarray(parts[0]).astype(str)
    for part in parts[1:]:
        out = np.char.add(out, np.asarray(part).astype(str))
    return out.astype(object)


def group_sentences(V, sign, members, totals, labels, feature_sentence, whole=None):
    """One sentence per (account, group) pair.

    Parameters
    ----------
    V : ndarray of shape (m, p)
        The accounts' per-feature points (one row per pair).
    sign : ndarray of shape (m,)
        +1 when the pair's reason explains a rise, -1 a fall.
    members : ndarray of shape (m, p), bool
        The features of each pair's group.
    totals : ndarray of shape (m,)
        The group's total points.
    labels : ndarray of shape (m,)
        The group's name as shown ("Usage").
    feature_sentence : callable
        ``(pair positions, feature columns) -> sentences`` of single features.
    whole : ndarray of shape (m, p), bool, default=None
        Every feature of each pair's group when ``members`` names only some
        (a group with more non-zero features than one reads with its total).

    Returns
    -------
    tuple of ndarray
        ``(sentences, largest contributor's column, contributors)``: a group
        whose only non-zero feature is one reads as that feature's sentence;
        otherwise ``"Usage (+21.3 pts): Logins: 40 → 6 (+8.0 pts), Sessions: 30
        → 2 (+5.0 pts) and 4 more"`` (the contributors: members pushing in
        the reason's direction, largest first), ending with the points moved
        by features whose values did not change when they are a quarter of
        the total or more: ``"Profile (-1.3 pts): Tenure in days: 3 → 34 (-0.1
        pts); -1.2 pts through features whose values did not change
        (interactions)"``.
    """
    m = len(V)
    S = np.where(members, V * sign[:, None], -np.inf)
    shown = min(SHOWN, S.shape[1])
    order = np.argsort(-S, axis=1, kind="stable")[:, :shown]
    top = np.take_along_axis(S, order, axis=1)
    contributors = (S > 0).sum(axis=1)
    moved = V != 0
    single = (moved & (members if whole is None else whole)).sum(axis=1) <= 1
    if whole is not None:  # the one that moved must be a member, or its
        # points would read as the member's sentence (+0.0 pts) with no word
        single &= ~(moved & whole & ~members).any(axis=1)
    out = np.empty(m, dtype=object)
    pairs = np.arange(m)
    out[single] = feature_sentence(pairs[single], order[single, 0])
    many = ~single
    if many.any():
        body = feature_sentence(pairs[many], order[many, 0])
        if shown > 1:
            second = many & (top[:, 1] > 0)
            extra = feature_sentence(pairs[second], order[second, 1])
            body = body.copy()
            body[second[many]] = join(body[second[many]], ", ", extra)
        named = np.minimum((top[many] > 0).sum(axis=1), shown)
        named = np.maximum(named, 1)
        more = contributors[many] - named
        tail = np.where(more > 0, join(" and ", more, " more"), "")
        # the part of the total moved by features whose value did not change
        # (through interactions): named, or the sentence reads as if the
        # changed features moved the whole total
        rest = (totals - np.where(members, V, 0.0).sum(axis=1))[many]
        said = (np.abs(rest) >= REST_POINTS) & (
            np.abs(rest) >= REST_SHARE * np.abs(totals[many])
        )
        tail = np.where(
            said,
            join(tail, "; ", np.char.mod("%+.1f", 100 * rest), UNCHANGED),
            tail,
        )
        points = np.char.mod("%+.1f", 100 * totals[many])
        out[many] = join(labels[many], " (", points, " pts): ", body, tail)
    return out, order[:, 0], contributors

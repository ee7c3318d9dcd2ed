"""Cancellation notices as known at each instant, from the subscription rows.

A notice (``cancel_time``) says a customer is leaving, but only while nothing
known at the time says otherwise. The notice of subscription ``i`` given at
``c`` holds at a cutoff ``t`` iff ``s < t <= u``: ``u`` is the start of the
customer's next subscription after ``c`` (a renewal or a win-back: once it has
started, the customer is staying), and ``s`` is ``c`` or, when another of the
customer's subscriptions ran at ``c`` with no notice of its own and outlives
the noticed one, the latest of their ends (an add-on cancelled beside a plan
that runs on is no notice; a contract's notice holds beside an amendment that
ends with it).
Each condition reads only what is known before ``t``: rows started, notices
given, whether a row still runs. Spells (subscriptions merged across a
``grace``) cannot say this: a spell's later rows are a cutoff's future.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from churnkit._logging import warn
from churnkit.events._store import NAT, bisect_segments
from churnkit.exceptions import ChurnkitWarning

__all__ = [
    "Notices",
    "has_notices",
    "notice_given",
    "notice_intervals",
    "notices_at",
    "warn_noticed_churns",
    "ANNOUNCED",
]

_END = np.iinfo(np.int64).max


class Notices(NamedTuple):
    """Notice intervals ``(since, until]`` ordered by (code, since), int64 ns."""

    code: np.ndarray
    since: np.ndarray
    until: np.ndarray


def _segments(code: np.ndarray, n_customers: int) -> np.ndarray:
    return np.searchsorted(code, np.arange(n_customers + 1))


def notice_intervals(code, start, end, cancel, n_customers: int) -> Notices:
    """The notice intervals of subscription rows (int64 arrays; ``end`` as
    ``_END`` when open, ``cancel`` as ``NAT`` when none), in any order.

    >>> day = 86_400 * 10**9
    >>> # customer 0: a plan (no notice) and an add-on cancelled on day 5;
    >>> # customer 1: notice on day 5, a win-back starting on day 40
    >>> got = notice_intervals(
    ...     np.array([0, 0, 1, 1]), np.array([0, 2, 0, 40]) * day,
    ...     np.array([_END, 30 * day, 30 * day, _END]),
    ...     np.array([NAT, 5 * day, 5 * day, NAT]), n_customers=2)
    >>> got.code.tolist(), (got.since // day).tolist(), (got.until // day).tolist()
    ([1], [5], [40])
    """
    code, start, end, cancel = (
        np.asarray(a, dtype=np.int64) for a in (code, start, end, cancel)
    )
    order = np.lexsort((start, code))
    code, start, end, cancel = code[order], start[order], end[order], cancel[order]
    offsets = _segments(code, n_customers)
    given = np.flatnonzero(cancel != NAT)
    c_code, c_at = code[given], cancel[given]
    lo, hi = offsets[c_code], offsets[c_code + 1]
    # the next subscription started after the notice retracts it
    nxt = bisect_segments(start, lo, hi, c_at, "right")
    until = np.where(nxt < hi, start[np.minimum(nxt, len(start) - 1)], _END)
    # a row runs with no notice on [start_j, min(end_j, cancel_j)): one that
    # outlives the noticed row holds the notice back until it ends; one that
    # ends with it or before (a co-terminous amendment) does not
    free_end = np.where(cancel != NAT, np.minimum(end, cancel), end)
    reach = _running_max(free_end, offsets)
    last = nxt - 1
    reach_at = np.where(last >= lo, reach[np.maximum(last, 0)], NAT)
    since = np.where(reach_at > end[given], reach_at, c_at)
    keep = (since < until) & (since < _END)
    out = np.lexsort((since[keep], c_code[keep]))
    return Notices(c_code[keep][out], since[keep][out], until[keep][out])


def _running_max(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarting at each segment.

    Ranked by (segment, value), every rank of a segment is above those of the
    segments before it, so one ``maximum.accumulate`` of the ranks restarts at
    each segment's first row.
    """
    if not len(values):
        return values.copy()
    seg = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((values, seg))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return values[order][np.maximum.accumulate(rank)]


def notices_at(notices: Notices, n_customers: int, codes, t) -> np.ndarray:
    """1.0 where customer ``codes[i]`` has a notice holding at ``t[i]``, else 0.0."""
    codes = np.asarray(codes, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    out = np.zeros(len(codes), dtype=np.float64)
    if not len(notices.code) or not len(codes):
        return out
    offsets = _segments(notices.code, n_customers)
    lo, hi = offsets[codes], offsets[codes + 1]
    pos = bisect_segments(notices.since, lo, hi, t, "left") - 1
    has = pos >= lo
    until = notices.until[np.maximum(pos, 0)]
    out[has & (t <= until)] = 1.0
    return out


# A notice known before the cutoff is a feature (profile__cancellation_notice),
# the strongest there is: a B2B trial's accounts with a scheduled cancellation
# scored 0.018 and read "No strong risk drivers" without it.


def has_notices(engine) -> bool:
    """Whether the store records cancellation notices: its subscriptions had
    a ``cancel_time`` column (every bucket of a partitioned layout has it
    then, whatever its own rows hold, so all fit the same features)."""
    return getattr(engine, "spell_cancel", None) is not None


def notice_given(engine, codes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """1.0 where customer ``codes[i]``'s spell at ``t[i]`` had a cancellation
    notice strictly before ``t[i]``, else 0.0 (float64).

    Read from the subscriptions' notice intervals
    (:mod:`churnkit.events._notices`): a notice holds until a later
    subscription starts, and not while another runs with no notice. A store
    saved before they were kept reads the spell at ``t`` (the customer's last
    spell starting at or before it) and its cancellation instead.
    """
    notices = getattr(engine, "notices", None)
    if notices is not None:  # as known at each t: notices_at
        return notices_at(notices, engine.n_customers, codes, t)
    out = np.zeros(len(codes), dtype=np.float64)
    cancel = getattr(engine, "spell_cancel", None)
    if cancel is None or len(codes) == 0:
        return out
    spell_code = np.asarray(engine.spell_code)
    offsets = np.searchsorted(spell_code, np.arange(engine.n_customers + 1))
    lo, hi = offsets[codes], offsets[codes + 1]
    t = np.asarray(t, dtype=np.int64)
    pos = bisect_segments(np.asarray(engine.spell_start), lo, hi, t, "right") - 1
    has = pos >= lo
    at = np.where(has, pos, 0)
    notice = np.asarray(cancel)[at] if len(cancel) else np.full(len(at), NAT)
    out[has & (notice != NAT) & (notice < t)] = 1.0
    return out


#: What the announced-churns warning says of them (the report leaves it out).
ANNOUNCED = "were announced before their cutoff"
#: Share of the labelled churns announced at their cutoff that warns.
NOTICED_SHARE = 0.1


def warn_noticed_churns(noticed: np.ndarray, churned: np.ndarray) -> None:
    """Warn when many labelled churns were announced before their cutoff (a
    cancellation notice): the model then learns to read notices, and its AUC
    says so. ``noticed`` and ``churned``: the kept rows' flags."""
    announced = int((noticed & churned).sum())
    n = int(churned.sum())
    if announced < 10 or announced < NOTICED_SHARE * n:
        return
    warn(
        f"label_churn: {announced:,} of the {n:,} churns labelled {ANNOUNCED} "
        "(a cancellation notice, `cancel_time`, then held): "
        "a model fitted on them mostly learns to read the notice, and its AUC "
        "says so, while those customers already told you. To predict who will "
        "give notice, pass `noticed='exclude'` (their rows are then counted as "
        "excluded) and work the noticed accounts apart.",
        ChurnkitWarning,
    )

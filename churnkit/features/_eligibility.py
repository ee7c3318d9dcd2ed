"""Rows a model should not be asked about: counted and warned, never scored silently.

A cutoff row describes a customer at a moment. Three kinds of row get a
number that means nothing, because the features read absence as inactivity:

- the cutoff is after ``events.observed_until``: the events between the end of
  the data and the cutoff are unknown, not absent;
- the customer had not signed up by the cutoff (``signup_time >= cutoff``);
- the customer had churned by the cutoff and not returned (their last spell
  ended before it).

:func:`check_rows` counts each kind in one :class:`DataQualityWarning` with a
few example rows and the fix. The spells of a store are computed once per
(store, observed_until) and kept, so a one-account request pays in proportion
to its rows, not to the store.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._store import bisect_segments
from churnkit.exceptions import DataQualityWarning

__all__ = ["check_rows", "ineligible_rows"]

_SPELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_EXAMPLES = 3

REASONS = {
    "after_data": "cutoff after the data ends",
    "before_signup": "customer not signed up before the cutoff",
    "churned": "customer already churned at the cutoff",
}


def _spells(events) -> tuple:
    """(start, end, offsets per customer code) of the store's active spells."""
    engine = events._engine
    key = (events.observed_until.value, events.grace.value)
    with _LOCK:
        kept = _SPELLS.get(engine)
    if kept is not None and kept[0] == key:
        return kept[1]
    code, start, end = engine.eligible_spells(*key)
    offsets = np.searchsorted(code, np.arange(events.n_customers + 1))
    spells = (start, end, offsets)
    try:
        with _LOCK:
            _SPELLS[engine] = (key, spells)
    except TypeError:  # not weakly referable: not kept
        pass
    return spells


def ineligible_rows(events, code: np.ndarray, t: np.ndarray) -> dict:
    """Boolean masks of the rows of each :data:`REASONS` kind.

    ``code``: customer codes of the store; ``t``: cutoffs as int64 ns. A row is
    eligible when ``start < t <= end`` for one of the customer's spells, as in
    :func:`churnkit.make_cutoffs`.
    """
    start, end, offsets = _spells(events)
    lo, hi = offsets[code], offsets[code + 1]
    # the customer's last spell starting before t
    pos = bisect_segments(start, lo, hi, t, "left") - 1
    began = pos >= lo
    ended = np.zeros(len(code), dtype=bool)
    if len(end):
        ended = began & (end[np.maximum(pos, 0)] < t)
    return {
        "after_data": t > events.observed_until.value,
        "before_signup": ~began,
        "churned": ended,
    }


def check_rows(events, ids, times, *, table="X") -> None:
    """Warn, with counts and example rows, about cutoff rows nobody should score.

    Parameters
    ----------
    events : Events
        The store the features read.
    ids : array-like
        Customer ids of the rows (known to the store).
    times : ndarray of datetime64[ns]
        The rows' cutoffs.
    table : str, default="X"
        The input's name in the message.
    """
    if len(ids) == 0 or getattr(events, "_engine", None) is None:
        return  # no store attached: the builders say so
    code = events._engine.codes(ids, table=table)
    t = np.asarray(times, dtype="datetime64[ns]").view("int64")
    masks = ineligible_rows(events, code, t)
    parts = []
    for reason, mask in masks.items():
        n = int(mask.sum())
        if n == 0:
            continue
        rows = np.flatnonzero(mask)[:_EXAMPLES]
        shown = ", ".join(
            f"({ids[i]!r}, {pd.Timestamp(times[i]).date()})" for i in rows
        )
        parts.append(f"{n:,} with the {REASONS[reason]} (e.g. {shown})")
    if not parts:
        return
    n_bad = int(np.logical_or.reduce(list(masks.values())).sum())
    warn(
        f"{table}: {n_bad:,} of {len(code):,} row(s) describe no active customer: "
        f"{'; '.join(parts)}. Their features read "
        "what is unknown or did not exist as inactivity, so their scores mean "
        f"nothing. The data ends at {events.observed_until}; score customers "
        "active at the cutoff: ck.make_cutoffs(events, at=...) lists them.",
        DataQualityWarning,
    )

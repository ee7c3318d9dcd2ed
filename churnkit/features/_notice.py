"""A cancellation notice given before the cutoff: the customer said they leave.

Subscription exports (Stripe's ``canceled_at``, a CRM's cancellation date)
record when a customer gave notice; the subscription runs to the end of its
term. Before the cutoff, that notice is known, so it is a feature, and the
strongest one there is: a B2B trial's accounts with a scheduled cancellation
scored 0.018 and read "No strong risk drivers" without it.
"""

from __future__ import annotations

import numpy as np

from churnkit.events._notices import notices_at
from churnkit.events._store import NAT, bisect_segments

__all__ = ["has_notices", "notice_given"]


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
    if notices is not None:  # as known at each t: churnkit.events._notices
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

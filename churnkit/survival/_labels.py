"""Survival frames: time from each cutoff to churn, or to the end of observation.

The same point-in-time rules as :func:`churnkit.label_churn` (eligibility,
gap, churn kinds, ``observed_until``), but each row keeps its follow-up time
instead of a 0/1 outcome over one horizon, so one model can answer every
horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import (
    NS_PER_DAY,
    add_duration,
    is_nonzero,
    label_window,
    parse_duration,
)
from churnkit.events._columns import warn_no_churn
from churnkit.events._extent import outcomes_known_until
from churnkit.events._store import bisect_segments
from churnkit.exceptions import CensoringWarning, ChurnkitTypeError, SchemaError
from churnkit.labels import eligible_rows, exclude_rows, read_cutoffs

__all__ = ["label_survival", "survival_array"]

#: dtype of :func:`survival_array`: scikit-survival reads (event, time) by position
SURV_DTYPE = np.dtype([("event", "?"), ("duration", "<f8")])


def label_survival(events, cutoffs, *, max_horizon=None, gap="0D", kind=None):
    """Time to churn from each cutoff, with censoring: a survival frame.

    Parameters
    ----------
    events : Events
        The event store, with churns (from a ``churn`` or ``subscriptions``
        table).
    cutoffs : DataFrame
        ``customer_id`` and ``cutoff_time`` columns, e.g. from
        :func:`churnkit.make_cutoffs`.
    max_horizon : str, default=None
        Follow each row for at most this long after ``cutoff + gap`` ("365D",
        "12MS"); churns later than that are censored at the horizon. None
        follows every row to ``events.observed_until`` (less the store's
        ``grace``: see Notes).
    gap : str, default="0D"
        Lead time: a churn in ``[t, t + gap)`` excludes the row, as in
        :func:`churnkit.label_churn`.
    kind : {"voluntary", "involuntary"}, default=None
        Count only churns of this kind as events; a churn of another kind ends
        the follow-up (censored there: cause-specific time to churn).

    Returns
    -------
    DataFrame
        The eligible subset of ``cutoffs`` (its index labels kept):
        ``customer_id``, ``cutoff_time``, ``duration`` (float days from the
        cutoff to the churn, or to the end of the follow-up) and ``event``
        (1 churned, 0 censored). ``.attrs`` holds ``excluded`` (rows left out,
        per reason, also in a :class:`~churnkit.CensoringWarning`),
        ``n_censored``, ``unit`` ("days"), ``gap`` and ``max_horizon``.

    See Also
    --------
    survival_array : The frame as a scikit-survival structured array.
    churnkit.label_churn : One horizon, 0/1 labels.

    Notes
    -----
    For a row with cutoff ``t``, the follow-up runs over ``[t + gap, end)``
    with ``end = min(t + gap + max_horizon, observed_until - grace)``: with a
    ``grace`` (``Events(grace=...)``), an end in its last stretch before
    ``observed_until`` may still be followed by a renewal, so follow-up stops
    where churns are known (``outcomes_known_until``).
    ``event`` is 1
    iff the first churn at or after ``t + gap`` falls before ``end``; then
    ``duration = churn_time - t``, else ``duration = end - t`` (censored).
    Rows are excluded (counted) when the customer is not eligible at ``t``,
    when a churn falls in ``[t, t + gap)``, or when ``t + gap >=
    observed_until - grace`` (no follow-up at all).

    For every row not censored before ``gap + h``, ``event == 1 and duration
    < gap + h`` is exactly ``label_churn(..., horizon=h, gap=gap)``'s
    ``churned``. lifelines reads the frame as it is:
    ``CoxPHFitter().fit(frame, duration_col="duration", event_col="event")``.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2024-06-01")
    >>> frame = ck.label_survival(data.events, cutoffs, max_horizon="365D")
    >>> list(frame.columns)
    ['customer_id', 'cutoff_time', 'duration', 'event']
    >>> bool((frame["duration"] >= 0).all()), sorted(frame["event"].unique().tolist())
    (True, [0, 1])
    """
    gap_ = parse_duration(gap, name="gap")
    warn_no_churn(events, "label_survival")
    spans = {"gap": (gap_, gap)}
    if max_horizon is not None:
        spans["max_horizon"] = (
            parse_duration(max_horizon, name="max_horizon", allow_zero=False),
            max_horizon,
        )
    frame, code, t = read_cutoffs(events, cutoffs, **spans)
    ti = t.view("int64")
    until = events.observed_until.value
    known = outcomes_known_until(events).value  # follow-up ends where churns are
    if max_horizon is None:
        start = add_duration(t, gap_) if is_nonzero(gap_) else t
        stop = np.full(len(t), known, dtype="int64")
    else:
        horizon_ = parse_duration(max_horizon, name="max_horizon", allow_zero=False)
        start, stop = label_window(t, gap_, horizon_, max_horizon, gap)
        stop = np.minimum(stop.view("int64"), known)
    start = start.view("int64")
    excluded = {}
    keep = eligible_rows(events, code, ti, excluded)
    spells = (until, events.grace.value)
    churn_code, churn_time = events._engine.churn_arrays(None, *spells)
    lo, hi = _segments(churn_code, code)
    first = bisect_segments(churn_time, lo, hi, ti, "left")
    nxt = bisect_segments(churn_time, lo, hi, start, "left")
    exclude_rows(keep, nxt > first, "churned in gap", excluded)
    exclude_rows(keep, start >= known, "no follow-up", excluded)
    has = nxt < hi
    when = _take(churn_time, nxt, has, stop)
    ended = has & (when < stop)
    event = ended.copy()
    if kind is not None:
        k_code, k_time = events._engine.churn_arrays(kind, *spells)
        k_lo, k_hi = _segments(k_code, code)
        k_pos = bisect_segments(k_time, k_lo, k_hi, start, "left")
        k_has = k_pos < k_hi
        k_when = _take(k_time, k_pos, k_has, -1)
        event &= k_has & (k_when == when)
    end = np.where(ended, when, stop)
    out = frame.loc[keep, ["customer_id", "cutoff_time"]].copy()
    out["cutoff_time"] = t[keep]
    out["duration"] = (end - ti)[keep] / NS_PER_DAY
    out["event"] = event[keep].astype(np.int64)
    out.attrs.update(
        excluded=dict(excluded),
        n_censored=int((out["event"] == 0).sum()),
        unit="days",
        gap=gap,
        max_horizon=max_horizon,
    )
    if excluded:
        detail = ", ".join(f"{n} {reason}" for reason, n in excluded.items())
        warn(
            f"label_survival excluded {sum(excluded.values())} of {len(frame)} "
            f"cutoff rows ({detail}); see `frame.attrs['excluded']`. Rows with "
            "no follow-up have a cutoff (plus gap) at or after "
            f"`events.observed_until` = {events.observed_until}"
            + (
                f" less the store's `grace` ({events.grace}): churns are known "
                f"up to {pd.Timestamp(known)}."
                if known != until
                else "."
            ),
            CensoringWarning,
        )
    return out


def survival_array(frame, *, duration="duration", event="event"):
    """A survival frame as a structured array (scikit-survival's ``Surv``).

    Parameters
    ----------
    frame : DataFrame
        Durations and event indicators, e.g. from :func:`label_survival`.
    duration : str, default="duration"
        Column of the durations (>= 0; 0 for a churn at the cutoff itself).
    event : str, default="event"
        Column of the event indicators (1 churned, 0 censored).

    Returns
    -------
    ndarray
        Structured array with fields ``event`` (bool) and ``duration``
        (float64), in the frame's row order: the ``y`` scikit-survival's
        estimators and metrics take, and :class:`churnkit.ChurnSurvival` too.

    Examples
    --------
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> frame = pd.DataFrame({"duration": [12.0, 30.0], "event": [1, 0]})
    >>> y = ck.survival_array(frame)
    >>> y["event"].tolist(), y["duration"].tolist()
    ([True, False], [12.0, 30.0])
    """
    if not isinstance(frame, pd.DataFrame):
        raise ChurnkitTypeError(
            "survival_array takes a DataFrame with duration and event columns "
            f"(from ck.label_survival); got {type(frame).__name__}."
        )
    missing = [c for c in (duration, event) if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"survival_array: the frame has no column {missing}; it has "
            f"{list(frame.columns)[:8]}. Pass `duration=` and `event=` to name "
            "yours."
        )
    return make_target(frame[event].to_numpy(), frame[duration].to_numpy(), "frame")


def make_target(event, duration, name="y"):
    """Checked structured array from event indicators and durations."""
    duration = np.asarray(duration, dtype="float64")
    raw = np.asarray(event)
    if raw.dtype.kind == "f" and np.isnan(raw).any():
        raise SchemaError(f"{name}: the event column has missing values.")
    bad_event = ~np.isin(raw, [0, 1, True, False])
    if bad_event.any():
        raise SchemaError(
            f"{name}: events must be 0 (censored) or 1 (churned); found "
            f"{np.unique(raw[bad_event])[:5].tolist()}."
        )
    bad = ~np.isfinite(duration) | (duration < 0)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise SchemaError(
            f"{name}: durations must be finite and >= 0; {int(bad.sum())} are not "
            f"(rows {rows}, values {duration[bad][:5].tolist()})."
        )
    out = np.empty(len(duration), dtype=SURV_DTYPE)
    out["event"] = raw.astype(bool)
    out["duration"] = duration
    return out


def _segments(churn_code, code):
    """(lo, hi) of each row's customer in the code-sorted churn arrays."""
    offsets = np.searchsorted(churn_code, np.arange(int(code.max(initial=0)) + 2))
    return offsets[code], offsets[code + 1]


def _take(values, pos, ok, fill):
    """``values[pos]`` where ``ok``, else ``fill`` (``values`` may be empty)."""
    padded = np.append(values, np.int64(0))
    return np.where(ok, padded[np.where(ok, pos, len(values))], fill)

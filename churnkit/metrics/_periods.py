"""The period grid, customers' spells and the MRR timeline behind every KPI.

Periods are the half-open intervals ``[t_k, t_{k+1})`` of a pandas period-start
frequency, held as int64 nanosecond boundaries. :class:`Spells` and
:class:`Timeline` are the customers' active spells and every point where their
MRR or activity can change, the two engines that :mod:`churnkit.metrics`
counts and sums by period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from churnkit._logging import warn
from churnkit._time import to_timestamp
from churnkit.events import Events
from churnkit.events._columns import activity_parts, activity_table
from churnkit.events._store import bisect_segments
from churnkit.exceptions import (
    CensoringWarning,
    ChurnkitTypeError,
    DataQualityWarning,
    SchemaError,
)

OPEN = np.iinfo(np.int64).max  # end of a spell that has not ended
_ONE_NS = pd.Timedelta(1, unit="ns")
ZERO_TOLERANCE = 1e-9  # relative: MRR sums this close to 0 are exactly 0


# --------------------------------------------------------------------------
# validation and the period grid
# --------------------------------------------------------------------------


def check_events(events: Any) -> None:
    """Raise ChurnkitTypeError unless ``events`` is an Events store."""
    if not isinstance(events, Events):
        raise ChurnkitTypeError(
            "`events` must be a churnkit.Events store; got "
            f"{type(events).__name__}. Build one with "
            "`ck.Events(customers=..., churn=..., billing=...)`."
        )


def parse_freq(freq: Any) -> pd.DateOffset:
    """A period-start frequency ("MS", "QS", "W-MON", "D") as a DateOffset."""
    if not isinstance(freq, (str, pd.DateOffset, pd.Timedelta)):
        raise ChurnkitTypeError(
            "`freq` must be a pandas frequency alias such as 'MS' (calendar "
            f"months) or a DateOffset; got {type(freq).__name__} {freq!r}."
        )
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError):
        raise SchemaError(
            f"`freq` must be a pandas period-start alias such as 'MS' (month), "
            f"'QS' (quarter), 'YS' (year), 'W-MON' (week) or 'D'; got {freq!r}."
        ) from None
    if "End" in type(offset).__name__:
        raise SchemaError(
            f"`freq`={freq!r} anchors periods at their end; periods are labelled "
            "by their start, so use a period-start alias such as 'MS', 'QS' or "
            "'YS'."
        )
    if offset.n <= 0:
        raise SchemaError(f"`freq` must step forward in time; got {freq!r}.")
    return offset


def period_floor(ts: pd.Timestamp, offset: pd.DateOffset) -> pd.Timestamp:
    """Start of the period of ``offset`` that holds ``ts``."""
    if isinstance(offset, pd.offsets.Tick):
        return ts.floor(offset)
    return offset.rollback(ts.normalize())


def boundaries(first: pd.Timestamp, last: pd.Timestamp, offset) -> np.ndarray:
    """Period starts from ``first`` (on the grid) through ``last``, plus the end
    of the last period, as int64 nanoseconds."""
    starts = pd.date_range(first, last, freq=offset)
    stop = starts[-1] + offset
    return np.append(starts.as_unit("ns").asi8, stop.as_unit("ns").value)


def period_of(times: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Index of the period ``[b_k, b_{k+1})`` holding each time (-1 before)."""
    return np.searchsorted(bounds, times, side="right") - 1


def report_periods(events, offset, start, end, default) -> np.ndarray:
    """Boundaries of the reported periods, clipped to the observed data.

    ``default`` is the start used when ``start`` is None (None: no customers).
    """
    observed = events.observed_until
    if start is None:
        if default is None:
            raise SchemaError(
                "`events` holds no customers, so there is no first period; pass "
                "`start`, e.g. start='2024-01-01'."
            )
        start = default
    else:
        start = to_timestamp(start, name="start")
    last = observed - _ONE_NS
    if end is not None:
        end = to_timestamp(end, name="end")
        if end < start:
            raise SchemaError(
                f"`end` ({end}) is before `start` ({start}); swap them or drop one."
            )
        if period_floor(end, offset) > period_floor(last, offset):
            warn(
                f"Periods from {period_floor(last, offset) + offset} on start at or "
                f"after `events.observed_until` ({observed}), hold no data and are "
                "left out; the report ends with the period holding the last "
                "observed instant.",
                CensoringWarning,
            )
        last = min(end, last)
    first = period_floor(start, offset)
    if first >= observed:
        raise SchemaError(
            f"`start`={start} is at or after the end of the data "
            f"(`events.observed_until` = {observed}); pass an earlier `start`."
        )
    return boundaries(first, max(last, first), offset)


def period_index(bounds: np.ndarray) -> pd.DatetimeIndex:
    """The period starts of ``bounds`` as the ``period`` index of a report."""
    return pd.DatetimeIndex(bounds[:-1].view("datetime64[ns]"), name="period")


def unobserved(events, bounds: np.ndarray) -> np.ndarray:
    """Periods (between ``bounds``, int64 ns) whose churns are not all known:
    ending after ``observed_until``, or less than ``events.grace`` before it
    (a subscription ending late in the period may still be renewed)."""
    grace = getattr(events, "grace", pd.Timedelta(0)).value
    return bounds[1:] > events.observed_until.value - grace


def grace_note(events, bounds: np.ndarray, index) -> str | None:
    """Why periods that end before ``observed_until`` read as partial: they
    end within the store's ``grace`` of it. None when no period does."""
    grace = getattr(events, "grace", pd.Timedelta(0))
    until = events.observed_until.value
    held = (bounds[1:] <= until) & (bounds[1:] > until - grace.value)
    if not held.any():
        return None
    known = pd.Timestamp(until - grace.value)
    said = f"{grace.days}D" if grace == pd.Timedelta(days=grace.days) else str(grace)
    at = known.date() if known == known.normalize() else known
    return (
        f"{', '.join(str(p.date()) for p in index[held])}: partial although the "
        f"data runs to {events.observed_until.date()}: with grace='{said}', an end "
        f"after {at} may still be followed by a renewal, so those churns are not "
        "yet known (rates NaN, counts provisional)."
    )


def ratio(num: np.ndarray, den: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 or the period is partial."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = (den != 0) & ~partial
    return np.divide(num, den, out=np.full(len(num), np.nan), where=ok)


def count_by_period(index: np.ndarray, n: int) -> np.ndarray:
    """Number of entries of each period ``0..n-1`` in ``index`` (int64)."""
    return np.bincount(index, minlength=n)[:n].astype(np.int64)


def sum_by_period(index: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` in each period ``0..n-1`` of ``index`` (float)."""
    return np.bincount(index, weights=weights, minlength=n)[:n].astype(float)


# --------------------------------------------------------------------------
# spells and the MRR timeline
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Spells:
    """Active spells ordered by (customer, start), as int64 nanoseconds."""

    code: np.ndarray  # customer's position in events.customers
    start: np.ndarray
    end: np.ndarray  # OPEN while active
    kind: np.ndarray  # object: "voluntary", "involuntary", other or NaN
    first: np.ndarray  # bool: the customer's first spell (their signup)

    def active_at(self, times: np.ndarray) -> np.ndarray:
        """Number of customers active at each time (``start < t <= end``)."""
        started = np.searchsorted(np.sort(self.start), times, side="left")
        ended = np.searchsorted(np.sort(self.end), times, side="left")
        return (started - ended).astype(np.int64)


def _customer_index(events) -> pd.Index:
    return pd.Index(events.customers["customer_id"].to_numpy())


def spells_of(events) -> Spells:
    """The active spells of ``events`` (``events.spells``) as a :class:`Spells`."""
    spells = events.spells
    code = _customer_index(events).get_indexer(spells["customer_id"])
    start = spells["start"].to_numpy("datetime64[ns]").view("int64")
    end_raw = spells["end"].to_numpy("datetime64[ns]")
    end = np.where(np.isnat(end_raw), OPEN, end_raw.view("int64"))
    order = np.lexsort((start, code))
    code, start, end = code[order], start[order], end[order]
    kind = spells["churn_kind"].astype(object).to_numpy()[order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    return Spells(code, start, end, kind, first)


def earliest_signup(events) -> pd.Timestamp | None:
    """The first ``signup_time`` of ``events`` (None without customers)."""
    signups = events.customers["signup_time"]
    return None if signups.empty else pd.Timestamp(signups.min())


def first_data_time(events, inactivity=None, table: str = "usage") -> pd.Timestamp:
    """When the data a KPI reads begins: the first row of any event table or,
    with ``inactivity``, of the activity ``table`` the rule reads (billing
    kept since day one says nothing about activity before the usage extract).
    NaT without rows."""
    if inactivity is None:
        return events.first_event_time
    activity_table(events, table)  # an error naming the tables when it has none
    return events._engine.table_start(activity_parts(table)[0])


def default_start(
    events, offset, inactivity=None, table: str = "usage"
) -> pd.Timestamp | None:
    """The earliest signup, or the first event when the event tables begin in a
    later period (an extract that starts after the oldest customers signed up:
    before it, churns and MRR are not recorded). With ``inactivity``, the
    first row of the activity ``table`` (:func:`first_data_time`)."""
    first_signup = earliest_signup(events)
    first_event = first_data_time(events, inactivity, table)
    if first_signup is None or pd.isna(first_event):
        return first_signup
    if period_floor(first_event, offset) > period_floor(first_signup, offset):
        return first_event
    return first_signup


def _ffill(values: np.ndarray, first_of_customer: np.ndarray) -> np.ndarray:
    """Forward-fill NaN within customers; a customer starts from 0."""
    values = np.where(first_of_customer & np.isnan(values), 0.0, values)
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    return values[np.maximum.accumulate(idx)] if len(values) else values


@dataclass(frozen=True)
class Timeline:
    """Every point where a customer's MRR or activity can change, ordered by
    (customer, time, kind): billing rows, churns, spell starts. A point at
    ``time`` takes effect for ``t > time``."""

    code: np.ndarray
    time: np.ndarray
    is_churn: np.ndarray
    is_first_start: np.ndarray
    mrr: np.ndarray  # MRR after the point (0 while inactive)
    mrr_before: np.ndarray  # MRR before the point
    mrr_before_time: np.ndarray  # MRR before every point at the same time
    active_before: np.ndarray  # bool: active just before the point
    first_of_customer: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """Change of the customer's MRR at each point."""
        return self.mrr - self.mrr_before

    def mrr_at(self, times: np.ndarray) -> np.ndarray:
        """Total MRR of all customers at each of the sorted ``times``."""
        first = np.searchsorted(times, self.time, side="right")  # first t > time
        n = len(times) + 1
        total = np.cumsum(np.bincount(first, weights=self.delta, minlength=n))
        scale = np.cumsum(np.bincount(first, weights=np.abs(self.delta), minlength=n))
        total, scale = total[: n - 1], scale[: n - 1]
        return np.where(np.abs(total) <= ZERO_TOLERANCE * scale, 0.0, total)


def billing_order(code: np.ndarray, time: np.ndarray, rank: np.ndarray):
    """Order of billing rows by (customer, time, rank), keeping the input order
    of ties. ``events.frame`` is already in (customer, time) order, so this is
    a check and, at most, a nearly sorted stable sort."""
    step = np.diff(code)
    if (step < 0).any() or ((step == 0) & (np.diff(time) < 0)).any():
        return np.lexsort((rank, time, code))
    group = np.ones(len(code), dtype=np.int64)
    if len(code):
        group[0] = 0
        group[1:] = (step != 0) | (np.diff(time) != 0)
    key = np.cumsum(group) * 2 + rank
    if (np.diff(key) < 0).any():
        return np.argsort(key, kind="stable")
    return np.arange(len(code))


def _merge_points(b_code, b_time, s_code, s_time, n_customers) -> tuple:
    """Final positions of sorted billing rows and sorted spell points when the
    spell points go after billing rows of the same (customer, time)."""
    offsets = np.searchsorted(b_code, np.arange(n_customers + 1))
    pos = bisect_segments(
        b_time, offsets[s_code], offsets[s_code + 1], s_time, side="right"
    )
    s_final = pos + np.arange(len(pos))
    b_final = np.arange(len(b_code)) + np.searchsorted(
        pos, np.arange(len(b_code)), side="right"
    )
    return b_final, s_final


# order of the points of one customer at one time, after billing rows (0, 1)
_START, _CHURN = 2, 3


def mrr_timeline(events, spells: Spells, billing: pd.DataFrame) -> Timeline:
    """The :class:`Timeline` of ``spells`` and the ``billing`` rows with an ``mrr``
    (from :func:`~churnkit.metrics._mrr.billing_mrr`)."""
    b_code = _customer_index(events).get_indexer(billing["customer_id"])
    known = b_code >= 0
    b_code = b_code[known].astype(np.int64)
    b_time = billing["time"].to_numpy("datetime64[ns]").view("int64")[known]
    b_mrr = billing["mrr"].to_numpy(float)[known]
    # at equal times a subscription_end applies before a subscription_start,
    # then other billing rows, spell starts and churns (MRR drops to 0). A
    # start goes before a churn at its time: back-to-back spells are merged,
    # so such a pair is one spell of zero length, which must end (were the
    # churn first, the customer would stay active for good)
    b_rank = np.where(
        billing["kind"].astype(object).to_numpy()[known] == "subscription_end", 0, 1
    )
    b_order = billing_order(b_code, b_time, b_rank)
    churned = spells.end != OPEN
    n_c, n_s = int(churned.sum()), len(spells.code)
    s_code = np.concatenate([spells.code[churned], spells.code]).astype(np.int64)
    s_time = np.concatenate([spells.end[churned], spells.start])
    s_rank = np.concatenate([np.full(n_c, _CHURN), np.full(n_s, _START)])
    s_order = np.lexsort((s_rank, s_time, s_code))
    b_code, b_time = b_code[b_order], b_time[b_order]
    s_code, s_time, s_rank = s_code[s_order], s_time[s_order], s_rank[s_order]
    b_at, s_at = _merge_points(b_code, b_time, s_code, s_time, len(events.customers))
    n = len(b_code) + len(s_code)

    def merged(b_values, s_values, dtype):
        out = np.empty(n, dtype=dtype)
        out[b_at], out[s_at] = b_values, s_values
        return out

    code = merged(b_code, s_code, np.int64)
    time = merged(b_time, s_time, np.int64)
    rank = merged(b_rank[b_order], s_rank, np.int64)
    mrr = merged(b_mrr[b_order], np.where(s_rank == _CHURN, 0.0, np.nan), float)
    active = merged(np.nan, (s_rank == _START).astype(float), float)
    first = np.concatenate([np.zeros(n_c, bool), spells.first])[s_order]
    is_first_start = merged(False, first, bool)
    new_customer = np.ones(len(code), dtype=bool)
    new_customer[1:] = code[1:] != code[:-1]
    active_after = _ffill(active, new_customer) > 0
    mrr_after = np.where(active_after, _ffill(mrr, new_customer), 0.0)
    mrr_before = np.where(new_customer, 0.0, np.roll(mrr_after, 1))
    active_before = ~new_customer & np.roll(active_after, 1)
    new_time = new_customer.copy()
    new_time[1:] |= time[1:] != time[:-1]
    first_at_time = np.maximum.accumulate(np.where(new_time, np.arange(len(code)), 0))
    return Timeline(
        code=code,
        time=time,
        is_churn=rank == _CHURN,
        is_first_start=is_first_start,
        mrr=mrr_after,
        mrr_before=mrr_before,
        mrr_before_time=mrr_before[first_at_time] if len(code) else mrr_before,
        active_before=active_before,
        first_of_customer=new_customer,
    )


#: Leading periods without a churn that warn, when the churn rate of the
#: periods after would have expected at least this many churns in them.
QUIET_PERIODS = 3
EXPECTED_CHURNS = 5.0


def warn_churn_only_later(table: pd.DataFrame, spells) -> None:
    """Warn when the first periods of a churn table record no churn while the
    churn after them would expect several: an extract of the customers active
    at some date (a monthly panel, the histories of current accounts) holds no
    one who left before it, so those periods read 0 % churn.

    Expected from the customers of those periods who were as long with the
    business as most later churners had been (a tenth of them had less): a
    new business selling annual plans has nobody at risk in its first year,
    and says nothing."""
    full = table[~table["partial"]]
    churned, active = full["churned"].to_numpy(), full["customers_start"].to_numpy()
    if not churned.any():
        return
    first = int(np.argmax(churned > 0))
    rate = churned[first:].sum() / max(int(active[first:].sum()), 1)
    if first < QUIET_PERIODS or rate * active[:first].sum() < EXPECTED_CHURNS:
        return  # cheap bound first: the exposure below is at most this
    since = full.index[first].value
    later = (spells.end != OPEN) & (spells.end >= since)
    tenure = np.quantile(spells.end[later] - spells.start[later], 0.1)
    seasoned = (spells.start + tenure).astype(np.int64)  # there as long
    # active and seasoned at b: seasoned <= b < end, counted with two sorted
    # arrays for every quiet period at once
    gone = np.maximum(seasoned, spells.end)
    bounds = full.index[:first].asi8
    exposure = int(
        (
            np.searchsorted(np.sort(seasoned), bounds, side="right")
            - np.searchsorted(np.sort(gone), bounds, side="right")
        ).sum()
    )
    expected = rate * exposure
    if expected < EXPECTED_CHURNS:
        return
    warn(
        f"churn_rate: no churn is recorded in the {first} periods before "
        f"{full.index[first].date()}, where the churn rate after them "
        f"({rate:.1%} a period) expects about {expected:,.0f} among the customers "
        "there as long as most later churners had been: an extract of the "
        "customers active at some date (a monthly panel, the histories of current "
        "accounts) holds no one who left before it, so those periods read 0 % "
        "churn and their cohorts 100 % retention. Measure from then on: "
        f"start='{full.index[first].date()}'.",
        DataQualityWarning,
    )

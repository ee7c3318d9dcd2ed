"""Business KPIs of a subscription business: churn rate, revenue churn, cohorts.

Every function reads an :class:`churnkit.Events` store and reports by period:
the periods of a pandas period-start frequency (``"MS"`` calendar months,
``"QS"``, ``"YS"``, ``"W-MON"``, ``"D"``...). Period ``k`` is the half-open
interval ``[t_k, t_{k+1})`` and is labelled by its start ``t_k``.

The rules below are those of DESIGN.md and hold for every function here:

* **Active.** A customer is active at ``t`` iff ``start < t <= end`` for one of
  their active spells (``end`` is the churn time, open while active). A
  customer who signs up at ``t`` is not yet active at ``t``; a customer who
  churns at ``t`` is still active at ``t``.
* **Events belong to the period that holds their time.** A signup, churn,
  return or MRR change at ``t_k <= time < t_{k+1}`` belongs to period ``k``.
  A churn exactly at a period start ``t_k`` therefore belongs to period ``k``:
  the customer is active at ``t_k`` (counted in ``customers_start``) and
  churns in that period.
* **MRR.** The ``mrr`` of a billing row is the MRR in effect after the row;
  rows without an ``mrr`` leave it unchanged. A customer's MRR at ``t`` is the
  ``mrr`` of their latest billing row with ``time < t`` while they are active
  at ``t``, and 0 while they are not: MRR drops to 0 at churn, a customer
  has no MRR before their first billing row, and a customer who returns has
  the MRR of their billing rows after the churn (0 without one).
* **Partial periods.** A period that ends after ``events.observed_until`` is
  not fully observed: it is flagged (``partial``) and its rates are NaN.
* **Returns.** A customer who comes back after a churn is counted as a
  reactivation, never as a new customer.

The functions are :func:`churn_rate`, :func:`revenue_churn`,
:func:`cohort_retention`, :func:`convert_rate`, and the plots
:func:`plot_churn_rate`, :func:`plot_revenue_churn` and
:func:`plot_cohort_retention`. ``docs/kpis.md`` works through all of them on a
five-customer example.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from churnkit._store import bisect_segments
from churnkit._time import to_timestamp
from churnkit.events import Events
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "churn_rate",
    "revenue_churn",
    "cohort_retention",
    "convert_rate",
    "plot_churn_rate",
    "plot_revenue_churn",
    "plot_cohort_retention",
]

_OPEN = np.iinfo(np.int64).max  # end of a spell that has not ended
_ONE_NS = pd.Timedelta(1, unit="ns")
_ZERO_TOLERANCE = 1e-9  # relative: MRR sums this close to 0 are exactly 0

CHURN_RATE_COLUMNS = [
    "customers_start",
    "new",
    "reactivated",
    "churned",
    "churned_voluntary",
    "churned_involuntary",
    "churned_unknown_kind",
    "churned_same_period_signups",
    "customers_end",
    "churn_rate",
    "voluntary_churn_rate",
    "involuntary_churn_rate",
    "partial",
]
REVENUE_CHURN_COLUMNS = [
    "mrr_start",
    "new_mrr",
    "expansion",
    "contraction",
    "churned_mrr",
    "reactivation_mrr",
    "mrr_end",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr",
    "partial",
]

# --------------------------------------------------------------------------
# validation and the period grid
# --------------------------------------------------------------------------


def _check_events(events: Any) -> None:
    if not isinstance(events, Events):
        raise ChurnkitTypeError(
            "`events` must be a churnkit.Events store; got "
            f"{type(events).__name__}. Build one with "
            "`ck.Events(customers=..., churn=..., billing=...)`."
        )


def _parse_freq(freq: Any) -> pd.DateOffset:
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


def _floor(ts: pd.Timestamp, offset: pd.DateOffset) -> pd.Timestamp:
    """Start of the period of ``offset`` that holds ``ts``."""
    if isinstance(offset, pd.offsets.Tick):
        return ts.floor(offset)
    return offset.rollback(ts.normalize())


def _boundaries(first: pd.Timestamp, last: pd.Timestamp, offset) -> np.ndarray:
    """Period starts from ``first`` (on the grid) through ``last``, plus the end
    of the last period, as int64 nanoseconds."""
    starts = pd.date_range(first, last, freq=offset)
    stop = starts[-1] + offset
    return np.append(starts.as_unit("ns").asi8, stop.as_unit("ns").value)


def _period_of(times: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Index of the period ``[b_k, b_{k+1})`` holding each time (-1 before)."""
    return np.searchsorted(bounds, times, side="right") - 1


def _periods(events, offset, start, end, default_start) -> np.ndarray:
    """Boundaries of the reported periods, clipped to the observed data."""
    observed = events.observed_until
    if start is None:
        if default_start is None:
            raise SchemaError(
                "`events` holds no customers, so there is no first period; pass "
                "`start`, e.g. start='2024-01-01'."
            )
        start = default_start
    else:
        start = to_timestamp(start, name="start")
    last = observed - _ONE_NS
    if end is not None:
        end = to_timestamp(end, name="end")
        if end < start:
            raise SchemaError(
                f"`end` ({end}) is before `start` ({start}); swap them or drop one."
            )
        if _floor(end, offset) > _floor(last, offset):
            warnings.warn(
                f"Periods from {_floor(last, offset) + offset} on start at or after "
                f"`events.observed_until` ({observed}), hold no data and are left "
                "out; the report ends with the period holding the last observed "
                "instant.",
                ChurnkitWarning,
                stacklevel=3,
            )
        last = min(end, last)
    first = _floor(start, offset)
    if first >= observed:
        raise SchemaError(
            f"`start`={start} is at or after the end of the data "
            f"(`events.observed_until` = {observed}); pass an earlier `start`."
        )
    return _boundaries(first, max(last, first), offset)


def _period_index(bounds: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(bounds[:-1].view("datetime64[ns]"), name="period")


def _ratio(num: np.ndarray, den: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 or the period is partial."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    ok = (den != 0) & ~partial
    return np.divide(num, den, out=np.full(len(num), np.nan), where=ok)


def _count(index: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(index, minlength=n)[:n].astype(np.int64)


def _total(index: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(index, weights=weights, minlength=n)[:n].astype(float)


# --------------------------------------------------------------------------
# spells and the MRR timeline
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spells:
    """Active spells ordered by (customer, start), as int64 nanoseconds."""

    code: np.ndarray  # customer's position in events.customers
    start: np.ndarray
    end: np.ndarray  # _OPEN while active
    kind: np.ndarray  # object: "voluntary", "involuntary", other or NaN
    first: np.ndarray  # bool: the customer's first spell (their signup)

    def active_at(self, times: np.ndarray) -> np.ndarray:
        """Number of customers active at each time (``start < t <= end``)."""
        started = np.searchsorted(np.sort(self.start), times, side="left")
        ended = np.searchsorted(np.sort(self.end), times, side="left")
        return (started - ended).astype(np.int64)


def _customer_index(events) -> pd.Index:
    return pd.Index(events.customers["customer_id"].to_numpy())


def _spells(events) -> _Spells:
    spells = events.spells
    code = _customer_index(events).get_indexer(spells["customer_id"])
    start = spells["start"].to_numpy("datetime64[ns]").view("int64")
    end_raw = spells["end"].to_numpy("datetime64[ns]")
    end = np.where(np.isnat(end_raw), _OPEN, end_raw.view("int64"))
    order = np.lexsort((start, code))
    code, start, end = code[order], start[order], end[order]
    kind = spells["churn_kind"].astype(object).to_numpy()[order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    return _Spells(code, start, end, kind, first)


def _first_signup(events) -> pd.Timestamp | None:
    signups = events.customers["signup_time"]
    return None if signups.empty else pd.Timestamp(signups.min())


def _default_start(events, offset) -> pd.Timestamp | None:
    """The earliest signup, or the first event when the event tables begin in a
    later period (an extract that starts after the oldest customers signed up:
    before it, churns and MRR are not recorded)."""
    first_signup = _first_signup(events)
    summary = events.summary()
    tables = summary.index.isin(["usage", "billing", "support"])
    first_event = pd.to_datetime(summary.loc[tables, "first"]).dropna()
    if first_signup is None or first_event.empty:
        return first_signup
    first_event = pd.Timestamp(first_event.min())
    if _floor(first_event, offset) > _floor(first_signup, offset):
        return first_event
    return first_signup


def _billing_mrr(events) -> pd.DataFrame:
    """Billing rows with an ``mrr``: customer_id, time, kind, mrr."""
    if events.table("billing") is None:
        raise SchemaError(
            "Revenue metrics need MRR, and this Events store has no billing table. "
            "Pass `billing` with an `mrr` column (the MRR in effect after each "
            "row), or `subscriptions` with an `mrr` column."
        )
    billing = events.frame("billing")
    if "mrr" not in billing:
        raise SchemaError(
            "Revenue metrics need MRR, and the billing table has no `mrr` column "
            f"(columns: {list(billing.columns)}). Add `mrr`, the MRR in effect "
            "after each row, or map yours with `columns={'billing': {...}}`."
        )
    return billing[billing["mrr"].notna()]


def _ffill(values: np.ndarray, first_of_customer: np.ndarray) -> np.ndarray:
    """Forward-fill NaN within customers; a customer starts from 0."""
    values = np.where(first_of_customer & np.isnan(values), 0.0, values)
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    return values[np.maximum.accumulate(idx)] if len(values) else values


@dataclass(frozen=True)
class _Timeline:
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
        return self.mrr - self.mrr_before

    def mrr_at(self, times: np.ndarray) -> np.ndarray:
        """Total MRR of all customers at each of the sorted ``times``."""
        first = np.searchsorted(times, self.time, side="right")  # first t > time
        n = len(times) + 1
        total = np.cumsum(np.bincount(first, weights=self.delta, minlength=n))
        scale = np.cumsum(np.bincount(first, weights=np.abs(self.delta), minlength=n))
        total, scale = total[: n - 1], scale[: n - 1]
        return np.where(np.abs(total) <= _ZERO_TOLERANCE * scale, 0.0, total)


def _billing_order(code: np.ndarray, time: np.ndarray, rank: np.ndarray):
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


def _timeline(events, spells: _Spells, billing: pd.DataFrame) -> _Timeline:
    b_code = _customer_index(events).get_indexer(billing["customer_id"])
    known = b_code >= 0
    b_code = b_code[known].astype(np.int64)
    b_time = billing["time"].to_numpy("datetime64[ns]").view("int64")[known]
    b_mrr = billing["mrr"].to_numpy(float)[known]
    # at equal times a subscription_end applies before a subscription_start,
    # then other billing rows, churns (MRR drops to 0) and spell starts
    b_rank = np.where(
        billing["kind"].astype(object).to_numpy()[known] == "subscription_end", 0, 1
    )
    b_order = _billing_order(b_code, b_time, b_rank)
    churned = spells.end != _OPEN
    n_c, n_s = int(churned.sum()), len(spells.code)
    s_code = np.concatenate([spells.code[churned], spells.code]).astype(np.int64)
    s_time = np.concatenate([spells.end[churned], spells.start])
    s_rank = np.concatenate([np.full(n_c, 2), np.full(n_s, 3)])
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
    mrr = merged(b_mrr[b_order], np.where(s_rank == 2, 0.0, np.nan), float)
    active = merged(np.nan, (s_rank == 3).astype(float), float)
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
    return _Timeline(
        code=code,
        time=time,
        is_churn=rank == 2,
        is_first_start=is_first_start,
        mrr=mrr_after,
        mrr_before=mrr_before,
        mrr_before_time=mrr_before[first_at_time] if len(code) else mrr_before,
        active_before=active_before,
        first_of_customer=new_customer,
    )


# --------------------------------------------------------------------------
# churn rate
# --------------------------------------------------------------------------


def churn_rate(
    events: Events,
    freq: str | pd.DateOffset = "MS",
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Customer churn by period, with its flows and voluntary/involuntary split.

    Parameters
    ----------
    events : Events
        The event store; churns come from its ``churn`` or ``subscriptions``
        table.
    freq : str or DateOffset, default="MS"
        Period frequency, a pandas period-start alias: "MS" (calendar months),
        "QS", "YS", "W-MON", "D"...
    start, end : str or Timestamp, default=None
        The first period is the one holding ``start``, the last the one holding
        ``end`` (by default the last observed instant,
        ``events.observed_until`` minus 1 ns). By default ``start`` is the
        earliest signup or, when the event tables (usage, billing, support)
        begin in a later period, their first event: an extract that starts
        after the oldest customers signed up misses the churns before it.
        Periods starting at or after ``events.observed_until`` hold no data and
        are left out with a warning.

    Returns
    -------
    DataFrame
        Indexed by period start (``period``), one row per period:

        - ``customers_start``: customers active at the period's start.
        - ``new``: customers whose first spell starts in the period (signups).
        - ``reactivated``: returns in the period (a later spell of a customer
          who had churned), never counted as new.
        - ``churned``: churns in the period of customers active at its start;
          the numerator of the churn rate.
        - ``churned_voluntary``, ``churned_involuntary``,
          ``churned_unknown_kind``: ``churned`` split by the churn's ``kind``
          (no kind, or one other than voluntary and involuntary, is unknown).
        - ``churned_same_period_signups``: customers who joined in the period
          (signed up, or returned) and churned again before its end. They are
          not in ``customers_start`` and stay out of the rate.
        - ``customers_end``: customers active at the period's end (the next
          period's ``customers_start``).
        - ``churn_rate``: ``churned / customers_start``.
        - ``voluntary_churn_rate``, ``involuntary_churn_rate``:
          ``churned_voluntary / customers_start`` and
          ``churned_involuntary / customers_start``.
        - ``partial``: the period ends after ``events.observed_until``.

        Counts are int64. Rates are NaN for a partial period and for a period
        with no customer at its start.

    See Also
    --------
    revenue_churn : The same periods measured in MRR.
    convert_rate : Monthly to annual churn and back.

    Notes
    -----
    A customer is active at ``t`` iff ``start < t <= end`` for one of their
    spells, and an event belongs to period ``[t_k, t_{k+1})`` when
    ``t_k <= time < t_{k+1}``. So a customer who churns exactly at a period
    start ``t_k`` is active at ``t_k`` and churns in period ``k``; one who signs
    up at ``t_k`` is new in period ``k``. With 120 customers at the start of
    a month and 30 of them lost during it, the churn rate is 30 / 120 = 25%.

    The counts add up:
    ``customers_end = customers_start + new + reactivated - churned -
    churned_same_period_signups``.

    Examples
    --------
    >>> import pandas as pd, churnkit as ck
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "signup_time": ["2023-12-05", "2023-12-10", "2023-12-20", "2024-01-10"]})
    >>> churn = pd.DataFrame({"customer_id": ["a", "d"],
    ...     "time": ["2024-01-15", "2024-02-03"], "kind": "voluntary"})
    >>> events = ck.Events(customers=customers, churn=churn,
    ...                    observed_until="2024-03-01")
    >>> table = ck.churn_rate(events, start="2024-01-01")
    >>> columns = ["customers_start", "new", "churned", "customers_end", "churn_rate"]
    >>> table[columns]  # doctest: +NORMALIZE_WHITESPACE
                customers_start  new  churned  customers_end  churn_rate
    period
    2024-01-01                3    1        1              3    0.333333
    2024-02-01                3    0        1              2    0.333333
    """
    _check_events(events)
    offset = _parse_freq(freq)
    spells = _spells(events)
    default = None if start is not None else _default_start(events, offset)
    bounds = _periods(events, offset, start, end, default)
    n = len(bounds) - 1
    active = spells.active_at(bounds)
    p_start = _period_of(spells.start, bounds)
    p_end = _period_of(spells.end, bounds)
    starts_in = (p_start >= 0) & (p_start < n)
    ends_in = (spells.end != _OPEN) & (p_end >= 0) & (p_end < n)
    from_start = ends_in & (p_start < p_end)  # active at the period's start
    churned = _count(p_end[from_start], n)
    voluntary = _count(p_end[from_start & (spells.kind == "voluntary")], n)
    involuntary = _count(p_end[from_start & (spells.kind == "involuntary")], n)
    partial = bounds[1:] > events.observed_until.value
    out = pd.DataFrame(
        {
            "customers_start": active[:-1],
            "new": _count(p_start[starts_in & spells.first], n),
            "reactivated": _count(p_start[starts_in & ~spells.first], n),
            "churned": churned,
            "churned_voluntary": voluntary,
            "churned_involuntary": involuntary,
            "churned_unknown_kind": churned - voluntary - involuntary,
            "churned_same_period_signups": _count(
                p_end[ends_in & (p_start == p_end)], n
            ),
            "customers_end": active[1:],
            "churn_rate": _ratio(churned, active[:-1], partial),
            "voluntary_churn_rate": _ratio(voluntary, active[:-1], partial),
            "involuntary_churn_rate": _ratio(involuntary, active[:-1], partial),
            "partial": partial,
        },
        index=_period_index(bounds),
    )
    return out


# --------------------------------------------------------------------------
# revenue churn
# --------------------------------------------------------------------------


def _default_revenue_start(events, billing, offset) -> pd.Timestamp | None:
    """The earliest signup, or the first period after billing begins when the
    billing extract starts in a later period (MRR before it is unknown)."""
    first_signup = _first_signup(events)
    if first_signup is None or billing.empty:
        return first_signup
    first_row = pd.Timestamp(billing["time"].min())
    if _floor(first_row, offset) > _floor(first_signup, offset):
        return _floor(first_row, offset) + offset
    return first_signup


def _movements(line: _Timeline, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """New, expansion, contraction, churned and reactivation MRR per period.

    The points of one customer in one period form a run; the MRR before the
    run is the MRR at the period's start, the MRR after it the MRR at its end.
    """
    n = len(bounds) - 1
    names = ["new_mrr", "expansion", "contraction", "churned_mrr", "reactivation_mrr"]
    if not len(line.code):
        return {name: np.zeros(n) for name in names}
    period = _period_of(line.time, bounds)
    run_start = line.first_of_customer.copy()
    run_start[1:] |= period[1:] != period[:-1]
    first = np.flatnonzero(run_start)
    last = np.append(first[1:] - 1, len(line.code) - 1)
    run_id = np.cumsum(run_start) - 1
    n_runs = len(first)
    mrr_start, mrr_end = line.mrr_before[first], line.mrr[last]
    was_active = line.active_before[first]
    # the first churn of a run ends the spell that was active at the start
    churn_points = np.flatnonzero(line.is_churn)
    runs, pos = np.unique(run_id[churn_points], return_index=True)
    has_churn = np.zeros(n_runs, dtype=bool)
    has_churn[runs] = True
    before_churn = np.zeros(n_runs)
    before_churn[runs] = line.mrr_before_time[churn_points[pos]]
    signup = np.bincount(run_id[line.is_first_start], minlength=n_runs) > 0
    lost = was_active & has_churn
    change = np.where(was_active, np.where(lost, before_churn, mrr_end) - mrr_start, 0)
    reactivation = np.where(lost | (~was_active & ~signup), mrr_end, 0.0)
    p = period[first]
    ok = (p >= 0) & (p < n)

    def total(values):
        return _total(p[ok], values[ok], n)

    return {
        "new_mrr": total(np.where(~was_active & signup, mrr_end, 0.0)),
        "expansion": total(np.maximum(change, 0.0)),
        "contraction": total(np.maximum(-change, 0.0)),
        "churned_mrr": total(np.where(lost, before_churn, 0.0)),
        "reactivation_mrr": total(reactivation),
    }


def revenue_churn(
    events: Events,
    freq: str | pd.DateOffset = "MS",
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """MRR churn by period: MRR movements, gross and net MRR churn, and NRR.

    Parameters
    ----------
    events : Events
        The event store, with MRR: a billing table with an ``mrr`` column (the
        MRR in effect after each row), or subscriptions with an ``mrr``.
    freq : str or DateOffset, default="MS"
        Period frequency, a pandas period-start alias: "MS" (calendar months),
        "QS", "YS", "W-MON", "D"...
    start, end : str or Timestamp, default=None
        The first period is the one holding ``start``, the last the one holding
        ``end`` (by default the last observed instant). By default ``start``
        is the earliest signup; when the billing table begins in a later
        period (an extract that starts after your oldest customers), it is the
        first period that starts after the first billing row, so that the
        starting MRR is known.

    Returns
    -------
    DataFrame
        Indexed by period start (``period``), one row per period, in MRR:

        - ``mrr_start``: total MRR at the period's start (of the customers
          active then).
        - ``new_mrr``: MRR at the period's end of the customers who signed up
          in it (0 for one who signed up and left within the period).
        - ``expansion``, ``contraction``: for customers active at the start,
          the net change of their MRR between the start and the period's end
          (or, for those who churn, until just before their churn), summed
          over customers whose MRR rose (expansion) or fell (contraction, a
          positive number).
        - ``churned_mrr``: for customers active at the start who churn in the
          period, their MRR in effect just before the churn (the MRR of their
          latest billing row strictly before the churn time).
        - ``reactivation_mrr``: MRR at the period's end of customers who came
          back after a churn during the period.
        - ``mrr_end``: total MRR at the period's end (the next ``mrr_start``).
        - ``gross_mrr_churn_rate``: ``(contraction + churned_mrr) / mrr_start``.
        - ``net_mrr_churn_rate``:
          ``(contraction + churned_mrr - expansion) / mrr_start``, negative
          when expansion exceeds the losses.
        - ``nrr``: net revenue retention of the customers active at the start,
          ``(mrr_start + expansion - contraction - churned_mrr) / mrr_start``,
          that is ``1 - net_mrr_churn_rate``.
        - ``partial``: the period ends after ``events.observed_until``.

        Rates are NaN for a partial period and when ``mrr_start`` is 0.

    See Also
    --------
    churn_rate : The same periods counted in customers.

    Notes
    -----
    A customer's MRR at ``t`` is the ``mrr`` of their latest billing row with
    ``time < t`` while they are active at ``t`` (``start < t <= end``), and 0
    while they are not: MRR drops to 0 at churn, and is 0 before a customer's
    first billing row with an ``mrr`` (rows without one change nothing). A
    customer who returns has the MRR of their billing rows after the churn
    (0 without one). At equal times a ``subscription_end`` row applies before
    a ``subscription_start`` row.

    Expansion and contraction are net per customer and period: a customer who
    upgrades from 100 to 150 and downgrades to 120 in the same period adds 20
    to expansion and nothing to contraction. A customer active at the start
    who upgrades and then churns adds the upgrade to expansion and the
    upgraded MRR to ``churned_mrr``, so ``gross_mrr_churn_rate`` can exceed 1
    in that rare case.

    The movements add up:
    ``mrr_end = mrr_start + new_mrr + reactivation_mrr + expansion -
    contraction - churned_mrr``.

    Examples
    --------
    >>> import pandas as pd, churnkit as ck
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...     "signup_time": ["2023-12-05", "2023-12-10"]})
    >>> billing = pd.DataFrame({"customer_id": ["a", "b", "b"], "kind": "invoice",
    ...     "time": ["2023-12-05", "2023-12-10", "2024-01-10"], "mrr": [100, 50, 80]})
    >>> churn = pd.DataFrame({"customer_id": ["a"], "time": ["2024-01-20"]})
    >>> events = ck.Events(customers=customers, billing=billing, churn=churn,
    ...                    observed_until="2024-02-01")
    >>> table = ck.revenue_churn(events, start="2024-01-01")
    >>> columns = ["mrr_start", "expansion", "churned_mrr", "mrr_end", "nrr"]
    >>> table[columns]  # doctest: +NORMALIZE_WHITESPACE
                mrr_start  expansion  churned_mrr  mrr_end       nrr
    period
    2024-01-01      150.0       30.0        100.0     80.0  0.533333
    """
    _check_events(events)
    offset = _parse_freq(freq)
    billing = _billing_mrr(events)
    line = _timeline(events, _spells(events), billing)
    default = (
        None if start is not None else _default_revenue_start(events, billing, offset)
    )
    bounds = _periods(events, offset, start, end, default)
    at = line.mrr_at(bounds)
    moves = _movements(line, bounds)
    partial = bounds[1:] > events.observed_until.value
    mrr_start = at[:-1]
    losses = moves["contraction"] + moves["churned_mrr"]
    return pd.DataFrame(
        {
            "mrr_start": mrr_start,
            **moves,
            "mrr_end": at[1:],
            "gross_mrr_churn_rate": _ratio(losses, mrr_start, partial),
            "net_mrr_churn_rate": _ratio(
                losses - moves["expansion"], mrr_start, partial
            ),
            "nrr": _ratio(mrr_start + moves["expansion"] - losses, mrr_start, partial),
            "partial": partial,
        },
        index=_period_index(bounds),
    )


# --------------------------------------------------------------------------
# cohort retention
# --------------------------------------------------------------------------


def _check_cohort_args(by: Any, max_periods: Any) -> None:
    if by not in ("customers", "revenue"):
        raise SchemaError(f"`by` must be 'customers' or 'revenue'; got {by!r}.")
    if max_periods is None:
        return
    if isinstance(max_periods, bool) or not isinstance(max_periods, (int, np.integer)):
        raise ChurnkitTypeError(
            f"`max_periods` must be an integer or None; got {max_periods!r}."
        )
    if max_periods < 0:
        raise SchemaError(
            f"`max_periods` must be 0 or more (the last period since signup "
            f"shown); got {max_periods!r}."
        )


def _cohort_matrix(cohort, index, weights, n_cohorts, n_bounds) -> np.ndarray:
    """Sum of ``weights`` added at boundary ``index`` onwards, per cohort."""
    flat = cohort * (n_bounds + 1) + index
    diff = np.bincount(flat, weights=weights, minlength=n_cohorts * (n_bounds + 1))
    return np.cumsum(diff.reshape(n_cohorts, n_bounds + 1), axis=1)[:, :n_bounds]


def cohort_retention(
    events: Events,
    freq: str | pd.DateOffset = "MS",
    *,
    by: str = "customers",
    max_periods: int | None = None,
) -> pd.DataFrame:
    """Retention of each signup cohort, period after period.

    Parameters
    ----------
    events : Events
        The event store.
    freq : str or DateOffset, default="MS"
        Period frequency, a pandas period-start alias: "MS" (calendar months),
        "QS", "YS", "W-MON", "D"...
    by : {"customers", "revenue"}, default="customers"
        "customers": the fraction of the cohort's customers active.
        "revenue": the cohort's MRR as a fraction of its initial MRR (needs
        MRR, as :func:`revenue_churn` does).
    max_periods : int, default=None
        Last period since signup shown (columns 0 to ``max_periods``); all
        observed periods when None.

    Returns
    -------
    DataFrame
        Indexed by signup cohort (``cohort``: the start of the period holding
        the signups; cohorts without signups are left out), with one column
        per period since signup (``periods_since_signup``: 0, 1, 2...).

    See Also
    --------
    churn_rate : Churn of all customers by calendar period.

    Notes
    -----
    A cohort is the customers whose ``signup_time`` falls in one period
    ``[t_c, t_{c+1})``. Column ``j`` measures the cohort at the end of the
    ``j``-th period after its signup period, at ``t_{c+j+1}`` (column 0: at
    the end of the signup period itself):

    - ``by="customers"``: the number of the cohort's customers active at
      ``t_{c+j+1}`` (``start < t <= end``) over the cohort's size. Column 0
      is below 1 when customers churn in their signup period. Customers who
      return count as active again, so a row can rise.
    - ``by="revenue"``: the cohort's total MRR at ``t_{c+j+1}`` over its
      initial MRR, the MRR at ``t_{c+1}`` (which is ``new_mrr`` of
      :func:`revenue_churn`). Column 0 is 1 by construction; values above 1
      mean expansion outgrew churn. A cohort with no initial MRR gives NaN.

    Cells measured after ``events.observed_until`` (the future, or a partial
    period) are NaN. When the event tables (usage, billing, support) begin in
    a later period than the earliest signup, cohorts start with the period of
    their first event: an earlier cohort is known only through the customers
    who were still there when the data begins.

    Examples
    --------
    >>> import pandas as pd, churnkit as ck
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "signup_time": ["2024-01-05", "2024-01-10", "2024-02-10"]})
    >>> churn = pd.DataFrame({"customer_id": ["a"], "time": ["2024-02-15"]})
    >>> events = ck.Events(customers=customers, churn=churn,
    ...                    observed_until="2024-04-01")
    >>> ck.cohort_retention(events)  # doctest: +NORMALIZE_WHITESPACE
    periods_since_signup    0    1    2
    cohort
    2024-01-01            1.0  0.5  0.5
    2024-02-01            1.0  1.0  NaN
    """
    _check_events(events)
    offset = _parse_freq(freq)
    _check_cohort_args(by, max_periods)
    observed = events.observed_until
    signup = events.customers["signup_time"].to_numpy("datetime64[ns]").view("int64")
    first = _default_start(events, offset)
    if first is not None:
        first = _floor(first, offset)
    if first is None or first >= observed:
        return pd.DataFrame(
            index=pd.DatetimeIndex([], name="cohort"),
            columns=pd.Index([], name="periods_since_signup", dtype=np.int64),
            dtype=float,
        )
    bounds = _boundaries(first, observed, offset)
    bounds = bounds[bounds <= observed.value]  # the observed measurement times
    member = (signup >= first.value) & (signup < observed.value)
    cohort_of = np.where(member, _period_of(signup, bounds), -1)
    sizes = np.bincount(cohort_of[member], minlength=len(bounds))
    if by == "customers":
        matrix = _active_by_cohort(_spells(events), cohort_of, bounds)
        basis = sizes.astype(float)
    else:
        line = _timeline(events, _spells(events), _billing_mrr(events))
        matrix = _mrr_by_cohort(line, cohort_of, bounds)
        basis = np.append(np.diagonal(matrix, offset=1), np.nan)
    return _cohort_frame(matrix, basis, sizes, bounds, max_periods)


def _active_by_cohort(spells: _Spells, cohort_of, bounds) -> np.ndarray:
    """Customers of each cohort active at each boundary."""
    cohort = cohort_of[spells.code]
    keep = cohort >= 0
    lo = np.searchsorted(bounds, spells.start[keep], side="right")
    hi = np.searchsorted(bounds, spells.end[keep], side="right")
    index = np.concatenate([lo, hi])
    weights = np.concatenate([np.ones(len(lo)), -np.ones(len(hi))])
    n = len(bounds)
    return _cohort_matrix(np.tile(cohort[keep], 2), index, weights, n, n)


def _mrr_by_cohort(line: _Timeline, cohort_of, bounds) -> np.ndarray:
    """Total MRR of each cohort at each boundary."""
    cohort = cohort_of[line.code]
    keep = cohort >= 0
    index = np.searchsorted(bounds, line.time[keep], side="right")
    delta = line.delta[keep]
    n = len(bounds)
    matrix = _cohort_matrix(cohort[keep], index, delta, n, n)
    scale = _cohort_matrix(cohort[keep], index, np.abs(delta), n, n)
    matrix[np.abs(matrix) <= _ZERO_TOLERANCE * scale] = 0.0
    return matrix


def _cohort_frame(matrix, basis, sizes, bounds, max_periods) -> pd.DataFrame:
    n_b = len(bounds)
    n_cols = n_b - 1 if max_periods is None else min(n_b - 1, max_periods + 1)
    rows = np.arange(n_b)[:, None]
    cols = rows + np.arange(n_cols)[None, :] + 1  # boundary measured
    inside = cols < n_b
    values = matrix[rows, np.minimum(cols, n_b - 1)].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = values / np.where(basis > 0, basis, np.nan)[:, None]
    values[~inside] = np.nan
    keep = sizes > 0
    return pd.DataFrame(
        values[keep],
        index=pd.DatetimeIndex(bounds[keep].view("datetime64[ns]"), name="cohort"),
        columns=pd.Index(np.arange(n_cols), name="periods_since_signup"),
    )


# --------------------------------------------------------------------------
# conversion between period lengths
# --------------------------------------------------------------------------


def _check_periods(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ChurnkitTypeError(
            f"`{name}` must be a positive number of periods; got "
            f"{type(value).__name__} {value!r}."
        )
    if not (math.isfinite(value) and value > 0):
        raise SchemaError(f"`{name}` must be a positive number; got {value!r}.")
    return float(value)


def convert_rate(rate: Any, from_periods: float = 1, to_periods: float = 12) -> Any:
    """Convert a churn rate between period lengths, with compounding.

    Parameters
    ----------
    rate : float, array-like, Series or DataFrame
        Churn rate(s) as fractions in [0, 1] (2% is 0.02), each measured over
        ``from_periods`` periods. NaN stays NaN.
    from_periods : float, default=1
        Length of the period ``rate`` is measured over.
    to_periods : float, default=12
        Length of the period to convert to, in the same unit.

    Returns
    -------
    float, ndarray, Series or DataFrame
        ``1 - (1 - rate) ** (to_periods / from_periods)``, of the same kind as
        ``rate`` (a Series or DataFrame keeps its index).

    Notes
    -----
    A customer survives ``to_periods`` periods with probability
    ``(1 - rate) ** (to_periods / from_periods)`` when each period's churn is
    independent with the same rate. A monthly churn of 2% is an annual churn
    of ``1 - 0.98 ** 12 = 21.5%``, not 24%; ``convert_rate(0.215, 12, 1)``
    goes back to 2%.

    Examples
    --------
    >>> import churnkit as ck
    >>> round(ck.convert_rate(0.02), 4)
    0.2153
    >>> round(ck.convert_rate(0.2153, from_periods=12, to_periods=1), 4)
    0.02
    """
    power = _check_periods(to_periods, "to_periods") / _check_periods(
        from_periods, "from_periods"
    )
    if isinstance(rate, (pd.Series, pd.DataFrame)):
        values = rate.astype(float)
    else:
        try:
            values = np.asarray(rate, dtype=float)
        except (TypeError, ValueError):
            raise ChurnkitTypeError(
                f"`rate` must be a number or numbers in [0, 1]; got {rate!r}."
            ) from None
    array = np.asarray(values, dtype=float)
    bad = (array < 0) | (array > 1)
    if bad.any():
        raise SchemaError(
            f"`rate` must hold fractions in [0, 1] (2% is 0.02); got "
            f"{array[bad].ravel()[:5].tolist()}. Divide percentages by 100."
        )
    out = 1.0 - (1.0 - values) ** power
    if np.ndim(out) == 0:
        return float(out)
    return out


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


def _table(table_or_events: Any, compute, required: list[str]) -> pd.DataFrame:
    name = compute.__name__
    if isinstance(table_or_events, Events):
        return compute(table_or_events)
    if not isinstance(table_or_events, pd.DataFrame):
        raise ChurnkitTypeError(
            f"Pass an Events store or the DataFrame of `ck.{name}(events)`; got "
            f"{type(table_or_events).__name__}."
        )
    missing = [c for c in required if c not in table_or_events.columns]
    if missing:
        raise SchemaError(
            f"The table lacks column(s) {missing} (it has "
            f"{list(table_or_events.columns)[:8]}); pass the output of "
            f"`ck.{name}(events)` or the Events store itself."
        )
    return table_or_events


def _rate_lines(ax, table, lines, kwargs) -> None:
    from matplotlib.ticker import PercentFormatter

    for column, label, style in lines:
        ax.plot(
            table.index,
            table[column],
            **{"label": label, "marker": "o", "linestyle": style, **kwargs},
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Period")
    ax.legend()


def plot_churn_rate(
    table_or_events: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot the customer churn rate by period, split by voluntary/involuntary.

    Parameters
    ----------
    table_or_events : DataFrame or Events
        The output of :func:`churn_rate`, or an Events store (then
        ``churn_rate(events)`` with monthly periods).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for every line.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    The voluntary and involuntary lines are drawn when the table has them and
    some churn has a known kind. Partial periods have no rate and no point.
    """
    import matplotlib.pyplot as plt

    table = _table(table_or_events, churn_rate, ["churn_rate"])
    ax = plt.gca() if ax is None else ax
    lines = [("churn_rate", "Churn rate", "-")]
    kinds = ["churned_voluntary", "churned_involuntary"]
    if all(c in table for c in kinds) and table[kinds].to_numpy().sum() > 0:
        lines += [
            ("voluntary_churn_rate", "Voluntary", "--"),
            ("involuntary_churn_rate", "Involuntary", ":"),
        ]
    _rate_lines(ax, table, lines, kwargs)
    ax.set_ylabel("Customers lost, share of the period's start")
    return ax


def plot_revenue_churn(
    table_or_events: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot the gross and net MRR churn rates by period.

    Parameters
    ----------
    table_or_events : DataFrame or Events
        The output of :func:`revenue_churn`, or an Events store (then
        ``revenue_churn(events)`` with monthly periods).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for both lines.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    A net MRR churn below the zero line (drawn in gray) means expansion
    outgrew contraction and churn: net negative churn, NRR above 100%.
    """
    import matplotlib.pyplot as plt

    required = ["gross_mrr_churn_rate", "net_mrr_churn_rate"]
    table = _table(table_or_events, revenue_churn, required)
    ax = plt.gca() if ax is None else ax
    ax.axhline(0.0, color="gray", linewidth=0.8)
    lines = [
        ("gross_mrr_churn_rate", "Gross MRR churn", "-"),
        ("net_mrr_churn_rate", "Net MRR churn", "--"),
    ]
    _rate_lines(ax, table, lines, kwargs)
    ax.set_ylabel("MRR lost, share of the period's start")
    return ax


def _cohort_label(ts: pd.Timestamp) -> str:
    if ts != ts.normalize():
        return f"{ts:%Y-%m-%d %H:%M}"
    return f"{ts:%Y-%m}" if ts.day == 1 else f"{ts:%Y-%m-%d}"


def plot_cohort_retention(
    table_or_events: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot cohort retention as a heatmap: cohorts down, periods since signup across.

    Parameters
    ----------
    table_or_events : DataFrame or Events
        The output of :func:`cohort_retention`, or an Events store (then
        ``cohort_retention(events)``: monthly, by customers).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (``cmap``, ``vmin``,
        ``vmax``...).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on; its image is ``ax.images[0]``, e.g. for
        ``fig.colorbar(ax.images[0], ax=ax)``.

    Notes
    -----
    NaN cells (the future) stay blank. Tables of at most 400 cells are
    annotated with their percentages.
    """
    import matplotlib.pyplot as plt

    table = _table(table_or_events, cohort_retention, [])
    ax = plt.gca() if ax is None else ax
    values = table.to_numpy(dtype=float)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    style = {"cmap": "Blues", "aspect": "auto", "vmin": 0.0, "vmax": max(1.0, top)}
    style.update(kwargs)
    ax.imshow(np.ma.masked_invalid(values), **style)
    n_rows, n_cols = values.shape
    x_step = max(1, math.ceil(n_cols / 24))
    y_step = max(1, math.ceil(n_rows / 24))
    ax.set_xticks(np.arange(0, n_cols, x_step))
    ax.set_xticklabels([str(c) for c in table.columns[::x_step]])
    ax.set_yticks(np.arange(0, n_rows, y_step))
    ax.set_yticklabels(
        [
            _cohort_label(pd.Timestamp(t)) if isinstance(t, pd.Timestamp) else str(t)
            for t in table.index[::y_step]
        ]
    )
    if values.size <= 400:
        for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
            dark = values[i, j] > 0.6 * style["vmax"]
            ax.text(
                j,
                i,
                f"{values[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    ax.set_xlabel("Periods since signup")
    ax.set_ylabel("Signup cohort")
    return ax

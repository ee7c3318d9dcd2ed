"""Customer churn by period (:func:`churn_rate`) and rate conversion between
period lengths (:func:`convert_rate`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from churnkit.events import Events
from churnkit.events._columns import warn_never_inactive
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.metrics._inactivity import (
    before_the_rule_can_fire,
    early_note,
    kpi_spells,
)
from churnkit.metrics._periods import (
    OPEN,
    check_events,
    count_by_period,
    default_start,
    grace_note,
    parse_freq,
    period_index,
    period_of,
    ratio,
    report_periods,
    unobserved,
    warn_churn_only_later,
)

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
    "unknown_kind_churn_rate",
    "partial",
]


# --------------------------------------------------------------------------
# churn rate
# --------------------------------------------------------------------------


def churn_rate(
    events: Events,
    freq: str | pd.DateOffset = "MS",
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    inactivity: str | None = None,
    table: str = "usage",
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
    inactivity : str, default=None
        Count churn as inactivity, for a business without cancellations
        (transactions, usage): a customer who shows no activity in ``table``
        for this long ("90D", "3MS") has churned, as in
        :func:`label_inactivity`. By default churns are the recorded ones (the
        ``churn`` or ``subscriptions`` table); with neither, churn reads 0 %
        and a :class:`ChurnkitWarning` names this option.
    table : str or (str, list of str), default="usage"
        With ``inactivity``: the event table whose rows are activity, or a
        pair of a table and the kinds that count, such as
        ``("billing", ["payment"])`` (refunds and failed payments are not the
        customer acting).

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
        - ``voluntary_churn_rate``, ``involuntary_churn_rate``,
          ``unknown_kind_churn_rate``: ``churned_voluntary``,
          ``churned_involuntary`` and ``churned_unknown_kind`` over
          ``customers_start``; the three add up to ``churn_rate``.
        - ``partial``: the period ends after ``events.observed_until``, or
          less than ``events.grace`` before it (its late churns not known).

        Counts are int64. Rates are NaN for a partial period and for a period
        with no customer at its start. The three rates by kind are also NaN
        when no churn of the table has a recorded kind (the split is not
        known: churn by inactivity, a churn table without ``kind``); where
        some churns have none (lapsed free trials beside voluntary and
        involuntary ones), ``.attrs["note"]`` says how many.

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
    churned_same_period_signups`` and ``churned = churned_voluntary +
    churned_involuntary + churned_unknown_kind``.

    With ``inactivity=P``, signups and the rows of ``table`` are the activity:
    a customer is active at ``t`` iff one falls in ``[t - P, t)``. A gap longer
    than ``P`` is a churn, dated ``P`` after the last activity, the moment the
    rule is met (dating it at the last activity would rewrite past periods as
    data arrives); a later activity is a return. So, for a customer active at
    ``t``, a churn falls in ``[t, t + P)`` exactly when
    ``label_inactivity(horizon=P)`` labels the cutoff ``t`` 1. A spell whose
    end is not before ``events.observed_until`` is still open. The kind of an
    inactivity churn is unknown.

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
    check_events(events)
    offset = parse_freq(freq)
    spells = kpi_spells(events, inactivity, table, "churn_rate")
    default = (
        None if start is not None else default_start(events, offset, inactivity, table)
    )
    bounds = report_periods(events, offset, start, end, default)
    n = len(bounds) - 1
    active = spells.active_at(bounds)
    p_start = period_of(spells.start, bounds)
    p_end = period_of(spells.end, bounds)
    starts_in = (p_start >= 0) & (p_start < n)
    ends_in = (spells.end != OPEN) & (p_end >= 0) & (p_end < n)
    from_start = ends_in & (p_start < p_end)  # active at the period's start
    churned = count_by_period(p_end[from_start], n)
    voluntary = count_by_period(p_end[from_start & (spells.kind == "voluntary")], n)
    involuntary = count_by_period(p_end[from_start & (spells.kind == "involuntary")], n)
    partial = unobserved(events, bounds)
    early = before_the_rule_can_fire(events, bounds, inactivity, table)
    unknown = churned - voluntary - involuntary
    # no kind recorded at all: no split (was NaN as soon as one churn of a
    # period had none, so a business with free trials lost its split)
    recorded = np.isin(spells.kind, ["voluntary", "involuntary"]).any()
    split_unknown = partial | early | (not recorded)  # the store's, not the range's
    out = pd.DataFrame(
        {
            "customers_start": active[:-1],
            "new": count_by_period(p_start[starts_in & spells.first], n),
            "reactivated": count_by_period(p_start[starts_in & ~spells.first], n),
            "churned": churned,
            "churned_voluntary": voluntary,
            "churned_involuntary": involuntary,
            "churned_unknown_kind": unknown,
            "churned_same_period_signups": count_by_period(
                p_end[ends_in & (p_start == p_end)], n
            ),
            "customers_end": active[1:],
            "churn_rate": ratio(churned, active[:-1], partial | early),
            "voluntary_churn_rate": ratio(voluntary, active[:-1], split_unknown),
            "involuntary_churn_rate": ratio(involuntary, active[:-1], split_unknown),
            "unknown_kind_churn_rate": ratio(unknown, active[:-1], split_unknown),
            "partial": partial,
        },
        index=period_index(bounds),
    )
    n_unknown = int(unknown[~partial].sum())
    if early.any():
        out.attrs["note"] = early_note(out.index[early], inactivity)
    elif n_unknown and inactivity is not None:
        out.attrs["note"] = (
            "Churn by inactivity has no kind: the rates by kind are NaN, all "
            "churns are churned_unknown_kind."
        )
    elif n_unknown and split_unknown[~partial & ~early].all():
        out.attrs["note"] = (
            f"No churn has a kind: the rates by kind are NaN, all {n_unknown} "
            "churns are churned_unknown_kind. Give the churn table a `kind` "
            "column of voluntary or involuntary to split them."
        )
    elif n_unknown:
        out.attrs["note"] = (
            f"{n_unknown} churn(s) have no kind, or one other than voluntary and "
            "involuntary (lapsed free trials, say): unknown_kind_churn_rate counts "
            "them, beside the voluntary and involuntary rates."
        )
    if inactivity is None and start is None:  # a given start was chosen
        warn_churn_only_later(out, spells)
    if inactivity is not None and not out["churned"].any():
        periods = int(out["customers_start"].sum())
        warn_never_inactive(events, table, periods, "churn_rate", "customer-periods")
    held = grace_note(events, bounds, out.index)
    if held:
        out.attrs["note"] = " ".join(filter(None, [out.attrs.get("note"), held]))
    return out


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

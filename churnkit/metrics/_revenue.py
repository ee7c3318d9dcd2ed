"""MRR churn by period: the MRR movements, gross and net MRR churn, and NRR
(:func:`revenue_churn`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.events import Events
from churnkit.metrics._inactivity import before_the_rule_can_fire, kpi_spells
from churnkit.metrics._mrr import billing_mrr
from churnkit.metrics._periods import (
    Timeline,
    check_events,
    default_start,
    earliest_signup,
    grace_note,
    mrr_timeline,
    parse_freq,
    period_floor,
    period_index,
    period_of,
    ratio,
    report_periods,
    sum_by_period,
    unobserved,
)

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
# revenue churn
# --------------------------------------------------------------------------


def _default_revenue_start(
    events, billing, offset, inactivity=None, table="usage"
) -> pd.Timestamp | None:
    """The earliest signup, or the first period after billing begins when the
    billing extract starts in a later period (MRR before it is unknown); with
    ``inactivity``, not before the activity ``table`` begins."""
    first_signup = earliest_signup(events)
    if first_signup is None:
        return first_signup
    first = first_signup
    if not billing.empty:
        first_row = pd.Timestamp(billing["time"].min())
        if period_floor(first_row, offset) > period_floor(first_signup, offset):
            first = period_floor(first_row, offset) + offset
    if inactivity is not None:
        first = max(first, default_start(events, offset, inactivity, table))
    return first


FREE_MRR = 1e-9  #: MRR at or below this (in the data's unit) is "not paying"


def _movements(line: Timeline, bounds: np.ndarray) -> dict[str, np.ndarray]:
    """New, expansion, contraction, churned and reactivation MRR per period.

    The points of one customer in one period form a run; the MRR before the
    run is the MRR at the period's start, the MRR after it the MRR at its end.
    """
    n = len(bounds) - 1
    names = ["new_mrr", "expansion", "contraction", "churned_mrr", "reactivation_mrr"]
    if not len(line.code):
        return {name: np.zeros(n) for name in names}
    period = period_of(line.time, bounds)
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
    # a customer active at no MRR (a free trial, a free plan) who starts
    # paying is new business, or a reactivation if they paid before a churn,
    # not an expansion of the revenue at the start (a trial's conversion read
    # as expansion: NRR 120 % with no paying customer growing); one who leaves
    # before paying loses no MRR, like a signup gone within its period. A
    # paying customer's free month inside one spell is no new business: its
    # drop to 0 was a contraction, and paying again is an expansion
    paid_in_spell = _paid_in_spell(line)[first]
    free = was_active & (np.abs(mrr_start) <= FREE_MRR) & ~paid_in_spell
    paid_before = _paid_before(line)[first]
    gain = np.where(free & ~lost, np.maximum(mrr_end, 0.0), 0.0)
    change = np.where(lost, before_churn, mrr_end) - mrr_start
    change = np.where(was_active & ~free, change, 0.0)
    reactivation = np.where(lost | (~was_active & ~signup), mrr_end, 0.0)
    p = period[first]
    ok = (p >= 0) & (p < n)

    def total(values):
        return sum_by_period(p[ok], values[ok], n)

    return {
        "new_mrr": total(
            np.where(~was_active & signup, mrr_end, 0.0)
            + np.where(paid_before, 0.0, gain)
        ),
        "expansion": total(np.maximum(change, 0.0)),
        "contraction": total(np.maximum(-change, 0.0)),
        "churned_mrr": total(np.where(lost & ~free, before_churn, 0.0)),
        "reactivation_mrr": total(reactivation + np.where(paid_before, gain, 0.0)),
    }


def _paid_before(line: Timeline) -> np.ndarray:
    """Whether the customer had MRR above 0 before each point (any earlier
    point, or just before this one)."""
    paid = pd.Series(line.mrr_before > FREE_MRR)
    return paid.groupby(line.code, sort=False).cummax().to_numpy()


def _paid_in_spell(line: Timeline) -> np.ndarray:
    """Whether the customer had MRR above 0 before each point in the spell
    that holds it (a churn point ends its spell; the next point starts one)."""
    churn = line.is_churn.astype(np.int64)
    spell = np.cumsum(churn) - churn  # global, so distinct across customers
    paid = pd.Series(line.mrr_before > FREE_MRR) & line.active_before
    return paid.groupby([line.code, spell], sort=False).cummax().to_numpy()


def revenue_churn(
    events: Events,
    freq: str | pd.DateOffset = "MS",
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    inactivity: str | None = None,
    table: str = "usage",
) -> pd.DataFrame:
    """MRR churn by period: MRR movements, gross and net MRR churn, and NRR.

    Parameters
    ----------
    events : Events
        The event store, with MRR: a billing table with an ``mrr`` column (the
        MRR in effect after each row), or subscriptions with an ``mrr``. With
        both, billing's ``mrr`` wins where it has values and the
        subscriptions' fills in, per spell, before a customer's first billing
        row with an ``mrr`` (a :class:`DataQualityWarning` names the customers
        billing gives no MRR in a spell); see ``docs/kpis.md``.
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
    inactivity : str, default=None
        Count churn as inactivity ("90D", "3MS"), with the meaning of
        :func:`churn_rate`'s ``inactivity``: a customer's MRR drops to 0 when
        they have shown no activity in ``table`` for this long (the churn is
        dated then) and comes back with their next activity. By default churns
        are the recorded ones; a store with neither a ``churn`` table nor
        ``subscriptions`` warns (a :class:`ChurnkitWarning`) naming this option.
    table : str or (str, list of str), default="usage"
        With ``inactivity``: the event table whose rows are activity, or a
        pair of a table and the kinds that count, such as
        ``("billing", ["payment"])`` (refunds and failed payments are not the
        customer acting).

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
          latest billing row strictly before the churn time); for those active
          at no MRR at the start (a trial, a free plan), 0 even when they paid
          before churning (see the Notes).
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
        - ``partial``: the period ends after ``events.observed_until``, or
          less than ``events.grace`` before it (its late churns not known).

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
    a ``subscription_start`` row. A spell that starts and ends at the same
    instant is never active: it holds no MRR, as :func:`churn_rate` counts it.

    Expansion and contraction are net per customer and period: a customer who
    upgrades from 100 to 150 and downgrades to 120 in the same period adds 20
    to expansion and nothing to contraction. A customer active at the start
    who upgrades and then churns adds the upgrade to expansion and the
    upgraded MRR to ``churned_mrr``, so ``gross_mrr_churn_rate`` can exceed 1
    in that rare case. A customer active at no MRR (a free trial, a free
    plan) who starts paying adds to ``new_mrr`` (to ``reactivation_mrr`` if
    they paid before a churn), not to expansion: expansion and NRR are of the
    revenue at the start. Such a customer who leaves within the period loses
    no MRR, even after paying for part of it: their revenue was in neither the
    start's MRR nor the end's, so it is in no movement either (counted as new
    business and then as churned MRR, it would lower NRR, which measures the
    revenue at the start). They count as a churned customer in
    :func:`churn_rate`. A paying customer who has a
    free month without churning (a promotion, a paused plan at 0) is no new
    business: the drop to 0 is a contraction and paying again an expansion,
    so NRR recovers as the revenue does.

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
    check_events(events)
    offset = parse_freq(freq)
    spells = kpi_spells(events, inactivity, table, "revenue_churn")
    billing = billing_mrr(events)
    line = mrr_timeline(events, spells, billing)
    default = (
        None
        if start is not None
        else _default_revenue_start(events, billing, offset, inactivity, table)
    )
    bounds = report_periods(events, offset, start, end, default)
    at = line.mrr_at(bounds)
    moves = _movements(line, bounds)
    partial = unobserved(events, bounds)
    partial |= before_the_rule_can_fire(events, bounds, inactivity, table)
    mrr_start = at[:-1]
    losses = moves["contraction"] + moves["churned_mrr"]
    out = pd.DataFrame(
        {
            "mrr_start": mrr_start,
            **moves,
            "mrr_end": at[1:],
            "gross_mrr_churn_rate": ratio(losses, mrr_start, partial),
            "net_mrr_churn_rate": ratio(
                losses - moves["expansion"], mrr_start, partial
            ),
            "nrr": ratio(mrr_start + moves["expansion"] - losses, mrr_start, partial),
            "partial": partial,
        },
        index=period_index(bounds),
    )
    held = grace_note(events, bounds, out.index)
    if held:
        out.attrs["note"] = held
    return out

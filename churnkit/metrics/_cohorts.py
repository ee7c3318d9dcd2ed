"""Retention of signup cohorts, period after period (:func:`cohort_retention`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._validation import check_choice
from churnkit.events import Events
from churnkit.exceptions import ChurnkitTypeError, DataQualityWarning, SchemaError
from churnkit.metrics._inactivity import kpi_spells
from churnkit.metrics._mrr import billing_mrr
from churnkit.metrics._periods import (
    ZERO_TOLERANCE,
    Spells,
    Timeline,
    boundaries,
    check_events,
    default_start,
    mrr_timeline,
    parse_freq,
    period_floor,
    period_of,
)

# --------------------------------------------------------------------------
# cohort retention
# --------------------------------------------------------------------------


def _check_cohort_args(by: Any, max_periods: Any) -> None:
    check_choice(by, "by", ("customers", "revenue"))
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
    inactivity: str | None = None,
    table: str = "usage",
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
    inactivity : str, default=None
        Count churn as inactivity ("90D", "3MS"), with the meaning of
        :func:`churn_rate`'s ``inactivity``: a customer is retained at ``t``
        iff they showed activity in ``table`` within ``inactivity`` before
        ``t``. By default churns are the recorded ones; a store with neither a
        ``churn`` table nor ``subscriptions`` warns, naming this option: its
        retention reads 100 %.
    table : str or (str, list of str), default="usage"
        With ``inactivity``: the event table whose rows are activity, or a
        pair of a table and the kinds that count, such as
        ``("billing", ["payment"])`` (refunds and failed payments are not the
        customer acting).

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
    A cohort is the customers who became customers in one period
    ``[t_c, t_{c+1})``, as :func:`churn_rate` counts them ``new``: at their
    first subscription's start (with a churn table, their ``signup_time``;
    with ``inactivity``, their ``signup_time``). A user who registered in
    January and subscribed in February is in February's cohort; registered
    users who never became customers (no subscription, or no activity under
    ``inactivity``) are left out of every cohort, with a warning that counts
    them. Column ``j`` measures the cohort at the end of the
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
    period) are NaN, and so are those measured less than ``events.grace``
    before it (an end there may still be followed by a renewal; ``.attrs
    ["note"]`` says so), as :func:`churn_rate`'s rates are. When the event
    tables (usage, billing, support) begin in a later period than the earliest
    signup, cohorts start with the period of their first event and a
    ``DataQualityWarning`` counts the customers of the earlier cohorts, left
    out: who of them left before the data began is not recorded.

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
    check_events(events)
    offset = parse_freq(freq)
    _check_cohort_args(by, max_periods)
    observed = events.observed_until
    signup = events.customers["signup_time"].to_numpy("datetime64[ns]").view("int64")
    first = default_start(events, offset, inactivity, table)
    if first is not None:
        first = period_floor(first, offset)
    if first is None or first >= observed:
        return pd.DataFrame(
            index=pd.DatetimeIndex([], name="cohort"),
            columns=pd.Index([], name="periods_since_signup", dtype=np.int64),
            dtype=float,
        )
    bounds = boundaries(first, observed, offset)
    bounds = bounds[bounds <= observed.value]  # the observed measurement times
    spells = kpi_spells(events, inactivity, table, "cohort_retention")
    if inactivity is None:  # customers from their first subscription's start
        signup = signup.copy()
        signup[spells.code[spells.first]] = spells.start[spells.first]
    member = (signup >= first.value) & (signup < observed.value)
    _warn_before_the_data(events, signup, first, inactivity)
    member &= _never_customers(events, spells, member)
    cohort_of = np.where(member, period_of(signup, bounds), -1)
    sizes = np.bincount(cohort_of[member], minlength=len(bounds))
    if by == "customers":
        matrix = _active_by_cohort(spells, cohort_of, bounds)
        basis = sizes.astype(float)
    else:
        line = mrr_timeline(events, spells, billing_mrr(events))
        matrix = _mrr_by_cohort(line, cohort_of, bounds)
        basis = np.append(np.diagonal(matrix, offset=1), np.nan)
    grace = getattr(events, "grace", pd.Timedelta(0))
    known = observed.value - grace.value
    out = _cohort_frame(matrix, basis, sizes, bounds, max_periods, known)
    held = bounds[(bounds > known) & (bounds <= observed.value)]
    if len(held):  # NaN there, as churn_rate's rates are
        at = ", ".join(str(pd.Timestamp(int(b)).date()) for b in held)
        said = f"{grace.days}D" if grace == pd.Timedelta(days=grace.days) else grace
        end = pd.Timestamp(known)
        out.attrs["note"] = (
            f"Cells measured at {at} are NaN although the data runs to "
            f"{observed.date()}: with grace='{said}', an end after "
            f"{end.date() if end == end.normalize() else end} may still be "
            "followed by a renewal, so retention there is not known yet."
        )
    return out


def _warn_before_the_data(events, signup, first, inactivity) -> None:
    """Warn, with counts, when cohorts begin after the earliest signups: the
    event tables start later, so older cohorts are not shown (Sparkify's log
    of two months left out the 400 of 450 users registered before it)."""
    early = signup < first.value
    if not early.any():
        return
    what = "activity" if inactivity is not None else "events"
    warn(
        f"cohort_retention: {int(early.sum()):,} of {len(signup):,} customers "
        f"signed up before {first.date()}, the first period with {what} in the "
        f"data (earliest signup {pd.Timestamp(int(signup.min())).date()}); their "
        "cohorts are left out: who of them left before the data began is not "
        "recorded, so their retention cannot be measured. churn_rate counts "
        "them from the first period on.",
        DataQualityWarning,
    )


def _never_customers(events, spells: Spells, member) -> np.ndarray:
    """Which customers were ever active (have a spell); warns, with counts,
    about members of a cohort who never were: registered users who never
    subscribed (or were never active) are not in :func:`churn_rate` either,
    and counted here they read as lost in their signup period."""
    ever = np.zeros(len(member), dtype=bool)
    ever[spells.code] = True
    never = member & ~ever
    if never.any():
        ids = events.customers["customer_id"].to_numpy()[never]
        shown = ", ".join(repr(c) for c in ids[:5].tolist())  # 3, not np.int64(3)
        warn(
            f"cohort_retention: {int(never.sum()):,} of {int(member.sum()):,} "
            f"customers who signed up in the periods shown (e.g. {shown}) never "
            "became active customers (no subscription, or no activity under the "
            "inactivity rule, before the end of the data); they are left out of "
            "the cohorts, as churn_rate leaves them out. To count them, give "
            "them a subscription, or measure retention of sign-ups yourself "
            "from `events.customers`.",
            DataQualityWarning,
        )
    return ever


def _active_by_cohort(spells: Spells, cohort_of, bounds) -> np.ndarray:
    """Customers of each cohort active at each boundary."""
    cohort = cohort_of[spells.code]
    keep = cohort >= 0
    lo = np.searchsorted(bounds, spells.start[keep], side="right")
    hi = np.searchsorted(bounds, spells.end[keep], side="right")
    index = np.concatenate([lo, hi])
    weights = np.concatenate([np.ones(len(lo)), -np.ones(len(hi))])
    n = len(bounds)
    return _cohort_matrix(np.tile(cohort[keep], 2), index, weights, n, n)


def _mrr_by_cohort(line: Timeline, cohort_of, bounds) -> np.ndarray:
    """Total MRR of each cohort at each boundary."""
    cohort = cohort_of[line.code]
    keep = cohort >= 0
    index = np.searchsorted(bounds, line.time[keep], side="right")
    delta = line.delta[keep]
    n = len(bounds)
    matrix = _cohort_matrix(cohort[keep], index, delta, n, n)
    scale = _cohort_matrix(cohort[keep], index, np.abs(delta), n, n)
    matrix[np.abs(matrix) <= ZERO_TOLERANCE * scale] = 0.0
    return matrix


def _cohort_frame(matrix, basis, sizes, bounds, max_periods, known) -> pd.DataFrame:
    """The matrix as a frame; cells measured after ``known`` (ns: churns are
    known up to ``observed_until - grace``) are NaN."""
    n_b = len(bounds)
    n_cols = n_b - 1 if max_periods is None else min(n_b - 1, max_periods + 1)
    rows = np.arange(n_b)[:, None]
    cols = rows + np.arange(n_cols)[None, :] + 1  # boundary measured
    inside = cols < n_b
    values = matrix[rows, np.minimum(cols, n_b - 1)].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = values / np.where(basis > 0, basis, np.nan)[:, None]
    values[~inside | (bounds[np.minimum(cols, n_b - 1)] > known)] = np.nan
    keep = sizes > 0
    return pd.DataFrame(
        values[keep],
        index=pd.DatetimeIndex(bounds[keep].view("datetime64[ns]"), name="cohort"),
        columns=pd.Index(np.arange(n_cols), name="periods_since_signup"),
    )

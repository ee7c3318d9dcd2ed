"""Which churn the KPIs count: recorded churns, or inactivity over a period.

A business without cancellations (purchases, usage-only products) has no
churn table; there a customer churns when they show no activity for a stated
period, as :func:`churnkit.label_inactivity` labels them. :func:`kpi_spells`
gives the KPIs the active spells of either definition, and warns, naming the
inactivity option, when a store records no churn at all (its churn would read
0 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import add_duration, parse_duration
from churnkit.events._columns import activity_parts, activity_table
from churnkit.exceptions import DataQualityWarning
from churnkit.metrics._periods import OPEN, Spells, first_data_time, spells_of


def records_churn(events) -> bool:
    """Whether ``events`` was given a ``churn`` or ``subscriptions`` table."""
    return bool(getattr(events._engine, "contractual", True))


def no_churn_message(events, func: str) -> str:
    """The warning for contractual KPIs on a store that records no churn."""
    tables = ", ".join(events._engine.tables) or "none"
    table = "usage" if events._engine.table("usage") is not None else None
    table = table or next(iter(events._engine.tables), "usage")
    option = "" if table == "usage" else f", table={table!r}"
    return (
        f"{func}: this Events store records no churn: it has no `churn` table "
        f"and no `subscriptions` (event tables: {tables}), so every customer "
        "stays active forever and churn reads 0 %: not measured. For a business "
        "without cancellations (purchases, usage), count churn as inactivity: "
        f"`ck.{func}(events, inactivity='90D'{option})` counts a customer as "
        "churned once they show no activity for 90 days, as "
        "`ck.label_inactivity` does. Otherwise pass a `churn` table "
        "(customer_id, time) or `subscriptions` (customer_id, start, end) to "
        "`ck.Events`."
    )


def before_the_rule_can_fire(
    events, bounds, inactivity, table: str = "usage"
) -> np.ndarray:
    """Periods starting less than ``inactivity`` after the first row of the
    activity ``table``.

    An inactivity churn is dated ``inactivity`` after a last activity, so in
    those periods none can be counted yet: CDNOW's 90-day rule read 0 % churn
    for February and March 1997, then 60 %. Their rates are not measured. The
    clock starts with the table the rule reads, not with an older one (a
    billing history that goes back further than the usage extract).
    """
    n = len(bounds) - 1
    if inactivity is None:
        return np.zeros(n, dtype=bool)
    first = first_data_time(events, inactivity, table)
    if first is None or first is pd.NaT:
        return np.zeros(n, dtype=bool)
    period = parse_duration(inactivity, name="inactivity", allow_zero=False)
    ready = add_duration(np.array([first.value], dtype="datetime64[ns]"), period)
    return np.asarray(bounds[:-1]) < ready.view("int64")[0]


def early_note(periods, inactivity) -> str:
    """What a rate left unmeasured before the rule can fire says."""
    first, last = pd.Timestamp(periods[0]).date(), pd.Timestamp(periods[-1]).date()
    span = f"{first}" if first == last else f"{first} to {last}"
    return (
        f"Rates of the periods {span} are not measured (NaN): a churn by "
        f"{inactivity} of inactivity is counted {inactivity} after a last "
        "activity, so none can fall in a period that starts less than "
        f"{inactivity} after the activity data begin."
    )


def kpi_spells(events, inactivity, table: str, func: str) -> Spells:
    """The active spells a KPI counts: recorded churns when ``inactivity`` is
    None, else spells of activity in ``table``."""
    if inactivity is None:
        if not records_churn(events):
            warn(no_churn_message(events, func), DataQualityWarning)
        return spells_of(events)
    return inactivity_spells(events, inactivity, table)


def inactivity_spells(events, inactivity, table: str = "usage") -> Spells:
    """Spells of activity: active from an event until ``inactivity`` after it.

    Signups and the rows of ``table`` before ``events.observed_until`` are the
    activity. A customer is active at ``t`` iff one of them falls in
    ``[t - inactivity, t)``; a gap longer than ``inactivity`` ends a spell,
    and the churn is dated ``inactivity`` after the last activity, when the
    rule is first met (so a period's count never changes as later data
    arrives). A spell whose end is not before ``observed_until`` is open.
    Inactivity before ``table`` begins is not observed: a signup before its
    first row counts as activity at that row's time, so the earliest churn is
    ``inactivity`` after the table begins (a customer who signed up in 2023,
    with usage kept from 2024, does not churn 90 days after the signup).
    """
    period = parse_duration(inactivity, name="inactivity", allow_zero=False)
    store = activity_table(events, table)
    n = events.n_customers
    engine = events._engine
    counts = np.diff(np.asarray(store.offsets))
    code = np.concatenate(
        [np.repeat(np.arange(n, dtype=np.int64), counts), np.arange(n)]
    )
    time = np.concatenate([np.asarray(store.time), engine.signup_time]).astype(np.int64)
    until = events.observed_until.value
    seen = time < until
    code, time = code[seen], time[seen]
    order = np.lexsort((time, code))
    code, time = code[order], time[order]
    table_start = engine.table_start(activity_parts(table)[0])
    if not pd.isna(table_start):  # no inactivity is seen before the table begins
        base = np.maximum(time, table_start.value)
    else:
        base = time
    reach = add_duration(base.view("datetime64[ns]"), period).view("int64")
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    new_run = first.copy()
    new_run[1:] |= time[1:] > reach[:-1]
    starts = np.flatnonzero(new_run)
    lasts = np.append(starts[1:] - 1, len(code) - 1).astype(np.int64)
    end = reach[lasts] if len(starts) else np.zeros(0, dtype=np.int64)
    return Spells(
        code=code[starts],
        start=time[starts],
        end=np.where(end < until, end, OPEN),
        kind=np.full(len(starts), np.nan, dtype=object),
        first=first[starts],
    )

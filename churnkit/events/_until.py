"""Where the data ends by default, and churns dated after it.

:func:`default_observed_until` is just after the latest recorded time. A
churn table dated at the end of service (a cancellation effective after a
notice period) holds churns the business *scheduled*, often months past the
extract: beside event tables they no more say how far the data runs than a
subscription's future period end does, so they do not move it (the months up
to them would read as observed, every label there "not churned").
:func:`scheduled_churns` are those later than the event rows' end by more
than a day and a few of the log's typical spacings (a churn on the 31st of a
log of invoices dated the 1st is no scheduled one);
:func:`warn_churns_after_the_data` says how many there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import NS_PER_DAY, to_timestamp
from churnkit.events._build import EVENT_TABLES
from churnkit.events._extent import (
    warn_ends_after_the_data,
    warn_late_observed_until,
    warn_stray_latest_rows,
)
from churnkit.events._overlap import DROPPED, END_OF_TIME
from churnkit.events._store import NAT
from churnkit.exceptions import DataQualityWarning

__all__ = [
    "observed_until_of",
    "churn_times_of",
    "default_observed_until",
    "scheduled_churns",
    "warn_churns_after_the_data",
]


#: Churn rows later than the event rows' end by more than this many typical
#: spacings of their latest distinct times (and a day) are scheduled.
SPACINGS = 3
#: Distinct latest event times the typical spacing is read from.
SPACING_SAMPLE = 1000


def _event_end(columns) -> tuple[int, int] | None:
    """(latest event time, the slack a churn may lie after it and still say
    how far the data runs: a day, or a few typical spacings of the latest
    distinct times; a month in a log of monthly invoices)."""
    if not columns:
        return None
    tail = np.unique(np.concatenate([np.sort(c)[-SPACING_SAMPLE:] for c in columns]))
    tail = tail[-SPACING_SAMPLE:]
    spacing = int(np.median(np.diff(tail))) if len(tail) > 1 else 0
    return int(tail[-1]), max(NS_PER_DAY, SPACINGS * spacing)


def scheduled_churns(tables, churn_times) -> np.ndarray:
    """Which ``churn_times`` (churn-table times, no subscriptions) lie past
    the event rows' end by more than its slack: churns scheduled after the
    data. All False without event rows."""
    churn_times = np.asarray(churn_times, dtype=np.int64)
    events = [t.time for t in tables.values() if len(t) and t.name in EVENT_TABLES]
    end = _event_end(events)
    if end is None:
        return np.zeros(len(churn_times), dtype=bool)
    return churn_times > end[0] + end[1]


def default_observed_until(signup_time, tables, subs, churn_times) -> pd.Timestamp:
    """Just after the latest recorded time: event rows, signups, subscription
    starts and cancellations, and churn-table times (``churn_times``, None
    beside subscriptions, where a churn row is the kind of an end, and does
    not count, as the end does not) but for the :func:`scheduled_churns`.

    A subscription's ``end`` does not count: billing systems export the end of
    the current paid period, which may lie in the future. When every one of
    these times is a midnight (a log of dates without times), the data runs to
    the end of the last day: midnight after it.
    """
    columns = [signup_time] if len(signup_time) else []
    for table in tables.values():
        if len(table) and table.name in EVENT_TABLES:
            columns.append(table.time)
    if subs is not None and DROPPED in subs:
        subs = subs[~subs[DROPPED].to_numpy()]
    if subs is not None and len(subs):
        columns.append(subs["start"].to_numpy(np.int64))
        if "cancel_time" in subs:
            cancel = subs["cancel_time"].to_numpy(np.int64)
            columns.append(cancel[cancel != NAT])
    if churn_times is not None and len(churn_times):
        churn_times = np.asarray(churn_times, dtype=np.int64)
        columns.append(churn_times[~scheduled_churns(tables, churn_times)])
    columns = [np.asarray(c) for c in columns if len(c)]
    if not columns:
        return pd.Timestamp.now().floor("D")
    latest = max(int(c.max()) for c in columns)
    if all(not (c % NS_PER_DAY).any() for c in columns):
        return pd.Timestamp(latest + NS_PER_DAY)  # dates only: the whole last day
    return pd.Timestamp(latest + 1)


def churn_times_of(spells) -> np.ndarray | None:
    """The churn-table times that end spells (no subscriptions), else None."""
    if spells.latest_churn is None:
        return None
    return spells.end[spells.end != END_OF_TIME]


def warn_churns_after_the_data(spells, customer_ids, tables, until) -> None:
    """Warn when churn-table rows (no subscriptions) are
    :func:`scheduled_churns`: past the data's default end ``until``."""
    ended = np.flatnonzero(spells.end != END_OF_TIME)
    late = ended[scheduled_churns(tables, spells.end[ended])]
    if not len(late):
        return
    times = spells.end[late].view("datetime64[ns]")
    shown = pd.DataFrame(
        {
            "customer_id": np.asarray(customer_ids)[spells.code[late]],
            "time": times,
        }
    ).sort_values("time", kind="stable")
    warn(
        f"Table 'churn': {len(late):,} row(s) are dated on or after the end of "
        f"the event tables' data ({until}), up to {pd.Timestamp(times.max())}, "
        f"e.g.\n{shown.head(5).to_string(index=False)}\nThey are read as churns "
        "scheduled after the data (an end of service after a notice period) and "
        f"do not move `observed_until`, which stays {until}: the periods after it "
        "are not observed (no usage, payments or tickets there), so labels and "
        "KPIs stop there. If the data does run later, pass `observed_until`.",
        DataQualityWarning,
    )


def observed_until_of(
    given, customer_ids, signup_time, tables, subs, spells, grace
) -> pd.Timestamp:
    """The store's ``observed_until``: ``given``, else the default, with the
    warnings of each (stray latest rows, ends or churns past the data; a
    given end long after the data)."""
    default = default_observed_until(signup_time, tables, subs, churn_times_of(spells))
    if given is None:  # a few stray rows must not set it
        # judged on the times that set the default: not the scheduled churns
        ended = spells.end
        if subs is None and spells.latest_churn is not None:
            late = (ended != END_OF_TIME) & scheduled_churns(tables, ended)
            ended = np.where(late, END_OF_TIME, ended)
        shown = spells._replace(end=ended)
        warn_stray_latest_rows(customer_ids, signup_time, tables, subs, shown, default)
        warn_ends_after_the_data(subs, default, grace.value)
        if subs is None and spells.latest_churn is not None:
            warn_churns_after_the_data(spells, customer_ids, tables, default)
        return default
    # nor a typo ('2030' for '2020') turn every term into a churn
    until = to_timestamp(given, name="observed_until")
    warn_late_observed_until(default, until, sum(len(t) for t in tables.values()))
    return until

"""Where the data ends by default, and churns dated after it.

:func:`default_observed_until` is just after the latest recorded time. A
churn table dated at the end of service (a cancellation effective after a
notice period) holds churns the business *scheduled*, often months past the
extract: beside event tables they no more say how far the data runs than a
subscription's future period end does, so they do not move it (the months up
to them would read as observed, every label there "not churned").
:func:`past_the_events` are those later than the event rows' end by more
than a day and a few of the log's typical spacings (a churn on the 31st of a
log of invoices dated the 1st is no scheduled one); subscription starts
booked ahead (:func:`booked_ahead`) do not move it either, and warnings say
how many of each there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import NS_PER_DAY, to_timestamp
from churnkit.events._build import EVENT_TABLES
from churnkit.events._extent import (
    MAX_STRAY_SHARE,
    warn_ends_after_the_data,
    warn_late_observed_until,
    warn_stray_latest_rows,
)
from churnkit.events._overlap import DROPPED, END_OF_TIME
from churnkit.events._store import NAT
from churnkit.exceptions import DataQualityWarning

__all__ = [
    "observed_until_of",
    "default_observed_until",
    "past_the_events",
    "booked_ahead",
    "latest_distinct",
    "event_end",
    "column_end",
    "warn_churns_after_the_data",
    "warn_a_table_past_the_others",
]


#: Times later than the event rows' end by more than this many typical
#: spacings of their latest distinct times (and a day) are past the data.
SPACINGS = 3
#: Distinct latest event times the typical spacing is read from.
SPACING_SAMPLE = 1000
#: Rows of the strided sample the latest distinct times are first read from.
SAMPLE_ROWS = 200_000
#: With few distinct times, the sample's latest this many bound the rows read.
FEW_DISTINCT = 64
#: Subscription starts past the event rows are booked ahead when they are at
#: most this share of all starts (more: the event tables are a sample, or lag).
BOOKED_SHARE = 0.2


def latest_distinct(values: np.ndarray, k: int = SPACING_SAMPLE) -> np.ndarray:
    """Up to ``k`` latest distinct values of ``values`` (sorted), in O(n)
    vectorised passes: the distinct values of a strided sample give a
    threshold, and every row at or past it is read, so the result is exact
    above it (a thousand customers invoiced on one day are one time; a rare
    time the sample missed still counts)."""
    values = np.asarray(values)
    n = len(values)
    if n == 0:
        return values[:0]
    sample = np.unique(values[:: max(1, n // SAMPLE_ROWS)])
    low = sample[-k - 1] if len(sample) > k else sample[-FEW_DISTINCT:][0]
    return np.unique(values[values >= low])[-k:]


def event_end(tables) -> tuple[int, int] | None:
    """(latest event time, the slack a time may lie after it and still say how
    far the data runs: a day, or a few typical spacings of the latest distinct
    times; a month in a log of monthly invoices) of the event ``tables``, a
    ``{name: EventTable}`` or a list of time arrays; None without rows."""
    if isinstance(tables, dict):
        tables = [t.time for t in tables.values() if t.name in EVENT_TABLES]
    tails = [latest_distinct(t) for t in tables if len(t)]
    if not tails:
        return None
    tail = latest_distinct(np.concatenate(tails))
    spacing = int(np.median(np.diff(tail))) if len(tail) > 1 else 0
    return int(tail[-1]), max(NS_PER_DAY, SPACINGS * spacing)


def past_the_events(times, end) -> np.ndarray:
    """Which ``times`` lie past the event rows' ``end`` (:func:`event_end`) by
    more than its slack: a churn scheduled after the data (a notice period's
    end), a subscription booked ahead. All False without event rows."""
    times = np.asarray(times, dtype=np.int64)
    if end is None:
        return np.zeros(len(times), dtype=bool)
    return times > end[0] + end[1]


def booked_ahead(starts, end) -> np.ndarray:
    """Which subscription ``starts`` are booked ahead: :func:`past_the_events`,
    and few (a promotional step-up, a renewal scheduled); many starts past
    the event rows say the event tables end early (a sample, an export that
    lags), and none is."""
    ahead = past_the_events(starts, end)
    return ahead if ahead.sum() <= BOOKED_SHARE * len(ahead) else ahead & False


def default_observed_until(signup_time, tables, subs, churn_times) -> pd.Timestamp:
    """Just after the latest recorded time: event rows, signups, subscription
    starts and cancellations, and churn-table times (``churn_times``, None
    beside subscriptions, where a churn row is the kind of an end, and does
    not count, as the end does not). The caller leaves out the churns and
    starts past the event rows (:func:`observed_until_of`).

    A subscription's ``end`` does not count: billing systems export the end of
    the current paid period, which may lie in the future. An event table of
    dates only runs to the end of its last day: midnight after it
    (:func:`column_end`), whatever the other tables hold (bills dated by day
    beside tickets with times); the other times too when every one of them
    is a midnight.
    """
    events = [
        np.asarray(t.time) for t in tables.values() if len(t) and t.name in EVENT_TABLES
    ]
    others = [signup_time] if len(signup_time) else []
    if subs is not None and DROPPED in subs:
        subs = subs[~subs[DROPPED].to_numpy()]
    if subs is not None and len(subs):
        others.append(subs["start"].to_numpy(np.int64))
        if "cancel_time" in subs:
            cancel = subs["cancel_time"].to_numpy(np.int64)
            others.append(cancel[cancel != NAT])
    if churn_times is not None:
        others.append(np.asarray(churn_times, dtype=np.int64))
    others = [np.asarray(c) for c in others if len(c)]
    if not events and not others:
        return pd.Timestamp.now().floor("D")
    dates = all(not (c % NS_PER_DAY).any() for c in [*events, *others])
    tops = [column_end(c) for c in events]
    tops += [int(c.max()) + (NS_PER_DAY if dates else 1) for c in others]
    return pd.Timestamp(max(tops))


def column_end(times: np.ndarray) -> int:
    """Just after a column's latest time (ns): midnight after its last day
    when it holds dates only (a bills table of dates beside tickets with
    times runs to the end of its last day: was its midnight + 1 ns, the last
    day and month read as unobserved)."""
    latest = int(times.max())
    return latest + (NS_PER_DAY if not (times % NS_PER_DAY).any() else 1)


def warn_churns_after_the_data(spells, customer_ids, late, until) -> None:
    """Warn when churn-table rows (no subscriptions) lie past the event rows
    (``late``: which spells end so): past the data's default end ``until``."""
    late = np.flatnonzero(late)
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
    warnings of each (stray latest rows, ends, churns or starts past the data;
    a given end long after the data)."""
    # without subscriptions a churn row ends its spell (latest_churn is None
    # beside them: a churn row is then only the kind of an end)
    churned = spells.end != END_OF_TIME
    holds_churns = spells.latest_churn is not None
    end = event_end(tables) if holds_churns or subs is not None else None
    late = churned & past_the_events(spells.end, end) if holds_churns else None
    booked = subs
    ahead = None
    if subs is not None and len(subs):
        ahead = booked_ahead(subs["start"].to_numpy(np.int64), end)
        booked = subs[~ahead] if ahead.any() else subs
    churns = spells.end[churned & ~late] if holds_churns else None
    default = default_observed_until(signup_time, tables, booked, churns)
    if given is not None:  # nor a typo ('2030' for '2020') turn terms into churns
        until = to_timestamp(given, name="observed_until")
        warn_late_observed_until(default, until, sum(len(t) for t in tables.values()))
        return until
    # a few stray rows must not set it: judged on the times that set it
    shown = (
        spells._replace(end=np.where(late, END_OF_TIME, spells.end))
        if (holds_churns)
        else spells
    )
    if ahead is not None and ahead.any():
        _warn_starts_ahead(subs[ahead], default)
    warn_stray_latest_rows(customer_ids, signup_time, tables, booked, shown, default)
    warn_ends_after_the_data(subs, default, grace.value)
    if holds_churns:
        warn_churns_after_the_data(spells, customer_ids, late, default)
    warn_a_table_past_the_others(tables, subs, default)
    return default


#: An event table whose latest rows lie this long past every other source.
PAST_THE_OTHERS_NS = 60 * NS_PER_DAY
#: Rows a table (or subscriptions) needs to say where the data end.
MIN_YARDSTICK_ROWS = 100


def warn_a_table_past_the_others(tables, subs, until) -> None:
    """Warn when one event table runs months past every other event table
    and the subscription starts with more than a few rows (a stray few are
    :func:`~churnkit.events._extent.warn_stray_latest_rows`'): rows dated
    ahead (an insurer's scheduled instalments) set ``observed_until`` there,
    and the months between read as observed, with no churn in them."""
    events = {
        t.name: t.time for t in tables.values() if len(t) and t.name in EVENT_TABLES
    }
    total = sum(len(t) for t in events.values())
    # the yardsticks: tables of more than a few rows (three tickets in March
    # say nothing of where a year of usage ends)
    enough = max(MIN_YARDSTICK_ROWS, MAX_STRAY_SHARE * total)
    others = {n: int(t.max()) for n, t in events.items() if len(t) >= enough}
    if subs is not None and len(subs) >= MIN_YARDSTICK_ROWS:
        others["subscriptions"] = int(subs["start"].to_numpy(np.int64).max())
    for name, times in events.items():
        rest = max((v for n, v in others.items() if n != name), default=None)
        if rest is None or name not in others:
            continue
        if others[name] - rest <= PAST_THE_OTHERS_NS:
            continue
        ahead = int((times > rest).sum())
        if ahead <= MAX_STRAY_SHARE * sum(len(t) for t in events.values()):
            continue  # a stray few: the stray-rows warning names them
        stop = pd.Timestamp(rest).normalize() + pd.Timedelta("1D")
        warn(
            f"Table {name!r} runs to {pd.Timestamp(others[name]).date()}, "
            f"{(others[name] - rest) // NS_PER_DAY:,} days past every other table "
            f"(they end {pd.Timestamp(rest).date()}): {ahead:,} of "
            f"its rows lie after them, and observed_until = {until} reads the "
            "months between as observed, with no churn in them. Rows dated ahead "
            "(scheduled instalments, invoices issued in advance) are no data yet: "
            f"drop them, or pass observed_until='{stop.date()}' if the data end "
            "there.",
            DataQualityWarning,
        )


def _warn_starts_ahead(rows: pd.DataFrame, until) -> None:
    """Warn that subscription rows start after the event rows' end: booked
    ahead (a promotional price's step-up), they do not move the data's end."""
    shown = rows[["customer_id", "start"]].head(5)
    shown = shown.assign(start=shown["start"].to_numpy().view("datetime64[ns]"))
    warn(
        f"Table 'subscriptions': {len(rows):,} row(s) start after the end of the "
        f"event tables' data, up to "
        f"{pd.Timestamp(int(rows['start'].max())).date()}, e.g.\n"
        f"{shown.to_string(index=False)}\nThey are read as booked ahead (a "
        "promotional price stepping up, a renewal scheduled) and do not move "
        f"`observed_until`, which stays {until}. If the data do run later, "
        "pass `observed_until`.",
        DataQualityWarning,
    )

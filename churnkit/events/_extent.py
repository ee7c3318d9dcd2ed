"""Where the data ends: stray rows far past the rest that move ``observed_until``.

By default :class:`~churnkit.events.Events` takes ``observed_until`` from the
latest time of the data. One future-dated row (a scheduled renewal invoice, a
mistyped year) then moves it months ahead, and every label window in those
months reads "not churned": no churn was recorded there because nothing was.
:func:`warn_stray_latest_rows` looks at the latest times of every source the
default reads and warns when a few rows lie far past all the others.

The rule, on the times of every source pooled (signups, event-table times,
subscription starts and cancellations, churn-table times):

* the rows after a gap are *stray* when they are few: at most
  :data:`MAX_STRAY_SHARE` of all rows (and at least one);
* the gap is long: more than ``max(30 days, 3 x the typical spacing)``, the
  typical spacing being the median step between the distinct times just
  before the last rows (one day in a daily log, a month in a log of monthly
  invoices all dated the 1st);
* the rest is data: at least :data:`MIN_BULK_ROWS` rows lie before the gap.

A table that ends earlier than another (support tickets that stop a month
before usage) is no gap: the other table's rows fill the month. Nothing is
changed: the warning names the rows and the ``observed_until`` to pass.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import NS_PER_DAY
from churnkit.exceptions import DataQualityWarning

__all__ = [
    "warn_stray_latest_rows",
    "stray_latest_rows",
    "warn_late_observed_until",
    "dated_by_the_whole",
    "outcomes_known_until",
    "warn_cancel_without_end",
    "censoring_note",
    "first_full_cutoff",
]

#: The stray rows are at most this share of all rows.
MAX_STRAY_SHARE = 0.01
#: Rows that must lie before the gap for the rule to speak (toy logs are sparse).
MIN_BULK_ROWS = 100
#: The shortest gap that is flagged, and the multiple of the typical spacing.
MIN_GAP_NS = 30 * NS_PER_DAY
SPACING_MULTIPLE = 3
#: Distinct times before the last rows from which the typical spacing is read.
SPACING_SAMPLE = 1000
#: A given ``observed_until`` this long after the data's own end is warned.
LATE_GIVEN_NS = 2 * MIN_GAP_NS
# set while a part of a larger data set is built (a layout's bucket): its
# observed_until is the whole data's end, not a date to check against the part
_PART: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "churnkit_part_of_a_whole", default=False
)


@contextlib.contextmanager
def dated_by_the_whole():
    """Build stores of part of the data (a bucket) with the whole data's
    ``observed_until``: a bucket whose own rows end earlier is not warned."""
    token = _PART.set(True)
    try:
        yield
    finally:
        _PART.reset(token)


MAX_SHOWN = 5
_END_OF_TIME = np.iinfo(np.int64).max
_NAT = np.iinfo(np.int64).min


def _sources(customer_ids, signup_time, tables, subs, spells):
    """The time columns the default ``observed_until`` reads.

    Yields ``(table, column, times, customers_of)``: ``times`` int64 ns without
    NaT, ``customers_of(rows)`` the customer id of rows of ``times``.
    """
    ids = np.asarray(customer_ids)
    yield "customers", "signup_time", np.asarray(signup_time), ids.__getitem__
    for table in tables.values():
        if table.name in ("usage", "billing", "support") and len(table):

            def of(rows, offsets=table.offsets):
                return ids[np.searchsorted(offsets, rows, side="right") - 1]

            yield table.name, "time", table.time, of
    if subs is not None and len(subs):
        sub_ids = subs["customer_id"].to_numpy()
        yield (
            "subscriptions",
            "start",
            subs["start"].to_numpy(np.int64),
            sub_ids.__getitem__,
        )
        if "cancel_time" in subs:
            cancel = subs["cancel_time"].to_numpy(np.int64)
            known = np.flatnonzero(cancel != _NAT)
            yield (
                "subscriptions",
                "cancel_time",
                cancel[known],
                lambda rows: sub_ids[known[rows]],
            )
        if spells.latest_churn is not None:  # churn rows only name the kinds
            latest = np.array([spells.latest_churn], dtype=np.int64)
            yield "churn", "time", latest, lambda rows: np.full(len(rows), "?")
    elif spells.latest_churn is not None:  # each churn is its customer's spell end
        churned = np.flatnonzero(spells.end != _END_OF_TIME)
        yield (
            "churn",
            "time",
            spells.end[churned],
            lambda rows: ids[spells.code[churned[rows]]],
        )


def _top(times: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` latest of ``times`` (any order), in O(n)."""
    if k >= len(times):
        return np.arange(len(times))
    return np.argpartition(times, len(times) - k)[len(times) - k :]


def stray_cut(times: np.ndarray, max_stray: int) -> int | None:
    """Where the stray rows begin in ``times`` (sorted; the latest
    ``max_stray + 1 + SPACING_SAMPLE`` times of the data), or None.

    Strays are the rows after the first gap, among the last ``max_stray``,
    longer than :data:`MIN_GAP_NS` and :data:`SPACING_MULTIPLE` times the
    typical spacing of the distinct times before them.
    """
    bulk = np.unique(times[: len(times) - max_stray])
    steps = np.diff(bulk)
    spacing = int(np.median(steps)) if len(steps) else 0
    threshold = max(MIN_GAP_NS, SPACING_MULTIPLE * spacing)
    first = len(times) - max_stray  # the earliest candidate stray position
    gaps = np.diff(times[first - 1 :]) > threshold
    if not gaps.any():
        return None
    return first + int(np.argmax(gaps))  # the gap with the most rows after it


def stray_latest_rows(customer_ids, signup_time, tables, subs, spells):
    """The few rows that lie far past the rest of the data, if any.

    Parameters
    ----------
    customer_ids : Index
        The customers, in code order.
    signup_time : ndarray of int64
        Signups, by customer code.
    tables : dict of str to EventTable
        The event tables as built (before billing is derived).
    subs : DataFrame or None
        The clean subscriptions (``start`` and ``cancel_time`` as int64 ns).
    spells : Spells
        The spells, with ``latest_churn``.

    Returns
    -------
    rows : DataFrame or None
        ``table``, ``column``, ``customer_id``, ``time`` of each stray row, in
        time order, or None when the latest rows are no stray ones.
    rest_end : Timestamp or None
        The latest time of every other row.
    """
    sources = list(_sources(customer_ids, signup_time, tables, subs, spells))
    n_total = sum(len(s[2]) for s in sources)
    max_stray = max(1, int(MAX_STRAY_SHARE * n_total))
    if n_total - max_stray < MIN_BULK_ROWS:
        return None, None
    window = max_stray + 1 + SPACING_SAMPLE
    times, source, row = [], [], []
    for i, (_, _, t, _) in enumerate(sources):
        top = _top(t, window)
        times.append(t[top])
        source.append(np.full(len(top), i))
        row.append(top)
    times, source, row = (np.concatenate(a) for a in (times, source, row))
    order = np.argsort(times, kind="stable")[-window:]
    times, source, row = times[order], source[order], row[order]
    cut = stray_cut(times, max_stray)
    if cut is None:
        return None, None
    src, rows = source[cut:], row[cut:]
    out = []
    for i in np.unique(src):  # one group per source (a handful)
        table, column, t, customers_of = sources[i]
        mine = rows[src == i]
        out.append(
            pd.DataFrame(
                {
                    "table": table,
                    "column": column,
                    "customer_id": customers_of(mine),
                    "time": t[mine].view("datetime64[ns]"),
                }
            )
        )
    stray = pd.concat(out, ignore_index=True).sort_values("time", kind="stable")
    return stray.reset_index(drop=True), pd.Timestamp(int(times[cut - 1]))


def _day(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def warn_stray_latest_rows(
    customer_ids, signup_time, tables, subs, spells, observed_until
) -> None:
    """Warn when a few rows far past the rest set the default ``observed_until``.

    Parameters
    ----------
    customer_ids, signup_time, tables, subs, spells
        As for :func:`stray_latest_rows`.
    observed_until : Timestamp
        The default ``observed_until`` these rows gave.
    """
    stray, rest_end = stray_latest_rows(customer_ids, signup_time, tables, subs, spells)
    if stray is None:
        return
    counts = stray.groupby(["table", "column"], sort=False).size()
    n = len(stray)
    verb = "lies" if n == 1 else "lie"
    if len(counts) == 1:
        (table, column), _ = next(iter(counts.items()))
        rows = "1 row" if n == 1 else f"{n:,} rows"
        head = f"Table {table!r}: {rows} (column {column!r}) {verb}"
        others = f"every other table's last row and every other {table!r} row are"
    else:
        parts = ", ".join(f"{t!r}.{c} ({k:,})" for (t, c), k in counts.items())
        head = f"{n:,} rows of {parts} lie"
        others = "every other row of every table is"
    gap_days = (stray["time"].iloc[0] - rest_end) // pd.Timedelta("1D")
    suggest = rest_end.normalize() + pd.Timedelta("1D")
    latest = stray["time"].iloc[-1]
    shown = stray.head(MAX_SHOWN).to_string(index=False)
    more = f"\n... and {n - MAX_SHOWN:,} more" if n > MAX_SHOWN else ""
    warn(
        f"{head} {gap_days:,} days{'' if n == 1 else ' or more'} after the rest "
        "of the data, which "
        f"ends {_day(rest_end)} ({others} earlier). The default "
        f"observed_until = {observed_until} would treat {_day(suggest)}.."
        f"{_day(latest)} as observed: churn there is not in the data, so those "
        f"days would read as 'not churned'. The rows:\n{shown}{more}\n"
        f"If the data ends on {_day(rest_end)}, pass "
        f"`observed_until='{suggest.date()}'` (or call "
        f"`events.with_observed_until('{suggest.date()}')`); or drop these rows "
        "(scheduled future invoices or renewals, mistyped years) before building.",
        DataQualityWarning,
    )


def warn_late_observed_until(
    data_end, given: pd.Timestamp, event_rows: int, *, now=None
) -> None:
    """Warn when a given ``observed_until`` lies in the future, or long after
    the data's own end (``data_end``, the default it replaces) in a store of
    at least :data:`MIN_BULK_ROWS` event rows (``event_rows``; a small churn
    log can be quiet for months).

    Every day up to ``observed_until`` is read as observed: a subscription
    whose term ends there counts as churned, and a customer with no churn
    row there as retained. ``2030-01-01`` for ``2020-01-01`` (a typo) turned
    every fightchurn customer into a churner, silently.
    """
    if data_end is None or pd.isna(data_end) or pd.isna(given) or _PART.get():
        return
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else now
    last = data_end - pd.Timedelta(1)  # the default is just after the last row
    gap_days = (given - last) // pd.Timedelta("1D")
    if given > now + pd.Timedelta("1D"):
        why = f"is in the future (today is {now.date()})"
    elif event_rows >= MIN_BULK_ROWS and (given - data_end).value > LATE_GIVEN_NS:
        why = f"is {gap_days:,} days after the data's last row"
    else:
        return
    warn(
        f"observed_until={_day(given)} {why}: the last row is of {_day(last)}, "
        f"and the {gap_days:,} days after it are read as observed, with nothing "
        "in them: a subscription whose term ends there counts as churned, a "
        "customer with no churn row as retained, and the periods there as "
        "complete. If the data end there, leave observed_until out (it is then "
        "just after the last row) or pass the date the extract was taken.",
        DataQualityWarning,
    )


#: ends read as paid-period ends that make a warning: this many at least, and
#: this share of the customers with a subscription
MIN_FUTURE_ENDS, MIN_FUTURE_SHARE = 5, 0.05


def warn_ends_after_the_data(subs, until: pd.Timestamp, grace: int) -> None:
    """Warn when many subscription ends are read as future paid-period ends in
    a table that writes running subscriptions with an empty end.

    By default ``observed_until`` is just after the last recorded start or
    event; an ``end`` the data does not reach (``end + grace`` at or after
    it, without a ``cancel_time`` before it) is read as the end of a paid
    period, not a churn (``docs/guide/your-data.md``). A table that marks
    running subscriptions with an empty end (null, ``""`` or 9999-12-31)
    does not export paid-period ends, so its later ends are more likely
    cancellations recorded after the last signup: every churn after it is
    lost. The warning is given when that table has at least
    :data:`MIN_FUTURE_ENDS` such ends, held by at least
    :data:`MIN_FUTURE_SHARE` of its customers; it names ``observed_until=``.
    Nothing is changed.
    """
    if subs is None or not len(subs):
        return
    keep = ~subs["__dropped__"].to_numpy() if "__dropped__" in subs else True
    end = subs["end"].to_numpy(np.int64)
    is_open = (end == _END_OF_TIME) & keep
    limit = np.where(end > _END_OF_TIME - grace, _END_OF_TIME, end + grace)
    future = keep & (end < _END_OF_TIME) & (limit >= until.value)
    if "cancel_time" in subs:
        cancel = subs["cancel_time"].to_numpy(np.int64)
        future &= (cancel == _NAT) | (cancel >= until.value)
    if not is_open.any() or future.sum() < MIN_FUTURE_ENDS:
        return
    ids = subs["customer_id"].to_numpy()
    n_customers = pd.unique(ids[keep] if keep is not True else ids).size
    holders = pd.unique(ids[future])
    if len(holders) < MIN_FUTURE_SHARE * n_customers:
        return
    latest = pd.Timestamp(int(end[future].max()))
    shown = _shown(subs, future, ["start", "end"])
    warn(
        f"Table 'subscriptions': {int(future.sum()):,} values of column 'end' "
        f"({len(holders):,} of {n_customers:,} customers) lie at or after the "
        f"default `observed_until` ({until}, just after the last recorded start "
        f"or event), up to {_day(latest)}, and are read as the ends of paid "
        "periods, not churns; yet the table marks "
        f"{int(is_open.sum()):,} running subscriptions with an empty `end`, so "
        "these are likely cancellations recorded after the last signup, and "
        f"their churns are lost. e.g.:\n{shown.to_string(index=False)}\n"
        "If the extract was taken later, pass the date it was taken: "
        "`ck.Events(..., observed_until=...)` (after "
        f"{_day(latest)} every one of these ends is a churn); if they are "
        "paid-period ends, nothing needs to change.",
        DataQualityWarning,
    )


def outcomes_known_until(events) -> pd.Timestamp:
    """The time up to which every churn is known: ``observed_until - grace``.

    An end is a churn once ``end + grace < observed_until`` (or a cancellation
    was recorded); a later end may still be followed by a renewal. A label
    window, a survival follow-up or a cutoff chosen to be labelled ends here.
    """
    return events.observed_until - events.grace


def _shown(subs, mask, times: list) -> pd.DataFrame:
    """The first rows of ``mask`` with their id and ``times`` (int64 ns) as dates."""
    shown = subs.loc[mask, ["customer_id", *times]].head(MAX_SHOWN)
    return shown.assign(
        **{c: shown[c].to_numpy().view("datetime64[ns]") for c in times}
    )


def warn_cancel_without_end(subs) -> None:
    """Warn when subscriptions have a ``cancel_time`` but no ``end``.

    A cancellation takes effect at the end of the paid period, which the
    ``end`` gives; without one the subscription is read as open and the
    cancellation as no churn (Stripe leaves ``ended_at`` empty until a
    scheduled cancellation takes effect: its period end is
    ``current_period_end``). ``subs`` is the clean table (``end`` as int64 ns,
    ``END_OF_TIME`` when open). Nothing is changed.
    """
    if subs is None or "cancel_time" not in subs or not len(subs):
        return
    cancel = subs["cancel_time"].to_numpy(np.int64)
    pending = (subs["end"].to_numpy(np.int64) == _END_OF_TIME) & (cancel != _NAT)
    if not pending.any():
        return
    shown = _shown(subs, pending, ["start", "cancel_time"])
    warn(
        f"Table 'subscriptions': {int(pending.sum()):,} subscription(s) have a "
        "`cancel_time` but no `end`, so they are read as open and their "
        f"cancellations as no churn, e.g.:\n{shown.to_string(index=False)}\n"
        "A cancellation takes effect when the paid period ends: map that date "
        "to `end` (Stripe: `current_period_end` while `ended_at` is empty, e.g. "
        "`end = ended_at.fillna(current_period_end)` for cancelled rows).",
        DataQualityWarning,
    )


#: values of a subscriptions ``status`` that say the subscription is over
ENDED_STATUSES = frozenset(
    "canceled cancelled unpaid incomplete_expired expired ended inactive "
    "terminated churned closed lapsed".split()
)


def warn_ended_status_without_end(df, open_rows: np.ndarray) -> None:
    """Warn when open subscriptions (no ``end``) have a ``status`` saying they ended.

    Stripe leaves ``ended_at`` empty on ``unpaid`` subscriptions (dunning gave
    up, the customer lost access), so an ``end`` mapped from it reads them as
    open: their MRR counts on forever and they never churn, with nothing else
    looking wrong. ``df`` is the user's table, ``open_rows`` a mask of its kept
    rows without an ``end``. Nothing is changed.
    """
    column = next((c for c in ("status", "state") if c in df), None)
    if column is None or not open_rows.any():
        return
    status = df[column].astype("string").str.strip().str.lower()
    ended = open_rows & status.isin(ENDED_STATUSES).fillna(False).to_numpy(bool)
    if not ended.any():
        return
    counts = status[ended].value_counts()
    said = ", ".join(f"{k!r}: {v:,}" for k, v in counts.items())
    shown = df.loc[ended, ["customer_id", "start", column]].head(MAX_SHOWN)
    warn(
        f"Table 'subscriptions': {int(ended.sum()):,} subscription(s) have no "
        f"`end` but a `{column}` saying they ended ({said}), so they are read "
        "as open: their MRR counts on and they never churn, e.g.:\n"
        f"{shown.to_string(index=False)}\n"
        "Map the date each one ended to `end` (Stripe leaves `ended_at` empty "
        "on 'unpaid' subscriptions: the period they stopped paying for ends at "
        "`current_period_end`, e.g. `end = ended_at.fillna(current_period_end."
        "where(status.isin(['unpaid', 'canceled'])))`).",
        DataQualityWarning,
    )


def censoring_note(events, stop) -> str:
    """Why rows were censored and how to set ``observed_until``."""
    until = events.observed_until
    known = outcomes_known_until(events)
    late = np.asarray(stop).view("int64")
    late = late[late > known.value]
    latest = pd.Timestamp(int(late.max())) + events.grace if len(late) else until
    why = (
        f"the data ends at `events.observed_until` = {until} (by default just "
        "after the latest event; midnight after the last day when every time "
        "is a date)"
    )
    if events.grace > pd.Timedelta(0):
        why += (
            f", and with `grace` = {events.grace} a churn is known only up to "
            f"{known} (an end after it may still be followed by a renewal)"
        )
    return (
        f" Censored rows have a label window ending after the data: {why}, so "
        "their outcome is not observed yet. If the extract was taken later than "
        "its last event, say when, e.g. `ck.Events(..., observed_until="
        f"'{latest.date()}')` or `events.with_observed_until('{latest.date()}')` "
        "(the end of the latest censored window); otherwise use earlier cutoffs "
        "or a shorter horizon."
    )


def first_full_cutoff(events, freq="MS", history="90D"):
    """The first cutoff with ``history`` of data before it on the ``freq`` grid.

    Data starts at the later of the first signup and the first event of any
    table: extracts often hold customers who signed up long before the events
    begin, and cutoffs before the events would see empty windows.
    """
    firsts = [events.customers["signup_time"].min()]
    firsts += [
        pd.Timestamp(int(t.time.min()))
        for t in events._engine.tables.values()
        if len(t)
    ]
    earliest = (max(firsts) + pd.Timedelta(history)).ceil("D")
    return pd.tseries.frequencies.to_offset(freq).rollforward(earliest)

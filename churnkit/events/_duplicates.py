"""Rows of an event table that repeat the row before them exactly, and
subscription rows that overlap or leave short gaps where they should meet.

An export appended twice doubles every count and sum, and nothing else looks
wrong: the store holds twice the rows, features read twice the logins. After
the build has grouped a table by customer and ordered it by time (ties by
every column), identical rows are neighbours, so one pass over the rows that
share their predecessor's customer and time finds them; only those few
candidates are compared column by column, on the user's own values.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import NS_PER_DAY
from churnkit.events._tables import examples
from churnkit.exceptions import DataQualityWarning

__all__ = [
    "repeated_rows",
    "warn_day_gaps",
    "warn_current_mrr",
    "warn_early_renewals",
    "warn_repeated_rows",
    "warn_repeated_subscriptions",
]


def repeated_rows(df: pd.DataFrame, offsets, time, input_rows) -> np.ndarray:
    """Input rows (of ``df``) equal in every column to the stored row before them.

    Parameters
    ----------
    df : DataFrame
        The table as given (after renaming).
    offsets : ndarray of shape (n_customers + 1,)
        Each customer's first stored row.
    time : ndarray of int64
        Stored rows' times, ordered by customer then time.
    input_rows : ndarray of int64
        The input row of each stored row.
    """
    time = np.asarray(time)
    if len(time) < 2:
        return np.empty(0, dtype=np.int64)
    same = time[1:] == time[:-1]
    starts = np.asarray(offsets[1:-1])
    same[starts[(starts > 0) & (starts < len(time))] - 1] = False  # new customer
    later = np.flatnonzero(same) + 1
    a, b = input_rows[later - 1], input_rows[later]
    equal = np.ones(len(later), dtype=bool)
    for col in df.columns:
        if not equal.any():
            break
        # only the candidates' values: a whole Arrow text column as Python
        # objects cost 0.6 s per 10M rows
        values = df[col].take(np.concatenate([a, b])).to_numpy()
        x, y = values[: len(a)], values[len(a) :]
        missing_x, missing_y = pd.isna(x), pd.isna(y)
        same = missing_x & missing_y  # pd.NA == pd.NA is NA, not True
        known = ~missing_x & ~missing_y
        same[known] = np.asarray(x[known] == y[known], dtype=bool)
        equal &= same
    return np.sort(b[equal])


#: a log of dates without times repeats rows on busy days (CDNOW: 3 % of the
#: purchases, two on one day); a table appended twice repeats half of them.
#: With times of day repeats are rarer (fightchurn: 133 of 2,014,864 events,
#: two in one second); one day of six months exported twice is 0.5 %
DATES_ONLY_SHARE = 0.1
TIMED_SHARE = 0.001


def warn_repeated_rows(name: str, df: pd.DataFrame, rows: np.ndarray, time) -> None:
    """Warn, with the count and a few examples, when ``rows`` are a share of
    the table no busy second (:data:`TIMED_SHARE`) or busy day
    (:data:`DATES_ONLY_SHARE`, a log of dates only) explains.
    """
    if not len(rows):
        return
    dates_only = not (np.asarray(time) % NS_PER_DAY).any()
    if len(rows) < (DATES_ONLY_SHARE if dates_only else TIMED_SHARE) * len(df):
        return
    mask = np.zeros(len(df), dtype=bool)
    mask[rows] = True
    warn(
        f"Table {name!r}: {len(rows):,} row(s) repeat another row exactly (same "
        f"customer, time and values), e.g.:\n{examples(df, mask, df.columns[:6])}\n"
        "They count again in every count and sum. If the table was exported or "
        "appended twice, drop them before building (`df.drop_duplicates()`); if "
        "your events do repeat within one timestamp, this is expected.",
        DataQualityWarning,
    )


def warn_repeated_subscriptions(df: pd.DataFrame, keep: np.ndarray) -> None:
    """Warn when kept subscription rows repeat another exactly (every column).

    Overlapping subscriptions add up (a customer's MRR is the sum over the
    ones open), so a subscriptions export appended twice doubled every MRR,
    churned and new MRR figure with nothing else looking wrong (fightchurn's
    June MRR read $28,800 instead of $14,400). Any repeat is said: unlike
    events, two subscriptions rarely share a customer, dates and price.
    """
    rows = np.flatnonzero(keep)
    if len(rows) < 2:
        return
    try:
        repeated = df.iloc[rows].duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable values (lists): not comparable here
        return
    if not repeated.any():
        return
    mask = np.zeros(len(df), dtype=bool)
    mask[rows[repeated]] = True
    warn(
        f"Table 'subscriptions': {int(repeated.sum()):,} row(s) repeat another "
        "row exactly (same customer, dates and values), e.g.:\n"
        f"{examples(df, mask, df.columns[:6])}\n"
        "Open subscriptions add up, so each counts its MRR again: MRR, churned "
        "and new MRR include them twice. If the table was exported or appended "
        "twice, drop them before building (`df.drop_duplicates()`); if a "
        "customer does hold identical subscriptions (seats), this is expected.",
        DataQualityWarning,
    )


#: a subscription starting at most this long before the previous one ends
#: and running on past it is a renewal or a plan change billed ahead
EARLY_RENEWAL_NS = 7 * NS_PER_DAY


def warn_early_renewals(subs: pd.DataFrame) -> None:
    """Warn when a customer's subscription starts up to a week before the
    previous one ends and runs on past it: a renewal or plan change exported
    with an overlap (KKBox's renewals are paid a few days before the
    membership expires: 2 days ahead were silent, and MRR read 3.7 % high).

    Open subscriptions add up (add-ons), so an upgrade from 40 to 70 written
    as an old row ending 03-01 and a new one starting 02-29 reads 110 at the
    month boundary: expansion 70 and NRR 150 % in February, contraction 40 in
    March, where the change was +30; a renewal at the same 40 charged a day
    before the period ends reads 80 (new MRR counted twice, then a
    contraction where nothing changed). With a ``plan``, a cheaper other
    product (a news bundle's add-on) is no renewal. ``subs`` is the clean
    table (``start``, ``end`` as int64 ns, ``mrr``).
    """
    if "mrr" not in subs or len(subs) < 2:
        return
    order = np.lexsort((subs["start"].to_numpy(), subs["customer_id"].to_numpy()))
    s = subs.iloc[order]
    ids, start = s["customer_id"].to_numpy(), s["start"].to_numpy()
    end = s["end"].to_numpy()
    same = ids[1:] == ids[:-1]
    overlap = end[:-1] - start[1:]
    flagged = (
        same
        & (overlap > 0)
        & (overlap <= EARLY_RENEWAL_NS)
        & (end[1:] > end[:-1])  # the new row runs on: no add-on inside the old
    )
    if "plan" in s:  # another, cheaper product beside the plan: an add-on
        plan, mrr = s["plan"].to_numpy(), s["mrr"].to_numpy(dtype=float)
        same_plan = pd.Series(plan[1:]).eq(pd.Series(plan[:-1])).to_numpy()
        flagged &= same_plan | ~(mrr[1:] < mrr[:-1])
    if not flagged.any():
        return
    mask = np.zeros(len(s), dtype=bool)
    mask[np.flatnonzero(flagged) + 1] = True
    shown = s.assign(
        start=s["start"].to_numpy().view("datetime64[ns]"),
        end=np.where(end == np.iinfo(np.int64).max, np.int64(-(2**63)), end).view(
            "datetime64[ns]"
        ),
    ).reset_index(drop=True)
    days = overlap[flagged] / NS_PER_DAY
    warn(
        f"Table 'subscriptions': {int(flagged.sum()):,} subscription(s) start up "
        "to 7 days before the same customer's previous one ends and run on "
        f"past it ({int((days <= 1).sum()):,} by a day or less, "
        f"{int((days > 1).sum()):,} by 1 to 7 days), e.g. (the later row):\n"
        f"{examples(shown, mask, ['customer_id', 'start', 'end', 'mrr'])}\n"
        "Open subscriptions add up (add-ons), so on the overlap the customer's "
        "MRR is both rows' sum: a renewal read as new MRR counted twice, a plan "
        "change as expansion, then contraction. If these are renewals or plan "
        "changes, end the old row when the new one starts (the customer's "
        "next `start`), e.g. `subs = subs.sort_values(['customer_id', 'start']); "
        "nxt = subs.groupby('customer_id')['start'].shift(-1); subs['end'] = "
        "subs['end'].where(~(nxt < subs['end']), nxt)`.",
        DataQualityWarning,
    )


#: returns after a gap of at most a day: most of them, and this many at least
DAY_GAP_SHARE, DAY_GAP_MIN = 0.5, 5
#: a return this soon after an end is a switch a system made, not a win-back
SWITCH_GAP_NS = 60 * 10**9
#: returns this soon after an end may be renewals signed late
LATE_GAP_NS = 60 * NS_PER_DAY


def warn_day_gaps(gap: np.ndarray, returns: np.ndarray, grace: int) -> None:
    """Warn when most returns follow their churn by a day or less: end dates
    that include the term's last day (a month as 01-01..01-31) make every
    renewal a churn and a return, so no customer is active at a month start.
    """
    gap = gap[returns]
    short = (gap > 0) & (gap <= NS_PER_DAY)
    switch = (gap > 0) & (gap <= SWITCH_GAP_NS)
    if short.sum() < max(DAY_GAP_MIN, DAY_GAP_SHARE * len(gap)):
        if switch.any():  # a machine's switch, not a win-back: say so, any count
            warn(
                f"Table 'subscriptions': {int(switch.sum()):,} of {len(gap):,} "
                "returns start within a minute of the previous subscription's "
                f"`end` (grace {pd.Timedelta(grace)}), so each is a churn and a "
                "return: a plan change or renewal written as a new subscription "
                "(Stripe ends the old one and starts the new one seconds apart). "
                "If these are switches, pass `grace='1h'` (or longer) to read "
                "them as one subscription.",
                DataQualityWarning,
            )
        warn_late_returns(gap, grace)
        return
    warn(
        f"Table 'subscriptions': {int(short.sum()):,} of {len(gap):,} returns "
        "start a day or less after the previous subscription's `end` (grace "
        f"{pd.Timedelta(grace)}), so each is a churn and a return: end dates "
        "that include the last day of the term (a month written as 2024-01-01 "
        "to 2024-01-31) do this. If yours do, pass `grace='1D'` to read them "
        "as renewals.",
        DataQualityWarning,
    )


def warn_late_returns(gap: np.ndarray, grace: int) -> None:
    """Warn when most returns (``gap``: ns from the previous end) start 2 to
    60 days after it: renewals signed late read as a churn and a return each.
    Names the grace that would cover nine in ten of them."""
    late = gap[(gap > NS_PER_DAY) & (gap <= LATE_GAP_NS)]
    if len(late) < max(DAY_GAP_MIN, DAY_GAP_SHARE * len(gap)):
        return
    days = late / NS_PER_DAY
    cover = int(np.ceil(np.quantile(days, 0.9)))
    warn(
        f"Table 'subscriptions': {len(late):,} of {len(gap):,} returns start "
        f"2 to 60 days after the previous subscription's `end` (median "
        f"{np.median(days):.0f} days; grace {pd.Timedelta(grace)}), so each is "
        "a churn and a return. If they are renewals signed late, pass "
        f"`grace='{cover}D'` (nine in ten of them are within {cover} days): a "
        f"customer then churns only after {cover} days without a subscription.",
        DataQualityWarning,
    )


#: ended subscriptions at MRR 0 beside paying open ones: at least this many,
#: this share of the ended ones, while this share of the open ones pay
ZERO_ENDED_MIN, ZERO_ENDED_SHARE, PAYING_OPEN_SHARE = 5, 0.9, 0.5


def warn_current_mrr(subs: pd.DataFrame) -> None:
    """Warn when the ended subscriptions carry MRR 0 while the open ones pay:
    an export's *current* MRR, which Chargebee and Stripe set to 0 once a
    subscription is cancelled. Every churn then loses nothing (churned MRR 0,
    NRR 100 % in a Chargebee trial whose true March NRR was 96.1 %).
    ``subs`` is the clean table (``end`` as int64 ns, END_OF_TIME when open).
    Nothing is changed.
    """
    if "mrr" not in subs or not len(subs):
        return
    mrr = subs["mrr"].to_numpy(dtype=float)
    ended = subs["end"].to_numpy() != np.iinfo(np.int64).max
    # each customer's latest row: a trial at 0 that converted is no churn
    order = np.lexsort((subs["start"].to_numpy(), subs["customer_id"].to_numpy()))
    ids = subs["customer_id"].to_numpy()[order]
    last = np.zeros(len(subs), dtype=bool)
    last[order[np.append(ids[1:] != ids[:-1], True)]] = True
    ended &= last
    zero = ended & (mrr == 0)
    n_ended, n_zero = int(ended.sum()), int(zero.sum())
    paying = mrr[~ended] > 0
    if (
        n_zero < ZERO_ENDED_MIN
        or n_zero < ZERO_ENDED_SHARE * n_ended
        or not len(paying)
        or paying.mean() < PAYING_OPEN_SHARE
    ):
        return
    warn(
        f"Table 'subscriptions', column 'mrr': {n_zero:,} of the {n_ended:,} "
        "customers whose latest subscription ended have MRR 0 on it, while "
        f"{paying.mean():.0%} of those still open pay. This looks like an "
        "export's current MRR (Chargebee and Stripe write 0 once a "
        "subscription is cancelled): every churn then loses nothing, so "
        "churned MRR reads 0 and NRR 100 %. Give each row the MRR it had while "
        "it ran (e.g. plan price x quantity / months in the billing period).",
        DataQualityWarning,
    )


def warn_paid_trials(df: pd.DataFrame, subs: pd.DataFrame, keep) -> None:
    """Warn when subscriptions with MRR start before the trial end a column
    of the export gives (Recurly's ``trial_ends_at``): the trial then counts
    as paid MRR from ``start``, and a trial that lapses as churned MRR.
    ``df`` is the table as given, ``subs`` the clean rows ``keep`` selects.
    Nothing is changed."""
    if "mrr" not in subs or not len(subs):
        return
    names, trial_end = [], None
    for col in df.columns:  # the first trial-end column that holds dates
        if not re.search(r"trial.*end", str(col).lower()) or (
            pd.api.types.is_numeric_dtype(df[col])
        ):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' format inference
            parsed = pd.to_datetime(
                df[col][keep], errors="coerce", utc=True, format="mixed"
            )
        given = df[col][keep].notna()
        if given.any() and parsed[given].notna().mean() >= 0.9:
            names, trial_end = [col], parsed
            break
    if trial_end is None:
        return
    trial_end = trial_end.dt.tz_localize(None).to_numpy("datetime64[ns]")
    start = subs["start"].to_numpy().view("datetime64[ns]")
    paid = (subs["mrr"].to_numpy(dtype=float) > 0) & (trial_end > start)
    if not paid.any():
        return
    shown = subs.loc[paid, ["customer_id", "start", "mrr"]].head(3)
    shown = shown.assign(start=shown["start"].to_numpy().view("datetime64[ns]"))
    shown[names[0]] = trial_end[paid][:3]
    warn(
        f"Table 'subscriptions': {int(paid.sum()):,} subscription(s) with MRR "
        f"start before their {names[0]!r}, e.g.\n{shown.to_string(index=False)}\n"
        "Their trial counts as paid MRR from `start`, and a trial that lapses "
        "as churned MRR. Write each trial as a row of its own at MRR 0 (start "
        f"to {names[0]}) and the paid subscription from the trial's end (see "
        "'Free trials and free plans' in the KPI guide).",
        DataQualityWarning,
    )

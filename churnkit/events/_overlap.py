"""Subscriptions against each other, the signup and the churn table.

- **Each other.** A customer's MRR at any time is the sum of the ``mrr`` of
  their open subscriptions (``start <= t < end``): overlapping subscriptions
  add up, and back-to-back renewals at the same MRR change nothing.
  :func:`billing_from_subscriptions` derives one billing row per customer and
  time the sum changes at, from a per-customer running sum of ``+mrr`` at each
  start and ``-mrr`` at each end. The sum is exact: MRR given in at most six
  decimals (cents, tenths of cents...) is added as integers.
- **The signup.** The ``customers`` table's ``signup_time`` is the start of the
  relationship (features, labels and cohorts use it): a subscription that
  ends before it is a defect (``SchemaError``, or dropped with
  ``errors='drop'``), one that starts before it and ends after starts at the
  signup, with a :class:`~churnkit.exceptions.DataQualityWarning`
  (:func:`subscriptions_after_signup`).
- **The churn table.** With subscriptions, a spell ends at its last
  subscription's end and churn rows only give the kind of that end; a churn row
  near no spell end is excluded with a warning (:func:`warn_unmatched_churn`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._build import IdLookup, RowPolicy
from churnkit.events._store import NAT, EventTable, bisect_segments, offsets_from_codes
from churnkit.events._tables import MAX_EXAMPLES, examples
from churnkit.exceptions import DataQualityWarning, SchemaError

END_OF_TIME = np.iinfo(np.int64).max  # an open end
MAX_DECIMALS = 6  # MRR with at most this many decimals is summed exactly
FLOAT_TOLERANCE = 1e-9  # relative, for MRR with more decimals
DROPPED = "__dropped__"  # marks subscription rows dropped after cleaning


def billing_from_subscriptions(
    subs,
    lookup: IdLookup,
    policy: RowPolicy,
    grace: int = 0,
    *,
    record=True,
    until: int | None = None,
) -> EventTable:
    """Billing rows of the MRR in effect: the sum over open subscriptions.

    Parameters
    ----------
    subs : DataFrame
        Clean subscriptions: ``customer_id``, ``start``, ``end`` (int64 ns,
        ``END_OF_TIME`` while open) and ``mrr`` (float, NaN when unknown).
    lookup : IdLookup
        Customer codes; rows of unknown customers are left out (they are
        counted when the spells are built).
    policy : RowPolicy
        Receives the count of derived rows and of subscriptions without MRR.
    grace : int, default=0
        The store's ``grace`` (ns): a gap between subscriptions no longer
        than it is no churn, so the MRR before it runs on to the next start
        (:func:`bridged_ends`).
    record : bool, default=True
        Count the derived rows in the report, as the store's ``billing``
        table; False when they only fill in a given billing table's MRR.
    until : int, default=None
        ``observed_until`` (ns): a last end within ``grace`` before it is
        pending and keeps its MRR (:func:`bridged_ends`).

    Returns
    -------
    EventTable
        The ``billing`` table: one row per customer and time at which the sum
        changes (and at the customer's first start), with ``mrr`` the sum after
        it and ``kind`` ``subscription_start`` when a subscription starts then,
        else ``subscription_end``. ``mrr`` is NaN until the customer's first
        subscription with a known MRR starts: a null ``mrr`` adds nothing.
    """
    codes = lookup(subs["customer_id"]).astype(np.int64)
    ok = codes >= 0
    if DROPPED in subs:
        ok &= ~subs[DROPPED].to_numpy()
    start, end, mrr = (subs[c].to_numpy()[ok] for c in ("start", "end", "mrr"))
    codes = codes[ok]
    end = bridged_ends(codes, start, end, grace, until)
    mrr = renewed_mrr(codes, start, end, mrr.astype(float), grace, policy)
    known = ~np.isnan(mrr)
    if (~known).any():
        policy.record("subscriptions", "null mrr", int((~known).sum()), "adds no MRR")
    amount = np.where(known, mrr, 0.0)
    has_end = end < END_OF_TIME
    code = np.concatenate([codes, codes[has_end]])
    time = np.concatenate([start, end[has_end]])
    delta = np.concatenate([amount, -amount[has_end]])
    no_start = np.zeros(has_end.sum(), bool)
    is_start = np.concatenate([np.ones(len(codes), bool), no_start])
    priced = np.concatenate([known, no_start])
    order = np.lexsort((time, code))
    code, time, delta = code[order], time[order], delta[order]
    is_start, priced = is_start[order], priced[order]
    running, tol = _running_sums(code, delta)
    priced_yet = pd.Series(priced).groupby(code, sort=False).cumsum().to_numpy() > 0
    # one row per (customer, time): the sum after everything at that time
    n = len(code)
    new_time = np.ones(n, dtype=bool)
    new_time[1:] = (code[1:] != code[:-1]) | (time[1:] != time[:-1])
    first_at = np.flatnonzero(new_time)
    last_at = np.r_[first_at[1:] - 1, n - 1].astype(np.int64) if n else first_at
    starts_then = np.maximum.reduceat(is_start, first_at) if n else is_start
    code, time, tol = code[last_at], time[last_at], tol[last_at]
    value = np.where(priced_yet[last_at], running[last_at], np.nan)
    first_of_customer = np.ones(len(code), dtype=bool)
    first_of_customer[1:] = code[1:] != code[:-1]
    previous = np.r_[np.nan, value[:-1]]
    same = np.isnan(value) & np.isnan(previous)
    same |= np.abs(value - previous) <= tol  # tol is 0 for exact sums
    changed = first_of_customer | ~same
    code, time, value = code[changed], time[changed], value[changed]
    kinds = starts_then[changed].astype(np.int8)
    if record:
        policy.record("billing", "derived from subscriptions", len(code), "derived")
    return EventTable(
        "billing",
        offsets_from_codes(code, len(lookup.ids)),
        time,
        {"kind": kinds, "mrr": value},
        {"kind": ("subscription_end", "subscription_start")},
        {"kind": "category", "mrr": "number"},
    )


#: Null renewals in a row that take the premium before them (each pass of
#: :func:`renewed_mrr` is vectorised; longer chains keep their nulls).
MAX_RENEWAL_CHAIN = 32


def renewed_mrr(codes, start, end, mrr, grace: int, policy) -> np.ndarray:
    """``mrr`` with a null on a renewal (a row starting within ``grace`` after
    the customer's row that ended last before it, not beside a running one)
    taken from that row: its premium is unknown, not zero (an insurer's
    legacy renewal row read as a contraction of the whole premium, then an
    expansion a year later). Counted in the store's report."""
    unknown = np.isnan(mrr)
    if not unknown.any():
        return mrr
    m = mrr.copy()
    # each row's predecessor: the customer's row whose end is the latest at
    # or before its start (the main plan, not an add-on that ended earlier)
    by_end = np.lexsort((end, codes))
    c_end, e_end = codes[by_end], end[by_end]
    lo = np.searchsorted(c_end, codes, side="left")
    hi = np.searchsorted(c_end, codes, side="right")
    pos = bisect_segments(e_end, lo, hi, start, "right") - 1
    has = pos >= lo
    prev = by_end[np.where(has, pos, 0)]
    running = has & (end[prev] <= start) & (start - end[prev] <= grace)
    # nothing else of the customer's still runs at the start: a renewal
    for _ in range(MAX_RENEWAL_CHAIN):  # a chain of nulls, a link a pass
        fill = np.isnan(m) & running & ~np.isnan(m[prev])
        if not fill.any():
            break
        m[fill] = m[prev[fill]]
    filled = int((unknown & ~np.isnan(m)).sum())
    if filled:
        policy.record(
            "subscriptions", "null mrr on a renewal", filled, "previous MRR kept"
        )
    return m


def _running_sums(code, delta):
    """Running sums of ``delta`` within each customer (rows sorted by ``code``)
    and the tolerance of each, 0 where the sum is exact.

    A customer whose amounts all have at most :data:`MAX_DECIMALS` decimals is
    summed in integers (``0.1 + 0.2 - 0.3`` is 0); the others in floats, with
    sums within :data:`FLOAT_TOLERANCE` of their largest amount of 0 set to 0.
    """
    scale, exact = _decimal_scale(delta)
    by = pd.Series(code)
    inexact = pd.Series(~exact).groupby(by, sort=False).transform("any").to_numpy()
    units = np.where(inexact, 0.0, np.rint(delta * scale)).astype(np.int64)
    running = pd.Series(units).groupby(by, sort=False).cumsum().to_numpy() / scale
    tol = np.zeros(len(delta))
    if inexact.any():
        floats = np.where(inexact, delta, 0.0)
        summed = pd.Series(floats).groupby(by, sort=False).cumsum().to_numpy()
        largest = pd.Series(np.abs(floats)).groupby(by, sort=False).transform("max")
        tol = FLOAT_TOLERANCE * np.maximum(largest.to_numpy(), 1.0) * inexact
        running = np.where(inexact, summed, running)
        running = np.where(np.abs(running) <= tol, 0.0, running)
    return running, tol


def _decimal_scale(values):
    """``(10**d, exact)``: ``exact`` marks the values written with at most
    :data:`MAX_DECIMALS` decimals, ``d`` the most any of them needs. None is
    exact when ``values * 10**d`` could exceed float or int64 precision."""
    exact = np.zeros(len(values), dtype=bool)
    decimals = 0
    for d in range(MAX_DECIMALS + 1):  # one pass per number of decimals
        fits = ~exact & (np.rint(values * 10**d) / 10**d == values)
        decimals = d if fits.any() else decimals
        exact |= fits
    scale = 10**decimals
    largest = float(np.abs(values).max(initial=0.0)) * scale
    if largest >= 2**52 or largest * len(values) >= 2**62:
        exact[:] = False
    return scale, exact


def subscriptions_after_signup(frame, subs, signup, policy: RowPolicy):
    """Subscriptions held to their customer's signup.

    Parameters
    ----------
    frame : DataFrame
        Subscriptions of known customers (``code``, ``start``, ``end``; int64
        ns), indexed like ``subs``.
    subs : DataFrame
        The clean subscriptions table, changed in place the same way (the rows
        dropped are marked in a column :data:`DROPPED`), so that billing
        derived from it afterwards agrees with the spells.
    signup : ndarray of int64
        Each row's customer's signup time.
    policy : RowPolicy
        ``errors='raise'`` raises on subscriptions ending before the signup;
        otherwise they are dropped and counted.

    Returns
    -------
    DataFrame
        ``frame`` without the subscriptions ending before the signup, and with
        the starts before the signup moved to it.
    """
    start, end = frame["start"].to_numpy(), frame["end"].to_numpy()
    before = end < signup
    clipped = ~before & (start < signup)
    if not (before.any() or clipped.any()):
        return frame
    shown = pd.DataFrame({"customer_id": subs.loc[frame.index, "customer_id"]})
    for col, values in (("start", start), ("end", end), ("signup_time", signup)):
        values = np.where(values < END_OF_TIME, values, NAT)
        shown[col] = values.view("datetime64[ns]")
    columns = ["customer_id", "start", "end", "signup_time"]
    fix = (
        "If the subscriptions are right, leave `signup_time` out of `customers` "
        "(`columns={'customers': {'signup_time': None}}`): the first "
        "subscription start is then the signup."
    )
    if before.any():
        if policy.errors == "raise":
            raise SchemaError(
                f"Table 'subscriptions': {int(before.sum())} row(s) end before "
                "the customer's `signup_time` (table 'customers'):\n"
                f"{examples(shown, before, columns)}\n{fix} Otherwise fix or "
                "remove these rows, or pass `errors='drop'` to drop them (they "
                "are counted in `events.report`)."
            )
        policy.record(
            "subscriptions", "ends before signup_time", int(before.sum()), "dropped"
        )
    if clipped.any():
        customers = shown.loc[clipped, "customer_id"].nunique()
        warn(
            f"subscriptions: {int(clipped.sum())} row(s) of {customers} "
            "customer(s) start before the customer's `signup_time`; they count "
            "from the signup on (spells and MRR):\n"
            f"{examples(shown, clipped, columns)}\n{fix}",
            DataQualityWarning,
        )
        policy.record(
            "subscriptions",
            "starts before signup_time",
            int(clipped.sum()),
            "start moved to signup_time",
        )
    subs.loc[frame.index[clipped], "start"] = signup[clipped]
    if before.any():
        dropped = np.zeros(len(subs), dtype=bool)
        dropped[subs.index.get_indexer(frame.index[before])] = True
        subs[DROPPED] = dropped
    return frame.assign(start=np.maximum(start, signup))[~before]


def warn_unmatched_churn(
    churn_rows, matched, ends, tolerance, policy: RowPolicy, sub_ends=None
):
    """Warn about churn rows that give the kind of no spell end, and count them.

    Parameters
    ----------
    churn_rows : DataFrame
        ``customer_id``, ``time`` (int64 ns) of the churn rows used, by row.
    matched : ndarray of int64
        For each churn row, the index of the spell end it gives the kind of,
        -1 for none (no end within ``tolerance``, or another row is nearer).
    ends : DataFrame
        The spells' known ends: ``code``, ``end``.
    tolerance : int
        How near (ns) a churn row must be to a spell end.
    policy : RowPolicy
        Receives the count, as dropped ``churn`` rows.
    sub_ends : DataFrame, default=None
        The subscriptions' own ends (``code``, ``end``): a churn row at one
        that a next subscription continues (an upgrade written as a new
        subscription) is said to be a plan change, not a missing end.
    """
    missing = matched < 0
    n = int(missing.sum())
    if not n:
        return
    rows = churn_rows[missing]
    time = rows["time"].to_numpy()
    nearest = (
        pd.merge_asof(
            pd.DataFrame(
                {"code": rows["code"].to_numpy(), "t": time, "i": np.arange(n)}
            ).sort_values("t"),
            ends[["code", "end"]].sort_values("end"),
            left_on="t",
            right_on="end",
            by="code",
            direction="nearest",
        )
        .sort_values("i")["end"]
        .to_numpy()
    )
    near = np.abs(np.nan_to_num(nearest.astype(float), nan=np.inf) - time) <= tolerance
    switch = _at_a_continued_end(rows, sub_ends, tolerance) & ~near
    whys = []
    for cid, t, e, s in zip(
        rows["customer_id"].head(MAX_EXAMPLES),
        time[:MAX_EXAMPLES],
        nearest[:MAX_EXAMPLES],
        switch[:MAX_EXAMPLES],
        strict=True,
    ):
        when = pd.Timestamp(int(t))
        if s:
            why = (
                "a subscription ends then while the customer stays subscribed "
                "(a renewal, a plan change or one of several subscriptions "
                "ending: no churn)"
            )
        elif pd.isna(e):
            why = "its subscription is still open"
        elif abs(int(e) - int(t)) <= tolerance:
            why = "another churn row is nearer to the same subscription end"
        else:
            why = f"its nearest subscription end is {_day(pd.Timestamp(int(e)))}"
        whys.append(f"  {cid!r} churns {_day(when)} but {why}")
    more = f"\n  ... and {n - MAX_EXAMPLES} more" if n > MAX_EXAMPLES else ""
    days = tolerance / 86_400e9
    warn(
        f"churn: {n} row(s) match no subscription end (within {days:g} day(s)) "
        "and are not used:\n" + "\n".join(whys) + more + "\nWith a "
        "`subscriptions` table, the subscriptions decide when customers churn "
        "and churn rows only give the kind of a subscription end. To end a "
        "subscription at a churn row, set that subscription's `end`; to use the "
        "churn table's times instead, build the Events without `subscriptions`."
        + (
            f" {int(switch.sum())} of them {'falls' if switch.sum() == 1 else 'fall'}"
            " where a subscription ends while "
            "the customer stays subscribed (another subscription runs on, or "
            "the next starts within the grace): if those rows record plan "
            "changes, renewals or the end of one of several subscriptions (an "
            "add-on, a gift), leave them out of the churn table; they are not "
            "churns."
            if switch.any()
            else ""
        ),
        DataQualityWarning,
    )
    policy.record("churn", "no matching subscription end", n, "dropped")


def _at_a_continued_end(rows, sub_ends, tolerance) -> np.ndarray:
    """Which churn ``rows`` lie within ``tolerance`` of one of the customer's
    subscription ends (none of them a spell's end: a next one continued it)."""
    out = np.zeros(len(rows), dtype=bool)
    if sub_ends is None or not len(sub_ends) or not len(rows):
        return out
    found = pd.merge_asof(
        pd.DataFrame(
            {"code": rows["code"].to_numpy(), "t": rows["time"].to_numpy()}
            | {"i": np.arange(len(rows))}
        ).sort_values("t"),
        sub_ends.sort_values("end"),
        left_on="t",
        right_on="end",
        by="code",
        direction="nearest",
        tolerance=tolerance,
    )
    out[found["i"].to_numpy()[found["end"].notna().to_numpy()]] = True
    return out


def _day(time: pd.Timestamp) -> str:
    """A time as text, without the clock at midnight."""
    return str(time.date()) if time == time.normalize() else str(time)


def bridged_ends(codes, start, end, grace: int, until: int | None = None) -> np.ndarray:
    """``end``, with the subscription that reaches furthest before a gap of
    at most ``grace`` extended to the start that closes it.

    ``grace`` keeps the customer active through the gap (one spell), so the
    MRR does too: a renewal booked 3 days late under ``grace='7D'`` read $0
    for those days (NRR 50 % in one month, 200 % in the next, no churn).

    With ``until`` (``observed_until``, ns), a customer's last end less than
    ``grace`` before it is pending: the renewal may still come, the customer
    is still active, so the MRR runs on (``END_OF_TIME``). It read $0: an
    annual contract lapsed 12 days before the data's end under ``grace='45D'``
    was valued at 0 in the call list and booked as contraction.
    """
    end = np.asarray(end).copy()
    if grace <= 0 or len(end) == 0:
        return end
    if until is not None:
        end = _pending_ends_open(codes, start, end, grace, until)
    if len(end) < 2:
        return end
    order = np.lexsort((end, start, codes))
    c, s, e = codes[order], start[order], end[order]
    reach = pd.Series(e).groupby(c, sort=False).cummax().to_numpy()
    same = np.zeros(len(e), dtype=bool)
    same[1:] = c[1:] == c[:-1]
    prev = np.roll(reach, 1)
    gap = s - prev
    closes = same & (gap > 0) & (gap <= grace) & (prev < END_OF_TIME)
    # rows of a customer with the same reach form a run; the row after a run
    # closes its gap, and every row ending at the run's reach is extended to
    # it: a contract and its co-terminous amendment both (one alone kept the
    # amendment's MRR through a late renewal, a contraction and an expansion)
    run = np.cumsum(~same | (reach != prev)) - 1
    after = np.append(np.flatnonzero(np.diff(run)) + 1, len(e))[run]
    hit = (after < len(e)) & (e == reach)
    hit[hit] = closes[after[hit]]
    e[hit] = s[after[hit]]
    end[order] = e
    return end


def _pending_ends_open(codes, start, end, grace: int, until: int) -> np.ndarray:
    """``end`` with each customer's last end in ``(until - grace, until]``
    (and no start at or after it) set to ``END_OF_TIME``."""
    by = pd.Series(codes)
    last_end = by.map(pd.Series(end).groupby(codes).max()).to_numpy()
    last_start = by.map(pd.Series(start).groupby(codes).max()).to_numpy()
    pending = (
        (end == last_end) & (end > until - grace) & (end <= until) & (last_start < end)
    )
    return np.where(pending, END_OF_TIME, end)

"""Subscriptions and churn rows -> active spells; billing from subscriptions.

A customer is eligible at ``t`` iff one of their spells has ``start < t <= end``;
``end`` is the churn time, :data:`END_OF_TIME` while the spell is active.
Without a ``subscriptions`` table each customer has one spell from signup, ended
by their row of the ``churn`` table; with one, subscriptions closer than
``grace`` merge into a spell, and churn rows only give the kind of the nearest
spell end (one row per end; the others are dropped with a warning). Spells never
start before the signup, and billing MRR is the sum over open subscriptions:
see :mod:`churnkit.events._overlap`.

Billing systems export the *current period's* end: an end that the data does not
reach yet (``end + grace >= observed_until``) is the end of a paid period, not a
churn. :func:`observed_spells` applies that rule for one ``observed_until``;
a known cancellation (``cancel_time`` before ``observed_until``) keeps the end
as a scheduled churn. ``9999-12-31``, null and ends beyond pandas' range
(after 2262-04-11) mean "open".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import NS_PER_DAY
from churnkit.events._build import (
    IdLookup,
    RowPolicy,
    check_ids,
    customer_codes,
)
from churnkit.events._categories import category_codes
from churnkit.events._duplicates import (
    warn_current_mrr,
    warn_day_gaps,
    warn_early_renewals,
    warn_paid_trials,
    warn_repeated_subscriptions,
)
from churnkit.events._epochs import warn_early_times
from churnkit.events._extent import (
    warn_cancel_without_end,
    warn_ended_status_without_end,
)
from churnkit.events._notices import Notices, notice_intervals
from churnkit.events._overlap import (
    END_OF_TIME,
    subscriptions_after_signup,
    warn_unmatched_churn,
)
from churnkit.events._overlap import (
    billing_from_subscriptions as billing_from_subscriptions,  # re-exported
)
from churnkit.events._store import NAT
from churnkit.events._tables import (
    Exclusions,
    examples,
    parse_numbers,
    parse_times,
)
from churnkit.exceptions import DataQualityWarning, SchemaError


class Spells(NamedTuple):
    """Active spells as read-only arrays ordered by (code, start)."""

    code: np.ndarray  # int64 customer codes
    start: np.ndarray  # int64 nanoseconds
    end: np.ndarray  # int64 nanoseconds, END_OF_TIME while active
    kind: np.ndarray  # int8 index into ``churn_kinds``, -1 when unknown
    churn_kinds: tuple[str, ...]
    cancel: np.ndarray | None = None  # int64 ns of a known cancellation, NAT if none
    latest_churn: int | None = None  # latest churn-table time (not saved)
    notices: Notices | None = None  # subscriptions' notices as known at each t


OPEN_YEAR = 2262  # the first year pandas' nanosecond timestamps cannot hold


def open_ends(end: pd.Series) -> np.ndarray:
    """Rows whose ``end`` means "still open": a date in or after 2262 (such as
    the common ``9999-12-31`` sentinel), which pandas cannot hold."""
    if pd.api.types.is_datetime64_any_dtype(end):
        if isinstance(end.dtype, pd.DatetimeTZDtype):
            return np.zeros(len(end), dtype=bool)  # always in nanosecond range
        values = end.to_numpy()
        return ~np.isnat(values) & (values >= np.datetime64(f"{OPEN_YEAR}-01-01"))
    if pd.api.types.is_numeric_dtype(end) or pd.api.types.is_bool_dtype(end):
        return np.zeros(len(end), dtype=bool)
    text = end.astype(str).str.strip()
    year = pd.to_numeric(text.str.extract(r"^(\d{4,})-", expand=False), "coerce")
    return (year >= OPEN_YEAR).fillna(False).to_numpy(bool) & end.notna().to_numpy()


def observed_spells(spells: Spells, until: int | None, grace: int = 0):
    """``(code, start, end, kind)`` of the spells as known at ``until`` (ns).

    A spell starting at or after ``until`` is not known yet and left out. An
    end is a churn when the data reaches past it and past the ``grace`` in
    which a renewal could still start (``end + grace < until``), or when a
    cancellation was recorded before ``until`` (a scheduled churn, dated at
    ``end``); any other end is the end of a paid period and the spell is open
    (``END_OF_TIME``, kind -1).
    """
    code, start, end, kind = spells.code, spells.start, spells.end, spells.kind
    if until is None:
        return code, start, end, kind
    known = start < until
    limit = np.where(end > END_OF_TIME - grace, END_OF_TIME, end + grace)
    ended = (end < END_OF_TIME) & (limit < until)
    if spells.cancel is not None:
        cancel = spells.cancel
        ended |= (end < END_OF_TIME) & (cancel != NAT) & (cancel < until)
    if known.all() and ended.sum() == (end < END_OF_TIME).sum():
        return code, start, end, kind
    end = np.where(ended, end, END_OF_TIME)[known]
    kind = np.where(ended, kind, -1).astype(np.int8)[known]
    return code[known], start[known], end, kind


def clean_subscriptions(df, policy: RowPolicy):
    """The valid subscription rows: customer_id, start, end (and mrr, plan)."""
    if df is None:
        return None
    excl = Exclusions("subscriptions", len(df))
    out = pd.DataFrame({"customer_id": df["customer_id"].to_numpy()})
    check_ids(df, "subscriptions", excl)
    out["start"] = parse_times(
        df["start"], table="subscriptions", column="start", required=True, excl=excl
    )
    starts = out["start"].to_numpy()
    warn_early_times("subscriptions", "start", starts, out["customer_id"].to_numpy())
    if "end" not in df:
        _warn_no_end(df)
    end = (
        df["end"]
        if "end" in df
        else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    )
    is_open = open_ends(end)
    if is_open.any():
        if pd.api.types.is_datetime64_any_dtype(end):
            end = end.where(~is_open)
        else:
            end = end.astype(object).where(~is_open, None)
        policy.record(
            "subscriptions",
            f"`end` in or after {OPEN_YEAR} (e.g. 9999-12-31): still open",
            int(is_open.sum()),
            "read as open",
        )
    out["end"] = parse_times(
        end, table="subscriptions", column="end", required=False, excl=excl
    )
    if "canceled_at" in df and "cancel_time" not in df:
        df = df.rename(columns={"canceled_at": "cancel_time"})
    if "cancel_time" in df:
        out["cancel_time"] = parse_times(
            df["cancel_time"],
            table="subscriptions",
            column="cancel_time",
            required=False,
            excl=excl,
        )
    ends = out["end"].to_numpy()
    excl.add(
        "end before start",
        (ends != NAT) & (ends < out["start"].to_numpy()),
        "`end` is before `start`",
    )
    if "mrr" in df:
        out["mrr"] = parse_numbers(
            df["mrr"], table="subscriptions", column="mrr", excl=excl
        )
        excl.add("negative mrr", out["mrr"].to_numpy() < 0, "`mrr` is negative")
    if "plan" in df:
        out["plan"] = df["plan"].to_numpy()
    keep = policy.exclude("subscriptions", df, excl, ["customer_id", "start", "end"])
    warn_ended_status_without_end(df, keep & (out["end"].to_numpy() == NAT))
    warn_paid_trials(df, out[keep], keep)
    warn_repeated_subscriptions(df, keep)
    out = out[keep].reset_index(drop=True)
    out["end"] = out["end"].where(out["end"] != NAT, END_OF_TIME)
    warn_early_renewals(out)
    warn_current_mrr(out)
    warn_cancel_without_end(out)
    return out


def build_spells(
    churn, subs, *, lookup: IdLookup, signup_time, grace, policy: RowPolicy
) -> Spells:
    """Active spells: eligible at t iff start < t <= end (end = churn time).

    Subscriptions are held to their customer's signup
    (:func:`~churnkit.events._overlap.subscriptions_after_signup`), in ``subs``
    too (in place), so billing derived from ``subs`` afterwards agrees.
    """
    n = len(lookup.ids)
    kinds_cats = ("voluntary", "involuntary")
    notices = sub_ends = None
    if subs is not None:
        spells = merge_subscriptions(
            subs, lookup=lookup, signup_time=signup_time, grace=grace, policy=policy
        )
        notices = spells.attrs.pop("notices")
        sub_ends = spells.attrs.pop("sub_ends")
    else:
        spells = pd.DataFrame(
            {
                "code": np.arange(n, dtype=np.int64),
                "start": signup_time,
                "end": np.full(n, END_OF_TIME),
            }
        )
    spells["kind"] = np.int8(-1)
    latest_churn = None
    if churn is not None:
        spells, kinds_cats, latest_churn = attach_churn(
            churn,
            spells,
            subs is not None,
            lookup=lookup,
            signup_time=signup_time,
            grace=grace,
            policy=policy,
            sub_ends=sub_ends,
        )
    spells = spells.sort_values(["code", "start"], kind="stable").reset_index(drop=True)
    has_cancel = subs is not None and "cancel_time" in subs
    notices = notices if has_cancel else None
    out = Spells(
        spells["code"].to_numpy(np.int64),
        spells["start"].to_numpy(np.int64),
        spells["end"].to_numpy(np.int64),
        spells["kind"].to_numpy(np.int8),
        tuple(kinds_cats),
        spells["cancel"].to_numpy(np.int64) if has_cancel else None,
        latest_churn,
        notices,
    )
    for array in out:
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return out


def merge_subscriptions(
    subs, *, lookup: IdLookup, signup_time, grace, policy: RowPolicy
) -> pd.DataFrame:
    """Subscriptions closer than ``grace`` merged: code, start, end."""
    codes = lookup(subs["customer_id"])
    unknown = codes < 0
    if unknown.any():
        if policy.unknown == "raise":
            shown = subs.assign(start=subs["start"].to_numpy().view("datetime64[ns]"))
            raise SchemaError(
                f"Table 'subscriptions': {int(unknown.sum())} row(s) belong to "
                "customers not in `customers`:\n"
                f"{examples(shown, unknown, ['customer_id', 'start'])}\n"
                "Add them to `customers` or pass `unknown_customers='drop'`."
            )
        policy.record(
            "subscriptions", "unknown customer", int(unknown.sum()), "dropped"
        )
    frame = pd.DataFrame(
        {
            "code": codes,
            "start": subs["start"].to_numpy(),
            "end": subs["end"].to_numpy(),
            "cancel": (
                subs["cancel_time"].to_numpy()
                if "cancel_time" in subs
                else np.full(len(subs), NAT)
            ),
        }
    )[~unknown]
    frame = subscriptions_after_signup(
        frame, subs, signup_time[frame["code"].to_numpy()], policy
    )
    frame = frame.sort_values(["code", "start", "end"], kind="stable")
    code = frame["code"].to_numpy()
    start = frame["start"].to_numpy()
    end = frame["end"].to_numpy()
    reach = pd.Series(end).groupby(code).cummax().to_numpy()
    grace = grace.value
    prev_reach = np.roll(reach, 1)
    new = np.ones(len(code), dtype=bool)
    if len(code) > 1:
        same = code[1:] == code[:-1]
        # saturating add: an open-ended spell never ends
        limit = np.where(
            prev_reach[1:] > END_OF_TIME - grace,
            END_OF_TIME,
            prev_reach[1:] + grace,
        )
        new[1:] = ~same | (start[1:] > limit)
        warn_day_gaps(start[1:] - prev_reach[1:], same & new[1:], grace)
    group = np.cumsum(new) - 1
    cancel = frame["cancel"].to_numpy()
    merged = pd.DataFrame(
        {"code": code, "start": start, "end": end, "cancel": cancel, "g": group}
    )
    # the cancellation of a merged spell is that of the subscription reaching
    # furthest (a cancelled one on a tie): a cancelled add-on beside a plan
    # that runs on ends nothing, so it is no notice of the customer's leaving
    reach = merged.sort_values(["g", "end", "cancel"], kind="stable")
    merged = merged.groupby("g").agg(
        code=("code", "first"), start=("start", "min"), end=("end", "max")
    )
    merged["cancel"] = reach.groupby("g")["cancel"].last()
    merged = merged.reset_index(drop=True)
    merged.attrs["notices"] = notice_intervals(
        code, start, end, cancel, len(lookup.ids)
    )
    ended = end < END_OF_TIME
    merged.attrs["sub_ends"] = pd.DataFrame(
        {"code": code[ended].astype(np.int64), "end": end[ended].astype(np.int64)}
    )
    return merged


def attach_churn(
    churn,
    spells,
    from_subscriptions,
    *,
    lookup: IdLookup,
    signup_time,
    grace,
    policy: RowPolicy,
    sub_ends=None,
):
    """End spells at the churn rows (or, with subscriptions, give their kind).

    Returns ``(spells, churn_kinds, latest churn time or None)``.
    """
    excl = Exclusions("churn", len(churn))
    check_ids(churn, "churn", excl)
    codes = customer_codes("churn", churn, excl, lookup, policy)
    time = parse_times(
        churn["time"], table="churn", column="time", required=True, excl=excl
    )
    if "kind" in churn:
        kind, cats = category_codes(
            churn["kind"], ("voluntary", "involuntary"), where="churn.kind"
        )
        _warn_other_kinds(kind, cats)
    else:
        kind, cats = np.full(len(churn), -1), ("voluntary", "involuntary")
    signup = np.where(codes >= 0, signup_time[np.maximum(codes, 0)], NAT)
    excl.add(
        "churn before signup",
        (codes >= 0) & (time != NAT) & (time < signup),
        "the churn `time` is before the customer's `signup_time`",
    )
    if not from_subscriptions:
        # a row repeated exactly is a copy (keep one); other rows of the same
        # customer are returns, which a churn table cannot describe
        copies = pd.DataFrame({"c": codes, "t": time, "k": kind}).duplicated()
        copies = copies.to_numpy() & (codes >= 0)
        excl.add(
            "repeated churn row",
            copies,
            "the row repeats an earlier churn row exactly (same customer, time "
            "and kind); keep one, e.g. `churn.drop_duplicates()`",
        )
        others = np.where(copies, -2 - np.arange(len(codes)), codes)  # unique
        dup = pd.Series(others).duplicated(keep=False).to_numpy() & (others >= 0)
        excl.add(
            "several churns",
            dup,
            "a customer churns more than once; describe returns with a "
            "`subscriptions` table (customer_id, start, end)",
        )
    keep = policy.exclude("churn", churn, excl, ["customer_id", "time", "kind"])
    codes, time, kind = codes[keep], time[keep], kind[keep].astype(np.int8)
    known = time[codes >= 0]
    # beside subscriptions a churn row is the kind of a spell end: like the
    # end (a scheduled cancellation's future period end), it does not say how
    # far the data runs (default_observed_until)
    latest = int(known.max()) if len(known) and not from_subscriptions else None
    if not from_subscriptions:
        end = np.full(len(spells), END_OF_TIME)
        spell_kind = np.full(len(spells), -1, dtype=np.int8)
        end[codes] = time
        spell_kind[codes] = kind
        spells["end"], spells["kind"] = end, spell_kind
        return spells, cats, latest
    # with subscriptions, churn rows only give the kind of the nearest spell
    # end; one row per end (the nearest, the latest of a tie), the rest counted
    ends = spells[spells["end"] < END_OF_TIME].reset_index()
    ends["code"] = ends["code"].astype(np.int64)
    rows = pd.DataFrame(
        {
            "customer_id": churn["customer_id"].to_numpy()[keep][codes >= 0],
            "code": codes[codes >= 0].astype(np.int64),
            "time": time[codes >= 0],
            "kind": kind[codes >= 0],
        }
    )
    tolerance = max(grace.value, NS_PER_DAY)
    found = pd.merge_asof(
        rows.assign(row=np.arange(len(rows))).sort_values("time"),
        ends[["index", "code", "end"]].sort_values("end"),
        left_on="time",
        right_on="end",
        by="code",
        direction="nearest",
        tolerance=tolerance,
    ).sort_values("row")
    index = found["index"].fillna(-1).to_numpy(np.int64, copy=True)
    row_time = rows["time"].to_numpy()
    spell_end = spells["end"].to_numpy()
    distance = np.abs(np.where(index >= 0, spell_end[index], row_time) - row_time)
    order = np.lexsort((-row_time, distance, index))
    repeat = np.zeros(len(index), dtype=bool)
    repeat[order[1:]] = index[order[1:]] == index[order[:-1]]
    index[repeat & (index >= 0)] = -1
    warn_unmatched_churn(rows, index, ends, tolerance, policy, sub_ends)
    hit = index >= 0
    spell_kind = spells["kind"].to_numpy().copy()
    spell_kind[index[hit]] = rows["kind"].to_numpy()[hit]
    spells["kind"] = spell_kind
    return spells, cats, latest


def _warn_no_end(df) -> None:
    """A subscriptions table without ``end``: every spell open, no churn ever.
    Say so, naming a column that looks like the end."""
    guesses = [
        c for c in df.columns if "end" in str(c).lower() or "cancel" in str(c).lower()
    ]
    hint = (
        f" It has {guesses[0]!r}: map it, `columns={{'subscriptions': "
        f"{{{guesses[0]!r}: 'end'}}}}`."
        if guesses
        else ""
    )
    warn(
        "subscriptions: no `end` column, so every subscription is open and no "
        f"customer ever churns.{hint}",
        DataQualityWarning,
    )


def _warn_other_kinds(kind: np.ndarray, cats) -> None:
    """Warn about churn kinds other than voluntary and involuntary: the KPIs
    count them as of unknown kind (their split is not known)."""
    other = [i for i, c in enumerate(cats) if c not in ("voluntary", "involuntary")]
    if not other:
        return
    counts = np.bincount(kind[kind >= 0], minlength=len(cats))
    listed = ", ".join(f"{cats[i]!r} ({int(counts[i]):,})" for i in other[:5])
    more = f" and {len(other) - 5} more" if len(other) > 5 else ""
    warn(
        f"churn.kind: {len(other)} value(s) other than 'voluntary' and "
        f"'involuntary', in {int(counts[other].sum()):,} row(s): {listed}{more}. "
        "The KPIs count them as churns of unknown kind, outside the voluntary "
        "and involuntary rates. Map them first, e.g. "
        "churn['kind'].replace({'payment_failed': 'involuntary'}).",
        DataQualityWarning,
    )

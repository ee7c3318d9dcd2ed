"""Point-in-time cutoffs and churn labels.

The rules, from DESIGN.md (every event falls on exactly one side of a cutoff t):

========================  ====================================================
eligible at ``t``         ``signup_time < t`` and (no churn, or
                          ``churn_time >= t``); after a return, eligible again
label (contractual)       1 iff a churn time falls in
                          ``[t + gap, t + gap + horizon)``; a churn in
                          ``[t, t + gap)`` excludes the row (counted)
label (inactivity)        eligible iff at least one event before ``t`` (and
                          within ``active_within``); 1 iff no event in
                          ``[t + gap, t + gap + horizon)``
censored                  ``t + gap + horizon > observed_until - grace``:
                          excluded and counted, never labelled 0
========================  ====================================================

With a ``grace``, an end is a churn once ``end + grace < observed_until``:
churns are known up to ``observed_until - grace`` (:func:`outcomes_known_until`)
and a window ending later is censored, or every end in the last ``grace``
would read as "not churned".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import (
    check_calendar_zone,
    cutoff_grid,
    label_window,
    parse_duration,
    subtract_duration,
)
from churnkit._validation import (
    CUSTOMER_ID,
    CUTOFF_TIME,
    check_choice,
    read_cutoff_table,
)
from churnkit.events._columns import (
    activity_json,
    activity_name,
    activity_table,
    warn_never_inactive,
    warn_no_churn,
)
from churnkit.events._extent import censoring_note, outcomes_known_until
from churnkit.events._notices import notice_given, warn_noticed_churns
from churnkit.events._store import bisect_segments
from churnkit.exceptions import (
    CensoringWarning,
    ChurnkitWarning,
    DataQualityWarning,
    SchemaError,
)

__all__ = ["make_cutoffs", "label_churn", "label_inactivity"]


def make_cutoffs(
    events, start=None, end=None, freq="MS", *, at=None, active_within=None,
    table="usage",
):  # fmt: skip
    """One row per customer eligible at each cutoff time.

    Parameters
    ----------
    events : Events
        The event store.
    start, end : str or Timestamp, default=None
        First and last cutoff (both included) of a regular grid with ``freq``.
    freq : str, default="MS"
        Grid frequency, a pandas offset alias ("MS": month starts, "W-MON",
        "7D").
    at : str, Timestamp or list of them, default=None
        Explicit cutoff time(s) instead of a grid, e.g. today's date for
        scoring.
    active_within : str, default=None
        Keep only customers with an event of ``table`` in
        ``[t - active_within, t)``. A store without churn records (a
        transaction log such as CDNOW) takes every customer who ever bought
        as eligible; ``active_within`` keeps the ones
        :func:`label_inactivity` would label with the same setting, so a
        score is not given to customers who left long ago.
    table : str or (str, list of str), default="usage"
        The event table whose rows count as activity for ``active_within``,
        or a pair of a table and the kinds that count (see
        :func:`label_inactivity`).

    Returns
    -------
    DataFrame
        Columns ``customer_id`` and ``cutoff_time`` (datetime64[ns]), ordered by
        cutoff then customer, with a fresh RangeIndex.

    Notes
    -----
    A customer is eligible at ``t`` when ``signup_time < t`` and they have not
    churned before ``t`` (a churn exactly at ``t`` still counts as active at
    ``t``). After a return, a customer is eligible again. Cutoffs at which no
    one is eligible are reported in a :class:`ChurnkitWarning`.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2024-05-01")
    >>> list(cutoffs.columns)
    ['customer_id', 'cutoff_time']
    """
    times = cutoff_grid(start, end, freq, at)
    code, spell_start, spell_end = events._engine.eligible_spells(*_until(events))
    t = times.view("int64")
    # cutoffs in (start, end] of each spell: eligible iff start < t <= end
    first = np.searchsorted(t, spell_start, side="right")
    last = np.searchsorted(t, spell_end, side="right")
    counts = np.maximum(last - first, 0)
    rows_code = np.repeat(code, counts)
    ends = np.cumsum(counts)
    cut_index = np.arange(ends[-1] if len(ends) else 0) - np.repeat(
        ends - counts - first, counts
    )
    order = np.lexsort((rows_code, cut_index))
    rows_code, cut_index = rows_code[order], cut_index[order]
    if active_within is not None:
        recent = active_rows(events, table, active_within, rows_code, times[cut_index])
        if len(rows_code) and not recent.any():
            raise SchemaError(
                f"No eligible customer has a {activity_name(table)} event in the "
                f"{active_within} "
                f"before any cutoff {_show(times)} ({len(rows_code)} eligible rows "
                "without). Widen `active_within` or choose another `table`."
            )
        rows_code, cut_index = rows_code[recent], cut_index[recent]
    per_cutoff = np.bincount(cut_index, minlength=len(t))
    if len(rows_code) == 0:
        first = events.customers["signup_time"].min()
        span = f"{_stamp(first)} .. {_stamp(events.observed_until)}"
        raise SchemaError(
            f"No customer is eligible at any cutoff {_show(times)}: the data spans "
            f"{span}. Choose cutoffs after the first signups (a customer is "
            "eligible once signed up and not yet churned)."
        )
    if (per_cutoff == 0).any():
        warn(
            f"No customer is eligible at {int((per_cutoff == 0).sum())} cutoff(s): "
            f"{_show(times[per_cutoff == 0])}; they yield no rows.",
            CensoringWarning,
        )
    return pd.DataFrame(
        {
            "customer_id": events._engine.customer_ids.to_numpy()[rows_code],
            "cutoff_time": times[cut_index],
        }
    )


def label_churn(events, cutoffs, *, horizon="30D", gap="0D", kind=None, noticed="keep"):
    """Label each cutoff row 1 when the customer churns within the horizon.

    Parameters
    ----------
    events : Events
        The event store, with churns (from a ``churn`` or ``subscriptions``
        table).
    cutoffs : DataFrame
        ``customer_id`` and ``cutoff_time`` columns, e.g. from
        :func:`make_cutoffs`.
    horizon : str, default="30D"
        Length of the label window: "30D" or a calendar offset such as "1MS".
    gap : str, default="0D"
        Lead time between the cutoff and the label window.
    kind : {"voluntary", "involuntary"}, default=None
        Count only churns of this kind (others then label 0).
    noticed : {"keep", "exclude"}, default="keep"
        Rows whose customer's cancellation notice (subscriptions'
        ``cancel_time``) is known at the cutoff: labelled as any ("keep",
        warned when they are a tenth of the churns or more: a model then
        learns the notice), or left out, counted under "notice given"
        ("exclude"): the model predicts who will give notice.

    Returns
    -------
    DataFrame
        The labelled subset of ``cutoffs`` (its index labels kept):
        ``customer_id``, ``cutoff_time``, ``churned`` (0/1 int). Excluded rows are
        counted per reason in ``.attrs["excluded"]`` and a
        :class:`ChurnkitWarning`; ``.attrs["horizon"]`` keeps the horizon (for
        ``windows="auto"`` of the feature builders) and ``.attrs["label"]``
        is "churn": a pipeline fitted on them keeps both, and
        :func:`churnkit.report` scores and judges it alike.

    Notes
    -----
    ``churned`` is 1 iff a churn time falls in ``[t + gap, t + gap + horizon)``.
    Rows are excluded when the customer is not eligible at ``t``, when a churn
    falls in ``[t, t + gap)`` (it happened before the window), or when
    ``t + gap + horizon > events.observed_until - events.grace`` (censored: the
    outcome is not observed yet, so it is never labelled 0; within the grace
    before ``observed_until`` a renewal could still turn an end into no churn).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2024-06-01")
    >>> labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    >>> sorted(labels["churned"].unique().tolist())
    [0, 1]
    """
    horizon_ = parse_duration(horizon, name="horizon", allow_zero=False)
    gap_ = parse_duration(gap, name="gap")
    warn_no_churn(events, "label_churn")
    frame, code, t = read_cutoffs(
        events, cutoffs, horizon=(horizon_, horizon), gap=(gap_, gap)
    )
    start, stop = label_window(t, gap_, horizon_, horizon, gap)
    excluded = {}
    keep = eligible_rows(events, code, t.view("int64"), excluded)
    churn_code, churn_time = events._engine.churn_arrays(None, *_until(events))
    in_gap = _any_in_window(
        churn_code, churn_time, code, t.view("int64"), start.view("int64")
    )
    censored = stop.view("int64") > outcomes_known_until(events).value
    exclude_rows(keep, censored, "censored", excluded)
    exclude_rows(keep, in_gap, "churned in gap", excluded)
    known = notice_given(events._engine, code, t.view("int64")) > 0
    if check_choice(noticed, "noticed", ("keep", "exclude")) == "exclude":
        exclude_rows(keep, known, "notice given", excluded)
    if kind is not None:
        churn_code, churn_time = events._engine.churn_arrays(kind, *_until(events))
    churned = _any_in_window(
        churn_code, churn_time, code, start.view("int64"), stop.view("int64")
    )
    warn_noticed_churns(known[keep], churned[keep])
    rows = keep & churned
    lo = start.view("int64")[rows]
    _warn_counted_twice(churn_code, churn_time, code[rows], lo, t, horizon)
    out = _result(frame, t, keep, churned, excluded, "label_churn", events, stop)
    out.attrs["horizon"] = horizon  # read by windows="auto" of the feature builders
    out.attrs["label"] = "churn"  # kept by the model: the report scores alike
    out.attrs["noticed"] = noticed
    return out


def label_inactivity(
    events, cutoffs, *, horizon="90D", gap="0D", table="usage", active_within=None
):
    """Label each cutoff row 1 when the customer shows no activity in the horizon.

    For businesses without cancellations (non-contractual churn): a customer
    who does nothing for ``horizon`` after the cutoff is taken to have churned.

    Parameters
    ----------
    events : Events
        The event store.
    cutoffs : DataFrame
        ``customer_id`` and ``cutoff_time`` columns.
    horizon : str, default="90D"
        Length of the window that must hold at least one event.
    gap : str, default="0D"
        Lead time between the cutoff and the window.
    table : str or (str, list of str), default="usage"
        Event table whose rows count as activity ("usage", "billing", ...), or
        a pair of a table and the kinds that count: ``("billing", ["payment"])``
        leaves refunds and failed payments out.
    active_within : str, default=None
        Only customers with an event in ``[t - active_within, t)`` are labelled;
        by default any event before ``t`` suffices.

    Returns
    -------
    DataFrame
        The labelled subset of ``cutoffs``: ``customer_id``, ``cutoff_time``,
        ``churned`` (0/1), with excluded rows counted in ``.attrs["excluded"]``
        and the horizon in ``.attrs["horizon"]`` (for ``windows="auto"``);
        ``.attrs["label"]`` is "inactivity" and ``.attrs["activity_table"]``
        the ``table``: a pipeline fitted on them keeps all three, and
        :func:`churnkit.report` and :func:`churnkit.save` use them.

    Notes
    -----
    A row is labelled when the customer had an event before ``t`` (within
    ``active_within`` if given); ``churned`` is 1 iff no event falls in
    ``[t + gap, t + gap + horizon)``. Rows whose window ends after
    ``events.observed_until`` are censored and excluded.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-09-01", end="2024-12-01")
    >>> labels = ck.label_inactivity(data.events, cutoffs, horizon="60D")
    >>> list(labels.columns)
    ['customer_id', 'cutoff_time', 'churned']
    """
    horizon_ = parse_duration(horizon, name="horizon", allow_zero=False)
    gap_ = parse_duration(gap, name="gap")
    store = activity_table(events, table)
    frame, code, t = read_cutoffs(
        events, cutoffs, horizon=(horizon_, horizon), gap=(gap_, gap)
    )
    start, stop = label_window(t, gap_, horizon_, horizon, gap)
    excluded = {}
    keep = np.ones(len(code), dtype=bool)
    idle = "no activity before cutoff"
    if active_within is not None:
        idle = f"no activity in the {active_within} before cutoff"
    active = active_rows(events, table, active_within, code, t, store)
    exclude_rows(keep, ~active, idle, excluded)
    censored = stop.view("int64") > events.observed_until.value
    exclude_rows(keep, censored, "censored", excluded)
    n_in = store.positions(code, stop.view("int64")) - store.positions(
        code, start.view("int64")
    )
    out = _result(frame, t, keep, n_in == 0, excluded, "label_inactivity", events, stop)
    if not out["churned"].any():
        warn_never_inactive(events, table, len(out), "label_inactivity", "labels")
    out.attrs["horizon"] = horizon  # read by windows="auto" of the feature builders
    out.attrs["label"] = "inactivity"  # kept by the model, with the activity
    out.attrs["activity_table"] = activity_json(table)
    return out


# ---------------------------------------------------------------- helpers
def read_cutoffs(events, cutoffs, **spans):
    """(the cutoff table as columns, customer codes, naive-UTC cutoff times).

    ``spans``: the label's durations by name (``horizon=(parsed, as given)``),
    refused when a calendar span meets cutoffs in a zone other than UTC.
    """
    check_calendar_zone(cutoffs, spans)
    ids, t = read_cutoff_table(cutoffs, name="cutoffs")
    frame = cutoffs
    if not {CUSTOMER_ID, CUTOFF_TIME} <= set(frame.columns):  # index levels
        frame = pd.DataFrame(
            {
                CUSTOMER_ID: ids,
                CUTOFF_TIME: cutoffs.index.get_level_values(CUTOFF_TIME),
            },
            index=cutoffs.index,
        )
    code = events._engine.codes(ids, table="cutoffs")
    _warn_duplicates(code, t, ids)
    return frame, code, t


def _warn_duplicates(code, t, ids) -> None:
    """Warn about repeated (customer, cutoff) rows: each is labelled and would
    count twice in training and evaluation."""
    if len(code) < 2:
        return
    order = np.lexsort((t.view("int64"), code))
    same = (np.diff(code[order]) == 0) & (np.diff(t.view("int64")[order]) == 0)
    if not same.any():
        return
    first = order[1:][same][0]
    warn(
        f"cutoffs: {int(same.sum()):,} row(s) repeat a (customer_id, cutoff_time) "
        f"pair of an earlier row, e.g. ({np.asarray(ids)[first]!r}, "
        f"{pd.Timestamp(t[first]).date()}); each copy is labelled and would count "
        "again in training and evaluation. Drop them first: "
        "cutoffs.drop_duplicates(['customer_id', 'cutoff_time']).",
        DataQualityWarning,
    )


def active_rows(events, table, active_within, code, t, store=None) -> np.ndarray:
    """Whether each (customer code, cutoff) row has an event of ``table`` in
    ``[t - active_within, t)``, or before ``t`` at all when ``active_within``
    is None."""
    store = activity_table(events, table) if store is None else store
    before = store.positions(code, t.view("int64"))
    if active_within is None:
        return before > store.offsets[code]
    within = parse_duration(active_within, name="active_within", allow_zero=False)
    return before > store.positions(code, subtract_duration(t, within).view("int64"))


def _until(events) -> tuple[int, int]:
    """(observed_until, grace) in ns: the spells as the data knows them."""
    return events.observed_until.value, events.grace.value


def exclude_rows(keep, mask, reason, excluded):
    """Drop ``mask`` from ``keep`` in place, counting the rows newly dropped
    under ``reason`` in ``excluded``."""
    newly = keep & mask
    if newly.any():
        excluded[reason] = int(newly.sum())
        keep &= ~mask


def eligible_rows(events, code, t, excluded):
    """Rows whose customer is eligible at t (inside an active spell)."""
    spell_code, start, end = events._engine.eligible_spells(*_until(events))
    # the spell of each row: the last spell of that customer starting before t
    spell_offsets = np.searchsorted(spell_code, np.arange(events.n_customers + 1))
    pos = (
        bisect_segments(start, spell_offsets[code], spell_offsets[code + 1], t, "left")
        - 1
    )
    ok = pos >= spell_offsets[code]
    safe = np.maximum(pos, 0)
    if len(end):  # no spell known yet (all start after the data): none
        ok &= end[safe] >= t
    keep = np.ones(len(code), dtype=bool)
    exclude_rows(keep, ~ok, "not eligible", excluded)
    return keep


def _warn_counted_twice(churn_code, churn_time, code, lo, t, horizon) -> None:
    """Warn when many churns fall in the label windows of two cutoffs of the
    cutoff grid (the positive rows: their ``code`` and window start ``lo``):
    a 30-day horizon on monthly cutoffs reaches past the next one after a
    31-day month, so a churn dated on the 1st is a positive twice. Windows
    meant to slide (weekly cutoffs, a 30-day horizon) are not warned."""
    parsed = parse_duration(horizon, name="horizon")
    grid = np.unique(t.view("int64"))
    if not isinstance(parsed, pd.Timedelta) or len(code) < 20 or len(grid) < 2:
        return  # a calendar horizon tiles its own grid; one cutoff, no pair
    spacing = np.median(np.diff(grid))
    if not spacing or parsed.value > 1.5 * spacing:  # meant to slide
        return
    offsets = np.searchsorted(churn_code, np.arange(int(code.max()) + 2))
    first = bisect_segments(churn_time, offsets[code], offsets[code + 1], lo, "left")
    twice = len(first) - len(np.unique(first))
    if twice < 0.05 * len(first):
        return
    warn(
        f"label_churn: {twice:,} of the {len(first):,} churns labelled fall in "
        f"the label windows of two cutoffs: the horizon ({horizon}) reaches past "
        f"the next cutoff ({spacing / 86_400e9:.0f} days apart) after some "
        "periods, so each is a positive twice (churns dated on the 1st of a "
        "month, under a 30-day horizon on monthly cutoffs). Use the cutoffs' "
        "own period as the horizon, e.g. horizon='1MS' with monthly cutoffs.",
        ChurnkitWarning,
    )


def _any_in_window(churn_code, churn_time, code, lo, hi):
    """Whether customer ``code`` has a churn time in [lo, hi), per row."""
    offsets = np.searchsorted(churn_code, np.arange(int(code.max(initial=0)) + 2))
    a, b = offsets[code], offsets[code + 1]
    return bisect_segments(churn_time, a, b, hi, "left") > bisect_segments(
        churn_time, a, b, lo, "left"
    )


def _result(frame, t, keep, churned, excluded, func, events=None, stop=None):
    out = frame.loc[keep, ["customer_id", "cutoff_time"]].copy()
    # the parsed times: text and tz-aware cutoffs come back as naive UTC
    out["cutoff_time"] = t[keep]
    out["churned"] = churned[keep].astype(np.int64)
    out.attrs["excluded"] = dict(excluded)
    if excluded:
        detail = ", ".join(f"{n:,} {reason}" for reason, n in excluded.items())
        note = ""
        if "censored" in excluded and events is not None:
            note = censoring_note(events, stop)
        warn(
            f"{func} excluded {sum(excluded.values()):,} of {len(frame):,} cutoff rows "
            f"({detail}); see `labels.attrs['excluded']`.{note}",
            CensoringWarning,
        )
    return out


def _stamp(when) -> str:
    """A time as people read it: the date at midnight, else to the second."""
    when = pd.Timestamp(when).floor("s")
    return str(when.date()) if when == when.normalize() else str(when)


def _show(times) -> str:
    shown = [str(pd.Timestamp(x).date()) for x in times[:5]]
    return str(shown) + (" ..." if len(times) > 5 else "")

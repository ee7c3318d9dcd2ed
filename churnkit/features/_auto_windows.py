"""``windows="auto"``: trailing windows scaled to the data's rhythm and the horizon.

At ``fit`` the builder measures, for every training row (customer, cutoff), the
mean number of days between the customer's consecutive active days before the
cutoff (events strictly before it, as every feature), and takes the median over
the rows with at least two active days: the *typical gap*. The label horizon
comes from the ``horizon`` parameter, else from the labels (``label_churn`` and
``label_inactivity`` record it in ``attrs["horizon"]``, which pandas carries to
``X`` and ``y`` selected from them), else it is not used.

The windows are three lengths on the ladder 7, 14, 30, 60, 90, 180, 365, 730
days: with ``s = max(7, typical gap, horizon / 4)``, the rung nearest to ``s``
(on a log scale), the rung nearest to ``12 s`` capped at a year (two years when
``s`` exceeds 120 days), and the rung nearest to their geometric mean. When
the typical gap is 25 to 35 or 85 to 95 days (rows a calendar month or a
quarter apart, such as monthly snapshots or invoices on the 1st), the 30, 60,
90, 180 and 365-day rungs become 31, 62, 92, 184 and 366 days, the longest
span of as many calendar months: a 30-day window holds no monthly row after a
31-day month. Daily or weekly activity with a horizon up to two months keeps
7/30/90 days; buyers every month get 31/92/366; quarterly buyers 92/184/366.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnkit._time import parse_duration
from churnkit.features._frame import read_X
from churnkit.features._gaps import gap_stat
from churnkit.features._statistics import current_statistics

__all__ = ["WindowChoice", "choose_windows", "resolve_windows", "LADDER_DAYS"]

logger = logging.getLogger(__name__)

#: Window lengths "auto" picks from, in days.
LADDER_DAYS = (7, 14, 30, 60, 90, 180, 365, 730)
#: Typical gaps read as rows a calendar month or a quarter apart.
CALENDAR_GAPS = ((25.0, 35.0), (85.0, 95.0))
#: Rungs as the longest span of as many calendar months (1, 2, 3, 6, 12, 24
#: months; a year holding Feb 29 is 366 days).
CALENDAR_DAYS = {30: 31, 60: 62, 90: 92, 180: 184, 365: 366, 730: 731}
#: The windows when nothing is known about the data (and for daily activity).
DAILY_WINDOWS = ("7D", "30D", "90D")
#: Rows with at least two active days needed to trust the typical gap.
MIN_ROWS = 10


@dataclass(frozen=True)
class WindowChoice:
    """What ``windows="auto"`` chose and why (a fitted builder's ``window_choice_``)."""

    windows: tuple
    typical_gap_days: float | None
    horizon_days: float | None
    rows_measured: int
    table: str | None

    def summary(self) -> str:
        """One sentence: the windows and the numbers they come from."""
        chosen = ", ".join(self.windows)
        if self.typical_gap_days is None:
            gap = (
                f"too few customers with two active days in {self.table!r} "
                f"({self.rows_measured} rows) to measure a typical gap"
                if self.table
                else "no event table to measure a typical gap"
            )
        else:
            gap = (
                f"typical gap between active days {self.typical_gap_days:.1f} days "
                f"(median over {self.rows_measured:,} training rows of "
                f"{self.table!r}, events before each cutoff)"
            )
        horizon = (
            f"label horizon {self.horizon_days:.0f} days"
            if self.horizon_days is not None
            else "label horizon unknown"
        )
        return f'windows="auto" chose ({chosen}): {gap}; {horizon}.'


def _nearest_rung(days: float) -> int:
    ladder = np.asarray(LADDER_DAYS, dtype=float)
    return int(ladder[np.argmin(np.abs(np.log(ladder) - np.log(max(days, 1.0))))])


def choose_windows(typical_gap_days=None, horizon_days=None) -> tuple:
    """Windows (as strings such as "30D") for a typical gap and a horizon, in days.

    Examples
    --------
    >>> choose_windows(1.0, 30.0)
    ('7D', '30D', '90D')
    >>> choose_windows(30.4, 30.0)
    ('31D', '92D', '366D')
    >>> choose_windows(91.0, None)
    ('92D', '184D', '366D')
    """
    s = max(7.0, typical_gap_days or 0.0, (horizon_days or 0.0) / 4.0)
    cap = 365.0 if s <= 120.0 else 730.0
    short = _nearest_rung(s)
    long = _nearest_rung(min(12.0 * s, cap))
    middle = _nearest_rung(float(np.sqrt(short * long)))
    days = sorted({short, middle, long})
    gap = typical_gap_days or 0.0
    if any(lo <= gap <= hi for lo, hi in CALENDAR_GAPS):
        # rows a calendar month apart (snapshots, invoices on the 1st): a
        # 30-day window holds none of them after a 31-day month, 90 days
        # two after Dec-Feb; whole months of days hold one, three, six
        days = sorted({CALENDAR_DAYS.get(d, d) for d in days})
    return tuple(f"{d}D" for d in days)


def horizon_in_days(horizon) -> float | None:
    """A horizon ("30D", "1MS", a Timedelta) in days; calendar offsets by average."""
    if horizon is None:
        return None
    parsed = parse_duration(horizon, name="horizon", allow_zero=False)
    if isinstance(parsed, pd.Timedelta):
        return parsed / pd.Timedelta("1D")
    start = pd.Timestamp("2001-01-01")  # a calendar offset: its mean length over a year
    starts = pd.date_range(start, periods=12, freq="MS")
    lengths = [(s + parsed - s) / pd.Timedelta("1D") for s in starts]
    return float(np.mean(lengths))


def label_kind(X, y) -> dict:
    """How the labels of ``X``/``y`` were made, from their ``attrs``: "label"
    ("churn" or "inactivity") and, for inactivity, "activity_table"; empty
    when not known (labels made by hand)."""
    for source in (y, X):
        attrs = getattr(source, "attrs", None) or {}
        if attrs.get("label") in ("churn", "inactivity"):
            out = {"label": attrs["label"]}
            if attrs["label"] == "inactivity":
                out["activity_table"] = attrs.get("activity_table") or "usage"
            elif attrs.get("noticed") == "exclude":  # noticed rows left out
                out["noticed"] = "exclude"
            return out
    return {}


def trained_label(model) -> dict:
    """``label_kind`` of the labels ``model``'s features step was fitted on
    (a pipeline's ``features`` step or the builder itself); empty if unknown."""
    features = getattr(model, "named_steps", {}).get("features", model)
    trained = getattr(features, "training_cutoffs_", None) or {}
    keys = ("label", "activity_table", "noticed")
    return {k: trained[k] for k in keys if k in trained}


def label_horizon(horizon, X, y):
    """The horizon given, else the one the labels carry in ``attrs``, else None."""
    if horizon is not None:
        return horizon
    for source in (y, X):
        attrs = getattr(source, "attrs", None) or {}
        if attrs.get("horizon") is not None:
            return attrs["horizon"]
    return None


def typical_gap(events, table_name, codes, t) -> tuple[float | None, int]:
    """Median over rows of the mean gap between active days before each cutoff.

    Only rows with at least two active days count; returns (gap or None,
    rows measured).
    """
    table = events._engine.table(table_name) if table_name else None
    stats = current_statistics()  # fitting on one bucket: every bucket's rows
    if table is not None and stats is not None:
        measured = np.asarray(stats.typical_gaps(table_name), dtype=np.float64)
        if len(measured) < MIN_ROWS:
            return None, int(len(measured))
        return float(np.median(measured)), int(len(measured))
    if table is None or len(codes) == 0:
        return None, 0
    codes = np.asarray(codes, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    hi = table.positions(codes, t)
    lo = table.offsets[codes]
    mean_gap = gap_stat(table, "gap_mean", lo, hi)
    measured = mean_gap[~np.isnan(mean_gap)]
    if len(measured) < MIN_ROWS:
        return None, int(len(measured))
    return float(np.median(measured)), int(len(measured))


def resolve_windows(windows, events, codes, t, *, horizon=None, table="usage"):
    """``(windows, choice)``: the windows to build, and a WindowChoice for "auto".

    Explicit windows come back as given (choice None); ``"auto"`` is measured
    on ``table`` (the first of a tuple of names the store has) over the rows
    ``(codes, t)`` (cutoffs as int64 ns).
    """
    if not (isinstance(windows, str) and windows == "auto"):
        return windows, None
    names = (table,) if isinstance(table, str) else tuple(table)
    name = next((n for n in names if events._engine.table(n) is not None), None)
    gap, rows = typical_gap(events, name, codes, t)
    horizon_days = horizon_in_days(horizon)
    chosen = choose_windows(gap, horizon_days)
    choice = WindowChoice(chosen, gap, horizon_days, rows, name)
    logger.info(choice.summary())
    return chosen, choice


def training_cutoffs(X, horizon, stats=None, kind=None) -> dict:
    """``ChurnFeatures.training_cutoffs_``: rows, first, last and distinct
    cutoffs of ``X`` (of all buckets' rows with ``stats``), the label
    ``horizon`` as text (None when not known) and the label ``kind``
    (:func:`label_kind`)."""
    if stats is not None:
        out = dict(stats.training_cutoffs)
    else:
        _, times = read_X(X)
        out = {
            "rows": int(len(times)),
            "first": str(pd.Timestamp(times.min())) if len(times) else None,
            "last": str(pd.Timestamp(times.max())) if len(times) else None,
            "distinct": int(len(pd.unique(times))),
        }
    out["horizon"] = None if horizon is None else _horizon_text(horizon)
    out.update(kind or {})
    return out


def _horizon_text(horizon) -> str:
    """A horizon as the text that parses back to it ("90D", "1MS")."""
    if isinstance(horizon, pd.Timedelta):
        days = horizon / pd.Timedelta("1D")
        return f"{days:g}D" if days == int(days) else str(horizon)
    if isinstance(horizon, pd.DateOffset):
        return horizon.freqstr
    return str(horizon)

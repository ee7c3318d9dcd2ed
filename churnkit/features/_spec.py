"""What a feature is: :class:`FeatureSpec`, :class:`Derived` and their checks.

A :class:`FeatureSpec` names one aggregation of one event table over a trailing
window; a :class:`Derived` combines two features. The kernel in
:mod:`churnkit.features._windows` evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from churnkit._time import duration_label, parse_duration
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["FeatureSpec", "Derived", "validate_spec", "AGGREGATIONS"]

AGGREGATIONS = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "last",
    "first",
    "days_since_last",
    "days_since_first",
    "active_days",
    "gap_mean",
    "gap_cv",
    "distinct",
    "open",
    "tenure_days",
    "notice_given",
    "attribute",
)
_NEEDS_COLUMN = {"sum", "mean", "min", "max", "last", "first", "distinct", "attribute"}
_SPEC_TABLES = ("usage", "billing", "support", "customers", "subscriptions")
DERIVED_OPS = ("ratio", "trend", "pct_change", "difference", "per_month")


@dataclass(frozen=True)
class FeatureSpec:
    """One aggregation of one event table over a trailing window.

    Parameters
    ----------
    name : str
        Output column name, e.g. ``"usage__login_count_30d"``.
    table : str
        "usage", "billing" or "support"; "customers" for per-customer values;
        "subscriptions" for the MRR rows derived from the subscriptions when a
        billing table was given too (``customer_id``, ``time``, ``kind``,
        ``mrr``).
    agg : str, default="count"
        One of ``count, sum, mean, min, max, last, first, days_since_last,
        days_since_first, active_days, gap_mean, gap_cv, distinct, open``.
        ``open`` counts the intervals (tickets) opened before the cutoff and not
        closed before it. ``gap_mean`` is the mean number of days between
        consecutive active days (distinct UTC days with an event; NaN with
        fewer than two), ``gap_cv`` their standard deviation over their mean
        (NaN with fewer than two gaps).
    column : str, default=None
        Value column for ``sum, mean, min, max, last, first, distinct``. The
        special column ``"resolution_days"`` of support is ``closed_time - time``
        in days.
    window : str, default=None
        Trailing window such as "30D"; None means all history.
    where : dict, default=None
        Row filter on category columns, e.g. ``{"event": "login"}`` or
        ``{"kind": ["payment", "payment_failed"]}``.
    by : str, default="time"
        The time column windows apply to. ``"closed_time"`` counts support
        tickets by when they were closed (and so when their CSAT became known).
    offset : str, default=None
        Move the window's end back: ``[t - offset - window, t - offset)``; with
        ``agg="last"`` and no window it gives a value as of ``t - offset``.
    match : str or list of str, default=None
        With a category ``column``: turn it into 1.0 where it is one of these
        values, 0.0 elsewhere (e.g. "was the last payment attempt a failure").
    group, unit, direction, template : str
        Description used by :func:`describe_features` and reason codes;
        ``template`` is a format string with ``{value}`` and ``{typical}``.
    output : bool, default=True
        False for helper specs used only by :class:`Derived` features.
    display_name : str, default=""
        Short name shown in tables and plots ("Logins, last 30 days"); empty
        reads one from ``template`` (see :func:`describe_features`).

    See Also
    --------
    Derived : A feature computed from two others.
    CustomFeatures : Computes user-defined specs as of each cutoff.

    Examples
    --------
    >>> import churnkit as ck
    >>> logins = ck.FeatureSpec("usage__logins_30d", "usage", "count",
    ...                         window="30D", where={"event": "login"})
    >>> logins.agg, logins.window, logins.output
    ('count', '30D', True)
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> ck.CustomFeatures(data.events, specs=(logins,)).fit_transform(X).shape
    (27, 1)
    """

    name: str
    table: str
    agg: str = "count"
    column: str | None = None
    window: str | None = None
    where: dict | None = None
    by: str = "time"
    offset: str | None = None
    match: str | tuple | list | None = None
    group: str | None = None
    unit: str = ""
    direction: str = "higher"
    template: str = ""
    output: bool = True
    display_name: str = ""


@dataclass(frozen=True)
class Derived:
    """A feature computed from two others.

    ``op`` is ``"ratio"`` (left / right, NaN when right is 0), ``"trend"``
    (left / (right + 1)), ``"pct_change"`` ((left - right) / right, NaN when
    right is 0), ``"difference"`` (left - right) or ``"per_month"`` (left per
    month of the duration ``right`` in days, counting at least one month).

    Parameters
    ----------
    name : str
        Output column name, e.g. ``"usage__login_trend_30d"``.
    op : {"ratio", "trend", "pct_change", "difference", "per_month"}
        How ``left`` and ``right`` are combined (see above).
    left : str
        Name of the first operand: a :class:`FeatureSpec` or another
        :class:`Derived` of the same builder, listed before this one.
    right : str
        Name of the second operand, as ``left``.
    group : str, default=None
        Group shown by :func:`describe_features` and reason codes; None uses
        the builder's group.
    unit : str, default=""
        Unit shown by :func:`describe_features`.
    direction : {"higher", "lower", "either"}, default="higher"
        Which values mean more churn risk, shown by :func:`describe_features`.
    template : str, default=""
        Reason-code sentence: a format string with ``{value}`` and
        ``{typical}``.
    output : bool, default=True
        False for a helper used only by other :class:`Derived` features.
    table : str, default=""
        Not used to compute the feature (the operands name their own tables);
        kept so that every spec has a ``table`` attribute.
    display_name : str, default=""
        Short name shown in tables and plots; empty reads one from
        ``template``.

    See Also
    --------
    FeatureSpec : One aggregation of one event table over a trailing window.

    Examples
    --------
    >>> import churnkit as ck
    >>> recent = ck.FeatureSpec("usage__logins_30d", "usage", "count",
    ...                         window="30D", where={"event": "login"},
    ...                         output=False)
    >>> before = ck.FeatureSpec("usage__logins_prev_30d", "usage", "count",
    ...                         window="30D", offset="30D",
    ...                         where={"event": "login"}, output=False)
    >>> trend = ck.Derived("usage__login_trend", "trend",
    ...                    "usage__logins_30d", "usage__logins_prev_30d")
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> builder = ck.CustomFeatures(data.events, specs=(recent, before, trend))
    >>> builder.fit_transform(X).columns.tolist()
    ['usage__login_trend']
    """

    name: str
    op: str
    left: str
    right: str
    group: str | None = None
    unit: str = ""
    direction: str = "higher"
    template: str = ""
    output: bool = True
    table: str = field(default="")
    display_name: str = ""


def validate_spec(spec, events) -> None:
    """Check a spec against the store, with errors naming the spec and the fix."""
    if isinstance(spec, Derived):
        if spec.op not in DERIVED_OPS:
            raise SchemaError(
                f"Derived feature {spec.name!r}: `op` must be one of {DERIVED_OPS}; "
                f"got {spec.op!r}."
            )
        return
    if not isinstance(spec, FeatureSpec):
        raise ChurnkitTypeError(
            f"Feature specs must be FeatureSpec or Derived; got {type(spec).__name__}."
        )
    if spec.agg not in AGGREGATIONS:
        raise SchemaError(
            f"Feature {spec.name!r}: `agg` must be one of {AGGREGATIONS}; "
            f"got {spec.agg!r}."
        )
    if spec.agg in _NEEDS_COLUMN and spec.column is None:
        raise SchemaError(f"Feature {spec.name!r}: agg={spec.agg!r} needs a `column`.")
    if spec.window is not None:
        if not isinstance(spec.window, str | pd.Timedelta | pd.offsets.BaseOffset):
            raise ChurnkitTypeError(
                f"Feature {spec.name!r}: `window` must be a string such as '30D'; "
                f"got {spec.window!r}."
            )
        parse_duration(spec.window, name="window", allow_zero=False)
    if spec.offset is not None:
        if not isinstance(spec.offset, str | pd.Timedelta | pd.offsets.BaseOffset):
            raise ChurnkitTypeError(
                f"Feature {spec.name!r}: `offset` must be a string such as '30D'; "
                f"got {spec.offset!r}."
            )
        parse_duration(spec.offset, name="offset")
    if spec.table not in _SPEC_TABLES:
        raise SchemaError(
            f"Feature {spec.name!r}: `table` must be one of {list(_SPEC_TABLES)}; "
            f"got {spec.table!r}."
        )
    if spec.table == "customers":
        if spec.agg not in ("tenure_days", "notice_given", "attribute"):
            raise SchemaError(
                f"Feature {spec.name!r}: the customers table supports agg "
                f"'tenure_days', 'notice_given' and 'attribute'; got {spec.agg!r}."
            )
        if spec.agg == "attribute" and spec.column not in events.customers:
            raise SchemaError(
                f"Feature {spec.name!r}: customers has no column {spec.column!r}; it "
                f"has {list(events.customers.columns)}."
            )
        return
    table = events.table(spec.table)
    if table is None:
        return  # a missing table produces NaN/0 features, not an error
    known = {"time", *table.columns, "resolution_days"}
    for col in [spec.column, spec.by, *(spec.where or {})]:
        if col is not None and col not in known:
            raise SchemaError(
                f"Feature {spec.name!r}: table {spec.table!r} has no column {col!r}; "
                f"it has {sorted(known)}."
            )


def as_list(values) -> list:
    """A ``where`` value or list of values, as a list."""
    return [values] if isinstance(values, str | int | float) else list(values)


def window_label(window) -> str:
    """'30D' -> '30d' for names."""
    return duration_label(parse_duration(window, name="window", allow_zero=False))

"""Fit-time state that travels: what builders learn from a store, per bucket.

A feature builder's ``fit`` reads a few things from its store besides the
training rows: the values of category columns before the latest training
cutoff (event kinds, ticket categories, plans: vocabularies and the frequent
kinds that get their own features), every billing kind present, the typical
gap between active days (``windows="auto"``), the customer attributes' value
counts (profile levels) and the training cutoffs themselves. One bucket holds
a part of each. :func:`fit_statistics` measures them on one bucket (small and
picklable: value counts, one float per training row for the gaps, the distinct
cutoff times), :func:`merge_statistics` adds the buckets' up, and
:func:`fit_builder` fits a builder on any one bucket's store so that all of it
comes from the merged statistics: the fitted builder equals the one fitted on
the whole single-machine store (same specs, feature names, categories,
vocabularies, input contract, window choice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.distributed._manifest import bucket_column
from churnkit.distributed._work import feature_step
from churnkit.events._tables import CONTRACTS
from churnkit.exceptions import ChurnkitTypeError, DataQualityWarning, SchemaError
from churnkit.features._frame import read_X
from churnkit.features._gaps import gap_stat
from churnkit.features._statistics import using_statistics
from churnkit.features.profile import attribute_text
from churnkit.features.union import set_events

__all__ = ["StoreStatistics", "fit_statistics", "merge_statistics", "fit_builder"]


@dataclass
class StoreStatistics:
    """What builders learn from a store, for one bucket or merged.

    Made by :func:`fit_statistics` and :func:`merge_statistics`; plain data
    (dicts, lists, numpy arrays), so it pickles small.

    Parameters
    ----------
    max_cutoff : int
        The latest training cutoff (ns since 1970).
    counts : dict
        ``{(table, column): {value: rows before max_cutoff}}``; every value
        the column holds (at any time) is a key.
    gaps : dict
        ``{table: ndarray}``: each training row's mean gap between active
        days before its cutoff (rows with two active days or more).
    attributes : dict
        ``{column: {value: (customers, first customer_id)}}``; ``None`` is the
        signup cohort.
    cutoffs : ndarray
        The distinct training cutoff times (ns).
    rows : int
        Training rows.
    horizon : str or None
        The label horizon the rows carry (``attrs["horizon"]``).
    label : dict
        How they were labelled (``attrs["label"]`` and, for inactivity,
        ``attrs["activity_table"]``), empty when not recorded.
    buckets : list of int
        The layout buckets measured.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import fit_statistics, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=1).read(0)
    >>> X = ck.make_cutoffs(bucket, at="2024-06-01")
    >>> values, counts = fit_statistics(bucket, X).value_counts("support", "priority")
    >>> values[:2]
    ['low', 'normal']
    """

    max_cutoff: int
    counts: dict = field(default_factory=dict)
    gaps: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    cutoffs: np.ndarray = field(default_factory=lambda: np.array([], np.int64))
    rows: int = 0
    horizon: object = None
    buckets: list = field(default_factory=list)
    label: dict = field(default_factory=dict)

    # ----------------------------------------- read by the builders' fit hooks
    def _values(self, table, column):
        key = (table, column)
        if key not in self.counts:
            measured = sorted({f"{t}.{c}" for t, c in self.counts})
            raise SchemaError(
                f"The statistics hold no counts of {table}.{column}, which a "
                f"builder reads at fit; they have {measured}. Measure them with "
                f"fit_statistics(events, X, columns=[({table!r}, {column!r})])."
            )
        found = self.counts[key]
        return _store_order(table, column, found), found

    def value_counts(self, table, column):
        """The rows of each value of a category column before ``max_cutoff``.

        Parameters
        ----------
        table : str
            The table ("usage", "billing", "support").
        column : str
            A category column of it.

        Returns
        -------
        values : list of str
            Every value of the column, in the order an Events store codes them.
        counts : ndarray of int64
            Rows of each value before ``max_cutoff``.
        """
        values, found = self._values(table, column)
        return values, np.array([found[v] for v in values], dtype=np.int64)

    def all_values(self, table, column):
        """Every value of a category column (at any time), in store order.

        Parameters
        ----------
        table : str
            The table.
        column : str
            A category column of it.

        Returns
        -------
        list of str
            The values.
        """
        return self._values(table, column)[0]

    def typical_gaps(self, table):
        """Each training row's mean gap between active days in ``table``.

        Parameters
        ----------
        table : str
            The table.

        Returns
        -------
        ndarray of float64
            Days, for the rows with two active days or more before their cutoff.
        """
        return self.gaps.get(table, np.array([], dtype=np.float64))

    def attribute_counts(self, column) -> pd.Series:
        """Customers per value of a customer attribute.

        Parameters
        ----------
        column : str or None
            A column of the customers table; None for the signup cohort.

        Returns
        -------
        Series
            Counts indexed by value (as text), ordered as ``value_counts``
            orders them on the whole customers table (ties: the value of the
            first customer first).
        """
        found = self.attributes.get(column, {})
        order = sorted(found, key=lambda v: (-found[v][0], _id_key(found[v][1])))
        return pd.Series(
            [found[v][0] for v in order], index=pd.Index(order, dtype=object)
        )

    @property
    def training_cutoffs(self) -> dict:
        """``ChurnFeatures.training_cutoffs_`` of all the training rows."""
        cutoffs = np.asarray(self.cutoffs, dtype=np.int64)
        return {
            "rows": int(self.rows),
            "first": str(pd.Timestamp(int(cutoffs.min()))) if len(cutoffs) else None,
            "last": str(pd.Timestamp(int(cutoffs.max()))) if len(cutoffs) else None,
            "distinct": int(len(cutoffs)),
        }

    def __repr__(self) -> str:
        return (
            f"StoreStatistics({len(self.buckets)} bucket(s), {self.rows:,} training "
            f"rows, cutoffs up to {pd.Timestamp(self.max_cutoff)}, "
            f"{len(self.counts)} category columns)"
        )


def _id_key(value):
    return (0, value) if isinstance(value, int | np.integer) else (1, str(value))


def _store_order(table, column, values) -> list:
    """Values in the order an Events store codes them: the contract's known
    values first, in contract order, then the others sorted (code points)."""
    contract = CONTRACTS.get(table)
    known = contract.categories.get(column, ()) if contract is not None else ()
    present = set(values)
    first = [v for v in known if v in present]
    return first + sorted(present - set(first), key=str)


def _category_columns(table, name, extra) -> list[str]:
    """The category columns to count: the contract's, the coded ones, asked ones."""
    deferred = set(getattr(table.columns, "deferred", ()))
    cols = [
        c
        for c, kind in table.kinds.items()
        if kind == "category" and (c in CONTRACTS[name].categories or c not in deferred)
    ]
    cols += [c for t, c in extra if t == name and c not in cols and c in table.kinds]
    return cols


def fit_statistics(events, X, *, max_cutoff=None, columns=()) -> StoreStatistics:
    """What feature builders learn at fit from one bucket's store.

    Run it on EVERY bucket of the layout (with the bucket's training rows,
    possibly none) and merge with :func:`merge_statistics`: buckets without
    training rows still hold events that count in the vocabularies.

    Parameters
    ----------
    events : Events
        A bucket's store (:meth:`Layout.read`).
    X : DataFrame
        ``customer_id`` and ``cutoff_time`` of this bucket's training rows.
    max_cutoff : str or Timestamp, default=None
        The latest cutoff of ALL training rows; by default the latest of
        ``X``. Pass it when buckets' rows end at different times (and for a
        bucket without rows): category counts are taken before it.
    columns : sequence of (table, column), default=()
        Further category columns to count (columns only a custom spec reads;
        the contract's and the coded ones always are).

    Returns
    -------
    StoreStatistics
        Small and picklable.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import fit_statistics, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=2).read(0)
    >>> X = ck.make_cutoffs(bucket, start="2024-03-01", end="2024-06-01")
    >>> fit_statistics(bucket, X)
    StoreStatistics(1 bucket(s), ... training rows, cutoffs up to 2024-06-01 ...)
    """
    X = X.drop(columns=[bucket_column], errors="ignore")
    ids, times = read_X(X)
    t = times.view("int64")
    if max_cutoff is None:
        if not len(t):
            raise SchemaError(
                "fit_statistics: X has no rows, so the latest training cutoff is "
                "unknown; pass `max_cutoff=` (the latest cutoff of all training "
                "rows)."
            )
        max_cutoff = int(t.max())
    else:
        max_cutoff = pd.Timestamp(max_cutoff).value
    engine = events._engine
    codes = engine.codes(ids, table="X").astype(np.int64)
    counts, gaps = {}, {}
    for name, table in engine.tables.items():
        before = table.time < max_cutoff
        for col in _category_columns(table, name, columns):
            cats = table.categories[col]
            values = table.columns[col][before]
            n = np.bincount(values[values >= 0].astype(np.int64), minlength=len(cats))
            counts[(name, col)] = dict(zip(cats, n.tolist(), strict=True))
        if len(codes):
            mean_gap = gap_stat(
                table, "gap_mean", table.offsets[codes], table.positions(codes, t)
            )
            gaps[name] = mean_gap[~np.isnan(mean_gap)]
        else:
            gaps[name] = np.array([], dtype=np.float64)
    where = getattr(engine, "layout_bucket", None)
    return StoreStatistics(
        max_cutoff=max_cutoff,
        counts=counts,
        gaps=gaps,
        attributes=_attribute_counts(events.customers),
        cutoffs=np.unique(t),
        rows=int(len(t)),
        horizon=X.attrs.get("horizon"),
        buckets=[] if where is None else [int(where[0])],
        label={k: X.attrs[k] for k in ("label", "activity_table") if k in X.attrs},
    )


def _attribute_counts(customers: pd.DataFrame) -> dict:
    """{column: {value: (customers, first customer_id)}}; None: signup cohort."""
    out = {}
    ids = customers["customer_id"]
    for col in [*customers.columns, None]:
        if col in ("customer_id", "signup_time"):
            continue
        series = customers["signup_time" if col is None else col]
        text = pd.Series(attribute_text(series, cohort=col is None), copy=False)
        frame = pd.DataFrame({"v": text, "id": ids.to_numpy()}).dropna(subset=["v"])
        # customers are in id order: a value's first row is its first customer
        grouped = frame.groupby("v", sort=False)["id"].agg(["size", "first"])
        out[col] = {
            v: (int(n), first)
            for v, n, first in zip(
                grouped.index, grouped["size"], grouped["first"], strict=True
            )
        }
    return out


def merge_statistics(statistics) -> StoreStatistics:
    """The statistics of several buckets as one (of the whole data set).

    Parameters
    ----------
    statistics : sequence of StoreStatistics
        From :func:`fit_statistics` (or earlier merges), one per bucket.

    Returns
    -------
    StoreStatistics
        Counts added up, gaps and cutoffs joined.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import fit_statistics, merge_statistics
    >>> from churnkit.distributed import run_local, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> layout = write_layout(events, tempfile.mkdtemp(), n_buckets=2)
    >>> X = ck.make_cutoffs(events, start="2024-03-01", end="2024-06-01")
    >>> parts = [fit_statistics(layout.read(b), X[X["customer_id"].isin(
    ...     layout.read(b).customers["customer_id"])]) for b in layout.buckets]
    >>> merge_statistics(parts).rows == len(X)
    True
    """
    parts = list(statistics)
    if not parts or not all(isinstance(p, StoreStatistics) for p in parts):
        raise ChurnkitTypeError(
            "merge_statistics needs a non-empty list of StoreStatistics from "
            f"fit_statistics; got {[type(p).__name__ for p in parts][:5]}."
        )
    cutoffs = sorted({p.max_cutoff for p in parts})
    if len(cutoffs) > 1:
        shown = [str(pd.Timestamp(c)) for c in cutoffs[:4]]
        raise SchemaError(
            f"The buckets' statistics were taken before different cutoffs {shown}: "
            "their rows end at different times. Pass the latest cutoff of all "
            "training rows as `fit_statistics(..., max_cutoff=...)` in every bucket."
        )
    buckets = [b for p in parts for b in p.buckets]
    twice = sorted({b for b in buckets if buckets.count(b) > 1})
    if twice:
        raise SchemaError(
            f"Buckets {twice[:5]} are in more than one of the statistics merged, "
            "so their counts would be added twice. Measure each bucket once."
        )
    horizons = {p.horizon for p in parts if p.horizon is not None}
    if len(horizons) > 1:
        raise SchemaError(
            f"The buckets' training rows carry different label horizons "
            f"{sorted(map(str, horizons))}; label all of them with one horizon."
        )
    counts: dict = {}
    for p in parts:
        for key, found in p.counts.items():
            total = counts.setdefault(key, {})
            for value, n in found.items():
                total[value] = total.get(value, 0) + n
    attributes: dict = {}
    for p in parts:
        for col, found in p.attributes.items():
            total = attributes.setdefault(col, {})
            for value, (n, first) in found.items():
                if value in total:
                    m, other = total[value]
                    first = min(first, other, key=_id_key)
                    n += m
                total[value] = (n, first)
    tables = {t for p in parts for t in p.gaps}
    return StoreStatistics(
        max_cutoff=cutoffs[0],
        counts=counts,
        gaps={t: np.concatenate([p.typical_gaps(t) for p in parts]) for t in tables},
        attributes=attributes,
        cutoffs=np.unique(np.concatenate([p.cutoffs for p in parts])),
        rows=sum(p.rows for p in parts),
        horizon=next(iter(horizons), None),
        buckets=sorted(buckets),
        label=next((p.label for p in parts if p.label), {}),
    )


def fit_builder(builder, events, X, statistics, y=None):
    """Fit a builder on one bucket so that it learns the whole data set.

    Everything the builder learns from its store (vocabularies, frequent kinds,
    the windows ``"auto"`` chooses, the latest training cutoff, the training
    cutoffs) comes from ``statistics``, the merged statistics of every bucket:
    the fitted builder equals one fitted on the whole store.

    Parameters
    ----------
    builder : estimator
        A builder (``ChurnFeatures``, ``UsageFeatures``, ...) or a pipeline,
        whose feature step is fitted (in place).
    events : Events
        Any one bucket's store; it stays attached (``ck.set_events`` attaches
        another).
    X : DataFrame
        ``customer_id`` and ``cutoff_time`` of that bucket's training rows.
    statistics : StoreStatistics
        :func:`merge_statistics` of every bucket.
    y : array-like, default=None
        Ignored by the builders (the label horizon travels in
        ``statistics``).

    Returns
    -------
    estimator
        ``builder``, fitted.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import fit_builder, fit_statistics, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=1).read(0)
    >>> X = ck.make_cutoffs(bucket, start="2024-03-01", end="2024-06-01")
    >>> features = fit_builder(ck.ChurnFeatures(), bucket, X, fit_statistics(bucket, X))
    >>> features.windows_
    ('7D', '30D', '90D')
    """
    if not isinstance(statistics, StoreStatistics):
        raise ChurnkitTypeError(
            "`statistics` must be the StoreStatistics of merge_statistics; got "
            f"{type(statistics).__name__}."
        )
    X = X.drop(columns=[bucket_column], errors="ignore")
    if statistics.horizon is not None and X.attrs.get("horizon") is None:
        X = X.copy()
        X.attrs["horizon"] = statistics.horizon
    if statistics.label and X.attrs.get("label") is None:  # as the horizon
        X = X.copy()
        X.attrs.update(statistics.label)
    _check_coverage(statistics, events)
    step = feature_step(builder)
    set_events(builder, events)
    with using_statistics(statistics):
        step.fit(X, y)
    return builder


def _check_coverage(statistics, events) -> None:
    """Warn when the statistics miss buckets of the layout ``events`` is from:
    their events would be missing from the vocabularies."""
    where = getattr(events._engine, "layout_bucket", None)
    if where is None or len(where) < 3 or not statistics.buckets:
        return
    missing = sorted(set(where[2]) - set(statistics.buckets))
    if missing:
        warn(
            f"The statistics cover {len(statistics.buckets)} of the layout's "
            f"{len(where[2])} non-empty buckets (missing e.g. {missing[:5]}): the "
            "events of the others are not in the vocabularies and counts, so the "
            "builder may differ from one fitted on the whole store. Run "
            "fit_statistics on every bucket (with no rows and "
            "`max_cutoff=<latest training cutoff>` where a bucket has none).",
            DataQualityWarning,
        )

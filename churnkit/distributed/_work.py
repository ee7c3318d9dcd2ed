"""Per-bucket work: each step of the flow on one bucket's ``Events`` store.

Every function takes a bucket's store (:meth:`Layout.read`) and returns pandas,
rows in the order of its input (``X``), with a ``bucket`` column (the bucket of
the store, -1 for a store that is not a layout's bucket). An engine maps them
over the buckets (Dask ``map_partitions``, Spark ``applyInPandas``);
:func:`run_local` does it in one process, the reference the engines are tested
against. Concatenated over the buckets, each result equals the single-machine
step on the whole store: every step is per customer.

Fitted models are shared by the tasks of a worker and never changed:
:func:`bucket_features` and :func:`bucket_scores` attach the bucket's store to
a per-call copy (:func:`attached`).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd

from churnkit.distributed._manifest import bucket_column
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.features.union import set_events
from churnkit.labels import label_churn, make_cutoffs

__all__ = [
    "attached",
    "bucket_cutoffs",
    "bucket_features",
    "bucket_labels",
    "bucket_number",
    "bucket_scores",
    "feature_step",
    "run_local",
]


def bucket_number(events) -> int:
    """The layout bucket an Events store holds, -1 for any other store."""
    where = getattr(events._engine, "layout_bucket", None)
    return -1 if where is None else int(where[0])


def _with_bucket(frame: pd.DataFrame, events) -> pd.DataFrame:
    frame = frame.copy() if not frame.empty else frame.copy(deep=True)
    frame[bucket_column] = np.full(len(frame), bucket_number(events), dtype=np.int32)
    return frame


def bucket_cutoffs(events, **make_cutoffs_kwargs) -> pd.DataFrame:
    """:func:`~churnkit.make_cutoffs` on one bucket's store.

    A bucket where no customer is eligible at any cutoff gives no rows (the
    whole store raises only when no bucket has a row), and cutoffs no customer
    of the bucket is eligible at are not warned about (the other buckets have
    them).

    Parameters
    ----------
    events : Events
        A bucket's store (:meth:`Layout.read`).
    **make_cutoffs_kwargs
        Arguments of :func:`churnkit.make_cutoffs`: ``start``, ``end``,
        ``freq`` or ``at``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``cutoff_time``, ``bucket``.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import bucket_cutoffs, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> layout = write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> bucket_cutoffs(layout.read(1), at="2024-06-01").columns.tolist()
    ['customer_id', 'cutoff_time', 'bucket']
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No customer is eligible at")
        try:
            out = make_cutoffs(events, **make_cutoffs_kwargs)
        except SchemaError as exc:
            if "No customer is eligible at any cutoff" not in str(exc):
                raise
            ids = events._engine.customer_ids[:0].to_numpy()
            out = pd.DataFrame(
                {
                    "customer_id": ids,
                    "cutoff_time": np.array([], dtype="datetime64[ns]"),
                }
            )
    return _with_bucket(out, events)


def bucket_labels(events, cutoffs, **label_churn_kwargs) -> pd.DataFrame:
    """:func:`~churnkit.label_churn` on one bucket's store.

    Censoring uses the layout's global ``observed_until`` (the store's), so
    labels equal the single-machine ones row for row.

    Parameters
    ----------
    events : Events
        A bucket's store.
    cutoffs : DataFrame
        ``customer_id`` and ``cutoff_time`` of customers of this bucket.
    **label_churn_kwargs
        Arguments of :func:`churnkit.label_churn`: ``horizon``, ``gap``,
        ``kind``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``cutoff_time``, ``churned``, ``bucket``: the
        labelled subset of ``cutoffs`` in its order, index labels kept;
        ``attrs`` as ``label_churn`` sets them.

    Examples
    --------
    >>> import tempfile, warnings, churnkit as ck
    >>> from churnkit.distributed import bucket_cutoffs, bucket_labels, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=4).read(1)
    >>> cutoffs = bucket_cutoffs(bucket, at="2024-06-01")
    >>> bucket_labels(bucket, cutoffs, horizon="30D").columns.tolist()
    ['customer_id', 'cutoff_time', 'churned', 'bucket']
    """
    cutoffs = cutoffs.drop(columns=[bucket_column], errors="ignore")
    out = label_churn(events, cutoffs, **label_churn_kwargs)
    attrs = dict(out.attrs)
    out = _with_bucket(out, events)
    out.attrs.update(attrs)
    return out


def _children(est):
    """Names of the attributes holding an estimator's sub-estimators."""
    return [a for a in ("steps", "transformer_list", "builders_") if hasattr(est, a)]


def _copy_tree(est):
    """A copy of ``est`` and of every estimator inside it; data (arrays,
    fitted models, stores) shared."""
    new = copy.copy(est)
    for attr in _children(est):
        items = getattr(est, attr)
        setattr(
            new,
            attr,
            [
                (name, _copy_tree(child) if hasattr(child, "get_params") else child)
                for name, child in items
            ],
        )
    return new


def attached(model, events):
    """A copy of ``model`` with ``events`` attached; ``model`` is not changed.

    Every estimator inside it is copied (fitted state shared, not copied), so
    that tasks running at once on one worker never see each other's store.
    The tables scored as missing (``set_events(..., missing_tables=)``) carry
    over.
    """
    # as ck.set_events(model, events, missing_tables=...) left them
    missing = tuple(getattr(feature_step(model), "_missing_tables", ()) or ())
    new = _copy_tree(model)
    set_events(new, events, missing_tables=missing)
    return new


def feature_step(model):
    """The feature step of a pipeline (all but its final estimator), or the
    builder itself."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return model
    if len(steps) == 1:
        return steps[0][1]
    if len(steps) == 2:
        return steps[0][1]
    return model[:-1]


def bucket_features(model, events, X) -> pd.DataFrame:
    """A fitted builder's (or pipeline's feature step's) features on a bucket.

    The fitted object is not changed: its store is attached to a per-call copy.
    The output equals the single-machine ``transform`` of the same rows.

    Parameters
    ----------
    model : estimator
        A fitted builder (``ChurnFeatures``, ``UsageFeatures``, ...) or a
        fitted pipeline whose steps before the last build the features.
    events : Events
        A bucket's store.
    X : DataFrame
        ``customer_id`` and ``cutoff_time`` of customers of this bucket.

    Returns
    -------
    DataFrame
        The features, indexed by (``customer_id``, ``cutoff_time``) in ``X``'s
        order, then a ``bucket`` column.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import bucket_cutoffs, bucket_features, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> X = ck.make_cutoffs(events, at="2024-06-01")
    >>> features = ck.ChurnFeatures(events, windows=("30D",)).fit(X)
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=4).read(1)
    >>> out = bucket_features(features, bucket, bucket_cutoffs(bucket, at="2024-06-01"))
    >>> out.columns[-1], out.index.names
    ('bucket', FrozenList(['customer_id', 'cutoff_time']))
    """
    step = attached(feature_step(model), events)
    X = X.drop(columns=[bucket_column], errors="ignore")
    out = step.transform(X)
    if not isinstance(out, pd.DataFrame):
        raise ChurnkitTypeError(
            "bucket_features: the feature step returned "
            f"{type(out).__name__}, not a DataFrame; use churnkit's builders (or "
            'set_output(transform="pandas")).'
        )
    out[bucket_column] = np.full(len(out), bucket_number(events), dtype=np.int32)
    return out


def _reason_names(k) -> list[str]:
    suffixes = ("", "_group", "_points")
    return [f"reason_{i}{s}" for i in range(1, k + 1) for s in suffixes]


def _reason_columns(explanation, X, k) -> pd.DataFrame:
    """reason_i, reason_i_group, reason_i_points (i = 1..k) per row of ``X``."""
    drivers = explanation.top_drivers(k=k, scale="probability")
    keys = ["customer_id", "cutoff_time"]
    wide = {}
    for column, suffix, scale in (
        ("reason", "", 1.0),
        ("group", "_group", 1.0),
        ("contribution", "_points", 100.0),
    ):
        table = drivers.pivot(index=keys, columns="rank", values=column)
        table = table.reindex(columns=range(1, k + 1))
        if scale != 1.0:
            table = table.astype(float) * scale
        for i in range(1, k + 1):
            wide[f"reason_{i}{suffix}"] = table[i]
    wide = pd.DataFrame(wide)
    order = _reason_names(k)
    rows = pd.MultiIndex.from_arrays(
        [X["customer_id"].to_numpy(), X["cutoff_time"].to_numpy()], names=keys
    )
    out = wide[order].reindex(rows)
    text = [c for c in order if not c.endswith("_points")]
    out[text] = out[text].astype(object)
    return out.reset_index(drop=True)


def bucket_scores(model, events, X, *, explain: int = 0) -> pd.DataFrame:
    """Churn probabilities (and reasons) of a fitted pipeline on one bucket.

    Parameters
    ----------
    model : Pipeline
        A fitted churn pipeline (``make_churn_pipeline``), fitted on one
        machine or on a cluster; not changed.
    events : Events
        A bucket's store.
    X : DataFrame
        ``customer_id`` and ``cutoff_time`` of customers of this bucket.
    explain : int, default=0
        Reasons per row from :class:`churnkit.ChurnExplainer`: ``reason_1`` ..
        ``reason_k`` (sentences), ``reason_i_group`` and ``reason_i_points``
        (the contribution in percentage points of probability, 5.0 = +5
        points); empty where a row has fewer reasons.

    Returns
    -------
    DataFrame
        ``customer_id``, ``cutoff_time``, ``churn_probability`` (the reason
        columns), ``bucket``; rows in ``X``'s order, a fresh RangeIndex.

    Examples
    --------
    >>> import tempfile, warnings, churnkit as ck
    >>> from churnkit.distributed import bucket_cutoffs, bucket_scores, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=200, random_state=0).events
    >>> cutoffs = ck.make_cutoffs(events, start="2024-03-01", end="2024-12-01")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     labels = ck.label_churn(events, cutoffs, horizon="30D")
    ...     model = ck.make_churn_pipeline(events, model="logistic", random_state=0)
    ...     model = model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=4).read(1)
    >>> scores = bucket_scores(model, bucket, bucket_cutoffs(bucket, at="2025-01-01"))
    >>> scores.columns.tolist()
    ['customer_id', 'cutoff_time', 'churn_probability', 'bucket']
    """
    if isinstance(explain, bool) or not isinstance(explain, int | np.integer):
        raise ChurnkitTypeError(
            f"`explain` must be a number of reasons (0 for none); got {explain!r}."
        )
    if explain < 0:
        raise SchemaError(f"`explain` must be 0 or more; got {explain!r}.")
    X = X.drop(columns=[bucket_column], errors="ignore")
    out = pd.DataFrame(
        {
            "customer_id": X["customer_id"].to_numpy(),
            "cutoff_time": X["cutoff_time"].to_numpy(),
        }
    )
    ours = attached(model, events)
    if len(X):
        out["churn_probability"] = ours.predict_proba(X)[:, 1]
    else:
        out["churn_probability"] = np.array([], dtype=np.float64)
    if explain:
        from churnkit.explain import ChurnExplainer

        if len(X):
            explanation = ChurnExplainer(ours).explain(X)
            reasons = _reason_columns(explanation, X, int(explain))
        else:
            cols = _reason_names(int(explain))
            reasons = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
            for c in cols[2::3]:
                reasons[c] = reasons[c].astype(float)
        out = pd.concat([out, reasons], axis=1)
    out[bucket_column] = np.full(len(out), bucket_number(events), dtype=np.int32)
    return out


def run_local(layout, fn, *args, **kwargs) -> pd.DataFrame:
    """Apply a per-bucket function to every bucket in this process, concatenated.

    The reference the engines are tested against. Each call gets the bucket's
    store (:meth:`Layout.read`), then ``args``; a DataFrame argument with a
    ``customer_id`` column (cutoff rows) is cut to the bucket's customers
    first, keeping its order.

    Parameters
    ----------
    layout : Layout
        The layout.
    fn : callable
        ``fn(events, *args, **kwargs)`` returning a DataFrame, such as
        :func:`bucket_cutoffs` or :func:`bucket_scores`.
    *args, **kwargs
        Further arguments of ``fn``.

    Returns
    -------
    DataFrame
        The buckets' results, in bucket order. Labels' ``attrs["excluded"]``
        counts are summed over the buckets.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import bucket_cutoffs, run_local, write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> layout = write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> cutoffs = run_local(layout, bucket_cutoffs, at="2024-06-01")
    >>> len(cutoffs) == len(ck.make_cutoffs(events, at="2024-06-01"))
    True
    """
    from churnkit.distributed._hash import bucket_of

    cut = [isinstance(a, pd.DataFrame) and "customer_id" in a for a in args]
    row_buckets = [
        bucket_of(a["customer_id"], layout.n_buckets) if c else None
        for a, c in zip(args, cut, strict=True)
    ]
    parts = []
    for bucket in layout.buckets:
        events = layout.read(bucket)
        call = [
            a[b == bucket] if c else a
            for a, b, c in zip(args, row_buckets, cut, strict=True)
        ]
        parts.append(fn(events, *call, **kwargs))
    return _concat(parts)


def _concat(parts) -> pd.DataFrame:
    nonempty = [p for p in parts if len(p)] or parts[:1]
    out = pd.concat(nonempty) if nonempty else pd.DataFrame()
    excluded = [p.attrs.get("excluded") for p in parts if "excluded" in p.attrs]
    attrs = dict(parts[0].attrs) if parts else {}
    if excluded and all(isinstance(e, dict) for e in excluded):
        total: dict = {}
        for e in excluded:
            for reason, n in e.items():
                total[reason] = total.get(reason, 0) + n
        attrs["excluded"] = total
    out.attrs = attrs
    return out

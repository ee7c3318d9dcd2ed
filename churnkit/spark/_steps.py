"""Cutoffs, labels, features and scores on Spark: one pandas call per bucket.

Every step is ``groupBy("bucket").applyInPandas(...)`` over hash buckets of
``customer_id`` (never over customers: one Python call per customer is two
orders of magnitude slower). Each group reads its bucket's ``Events`` store
from the layout (:meth:`Layout.read`) and runs the engine-agnostic per-bucket
function of :mod:`churnkit.distributed` on it, so a bucket's result is exactly
the single-machine result for its customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.distributed import (
    bucket_column,
    bucket_cutoffs,
    bucket_features,
    bucket_labels,
    bucket_scores,
)
from churnkit.distributed._planning import planning
from churnkit.exceptions import SchemaError
from churnkit.spark._frames import (
    check_bucket,
    check_cutoff_table,
    conform,
    cutoff_frame,
    detached,
    import_pyspark,
    probe,
    schema_of,
    session_of,
    with_bucket,
)

__all__ = ["compute_features", "label_churn", "make_cutoffs", "score", "by_bucket"]


def _keyed(out: pd.DataFrame) -> pd.DataFrame:
    """A per-bucket result with customer_id and cutoff_time as columns."""
    if CUSTOMER_ID in (out.index.names or []):
        out = out.reset_index()
    return out.reset_index(drop=True)


def by_bucket(X, layout, work, *, keep=()):
    """``work(events, cutoffs)`` on each bucket of ``X``, as a Spark DataFrame.

    Parameters
    ----------
    X : Spark DataFrame
        A cutoff table: ``customer_id``, ``cutoff_time`` and optionally
        ``bucket`` (computed when absent) and the columns in ``keep``.
    layout : Layout
        The partitioned layout the buckets are read from.
    work : callable
        ``work(events, cutoffs) -> DataFrame`` with one row per cutoff row, in
        its order (keyed by customer_id and cutoff_time, as columns or index).
    keep : sequence of str, default=()
        Columns of ``X`` passed through to the output, row for row.

    Returns
    -------
    Spark DataFrame
        ``work``'s columns, ``bucket`` and ``keep``.

    Examples
    --------
    Any per-bucket function of the cutoff rows runs the same way, e.g. the
    customers' tenure at each cutoff:

    >>> import churnkit.spark as cks
    >>> def tenure(events, cutoffs):
    ...     signup = events.customers.set_index("customer_id")["signup_time"]
    ...     since = signup.reindex(cutoffs["customer_id"]).to_numpy()
    ...     days = cutoffs["cutoff_time"] - since
    ...     return cutoffs.assign(tenure_days=days.dt.days.astype(float))
    >>> cks.by_bucket(cutoffs, layout, tenure).columns  # doctest: +SKIP
    ['customer_id', 'cutoff_time', 'tenure_days', 'bucket']
    """
    import_pyspark()
    session_of(X)
    check_cutoff_table(X, layout, keep)
    if bucket_column not in X.columns:
        X = with_bucket(X, layout.n_buckets)
    X = X.select(CUSTOMER_ID, CUTOFF_TIME, bucket_column, *keep)
    events, rows = probe(layout)
    with planning(None):
        template = _keyed(work(events, rows))
    template[bucket_column] = np.int32(0)
    names = [c for c in template.columns if c not in keep]
    types = {f.name: f.dataType.simpleString() for f in X.schema.fields}
    schema = ", ".join(
        [schema_of(template[names])] + [f"`{c}` {types[c]}" for c in keep]
    )
    n_buckets = layout.n_buckets

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        bucket = int(pdf[bucket_column].iloc[0])
        check_bucket(pdf, bucket, layout, n_buckets)
        out = _keyed(work(layout.read(bucket), cutoff_frame(pdf)))
        if len(out) != len(pdf):
            raise SchemaError(
                f"Bucket {bucket}: {len(out)} result rows for {len(pdf)} cutoff "
                "rows; a per-bucket step must return one row per cutoff row."
            )
        out[bucket_column] = np.int32(bucket)
        for column in keep:
            out[column] = pdf[column].to_numpy()
        return conform(out, [*names, *keep])

    return X.groupBy(bucket_column).applyInPandas(run, schema)


def make_cutoffs(layout, *, spark=None, **kwargs):
    """Cutoff table of every bucket of a layout, as a Spark DataFrame.

    Runs :func:`churnkit.make_cutoffs` on each bucket's store (one pandas
    call per bucket); the rows equal ``ck.make_cutoffs`` on the whole data.

    Parameters
    ----------
    layout : Layout
        A layout (:func:`write_layout`, :func:`churnkit.distributed.open_layout`).
    spark : SparkSession, default=None
        The session; by default the active one.
    **kwargs
        :func:`churnkit.make_cutoffs` arguments (``start``, ``end``, ``freq``,
        ``at``, ...).

    Returns
    -------
    Spark DataFrame
        ``customer_id``, ``cutoff_time`` (timestamp_ntz) and ``bucket``.

    Examples
    --------
    >>> import churnkit.spark as cks
    >>> cutoffs = cks.make_cutoffs(layout, start="2024-03-01",
    ...                            end="2025-05-01")  # doctest: +SKIP
    >>> cutoffs.columns  # doctest: +SKIP
    ['customer_id', 'cutoff_time', 'bucket']
    """
    session = session_of(spark=spark)
    events, _ = probe(layout)
    with planning(None):
        template = _keyed(bucket_cutoffs(events, **kwargs))
    template[bucket_column] = np.int32(0)
    names = list(template.columns)
    buckets = pd.DataFrame({bucket_column: np.asarray(layout.buckets, np.int32)})
    frame = session.createDataFrame(buckets)

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        bucket = int(pdf[bucket_column].iloc[0])
        out = _keyed(bucket_cutoffs(layout.read(bucket), **kwargs))
        out[bucket_column] = np.int32(bucket)
        return conform(out, names)

    return frame.groupBy(bucket_column).applyInPandas(run, schema_of(template))


def label_churn(layout, cutoffs, **kwargs):
    """Churn labels of a Spark cutoff table, bucket by bucket.

    Runs :func:`churnkit.label_churn` on each bucket's store; censored rows
    are dropped as on one machine (the bucket stores share the layout's global
    ``observed_until``).

    Parameters
    ----------
    layout : Layout
        The layout the cutoffs were made from.
    cutoffs : Spark DataFrame
        ``customer_id`` and ``cutoff_time`` (and ``bucket``), e.g. from
        :func:`make_cutoffs`.
    **kwargs
        :func:`churnkit.label_churn` arguments (``horizon``, ``gap``, ...).

    Returns
    -------
    Spark DataFrame
        ``customer_id``, ``cutoff_time``, ``churned`` and ``bucket``.

    Examples
    --------
    >>> import churnkit.spark as cks
    >>> labels = cks.label_churn(layout, cutoffs, horizon="30D")  # doctest: +SKIP
    >>> labels.columns  # doctest: +SKIP
    ['customer_id', 'cutoff_time', 'churned', 'bucket']
    """
    import_pyspark()
    session_of(cutoffs)
    check_cutoff_table(cutoffs, layout)
    if bucket_column not in cutoffs.columns:
        cutoffs = with_bucket(cutoffs, layout.n_buckets)
    cutoffs = cutoffs.select(CUSTOMER_ID, CUTOFF_TIME, bucket_column)
    events, rows = probe(layout)
    with planning(None):
        template = _keyed(bucket_labels(events, rows, **kwargs))
    template[bucket_column] = np.int32(0)
    names = list(template.columns)
    n_buckets = layout.n_buckets

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        bucket = int(pdf[bucket_column].iloc[0])
        check_bucket(pdf, bucket, layout, n_buckets)
        out = _keyed(bucket_labels(layout.read(bucket), cutoff_frame(pdf), **kwargs))
        out[bucket_column] = np.int32(bucket)
        return conform(out, names)

    return cutoffs.groupBy(bucket_column).applyInPandas(run, schema_of(template))


def compute_features(model, layout, X, *, keep=()):
    """Features of a fitted builder or pipeline for a Spark cutoff table.

    Runs the fitted feature step on each bucket's store
    (:func:`churnkit.distributed.bucket_features`); the values are
    bit-identical to its ``transform`` on the whole data. The model is shipped
    to the executors without its Events store.

    Parameters
    ----------
    model : estimator
        A fitted feature builder (:class:`~churnkit.ChurnFeatures`, ...) or a
        fitted pipeline from :func:`churnkit.make_churn_pipeline`.
    layout : Layout
        The layout to read the buckets from.
    X : Spark DataFrame
        ``customer_id`` and ``cutoff_time`` (and ``bucket``).
    keep : sequence of str, default=()
        Columns of ``X`` to carry through (e.g. the label ``"churned"``).

    Returns
    -------
    Spark DataFrame
        ``customer_id``, ``cutoff_time``, the feature columns (double; a
        categorical feature as its level's text), ``bucket`` and ``keep``.

    Examples
    --------
    >>> import churnkit.spark as cks
    >>> features = cks.compute_features(model, layout, cutoffs)  # doctest: +SKIP
    """
    ship = detached(model)

    def work(events, cutoffs):
        return bucket_features(ship, events, cutoffs)

    return by_bucket(X, layout, work, keep=keep)


def score(model, layout, X, *, explain=0, keep=()):
    """Churn probabilities (and reason codes) for a Spark cutoff table.

    Scores each bucket with :func:`churnkit.distributed.bucket_scores`: the
    probabilities of a model fitted on one machine equal its
    ``predict_proba`` exactly; with ``explain=k`` the top ``k`` reasons of
    :class:`~churnkit.ChurnExplainer` come too.

    Parameters
    ----------
    model : estimator
        A fitted pipeline from :func:`churnkit.make_churn_pipeline` (fitted
        here, on one machine, or by :func:`fit`).
    layout : Layout
        The layout to read the buckets from.
    X : Spark DataFrame
        ``customer_id`` and ``cutoff_time`` (and ``bucket``).
    explain : int, default=0
        The number of reasons per row (0: probabilities only).
    keep : sequence of str, default=()
        Columns of ``X`` to carry through.

    Returns
    -------
    Spark DataFrame
        ``customer_id``, ``cutoff_time``, ``churn_probability``, the reason
        columns when ``explain > 0``, ``bucket`` and ``keep``.

    Examples
    --------
    >>> import churnkit.spark as cks
    >>> scores = cks.score(model, layout, today, explain=3)  # doctest: +SKIP
    """
    ship = detached(model)

    def work(events, cutoffs):
        return bucket_scores(ship, events, cutoffs, explain=explain)

    return by_bucket(X, layout, work, keep=keep)

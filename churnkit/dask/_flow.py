"""Cutoffs, labels, features and scores of a layout as Dask DataFrames.

Each step runs the single-machine code on one bucket's ``Events`` store at a
time (``churnkit.distributed``'s per-bucket functions) inside Dask tasks; the
frames returned keep ``customer_id`` and ``cutoff_time`` as columns (Dask has
no MultiIndex) and add the ``bucket`` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.dask._map import as_layout, by_bucket, from_buckets, map_rows
from churnkit.distributed import bucket_column
from churnkit.exceptions import SchemaError

__all__ = [
    "compute_features",
    "fit_feature_step",
    "keys_first",
    "label_churn",
    "make_cutoffs",
    "score",
]

KEYS = (CUSTOMER_ID, CUTOFF_TIME)


def keys_first(frame: pd.DataFrame) -> pd.DataFrame:
    """A builder's output with its (customer_id, cutoff_time) index as columns."""
    if set(KEYS) <= set(frame.index.names or ()):
        frame = frame.reset_index(list(KEYS))
    return frame.reset_index(drop=True)


def make_cutoffs(layout, *, buckets_per_partition=1, **kwargs):
    """Cutoffs of every customer of a layout, computed bucket by bucket.

    Parameters
    ----------
    layout : Layout or str
        A layout (see :func:`write_layout`) or its folder.
    buckets_per_partition : int, default=1
        Buckets per partition of the result (and of every frame made from it).
    **kwargs
        Arguments of :func:`churnkit.make_cutoffs` (``start``, ``end``,
        ``freq``, ``at``); dates are the same for every bucket.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``customer_id``, ``cutoff_time``, ``bucket``; one partition
        per group of buckets. Row for row the single-machine cutoffs.

    Examples
    --------
    >>> import tempfile, dask, churnkit as ck, churnkit.dask as ckd
    >>> events = ck.datasets.make_saas_events(n_customers=60, random_state=0).events
    >>> layout = ckd.write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> cutoffs = ckd.make_cutoffs(layout, start="2024-03-01", end="2024-05-01")
    >>> with dask.config.set(scheduler="sync"):
    ...     n = len(cutoffs)
    >>> n == len(ck.make_cutoffs(events, start="2024-03-01", end="2024-05-01"))
    True
    """
    from churnkit.distributed import bucket_cutoffs

    layout = as_layout(layout)
    return from_buckets(
        layout,
        bucket_cutoffs,
        kwargs,
        buckets_per_partition=buckets_per_partition,
    )


def label_churn(layout, cutoffs, **kwargs):
    """Churn labels of the cutoffs, computed bucket by bucket.

    Parameters
    ----------
    layout : Layout or str
        The layout the cutoffs' customers are in.
    cutoffs : dask.dataframe.DataFrame or DataFrame
        Columns ``customer_id`` and ``cutoff_time`` (and ``bucket`` when made
        by :func:`make_cutoffs`: then each bucket is read once).
    **kwargs
        Arguments of :func:`churnkit.label_churn` (``horizon``, ``gap``,
        ``kind``).

    Returns
    -------
    dask.dataframe.DataFrame
        The single-machine labels' columns (``customer_id``, ``cutoff_time``,
        ``churned``) and ``bucket``; censored cutoffs are dropped, as there.
        Partitions carry the labels' ``attrs`` (the ``horizon``), without
        the counts of excluded cutoffs: those are each bucket's own (its
        ``CensoringWarning``), not the total (``run_local`` adds them up).

    Examples
    --------
    >>> import tempfile, dask, churnkit as ck, churnkit.dask as ckd
    >>> events = ck.datasets.make_saas_events(n_customers=60, random_state=0).events
    >>> layout = ckd.write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> cutoffs = ckd.make_cutoffs(layout, start="2024-03-01", end="2024-05-01")
    >>> labels = ckd.label_churn(layout, cutoffs, horizon="30D")
    >>> with dask.config.set(scheduler="sync"):
    ...     list(labels.columns)
    ['customer_id', 'cutoff_time', 'churned', 'bucket']
    """

    layout = as_layout(layout)
    cutoffs = by_bucket(cutoffs, layout)
    return map_rows(cutoffs, layout, _labels, {"kwargs": kwargs}, same_rows=False)


def _labels(events, rows, *, kwargs):
    from churnkit.distributed import bucket_labels

    out = bucket_labels(events, rows[list(KEYS)], **kwargs)
    # a partition's excluded counts are its own: where every partition had
    # the same (8 buckets of 5 censored), pandas' concat kept them as if
    # they were the total (5, not 40); the per-bucket warnings say them
    out.attrs = {k: v for k, v in out.attrs.items() if k != "excluded"}
    return out


def _feature_step(model):
    """The feature builder of a pipeline (or the builder itself)."""
    return model.steps[0][1] if isinstance(model, Pipeline) else model


def _is_fitted(builder) -> bool:
    try:
        check_is_fitted(builder)
    except Exception:  # sklearn's NotFittedError or a builder's own
        return False
    return True


def fit_feature_step(model, layout, X):
    """Fit a builder (or a pipeline's feature step) on all buckets' statistics.

    Every bucket's :func:`~churnkit.distributed.fit_statistics` (small: value
    counts, vocabularies, what ``windows="auto"`` measures) is computed on the
    cluster -- buckets without training rows too, their events count in the
    vocabularies -- and merged on the driver; the builder is then fitted on
    one bucket's store with the merged statistics, so it learns what it would
    learn from the whole store. The store is detached afterwards (each task
    attaches its bucket's): ``ck.set_events(model, events)`` to use the model
    on one machine.

    Parameters
    ----------
    model : feature builder or Pipeline
        The builder, or a pipeline whose first step is one; fitted in place.
    layout : Layout or str
        The layout of ``X``'s customers.
    X : dask.dataframe.DataFrame or DataFrame
        The training rows (``customer_id``, ``cutoff_time``); the labels'
        ``attrs`` (the ``horizon``) are read from its partitions.

    Returns
    -------
    builder
        The fitted builder (the pipeline's first step).
    """
    import dask

    from churnkit.distributed import (
        fit_builder,
        merge_statistics,
        reference_fraction,
        set_reference,
    )
    from churnkit.features.union import set_events

    layout = as_layout(layout)
    X = by_bucket(X, layout)
    max_cutoff = X[CUTOFF_TIME].max().compute()
    if pd.isna(max_cutoff):
        raise SchemaError("X has no rows: there is nothing to fit the features on.")
    tasks = [
        dask.delayed(_partition_statistics)(p, layout, max_cutoff)
        for p in X.to_delayed()
    ]
    groups = dask.compute(*tasks)
    found = dict(pair for group in groups for pair in group)
    empty = X._meta[list(KEYS)]
    rest = [
        dask.delayed(_bucket_statistics)(layout, b, empty, max_cutoff)
        for b in layout.buckets
        if b not in found
    ]
    found.update(dask.compute(*rest))
    merged = merge_statistics([found[b] for b in sorted(found)])
    i = next(i for i, group in enumerate(groups) if group)  # rows to fit on
    first = groups[i][0][0]
    rows = X.partitions[i].compute()
    rows = rows[rows[bucket_column] == first]
    fit_builder(model, layout.read(first), rows[list(KEYS)], merged)
    set_events(model, None)
    # the "typical" values of reason texts: medians of every bucket's rows
    fraction = reference_fraction(int(X.map_partitions(len).compute().sum()))
    tasks = [
        dask.delayed(_partition_reference)(p, layout, model, fraction)
        for p in X.to_delayed()
    ]
    set_reference(model, [f for group in dask.compute(*tasks) for f in group])
    return _feature_step(model)


def _partition_reference(part, layout, model, fraction):
    """[bucket_reference of each bucket of one partition]."""
    from churnkit.distributed import bucket_reference

    buckets = part[bucket_column].to_numpy()
    rows = part[list(KEYS)]
    return [
        bucket_reference(
            model, layout.read(int(b)), rows[buckets == b], fraction=fraction
        )
        for b in np.unique(buckets)
    ]


def _bucket_statistics(layout, bucket, rows, max_cutoff):
    from churnkit.distributed import fit_statistics

    stats = fit_statistics(layout.read(bucket), rows, max_cutoff=max_cutoff)
    return bucket, stats


def _partition_statistics(part, layout, max_cutoff):
    """[(bucket, statistics)] of the buckets of one partition."""
    if len(part) == 0:
        return []
    buckets = part[bucket_column].to_numpy()
    return [
        _bucket_statistics(layout, int(b), part[buckets == b][list(KEYS)], max_cutoff)
        for b in np.unique(buckets)
    ]


def _features(events, rows, *, model, passthrough):
    from churnkit.distributed import bucket_features

    out = keys_first(bucket_features(model, events, rows[list(KEYS)]))
    out = out.drop(columns=[bucket_column], errors="ignore")
    extra = rows[passthrough].reset_index(drop=True)
    return pd.concat([out[list(KEYS)], extra, out.drop(columns=list(KEYS))], axis=1)


def compute_features(model, layout, X):
    """Features of every row of ``X``, bucket by bucket, on the cluster.

    Parameters
    ----------
    model : feature builder or Pipeline
        A builder (``ck.ChurnFeatures``...) or a ``make_churn_pipeline``
        whose first step is one. When it is not fitted yet, it is fitted
        first with :func:`fit_feature_step` (statistics of all buckets).
    layout : Layout or str
        The layout the rows' customers are in.
    X : dask.dataframe.DataFrame or DataFrame
        Columns ``customer_id``, ``cutoff_time`` (``bucket`` when it came
        from :func:`make_cutoffs` / :func:`label_churn`); its other columns
        (the label) are kept.

    Returns
    -------
    dask.dataframe.DataFrame
        ``customer_id``, ``cutoff_time``, ``X``'s other columns, then the
        features (same names, values and dtypes as the single-machine
        ``transform``), and ``bucket``. With ``X`` from :func:`make_cutoffs`
        or :func:`label_churn` (its ``bucket`` column), rows in ``X``'s order,
        partitions as ``X``'s; any other ``X`` (a pandas frame) is shuffled by
        bucket first, so match the rows to it on ``customer_id`` and
        ``cutoff_time``, never by position.

    Examples
    --------
    >>> import tempfile, dask, churnkit as ck, churnkit.dask as ckd
    >>> events = ck.datasets.make_saas_events(n_customers=60, random_state=0).events
    >>> layout = ckd.write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> cutoffs = ckd.make_cutoffs(layout, start="2024-03-01", end="2024-05-01")
    >>> builder = ck.ChurnFeatures(None, windows=("30D",))
    >>> with dask.config.set(scheduler="sync"):
    ...     features = ckd.compute_features(builder, layout, cutoffs).compute()
    >>> features.shape[1] == 3 + len(builder.get_feature_names_out())
    True
    """
    layout = as_layout(layout)
    X = by_bucket(X, layout)
    builder = _feature_step(model)
    if not _is_fitted(builder):
        fit_feature_step(model, layout, X)
    passthrough = [c for c in X.columns if c not in (*KEYS, bucket_column)]
    names = set(builder.get_feature_names_out())
    clash = sorted(names & set(passthrough))
    if clash:
        raise SchemaError(
            f"X's column(s) {clash} have the names of features; rename them in X."
        )
    kwargs = {"model": _shipped(builder), "passthrough": passthrough}
    return map_rows(X, layout, _features, kwargs)


def _shipped(model):
    """A copy of ``model`` without its Events store, for the task graph: each
    task attaches its bucket's store, and a model fitted on one machine
    carried the whole store into every graph ("Sending large graph of size
    17.7 MiB" on fightchurn). The caller's model keeps its store."""
    from churnkit.spark._frames import detached  # pyspark is not imported

    return detached(model)


def _scores(events, rows, *, model, explain):
    from churnkit.distributed import bucket_scores

    out = bucket_scores(model, events, rows[list(KEYS)], explain=explain)
    return keys_first(out).drop(columns=[bucket_column], errors="ignore")


def score(model, layout, X, *, explain=0):
    """Churn probabilities (and reasons) of every row of ``X``, per bucket.

    Parameters
    ----------
    model : Pipeline
        A fitted ``make_churn_pipeline`` (fitted on one machine or on the
        cluster: the same object).
    layout : Layout or str
        The layout the rows' customers are in.
    X : dask.dataframe.DataFrame or DataFrame
        Columns ``customer_id`` and ``cutoff_time``.
    explain : int, default=0
        Reasons per row (``ck.ChurnExplainer``): ``reason_1`` .. ``reason_k``
        with their group and points columns.

    Returns
    -------
    dask.dataframe.DataFrame
        ``customer_id``, ``cutoff_time``, ``churn_probability`` (and the
        reasons), ``bucket``. Rows in ``X``'s order when ``X`` has its
        ``bucket`` column (from :func:`make_cutoffs`); any other ``X`` (a
        pandas frame) is shuffled by bucket first: match the scores to it on
        ``customer_id`` and ``cutoff_time``, never by position. Write it with
        :func:`write_results`.
    """
    layout = as_layout(layout)
    X = by_bucket(X, layout)
    kwargs = {"model": _shipped(model), "explain": int(explain)}
    return map_rows(X, layout, _scores, kwargs)

"""Fit a churn pipeline on a layout with Spark: vocabularies of all buckets,
features per bucket, xgboost.spark boosting; an ordinary fitted pipeline."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME, check_int
from churnkit.distributed import (
    bucket_column,
    bucket_features,
    bucket_reference,
    fit_builder,
    fit_statistics,
    merge_statistics,
    reference_fraction,
    set_reference,
)
from churnkit.distributed._planning import planning
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.features import set_events
from churnkit.models._engine_fit import fit_on_engine
from churnkit.spark._frames import (
    check_bucket,
    cutoff_frame,
    detached,
    import_pyspark,
    probe,
    restore_dtypes,
    session_of,
    with_bucket,
)
from churnkit.spark._steps import compute_features
from churnkit.spark._trainer import SparkTrainer

__all__ = ["fit", "fit_features"]


def _with_bucket(X, layout):
    import_pyspark()
    session_of(X)
    missing = [c for c in (CUSTOMER_ID, CUTOFF_TIME) if c not in X.columns]
    if missing:
        raise SchemaError(
            f"The cutoff table lacks the column(s) {missing}; it has {X.columns}."
        )
    return X if bucket_column in X.columns else with_bucket(X, layout.n_buckets)


def fit_features(builder, layout, X, *, horizon=None):
    """Fit a feature builder on a layout, learning from every bucket.

    What a builder learns from the store at ``fit`` (event kinds, plans and
    categories before the latest cutoff, their counts, the windows of
    ``windows="auto"``) is measured on every bucket of the layout, with or
    without training rows (:func:`churnkit.distributed.fit_statistics`, one
    pandas call per bucket), merged on the driver and used to fit the builder
    (:func:`churnkit.distributed.fit_builder`): the fitted builder equals one
    fitted on the whole data on one machine.

    Parameters
    ----------
    builder : estimator
        An unfitted :class:`~churnkit.ChurnFeatures` (or another builder), or
        a pipeline from :func:`churnkit.make_churn_pipeline` (its feature step
        is fitted, the classifier left as it is). It is changed in place.
    layout : Layout
        The layout.
    X : Spark DataFrame
        The training cutoff table (``customer_id``, ``cutoff_time``).
    horizon : str, default=None
        The label horizon of the rows (``label_churn(horizon=...)``), which
        ``windows="auto"`` scales to. On one machine ``X.attrs["horizon"]``
        carries it; a Spark table cannot, so pass it.

    Returns
    -------
    builder : estimator
        ``builder``, fitted, without an Events store attached (attach one
        with :func:`churnkit.set_events` to transform on one machine).

    Examples
    --------
    >>> import churnkit as ck, churnkit.spark as cks
    >>> features = cks.fit_features(ck.ChurnFeatures(None), layout, cutoffs,
    ...                             horizon="30D")  # doctest: +SKIP
    """
    from pyspark.sql.functions import max as spark_max

    X = _with_bucket(X, layout)
    step = builder.steps[0][1] if isinstance(builder, Pipeline) else builder
    if not hasattr(step, "fit"):
        raise ChurnkitTypeError(
            f"fit_features needs a feature builder or a churn pipeline; got "
            f"{type(builder).__name__}."
        )
    X = X.select(CUSTOMER_ID, CUTOFF_TIME, bucket_column)
    latest = X.agg(spark_max(CUTOFF_TIME)).collect()[0][0]
    if latest is None:
        raise SchemaError("The training cutoff table has no rows.")
    latest = pd.Timestamp(latest)
    session = session_of(X)
    buckets = session.createDataFrame(
        pd.DataFrame({bucket_column: np.asarray(layout.buckets, np.int32)})
    )
    n_buckets = layout.n_buckets

    def measure(marker: pd.DataFrame, pdf: pd.DataFrame) -> pd.DataFrame:
        # every bucket of the layout (marker), with its training rows (pdf)
        if len(marker):
            bucket = int(marker[bucket_column].iloc[0])
        else:
            bucket = int(pdf[bucket_column].iloc[0])
        if len(pdf):
            check_bucket(pdf, bucket, layout, n_buckets)
        rows = cutoff_frame(pdf)
        if horizon is not None:
            rows.attrs["horizon"] = horizon
        stats = fit_statistics(layout.read(bucket), rows, max_cutoff=latest)
        blob = pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL)
        return pd.DataFrame(
            {bucket_column: [np.int32(bucket)], "rows": [len(pdf)], "stats": [blob]}
        )

    parts = (
        buckets.groupBy(bucket_column)
        .cogroup(X.groupBy(bucket_column))
        .applyInPandas(measure, f"{bucket_column} int, rows long, stats binary")
        .toPandas()
        .sort_values(bucket_column)
    )
    merged = merge_statistics([pickle.loads(bytes(b)) for b in parts["stats"]])
    first = int(parts.loc[parts["rows"] > 0, bucket_column].iloc[0])
    rows = cutoff_frame(
        X.filter(X[bucket_column] == first).select(CUSTOMER_ID, CUTOFF_TIME).toPandas()
    )
    if horizon is not None:
        rows.attrs["horizon"] = horizon
    fit_builder(step, layout.read(first), rows, merged)
    set_events(builder, None)
    # the "typical" values of reason texts: medians of every bucket's rows
    fraction = reference_fraction(int(parts["rows"].sum()))

    def reference(pdf: pd.DataFrame) -> pd.DataFrame:
        bucket = int(pdf[bucket_column].iloc[0])
        frame = bucket_reference(
            step, layout.read(bucket), cutoff_frame(pdf), fraction=fraction
        )
        blob = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        return pd.DataFrame({bucket_column: [np.int32(bucket)], "rows": [blob]})

    blobs = (
        X.groupBy(bucket_column)
        .applyInPandas(reference, f"{bucket_column} int, rows binary")
        .toPandas()
        .sort_values(bucket_column)
    )
    set_reference(step, [pickle.loads(bytes(b)) for b in blobs["rows"]])
    return builder


def _counts_and_sample(features, template, label, sample_rows, seed):
    """Rows per (cutoff, label) over all rows, and a pandas sample of rows."""
    counts = (
        features.groupBy(CUTOFF_TIME, label)
        .count()
        .toPandas()
        .rename(columns={label: "label", "count": "n_rows"})
    )
    counts[CUTOFF_TIME] = pd.to_datetime(counts[CUTOFF_TIME]).astype("datetime64[ns]")
    total = int(counts["n_rows"].sum())
    sample = features
    if total > sample_rows:
        sample = features.sample(
            fraction=min(1.0, 1.1 * sample_rows / total), seed=seed
        )
    rows = sample.drop(bucket_column).toPandas()
    rows[CUTOFF_TIME] = pd.to_datetime(rows[CUTOFF_TIME]).astype("datetime64[ns]")
    rows = rows.sort_values([CUTOFF_TIME, CUSTOMER_ID], kind="stable")
    y = rows.pop(label).to_numpy()
    keys = pd.MultiIndex.from_frame(rows[[CUSTOMER_ID, CUTOFF_TIME]])
    frame = restore_dtypes(rows.drop(columns=[CUSTOMER_ID, CUTOFF_TIME]), template)
    frame.index = keys
    return counts[[CUTOFF_TIME, "label", "n_rows"]], frame, y


def fit(
    model,
    layout,
    labels,
    *,
    label="churned",
    horizon=None,
    num_workers=None,
    sample_rows=200_000,
    **spark_params,
):
    """Fit a churn pipeline on a layout with Spark.

    1. The feature step is fitted with the statistics of all buckets
       (:func:`fit_features`).
    2. The features of every labelled row are computed per bucket and cached.
    3. The classifier: ``model="xgboost"`` boosts with
       :class:`xgboost.spark.SparkXGBClassifier` through :class:`SparkTrainer`
       (churnkit's hold-out of the latest cutoffs, early stopping, sigmoid
       calibrator and refit, decided on the driver from counts); column types
       and categorical levels are learned on a random sample of about
       ``sample_rows`` rows (every row when there are fewer). Other models
       (``"logistic"``, an estimator) are fitted on that sample, collected to
       the driver.

    The result is an ordinary fitted pipeline (no Spark object inside): it
    pickles, saves with :func:`churnkit.save`, scores on one machine after
    :func:`churnkit.set_events`, or on Spark with :func:`score`.

    Parameters
    ----------
    model : Pipeline
        An unfitted pipeline from :func:`churnkit.make_churn_pipeline` (its
        ``events`` may be None). It is changed in place.
    layout : Layout
        The layout.
    labels : Spark DataFrame
        ``customer_id``, ``cutoff_time`` and the label, e.g. from
        :func:`label_churn`.
    label : str, default="churned"
        The label column.
    horizon : str, default=None
        The label horizon (``label_churn(horizon=...)``) that the feature
        windows of ``windows="auto"`` scale to (see :func:`fit_features`).
    num_workers : int, default=None
        xgboost workers; by default the session's default parallelism.
    sample_rows : int, default=200_000
        About how many feature rows are collected to the driver (see above).
    **spark_params
        Further :class:`xgboost.spark.SparkXGBClassifier` parameters.

    Returns
    -------
    model : Pipeline
        ``model``, fitted, without an Events store attached.

    Notes
    -----
    With xgboost the probabilities are close to, not equal to, a
    single-machine fit on the same rows: distributed ``hist`` training builds
    its quantile sketch per worker and row subsampling draws per worker.

    Examples
    --------
    >>> import churnkit as ck, churnkit.spark as cks
    >>> model = ck.make_churn_pipeline(None, model="xgboost", random_state=0)
    >>> model = cks.fit(model, layout, labels, horizon="30D")  # doctest: +SKIP
    >>> scores = cks.score(model, layout, today)  # doctest: +SKIP
    """
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        raise ChurnkitTypeError(
            "fit needs a pipeline from ck.make_churn_pipeline (features, then "
            f"the classifier); got {type(model).__name__}. Fit a lone feature "
            "builder with fit_features."
        )
    sample_rows = check_int(sample_rows, "sample_rows")
    labels = _with_bucket(labels, layout)
    if label not in labels.columns:
        raise SchemaError(
            f"The labels table has no {label!r} column; it has {labels.columns}. "
            "Pass `label=` the name of the 0/1 label column."
        )
    fit_features(model, layout, labels, horizon=horizon)
    step = model.steps[0][1]
    clf = model.steps[-1][1]
    events, rows = probe(layout)
    with planning(None):
        template = bucket_features(detached(step), events, rows)
    features = compute_features(step, layout, labels, keep=(label,)).persist()
    trainer = None
    try:
        counts, sample, y = _counts_and_sample(
            features, template, label, sample_rows, seed=0
        )
        is_xgboost = getattr(clf, "model", None) == "xgboost"
        if is_xgboost and getattr(clf, "class_weight", None) is None:
            trainer = SparkTrainer(
                features,
                template,
                label=label,
                num_workers=num_workers,
                **spark_params,
            )
            fit_on_engine(model, sample, counts, trainer, sample_y=y)
        else:  # a linear model gains little from more rows than the sample
            clf.fit(sample, y)
    finally:
        if trainer is not None:
            trainer.release()
        features.unpersist()
    set_events(model, None)
    return model

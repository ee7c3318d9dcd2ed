"""The "typical" values of reason texts, from the training rows of every bucket.

A churn pipeline fitted on one machine stores, in its feature step,
``reference_``: the median of each feature (most frequent level of a
categorical one) per tenure band of the training rows, which explanations
quote as "typical" (``ChurnFeatures.fit_transform``). A builder fitted from
buckets (:func:`~churnkit.distributed.fit_builder`) sees one bucket's rows, so
the medians are gathered here: each bucket returns the features of its
training rows (all of them, or a sample when there are many) with their
tenure band (:func:`bucket_reference`), and :func:`set_reference` computes the
medians of the union on the driver. Without it, an explanation would fall back
on the medians of the rows it explains, and the same account would read other
"typical" values in another bucket.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.distributed._manifest import bucket_column
from churnkit.distributed._work import attached
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.features._reference import tenure_band, tenure_days, typical_by_band

__all__ = ["REFERENCE_ROWS", "bucket_reference", "reference_fraction", "set_reference"]

#: Training rows whose features are gathered, at most (in expectation). Up to
#: this many the reference equals the single machine's exactly; beyond, the
#: medians are those of a uniform sample of about this many rows (a median of
#: 200,000 values is within a fraction of a percentile of the full one, and
#: reason texts round it).
REFERENCE_ROWS = 200_000
BAND = "tenure_band"
_KEYS = [CUSTOMER_ID, CUTOFF_TIME]


def _builder(model):
    """The feature builder: a pipeline's first step (whose outputs the
    explainer's "typical" values describe), or the builder itself."""
    steps = getattr(model, "steps", None)
    return steps[0][1] if steps else model


def reference_fraction(n_rows: int, max_rows: int = REFERENCE_ROWS) -> float:
    """The share of the training rows :func:`bucket_reference` keeps.

    Parameters
    ----------
    n_rows : int
        Training rows of every bucket together.
    max_rows : int, default=REFERENCE_ROWS
        Rows to keep, at most (in expectation).

    Returns
    -------
    float
        1.0 up to ``max_rows`` rows (all kept: the reference is exact), else
        ``max_rows / n_rows``.

    Examples
    --------
    >>> from churnkit.distributed import reference_fraction
    >>> reference_fraction(50_000), reference_fraction(800_000)
    (1.0, 0.25)
    """
    return 1.0 if n_rows <= max_rows else max_rows / n_rows


def _sampled(X: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """A uniform sample of ``X``'s rows chosen by a hash of the row's keys.

    The same rows are kept whatever the engine, partitioning or row order.
    """
    if fraction >= 1.0:
        return X
    hashed = pd.util.hash_pandas_object(X[_KEYS], index=False).to_numpy()
    return X[hashed < np.uint64(fraction * np.iinfo(np.uint64).max)]


def bucket_reference(model, events, X, *, fraction: float = 1.0) -> pd.DataFrame:
    """Features of one bucket's training rows (or a sample), with their tenure band.

    Parameters
    ----------
    model : estimator
        The fitted builder, or a pipeline whose feature step is fitted
        (:func:`~churnkit.distributed.fit_builder`); not changed.
    events : Events
        The bucket's store.
    X : DataFrame
        The bucket's training rows (``customer_id``, ``cutoff_time``).
    fraction : float, default=1.0
        Share of the rows kept (:func:`reference_fraction` of the number of
        training rows of every bucket), chosen by a hash of their keys.

    Returns
    -------
    DataFrame
        ``customer_id``, ``cutoff_time``, the features and ``tenure_band``;
        give the frames of every bucket to :func:`set_reference`.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import (bucket_reference, fit_builder,
    ...     fit_statistics, set_reference, write_layout)
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> bucket = write_layout(events, tempfile.mkdtemp(), n_buckets=1).read(0)
    >>> X = ck.make_cutoffs(bucket, start="2024-03-01", end="2024-06-01")
    >>> features = fit_builder(ck.ChurnFeatures(), bucket, X, fit_statistics(bucket, X))
    >>> rows = bucket_reference(features, bucket, X)
    >>> rows.columns[-1], len(rows) == len(X)
    ('tenure_band', True)
    >>> table = set_reference(features, [rows])
    >>> table.index.name, features.reference_ is table
    ('tenure_band', True)
    """
    if not 0.0 < fraction <= 1.0:
        raise SchemaError(f"`fraction` must be in (0, 1]; got {fraction!r}.")
    step = attached(_builder(model), events)
    rows = _sampled(X.drop(columns=[bucket_column], errors="ignore"), fraction)
    features = step.transform(rows[_KEYS])
    if not isinstance(features, pd.DataFrame):
        raise ChurnkitTypeError(
            "bucket_reference: the feature step returned "
            f"{type(features).__name__}, not a DataFrame."
        )
    bands = tenure_band(tenure_days(events, features.index))
    out = features.reset_index()
    out[BAND] = bands
    return out


def set_reference(model, parts) -> pd.DataFrame:
    """Compute the reference of the gathered rows and store it on the builder.

    Parameters
    ----------
    model : estimator
        The builder (or pipeline) fitted with
        :func:`~churnkit.distributed.fit_builder`; its feature step gets
        ``reference_`` (as ``ChurnFeatures.fit_transform`` sets it).
    parts : list of DataFrame
        :func:`bucket_reference` of every bucket with training rows.

    Returns
    -------
    DataFrame
        The reference table (tenure bands x features).

    Examples
    --------
    See :func:`bucket_reference`.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        raise SchemaError("No training rows to compute the typical values from.")
    # rows in key order, as a whole-store fit on key-ordered rows sees them
    rows = pd.concat(parts, ignore_index=True).sort_values(_KEYS, kind="stable")
    bands = rows.pop(BAND).to_numpy()
    features = rows.drop(columns=_KEYS)
    for column in features.columns:  # categories as the single machine has them
        first = parts[0][column].dtype
        if isinstance(first, pd.CategoricalDtype) and features[column].dtype != first:
            features[column] = features[column].astype(first)
    table = typical_by_band(features.reset_index(drop=True), bands)
    _builder(model).reference_ = table
    return table

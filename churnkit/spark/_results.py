"""Write Spark results (features, labels, scores) as a partitioned dataset."""

from __future__ import annotations

import importlib.util
import os

from churnkit._validation import check_choice
from churnkit.distributed import bucket_column
from churnkit.spark._frames import session_of

__all__ = ["delta_available", "write_results"]


def delta_available(spark=None) -> bool:
    """Whether results can be written as Delta tables in this session.

    True when the ``delta`` package (delta-spark) is importable and the
    session can write Delta: its ``spark.sql.extensions`` name Delta's
    extension, or it runs on Databricks (where Delta is built in).

    Parameters
    ----------
    spark : SparkSession, default=None
        The session; by default the active one (none: False).

    Returns
    -------
    bool
        Whether ``write_results(..., format="auto")`` writes Delta.

    Examples
    --------
    >>> from churnkit.spark import delta_available
    >>> isinstance(delta_available(), bool)
    True
    """
    if importlib.util.find_spec("delta") is None:
        return False
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        return True
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    session = spark or SparkSession.getActiveSession()
    if session is None:
        return False
    extensions = session.conf.get("spark.sql.extensions", "") or ""
    return "delta" in extensions.lower()


def write_results(
    frame, path, *, format="auto", partition_by=(bucket_column,), mode="overwrite"
):
    """Write a Spark result as a dataset partitioned by bucket: Delta or parquet.

    Parameters
    ----------
    frame : Spark DataFrame
        Features, labels or scores from :mod:`churnkit.spark`.
    path : str
        Where to write (any path Spark writes to: local, HDFS, S3, ADLS, a
        Databricks volume).
    format : {"auto", "delta", "parquet"}, default="auto"
        ``"auto"``: Delta when :func:`delta_available`, else parquet.
    partition_by : sequence of str, default=("bucket",)
        Partition columns (empty: none).
    mode : str, default="overwrite"
        Spark's save mode ("overwrite", "append", "error", "ignore").

    Returns
    -------
    str
        The format written, "delta" or "parquet".

    Examples
    --------
    >>> from churnkit.spark import write_results
    >>> write_results(scores, "/tmp/churn_scores")  # doctest: +SKIP
    'parquet'
    """
    format = check_choice(format, "format", ("auto", "delta", "parquet"))
    session = session_of(frame)
    if format == "auto":
        format = "delta" if delta_available(session) else "parquet"
    writer = frame.write.mode(mode).format(format)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(str(path))
    return format

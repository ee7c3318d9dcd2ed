"""Spark plumbing shared by the Spark steps: sessions, schemas, frames, buckets.

pyspark is imported inside the functions, so that ``import churnkit.spark``
works (and its docstrings are read) without it.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.distributed import bucket_column, bucket_of
from churnkit.distributed._planning import planning
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.features import set_events

__all__ = [
    "check_bucket",
    "conform",
    "detached",
    "cutoff_frame",
    "import_pyspark",
    "probe",
    "restore_dtypes",
    "schema_of",
    "session_of",
    "with_bucket",
]


def import_pyspark():
    """The ``pyspark.sql`` module, or an error saying how to install it."""
    try:
        import pyspark.sql
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "churnkit.spark needs pyspark (and a Java runtime): "
            "pip install 'churnkit[spark]'."
        ) from exc
    return pyspark.sql


def session_of(frame=None, spark=None):
    """The Spark session of ``frame``, else ``spark``, else the active one."""
    sql = import_pyspark()
    if frame is not None:
        if not isinstance(frame, sql.DataFrame):
            raise ChurnkitTypeError(
                "Expected a Spark DataFrame (pyspark.sql.DataFrame); got "
                f"{type(frame).__name__}. Make one with spark.createDataFrame(df) "
                "or spark.read.parquet(path)."
            )
        return frame.sparkSession
    if spark is not None:
        return spark
    active = sql.SparkSession.getActiveSession()
    if active is None:
        raise SchemaError(
            "No active Spark session: pass `spark=` or create one first, e.g. "
            "SparkSession.builder.master('local[2]').getOrCreate()."
        )
    return active


def detached(model):
    """A copy of ``model`` without its Events store, to ship to the executors.

    ``copy.deepcopy`` keeps the store (events are data, not parameters); the
    copy is then detached, so the store a model was fitted or scored with on
    the driver is never pickled into a Spark task. The original is untouched.
    """
    ship = copy.deepcopy(model)
    set_events(ship, None)
    return ship


def _spark_type(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp_ntz"
    return "string"  # text, Categorical (its levels as text), objects


def schema_of(frame: pd.DataFrame) -> str:
    """The Spark DDL schema of a pandas frame's columns (see :func:`conform`).

    Numbers stay numbers (int64 -> bigint, float -> double), times are
    ``timestamp_ntz`` (wall-clock, so the session's time zone never shifts
    them), and text and Categorical columns are strings.
    """
    return ", ".join(f"`{c}` {_spark_type(frame[c].dtype)}" for c in frame.columns)


def conform(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``frame[columns]`` as Arrow hands it to Spark under :func:`schema_of`."""
    out = {}
    for name in columns:
        values = frame[name]
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            levels = np.asarray(dtype.categories.astype(str), dtype=object)
            codes = np.asarray(values.cat.codes)
            text = np.append(levels, None)[np.where(codes < 0, len(levels), codes)]
            out[name] = text
        elif pd.api.types.is_datetime64_dtype(dtype):
            out[name] = values.to_numpy("datetime64[ns]")
        elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            out[name] = values.to_numpy()
        else:
            text = values.astype(object).to_numpy()
            missing = np.asarray(pd.isna(values))
            if missing.any():
                text = text.copy()
                text[missing] = None
            out[name] = text
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def restore_dtypes(frame: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """Rows collected from Spark back to the dtypes of a churnkit output.

    ``template`` is an output of the same step (e.g. one bucket's features):
    its Categorical columns get their fixed levels back, numbers their dtype,
    times ``datetime64[ns]``; its ``attrs`` (the builder's feature directions)
    are copied.
    """
    out = {}
    for name in frame.columns:
        values = frame[name]
        if name in template.columns:
            dtype = template[name].dtype
            if isinstance(dtype, pd.CategoricalDtype):
                values = pd.Categorical(_as_levels(values, dtype), dtype=dtype)
            elif pd.api.types.is_datetime64_dtype(dtype):
                values = pd.to_datetime(values).astype("datetime64[ns]")
            elif pd.api.types.is_numeric_dtype(dtype):
                values = values.astype(dtype)
        out[name] = values
    restored = pd.DataFrame(out, index=frame.index)
    restored.attrs = copy.deepcopy(template.attrs)
    return restored


def _as_levels(values: pd.Series, dtype: pd.CategoricalDtype):
    """Text values mapped back to a Categorical's levels (which may be numbers)."""
    levels = dtype.categories
    if pd.api.types.is_string_dtype(levels.dtype) or levels.dtype == object:
        return values
    codes = pd.Index(levels.astype(str)).get_indexer(values.astype(object))
    return pd.Categorical.from_codes(codes, dtype=dtype)


def with_bucket(frame, n_buckets: int, *, table: str = "X", id_column=CUSTOMER_ID):
    """``frame`` with a ``bucket`` column: :func:`bucket_of` of its customer ids.

    A Python UDF (vectorised, pandas) computes the bucket of each row; Spark
    never hashes ids itself, so churnkit and Spark agree on every bucket.
    """
    sql = import_pyspark()
    from pyspark.sql.functions import col, pandas_udf

    if id_column not in frame.columns:
        raise SchemaError(
            f"The {table} table has no {id_column!r} column; its columns are "
            f"{frame.columns[:10]}. Rename the customer id column (or map it with "
            "`columns=`)."
        )
    n = int(n_buckets)

    @pandas_udf("int")
    def _bucket(ids: pd.Series) -> pd.Series:
        if ids.isna().any():
            raise SchemaError(
                f"Table {table!r}, column {id_column!r}: {int(ids.isna().sum())} "
                "null customer id(s) in one block; every row needs an id to be "
                "given a bucket. Drop or fill them before writing."
            )
        return pd.Series(bucket_of(ids, n))

    assert isinstance(frame, sql.DataFrame)
    return frame.withColumn(bucket_column, _bucket(col(f"`{id_column}`")))


def check_cutoff_table(X, layout, keep=()) -> None:
    """Driver-side checks of a Spark cutoff table: its columns, and ids of the
    layout's type. Found inside an executor they came back as a Java stack
    (AnalysisException, PythonException) with the message buried in it."""
    missing = [c for c in (CUSTOMER_ID, CUTOFF_TIME, *keep) if c not in X.columns]
    if missing:
        raise SchemaError(
            f"The cutoff table lacks the column(s) {missing}; it has {X.columns}. "
            "It needs customer_id and cutoff_time (as make_cutoffs returns them)."
        )
    if not layout.buckets:
        return
    ours = X.schema[CUSTOMER_ID].dataType.simpleString()
    theirs = layout.read(layout.buckets[0]).customers[CUSTOMER_ID].dtype
    text_here = ours in ("string", "varchar") or ours.startswith(("char", "varchar"))
    text_there = not pd.api.types.is_numeric_dtype(theirs)
    if text_here != text_there:
        cast = "string" if text_there else "long"
        raise SchemaError(
            f"The cutoff table's customer_id is {ours} but the layout's ids are "
            f"{theirs}: no row would match a customer. Cast them, e.g. "
            f"X.withColumn('customer_id', X['customer_id'].cast('{cast}'))."
        )


def probe(layout):
    """One bucket's store and a one-row cutoff table of it, for output schemas.

    The row is not the user's: compute on it inside ``planning(None)``."""
    if not layout.buckets:
        raise SchemaError(f"Layout {str(layout.path)!r} holds no customer.")
    bucket = layout.buckets[0]
    with planning(f"bucket {bucket} ({len(layout.buckets)} buckets)"):
        events = layout.read(bucket)
    first = events.customers[CUSTOMER_ID].iloc[:1].to_numpy()
    until = layout.observed_until
    cutoff = until if until is not None else pd.Timestamp("2000-01-01")
    X = pd.DataFrame({CUSTOMER_ID: first, CUTOFF_TIME: [pd.Timestamp(cutoff)]})
    return events, X


def check_bucket(pdf, bucket, layout, n_buckets):
    """Errors for cutoff rows of a wrong bucket, or of customers the layout lacks."""
    ids = pdf[CUSTOMER_ID]
    wrong = bucket_of(ids, n_buckets) != bucket
    if wrong.any():
        raise SchemaError(
            f"Column {bucket_column!r} of the cutoff table disagrees with "
            f"bucket_of(customer_id, {n_buckets}) for {int(wrong.sum())} row(s), "
            f"e.g. customers {list(ids[wrong][:3])}. Drop the column (churnkit "
            "computes it) or compute it with the layout's n_buckets."
        )
    if bucket not in layout.buckets:
        raise SchemaError(
            f"The cutoff table has customers the layout {str(layout.path)!r} does "
            f"not hold, e.g. {list(ids[:3])} (bucket {bucket}, which is empty). "
            "Score only customers of the layout."
        )


def cutoff_frame(pdf: pd.DataFrame) -> pd.DataFrame:
    """The cutoff table of one Spark group: customer_id and cutoff_time."""
    times = pd.to_datetime(pdf[CUTOFF_TIME])
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.DataFrame(
        {
            CUSTOMER_ID: pdf[CUSTOMER_ID].to_numpy(),
            CUTOFF_TIME: times.astype("datetime64[ns]").to_numpy(),
        }
    )

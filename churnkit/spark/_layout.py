"""Write the partitioned layout from Spark DataFrames (or an Events store)."""

from __future__ import annotations

from pathlib import Path

from churnkit.distributed import (
    bucket_column,
    open_layout,
    write_manifest,
)
from churnkit.distributed import write_layout as write_local_layout
from churnkit.distributed._hash import check_n_buckets
from churnkit.distributed._ids import check_id_kinds
from churnkit.distributed._manifest import prepare_folder
from churnkit.events import Events
from churnkit.events._columns import check_mapping
from churnkit.events._tables import CONTRACTS
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.spark._frames import import_pyspark, with_bucket

__all__ = ["write_layout"]

# extra time columns a table may carry besides its contract's
_EXTRA_TIMES = {"subscriptions": ("cancel_time", "canceled_at")}


def write_layout(
    source,
    path,
    *,
    n_buckets=64,
    overwrite=False,
    columns=None,
    grace="0D",
    observed_until=None,
    errors="raise",
    unknown_customers=None,
):
    """Write event tables held by Spark as a layout partitioned by customer bucket.

    Each Spark DataFrame gets a ``bucket`` column
    (:func:`churnkit.distributed.bucket_of` of its ``customer_id``, computed
    by a pandas UDF so that Spark and churnkit agree on every bucket), is
    repartitioned by it, sorted by (bucket, customer_id, time) within
    partitions and written with ``write.partitionBy("bucket").parquet``, one
    folder per table: ``<path>/<table>/bucket=<k>/part-*.parquet``. The
    manifest (:func:`churnkit.distributed.write_manifest`), with the global
    ``observed_until``, is written last. Spark does not validate the rows:
    each bucket's ``Events`` store does when it is read, with the same rules
    and errors as on one machine.

    Parameters
    ----------
    source : dict of Spark DataFrame, dict of DataFrame or Events
        ``{"customers": sdf, "usage": sdf, ...}`` with churnkit's column names
        (or yours, mapped by ``columns``). A dict of pandas tables or an Events
        store is written on the driver by
        :func:`churnkit.distributed.write_layout` (no Spark job).
    path : str or Path
        The layout folder: a path that both Spark and Python's file API reach
        (local disk or NFS; on Databricks a ``/Volumes/...`` path).
    n_buckets : int, default=64
        The number of hash buckets; a few times the number of Spark cores, so
        that every task holds a few buckets and a bucket fits a worker.
    overwrite : bool, default=False
        Replace a layout already in ``path``.
    columns : dict, default=None
        Per table, your column names -> churnkit's (``Events(columns=...)``);
        the files are written with churnkit's names. A column mapped to None
        is not written.
    grace : str, default="0D"
        ``Events(grace=...)`` of every bucket.
    observed_until : str or Timestamp, default=None
        The exclusive end of the whole data set. By default read from the
        written files with the rules of ``Events`` (one pass over their time
        columns on the driver); set it when you know the extract's end.
    errors, unknown_customers : str, default="raise", None
        ``Events(errors=..., unknown_customers=...)`` of every bucket.

    Returns
    -------
    Layout
        The layout written (:func:`churnkit.distributed.open_layout`).

    See Also
    --------
    churnkit.distributed.write_layout : The same from pandas tables or an
        Events store, in one process.

    Notes
    -----
    Time columns of Spark type ``timestamp`` or ``date`` are written as
    ``timestamp_ntz``: the wall-clock times shown in your session's time zone,
    which is what a single-machine run on ``toPandas()`` of the same tables
    sees.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> import churnkit.spark as cks
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> tables = {"customers": spark.createDataFrame(data.customers),
    ...           "usage": spark.createDataFrame(data.usage)}  # doctest: +SKIP
    >>> layout = cks.write_layout(tables, tempfile.mkdtemp(),
    ...                           n_buckets=8)  # doctest: +SKIP
    >>> layout.n_buckets  # doctest: +SKIP
    8
    """
    check_n_buckets(n_buckets)
    if isinstance(source, Events) or (
        isinstance(source, dict) and not _any_spark(source.values())
    ):
        options = {
            "columns": columns,
            "grace": grace,
            "observed_until": observed_until,
            "errors": errors,
            "unknown_customers": unknown_customers,
        }
        if isinstance(source, Events):
            options = {}
        return write_local_layout(
            source, path, n_buckets=n_buckets, overwrite=overwrite, **options
        )
    if not isinstance(source, dict):
        raise ChurnkitTypeError(
            "write_layout: `source` must be a dict of Spark DataFrames "
            "{'customers': sdf, 'usage': sdf, ...}, a dict of pandas tables or an "
            f"Events store; got {type(source).__name__}."
        )
    sql = import_pyspark()
    not_spark = [k for k, v in source.items() if not isinstance(v, sql.DataFrame)]
    if not_spark:
        raise ChurnkitTypeError(
            f"write_layout: tables {not_spark} are not Spark DataFrames while "
            "others are; pass all tables as Spark DataFrames (spark.createDataFrame"
            "(df)) or all as pandas."
        )
    unknown = sorted(set(source) - set(CONTRACTS))
    if unknown:
        raise SchemaError(
            f"write_layout: unknown table(s) {unknown}; tables are {list(CONTRACTS)}."
        )
    if "customers" not in source and "subscriptions" not in source:
        raise SchemaError(
            "write_layout needs a `customers` table (customer_id, signup_time) or "
            "a `subscriptions` table (customer_id, start, end)."
        )
    if columns is not None and not isinstance(columns, dict):
        raise ChurnkitTypeError(
            "`columns` must be a dict of per-table mappings, such as "
            f"{{'usage': {{'user_id': 'customer_id'}}}}; got {columns!r}."
        )
    tables = {
        name: _canonical(name, frame, (columns or {}).get(name))
        for name, frame in source.items()
    }
    check_id_kinds({name: _id_kind(frame) for name, frame in tables.items()})
    root = Path(path)
    prepare_folder(root, overwrite)
    for name, frame in tables.items():
        _write_table(frame, name, root, n_buckets)
    write_manifest(
        root,
        n_buckets=n_buckets,
        observed_until=observed_until,
        grace=grace,
        errors=errors,
        unknown_customers=unknown_customers,
    )
    return open_layout(root)


def _id_kind(frame) -> tuple[str, str]:
    """("number" | "text" | "unknown", type) of a Spark table's customer_id."""
    from pyspark.sql.types import NumericType, StringType

    dtype = frame.schema["customer_id"].dataType
    if isinstance(dtype, NumericType):
        return "number", dtype.simpleString()
    if isinstance(dtype, StringType):
        return "text", dtype.simpleString()
    return "unknown", dtype.simpleString()


def _any_spark(frames) -> bool:
    try:
        import pyspark.sql
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return any(isinstance(f, pyspark.sql.DataFrame) for f in frames)


def _canonical(name, frame, mapping):
    """One table with churnkit's column names and wall-clock times."""
    from pyspark.sql.functions import col
    from pyspark.sql.types import DateType, TimestampType

    if mapping:
        check_mapping(name, mapping, frame.columns)
        dropped = [c for c, target in mapping.items() if target is None]
        frame = frame.drop(*dropped)
        renames = {c: t for c, t in mapping.items() if t is not None and c != t}
        if renames:
            frame = frame.withColumnsRenamed(renames)
    contract = CONTRACTS[name]
    missing = [c for c in contract.required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"Table {name!r} lacks the required column(s) {missing}; its columns "
            f"are {frame.columns}. Rename them, or map yours with "
            f"`columns={{{name!r}: {{'your_name': {missing[0]!r}}}}}`."
        )
    times = (*contract.times, *_EXTRA_TIMES.get(name, ()))
    if name == "customers":
        times = ("signup_time",)
    types = {f.name: f.dataType for f in frame.schema.fields}
    casts = {
        c: col(f"`{c}`").cast("timestamp_ntz")
        for c in times
        if c in types and isinstance(types[c], TimestampType | DateType)
    }
    return frame.withColumns(casts) if casts else frame


def _write_table(frame, name: str, root: Path, n_buckets: int) -> None:
    """One table as ``<root>/<name>/bucket=<k>/part-*.parquet``, one file a bucket.

    Repartitioning by the bucket puts each bucket in one task, so each bucket
    folder gets one file, its rows sorted by (customer_id, time).
    """
    contract = CONTRACTS[name]
    order = [bucket_column, "customer_id"]
    if name != "customers" and contract.times and contract.times[0] in frame.columns:
        order.append(contract.times[0])
    bucketed = with_bucket(frame, n_buckets, table=name)
    (
        bucketed.repartition(int(n_buckets), bucket_column)
        .sortWithinPartitions(*order)
        .write.mode("overwrite")
        .partitionBy(bucket_column)
        .parquet(str(root / name))
    )

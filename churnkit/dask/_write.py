"""Writing with Dask: a layout from Dask DataFrames, results as parquet.

:func:`write_layout` adds each row's bucket with
:func:`~churnkit.distributed.bucket_of` in ``map_partitions``, shuffles the
rows so that each bucket is in one partition, sorts them by (customer_id,
time) and writes ``to_parquet(partition_on="bucket")``: the layout's
``<path>/<table>/bucket=<k>/part.<i>.parquet``; then
:func:`~churnkit.distributed.write_manifest` finishes the layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID
from churnkit.distributed import (
    bucket_column,
    bucket_of,
    open_layout,
    write_manifest,
)
from churnkit.distributed import write_layout as write_store_layout
from churnkit.distributed._hash import check_n_buckets
from churnkit.distributed._ids import check_id_kinds
from churnkit.distributed._manifest import RAW_TABLES as TABLES
from churnkit.distributed._manifest import prepare_folder
from churnkit.events import Events
from churnkit.events._idtypes import check_id_types
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["write_layout", "write_results"]

# the column each table is time-ordered by, under churnkit's names
TIME_COLUMN = {
    "customers": "signup_time",
    "usage": "time",
    "billing": "time",
    "support": "time",
    "churn": "time",
    "subscriptions": "start",
}


def _add_bucket(part, id_column, n_buckets, name):
    check_id_types(part[id_column], name)  # ints and text mixed: as Events
    return part.assign(
        **{bucket_column: bucket_of(part[id_column], n_buckets).astype(np.int32)}
    )


def _sort(part, keys):
    return part.sort_values(keys, kind="stable")


def _as_dask(name, table):
    import dask.dataframe as dd

    if isinstance(table, pd.DataFrame):
        return dd.from_pandas(table, npartitions=1, sort=False)
    if isinstance(table, str | Path):
        # partitions of ~64 MiB on disk: a worker shuffles a few at a time
        return dd.read_parquet(table, blocksize="64MiB")
    if isinstance(table, dd.DataFrame):
        return table
    raise ChurnkitTypeError(
        f"write_layout: table {name!r} must be a Dask or pandas DataFrame or a "
        f"parquet path; got {type(table).__name__}."
    )


def _renamed(name, table, columns):
    """``table`` under churnkit's column names; it must have a customer id."""
    mapping = (columns or {}).get(name) or {}
    dropped = [c for c, target in mapping.items() if target is None]
    table = table.drop(columns=[c for c in dropped if c in table.columns])
    table = table.rename(columns={c: t for c, t in mapping.items() if t is not None})
    id_column = CUSTOMER_ID
    if id_column not in table.columns:
        raise SchemaError(
            f"write_layout: table {name!r} has no customer id column "
            f"{id_column!r} (columns: {list(table.columns)[:8]}). Map yours with "
            f"columns={{{name!r}: {{'your_id': 'customer_id'}}}}."
        )
    return table


def _id_kind(table) -> tuple[str, str]:
    """("number" | "text" | "unknown", dtype) of a Dask table's customer_id."""
    dtype = table._meta[CUSTOMER_ID].dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return "number", str(dtype)
    if pd.api.types.is_string_dtype(dtype) and dtype != np.dtype(object):
        return "text", str(dtype)
    return "unknown", str(dtype)


def _write_table(name, table, root, n_buckets):
    """One table's ``bucket=<k>`` folders (churnkit's column names already)."""
    id_column = CUSTOMER_ID
    time_column = TIME_COLUMN[name]
    keys = [bucket_column, id_column]
    keys += [time_column] if time_column in table.columns else []
    meta = table._meta.assign(**{bucket_column: np.int32(0)})
    table = table.map_partitions(_add_bucket, id_column, n_buckets, name, meta=meta)
    npartitions = max(1, min(n_buckets, table.npartitions))
    table = table.shuffle(on=bucket_column, npartitions=npartitions)
    table = table.map_partitions(_sort, keys, meta=table._meta)
    table.to_parquet(
        root / name, partition_on=[bucket_column], write_index=False, overwrite=False
    )


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
    """Write a partitioned layout with Dask (or from an ``Events`` store).

    Parameters
    ----------
    source : Events or dict
        An Events store (written by :func:`churnkit.distributed.write_layout`
        in this process), or raw tables ``{"customers": ..., "usage": ...}``
        as Dask DataFrames, pandas DataFrames or parquet paths (read with
        ``dask.dataframe.read_parquet``), written by the cluster.
    path : str or Path
        The layout folder (created; must be empty unless ``overwrite``).
    n_buckets : int, default=64
        Hash buckets; a few times the number of workers.
    overwrite : bool, default=False
        Replace a layout already in ``path``.
    columns, grace, observed_until, errors, unknown_customers : optional
        ``Events`` options of raw tables, recorded in the manifest and used
        for every bucket's store; ``columns`` is applied while writing (the
        files hold churnkit's column names, without the columns mapped to
        None). ``observed_until`` defaults to just after
        the latest time of the WHOLE data set (read from the written files).

    Returns
    -------
    Layout
        The layout written (``churnkit.distributed.open_layout``).

    Examples
    --------
    >>> import tempfile, dask, churnkit as ck, churnkit.dask as ckd
    >>> data = ck.datasets.make_saas_events(n_customers=40, random_state=0)
    >>> tables = {"customers": data.events.customers,
    ...           "usage": data.events.frame("usage")}
    >>> with dask.config.set(scheduler="sync"):
    ...     layout = ckd.write_layout(tables, tempfile.mkdtemp(), n_buckets=4)
    >>> sum(layout.read(b).n_customers for b in layout.buckets)
    40
    """
    options = {
        "columns": columns,
        "grace": grace,
        "observed_until": observed_until,
        "errors": errors,
        "unknown_customers": unknown_customers,
    }
    if isinstance(source, Events):
        return write_store_layout(
            source, path, n_buckets=n_buckets, overwrite=overwrite
        )
    if not isinstance(source, dict):
        raise ChurnkitTypeError(
            "write_layout: `source` must be an Events store or a dict of tables "
            f"{{'customers': df, 'usage': df, ...}}; got {type(source).__name__}."
        )
    unknown = sorted(set(source) - set(TABLES))
    if unknown:
        raise SchemaError(
            f"write_layout: unknown table(s) {unknown}; tables are {list(TABLES)}."
        )
    check_n_buckets(n_buckets)
    root = Path(path)
    for name, table in source.items():  # before Dask turns object ids to text
        if isinstance(table, pd.DataFrame):
            mapping = (columns or {}).get(name) or {}
            given = {t: c for c, t in mapping.items() if t is not None}
            id_column = given.get(CUSTOMER_ID, CUSTOMER_ID)
            if id_column in table.columns:
                check_id_types(table[id_column].dropna(), name)
    tables = {
        name: _renamed(name, _as_dask(name, source[name]), columns)
        for name in TABLES
        if name in source
    }
    check_id_kinds({name: _id_kind(table) for name, table in tables.items()})
    prepare_folder(root, overwrite)
    for name, table in tables.items():
        _write_table(name, table, root, n_buckets)
    # the files hold churnkit's column names: every bucket reads them as they are
    write_manifest(root, n_buckets=n_buckets, **{**options, "columns": None})
    return open_layout(root)


def _text_dtype():
    """pandas' text dtype with NaN as missing (``"str"`` in pandas 3)."""
    try:
        return pd.StringDtype(na_value=np.nan)
    except TypeError:  # pragma: no cover - pandas < 2.3: missing is <NA>
        return pd.StringDtype()


def write_results(frame, path, *, overwrite=False):
    """Write a result frame as parquet partitioned by bucket.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
        Scores, features or labels from ``churnkit.dask`` (with ``bucket``).
    path : str or Path
        The dataset folder: ``<path>/bucket=<k>/part.<i>.parquet``.
    overwrite : bool, default=False
        Replace what is in ``path``.

    Returns
    -------
    Path
        ``path``; read it back with ``dask.dataframe.read_parquet`` or
        ``pandas.read_parquet``.
    """
    if bucket_column not in frame.columns:
        raise SchemaError(
            f"write_results: the frame has no {bucket_column!r} column; write a "
            "frame made by churnkit.dask (scores, features, labels)."
        )
    root = Path(path)
    if root.exists() and any(root.iterdir()) and not overwrite:
        raise SchemaError(
            f"{str(root)!r} is not empty; pass `overwrite=True` or another folder."
        )
    text = [c for c, t in frame.dtypes.items() if pd.api.types.is_object_dtype(t)]
    if text:  # reasons: text or missing; parquet needs a type, not "object"
        frame = frame.astype(dict.fromkeys(text, _text_dtype()))
    frame.to_parquet(
        root, partition_on=[bucket_column], write_index=False, overwrite=overwrite
    )
    return root

"""A layout written by another engine holds each customer in its own bucket.

:func:`~churnkit.distributed.write_manifest` finishes parquet files that
Dask or Spark wrote, bucketed by the user's code. A bucket computed another
way (``customer number % 8``, a different ``n_buckets``) or a customer split
over buckets is not an error anywhere else: each bucket's store sees part of
a customer, reads the rest as unknown customers, and features come out wrong
("Table 'usage': 49 row(s) belong to customers that are not in
`customers`"). This reads only the id column of each file and checks every
row's bucket against :func:`~churnkit.distributed.bucket_of`.
"""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from churnkit.distributed._hash import bucket_of
from churnkit.exceptions import SchemaError

__all__ = ["check_buckets"]


def _id_column(table: str, columns) -> str:
    """The id's name in the files: the source column mapped to customer_id."""
    mapping = (columns or {}).get(table) or {}
    return next((k for k, v in mapping.items() if v == "customer_id"), "customer_id")


def check_buckets(files_of: dict, n_buckets: int, columns=None) -> None:
    """Raise when a row's folder bucket is not ``bucket_of(its id)``.

    Parameters
    ----------
    files_of : dict
        ``{table: {bucket: [parquet files]}}``.
    n_buckets : int
        The layout's number of buckets.
    columns : dict, default=None
        ``Events(columns=...)`` of the layout (the files' own id name).
    """
    for table, buckets in files_of.items():
        name = _id_column(table, columns)
        for bucket, files in buckets.items():
            for path in files:
                if name not in pq.read_schema(path).names:
                    continue  # the bucket's own build names the missing column
                ids = pq.read_table(path, columns=[name]).column(0).to_pandas()
                ids = ids.dropna()
                wrong = bucket_of(ids, n_buckets) != bucket
                if wrong.any():
                    shown = ", ".join(repr(v) for v in ids[wrong].unique()[:3])
                    should = np.unique(bucket_of(ids[wrong], n_buckets))[:3].tolist()
                    raise SchemaError(
                        f"Table {table!r}, bucket {bucket}: {int(wrong.sum()):,} "
                        f"row(s) belong in other buckets (customer_id {shown} "
                        f"hash to {should} of {n_buckets}). The files were not "
                        f"bucketed by churnkit.distributed.bucket_of(customer_id, "
                        f"{n_buckets}), or with another n_buckets, or a customer's "
                        "rows are split over buckets; each bucket's store would "
                        "see part of a customer. Write every table with bucket = "
                        f"bucket_of(df['customer_id'], {n_buckets})."
                    )

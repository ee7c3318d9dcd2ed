"""Per-bucket work as Dask DataFrames: one partition per group of buckets.

Two shapes of work:

* :func:`from_buckets` -- work that needs only the layout (cutoffs): a Dask
  DataFrame built with ``dask.dataframe.from_map`` over groups of buckets;
  partition ``i`` is ``fn(store of bucket b)`` for every bucket ``b`` of group
  ``i``, concatenated.
* :func:`map_rows` -- work on the rows of a table ``X`` (labels, features,
  scores): ``X.map_partitions`` where each partition's rows are split by their
  bucket (the ``bucket`` column, or :func:`~churnkit.distributed.bucket_of` of
  ``customer_id``), each bucket's store is read once and ``fn(store, rows)``
  computed, and the results put back in the partition's row order. A table
  made by :func:`from_buckets` has one bucket group per partition, so every
  bucket's store is read once per step; any other partitioning is correct too,
  only slower (a bucket split over partitions is read once per partition).

The loop is over the buckets of a partition, never over customers: each
``fn`` is the single-machine kernel on one bucket's ``Events`` store.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.distributed import Layout, bucket_column, bucket_of, open_layout
from churnkit.distributed._planning import planning
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = [
    "as_layout",
    "bucket_groups",
    "by_bucket",
    "from_buckets",
    "map_rows",
    "plain_strings",
    "rows_of",
]


def plain_strings():
    """Dask config under which frames keep pandas' own string dtype.

    Dask converts text columns to ``string[pyarrow]`` by default; churnkit's
    frames keep the dtypes of the single-machine results instead (the
    setting is read when a frame is built, not when it is computed).
    """
    import dask

    return dask.config.set({"dataframe.convert-string": False})


def as_layout(layout) -> Layout:
    """A :class:`~churnkit.distributed.Layout`, or the layout at a path."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str | Path):
        return open_layout(layout)
    raise ChurnkitTypeError(
        "`layout` must be a churnkit layout (churnkit.dask.write_layout or "
        f"churnkit.distributed.open_layout) or its folder; got {type(layout).__name__}."
    )


def bucket_groups(layout: Layout, buckets_per_partition: int) -> list[tuple]:
    """The layout's non-empty buckets in groups of ``buckets_per_partition``."""
    k = buckets_per_partition
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise SchemaError(
            f"`buckets_per_partition` must be a positive integer; got {k!r}."
        )
    b = layout.buckets
    return [tuple(b[i : i + k]) for i in range(0, len(b), k)]


def _with_bucket(frame: pd.DataFrame, bucket: int) -> pd.DataFrame:
    """``frame`` with an int32 ``bucket`` column (added, or moved) last."""
    frame = frame.drop(columns=[bucket_column], errors="ignore")
    return frame.assign(**{bucket_column: np.int32(bucket)})


def _group_frame(group, layout, fn, kwargs):
    parts = [_with_bucket(fn(layout.read(b), **kwargs), b) for b in group]
    return pd.concat(parts, ignore_index=True)


def from_buckets(layout: Layout, fn, kwargs, *, buckets_per_partition=1):
    """A Dask DataFrame: ``fn(store, **kwargs)`` of every bucket, by groups."""
    import dask.dataframe as dd

    groups = bucket_groups(layout, buckets_per_partition)
    first = groups[0][0]
    with planning(f"bucket {first} ({len(layout.buckets)} buckets)"):
        meta = _group_frame([first], layout, fn, kwargs).iloc[:0]
    with plain_strings():
        return dd.from_map(
            _group_frame,
            groups,
            layout=layout,
            fn=fn,
            kwargs=kwargs,
            meta=meta,
            label=getattr(fn, "__name__", "churnkit-buckets"),
            enforce_metadata=False,
        )


def rows_of(X) -> None:
    """Check that ``X`` (Dask or pandas) has the cutoff table's columns."""
    missing = [c for c in (CUSTOMER_ID, CUTOFF_TIME) if c not in X.columns]
    if missing:
        raise SchemaError(
            f"X has no {missing} column(s) (columns: {list(X.columns)[:8]}); "
            "pass the cutoff table as columns customer_id, cutoff_time (the "
            "frames churnkit.dask returns keep them as columns)."
        )


def _add_bucket(part, n_buckets):
    return part.assign(
        **{bucket_column: bucket_of(part[CUSTOMER_ID], n_buckets).astype(np.int32)}
    )


def _check_bucket(part, n_buckets):
    """``part`` when its ``bucket`` column is ``bucket_of`` its ids, else an
    error naming the column (cutoffs of another layout, a user's own column)."""
    if len(part):
        wrong = part[bucket_column].to_numpy() != bucket_of(
            part[CUSTOMER_ID], n_buckets
        )
        if wrong.any():
            shown = part.loc[wrong, CUSTOMER_ID].unique()[:3].tolist()
            raise SchemaError(
                f"X's `{bucket_column}` column is not this layout's bucket of "
                f"{int(wrong.sum()):,} row(s), e.g. customers {shown} (the layout "
                f"has {n_buckets} buckets): X comes from another layout or holds "
                f"a column of its own. Drop `{bucket_column}` and churnkit adds "
                "the right one."
            )
    return part


def by_bucket(X, layout: Layout, *, buckets_per_partition=1):
    """``X`` (Dask or pandas) with a ``bucket`` column, each bucket in one
    partition: as made by :func:`from_buckets`, or shuffled into that shape.

    A frame that already has the ``bucket`` column keeps its partitions; the
    column is checked against :func:`~churnkit.distributed.bucket_of` as each
    partition is computed.
    Otherwise the bucket of each row is added and the rows are shuffled by
    it (their order changes), so that each bucket's store is read once.
    """
    import dask.dataframe as dd

    with plain_strings():
        if isinstance(X, pd.DataFrame):
            X = X.reset_index(drop=X.index.nlevels == 1)
            X = dd.from_pandas(X, npartitions=1, sort=False)
        rows_of(X)
        if bucket_column in X.columns:  # checked as each partition is computed
            return X.map_partitions(_check_bucket, layout.n_buckets, meta=X._meta)
        meta = X._meta.assign(**{bucket_column: np.int32(0)})
        X = X.map_partitions(_add_bucket, layout.n_buckets, meta=meta)
        n = len(bucket_groups(layout, buckets_per_partition))
        return X.shuffle(on=bucket_column, npartitions=max(1, n))


def _split(part: pd.DataFrame, layout: Layout, fn, kwargs, meta, same_rows=True):
    """``fn(store, rows)`` per bucket of ``part``, back in ``part``'s order.

    With ``same_rows=False`` (``fn`` may drop rows, as labelling drops
    censored cutoffs) the results are concatenated bucket by bucket instead.
    """
    if len(part) == 0:
        return meta
    if bucket_column in part.columns:
        buckets = part[bucket_column].to_numpy()
    else:
        buckets = bucket_of(part[CUSTOMER_ID], layout.n_buckets)
    order = np.argsort(buckets, kind="stable")
    keys, starts = np.unique(buckets[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    outs = []
    for b, lo, hi in zip(keys, starts, ends, strict=True):
        rows = part.iloc[order[lo:hi]]
        out = fn(layout.read(int(b)), rows, **kwargs)
        if same_rows and len(out) != len(rows):
            raise SchemaError(  # pragma: no cover - a kernel's contract
                f"bucket {int(b)}: {getattr(fn, '__name__', fn)} returned "
                f"{len(out)} rows for {len(rows)}."
            )
        outs.append(_with_bucket(out.reset_index(drop=True), b))
    out = pd.concat(outs, ignore_index=True)
    if not same_rows:
        return out
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    out = out.iloc[back]
    out.index = part.index
    return out


def map_rows(X, layout: Layout, fn, kwargs, *, same_rows=True):
    """``fn(store, rows, **kwargs)`` per bucket of each partition of ``X``.

    ``fn`` returns one row per row of ``rows``, in their order; the result
    has a ``bucket`` column and the index of ``X`` (``same_rows=False``: any
    number of rows, a fresh index). The output's meta is the result of the
    first non-empty partition's first rows, computed here.
    """
    rows_of(X)
    with warnings.catch_warnings():  # "Insufficient elements for `head`"
        warnings.simplefilter("ignore", UserWarning)
        head = X.head(5, npartitions=1)
        if len(head) == 0:
            head = X.head(5, npartitions=-1)
    if len(head) == 0:
        raise SchemaError("X has no rows: there is nothing to compute.")
    with planning(f"the first {len(head)} rows of X"):
        meta = _split(head, layout, fn, kwargs, None, same_rows).iloc[:0]
    with plain_strings():
        return X.map_partitions(
            _split,
            layout,
            fn,
            kwargs,
            meta,
            same_rows,
            meta=meta,
            enforce_metadata=False,
            align_dataframes=False,
        )

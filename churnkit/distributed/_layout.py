"""The partitioned layout: event tables split by a stable hash bucket of the id.

::

    <path>/_churnkit_layout.json            the manifest, written last
    <path>/customers/bucket=<k>/part-0.parquet
    <path>/usage/bucket=<k>/part-0.parquet  (billing, support, churn,
    ...                                      subscriptions alike)

Bucket ``k`` holds every table's rows of the customers whose
:func:`~churnkit.distributed.bucket_of` is ``k``, in (customer_id, time)
order, so it is self-contained: :meth:`Layout.read` builds its ``Events`` store
from its files alone, with the options and the GLOBAL ``observed_until`` and
``first_event_time`` of the manifest. Every per-customer step (cutoffs,
labels, features, scores) computed on each bucket's store and concatenated
equals the same step on the store of the whole data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnkit._time import to_timestamp
from churnkit.distributed._hash import check_n_buckets
from churnkit.distributed._manifest import (
    RAW_TABLES,
    TABLE_ORDER,
    bucket_column,
    bucket_files,
    check_counts,
    empty_frame,
    nonempty_buckets,
    prepare_folder,
    read_manifest,
    write_manifest,
)
from churnkit.distributed._source import (
    NOTICES,
    SUBSCRIPTION_MRR,
    attach_notices,
    attach_subscription_mrr,
    store_tables,
)
from churnkit.events import Events
from churnkit.events._extent import dated_by_the_whole
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["Layout", "open_layout", "write_layout"]


class Layout:
    """A partitioned layout on disk: its manifest and its per-bucket stores.

    Made by :func:`write_layout` or :func:`open_layout`, not directly.

    Parameters
    ----------
    path : str or Path
        The layout folder.
    manifest : dict
        Its manifest (``_churnkit_layout.json``).

    Attributes
    ----------
    path : Path
        The layout folder.
    n_buckets : int
        The number of hash buckets.
    buckets : list of int
        The non-empty buckets, sorted.
    tables : list of str
        The tables, in the order ``Events`` takes them.
    observed_until : Timestamp
        The exclusive end of the whole data set, used by every bucket.
    first_event_time : Timestamp
        The earliest event time of the whole data set (NaT without events).
    manifest : dict
        The manifest as read.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> layout = write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    >>> layout.buckets
    [0, 1, 2, 3]
    >>> sum(layout.read(b).n_customers for b in layout.buckets)
    50
    """

    def __init__(self, path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest
        self.n_buckets = int(manifest["n_buckets"])
        self.buckets = [int(b) for b in nonempty_buckets(manifest)]
        self.tables = [t for t in TABLE_ORDER if t in manifest["tables"]]
        options = manifest["events"]
        until = options.get("observed_until")
        first = options.get("first_event_time")
        self.observed_until = None if until is None else pd.Timestamp(until)
        self.first_event_time = pd.NaT if first is None else pd.Timestamp(first)

    def rows(self) -> pd.DataFrame:
        """Rows per bucket (index) and table (columns), from the manifest.

        Returns
        -------
        DataFrame
            Row counts, 0 where a bucket has no row of a table.
        """
        tables = self.manifest["tables"]
        counts = {
            t: {int(b): n for b, n in tables[t]["rows"].items()} for t in self.tables
        }
        frame = pd.DataFrame(counts, index=pd.Index(self.buckets, name=bucket_column))
        return frame.fillna(0).astype(np.int64)

    def files(self, table: str, bucket: int) -> list[Path]:
        """The parquet files of one table and bucket.

        Parameters
        ----------
        table : str
            A table of :attr:`tables`.
        bucket : int
            A bucket number.

        Returns
        -------
        list of Path
            Sorted; empty when the bucket has no row of the table.
        """
        self._check_table(table)
        return bucket_files(self.path, table, int(bucket))

    def frame(self, table: str, bucket: int) -> pd.DataFrame:
        """One table's rows of one bucket, as written (an empty frame of the
        table's columns and types when the bucket has none).

        Parameters
        ----------
        table : str
            A table of :attr:`tables`.
        bucket : int
            A bucket number.

        Returns
        -------
        DataFrame
            The rows, without the bucket column.
        """
        self._check_table(table)
        entry = self.manifest["tables"][table]
        files = bucket_files(self.path, table, int(bucket))
        expected = int(entry["rows"].get(str(int(bucket)), 0))
        if not files:
            check_counts(self.path, table, {int(bucket): expected}, {})
            return empty_frame(entry["schema"])
        data = pa.concat_tables(
            [pq.read_table(f, partitioning=None) for f in files],
            promote_options="default",
        )
        check_counts(
            self.path, table, {int(bucket): expected}, {int(bucket): data.num_rows}
        )
        if bucket_column in data.column_names:
            data = data.drop_columns([bucket_column])
        return data.to_pandas()

    def read(self, bucket: int) -> Events:
        """The ``Events`` store of one bucket's customers.

        Built from the bucket's files with the manifest's options and the
        global ``observed_until`` (a bucket's own latest event never decides
        what is censored); its ``first_event_time`` is the whole data set's.
        A table the bucket has no row of is an empty table of the right
        columns, so fitted builders' input contracts still hold.

        Parameters
        ----------
        bucket : int
            A bucket of :attr:`buckets`.

        Returns
        -------
        Events
            The bucket's store.
        """
        if isinstance(bucket, bool) or not isinstance(bucket, int | np.integer):
            raise ChurnkitTypeError(f"`bucket` must be an integer; got {bucket!r}.")
        if int(bucket) not in self.buckets:
            raise SchemaError(
                f"Bucket {bucket!r} of layout {str(self.path)!r} holds no customer; "
                f"its non-empty buckets are {self.buckets[:10]}"
                f"{' ...' if len(self.buckets) > 10 else ''} (`layout.buckets`)."
            )
        options = self.manifest["events"]
        tables = {name: self.frame(name, int(bucket)) for name in self.tables}
        sub_mrr = tables.pop(SUBSCRIPTION_MRR, None)
        notices = tables.pop(NOTICES, None)
        with dated_by_the_whole():  # the layout's end, checked when written
            events = Events(
                **tables,
                columns=options.get("columns"),
                grace=options.get("grace", "0D"),
                observed_until=self.observed_until,
                errors=options.get("errors", "raise"),
                unknown_customers=options.get("unknown_customers"),
            )
        if sub_mrr is not None:  # written from a store (see store_tables)
            attach_subscription_mrr(events, sub_mrr)
        if notices is not None:
            attach_notices(events, notices)
        engine = events._engine
        if not pd.isna(self.first_event_time):
            engine.dataset_first_event_time = self.first_event_time
        starts = options.get("table_starts")  # None in layouts written before
        if starts is not None:
            engine.dataset_table_starts = {
                t: pd.Timestamp(v) if v is not None else pd.NaT
                for t, v in starts.items()
            }
        engine.layout_bucket = (int(bucket), self.n_buckets, tuple(self.buckets))
        return events

    def _check_table(self, table):
        if table not in self.tables:
            raise SchemaError(
                f"Layout {str(self.path)!r} has no {table!r} table; it has "
                f"{self.tables}."
            )

    def __repr__(self) -> str:
        parts = [
            f"{t}: {sum(self.manifest['tables'][t]['rows'].values()):,} rows"
            for t in self.tables
        ]
        until = (
            f"{self.observed_until:%Y-%m-%d}"
            if self.observed_until is not None
            else "unknown"
        )
        return (
            f"Layout({str(self.path)!r}, {self.n_buckets} buckets "
            f"({len(self.buckets)} non-empty); {'; '.join(parts)}; until {until})"
        )


def open_layout(path, *, verify: bool = True) -> Layout:
    """Open a partitioned layout written by :func:`write_layout` or an engine.

    Parameters
    ----------
    path : str or Path
        The layout folder.
    verify : bool, default=True
        Check every table's row counts against the parquet files' footers; a
        mismatch (or a missing manifest) is a :class:`SchemaError` naming the
        table and bucket of a half-written layout.

    Returns
    -------
    Layout
        The layout.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import open_layout, write_layout
    >>> folder = tempfile.mkdtemp()
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> _ = write_layout(events, folder, n_buckets=4)
    >>> open_layout(folder).n_buckets
    4
    """
    return Layout(path, read_manifest(path, verify=verify))


def _write_table(root: Path, name: str, frame: pd.DataFrame, rows: np.ndarray):
    """One table's hive partitions, (customer_id, time) order kept per bucket."""
    small = rows.astype(np.int16) if rows.max(initial=0) < 2**15 else rows
    order = np.argsort(small, kind="stable")  # int16: a radix sort, O(n)
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    starts = starts[starts < len(order)]
    buckets = sorted_rows[starts]
    ends = np.append(starts[1:], len(order)) if len(starts) else starts
    # to Arrow once, gathered once; each bucket is then a zero-copy slice
    whole = pa.Table.from_pandas(frame, preserve_index=False)
    schema = whole.schema
    whole = whole.take(pa.array(order))
    for bucket, lo, hi in zip(buckets, starts, ends, strict=True):
        folder = root / name / f"{bucket_column}={int(bucket)}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(whole.slice(lo, hi - lo), folder / "part-0.parquet")
    if not len(buckets):  # no row at all: keep the schema in an empty partition
        folder = root / name / f"{bucket_column}=0"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(schema.empty_table(), folder / "part-0.parquet")


def write_layout(
    source,
    path,
    *,
    n_buckets: int = 64,
    overwrite: bool = False,
    columns=None,
    grace="0D",
    observed_until=None,
    errors: str = "raise",
    unknown_customers=None,
) -> Layout:
    """Write event tables as a layout partitioned by a hash bucket of the id.

    The layout (see :mod:`churnkit.distributed._layout`) holds one parquet
    dataset per table, ``<path>/<table>/bucket=<k>/part-0.parquet``, each
    bucket's rows in (customer_id, time) order, and the manifest
    ``<path>/_churnkit_layout.json`` (format version, hash, ``n_buckets``,
    tables with their column types, rows per table and bucket, the Events
    options with the global ``observed_until`` and ``first_event_time``, the
    churnkit version), written last and atomically: a folder without it is a
    half-written layout.

    Parameters
    ----------
    source : Events or dict of DataFrame
        An Events store, or raw tables ``{"customers": df, "usage": df, ...}``
        (DataFrames or paths, as :class:`~churnkit.Events` takes them), which
        are validated and built into a store first.
    path : str or Path
        The layout folder (created; must be empty unless ``overwrite``).
    n_buckets : int, default=64
        The number of hash buckets; a few times the number of workers.
    overwrite : bool, default=False
        Replace a layout already in ``path``.
    columns, grace, observed_until, errors, unknown_customers : optional
        ``Events`` options for raw tables (an Events store has its own).

    Returns
    -------
    Layout
        The layout written.

    Examples
    --------
    >>> import tempfile, churnkit as ck
    >>> from churnkit.distributed import write_layout
    >>> events = ck.datasets.make_saas_events(n_customers=50, random_state=0).events
    >>> write_layout(events, tempfile.mkdtemp(), n_buckets=4)
    Layout('...', 4 buckets (4 non-empty); customers: 50 rows; ...)
    """
    check_n_buckets(n_buckets)
    if isinstance(source, Events):
        given = {
            "columns": columns,
            "observed_until": observed_until,
            "unknown_customers": unknown_customers,
        }
        given = [k for k, v in given.items() if v is not None]
        given += ["grace"] if str(grace) != "0D" else []
        given += ["errors"] if errors != "raise" else []
        if given:
            raise SchemaError(
                f"write_layout: {given} apply to raw tables; an Events store "
                "already has its options. Build the store with them, or pass "
                "the raw tables as a dict."
            )
        events = source
    elif isinstance(source, dict):
        unknown = set(source) - set(RAW_TABLES)
        if unknown:
            raise SchemaError(
                f"write_layout: unknown table(s) {sorted(unknown)}; tables are "
                f"{list(RAW_TABLES)}."
            )
        events = Events(
            **source,
            columns=columns,
            grace=grace,
            observed_until=observed_until,
            errors=errors,
            unknown_customers=unknown_customers,
        )
    else:
        raise ChurnkitTypeError(
            "write_layout: `source` must be an Events store or a dict of raw "
            f"tables {{'customers': df, 'usage': df, ...}}; got "
            f"{type(source).__name__}."
        )
    root = Path(path)
    prepare_folder(root, overwrite)
    for name, (frame, rows) in store_tables(events, n_buckets).items():
        _write_table(root, name, frame, rows)
    manifest = write_manifest(
        root,
        n_buckets=n_buckets,
        observed_until=to_timestamp(events.observed_until, name="observed_until"),
        first_event_time=events.first_event_time,
        grace=events.grace,
        table_starts={t: events._engine.table_start(t) for t in events._engine.tables},
    )
    return Layout(root, manifest)

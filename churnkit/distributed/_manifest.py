"""The manifest of a partitioned layout, ``_churnkit_layout.json``, and its files.

A layout folder holds one hive-partitioned parquet dataset per table,
``<path>/<table>/bucket=<k>/*.parquet``, and the manifest, written last (a
temporary file renamed over it) so that a folder without one is known to be
half-written. The manifest records:

- ``format_version``, ``hash`` (:data:`~churnkit.distributed._hash.HASH_NAME`)
  and ``n_buckets``;
- ``tables``: per table, its columns with their Arrow types (``columns``), the
  Arrow schema itself (``schema``, base64 IPC, so that a bucket with no row of
  the table still gets an empty table of the right types) and the row count of
  every non-empty bucket (``rows``, keys are bucket numbers as text);
- ``events``: the options every bucket's ``Events`` store is built with
  (``grace``, ``columns``, ``errors``, ``unknown_customers``), the GLOBAL
  ``observed_until`` (a bucket's own latest event must never decide what is
  censored) and the global ``first_event_time``;
- ``churnkit``: the version that wrote it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnkit._time import NS_PER_DAY
from churnkit._version import VERSION
from churnkit.distributed._bucket_check import check_buckets
from churnkit.distributed._hash import HASH_NAME, check_n_buckets
from churnkit.distributed._stray import LatestTimes
from churnkit.events._build import EVENT_TABLES
from churnkit.events._until import (
    booked_ahead,
    event_end,
    latest_distinct,
    past_the_events,
)
from churnkit.exceptions import SchemaError

__all__ = [
    "MANIFEST",
    "FORMAT_VERSION",
    "bucket_column",
    "RAW_TABLES",
    "TABLE_ORDER",
    "write_manifest",
    "read_manifest",
    "bucket_files",
    "bucket_dirs",
    "prepare_folder",
    "schema_from_text",
]

MANIFEST = "_churnkit_layout.json"
FORMAT_VERSION = 1
bucket_column = "bucket"
#: the tables a user writes
RAW_TABLES = ("customers", "usage", "billing", "support", "churn", "subscriptions")
#: and the files of a layout: the subscriptions' MRR beside a billing table and
#: their cancellation notices are written from an Events store (its
#: subscriptions go back as spells, which hold neither)
TABLE_ORDER = RAW_TABLES + ("subscription_mrr", "notices")
# the times that decide the default observed_until, per table (see Events)
_UNTIL_TIMES = {
    "customers": ("signup_time",),
    "usage": ("time",),
    "billing": ("time",),
    "support": ("time",),
    "churn": ("time",),
    "subscriptions": ("start", "cancel_time", "canceled_at"),
}
_BUCKET_DIR = re.compile(rf"^{bucket_column}=(\d+)$")


def schema_to_text(schema: pa.Schema) -> str:
    """An Arrow schema as base64 text (Arrow IPC), pandas metadata dropped."""
    return base64.b64encode(schema.remove_metadata().serialize().to_pybytes()).decode()


def schema_from_text(text: str) -> pa.Schema:
    """The Arrow schema :func:`schema_to_text` wrote."""
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def bucket_dirs(path, table: str) -> dict[int, Path]:
    """``{bucket: folder}`` of one table's ``bucket=<k>`` folders."""
    root = Path(path) / table
    if not root.is_dir():
        return {}
    out = {}
    for child in root.iterdir():
        match = _BUCKET_DIR.match(child.name)
        if match and child.is_dir():
            out[int(match.group(1))] = child
    return out


def bucket_files(path, table: str, bucket: int) -> list[Path]:
    """The parquet files of one table and bucket, sorted by name."""
    folder = bucket_dirs(path, table).get(int(bucket))
    if folder is None:
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "_")) and p.suffix != ".crc"
    )


def _file_schema(files) -> pa.Schema:
    schema = pq.read_schema(files[0])
    names = [n for n in schema.names if n != bucket_column]
    return pa.schema([schema.field(n) for n in names])


def _count_rows(path, table: str) -> dict[int, int]:
    rows = {}
    for bucket in sorted(bucket_dirs(path, table)):
        files = bucket_files(path, table, bucket)
        n = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        if n:
            rows[bucket] = n
    return rows


def _timestamp(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def _time_values(file, columns: dict) -> dict:
    """``{name: int64 ns of the non-null times}`` of ``columns`` {file column:
    name} of one parquet file (tz-aware times as naive UTC, as Events reads)."""
    frame = pq.read_table(file, columns=sorted(columns)).to_pandas()
    out = {}
    for raw, name in columns.items():
        values = pd.to_datetime(frame[raw], errors="coerce")
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        out[name] = values.dropna().to_numpy("datetime64[ns]").view("int64")
    return out


def _scan_times(path, tables, mapping=None):
    """(default observed_until, first_event_time, the latest times as a
    :class:`LatestTimes`, each event table's first time) read from the files'
    times.

    The same rules as ``Events``: just after the latest event, signup, churn
    time (not one scheduled past the event rows), subscription start or
    cancellation (midnight after the last day of an event table of dates
    only, or of them all when every time is a date); the
    first event is the earliest ``time`` of
    usage, billing and support (subscription starts and ends when billing is
    derived from them). ``mapping`` is the ``columns=`` option of Events.
    """
    first, ends = None, {}  # (table, column) -> (latest, all dates only)
    starts = {}  # event table -> its earliest time (ns)
    # churn-table times and subscription starts beside event rows: those
    # scheduled past their end do not count (events._until), decided once
    # every file is read
    held, tails = {}, []
    hold_churns = "subscriptions" not in tables
    seen = LatestTimes(sum(sum(e["rows"].values()) for e in tables.values()))
    for table, entry in tables.items():
        # the file's name of each canonical column
        raw = {v: k for k, v in ((mapping or {}).get(table) or {}).items() if v}
        present = {raw.get(c, c): c for c in _known_columns(table, tables, raw)}
        present = {r: c for r, c in present.items() if r in entry["columns"]}
        until_cols = set(_UNTIL_TIMES.get(table, ()))
        first_cols = _first_columns(table, tables, raw)
        if not present:
            continue
        for bucket in entry["rows"]:
            for file in bucket_files(path, table, int(bucket)):
                for col, ns in _time_values(file, present).items():
                    if not len(ns):
                        continue
                    if table in EVENT_TABLES and col == "time":
                        tails.append(latest_distinct(ns))
                    if table == "churn" and col in until_cols:
                        if hold_churns:  # beside subscriptions: only kinds
                            held.setdefault((table, col), []).append(ns)
                        continue
                    if table == "subscriptions" and col == "start":
                        held.setdefault((table, col), []).append(ns)
                    elif col in until_cols:
                        seen.add(table, col, ns)
                        top, dates = ends.get((table, col), (int(ns.min()), True))
                        dates &= not (ns % NS_PER_DAY).any()
                        ends[table, col] = (max(top, int(ns.max())), dates)
                    if col in first_cols:
                        low = int(ns.min())
                        first = low if first is None else min(first, low)
                        # billing derived from the subscriptions starts there
                        name = "billing" if table == "subscriptions" else table
                        starts[name] = min(starts.get(name, low), low)
    end = event_end(tails)
    for (table, col), parts in held.items():
        ns = np.concatenate(parts)
        past = booked_ahead if table == "subscriptions" else past_the_events
        ns = ns[~past(ns, end)]
        if len(ns):
            seen.add(table, col, ns)
            ends[table, col] = (int(ns.max()), not (ns % NS_PER_DAY).any())
    # an event table of dates runs to the end of its last day; the other
    # times too when all are dates (events._until.default_observed_until)
    every = all(dates for _, dates in ends.values())
    tops = [
        top + (NS_PER_DAY if dates and (t in EVENT_TABLES or every) else 1)
        for (t, _), (top, dates) in ends.items()
    ]
    until = pd.Timestamp(max(tops)) if tops else None
    first = None if first is None else pd.Timestamp(first)
    return until, first, seen, {t: pd.Timestamp(v) for t, v in starts.items()}


def _first_columns(table, tables, raw) -> set:
    """The columns whose earliest value is a first event time."""
    if table in ("usage", "billing", "support"):
        return {"time"}
    subs = tables.get("subscriptions", {}).get("columns", {})
    if (
        table == "subscriptions"
        and "billing" not in tables
        and raw.get("mrr", "mrr") in subs
    ):
        return {"start", "end"}  # billing is derived from the subscriptions
    return set()


def _known_columns(table, tables, raw) -> set:
    return set(_UNTIL_TIMES.get(table, ())) | _first_columns(table, tables, raw)


def write_manifest(
    path,
    *,
    n_buckets: int,
    observed_until=None,
    first_event_time=None,
    grace="0D",
    columns=None,
    errors: str = "raise",
    unknown_customers=None,
    table_starts=None,
) -> dict:
    """Finish a layout whose parquet files an engine wrote: write its manifest.

    Dask (``to_parquet(partition_on="bucket")``) and Spark
    (``partitionBy("bucket")``) write ``<path>/<table>/bucket=<k>/*.parquet``
    themselves, the bucket computed with :func:`bucket_of`; this reads the
    files' schemas and row counts (parquet footers only) and writes
    ``<path>/_churnkit_layout.json`` atomically. Call it once every table is
    written: a layout without its manifest is half-written.

    Parameters
    ----------
    path : str or Path
        The layout folder.
    n_buckets : int
        The number of buckets the rows were hashed into.
    observed_until : str or Timestamp, default=None
        The exclusive end of the WHOLE data set. By default it is read from
        the files' times with the rules of ``Events`` (one pass over the time
        columns).
    first_event_time : str or Timestamp, default=None
        The earliest event time of the whole data set; by default read from
        the files.
    grace : str, default="0D"
        ``Events(grace=...)`` of every bucket.
    columns : dict, default=None
        ``Events(columns=...)`` of every bucket, when the files keep the
        source's column names.
    errors, unknown_customers : str, default="raise", None
        ``Events(errors=..., unknown_customers=...)`` of every bucket.
    table_starts : dict, default=None
        The earliest time of each event table of the whole data set (where an
        inactivity KPI on one bucket's store starts its clock); by default
        read from the files.

    Returns
    -------
    dict
        The manifest written.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from churnkit.distributed import bucket_of, open_layout, write_manifest
    >>> folder = tempfile.mkdtemp()
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"],
    ...                           "signup_time": pd.to_datetime(["2024-01-01"] * 2)})
    >>> customers["bucket"] = bucket_of(customers["customer_id"], 4)
    >>> customers.to_parquet(f"{folder}/customers", partition_cols=["bucket"])
    >>> _ = write_manifest(folder, n_buckets=4, observed_until="2024-06-01")
    >>> open_layout(folder)
    Layout(..., 4 buckets (2 non-empty); customers: 2 rows; until 2024-06-01)
    """
    check_n_buckets(n_buckets)
    root = Path(path)
    if not root.is_dir():
        raise SchemaError(
            f"write_manifest: {str(root)!r} is not a folder. Write the tables "
            f"as <path>/<table>/{bucket_column}=<k>/*.parquet first."
        )
    tables = {}
    for table in TABLE_ORDER:
        dirs = bucket_dirs(root, table)
        if not dirs:
            continue
        out_of_range = [b for b in dirs if b >= n_buckets]
        if out_of_range:
            raise SchemaError(
                f"Table {table!r} has bucket folders {sorted(out_of_range)[:5]} "
                f"beyond `n_buckets`={n_buckets}. Pass the n_buckets the rows "
                "were hashed with."
            )
        files = [f for b in sorted(dirs) for f in bucket_files(root, table, b)]
        if not files:
            continue
        schema = _file_schema(files)
        tables[table] = {
            "columns": {f.name: str(f.type) for f in schema},
            "schema": schema_to_text(schema),
            "rows": {str(b): n for b, n in _count_rows(root, table).items()},
        }
    # the id column of every file, against bucket_of (files another engine wrote)
    check_buckets(
        {
            t: {b: bucket_files(root, t, b) for b in bucket_dirs(root, t)}
            for t in tables
        },
        n_buckets,
        columns,
    )
    if "customers" not in tables and "subscriptions" not in tables:
        raise SchemaError(
            f"write_manifest: {str(root)!r} has no customers/ (or subscriptions/) "
            f"table in <table>/{bucket_column}=<k>/ folders; found "
            f"{sorted(p.name for p in root.iterdir())}. Every layout needs the "
            "customers."
        )
    if observed_until is None or first_event_time is None or table_starts is None:
        until, first, seen, starts = _scan_times(root, tables, columns)
        if observed_until is None and until is not None:
            seen.warn_if_stray(until)  # a few late rows must not set it
        observed_until = until if observed_until is None else observed_until
        first_event_time = first if first_event_time is None else first_event_time
        table_starts = starts if table_starts is None else table_starts
    manifest = {
        "format_version": FORMAT_VERSION,
        "hash": HASH_NAME,
        "n_buckets": int(n_buckets),
        "bucket_column": bucket_column,
        "tables": tables,
        "events": {
            "observed_until": _timestamp(observed_until),
            "first_event_time": _timestamp(first_event_time),
            "table_starts": {t: _timestamp(v) for t, v in table_starts.items()},
            "grace": _grace_text(grace),
            "columns": columns,
            "errors": errors,
            "unknown_customers": unknown_customers,
        },
        "churnkit": VERSION,
    }
    _write_json_atomic(root / MANIFEST, manifest)
    return manifest


def _grace_text(grace) -> str:
    """``grace`` as text Events parses back exactly: "0D", "7D" or "<n>ns"."""
    if isinstance(grace, str):
        return grace
    ns = pd.Timedelta(grace).value
    days, rest = divmod(ns, 86_400 * 10**9)
    return f"{days}D" if rest == 0 else f"{ns}ns"


def _write_json_atomic(target: Path, data: dict) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=False, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def read_manifest(path, *, verify: bool = True) -> dict:
    """The manifest of a layout, checked against its files.

    Raises a :class:`SchemaError` for a folder without a manifest or one whose
    row counts disagree with the parquet files (a half-written layout).
    """
    root = Path(path)
    target = root / MANIFEST
    if not target.is_file():
        found = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
        raise SchemaError(
            f"{str(root)!r} is not a churnkit layout: it has no {MANIFEST} "
            f"(found {found[:8]}). A layout whose writer stopped before the end "
            "is half-written: write it again with "
            "`write_layout(source, path, overwrite=True)`, or finish an "
            "engine-written one with `write_manifest(path, n_buckets=...)`."
        )
    with open(target, encoding="utf-8") as fh:
        manifest = json.load(fh)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise SchemaError(
            f"{str(target)!r} has layout format version "
            f"{manifest.get('format_version')!r}; this churnkit ({VERSION}) reads "
            f"version {FORMAT_VERSION}. Write the layout again with this version."
        )
    if manifest.get("hash") != HASH_NAME:
        raise SchemaError(
            f"{str(target)!r} was bucketed with hash {manifest.get('hash')!r}; "
            f"churnkit uses {HASH_NAME!r}. Write the layout again."
        )
    if verify:
        for table, entry in manifest["tables"].items():
            check_counts(root, table, entry["rows"], _count_rows(root, table))
    return manifest


def check_counts(root, table, expected: dict, found: dict) -> None:
    """A half-written layout error when the files' row counts disagree."""
    expected = {int(b): int(n) for b, n in expected.items()}
    buckets = sorted(set(expected) | set(found))
    bad = [b for b in buckets if expected.get(b, 0) != found.get(b, 0)]
    if bad:
        shown = ", ".join(
            f"bucket {b}: manifest {expected.get(b, 0):,} rows, files "
            f"{found.get(b, 0):,}"
            for b in bad[:5]
        )
        more = f" and {len(bad) - 5} more buckets" if len(bad) > 5 else ""
        raise SchemaError(
            f"Half-written layout {str(root)!r}: table {table!r} disagrees with "
            f"its manifest ({shown}{more}). If the layout was rewritten "
            "(`overwrite=True`) after this Layout was opened, open it again "
            "(`open_layout(path)`); otherwise a writer stopped or another one "
            "wrote into the folder: write the layout again with "
            "`write_layout(source, path, overwrite=True)` (or rerun the engine "
            "job and `write_manifest`)."
        )


def empty_frame(schema_text: str) -> pd.DataFrame:
    """An empty DataFrame with a table's columns and types."""
    return schema_from_text(schema_text).empty_table().to_pandas()


def nonempty_buckets(manifest: dict) -> np.ndarray:
    """The sorted bucket numbers holding a row of any table."""
    buckets = set()
    for entry in manifest["tables"].values():
        buckets.update(int(b) for b, n in entry["rows"].items() if n)
    return np.array(sorted(buckets), dtype=np.int64)


def prepare_folder(root: Path, overwrite: bool) -> None:
    """An empty folder for a layout: refuse a non-empty one unless
    ``overwrite`` and it holds a layout, whose manifest goes first (so a crash
    leaves it half-written, never stale) and then its tables."""
    if root.exists() and not root.is_dir():
        raise SchemaError(f"{str(root)!r} is a file; a layout is a folder.")
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise SchemaError(
                f"{str(root)!r} is not empty. Pass `overwrite=True` to replace the "
                "layout in it, or choose an empty folder."
            )
        looks_like_layout = (root / MANIFEST).exists() or any(
            bucket_dirs(root, t) for t in TABLE_ORDER
        )
        if not looks_like_layout:
            raise SchemaError(
                f"{str(root)!r} holds files that are not a churnkit layout "
                f"({sorted(p.name for p in root.iterdir())[:5]}); "
                "`overwrite=True` only replaces a layout. Choose another folder."
            )
        (root / MANIFEST).unlink(missing_ok=True)  # half-written from here on
        for table in TABLE_ORDER:
            shutil.rmtree(root / table, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)

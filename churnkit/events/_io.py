"""Saving an Events store to a folder and reading it back, search index included.

The folder holds ``events.json`` (format version, ``observed_until``, report,
table columns, kinds and categories), ``customers.parquet`` and one ``.npy`` file
per array, which :func:`load_store` memory-maps by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit.events._engine import EventsEngine
from churnkit.events._spells import Spells
from churnkit.events._store import EventTable, reordered_kinds
from churnkit.exceptions import SchemaError

FORMAT_VERSION = 1


def save_store(
    path,
    *,
    engine: EventsEngine,
    customers: pd.DataFrame,
    observed_until: pd.Timestamp,
    report: list[dict],
    grace: pd.Timedelta,
    index: bool = True,
) -> Path:
    """Write a store to the folder ``path``; see :meth:`Events.save`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "observed_until": observed_until.isoformat(),
        "churn_kinds": list(engine.churn_kinds),
        "report": report,
        "grace_ns": int(grace.value),
        "tables": {},
    }
    customers.to_parquet(path / "customers.parquet")
    arrays = {
        "spell_code": engine.spell_code,
        "spell_start": engine.spell_start,
        "spell_end": engine.spell_end,
        "spell_kind": engine.spell_kind,
    }
    for name, table in engine.tables.items():
        meta["tables"][name] = {
            "columns": list(table.columns),
            "kinds": table.kinds,
            "categories": {k: list(v) for k, v in table.categories.items()},
        }
        _add_table_arrays(arrays, name, table)
        if index:
            meta["tables"][name]["index"] = _save_index(table, name, arrays)
    for key, array in arrays.items():
        np.save(path / f"{key}.npy", array, allow_pickle=False)
    (path / "events.json").write_text(json.dumps(meta, indent=1, default=str))
    return path


def load_store(path, *, mmap: bool = True) -> dict:
    """Read a folder written by :func:`save_store`.

    Returns
    -------
    dict
        ``customers``, ``engine``, ``observed_until``, ``report`` and
        ``grace``: the parts of an Events store.
    """
    path = Path(path)
    meta_file = path / "events.json"
    if not meta_file.exists():
        raise SchemaError(
            f"{str(path)!r} is not a saved Events store (no events.json); write "
            "one with `events.save(path)`."
        )
    meta = json.loads(meta_file.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise SchemaError(
            f"{str(path)!r} was saved in format {meta.get('format_version')}; this "
            f"churnkit reads format {FORMAT_VERSION}. Rebuild and save it again."
        )
    mode = "r" if mmap else None

    def read(key):
        return np.load(path / f"{key}.npy", mmap_mode=mode, allow_pickle=False)

    customers = pd.read_parquet(path / "customers.parquet")
    customer_ids = pd.Index(customers["customer_id"].to_numpy(), name="customer_id")
    signup_time = customers["signup_time"].to_numpy("datetime64[ns]").view("int64")
    spells = Spells(
        *(
            read(key)
            for key in ("spell_code", "spell_start", "spell_end", "spell_kind")
        ),
        tuple(meta["churn_kinds"]),
    )
    tables = {}
    for name, info in meta["tables"].items():
        categories = {k: tuple(v) for k, v in info["categories"].items()}
        table = _read_table(
            read, name, name, info["columns"], categories, info["kinds"]
        )
        if "index" in info:  # stores saved before the index have none
            _load_index(table, name, info, read)
        tables[name] = table
    return {
        "customers": customers,
        "engine": EventsEngine(
            customer_ids, signup_time, tables, spells, customers=customers
        ),
        "observed_until": pd.Timestamp(meta["observed_until"]),
        "report": meta["report"],
        "grace": pd.Timedelta(meta["grace_ns"]),
    }


def _add_table_arrays(arrays, prefix, table) -> None:
    """Name a table's arrays for :func:`save_store` (``prefix.time``, ...)."""
    arrays[f"{prefix}.offsets"] = table.offsets
    arrays[f"{prefix}.time"] = table.time
    for col, values in table.columns.items():
        arrays[f"{prefix}.col.{col}"] = values


def _read_table(read, name, prefix, columns, categories, kinds) -> EventTable:
    """The table :func:`_add_table_arrays` saved under ``prefix``."""
    return EventTable(
        name,
        read(f"{prefix}.offsets"),
        read(f"{prefix}.time"),
        {col: read(f"{prefix}.col.{col}") for col in columns},
        categories,
        kinds,
    )


def _save_index(table, name, arrays) -> dict:
    """Add a table's search index to ``arrays``; returns its metadata."""
    index = table.search_index()
    meta = {"by": {}}
    if index["day_keys"] is not None:
        keys, low, width = index["day_keys"]
        arrays[f"{name}.index.day_keys"] = keys
        meta["day_keys"] = [int(low), int(width)]
    arrays[f"{name}.index.day_prefix"] = index["day_prefix"]
    for column, view in index["by"].items():
        _add_table_arrays(arrays, f"{name}.by.{column}", view)
        meta["by"][column] = list(view.columns)
    return meta


def _load_index(table, name, info, read) -> None:
    """Put a saved search index (memory-mapped) into the table's caches."""
    meta = info["index"]
    day_keys = None
    if "day_keys" in meta:
        low, width = meta["day_keys"]
        day_keys = (read(f"{name}.index.day_keys"), low, width)
    by = {}
    for column, columns in meta["by"].items():
        by[column] = _read_table(
            read,
            name,
            f"{name}.by.{column}",
            columns,
            table.categories,
            reordered_kinds(info["kinds"]),
        )
    table.adopt_index(day_keys, read(f"{name}.index.day_prefix"), by)

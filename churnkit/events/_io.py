"""Saving an Events store to a folder and reading it back, search index included.

The folder holds ``events.json`` (format version, ``observed_until``, report,
warnings met at the build,
table columns, kinds and categories), ``customers.parquet`` and one ``.npy`` file
per array, which :func:`load_store` memory-maps by default.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit._version import VERSION
from churnkit.events._disk import (
    commit_version,
    current_version,
    new_version_dir,
    verify_version,
)
from churnkit.events._engine import EventsEngine
from churnkit.events._notices import Notices
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
    warnings: list[dict] = (),
    index: bool = True,
) -> Path:
    """Write a store to the folder ``path``; see :meth:`Events.save`.

    The store goes to a new version folder inside ``path``, swapped in
    atomically once complete (see :mod:`churnkit.events._disk`).
    """
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise SchemaError(
            f"{str(root)!r} is a file; Events.save writes a folder. Choose "
            "another path."
        )
    path = new_version_dir(root)
    meta = {
        "format_version": FORMAT_VERSION,
        "churnkit": VERSION,
        "observed_until": observed_until.isoformat(),
        "churn_kinds": list(engine.churn_kinds),
        "report": report,
        "warnings": list(warnings),
        "grace_ns": int(grace.value),
        "contractual": bool(getattr(engine, "contractual", True)),
        "tables": {},
    }
    customers.to_parquet(path / "customers.parquet")
    arrays = {
        "spell_code": engine.spell_code,
        "spell_start": engine.spell_start,
        "spell_end": engine.spell_end,
        "spell_kind": engine.spell_kind,
    }
    if getattr(engine, "spell_cancel", None) is not None:
        arrays["spell_cancel"] = engine.spell_cancel
    if getattr(engine, "notices", None) is not None:
        arrays.update({f"notice_{k}": v for k, v in engine.notices._asdict().items()})
    for name, table in engine.tables.items():
        meta["tables"][name] = {
            "columns": list(table.columns),
            "kinds": table.kinds,
            "categories": {k: list(v) for k, v in table.categories.items()},
        }
        _add_table_arrays(arrays, name, table)
        if index:
            meta["tables"][name]["index"] = _save_index(table, name, arrays)
    sub_mrr = getattr(engine, "subscription_mrr", None)
    if sub_mrr is not None:  # the subscriptions' MRR beside a billing table
        meta["subscription_mrr"] = {
            "columns": list(sub_mrr.columns),
            "kinds": sub_mrr.kinds,
            "categories": {k: list(v) for k, v in sub_mrr.categories.items()},
        }
        _add_table_arrays(arrays, "subscription_mrr", sub_mrr)
    for key, array in arrays.items():
        np.save(path / f"{key}.npy", array, allow_pickle=False)
    (path / "events.json").write_text(json.dumps(meta, indent=1, default=str))
    commit_version(root, path)
    return root


def load_store(path, *, mmap: bool = True, verify=True) -> dict:
    """Read a folder written by :func:`save_store`.

    ``verify``: True checks every file against the manifest's digests, "fast"
    checks sizes and the metadata digests only, False skips the manifest.
    The arrays' shapes and offsets are checked in every case.

    Returns
    -------
    dict
        ``customers``, ``engine``, ``observed_until``, ``report``,
        ``warnings`` and ``grace``: the parts of an Events store.
    """
    root = Path(path)
    for attempt in range(3):
        try:
            return _load_version(root, mmap=mmap, verify=verify)
        except FileNotFoundError:
            # a writer swapped versions between reading CURRENT and the files
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _load_version(root: Path, *, mmap: bool, verify) -> dict:
    version = current_version(root)
    path = root if version is None else version
    if version is not None and verify:
        verify_version(version, full=verify != "fast")
    meta_file = path / "events.json"
    if not meta_file.exists():
        raise SchemaError(
            f"{str(path)!r} is not a saved Events store (no events.json); write "
            "one with `events.save(path)`."
        )
    meta = json.loads(meta_file.read_text())
    saved = meta.get("format_version")
    if isinstance(saved, int) and saved > FORMAT_VERSION:
        raise SchemaError(
            f"{str(path)!r} was saved by churnkit {meta.get('churnkit', '(newer)')} "
            f"in store format {saved}; this churnkit ({VERSION}) reads format "
            f"{FORMAT_VERSION}. Upgrade churnkit to load it."
        )
    if saved != FORMAT_VERSION:
        raise SchemaError(
            f"{str(path)!r} was saved in format {saved}; this "
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
        read("spell_cancel") if (path / "spell_cancel.npy").exists() else None,
        None,
        # stores saved before notices were kept read them from the spells
        Notices(*(read(f"notice_{k}") for k in Notices._fields))
        if (path / "notice_code.npy").exists()
        else None,
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
    _check_shapes(path, len(customer_ids), spells, tables)
    engine = EventsEngine(
        customer_ids, signup_time, tables, spells, customers=customers
    )
    engine.contractual = meta.get("contractual", True)
    if "subscription_mrr" in meta:
        info = meta["subscription_mrr"]
        engine.subscription_mrr = _read_table(
            read,
            "billing",
            "subscription_mrr",
            info["columns"],
            {k: tuple(v) for k, v in info["categories"].items()},
            info["kinds"],
        )
    return {
        "customers": customers,
        "engine": engine,
        "observed_until": pd.Timestamp(meta["observed_until"]),
        "report": meta["report"],
        "warnings": meta.get("warnings", []),  # none kept before they were
        "grace": pd.Timedelta(meta["grace_ns"]),
    }


def _check_shapes(path, n_customers, spells, tables) -> None:
    """Offsets and lengths consistent, codes in range: else a SchemaError.

    The compiled kernel trusts these; a damaged store must fail here, with a
    message, not crash the process later.
    """
    problems = []
    n_spells = len(spells.code)
    for key in ("start", "end", "kind"):
        if len(getattr(spells, key)) != n_spells:
            problems.append(f"spell_{key} has {len(getattr(spells, key))} rows")
    if n_spells and (spells.code.min() < 0 or spells.code.max() >= n_customers):
        problems.append("spell_code names customers out of range")
    for name, table in tables.items():
        views = [("", table)]
        views += [
            (f" (by {c})", v) for c, v in table._views._values.items() if c[0] == "by"
        ]
        for label, view in views:
            where = f"table {name!r}{label}"
            offsets, n = view.offsets, len(view.time)
            if len(offsets) != n_customers + 1:
                problems.append(f"{where}: {len(offsets)} offsets for {n_customers}")
                continue
            if offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 0).any():
                problems.append(f"{where}: offsets are not 0..{n} and increasing")
            for col, values in view.columns.items():
                if len(values) != n:
                    problems.append(f"{where}: column {col!r} has {len(values)} rows")
                elif view.kinds.get(col) == "category" and n:
                    if values.max() >= len(view.categories[col]) or values.min() < -1:
                        problems.append(f"{where}: column {col!r} codes out of range")
    if problems:
        raise SchemaError(
            f"{str(path)!r} is damaged: {'; '.join(problems[:5])}. Save the store "
            "again from the original data."
        )


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

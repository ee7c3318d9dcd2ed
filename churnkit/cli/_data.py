"""Where the CLI's data comes from: a saved store, a folder of files, a TOML
config or one flag per table; and ``churnkit events build``."""

from __future__ import annotations

import time
from pathlib import Path

from churnkit.exceptions import ChurnkitError

TABLES = ("customers", "usage", "billing", "support", "churn", "subscriptions")
SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv", ".txt")
# what a file a user meant as a table may be called: noted when not read
DATA_SUFFIXES = (*SUFFIXES, ".pq", ".gz", ".zip", ".json", ".jsonl", ".xlsx", ".xls")


def is_store(path: Path) -> bool:
    """Is ``path`` a folder written by ``Events.save``?"""
    return path.is_dir() and (
        (path / "CURRENT").exists() or (path / "events.json").exists()
    )


def _folder_tables(folder: Path) -> dict:
    """Table files of a folder, found by name: customers.csv, usage.parquet..."""
    found = {}
    for name in TABLES:
        for suffix in SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.exists():
                found[name] = str(path)
                break
    if not found:
        raise ChurnkitError(
            f"--events {str(folder)!r}: the folder is neither a saved store "
            "(`churnkit events build` writes one) nor holds table files named "
            f"{', '.join(f'{t}.csv' for t in TABLES)} (or .parquet)."
        )
    return found


def _note_unread(folder: Path, tables: dict) -> None:
    """Warn about the data files of ``folder`` that no table reads: a folder's
    tables are found by name, so an ``events.csv`` would be left out silently."""
    from churnkit._logging import warn
    from churnkit.exceptions import ChurnkitWarning

    read = {Path(path).resolve() for path in tables.values()}
    unread = sorted(
        path.name
        for path in folder.iterdir()
        if path.is_file()
        and path.name.lower().endswith(DATA_SUFFIXES)
        and path.resolve() not in read
    )
    if not unread:
        return
    warn(
        f"--events {str(folder)!r}: not read: {', '.join(unread)}. A folder's "
        f"tables are found by file name: {', '.join(TABLES)}, each with "
        f"{', '.join(SUFFIXES)}. Rename a file to its table (e.g. usage.csv) "
        "or pass it with its table's option (e.g. --usage FILE).",
        ChurnkitWarning,
    )


# the [events] keys of a --config file: ck.Events's options
EVENT_OPTIONS = ("grace", "observed_until", "errors", "unknown_customers")


def read_config(path) -> dict:
    import tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ChurnkitError(f"--config: file {str(path)!r} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        message = f"--config {str(path)!r} is not valid TOML: {exc}"
        raise ChurnkitError(message) from None


def table_column_value(flag: str, item: str, form: str, example: str) -> tuple:
    """``(table, column, value)`` of a ``TABLE.COLUMN=VALUE`` flag value."""
    try:
        left, value = item.split("=", 1)
        table, column = left.split(".", 1)
    except ValueError:
        raise ChurnkitError(
            f"{flag} {item!r}: write it as {form}, e.g. {flag} {example}"
        ) from None
    return table, column, value


def _columns(config: dict, maps) -> dict:
    columns = {k: dict(v) for k, v in config.get("columns", {}).items()}
    for item in maps or []:
        table, source, target = table_column_value(
            "--map", item, "TABLE.YOUR_COLUMN=CHURNKIT_COLUMN", "usage.ts=time"
        )
        columns.setdefault(table, {})[source] = target
    return columns


EPOCH_UNITS = ("s", "ms", "us", "ns", "YYYYMMDD")


def epoch_times(tables: dict, specs, columns: dict) -> dict:
    """``tables`` with the ``--epoch TABLE.COL=UNIT`` columns read as times.

    The named tables are read here (the library refuses numbers as times and
    says which conversion fits; this is that conversion for a command line).
    ``COL`` is the file's name or the name ``--map`` gives it.
    """
    if not specs:
        return tables
    import pandas as pd

    from churnkit.events._read import read_table

    out, frames = dict(tables), {}
    for item in specs:
        table, column, unit = table_column_value(
            "--epoch", item, "TABLE.COLUMN=UNIT", "subscriptions.created=s"
        )
        if unit not in EPOCH_UNITS:
            raise ChurnkitError(
                f"--epoch {item!r}: the unit is one of {list(EPOCH_UNITS)}."
            )
        if table not in out:
            raise ChurnkitError(f"--epoch {item!r}: no {table!r} table was given.")
        frame = frames.get(table)
        if frame is None:
            # with the --map names: a CSV's renamed id column stays text, as
            # the build reads it (was: int64 here, text in the other tables)
            mapping = columns.get(table)
            frame = frames[table] = read_table(out[table], table, mapping).copy()
        renamed = {v: k for k, v in columns.get(table, {}).items()}
        name = column if column in frame else renamed.get(column, column)
        if name not in frame:
            raise ChurnkitError(
                f"--epoch {item!r}: table {table!r} has no column {column!r}; it "
                f"has {list(frame.columns)}."
            )
        original = frame[name]
        values = pd.to_numeric(original, errors="coerce")
        if unit == "YYYYMMDD":
            text = values.astype("Int64").astype("string")
            frame[name] = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        else:
            frame[name] = pd.to_datetime(values, unit=unit, errors="coerce")
        bad = frame[name].isna() & original.notna()
        if bad.any():
            raise ChurnkitError(
                f"--epoch {item!r}: {int(bad.sum())} value(s) of {name!r} are no "
                f"{unit} times, e.g. {original[bad].head(3).tolist()}."
            )
    out.update(frames)
    return out


def _check_files(tables: dict, flags: dict, config: dict, config_name) -> None:
    """Every table file exists; a missing one is named where it was given:
    its flag, else the key of the config file (a folder's files exist)."""
    for name, path in tables.items():
        if Path(path).exists():
            continue
        if name in flags:
            raise ChurnkitError(f"--{name}: file {path!r} does not exist.")
        raise ChurnkitError(
            f"{' '.join(config_name)}: [tables] {name} = "
            f"{config['tables'][name]!r} does not exist (looked for {path!r}; "
            "the paths of a config file are relative to it)."
        )


def _options(config, config_name, observed_until, grace=None) -> dict:
    """ck.Events's options: [events] of the config, then --observed-until and
    --grace."""
    from churnkit.cli._values import date_problem

    options = dict(config.get("events", {}))
    unknown = sorted(set(options) - set(EVENT_OPTIONS))
    if unknown:
        raise ChurnkitError(
            f"{' '.join(config_name)}: [events] has unknown key(s) {unknown}; "
            f"the keys are {list(EVENT_OPTIONS)}."
        )
    until = options.get("observed_until")
    problem = date_problem(str(until)) if isinstance(until, str) else None
    if problem:
        where = " ".join(config_name)
        raise ChurnkitError(f"{where}: [events] observed_until: {problem}.")
    if observed_until:
        options["observed_until"] = observed_until
    if grace:
        options["grace"] = grace
    return options


def _from_store(source: Path, args, flags, say, t0):
    from churnkit.events import Events

    if flags or args.config or args.map:
        raise ChurnkitError(
            f"--events {str(source)!r} is a saved store; it cannot be combined "
            f"with table flags, --config or --map (got {sorted(flags)})."
        )
    if getattr(args, "grace", None):
        raise ChurnkitError(
            f"--events {str(source)!r} is a saved store: it keeps the grace it was "
            f"built with ({Events.load(source, verify='fast').grace}). Build the "
            f"store again with --grace {args.grace}."
        )
    events = Events.load(source, verify="fast")
    if args.observed_until:
        events = events.with_observed_until(args.observed_until)
    say(f"loaded the saved store {source} in {time.perf_counter() - t0:.1f} s")
    return events


def load_events(args, say=print):
    """The Events store the flags name, and how long it took to get it."""
    from churnkit.events import Events

    t0 = time.perf_counter()
    source = Path(args.events) if getattr(args, "events", None) else None
    flags = {n: getattr(args, n) for n in TABLES if getattr(args, n, None)}
    if source is not None and is_store(source):
        return _from_store(source, args, flags, say, t0)
    config_path = args.config
    if source is not None and source.suffix == ".toml":
        config_path = config_path or source
        source = None
    if source is not None and not source.exists():
        raise ChurnkitError(f"--events: {str(source)!r} does not exist.")
    config = read_config(config_path) if config_path else {}
    # the config is named by the flag that gave it: --config or --events
    config_name = ("--config" if args.config else "--events", str(config_path))
    base = Path(config_path).parent if config_path else Path(".")
    tables = {k: str(base / v) for k, v in config.get("tables", {}).items()}
    if source is not None:
        tables.update(_folder_tables(source))
    tables.update(flags)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ChurnkitError(f"Unknown table(s) {sorted(unknown)}; tables are {TABLES}.")
    if not tables:
        raise ChurnkitError(
            "No data: pass --events (a saved store or a folder of table files), "
            "--config, or table files (--customers, --usage, ...)."
        )
    _check_files(tables, flags, config, config_name)
    if source is not None:
        _note_unread(source, tables)
    columns = _columns(config, args.map)
    tables = epoch_times(tables, getattr(args, "epoch", None), columns)
    options = _options(
        config, config_name, args.observed_until, getattr(args, "grace", None)
    )
    events = Events(**tables, columns=columns or None, **options)
    say(f"read {len(tables)} table files in {time.perf_counter() - t0:.1f} s")
    return events


def events_build(args, say=print) -> int:
    """``churnkit events build``: validate the tables once, save the store."""
    events = load_events(args, say)
    say(repr(events))
    report = events.report
    if len(report):
        say("rows excluded or altered:")
        say(report.to_string(index=False))
    t0 = time.perf_counter()
    path = events.save(args.out)
    say(
        f"wrote the store to {path} in {time.perf_counter() - t0:.1f} s; pass it to "
        f"every command with --events {path}"
    )
    return 0

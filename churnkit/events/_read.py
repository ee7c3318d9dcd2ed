"""Reading a user's table: a DataFrame, a file, a pyarrow Table or polars frame.

:func:`read_table` returns a pandas DataFrame with numpy-backed columns, so
the validation in :mod:`churnkit.events._tables` sees one kind of column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churnkit._memory import memory_tuning_enabled
from churnkit.events._tables import CONTRACTS
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["read_table", "numpy_backed", "column_names"]


def read_table(data, name: str, mapping=None, skip=()) -> pd.DataFrame:
    """A DataFrame, a path to a parquet or CSV file, a pyarrow Table or a polars
    DataFrame, as a pandas DataFrame with numpy-backed columns.

    pyarrow-backed and nullable dtypes (``int64[pyarrow]``, ``Int64``,
    ``timestamp[ns, tz=UTC][pyarrow]``, ``string[pyarrow]``) are converted once
    to their numpy equivalents (numbers with missing values to float64, Arrow
    timestamps to datetime64, text to object), so every later step sees one
    kind of column. CSV files are read with the id column as text, so ids such
    as ``"00123"`` keep their leading zeros. Columns in ``skip`` are not
    read (files) or not converted (frames); naming one the table does not
    have is an error. Text columns of an event table that its contract does not
    name stay as they are (Arrow-backed text is not turned into one Python
    string per row): the build codes them only when a feature first reads them.
    """
    df = _read_any(data, name, mapping, list(skip))
    return numpy_backed(df, keep_text=_extra_columns(df.columns, name, mapping))


def column_names(data) -> list | None:
    """The column names of a table as :func:`read_table` takes it, without
    reading its rows (a parquet schema, a CSV header); None when they cannot
    be had cheaply (an unknown format: :func:`read_table` will say why)."""
    if isinstance(data, pd.DataFrame):
        return list(data.columns)
    names = getattr(data, "column_names", None)
    if names is None and type(data).__module__.split(".")[0] == "polars":
        names = getattr(data, "columns", None)
    if names is not None:
        return list(names)
    if not isinstance(data, (str, Path)) or not Path(data).is_file():
        return None
    path = Path(data)
    suffixes = "".join(path.suffixes).lower()
    try:
        if ".parquet" in suffixes or ".pq" in suffixes:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if ".csv" in suffixes or ".txt" in suffixes:
            return list(pd.read_csv(path, nrows=0).columns)
    except Exception:  # a corrupt file: read_table names it with its error
        return None
    return None


def _extra_columns(present, name, mapping) -> set:
    """Columns of event table ``name`` its contract does not name."""
    if name not in ("usage", "billing", "support"):
        return set()
    contract = CONTRACTS[name]
    known = {"customer_id", *contract.times, *contract.numbers, *contract.categories}
    mapping = mapping if isinstance(mapping, dict) else {}
    return {c for c in present if mapping.get(c, c) not in known}


def _check_skip(skip, present, name) -> list:
    missing = [c for c in skip if c not in present]
    if missing:
        raise SchemaError(
            f"Table {name!r}: `columns` maps {missing} to None (not read) but the "
            f"table has no such column. Columns present: {list(present)}."
        )
    return skip


def _read_any(data, name: str, mapping, skip) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        if skip:
            return data.drop(columns=_check_skip(skip, data.columns, name))
        return data
    if type(data).__module__.split(".")[0] in ("pyarrow", "polars") and hasattr(
        data, "to_pandas"
    ):
        if skip:
            names = getattr(data, "column_names", None) or list(data.columns)
            skip = _check_skip(skip, names, name)
            data = (
                data.drop_columns(skip)
                if hasattr(data, "drop_columns")
                else (data.drop(skip))
            )
        return data.to_pandas()  # zero-copy where Arrow allows
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.exists():
            raise SchemaError(
                f"Table {name!r}: file {str(path)!r} does not exist. Pass an existing "
                "parquet or CSV file, or a pandas DataFrame."
            )
        suffixes = "".join(path.suffixes).lower()
        try:
            if ".parquet" in suffixes or ".pq" in suffixes:
                return _read_parquet(path, skip, name)
            if ".csv" in suffixes or ".txt" in suffixes:
                id_column = next(
                    (k for k, v in (mapping or {}).items() if v == "customer_id"),
                    "customer_id",
                )
                usecols = None
                if skip:
                    header = pd.read_csv(path, nrows=0).columns
                    unread = set(_check_skip(skip, header, name))
                    usecols = [c for c in header if c not in unread]
                frame = pd.read_csv(
                    path, low_memory=False, dtype={id_column: str}, usecols=usecols
                )
                return _zero_padded_as_text(frame, path)
        except SchemaError:
            raise
        except Exception as exc:  # corrupt files: re-raise with the table named
            raise SchemaError(
                f"Table {name!r}: could not read {str(path)!r} "
                f"({type(exc).__name__}: {exc}). Check that the file is a complete "
                "parquet or CSV file."
            ) from exc
        raise SchemaError(
            f"Table {name!r}: cannot tell the format of {str(path)!r}; use a .parquet "
            "or .csv file, or read it yourself and pass a DataFrame."
        )
    raise ChurnkitTypeError(
        f"Table {name!r} must be a pandas DataFrame or a path to a parquet/CSV file; "
        f"got {type(data).__name__}."
    )


def _zero_padded_as_text(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Integer columns of a CSV whose text has leading zeros, read back as
    text: a zip code "01046" or an account number "007" is a code, not the
    number 1046 (pandas read it so, and the code became a numeric feature,
    "zip code prefix 88,066 (typical: 20,047)")."""
    ints = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])]
    if not ints:
        return frame
    text = pd.read_csv(path, usecols=ints, dtype=str, low_memory=False)
    padded = [c for c in ints if text[c].str.match(r"^\s*[+-]?0\d").any()]
    for column in padded:
        frame[column] = text[column]
    return frame


def numpy_backed(df: pd.DataFrame, keep_text=()) -> pd.DataFrame:
    """``df`` with Arrow-backed and nullable extension columns as numpy dtypes.

    Integers and floats with missing values become float64 (NaN), without
    missing values their numpy type; booleans with missing values object;
    Arrow timestamps datetime64[ns] (time-zone aware ones keep their zone);
    Arrow text and nullable strings object. Ids (``customer_id``) with missing
    values stay as they are: the build counts null ids. The frame is copied
    only when a column changes. Text columns in ``keep_text`` are left as they
    are.
    """
    changed = {}
    for col in df.columns:
        dtype = df[col].dtype
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype) or isinstance(
            dtype, pd.CategoricalDtype | pd.DatetimeTZDtype | pd.PeriodDtype
        ):
            continue
        if col in keep_text and _is_text(dtype):
            continue
        series = df[col]
        if isinstance(dtype, pd.ArrowDtype):
            import pyarrow as pa

            arrow = dtype.pyarrow_dtype
            if pa.types.is_timestamp(arrow):
                unit_dtype = (
                    pd.DatetimeTZDtype("ns", arrow.tz) if arrow.tz else "datetime64[ns]"
                )
                changed[col] = _timestamps_of(series, unit_dtype)
                continue
            if pa.types.is_date(arrow):
                changed[col] = _timestamps_of(series, "datetime64[ns]")
                continue
            if pa.types.is_dictionary(arrow):
                changed[col] = series.astype(object).astype("category")
                continue
        if pd.api.types.is_bool_dtype(dtype):
            changed[col] = (
                series.astype(bool)
                if not series.isna().any()
                else series.astype(object)
            )
        elif pd.api.types.is_numeric_dtype(dtype):
            if series.isna().any():
                if col == "customer_id":
                    continue  # counted as null ids by the build
                changed[col] = series.astype("float64")
            else:
                changed[col] = series.to_numpy(dtype=_numpy_dtype(dtype))
        else:  # text and other Arrow types
            values = series.astype(object).to_numpy()
            changed[col] = np.where(pd.isna(values), None, values)
    if not changed:
        return df
    out = df.copy(deep=False)
    for col, values in changed.items():
        out[col] = (
            pd.Series(values, index=df.index, name=col)
            if isinstance(values, np.ndarray)
            else values
        )
    return out


def _is_text(dtype) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        arrow = dtype.pyarrow_dtype
        return pa.types.is_string(arrow) or pa.types.is_large_string(arrow)
    return False


def _numpy_dtype(dtype) -> np.dtype:
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is None or np.dtype(numpy_dtype).kind == "O":
        return np.dtype("float64")
    return np.dtype(numpy_dtype)


def _timestamps_of(series: pd.Series, dtype) -> pd.Series:
    try:
        return series.astype(dtype)
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        # dates beyond 2262 in an Arrow column: keep microseconds here, the
        # time parser counts them as out of range
        unit = "us"
        if isinstance(dtype, pd.DatetimeTZDtype):
            return series.astype(pd.DatetimeTZDtype(unit, dtype.tz))
        return series.astype(f"datetime64[{unit}]")


#: Parquet files are read in this many batches of columns (see _read_parquet).
READ_BATCHES = 4


def _read_parquet(path: Path, skip=(), name="") -> pd.DataFrame:
    """Parquet, one column at a time, text columns as pandas Categoricals.

    Event kinds repeat millions of times; reading them dictionary-encoded
    avoids materialising one Python string per row. The columns are read in
    :data:`READ_BATCHES` batches (one column at a time for a narrow event
    table), each converted and its Arrow buffers freed before the next is
    read, so the file is never held twice (Arrow table and pandas frame): at
    50M usage events the read peaked at 2.3 GiB instead of 3.7 GiB, and took
    1.8 s instead of 2.4 s. Files written by pandas with a stored index are
    read whole, so the index is restored as before.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    unread = set(_check_skip(skip, schema.names, name))
    columns = [c for c in schema.names if c not in unread]
    text = {
        f.name
        for f in schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and f.name not in unread
    }
    index_columns = [
        c
        for c in (schema.pandas_metadata or {}).get("index_columns", [])
        if isinstance(c, str)  # a RangeIndex is stored as a dict, not a column
    ]

    def read():
        if index_columns:
            table = pq.read_table(
                path,
                columns=columns if unread else None,
                read_dictionary=list(text),
                use_pandas_metadata=True,
            )
            return table.to_pandas(split_blocks=True, self_destruct=True)
        read_columns = {}
        # a quarter of the columns at a time: narrow event tables one by one,
        # wide ones in batches that keep Arrow's parallel column decoding.
        # (read_table decodes row groups in parallel; ParquetFile.read took
        # twice as long on one column of 50M rows)
        size = max(1, -(-len(columns) // READ_BATCHES))
        for start in range(0, len(columns), size):
            batch = columns[start : start + size]
            table = pq.read_table(
                path, columns=batch, read_dictionary=[c for c in batch if c in text]
            )
            frame = table.to_pandas(split_blocks=True, self_destruct=True)
            # the labels pandas gives them (metadata may restore non-text names)
            for i in range(frame.shape[1]):
                read_columns[frame.columns[i]] = frame.iloc[:, i]
            del table, frame
        if not read_columns:
            return pd.DataFrame(index=pd.RangeIndex(pq.read_metadata(path).num_rows))
        return pd.DataFrame(read_columns, copy=False)  # the columns as read

    # Arrow's own allocator (mimalloc) keeps its freed pages apart from
    # numpy's and hands them back to the kernel in small pieces: with the
    # system allocator, the read buffers freed by the conversion are reused by
    # the build that follows (about 4 s less kernel time on 50M rows on a VM).
    # The pool is process-wide: swapped only with ck.set_memory_tuning(True).
    if not memory_tuning_enabled():
        return read()
    pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        return read()
    finally:
        pa.set_memory_pool(pool)

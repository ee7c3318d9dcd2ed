"""Parquet files are read one column at a time, with the same frame as a whole read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import churnkit as ck
from churnkit.events._read import read_table


def _usage(n=50):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 5, n),
            "time": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "event": rng.choice(["login", "export", "登录"], n),
            "quantity": rng.random(n),
        }
    )


def _whole(path, skip=()):
    """What the reader returned before: one whole-table read."""
    schema = pq.read_schema(path)
    text = [
        f.name
        for f in schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    columns = [c for c in schema.names if c not in skip] if skip else None
    table = pq.read_table(path, columns=columns, read_dictionary=text)
    return table.to_pandas()


@pytest.mark.parametrize("memory_tuning", [False, True])
def test_column_by_column_read_equals_a_whole_read(tmp_path, memory_tuning):
    df = _usage()
    df["nullable"] = pd.array([1, None] * 25, dtype="Int64")
    df["zoned"] = df["time"].dt.tz_localize("Europe/Paris")
    df["flag"] = df["quantity"] > 0.5
    path = tmp_path / "usage.parquet"
    # several row groups: every column arrives in chunks
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, 16)
    before = ck.set_memory_tuning(memory_tuning)
    try:
        got = read_table(path, "usage", skip=["flag"])
    finally:
        ck.set_memory_tuning(before)
    expected = _whole(path, skip=["flag"])
    assert list(got.columns) == list(expected.columns)
    assert isinstance(got["event"].dtype, pd.CategoricalDtype)
    assert got["nullable"].dtype == "float64" and got["nullable"].isna().sum() == 25
    assert str(got["zoned"].dt.tz) == "Europe/Paris"
    pd.testing.assert_frame_equal(
        got.drop(columns="nullable"), expected.drop(columns="nullable")
    )
    np.testing.assert_array_equal(
        got["nullable"].to_numpy(), expected["nullable"].to_numpy("float64", np.nan)
    )


def test_a_file_with_a_stored_index_keeps_it(tmp_path):
    customers = pd.DataFrame(
        {"signup_time": pd.to_datetime(["2024-01-01", "2024-01-02"])},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    path = tmp_path / "customers.parquet"
    customers.to_parquet(path)
    got = read_table(path, "customers")
    pd.testing.assert_frame_equal(got, _whole(path))
    assert got.index.tolist() == ["a", "b"] and got.index.name == "customer_id"


def test_a_store_built_from_files_equals_one_built_from_frames(tmp_path):
    data = ck.datasets.make_saas_events(n_customers=60, random_state=0)
    tables = {
        "customers": data.customers,
        "usage": data.usage,
        "billing": data.billing,
        "support": data.support,
    }
    paths = {}
    for name, df in tables.items():
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name], index=False)
    from_files = ck.Events(**paths)
    from_frames = ck.Events(**tables)
    X = ck.make_cutoffs(from_frames, at="2024-06-01")
    builder = ck.ChurnFeatures(from_frames)
    expected = builder.fit_transform(X)
    got = ck.ChurnFeatures(from_files).fit_transform(X)
    pd.testing.assert_frame_equal(got, expected)

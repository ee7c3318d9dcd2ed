"""Scoring a few accounts takes their customers' attributes column by column.

``RestrictedEvents.customers`` (the part of the customers table a small batch
reads) takes a column when a spec first reads it, never the Arrow-backed
customer ids, whose ``take`` costs O(customers). What it holds must be what
``customers.iloc[codes].reset_index(drop=True)`` holds, and the features of
a small batch must equal those of the unrestricted path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

import churnkit as ck
from churnkit.features import _windows
from churnkit.features._context import RestrictedCustomers


def _customers(n=50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    ids = pa.chunked_array(  # several chunks, as a loaded store holds them
        [[f"c{i:03d}" for i in range(k, min(k + 16, n))] for k in range(0, n, 16)]
    )
    return pd.DataFrame(
        {
            "customer_id": pd.Series(pd.arrays.ArrowStringArray(ids)),
            "signup_time": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "seats": rng.integers(1, 20, n),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
            "score": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )


def test_restricted_columns_equal_the_taken_rows():
    customers = _customers()
    codes = np.array([7, 3, 41, 3])
    restricted = RestrictedCustomers(customers, codes)
    taken = customers.iloc[codes].reset_index(drop=True)
    assert list(restricted.columns) == list(customers.columns)
    assert "seats" in restricted and "tier" not in restricted
    assert len(restricted) == 4
    for column in customers.columns:
        pd.testing.assert_series_equal(restricted[column], taken[column])
    assert restricted["seats"] is restricted["seats"]  # taken once


def test_small_batch_features_equal_the_unrestricted_path(monkeypatch):
    customers = _customers(200)
    rng = np.random.default_rng(1)
    n = 3000
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(customers["customer_id"].to_numpy(), n),
            "time": pd.Timestamp("2024-04-01")
            + pd.to_timedelta(rng.integers(0, 120 * 24, n), unit="h"),
            "event": rng.choice(["login", "export"], n),
        }
    )
    events = ck.Events(customers=customers, usage=usage)
    specs = [
        ck.FeatureSpec("seats", "customers", "attribute", column="seats"),
        ck.FeatureSpec("score", "customers", "attribute", column="score"),
        ck.FeatureSpec("tenure", "customers", "tenure_days"),
        ck.FeatureSpec("logins_30d", "usage", "count", window="30D"),
    ]
    X = pd.DataFrame(
        {
            "customer_id": ["c150", "c007", "c150"],
            "cutoff_time": pd.to_datetime(["2024-07-01", "2024-06-01", "2024-05-01"]),
        }
    )
    restricted = ck.compute_features(events, X, specs)  # 2 of 200: restricted
    monkeypatch.setattr(_windows, "RESTRICT_BELOW", 0.0)
    full = ck.compute_features(events, X, specs)
    pd.testing.assert_frame_equal(restricted, full, check_exact=True)
    seats = customers.set_index("customer_id")["seats"]
    np.testing.assert_array_equal(
        restricted["seats"].to_numpy(), seats.loc[X["customer_id"]].to_numpy(float)
    )

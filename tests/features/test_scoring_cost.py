"""Scoring cost follows the accounts scored, not the size of the store (issue 23).

A one-account transform used to convert the attributes of every customer in
the store (twice) and to rebuild a signup lookup over all customers; a feature
frame's ``attrs`` were deep-copied into every column read. Each test here pins
the work done per call, or that the fast path gives the full path's values.
"""

from __future__ import annotations

import contextlib
import copy
import json
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.features._frozen import FrozenMapping
from churnkit.features._reference import tenure_days

N_CUSTOMERS = 400


class Counted:
    """A customer attribute that counts how often it is turned into text."""

    calls = 0

    def __init__(self, value):
        self.value = value

    def __str__(self):
        Counted.calls += 1
        return self.value


def _events(attribute=None) -> ck.Events:
    rng = np.random.default_rng(0)
    ids = [f"c{i:04d}" for i in range(N_CUSTOMERS)]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_time": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 300, N_CUSTOMERS), "D"),
            "plan": rng.choice(["basic", "pro", None], N_CUSTOMERS),
            "seats": rng.integers(1, 20, N_CUSTOMERS).astype(float),
        }
    )
    if attribute is not None:
        customers["tier"] = attribute
    n = 4000
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n),
            "time": pd.Timestamp("2023-11-01")
            + pd.to_timedelta(rng.integers(0, 60 * 86400, n), "s"),
            "event": rng.choice(["login", "export"], n),
        }
    )
    return ck.Events(customers=customers, usage=usage)


@pytest.fixture(scope="module")
def events():
    return _events()


@pytest.fixture(scope="module")
def fitted(events):
    X = ck.make_cutoffs(events, at="2024-01-01")
    return ck.ProfileFeatures(events).fit(X), X


def test_one_account_converts_one_customers_attributes():
    tiers = [Counted(v) for v in np.random.default_rng(1).choice(["a", "b"], 400)]
    events = _events(tiers)
    X = ck.make_cutoffs(events, at="2024-01-01")
    builder = ck.ProfileFeatures(events, attributes=("tier",), cohort=False).fit(X)
    Counted.calls = 0
    out = builder.transform(X.iloc[[7]])
    # one row: its value converted a few times (unseen-value check, column),
    # not the store's 400 customers
    assert 1 <= Counted.calls <= 4
    one = Counted.calls
    Counted.calls = 0
    builder.transform(X.iloc[:10])
    assert Counted.calls == 10 * one
    assert out["profile__tier"].iloc[0] == str(tiers[7].value)
    Counted.calls = 0
    builder.transform(X)  # the whole store: every customer, once per use
    assert N_CUSTOMERS <= Counted.calls <= one * N_CUSTOMERS


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.integers(0, N_CUSTOMERS - 1), min_size=1, max_size=60),
    reverse=st.booleans(),
)
def test_a_batch_gets_the_rows_of_the_full_transform(fitted, rows, reverse):
    builder, X = fitted
    full = builder.transform(X)
    rows = rows[::-1] if reverse else rows  # duplicates and any order
    part = builder.transform(X.iloc[rows])
    expected = full.iloc[rows]
    pd.testing.assert_frame_equal(part, expected)


def test_tenure_days_by_hand(events):
    customers = events.customers.set_index("customer_id")
    ids = ["c0003", "c0100", "c0003"]
    cutoffs = pd.to_datetime(
        ["2024-01-01 00:00", "2024-02-15 12:00", "2023-12-01 00:00"]
    )
    index = pd.MultiIndex.from_arrays(
        [ids, cutoffs], names=["customer_id", "cutoff_time"]
    )
    signup = customers.loc[ids, "signup_time"].to_numpy()
    expected = (cutoffs.to_numpy() - signup) / np.timedelta64(1, "D")
    np.testing.assert_array_equal(tenure_days(events, index), expected)


def test_tenure_days_of_unknown_ids_are_missing(events):
    index = pd.MultiIndex.from_arrays(
        [["nobody", "c0001"], pd.to_datetime(["2024-01-01", "2024-01-01"])],
        names=["customer_id", "cutoff_time"],
    )
    days = tenure_days(events, index)
    assert np.isnan(days[0]) and not np.isnan(days[1])


def test_frozen_mapping_is_copied_by_reference():
    directions = FrozenMapping({"a": "higher", "b": "lower"})
    assert copy.deepcopy(directions) is directions
    assert copy.copy(directions) is directions
    assert directions == {"a": "higher", "b": "lower"}
    assert dict(directions) == {"a": "higher", "b": "lower"}
    with pytest.raises(TypeError):
        directions["a"] = "lower"
    import pickle

    assert pickle.loads(pickle.dumps(directions)) == directions
    # a dict to what takes one: pandas writes attrs to Parquet as JSON (was:
    # "Object of type FrozenMapping is not JSON serializable")
    assert json.loads(json.dumps(directions)) == directions
    for write in ("update", "pop", "clear", "setdefault", "popitem"):
        with pytest.raises(TypeError, match="read-only"):
            getattr(directions, write)("a")


def test_feature_frame_columns_share_the_directions(events):
    X = ck.make_cutoffs(events, at="2024-01-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ck.ChurnFeatures(events).fit_transform(X)
    directions = out.attrs["feature_directions"]
    assert isinstance(directions, FrozenMapping)
    assert set(directions) == set(out.columns)
    column = out[out.columns[0]]
    assert column.attrs["feature_directions"] is directions  # not a deep copy
    with tempfile.TemporaryDirectory() as tmp:  # Parquet keeps frame and attrs
        out.to_parquet(Path(tmp) / "features.parquet")
        back = pd.read_parquet(Path(tmp) / "features.parquet")
    pd.testing.assert_frame_equal(back, out)
    assert back.attrs["feature_directions"] == directions


# --------------------------------------------------------------- row order
# The kernel evaluates rows in (customer, cutoff) order and puts the results
# back in X's order; EventTable.positions does the same for its searches.
# Values must not depend on X's row order, to the bit.

S = ck.FeatureSpec
ORDER_SPECS = [
    S("n_7d", "usage", "count", window="7D"),
    S("n_30d", "usage", "count", window="30D"),
    S("n_all", "usage", "count"),
    S("q_sum_30d", "usage", "sum", column="quantity", window="30D"),
    S("q_mean_7d", "usage", "mean", column="quantity", window="7D"),
    S("q_min_30d", "usage", "min", column="quantity", window="30D"),
    S("q_max_30d", "usage", "max", column="quantity", window="30D"),
    S("q_prev_30d", "usage", "sum", column="quantity", window="30D", offset="30D"),
    S("days_30d", "usage", "active_days", window="30D"),
    S("since_last", "usage", "days_since_last"),
    S("since_first_30d", "usage", "days_since_first", window="30D"),
    S("last_kind", "usage", "last", column="event"),
    S("first_q_30d", "usage", "first", column="quantity", window="30D"),
    S("kinds_30d", "usage", "distinct", column="event", window="30D"),
    *[
        S(f"{k}_{w}", "usage", "count", window=w, where={"event": k})
        for k in ("login", "export", "view")
        for w in ("7D", "30D")
    ],
    S("tenure", "customers", "tenure_days"),
]


def _order_store(seed: int):
    rng = np.random.default_rng(seed)
    n_customers, n = 30, 1500
    ids = [f"k{i:02d}" for i in range(n_customers)]
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_time": pd.Timestamp("2023-01-01")}
    )
    # whole days and hours only: many events at a cutoff instant or exactly on
    # a window bound, and ties between events
    hours = (
        rng.integers(0, 24 * 90, n) // rng.choice([1, 24], n) * rng.choice([1, 24], n)
    )
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n),
            "time": pd.Timestamp("2023-03-01") + pd.to_timedelta(hours, "h"),
            "event": rng.choice(["login", "export", "view"], n),
            "quantity": rng.choice([1.0, 2.5, np.nan, 4.0], n),
        }
    )
    events = ck.Events(customers=customers, usage=usage, errors="drop")
    # cutoffs at midnight (window bounds by day keys) and at event instants
    # (per-customer bisection), some before any event (empty windows)
    m = 400
    at = pd.Timestamp("2023-02-20") + pd.to_timedelta(
        rng.integers(0, 24 * 110, m) // rng.choice([1, 24], m) * rng.choice([1, 24], m),
        "h",
    )
    X = pd.DataFrame({"customer_id": rng.choice(ids, m), "cutoff_time": at})
    return events, X


@contextlib.contextmanager
def sort_every_batch():
    """Sort rows from two on (by default only batches of 2,048 rows or more)."""
    from churnkit.events import _store

    with mock.patch.object(_store, "SORT_QUERIES_FROM", 2):
        yield


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), perm_seed=st.integers(0, 2**16))
def test_features_do_not_depend_on_the_row_order(seed, perm_seed):
    events, X = _order_store(seed)
    ordered = X.sort_values(["customer_id", "cutoff_time"]).reset_index(drop=True)
    perm = np.random.default_rng(perm_seed).permutation(len(ordered))
    for shuffled in (ordered.iloc[perm], ordered.iloc[::-1]):
        with warnings.catch_warnings(), sort_every_batch():
            warnings.simplefilter("ignore")
            a = ck.compute_features(events, ordered, ORDER_SPECS)
            b = ck.compute_features(events, shuffled, ORDER_SPECS)
        # row j of `shuffled` is row shuffled.index[j] of `ordered`
        expected = a.iloc[shuffled.index.to_numpy()]
        pd.testing.assert_frame_equal(b, expected, check_exact=True)


def test_row_order_counts_by_hand():
    day = pd.Timedelta("1D")
    t0 = pd.Timestamp("2023-03-10")
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": pd.Timestamp("2023-01-01")}
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            # a: one event 7 days before the cutoff (inside the 7-day window,
            # on its bound), one at the cutoff (not before it: out), one between
            "time": [t0 - 7 * day, t0 - day, t0, t0 - 8 * day],
            "event": ["login"] * 4,
        }
    )
    events = ck.Events(customers=customers, usage=usage)
    X = pd.DataFrame(
        {"customer_id": ["b", "a", "a"], "cutoff_time": [t0, t0, t0 + day]}
    )
    spec = [S("n_7d", "usage", "count", window="7D")]
    with sort_every_batch():
        got = ck.compute_features(events, X, spec)["n_7d"].to_numpy()
    # b: its event 8 days before is outside; a at t0: 2; a at t0+1d: the one
    # at t0-7d drops out (8 days before), the ones at t0-1d and t0 count
    np.testing.assert_array_equal(got, [0.0, 2.0, 2.0])

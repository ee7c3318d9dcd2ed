"""Columns an event table's contract does not name cost nothing until used.

Issue 16: an unused text column unique per row made the store build several
times slower. Such columns are now kept as given and coded to categories the
first time something reads them; the store they give is the one an eager
build gives (same codes, categories, row order, tie-breaks).
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.events import _tables

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [f"c{i}" for i in range(6)],
        "signup_time": pd.Timestamp("2023-01-01"),
    }
)


def _usage(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.choice(CUSTOMERS.customer_id, n),
            # few distinct times: many ties at equal times
            "time": pd.Timestamp("2023-02-01")
            + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "event": rng.choice(["login", "view"], n),
            "quantity": rng.choice([1.0, 2.0, -1.0], n, p=[0.45, 0.45, 0.1]),
            "note": rng.choice(["x", "y", "Zed", "é", None], n),
            "device": rng.choice(["ios", "web"], n),
        }
    )


def _eager(usage, **kwargs) -> ck.Events:
    """The same store with the extra text columns coded at build time."""
    contract = _tables.CONTRACTS["usage"]
    eager = dataclasses.replace(
        contract, categories={**contract.categories, "note": (), "device": ()}
    )
    _tables.CONTRACTS["usage"] = eager
    try:
        return ck.Events(customers=CUSTOMERS, usage=usage, **kwargs)
    finally:
        _tables.CONTRACTS["usage"] = contract


def _same_store(lazy: ck.Events, eager: ck.Events) -> None:
    a, b = lazy._engine.table("usage"), eager._engine.table("usage")
    np.testing.assert_array_equal(a.offsets, b.offsets)
    np.testing.assert_array_equal(a.time, b.time)
    assert list(a.columns) == list(b.columns)
    for column in b.columns:
        np.testing.assert_array_equal(a.columns[column], b.columns[column])
        if b.kinds[column] == "category":
            assert tuple(a.categories[column]) == tuple(b.categories[column])


def test_extra_text_columns_are_not_coded_at_build():
    events = ck.Events(customers=CUSTOMERS, usage=_usage(0).query("quantity >= 0"))
    table = events._engine.table("usage")
    assert table.columns.deferred == ("note", "device")
    assert table.kinds["note"] == "category"
    assert not any(table.columns._deferred[c].coded for c in ("note", "device"))
    # reading one codes that one only
    assert table.categories["device"] == ("ios", "web")
    assert table.columns._deferred["device"].coded
    assert not table.columns._deferred["note"].coded


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), shuffle=st.booleans())
def test_deferred_store_equals_eager_store(seed, shuffle):
    usage = _usage(seed)
    if shuffle:
        usage = usage.sample(frac=1.0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = ck.Events(customers=CUSTOMERS, usage=usage, errors="drop")
        eager = _eager(usage, errors="drop")
    assert lazy.report.rows.sum() == eager.report.rows.sum() > 0  # rows dropped
    _same_store(lazy, eager)


def test_ties_are_broken_by_deferred_columns_like_coded_ones():
    # two rows of one customer at one instant, same kind: only `note` differs
    usage = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1"],
            "time": pd.to_datetime(["2023-02-01"] * 3),
            "event": ["login"] * 3,
            "note": ["b", "a", None],
        }
    )
    for rows in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        events = ck.Events(customers=CUSTOMERS, usage=usage.iloc[rows])
        table = events._engine.table("usage")
        # missing first (code -1), then "a", then "b"
        np.testing.assert_array_equal(table.columns["note"], [-1, 0, 1])
        assert table.categories["note"] == ("a", "b")


def test_pickle_save_and_tables_carry_the_coded_column(tmp_path):
    usage = _usage(3).query("quantity >= 0")
    events = ck.Events(customers=CUSTOMERS, usage=usage)
    eager = _eager(usage)
    copy = pickle.loads(pickle.dumps(events))
    _same_store(copy, eager)
    assert not copy._engine.table("usage").columns["note"].flags.writeable
    events.save(tmp_path / "store")
    _same_store(ck.Events.load(tmp_path / "store"), eager)
    frame = events.frame("usage")
    assert frame["note"].isna().sum() == usage["note"].isna().sum()
    assert sorted(frame["device"].dropna().unique()) == ["ios", "web"]


def test_a_spec_reading_a_deferred_column_codes_it_and_learns_its_vocabulary():
    usage = _usage(4).query("quantity >= 0")
    events = ck.Events(customers=CUSTOMERS, usage=usage)
    spec = ck.FeatureSpec(
        "usage__web_events_30d", "usage", "count", window="30D", where={"device": "web"}
    )
    X = ck.make_cutoffs(events, at="2023-02-10")
    builder = ck.CustomFeatures(events, specs=(spec,)).fit(X)
    got = builder.transform(X)["usage__web_events_30d"]
    web = usage[usage.device == "web"].groupby("customer_id").size()
    expected = web.reindex(X["customer_id"]).fillna(0).to_numpy()
    np.testing.assert_array_equal(got.to_numpy(), expected)
    table = events._engine.table("usage")
    assert table.columns._deferred["device"].coded
    assert not table.columns._deferred["note"].coded  # still unread


def test_fitting_the_default_pipeline_leaves_unused_columns_uncoded():
    data = ck.datasets.make_saas_events(n_customers=60, random_state=0)
    usage = data.events.frame("usage")
    usage = usage.assign(request_id=[f"r{i}" for i in range(len(usage))])
    events = ck.Events(customers=data.events.customers, usage=usage)
    X = ck.make_cutoffs(events, start="2024-03-01", end="2024-06-01", freq="MS")
    features = ck.UsageFeatures(events).fit(X)
    features.transform(X)
    table = events._engine.table("usage")
    assert table.columns.deferred == ("request_id",)
    assert not table.columns._deferred["request_id"].coded


@pytest.mark.parametrize("dtype", ["object", "str", "string[pyarrow]"])
def test_text_dtypes_of_an_extra_column_code_alike(dtype):
    usage = _usage(5).query("quantity >= 0")
    usage = usage.assign(note=usage["note"].astype(dtype))
    events = ck.Events(customers=CUSTOMERS, usage=usage)
    eager = _eager(usage.assign(note=usage["note"].astype(object)))
    _same_store(events, eager)

"""The partitioned layout: stable buckets, write/read round trip, manifest errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.distributed import (
    MANIFEST,
    bucket_of,
    open_layout,
    write_layout,
    write_manifest,
)
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from tests.shapes import stripe_like


def _fnv1a(text: str) -> int:
    """The reference: FNV-1a 64 over the UTF-8 bytes, one byte at a time."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return h


# ------------------------------------------------------------------ bucket_of
def test_bucket_of_known_values():
    # FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector)
    assert _fnv1a("a") == 0xAF63DC4C8601EC8C
    assert bucket_of(["a"], 2**31 - 1).tolist() == [0xAF63DC4C8601EC8C % (2**31 - 1)]
    assert bucket_of(["a", "b", "C-1042"], 16).tolist() == [
        _fnv1a("a") % 16,
        _fnv1a("b") % 16,
        _fnv1a("C-1042") % 16,
    ]
    assert bucket_of([], 8).dtype == np.int32


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(st.text(min_size=0, max_size=12).filter(lambda s: "\x00" not in s)),
    n_buckets=st.integers(1, 1000),
)
def test_bucket_of_equals_reference_for_any_text(ids, n_buckets):
    expected = [_fnv1a(i) % n_buckets for i in ids]
    got = bucket_of(np.array(ids, dtype=object), n_buckets)
    assert got.dtype == np.int32
    assert got.tolist() == expected
    # row order does not matter: each id's bucket is its own
    perm = np.random.default_rng(0).permutation(len(ids))
    assert bucket_of(np.array(ids, dtype=object)[perm], n_buckets).tolist() == [
        expected[i] for i in perm
    ]


@settings(max_examples=100, deadline=None)
@given(ids=st.lists(st.integers(-(2**63), 2**63 - 1)), n=st.integers(1, 512))
def test_integer_ids_hash_their_decimal_text(ids, n):
    assert bucket_of(np.array(ids, dtype=np.int64), n).tolist() == [
        _fnv1a(str(i)) % n for i in ids
    ]


def test_whole_float_ids_hash_as_the_integers_they_are():
    # an id column with a blank cell reads as float64 from a CSV: 8.0 is
    # customer 8 on one machine, and must land in customer 8's bucket
    ids = [8, 1042, -3, 2**40]
    expected = bucket_of(np.array(ids, dtype=np.int64), 16).tolist()
    assert bucket_of(pd.Series(ids, dtype="float64"), 16).tolist() == expected
    with pytest.raises(ChurnkitTypeError, match=r"with fractions, e.g. \[8.5\]"):
        bucket_of(np.array([8.5, 9.0]), 16)


def test_bucket_of_containers_agree():
    ids = ["x1", "ü-2", "日本-3", "😀", "plain"]
    expected = bucket_of(ids, 7).tolist()
    assert bucket_of(pd.Series(ids), 7).tolist() == expected
    assert bucket_of(pd.Series(ids, dtype="string"), 7).tolist() == expected
    assert bucket_of(pd.Series(ids, dtype="category"), 7).tolist() == expected
    assert bucket_of(pd.Index(ids), 7).tolist() == expected


def test_bucket_of_is_the_same_in_another_process():
    ids = ["a", "b", "C-1042", "é", "12345"]
    code = (
        "from churnkit.distributed import bucket_of;"
        f"print(bucket_of({ids!r}, 97).tolist())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(bucket_of(ids, 97).tolist())


def test_bucket_of_errors():
    with pytest.raises(SchemaError, match="null id"):
        bucket_of(pd.Series(["a", None]), 4)
    with pytest.raises(ChurnkitTypeError, match="`n_buckets` must be a positive"):
        bucket_of(["a"], 2.0)
    with pytest.raises(SchemaError, match="`n_buckets` must be a positive"):
        bucket_of(["a"], 0)


# ----------------------------------------------------------------- round trip
def _sorted(frame, keys):
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _same_tables(whole, parts):
    """Every table of ``whole`` equals the concatenation of ``parts``' tables."""
    for name in whole._engine.tables:
        a = _sorted(whole.frame(name), ["customer_id", "time"])
        frames = [p.frame(name) for p in parts]
        frames = [f for f in frames if len(f)] or frames  # empty ones: object ids
        b = _sorted(pd.concat(frames), ["customer_id", "time"])
        for col in a:  # category codes may differ per bucket: compare values
            if isinstance(a[col].dtype, pd.CategoricalDtype):
                a[col], b[col] = a[col].astype(object), b[col].astype(object)
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)
    # a bucket knows the churn kinds its own rows hold: compare the values
    a = _sorted(whole.spells, ["customer_id", "start"])
    b = _sorted(pd.concat([p.spells for p in parts]), ["customer_id", "start"])
    a["churn_kind"] = a["churn_kind"].astype(object)
    b["churn_kind"] = b["churn_kind"].astype(object)
    pd.testing.assert_frame_equal(a, b, check_exact=True, obj="spells")
    pd.testing.assert_frame_equal(
        whole.customers,
        _sorted(pd.concat([p.customers for p in parts]), ["customer_id"]),
        obj="customers",
    )


def test_round_trip_saas(saas, tmp_path):
    layout = write_layout(saas.events, tmp_path / "lay", n_buckets=8)
    assert layout.n_buckets == 8 and layout.buckets == list(range(8))
    assert layout.observed_until == saas.events.observed_until
    parts = [layout.read(b) for b in layout.buckets]
    _same_tables(saas.events, parts)
    for part in parts:
        # the global times, never the bucket's own
        assert part.observed_until == saas.events.observed_until
        assert part.first_event_time == saas.events.first_event_time
    # each bucket holds exactly the customers hashed to it
    for b, part in zip(layout.buckets, parts, strict=True):
        assert (bucket_of(part.customers["customer_id"], 8) == b).all()
    reopened = open_layout(tmp_path / "lay")
    assert reopened.manifest == layout.manifest
    assert reopened.rows()["usage"].sum() == len(saas.events.frame("usage"))


def test_files_are_hive_partitions_in_customer_time_order(saas, tmp_path):
    layout = write_layout(saas.events, tmp_path, n_buckets=4)
    files = layout.files("usage", 2)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "usage/bucket=2/part-0.parquet"
    ]
    frame = pd.read_parquet(files[0])
    assert frame.equals(_sorted(frame, ["customer_id", "time"]))
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["hash"] == "fnv1a64-utf8" and manifest["n_buckets"] == 4
    assert manifest["events"]["observed_until"] == "2025-07-01T00:00:00"
    assert manifest["tables"]["usage"]["columns"]["time"] == "timestamp[ns]"


# hand-built stores: returns, cancellations, grace, integer ids
def _returns_store(**options):
    customers = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4, 5], "signup_time": ["2024-01-01"] * 5}
    )
    subs = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 5],
            "start": ["2024-01-01", "2024-04-01", "2024-01-01", "2024-01-01"]
            + ["2024-02-01", "2024-01-01"],
            "end": ["2024-02-01", None, "2024-03-01", "2024-07-01", "2024-03-01"]
            + ["2024-02-03"],
            "cancel_time": [None, None, None, "2024-05-01", None, None],
        }
    )
    churn = pd.DataFrame(
        {"customer_id": [1, 2], "time": ["2024-02-01", "2024-03-01"]}
        | {"kind": ["voluntary", "involuntary"]}
    )
    usage = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 5, 1],
            "time": ["2024-01-05", "2024-04-02", "2024-01-07", "2024-02-01"]
            + ["2024-01-02", "2024-04-02"],
            "event": ["login", "login", "export", "login", "login", "export"],
        }
    )
    return ck.Events(
        customers=customers,
        subscriptions=subs,
        churn=churn,
        usage=usage,
        observed_until="2024-06-01",
        **options,
    )


@pytest.mark.parametrize("grace", ["0D", "3D"])
def test_round_trip_returns_and_cancellations(tmp_path, grace):
    events = _returns_store(grace=grace)
    layout = write_layout(events, tmp_path, n_buckets=3)
    parts = [layout.read(b) for b in layout.buckets]
    assert "subscriptions" in layout.tables
    _same_tables(events, parts)
    assert all(p.grace == events.grace for p in parts)
    churns = pd.concat([p.churns for p in parts])
    assert (
        _sorted(churns, ["customer_id", "time"])
        .astype(object)
        .equals(_sorted(events.churns, ["customer_id", "time"]).astype(object))
    )


def test_bucket_without_rows_of_a_table_reads_an_empty_table(tmp_path):
    events = _returns_store()
    layout = write_layout(events, tmp_path, n_buckets=7)
    rows = layout.rows()
    empty = rows.index[rows["usage"] == 0]
    assert len(empty)  # customer 4 has no usage: its bucket has none
    part = layout.read(int(empty[0]))
    assert len(part.frame("usage")) == 0
    assert list(part.frame("usage").columns) == ["customer_id", "time", "event"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n_customers=st.integers(1, 12),
    rows=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 200), st.sampled_from("abc")),
        max_size=40,
    ),
    n_buckets=st.integers(1, 6),
    integer_ids=st.booleans(),
)
def test_round_trip_property(
    tmp_path_factory, n_customers, rows, n_buckets, integer_ids
):
    ids = (
        list(range(n_customers))
        if integer_ids
        else [f"c{i}" for i in range(n_customers)]
    )
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_time": pd.Timestamp("2024-01-01")}
    )
    rows = [r for r in rows if r[0] < n_customers]
    usage = pd.DataFrame(
        {
            "customer_id": [ids[r[0]] for r in rows],
            "time": [
                pd.Timestamp("2024-01-01") + pd.Timedelta(hours=r[1]) for r in rows
            ],
            "event": [r[2] for r in rows],
        }
    )
    tables = {"customers": customers}
    if len(usage):
        tables["usage"] = usage
    events = ck.Events(**tables)
    folder = tmp_path_factory.mktemp("layout")
    layout = write_layout(tables, folder, n_buckets=n_buckets)
    assert layout.observed_until == events.observed_until
    parts = [layout.read(b) for b in layout.buckets]
    assert sorted(layout.buckets) == sorted(set(bucket_of(ids, n_buckets).tolist()))
    _same_tables(events, parts)


# --------------------------------------------------------------------- errors
def test_missing_manifest_is_half_written(saas, tmp_path):
    write_layout(saas.events, tmp_path, n_buckets=2)
    (tmp_path / MANIFEST).unlink()
    with pytest.raises(SchemaError, match="no _churnkit_layout.json.*half-written"):
        open_layout(tmp_path)


def test_counts_disagreeing_with_files_is_half_written(saas, tmp_path):
    layout = write_layout(saas.events, tmp_path, n_buckets=2)
    layout.files("support", 1)[0].unlink()
    with pytest.raises(SchemaError, match=r"Half-written.*'support'.*bucket 1"):
        open_layout(tmp_path)
    lazy = open_layout(tmp_path, verify=False)
    with pytest.raises(SchemaError, match=r"Half-written.*'support'.*bucket 1") as info:
        lazy.read(1)
    # a Layout opened before an overwrite meets this too: the fix is to open
    # it again, not to write good data again
    assert "after this Layout was opened, open it again" in str(info.value)


def test_write_refuses_a_non_empty_folder_unless_overwrite(saas, tmp_path):
    write_layout(saas.events, tmp_path, n_buckets=2)
    with pytest.raises(SchemaError, match="overwrite=True"):
        write_layout(saas.events, tmp_path, n_buckets=3)
    layout = write_layout(saas.events, tmp_path, n_buckets=3, overwrite=True)
    assert open_layout(tmp_path).n_buckets == 3 == layout.n_buckets
    assert not (tmp_path / "usage" / "bucket=5").exists()
    (tmp_path / "other").mkdir()
    other = tmp_path / "other"
    (other / "notes.txt").write_text("x")
    with pytest.raises(SchemaError, match="not a churnkit layout"):
        write_layout(saas.events, other, overwrite=True)


def test_write_layout_option_errors(saas, tmp_path):
    with pytest.raises(SchemaError, match="apply to raw tables"):
        write_layout(saas.events, tmp_path, observed_until="2025-01-01")
    with pytest.raises(ChurnkitTypeError, match="Events store or a dict"):
        write_layout([saas.usage], tmp_path)
    with pytest.raises(SchemaError, match="unknown table"):
        write_layout({"customers": saas.customers, "clicks": saas.usage}, tmp_path)


def test_read_an_empty_bucket_names_the_buckets(tmp_path):
    events = _returns_store()
    layout = write_layout(events, tmp_path, n_buckets=64)
    empty = next(b for b in range(64) if b not in layout.buckets)
    with pytest.raises(SchemaError, match="holds no customer"):
        layout.read(empty)


# ------------------------------------------------- a layout an engine wrote
def test_write_manifest_finishes_an_engine_written_layout(saas, tmp_path):
    """Tables written with pandas' hive partitioning, as Dask and Spark do."""
    n = 4
    for name in ("customers", "usage", "billing", "support", "churn"):
        frame = getattr(saas, name).copy()
        frame["bucket"] = bucket_of(frame["customer_id"], n)
        frame.to_parquet(tmp_path / name, partition_cols=["bucket"])
    manifest = write_manifest(tmp_path, n_buckets=n)
    layout = open_layout(tmp_path)
    # the default observed_until and first event are those of the whole data
    names = ("customers", "usage", "billing", "support", "churn")
    whole = ck.Events(**{name: getattr(saas, name) for name in names})
    assert layout.observed_until == whole.observed_until
    assert layout.observed_until == pd.Timestamp("2025-06-30 23:36:24.000000001")
    assert layout.first_event_time == whole.first_event_time
    assert manifest["events"]["grace"] == "0D"
    _same_tables(whole, [layout.read(b) for b in layout.buckets])
    # the end of the data can be given, as the SaaS generator does
    write_manifest(tmp_path, n_buckets=n, observed_until=saas.end)
    layout = open_layout(tmp_path)
    assert layout.observed_until == saas.events.observed_until
    _same_tables(saas.events, [layout.read(b) for b in layout.buckets])


def test_engine_written_layout_with_the_source_column_names(saas, tmp_path):
    """The files keep the lakehouse's names; the manifest carries the mapping."""
    columns = {
        "customers": {"account": "customer_id", "signed_up": "signup_time"},
        "usage": {"account": "customer_id", "ts": "time", "kind": "event"},
    }
    raw = {
        "customers": saas.customers.rename(
            columns={"customer_id": "account", "signup_time": "signed_up"}
        ),
        "usage": saas.usage.rename(
            columns={"customer_id": "account", "time": "ts", "event": "kind"}
        ),
    }
    for name, frame in raw.items():
        frame = frame.assign(bucket=bucket_of(frame["account"], 3))
        frame.to_parquet(tmp_path / name, partition_cols=["bucket"])
    write_manifest(tmp_path, n_buckets=3, columns=columns)
    layout = open_layout(tmp_path)
    whole = ck.Events(**raw, columns=columns)
    assert layout.observed_until == whole.observed_until
    assert layout.first_event_time == whole.first_event_time
    _same_tables(whole, [layout.read(b) for b in layout.buckets])


def test_a_layout_bucketed_another_way_is_refused(tmp_path):
    """customer number % 4 is not bucket_of: each bucket would hold part of a
    customer's rows, read as unknown customers, features wrong."""
    import pandas as pd
    import pytest

    from churnkit.distributed import bucket_of, write_manifest
    from churnkit.exceptions import SchemaError

    ids = [f"C-{i:05d}" for i in range(40)]
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_time": pd.to_datetime(["2024-01-01"] * 40)}
    )
    own = customers.assign(bucket=[i % 4 for i in range(40)])
    own.to_parquet(tmp_path / "own" / "customers", partition_cols=["bucket"])
    with pytest.raises(SchemaError, match=r"Table 'customers', bucket \d: \d+ row"):
        write_manifest(tmp_path / "own", n_buckets=4, observed_until="2024-06-01")
    right = customers.assign(bucket=bucket_of(customers["customer_id"], 4))
    right.to_parquet(tmp_path / "right" / "customers", partition_cols=["bucket"])
    write_manifest(tmp_path / "right", n_buckets=4, observed_until="2024-06-01")


def test_round_trip_keeps_the_subscriptions_mrr_beside_billing(tmp_path):
    # payments without `mrr` and subscriptions with one: revenue KPIs take the
    # subscriptions' MRR, which a store written as a layout must keep (was:
    # every bucket raised "Revenue metrics need MRR")
    subs, billing = stripe_like()
    billing = billing.iloc[[0, 4]]  # a's first payment, b's second: no mrr
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    layout = write_layout(events, tmp_path, n_buckets=3)
    assert "subscription_mrr" in layout.tables
    parts = [layout.read(b) for b in layout.buckets]
    assert len(parts) > 1
    _same_tables(events, parts)  # billing is still the payments only
    moves = ["mrr_start", "new_mrr", "expansion", "churned_mrr"]
    whole = ck.revenue_churn(events)[moves]
    summed = sum(
        ck.revenue_churn(p)[moves].reindex(whole.index, fill_value=0.0) for p in parts
    )
    pd.testing.assert_frame_equal(summed, whole, check_freq=False)
    # Jan: a 100 + b 50 new; Feb: c 30 new; Mar: b's 50 churned
    assert whole["new_mrr"].tolist() == [150.0, 30.0, 0.0]
    assert whole["churned_mrr"].tolist() == [0.0, 0.0, 50.0]
    # and a raw-table dict names only the tables a user writes
    with pytest.raises(SchemaError, match="unknown table"):
        write_layout({"subscription_mrr": billing}, tmp_path / "x", n_buckets=2)


@pytest.mark.parametrize("n_buckets", [0, -3, 2**31, 4.0, True])
def test_a_bad_n_buckets_is_refused_before_an_overwrite_empties_the_folder(
    tmp_path, n_buckets
):
    events = _returns_store()
    write_layout(events, tmp_path, n_buckets=3)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises((SchemaError, ChurnkitTypeError), match="`n_buckets` must"):
        write_layout(events, tmp_path, n_buckets=n_buckets, overwrite=True)
    with pytest.raises((SchemaError, ChurnkitTypeError), match="`n_buckets` must"):
        write_manifest(tmp_path, n_buckets=n_buckets)
    # the layout written before is whole (was: emptied, then a failure)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert open_layout(tmp_path).n_buckets == 3


def _late_usage_store():
    """12 customers signed up 2023-06-01; the usage extract begins 2024-01-01,
    but in bucket 1 of 2 (customers 2, 4, 5, 7, 11...) only on 2024-03-01."""
    ids = np.arange(12)
    bucket = bucket_of(ids, 2)
    customers = pd.DataFrame({"customer_id": ids, "signup_time": "2023-06-01"})
    rows = []
    for i in ids:
        start = pd.Timestamp("2024-01-01" if bucket[i] == 0 else "2024-03-01")
        rows += [(i, start + pd.Timedelta(days=10 * k)) for k in range(3)]
    usage = pd.DataFrame(rows, columns=["customer_id", "time"]).assign(event="login")
    return ck.Events(customers=customers, usage=usage, observed_until="2024-07-01")


@pytest.mark.parametrize("written_by", ["store", "engine"])
def test_inactivity_kpis_of_buckets_add_up_to_the_whole_store(tmp_path, written_by):
    # the inactivity clock starts where the WHOLE usage table begins: a bucket's
    # own first row is later (was: bucket 1 saw no churn in January, and the
    # buckets' sum disagreed with the whole store)
    events = _late_usage_store()
    layout = write_layout(events, tmp_path, n_buckets=2)
    if written_by == "engine":  # the times read from the files, as Dask/Spark do
        manifest = json.loads((tmp_path / MANIFEST).read_text())
        assert manifest["events"]["table_starts"] == {"usage": "2024-01-01T00:00:00"}
        write_manifest(tmp_path, n_buckets=2, observed_until="2024-07-01")
        layout = open_layout(tmp_path)
        assert layout.manifest["events"]["table_starts"] == {
            "usage": "2024-01-01T00:00:00"
        }
    columns = ["customers_start", "churned", "customers_end"]
    kw = {"inactivity": "30D", "start": "2024-01-01", "end": "2024-07-01"}
    whole = ck.churn_rate(events, **kw)[columns]
    parts = [ck.churn_rate(layout.read(b), **kw)[columns] for b in layout.buckets]
    summed = sum(p.reindex(whole.index, fill_value=0) for p in parts)
    pd.testing.assert_frame_equal(summed, whole, check_dtype=False, check_freq=False)
    # bucket 1's customers, idle from the extract's start (01-01) to 03-01,
    # churn 30 days into it, as in the whole store
    assert whole.loc["2024-01-01", "churned"] > 0


def test_inactivity_kinds_of_buckets_add_up_to_the_whole_store(tmp_path):
    # the kinds that count are the data set's: a bucket without one of them
    # (customer 0's 'renewal' lives in bucket 0 only) is not an error there,
    # and the buckets' KPIs add up to the whole store's
    events = _late_usage_store()
    usage = events.frame("usage")
    returns = usage.groupby("customer_id", as_index=False)["time"].max()
    returns["time"] += pd.Timedelta("60D")  # a return 60 days after the last login
    usage = pd.concat([usage, returns.assign(event="return")], ignore_index=True)
    usage.loc[usage["customer_id"] == 0, "event"] = "renewal"
    events = ck.Events(
        customers=events.customers, usage=usage, observed_until="2024-07-01"
    )
    layout = write_layout(events, tmp_path, n_buckets=2)
    columns = ["customers_start", "churned", "customers_end"]
    kw = {"inactivity": "30D", "start": "2024-01-01", "end": "2024-07-01"}
    kw["table"] = ("usage", ["login", "renewal"])
    whole = ck.churn_rate(events, **kw)[columns]
    stores = [layout.read(b) for b in layout.buckets]
    kinds = [s._engine.table("usage").categories["event"] for s in stores]
    assert ["renewal" in k for k in kinds].count(False) == 1
    parts = [ck.churn_rate(store, **kw)[columns] for store in stores]
    summed = sum(p.reindex(whole.index, fill_value=0) for p in parts)
    pd.testing.assert_frame_equal(summed, whole, check_dtype=False, check_freq=False)
    every = ck.churn_rate(events, **{**kw, "table": "usage"})[columns]
    assert not whole.equals(every)  # the returns are left out


def test_a_store_with_an_empty_table_is_written(tmp_path):
    # subscriptions that never end: the store's `churn` table has no row (was:
    # ValueError from zip() in the writer)
    subs = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 3],
            "start": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-10", "2024-03-01"]
            ),
            "end": pd.to_datetime([None, None, "2024-02-01", None]),
            "mrr": [100.0, 50.0, 20.0, 25.0],
        }
    )
    billing = pd.DataFrame(
        {"customer_id": [1], "time": pd.to_datetime(["2024-02-15"]), "mrr": [150.0]}
    ).assign(kind="invoice")
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    layout = write_layout(events, tmp_path, n_buckets=3)
    assert layout.rows()["churn"].sum() == 0
    parts = [layout.read(b) for b in layout.buckets]
    assert sum(p.n_customers for p in parts) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.DataQualityWarning)  # the MRR fill-in
        whole = ck.revenue_churn(events)["new_mrr"]
        summed = sum(
            ck.revenue_churn(p)["new_mrr"].reindex(whole.index, fill_value=0.0)
            for p in parts
        )
    pd.testing.assert_series_equal(summed, whole, check_freq=False)


def test_latest_times_of_many_files_stay_bounded_and_find_the_strays():
    from churnkit.distributed._stray import LatestTimes

    rng = np.random.default_rng(0)
    day = 86_400 * 10**9
    base = pd.Timestamp("2024-01-01").value
    files = [base + rng.integers(0, 365 * day, 2_500) for _ in range(400)]
    files[123] = np.append(files[123], base + 730 * day + np.arange(5) * day)
    seen = LatestTimes(sum(len(f) for f in files))
    for f in files:
        seen.add("usage", "time", f)
        # was every row of every file (each under `keep`): 1,000,005 here
        assert len(seen.times) <= 2 * seen.keep
    with pytest.warns(ck.DataQualityWarning, match=r"5 row\(s\) \('usage'.time: 5\)"):
        seen.warn_if_stray(pd.Timestamp(base + 735 * day))


def test_a_layout_of_a_store_keeps_its_cancellation_notices(tmp_path):
    # the layout's subscriptions are the store's spells, which cannot say
    # that c's notice held until its win-back started or that a's cancelled
    # add-on was none: the notices travel as their own table
    subs = pd.DataFrame(
        {"customer_id": ["a", "a", "c", "c", "d"],
         "start": ["2023-01-01", "2023-06-01", "2023-01-01", "2024-06-10",
                   "2023-02-01"],
         "end": [None, "2024-07-01", "2024-06-01", None, "2024-07-01"],
         "cancel_time": [None, "2024-05-15", "2024-05-15", None, "2024-05-20"]}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, grace="30D", observed_until="2024-08-01")
    X = pd.DataFrame(
        {"customer_id": ["a", "c", "c", "d"],
         "cutoff_time": pd.to_datetime(["2024-06-01", "2024-06-01", "2024-06-11",
                                        "2024-06-01"])}
    )  # fmt: skip
    builder = ck.ProfileFeatures(events, cohort=False).fit(X)
    whole = builder.transform(X)["profile__cancellation_notice"]
    assert whole.tolist() == [0.0, 1.0, 0.0, 1.0]
    layout = write_layout(events, tmp_path, n_buckets=3)
    assert "notices" in layout.tables
    parts = []
    for b in layout.buckets:
        part = layout.read(b)
        rows = X[X["customer_id"].isin(part.customers["customer_id"])]
        if len(rows):
            got = ck.ProfileFeatures(part, cohort=False).fit(rows).transform(rows)
            parts.append(got["profile__cancellation_notice"])
    pd.testing.assert_series_equal(pd.concat(parts).reindex(whole.index), whole)

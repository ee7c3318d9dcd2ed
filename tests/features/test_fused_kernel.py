"""The fused window kernel equals the numpy kernel, value for value and bit for bit.

The fused loops (churnkit.features._fused) serve large tables only; here they are
switched on for any size (``FUSED_FROM = 0``) and held against the numpy kernel
(switched off) on random stores, cutoffs in both orders, ties at equal times,
events exactly at the cutoff (never counted), empty windows, customers with no
events and unknown customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import SchemaError
from churnkit.features import _fused

T0 = pd.Timestamp("2024-03-01")
HOUR = pd.Timedelta("1h")
KINDS = ["login", "export", "api_call"]
CUSTOMERS = ["a", "b", "c", "d"]  # "d" never has events


def _set_fused(monkeypatch, on: bool, chunk_rows=3):
    monkeypatch.setattr(_fused, "FUSED_FROM", 0 if on else 10**15)
    monkeypatch.setattr(_fused, "FUSED_LOADED_FROM", 0 if on else 10**15)
    monkeypatch.setattr(_fused, "CHUNK_ROWS", chunk_rows)


def _both(monkeypatch, events, X, specs):
    """(numpy kernel, fused kernel) feature frames for the same call."""
    with monkeypatch.context() as m:
        _set_fused(m, False)
        reference = ck.compute_features(events, X, specs)
    with monkeypatch.context() as m:
        _set_fused(m, True)
        fused = ck.compute_features(events, X, specs)
    return reference, fused


def _assert_identical(reference, fused):
    """Equal to the bit: same values, same NaNs, same sign of zeros."""
    assert list(fused.columns) == list(reference.columns)
    pd.testing.assert_index_equal(fused.index, reference.index)
    for name in reference.columns:
        if reference[name].dtype != np.float64:  # the last plan, a category
            pd.testing.assert_series_equal(fused[name], reference[name])
            continue
        a = reference[name].to_numpy("float64")
        b = fused[name].to_numpy("float64")
        same = (a == b) & (np.signbit(a) == np.signbit(b))
        same |= np.isnan(a) & np.isnan(b)
        assert same.all(), (name, a[~same][:5], b[~same][:5])


def _customers():
    return pd.DataFrame(
        {"customer_id": CUSTOMERS, "signup_time": [T0 - pd.Timedelta("30D")] * 4}
    )


def _specs(where_kinds=("login",)):
    S = ck.FeatureSpec
    specs = []
    for window in ("1D", "3D", "10D"):
        w = window.lower()
        specs += [
            S(f"count_{w}", "usage", "count", window=window),
            S(f"qty_sum_{w}", "usage", "sum", column="quantity", window=window),
            S(f"qty_mean_{w}", "usage", "mean", column="quantity", window=window),
            S(f"active_days_{w}", "usage", "active_days", window=window),
            S(f"prev_count_{w}", "usage", "count", window=window, offset="2D"),
            S(
                f"prev_sum_{w}",
                "usage",
                "sum",
                column="quantity",
                window=window,
                offset="1D",
            ),
        ]
        specs += [
            S(f"{k}_count_{w}", "usage", "count", window=window, where={"event": k})
            for k in (*KINDS, "never_seen")
        ]
        specs += [
            S(
                f"pair_count_{w}",
                "usage",
                "count",
                window=window,
                where={"event": list(where_kinds) + ["export"]},
            ),
            S(
                f"login_sum_{w}",
                "usage",
                "sum",
                column="quantity",
                window=window,
                where={"event": "login"},
            ),
            S(
                f"login_mean_{w}",
                "usage",
                "mean",
                column="quantity",
                window=window,
                where={"event": "login"},
            ),
        ]
    specs += [
        S("count_all", "usage", "count"),
        S("qty_sum_all", "usage", "sum", column="quantity"),
        S("since_last", "usage", "days_since_last"),
        S("since_first", "usage", "days_since_first"),
        S("since_last_3d", "usage", "days_since_last", window="3D"),
        S("since_last_login", "usage", "days_since_last", where={"event": "login"}),
        S(
            "since_first_export_10d",
            "usage",
            "days_since_first",
            window="10D",
            where={"event": "export"},
        ),
        S("last_qty", "usage", "last", column="quantity"),
        S("first_qty_10d", "usage", "first", column="quantity", window="10D"),
        S("last_qty_2d_ago", "usage", "last", column="quantity", offset="2D"),
        S(
            "last_login_qty",
            "usage",
            "last",
            column="quantity",
            where={"event": "login"},
        ),
        ck.Derived("trend_3d", "trend", "count_3d", "prev_count_3d"),
    ]
    return specs


# events on an hourly grid over 12 days: many share a time (ties), many fall
# exactly on a cutoff or a window bound (cutoffs are on the same grid)
_event = st.tuples(
    st.sampled_from(CUSTOMERS[:3]),
    st.integers(0, 12 * 24),
    st.sampled_from(KINDS),
    st.one_of(
        st.floats(0, 1e6, allow_nan=False),
        st.just(-0.0),
        st.floats(0, 1e-300),
        st.integers(0, 5).map(float),
    ),
)
# support tickets: opened on the grid, closed some hours later or still open,
# with a CSAT that may be missing (values recorded later than the row's time)
_ticket = st.tuples(
    st.sampled_from(CUSTOMERS[:3]),
    st.integers(0, 12 * 24),
    st.one_of(st.none(), st.integers(0, 4 * 24)),
    st.sampled_from(["low", "high"]),
    st.one_of(st.just(np.nan), st.integers(1, 5).map(float), st.floats(0, 5)),
)
_cutoff = st.tuples(st.sampled_from(CUSTOMERS), st.integers(0, 13 * 24))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_event, min_size=0, max_size=80),
    tickets=st.lists(_ticket, min_size=0, max_size=30),
    cutoffs=st.lists(_cutoff, min_size=1, max_size=25),
    order=st.sampled_from(["given", "sorted", "reversed"]),
)
def test_fused_equals_numpy_kernel_on_random_stores(rows, tickets, cutoffs, order):
    with pytest.MonkeyPatch.context() as monkeypatch:
        usage = pd.DataFrame(rows, columns=["customer_id", "hour", "event", "quantity"])
        usage["time"] = T0 + usage.pop("hour").astype("int64") * HOUR
        tables = {"usage": usage} if len(usage) else {}
        if tickets:
            tables["support"] = _support(tickets)
        events = ck.Events(customers=_customers(), **tables)
        X = pd.DataFrame(
            {
                "customer_id": [c for c, _ in cutoffs],
                "cutoff_time": [T0 + h * HOUR for _, h in cutoffs],
            }
        )
        if order == "sorted":
            X = X.sort_values(["customer_id", "cutoff_time"], ignore_index=True)
        elif order == "reversed":
            X = X.sort_values(["customer_id", "cutoff_time"], ignore_index=True)[::-1]
        reference, fused = _both(monkeypatch, events, X, _specs() + SUPPORT_SPECS)
        _assert_identical(reference, fused)


def _support(tickets):
    support = pd.DataFrame(
        tickets, columns=["customer_id", "hour", "hours_open", "priority", "csat"]
    )
    opened = T0 + support.pop("hour").astype("int64") * HOUR
    hours_open = support.pop("hours_open").astype("float64")
    support["time"] = opened
    support["closed_time"] = opened + pd.to_timedelta(hours_open, unit="h")
    return support


_S = ck.FeatureSpec
SUPPORT_SPECS = [
    _S("tickets_3d", "support", "count", window="3D"),
    _S(
        "high_tickets_10d", "support", "count", window="10D", where={"priority": "high"}
    ),
    _S("csat_mean_3d", "support", "mean", column="csat", window="3D", by="closed_time"),
    _S("csat_sum_10d", "support", "sum", column="csat", window="10D", by="closed_time"),
    _S("closed_3d", "support", "count", window="3D", by="closed_time"),
    _S("last_csat", "support", "last", column="csat", by="closed_time"),
    _S(
        "first_csat_10d",
        "support",
        "first",
        column="csat",
        window="10D",
        by="closed_time",
    ),
    _S(
        "last_high_csat",
        "support",
        "last",
        column="csat",
        by="closed_time",
        where={"priority": "high"},
    ),
    _S("open_tickets", "support", "open"),  # stays on the numpy kernel
]


def test_hand_computed_values_with_ties_and_events_at_the_cutoff(monkeypatch):
    cut = T0 + pd.Timedelta("5D")
    usage = pd.DataFrame(
        [
            ("a", cut - pd.Timedelta("3D"), "login", 1.0),  # at the 3d window start
            ("a", cut - pd.Timedelta("2D"), "login", 2.0),  # three tied rows
            ("a", cut - pd.Timedelta("2D"), "export", 0.5),
            ("a", cut - pd.Timedelta("2D"), "login", 4.0),
            ("a", cut - HOUR, "api_call", 8.0),
            ("a", cut, "login", 100.0),  # exactly at the cutoff: never counts
            ("b", cut + HOUR, "login", 100.0),  # after b's cutoff only
        ],
        columns=["customer_id", "time", "event", "quantity"],
    )
    events = ck.Events(customers=_customers(), usage=usage)
    X = pd.DataFrame({"customer_id": ["b", "a", "d"], "cutoff_time": [cut, cut, cut]})
    with monkeypatch.context() as m:
        _set_fused(m, True)
        out = ck.compute_features(events, X, _specs())
    a, b, d = (out.loc[(c, cut)] for c in ("a", "b", "d"))
    assert a["count_3d"] == 5 and a["count_1d"] == 1
    assert a["qty_sum_3d"] == 1 + 2 + 0.5 + 4 + 8
    assert a["qty_mean_3d"] == 15.5 / 5
    assert a["login_count_3d"] == 3 and a["export_count_3d"] == 1
    assert a["pair_count_3d"] == 4  # login or export
    assert a["never_seen_count_3d"] == 0
    assert a["active_days_3d"] == 3  # cut-3d, cut-2d, cut-1h (the day before)
    assert a["since_last"] == 1 / 24
    assert a["since_last_login"] == 2
    assert a["last_qty"] == 8 and a["last_login_qty"] == 4
    assert a["last_qty_2d_ago"] == 1  # rows before cut-2d: only the first
    assert a["prev_count_3d"] == 1  # [cut-5d, cut-2d)
    assert a["trend_3d"] == 5 / 2
    for row in (b, d):  # b: only a later event; d: no events at all
        assert row["count_all"] == 0 and row["qty_sum_all"] == 0
        assert row["active_days_10d"] == 0
        assert np.isnan(row["since_last"]) and np.isnan(row["last_qty"])
        assert np.isnan(row["qty_mean_10d"])
    reference, fused = _both(monkeypatch, events, X, _specs())
    _assert_identical(reference, fused)


def test_long_windows_sum_like_numpy(monkeypatch):
    # windows of hundreds of rows: numpy's pairwise summation (blocks of 128,
    # halves at multiples of 8) and the window that reaches the table's end
    rng = np.random.default_rng(0)
    n = 2_000
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(["a", "b"], n),
            "time": T0 + pd.to_timedelta(np.sort(rng.integers(0, 10 * 86_400, n)), "s"),
            "event": rng.choice(KINDS, n),
            "quantity": rng.random(n) * 10.0 ** rng.integers(-3, 9, n),
        }
    )
    events = ck.Events(customers=_customers(), usage=usage)
    cuts = T0 + pd.to_timedelta(rng.integers(0, 11 * 86_400, 40), "s")
    X = pd.DataFrame(
        {"customer_id": rng.choice(["a", "b", "c"], 40), "cutoff_time": cuts}
    )
    reference, fused = _both(monkeypatch, events, X, _specs())
    _assert_identical(reference, fused)


def test_builtin_builders_are_identical_with_the_fused_kernel(monkeypatch):
    data = ck.datasets.make_saas_events(n_customers=300, random_state=3)
    X = ck.make_cutoffs(data.events, at=["2024-03-01", "2024-06-01"])
    X = X.sample(frac=1.0, random_state=0)  # rows in random order

    def build():
        return ck.ChurnFeatures(data.events).fit_transform(X)

    with monkeypatch.context() as m:
        _set_fused(m, False)
        reference = build()
    with monkeypatch.context() as m:
        _set_fused(m, True, chunk_rows=50)
        fused = build()
    _assert_identical(reference, fused)


def test_unknown_customers_raise_the_same_error(monkeypatch):
    events = ck.Events(
        customers=_customers(),
        usage=pd.DataFrame(
            {"customer_id": ["a"], "time": [T0], "event": ["login"], "quantity": [1.0]}
        ),
    )
    X = pd.DataFrame({"customer_id": ["a", "zz"], "cutoff_time": [T0, T0]})
    _set_fused(monkeypatch, True)
    with pytest.raises(SchemaError, match="zz"):
        ck.compute_features(events, X, _specs())


def test_small_tables_stay_on_the_numpy_kernel(monkeypatch):
    # below FUSED_FROM rows (and before the loops are loaded) nothing is fused
    monkeypatch.setattr(_fused, "FUSED_LOADED_FROM", 10**15)
    assert not _fused.use_fused(_fused.FUSED_FROM - 1)
    assert _fused.use_fused(_fused.FUSED_FROM)

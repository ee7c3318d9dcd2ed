"""Tests of churnkit.datasets.make_saas_events: contract, planted causes, targets."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnkit.datasets import (
    CHURN_CAUSES,
    FAILED_PAYMENT_RATE,
    make_saas_events,
)
from churnkit.events import Events
from churnkit.exceptions import ChurnkitTypeError, SchemaError

TABLES = ("customers", "usage", "billing", "support", "churn")
COLUMNS = {
    "customers": ["customer_id", "signup_time", "plan", "seats", "segment", "region"],
    "usage": ["customer_id", "time", "event", "quantity"],
    "billing": ["customer_id", "time", "kind", "amount", "mrr", "plan"],
    "support": ["customer_id", "time", "closed_time", "priority", "category", "csat"],
    "churn": ["customer_id", "time", "kind"],
    "truth": ["customer_id", "churn_time", "kind", "cause"],
}
DAY = pd.Timedelta("1D")


@pytest.fixture(scope="module")
def data():
    return make_saas_events(n_customers=5_000, random_state=0)


@pytest.fixture(scope="module")
def life(data):
    """customer_id -> signup, churn time (NaT) and cause (None) of every customer."""
    out = data.customers.set_index("customer_id")[["signup_time"]]
    truth = data.truth.set_index("customer_id")
    out["churn_time"] = truth["churn_time"]
    out["cause"] = truth["cause"].astype(object)
    return out


def _monthly_churn(data):
    c = data.customers.merge(
        data.churn.rename(columns={"time": "churn"}), on="customer_id", how="left"
    )
    rates = []
    month = data.start
    while month < data.end:
        nxt = month + pd.DateOffset(months=1)
        active = (c["signup_time"] < month) & (
            c["churn"].isna() | (c["churn"] >= month)
        )
        left = active & (c["churn"] >= month) & (c["churn"] < nxt)
        rates.append(left.sum() / active.sum())
        month = nxt
    return np.array(rates)


# ------------------------------------------------------------------ contract


@pytest.mark.parametrize("name", [*TABLES, "truth"])
def test_columns_follow_the_contract(data, name):
    assert list(data[name].columns) == COLUMNS[name]
    assert data[name].index.equals(pd.RangeIndex(len(data[name])))


@pytest.mark.parametrize(
    ("name", "column", "dtype"),
    [
        ("customers", "signup_time", "datetime64[ns]"),
        ("customers", "seats", "int64"),
        ("usage", "time", "datetime64[ns]"),
        ("usage", "quantity", "float64"),
        ("billing", "time", "datetime64[ns]"),
        ("billing", "amount", "float64"),
        ("billing", "mrr", "float64"),
        ("support", "time", "datetime64[ns]"),
        ("support", "closed_time", "datetime64[ns]"),
        ("support", "csat", "float64"),
        ("churn", "time", "datetime64[ns]"),
        ("truth", "churn_time", "datetime64[ns]"),
    ],
)
def test_dtypes(data, name, column, dtype):
    assert data[name][column].dtype == np.dtype(dtype)


@pytest.mark.parametrize(
    ("name", "column", "categories"),
    [
        ("customers", "plan", ["starter", "pro", "business", "enterprise"]),
        ("customers", "segment", ["smb", "mid_market", "enterprise"]),
        ("customers", "region", ["na", "emea", "apac", "latam"]),
        (
            "usage",
            "event",
            [
                "login",
                "page_view",
                "dashboard_view",
                "report_run",
                "export",
                "api_call",
                "invite_sent",
                "integration_sync",
            ],
        ),
        (
            "billing",
            "kind",
            [
                "invoice",
                "payment",
                "payment_failed",
                "refund",
                "plan_change",
                "discount",
            ],
        ),
        ("billing", "plan", ["starter", "pro", "business", "enterprise"]),
        ("support", "priority", ["low", "normal", "high", "urgent"]),
        (
            "support",
            "category",
            ["billing", "bug", "how_to", "feature_request", "account"],
        ),
        ("churn", "kind", ["voluntary", "involuntary"]),
        ("truth", "cause", list(CHURN_CAUSES)),
    ],
)
def test_categorical_columns(data, name, column, categories):
    col = data[name][column]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    assert list(col.cat.categories) == categories
    assert col.notna().all()
    # every category is used at n=5000
    assert set(col.unique()) == set(categories)


def test_customer_ids_are_zero_padded_and_sorted(data):
    ids = data.customers["customer_id"]
    assert ids.iloc[0] == "C-00000"
    assert ids.iloc[4999] == "C-04999"
    assert ids.is_unique and ids.is_monotonic_increasing
    assert data.customers[
        "signup_time"
    ].is_monotonic_increasing  # ids sort like signups


def test_ids_widen_for_big_bases():
    small = make_saas_events(n_customers=3, months=1, random_state=0)
    assert small.customers["customer_id"].tolist() == ["C-00000", "C-00001", "C-00002"]


def test_start_and_end(data):
    assert data.start == pd.Timestamp("2024-01-01")
    assert data.end == pd.Timestamp("2025-07-01")
    other = make_saas_events(
        n_customers=20, start="2023-03-15 12:00", months=2, random_state=0
    )
    assert other.end == pd.Timestamp("2023-05-15 12:00")
    assert other.usage["time"].min() >= pd.Timestamp("2023-03-15 12:00")


@pytest.mark.parametrize("name", ["usage", "billing", "support", "churn"])
def test_tables_are_sorted_by_time(data, name):
    assert data[name]["time"].is_monotonic_increasing


@pytest.mark.parametrize("name", ["usage", "billing", "support"])
def test_events_fall_within_each_customers_life(data, life, name):
    df = data[name]
    signup = life["signup_time"].reindex(df["customer_id"]).to_numpy()
    churn = life["churn_time"].reindex(df["customer_id"]).to_numpy()
    end = np.where(pd.isna(churn), np.datetime64(data.end), churn)
    t = df["time"].to_numpy()
    assert (t >= signup).all()
    assert (t >= np.datetime64(data.start)).all()
    assert (t < end).all()


def test_existing_base_and_monthly_signups(data):
    signup = data.customers["signup_time"]
    before = signup < data.start
    assert before.mean() == pytest.approx(0.5, abs=0.001)
    assert signup.min() >= data.start - pd.Timedelta("730D")
    new = signup[~before]
    # new customers arrive every month, a few percent more each month
    per_month = new.dt.to_period("M").value_counts().sort_index()
    assert len(per_month) == 18
    assert per_month.iloc[-6:].mean() > per_month.iloc[:6].mean()
    assert new.max() < data.end


def test_plans_seats_and_segments_agree(data):
    c = data.customers
    assert (c["seats"] >= 1).all()
    med = c.groupby("plan", observed=True)["seats"].median()
    assert list(med.index) == ["starter", "pro", "business", "enterprise"]
    assert med.is_monotonic_increasing
    # enterprise customers are never on the starter plan
    assert not ((c["segment"] == "enterprise") & (c["plan"] == "starter")).any()


# ------------------------------------------------------------------ usage


def test_usage_volume_and_quantity(data, life):
    usage = data.usage
    assert (usage["quantity"] >= 0).all()
    assert (usage.loc[usage["event"] == "login", "quantity"] == 1).all()
    start = life["signup_time"].clip(lower=data.start)
    stop = life["churn_time"].fillna(data.end)
    customer_months = ((stop - start) / pd.Timedelta("30.436875D")).sum()
    per_month = len(usage) / customer_months
    assert 7 < per_month < 12  # USAGE_EVENTS_PER_MONTH = 8.6, more for big plans
    # bigger plans use the product more
    plan = data.customers.set_index("customer_id")["plan"]
    rows = usage["customer_id"].map(plan).value_counts()
    n = data.customers["plan"].value_counts()
    assert rows["enterprise"] / n["enterprise"] > 2 * rows["starter"] / n["starter"]


def test_usage_has_weekday_and_office_hour_seasonality(data):
    t = data.usage["time"].dt
    weekend = (t.day_of_week >= 5).mean()
    assert weekend < 0.6 * 2 / 7
    night = (t.hour < 6).mean()
    assert night < 0.5 * 6 / 24


def test_usage_rate_scales_usage_only():
    one = make_saas_events(n_customers=300, random_state=3)
    two = make_saas_events(n_customers=300, usage_rate=2.0, random_state=3)
    assert 1.8 < len(two.usage) / len(one.usage) < 2.2
    for name in ("customers", "billing", "support", "churn", "truth"):
        pd.testing.assert_frame_equal(one[name], two[name])


def test_zero_usage_rate_gives_an_empty_usage_table():
    data = make_saas_events(n_customers=50, usage_rate=0.0, random_state=1)
    assert len(data.usage) == 0
    assert list(data.usage.columns) == COLUMNS["usage"]
    assert data.usage["time"].dtype == np.dtype("datetime64[ns]")
    assert len(data.billing) > 0


# ------------------------------------------------------------------ billing


def test_billing_amounts_and_mrr(data):
    b = data.billing
    kind = b["kind"]
    assert (b["mrr"] >= 0).all()
    non_neg = kind.isin(["invoice", "payment", "payment_failed", "refund", "discount"])
    assert (b.loc[non_neg, "amount"] >= 0).all()
    assert (b.loc[kind == "refund", "amount"] > 0).all()
    inv = b[kind == "invoice"]
    np.testing.assert_array_equal(inv["amount"], inv["mrr"])


def test_payments_pay_the_last_invoice(data):
    b = data.billing
    invoiced = b["amount"].where(b["kind"] == "invoice")
    last_invoice = invoiced.groupby(b["customer_id"]).ffill()
    pay = b["kind"].isin(["payment", "payment_failed"])
    np.testing.assert_array_equal(b.loc[pay, "amount"], last_invoice[pay])


def test_plan_changes_move_mrr_by_their_amount(data):
    b = data.billing
    before = b.groupby("customer_id")["mrr"].shift()
    change = (b["kind"] == "plan_change") & before.notna()
    delta = (b["mrr"] - before)[change].round(2)
    np.testing.assert_allclose(b.loc[change, "amount"], delta, atol=1e-9)
    assert (b.loc[change, "amount"] < 0).any() and (b.loc[change, "amount"] > 0).any()
    disc = (b["kind"] == "discount") & before.notna()
    np.testing.assert_allclose(
        b.loc[disc, "amount"], (before - b["mrr"])[disc].round(2), atol=1e-9
    )
    other = ~b["kind"].isin(["plan_change", "discount"]) & before.notna()
    np.testing.assert_array_equal(b.loc[other, "mrr"], before[other])


def test_monthly_invoices_on_the_billing_anniversary(data):
    b = data.billing
    inv = b[b["kind"] == "invoice"]
    signup = data.customers.set_index("customer_id")["signup_time"]
    # new customers are invoiced at signup, then on the same day of each month
    new = signup[signup >= data.start]
    first = inv.groupby("customer_id")["time"].first()
    np.testing.assert_array_equal(first.reindex(new.index), new)
    one = inv[inv["customer_id"] == new.index[0]]["time"]
    days = (one.dt.day - new.iloc[0].day).abs()
    assert ((days == 0) | (one.dt.is_month_end & (one.dt.day < new.iloc[0].day))).all()
    gaps = one.diff().dropna()
    assert gaps.between(pd.Timedelta("28D"), pd.Timedelta("31D")).all()


def test_failed_payments_noise_is_recovered(data, life):
    b = data.billing
    churners = set(data.churn["customer_id"])
    healthy = b[~b["customer_id"].isin(churners)]
    attempts = healthy[healthy["kind"].isin(["payment", "payment_failed"])]
    failed = attempts[attempts["kind"] == "payment_failed"]
    # FAILED_PAYMENT_RATE of invoices fail 1-3 times (1.38 times on average)
    rate = len(failed) / (healthy["kind"] == "invoice").sum()
    assert rate == pytest.approx(FAILED_PAYMENT_RATE * 1.38, rel=0.25)
    # a healthy customer's failure is followed by a successful payment (unless
    # it happened in the last 45 days: retries or dunning run past the end)
    paid = attempts[attempts["kind"] == "payment"].groupby("customer_id")["time"].max()
    early = failed[failed["time"] < data.end - 45 * DAY]
    assert len(early) > 50
    assert (early["customer_id"].map(paid) > early["time"]).all()


# ------------------------------------------------------------------ support


def test_support_tickets(data):
    s = data.support
    closed = s["closed_time"].notna()
    assert (s.loc[closed, "closed_time"] > s.loc[closed, "time"]).all()
    assert (s.loc[closed, "closed_time"] < data.end).all()
    assert (~closed).sum() > 0  # some still open at the end of the data
    assert s.loc[~closed, "csat"].isna().all()
    assert s.loc[closed, "csat"].isna().mean() == pytest.approx(0.4, abs=0.03)
    assert set(s["csat"].dropna().unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}


# ------------------------------------------------------------------ churn and causes


def test_one_churn_and_one_cause_per_churner(data):
    churn, truth = data.churn, data.truth
    assert churn["customer_id"].is_unique
    pd.testing.assert_series_equal(churn["customer_id"], truth["customer_id"])
    np.testing.assert_array_equal(churn["time"], truth["churn_time"])
    assert truth["cause"].notna().all()
    assert (truth["cause"] == "none").mean() >= 0.20
    shares = truth["cause"].value_counts(normalize=True)
    assert (shares > 0.05).all()
    # involuntary churn is exactly the failed-payment cause
    involuntary = truth["kind"] == "involuntary"
    assert (involuntary == (truth["cause"] == "failed_payments")).all()
    assert (churn["time"] < data.end).all()


def test_monthly_churn_rate(data):
    rates = _monthly_churn(data)
    assert len(rates) == 18
    assert 0.015 <= rates.mean() <= 0.03
    assert ((rates > 0.01) & (rates < 0.035)).all()  # n=5000: ~60 churners a month


def _window(df, life, cause, days, end_days=0, min_history=None):
    """Rows of churners with ``cause`` in [churn - days, churn - end_days)."""
    who = life[life["cause"] == cause]
    if min_history is not None:  # the window lies inside the data
        who = who[who["churn_time"] - min_history * DAY >= who["signup_time"]]
    df = df[df["customer_id"].isin(who.index)]
    churn = df["customer_id"].map(who["churn_time"])
    keep = (df["time"] >= churn - days * DAY) & (df["time"] < churn - end_days * DAY)
    return df[keep], who


def _usage_ratio(data, life, cause):
    """Usage in the last 30 days before churn / usage 60-90 days before."""
    last, who = _window(data.usage, life, cause, 30, min_history=90)
    who = who[who["churn_time"] >= data.start + 90 * DAY]
    earlier, _ = _window(data.usage, life, cause, 90, 60)
    ids = set(who.index)
    return last["customer_id"].isin(ids).sum() / earlier["customer_id"].isin(ids).sum()


def test_usage_declines_before_usage_decline_churn(data, life):
    # drop of 50-90% reached halfway through a 30-90 day decline
    assert _usage_ratio(data, life, "usage_decline") < 0.45
    assert 0.8 < _usage_ratio(data, life, "none") < 1.25


def test_failed_payments_before_involuntary_churn(data, life):
    b = data.billing
    attempts = b[b["kind"].isin(["payment", "payment_failed"])]
    who = life[life["cause"] == "failed_payments"].index
    last = attempts[attempts["customer_id"].isin(who)].groupby("customer_id").last()
    assert (last["kind"] == "payment_failed").all()  # never recovered
    gap = last.index.map(life["churn_time"]) - last["time"]
    assert gap.min() >= pd.Timedelta("14D") and gap.max() <= pd.Timedelta("35D")
    failures = attempts[attempts["kind"] == "payment_failed"]
    n = failures[failures["customer_id"].isin(who)].groupby("customer_id").size()
    assert n.min() >= 1 and n.quantile(0.5) >= 2


def test_support_trouble_before_churn(data, life):
    s = data.support
    tickets, who = _window(s, life, "support_trouble", 60, min_history=60)
    who = who[who["churn_time"] >= data.start + 60 * DAY]
    tickets = tickets[tickets["customer_id"].isin(who.index)]
    per = tickets.groupby("customer_id").size().reindex(who.index, fill_value=0)
    assert (per >= 3).all()
    others = s[~s["customer_id"].isin(who.index)]
    assert tickets["csat"].mean() < others["csat"].mean() - 1.5
    # slower resolution at equal priority
    hours = (s["closed_time"] - s["time"]) / pd.Timedelta("1h")
    for priority in ("normal", "high"):
        mine = hours[tickets.index][tickets["priority"] == priority].median()
        rest = hours[others.index][others["priority"] == priority].median()
        assert mine > 4 * rest, priority


@pytest.mark.parametrize(
    ("cause", "sign", "days"),
    [("price_increase", 1, (20, 90)), ("downgrade", -1, (15, 90))],
)
def test_mrr_changes_before_churn(data, life, cause, sign, days):
    b = data.billing
    changes, who = _window(
        b[b["kind"] == "plan_change"], life, cause, days[1] + 1, 0, min_history=91
    )
    who = who[who["churn_time"] >= data.start + 91 * DAY]
    changes = changes[changes["customer_id"].isin(who.index)]
    planted = changes[np.sign(changes["amount"]) == sign]
    assert set(planted["customer_id"]) == set(who.index)
    if cause == "price_increase":
        # the plan stays; the price rises by 10-40% (some also got noise changes)
        assert (planted["plan"].notna()).all()
        assert (planted["amount"] > 0).all()


def test_false_alarms_exist_among_non_churners(data, life):
    healthy = life[life["cause"].isna()].index
    b = data.billing
    hb = b[b["customer_id"].isin(healthy)]
    price_up = hb[(hb["kind"] == "plan_change") & (hb["amount"] > 0)]
    assert price_up["customer_id"].nunique() > 0.05 * len(healthy)
    s = data.support[data.support["customer_id"].isin(healthy)]
    # ticket bursts: 3+ tickets opened within three weeks
    s = s.sort_values(["customer_id", "time"])
    third = s.groupby("customer_id")["time"].shift(-2)
    bursts = s.loc[(third - s["time"]) <= pd.Timedelta("21D"), "customer_id"].nunique()
    assert bursts > 0.02 * len(healthy)


# ------------------------------------------------------------------ determinism


def test_same_arguments_give_identical_tables():
    a = make_saas_events(n_customers=300, random_state=7)
    b = make_saas_events(n_customers=300, random_state=7)
    for name in (*TABLES, "truth"):
        pd.testing.assert_frame_equal(a[name], b[name])


def test_different_seeds_give_different_tables():
    a = make_saas_events(n_customers=300, random_state=7)
    b = make_saas_events(n_customers=300, random_state=8)
    for name in ("customers", "usage", "billing", "support"):
        assert not a[name].equals(b[name])


@pytest.mark.parametrize(
    "make_state",
    [lambda: np.random.default_rng(5), lambda: np.random.RandomState(5)],
    ids=["Generator", "RandomState"],
)
def test_numpy_random_states(make_state):
    a = make_saas_events(n_customers=100, random_state=make_state())
    b = make_saas_events(n_customers=100, random_state=make_state())
    pd.testing.assert_frame_equal(a.usage, b.usage)


def test_random_state_none_runs():
    data = make_saas_events(n_customers=50, random_state=None)
    assert len(data.customers) == 50


# ------------------------------------------------------------------ bunch


def test_events_store_is_built(data):
    assert isinstance(data.events, Events)
    assert data.events.observed_until == data.end
    assert len(data.events.customers) == 5_000


def test_description_documents_every_column(data):
    for name, columns in COLUMNS.items():
        section = data.description.split(f"\n{name} -- ")[1].split("\n\n")[0]
        for column in columns:
            assert f"\n  {column} " in section, (name, column)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_customers": "5"}, ChurnkitTypeError, r"`n_customers` must be an integer"),
        ({"n_customers": 2.5}, ChurnkitTypeError, r"got float 2.5"),
        ({"n_customers": True}, ChurnkitTypeError, r"`n_customers` must be an int"),
        ({"n_customers": 0}, SchemaError, r"`n_customers` must be at least 1; got 0"),
        ({"months": 0}, SchemaError, r"`months` must be at least 1; got 0"),
        ({"months": "18"}, ChurnkitTypeError, r"`months` must be an integer"),
        ({"usage_rate": -1.0}, SchemaError, r"`usage_rate` must be a finite number"),
        ({"usage_rate": float("nan")}, SchemaError, r"got nan"),
        ({"usage_rate": "2"}, ChurnkitTypeError, r"`usage_rate` must be a number"),
        ({"start": "yesterday-ish"}, SchemaError, r"`start` could not be read"),
        ({"start": 20240101}, SchemaError, r"`start` must be a date"),
        ({"random_state": "0"}, ChurnkitTypeError, r"`random_state` must be an int"),
        ({"random_state": -1}, SchemaError, r"non-negative integer; got -1"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_saas_events(**{"n_customers": 10, **kwargs})


# ------------------------------------------------------------------ slow targets


@pytest.mark.slow
def test_monthly_churn_rate_in_every_month_at_scale():
    rates = _monthly_churn(make_saas_events(n_customers=50_000, random_state=1))
    assert ((rates >= 0.015) & (rates <= 0.03)).all(), rates


@pytest.mark.slow
def test_speed_and_size_at_100k_customers():
    t0 = time.perf_counter()
    data = make_saas_events(n_customers=100_000, random_state=0)
    elapsed = time.perf_counter() - t0
    assert elapsed < 60  # ~8 s of simulation + the Events build on 2 cores
    assert 8e6 < len(data.usage) < 13e6
    assert data.usage["time"].is_monotonic_increasing


def _bench_module():
    path = Path(__file__).parents[1] / "benchmarks" / "bench_datasets.py"
    spec = importlib.util.spec_from_file_location("bench_datasets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_forward_in_time_auc_is_neither_trivial_nor_hopeless():
    result = _bench_module().bench_auc(20_000, seed=0)
    assert 0.75 <= result["auc_xgb"] <= 0.90, result
    # the planted causes with a clear trace are found, random churn is not
    assert result["auc_failed_payments"] > 0.85
    assert result["auc_none"] < 0.7

"""Feature builders: hand-computed values per family, point-in-time properties,
agreement with a naive recomputation (the sklearn contract: tests/test_common.py)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, NotFittedError, SchemaError

T = pd.Timestamp("2024-04-01")  # the cutoff of most hand-computed cases
DAY = pd.Timedelta("1D")


def _events(usage=(), billing=(), support=(), customers=None, **kw):
    if customers is None:
        customers = pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "signup_time": pd.to_datetime(["2024-01-01", "2024-01-15"]),
                "plan": ["pro", "basic"],
                "seats": [4, 1],
            }
        )
    tables = {}
    if usage:
        tables["usage"] = pd.DataFrame(
            usage, columns=["customer_id", "time", "event", "quantity"]
        )
    if billing:
        tables["billing"] = pd.DataFrame(
            billing, columns=["customer_id", "time", "kind", "amount", "mrr", "plan"]
        )
    if support:
        tables["support"] = pd.DataFrame(
            support,
            columns=[
                "customer_id",
                "time",
                "closed_time",
                "priority",
                "category",
                "csat",
            ],
        )
    for df in tables.values():
        for col in ("time", "closed_time"):
            if col in df:
                df[col] = pd.to_datetime(df[col])
    return ck.Events(customers=customers, **tables, **kw)


def _X(*rows):
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "cutoff_time": pd.to_datetime([r[1] for r in rows]),
        }
    )


def _row(frame, customer="a", cutoff=T):
    return frame.loc[(customer, pd.Timestamp(cutoff))]


# ------------------------------------------------------------------ usage
USAGE = [
    ("a", T - 31 * DAY, "login", 1.0),  # outside 30d, inside 90d
    ("a", T - 30 * DAY, "login", 2.0),  # exactly at the 30d window start: inside
    ("a", T - 5 * DAY, "export", 3.0),
    ("a", T - 5 * DAY + pd.Timedelta("1h"), "login", 4.0),  # same day as above
    ("a", T, "login", 100.0),  # exactly at the cutoff: never counts
    ("a", T + DAY, "login", 100.0),  # after the cutoff
]


def test_usage_window_edges_and_recency():
    events = _events(usage=USAGE)
    builder = ck.UsageFeatures(events, windows=("7D", "30D"), min_frequency=1)
    out = builder.fit_transform(_X(("a", T), ("b", T)))
    a = _row(out)
    assert a["usage__events_7d"] == 2
    assert a["usage__events_30d"] == 3
    assert a["usage__quantity_30d"] == 2 + 3 + 4
    assert a["usage__active_days_30d"] == 2  # T-30 and T-5 (two events that day)
    assert a["usage__login_count_30d"] == 2
    assert a["usage__export_count_7d"] == 1
    assert a["usage__days_since_last"] == pytest.approx(5 - 1 / 24)
    assert a["usage__days_since_last_export"] == 5
    # previous 30 days [T-60, T-30): one event; now 3 -> +200%
    assert a["usage__events_change_30d"] == pytest.approx((3 - 1) / 1)
    # previous 7 days [T-14, T-7): none -> undefined
    assert np.isnan(a["usage__events_change_7d"])
    assert a["usage__events_per_seat_30d"] == pytest.approx(3 / 4)
    tenure_months = (T - pd.Timestamp("2024-01-01")).days / (365.25 / 12)
    assert a["usage__events_per_month"] == pytest.approx(4 / tenure_months)
    b = _row(out, "b")  # no events: counts 0, recency NaN
    assert b["usage__events_30d"] == 0 and b["usage__quantity_30d"] == 0
    assert b["usage__active_days_30d"] == 0
    assert np.isnan(b["usage__days_since_last"])


def test_usage_without_quantity_column_has_no_volume_feature():
    usage = pd.DataFrame({"customer_id": ["a"], "time": [T - DAY], "event": ["login"]})
    events = ck.Events(customers=_events().customers, usage=usage)
    names = ck.UsageFeatures(events).fit(_X(("a", T))).get_feature_names_out()
    assert "usage__events_30d" in names
    assert not any("quantity" in n for n in names)


def test_rare_kinds_are_capped():
    usage = [("a", T - i * DAY, "login", 1.0) for i in range(1, 6)]
    usage += [("a", T - 2 * DAY, "export", 1.0)]
    events = _events(usage=usage)
    names = (
        ck.UsageFeatures(events, min_frequency=2)
        .fit(_X(("a", T)))
        .get_feature_names_out()
    )
    assert "usage__login_count_30d" in names
    assert "usage__export_count_30d" not in names
    names = (
        ck.UsageFeatures(events, min_frequency=1, max_kinds=1)
        .fit(_X(("a", T)))
        .get_feature_names_out()
    )
    assert "usage__export_count_30d" not in names


def test_vocabulary_learned_before_the_latest_training_cutoff():
    # "export" only appears after the training cutoff: not a column
    usage = [("a", T - DAY, "login", 1.0), ("a", T + DAY, "export", 1.0)]
    events = _events(usage=usage)
    builder = ck.UsageFeatures(events, min_frequency=1).fit(_X(("a", T)))
    assert not any("export" in n for n in builder.get_feature_names_out())
    later = builder.transform(_X(("a", T + 10 * DAY)))
    assert list(later.columns) == list(builder.get_feature_names_out())


# ---------------------------------------------------------------- billing
BILLING = [
    ("a", T - 100 * DAY, "invoice", 50.0, 50.0, "basic"),
    ("a", T - 100 * DAY, "payment", 50.0, 50.0, "basic"),
    ("a", T - 40 * DAY, "plan_change", 30.0, 80.0, "pro"),
    ("a", T - 10 * DAY, "invoice", 80.0, 80.0, "pro"),
    ("a", T - 10 * DAY, "payment_failed", 80.0, 80.0, "pro"),
    ("a", T - 5 * DAY, "payment_failed", 80.0, 80.0, "pro"),
    ("a", T, "payment", 80.0, 80.0, "pro"),  # at the cutoff: not yet
    ("b", T - 20 * DAY, "payment_failed", 20.0, 20.0, "basic"),
    ("b", T - 10 * DAY, "payment", 20.0, 20.0, "basic"),  # recovered
]


def test_billing_features_by_hand():
    events = _events(billing=BILLING)
    out = ck.BillingFeatures(events, windows=("30D", "90D")).fit_transform(
        _X(("a", T), ("b", T))
    )
    a, b = _row(out), _row(out, "b")
    assert a["billing__mrr"] == 80
    assert a["billing__mrr_change_30d"] == 0  # 80 at T-30 already
    assert a["billing__mrr_change_90d"] == 80 - 50  # upgrade
    assert a["billing__failed_payments_30d"] == 2
    assert a["billing__payments_30d"] == 0 and a["billing__payments_90d"] == 0
    assert a["billing__amount_paid_90d"] == 0
    assert a["billing__days_since_failed_payment"] == 5
    assert a["billing__last_payment_failed"] == 1
    assert a["billing__plan_changes_90d"] == 1
    assert a["billing__days_since_invoice"] == 10
    assert a["billing__plan"] == "pro"
    assert b["billing__last_payment_failed"] == 0  # the failure was recovered
    assert b["billing__failed_payments_30d"] == 1
    assert b["billing__amount_paid_30d"] == 20
    assert isinstance(out["billing__plan"].dtype, pd.CategoricalDtype)
    assert out["billing__mrr"].dtype == np.float64


def test_mrr_before_any_billing_row_is_missing():
    events = _events(billing=BILLING)
    out = ck.BillingFeatures(events).fit_transform(_X(("a", T - 200 * DAY + 101 * DAY)))
    assert np.isnan(out["billing__mrr_change_90d"].iloc[0])  # no MRR 90 days earlier


# ---------------------------------------------------------------- support
SUPPORT = [
    # opened, closed, priority, category, csat
    ("a", T - 60 * DAY, T - 58 * DAY, "low", "bug", 2.0),  # closed in 90d window
    ("a", T - 20 * DAY, T - 10 * DAY, "urgent", "billing", 5.0),
    ("a", T - 3 * DAY, T, "high", "bug", 1.0),  # closed AT the cutoff: still open
    ("a", T - 2 * DAY, None, "normal", "how_to", None),  # open
    ("a", T + DAY, T + 2 * DAY, "low", "bug", 1.0),  # future
]


def test_support_features_by_hand():
    events = _events(support=SUPPORT)
    out = ck.SupportFeatures(events, windows=("30D", "90D")).fit_transform(_X(("a", T)))
    a = _row(out)
    assert a["support__tickets_30d"] == 3
    assert a["support__tickets_90d"] == 4
    assert a["support__open_tickets"] == 2  # closed at T counts as open at T
    assert a["support__high_priority_tickets_30d"] == 2
    # CSAT and resolution only from tickets closed before T
    assert a["support__csat_mean_90d"] == pytest.approx((2 + 5) / 2)
    assert a["support__csat_min_90d"] == 2
    assert a["support__csat_mean_30d"] == 5
    assert a["support__resolution_days_90d"] == pytest.approx((2 + 10) / 2)
    assert a["support__days_since_ticket"] == 2
    assert a["support__bug_tickets_90d"] == 2


def test_support_without_close_times_has_no_csat_or_open_tickets():
    # a Helpshift export: `resolved` and `csat`, no close time. A rating read
    # at the opening leaked into earlier cutoffs, and every ticket ever opened
    # counted as open (was: no warning, CSAT 1 two days before it was given)
    tickets = pd.DataFrame(
        [(c, t, cat, csat) for c, t, _, _, cat, csat in SUPPORT],
        columns=["customer_id", "time", "category", "csat"],
    ).assign(resolved=True)
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    with pytest.warns(ck.DataQualityWarning, match="no `closed_time`") as record:
        events = ck.Events(customers=customers, support=tickets)
    assert "The table has ['resolved']" in str(record[0].message)
    out = ck.SupportFeatures(events, windows=("30D", "90D")).fit_transform(_X(("a", T)))
    assert not [c for c in out.columns if "csat" in c or "open" in c]
    assert _row(out)["support__tickets_30d"] == 3


# ---------------------------------------------------------------- profile
def test_profile_features_by_hand():
    events = _events(usage=USAGE)
    out = ck.ProfileFeatures(events).fit_transform(_X(("a", T), ("b", T)))
    assert _row(out)["profile__tenure_days"] == (T - pd.Timestamp("2024-01-01")).days
    assert _row(out)["profile__seats"] == 4
    assert _row(out, "b")["profile__plan"] == "basic"
    assert _row(out)["profile__signup_cohort"] == "2024Q1"
    assert isinstance(out["profile__plan"].dtype, pd.CategoricalDtype)


def test_dates_among_the_attributes_become_days_before_the_cutoff():
    # a contract start as text, a renewal as datetime, and a birth date (as in
    # fightchurn's account.csv), read as an age in years
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_time": ["2024-01-01"] * 3,
            "contract_start": ["1990-03-01", None, "1985-12-31"],
            "renewal": pd.to_datetime(["2024-06-01", "2023-12-01", None]),
            "date_of_birth": ["1960-01-01", "2000-06-30", None],
        }
    )
    events = ck.Events(customers=customers)
    X = _X(("a", T), ("b", T), ("c", T))
    builder = ck.ProfileFeatures(events, cohort=False)
    out = builder.fit_transform(X)
    assert "profile__contract_start" not in out  # not a category per date
    start = pd.to_datetime(pd.Series(["1990-03-01", None, "1985-12-31"]))
    days = (T - start).dt.days.astype(float)
    np.testing.assert_array_equal(out["profile__contract_start_days"], days)
    renewal = [
        (T - pd.Timestamp("2024-06-01")).days,
        (T - pd.Timestamp("2023-12-01")).days,
    ]
    np.testing.assert_array_equal(out["profile__renewal_days"], [*renewal, np.nan])
    # completed years, as an age is told (T = 2024-04-01): 1960-01-01 -> 64;
    # 2000-06-30 -> 23, its 24th birthday is still ahead
    assert out["profile__date_of_birth_years"].iloc[0] == 64
    assert out["profile__date_of_birth_years"].iloc[1] == 23
    assert np.isnan(out["profile__date_of_birth_years"].iloc[2])
    desc = builder.describe_features().set_index("feature")
    assert desc.loc["profile__contract_start_days", "unit"] == "days"
    assert desc.loc["profile__date_of_birth_years", "template"].startswith(
        "age from date of birth: {value:,.0f} years"
    )
    # one account alone (the scoring path of a few customers) reads the same
    one = builder.transform(_X(("c", T)))
    assert one["profile__contract_start_days"].iloc[0] == days.iloc[2]


def test_a_day_first_birth_date_is_read_day_first_throughout():
    # '28/01/1974' can only be day-first, so '11/02/1974' is February 11th:
    # both are 50 on 2024-06-01 (was 49: pandas read 11/02 as November 2nd)
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "signup_time": "2024-01-01",
         "date_of_birth": ["11/02/1974", "28/01/1974"]}
    )  # fmt: skip
    usage = pd.DataFrame({"customer_id": [1, 2], "time": "2024-01-02", "event": "x"})
    events = ck.Events(customers=customers, usage=usage)
    X = pd.DataFrame({"customer_id": [1, 2], "cutoff_time": pd.Timestamp("2024-06-01")})
    out = ck.ProfileFeatures(events).fit_transform(X)
    assert out["profile__date_of_birth_years"].tolist() == [50.0, 50.0]


def test_impossible_birth_dates_read_as_missing_and_are_counted():
    # a 1900 placeholder (124 at the cutoff) and a birth date after the cutoff
    # (a typo of the year: -9 completed years) read as missing; real ages stay,
    # 0 and 120 included, and the warning names the column, count and customers
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d", "e"], "signup_time": "2024-01-01",
         "birth_date": ["1900-01-01", "2032-05-01", "1980-02-01", "2024-01-15",
                        "1904-03-01"]}
    )  # fmt: skip
    events = ck.Events(customers=customers)
    X = _X(*((c, T) for c in "abcde"))
    with pytest.warns(ck.DataQualityWarning, match="birth_date: 2 of 5 rows") as rec:
        out = ck.ProfileFeatures(events, cohort=False).fit_transform(X)
    ages = out["profile__birth_date_years"].to_numpy()
    np.testing.assert_array_equal(ages, [np.nan, np.nan, 44.0, 0.0, 120.0])
    message = str(rec[0].message)
    assert "'a' (124 years)" in message and "'b' (-9 years)" in message
    assert "read as missing" in message


def test_numeric_codes_are_categories_and_years_read_as_years():
    # Berka's district_id: a median of codes read "District 2 (typical: 40)";
    # a code read as float (a missing value) is '40', not '40.0'; a birth
    # year read "Birth_year 1,967 (typical: 1,948)"
    customers = pd.DataFrame(
        {"customer_id": list("abcd"), "signup_time": "2024-01-01",
         "district_id": [1, 2, 40, np.nan], "birth_year": [1967, 1948, 1990, 1970],
         "seats": [3, 5, 10, 2]}
    )  # fmt: skip
    events = ck.Events(customers=customers)
    builder = ck.ProfileFeatures(events, cohort=False)
    out = builder.fit_transform(_X(*((c, T) for c in "abcd")))
    assert isinstance(out["profile__district_id"].dtype, pd.CategoricalDtype)
    assert out["profile__district_id"].astype(object).tolist()[:3] == ["1", "2", "40"]
    desc = builder.describe_features().set_index("feature")["template"]
    assert (
        desc["profile__birth_year"] == "birth year {value:.0f} (typical: {typical:.0f})"
    )
    assert desc["profile__seats"] == "seats {value:,.0f} (typical: {typical:,.0f})"


def test_an_attribute_that_names_customers_is_left_out_and_said():
    # a CRM's account name, unique per account, became a 50-level feature
    # (the model learns who churned, not why); named in `attributes` it stays
    n = 40
    customers = pd.DataFrame(
        {"customer_id": range(n), "signup_time": "2024-01-01",
         "Account Name": [f"Acme {i}" for i in range(n)], "region": ["NA", "EU"] * 20}
    )  # fmt: skip
    events = ck.Events(customers=customers)
    X = pd.DataFrame({"customer_id": range(n), "cutoff_time": T})
    with pytest.warns(
        ck.DataQualityWarning,
        match="customers.Account Name: 40 distinct values for 40 customers",
    ):
        out = ck.ProfileFeatures(events, cohort=False).fit_transform(X)
    assert list(out.columns) == ["profile__tenure_days", "profile__region"]
    chosen = ck.ProfileFeatures(events, attributes=["Account Name"], cohort=False)
    assert "profile__account_name" in chosen.fit_transform(X)


def test_a_cancellation_notice_before_the_cutoff_is_a_feature():
    # a's notice on 02-15 is known at the 03-01 cutoff, not at 02-01; c gave
    # notice in December; b never did. Only the notice's time is read (not
    # the end it schedules), so no outcome leaks into the feature
    subs = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "start": "2023-01-01",
         "end": ["2024-03-31", None, "2024-01-31"],
         "cancel_time": ["2024-02-15", None, "2023-12-20"], "mrr": 10.0}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    X = _X(("a", "2024-02-01"), ("a", "2024-03-01"), ("b", "2024-03-01"),
           ("c", "2024-01-01"))  # fmt: skip
    builder = ck.ProfileFeatures(events, cohort=False)
    out = builder.fit_transform(X)
    assert out["profile__cancellation_notice"].tolist() == [0.0, 1.0, 0.0, 1.0]
    desc = builder.describe_features().set_index("feature")
    assert desc.loc["profile__cancellation_notice", "direction"] == "higher"
    # a store without cancellation dates has no such feature
    plain = ck.Events(subscriptions=subs.drop(columns="cancel_time"))
    assert "profile__cancellation_notice" not in ck.ProfileFeatures(
        plain
    ).fit_transform(X.iloc[[0]])


def test_a_notice_holds_while_nothing_known_at_the_cutoff_says_otherwise():
    # a keeps its 500 plan and cancels a 20 add-on (the Stripe trial's #1
    # reason, +60 points): no notice. b cancels its plan while an add-on with
    # no notice ends before it, on 07-01: a notice (an add-on that outlived
    # the plan would hold it back until it ends, as a's plan does). c gives
    # notice on 05-15 and wins back on 06-10, within the grace: a notice at
    # 06-01 (the return is c's future there; was 0, from the merged spell)
    subs = pd.DataFrame(
        {"customer_id": ["a", "a", "b", "b", "c", "c"],
         "start": ["2023-01-01", "2023-06-01", "2023-01-01", "2023-06-01",
                   "2023-01-01", "2024-06-10"],
         "end": [None, "2024-07-01", "2024-09-01", "2024-07-01", "2024-06-01",
                 None],
         "cancel_time": [None, "2024-05-15", "2024-05-15", None, "2024-05-15",
                         None],
         "mrr": [500.0, 20.0] * 3}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, grace="30D", observed_until="2024-08-01")
    X = _X(("a", "2024-06-01"), ("b", "2024-06-01"), ("b", "2024-07-02"),
           ("c", "2024-05-15"), ("c", "2024-06-01"), ("c", "2024-06-10"),
           ("c", "2024-06-11"))  # fmt: skip
    out = ck.ProfileFeatures(events, cohort=False).fit_transform(X)
    notice = out["profile__cancellation_notice"].tolist()
    assert notice == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    # a contract's notice beside an amendment ending with it, as a CRM
    # exports them (the notice on the main contract only): was 0 on 81 of 203
    # monthly rows of a B2B trial
    contracts = pd.DataFrame(
        {"customer_id": ["d", "d"], "start": ["2023-01-01", "2023-06-01"],
         "end": ["2024-01-01", "2024-01-01"], "mrr": [1000.0, 200.0],
         "cancel_time": ["2023-10-15", None]}
    )  # fmt: skip
    crm = ck.Events(subscriptions=contracts, grace="40D", observed_until="2024-06-01")
    row = _X(("d", "2023-11-01"))
    assert ck.ProfileFeatures(crm, cohort=False).fit_transform(row)[
        "profile__cancellation_notice"
    ].tolist() == [1.0]
    # what is known at 06-01 gives the same value: c's return cut away
    known = subs.drop(index=5)
    again = ck.Events(subscriptions=known, grace="30D", observed_until="2024-08-01")
    row = X.iloc[[4]]
    assert ck.ProfileFeatures(again, cohort=False).fit_transform(row)[
        "profile__cancellation_notice"
    ].tolist() == [1.0]
    # saved and loaded, the store keeps them
    with tempfile.TemporaryDirectory() as tmp:
        loaded = ck.Events.load(events.save(Path(tmp) / "store"))
        got = ck.ProfileFeatures(loaded, cohort=False).fit_transform(X)
    assert got["profile__cancellation_notice"].tolist() == notice


def test_a_few_accounts_scored_read_notices_and_ages_as_the_whole_store_does():
    # scoring 2 of 200 customers takes the restricted path (was: an
    # AttributeError for birth dates there)
    n = 200
    subs = pd.DataFrame(
        {"customer_id": range(n), "start": "2023-01-01", "end": None,
         "cancel_time": [None] * (n - 1) + ["2024-01-10"]}
    )  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": range(n), "signup_time": "2023-01-01",
         "birth_date": ["1980-01-01"] * (n - 1) + ["1900-01-01"]}
    )  # fmt: skip
    events = ck.Events(customers=customers, subscriptions=subs)
    cut = pd.Timestamp("2024-06-01")
    builder = ck.ProfileFeatures(events, cohort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.DataQualityWarning)  # the 1900 age
        whole = builder.fit_transform(
            pd.DataFrame({"customer_id": range(n), "cutoff_time": cut})
        )
        few = builder.transform(
            pd.DataFrame({"customer_id": [199, 3], "cutoff_time": cut})
        )
    pd.testing.assert_frame_equal(few, whole.iloc[[199, 3]])
    assert few["profile__cancellation_notice"].tolist() == [1.0, 0.0]
    assert np.isnan(few["profile__birth_date_years"].iloc[0])


def test_unseen_category_at_transform_becomes_missing():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_time": ["2024-01-01", "2024-01-01"],
            "plan": ["pro", "gold"],
        }
    )
    events = ck.Events(customers=customers)
    builder = ck.ProfileFeatures(events, cohort=False).fit(_X(("a", T)))
    assert builder.attribute_categories_["profile__plan"] == ["gold", "pro"]
    small = ck.ProfileFeatures(events, cohort=False, max_categories=1)
    small.fit(_X(("a", T)))
    out = small.transform(_X(("a", T), ("b", T)))
    assert out["profile__plan"].isna().sum() == 1


# ------------------------------------------------------------- ties, order
def test_equal_timestamps_last_value_does_not_depend_on_row_order():
    rows = [
        ("a", T - DAY, "plan_change", 0.0, 70.0, "pro"),
        ("a", T - DAY, "invoice", 0.0, 60.0, "basic"),
    ]
    outs = []
    for order in (rows, rows[::-1]):
        events = _events(billing=order)
        outs.append(ck.BillingFeatures(events).fit_transform(_X(("a", T))))
    pd.testing.assert_frame_equal(*outs)
    # contract order: invoice before plan_change, so the plan change is last
    assert outs[0]["billing__mrr"].iloc[0] == 70


def test_output_follows_X_order_and_index():
    events = _events(usage=USAGE, billing=BILLING, support=SUPPORT)
    X = _X(("b", T), ("a", T - 7 * DAY), ("a", T))
    features = ck.ChurnFeatures(events).fit(X)
    out = features.transform(X)
    assert list(out.index) == [("b", T), ("a", T - 7 * DAY), ("a", T)]
    shuffled = features.transform(X.iloc[[2, 0, 1]])
    pd.testing.assert_frame_equal(shuffled, out.iloc[[2, 0, 1]])
    assert list(out.columns) == list(features.get_feature_names_out())
    numeric = out.select_dtypes(exclude="category")
    assert (numeric.dtypes == np.float64).all()


def test_describe_features_covers_every_column():
    events = _events(usage=USAGE, billing=BILLING, support=SUPPORT)
    features = ck.ChurnFeatures(events).fit(_X(("a", T)))
    described = features.describe_features()
    assert list(described.columns) == [
        "feature",
        "group",
        "unit",
        "direction",
        "template",
        "display_name",
    ]
    assert list(described["feature"]) == list(features.get_feature_names_out())
    assert set(described["group"]) == {"usage", "billing", "support", "profile"}
    assert described["template"].str.len().gt(0).all()
    pipe = Pipeline([("f", features)])
    pd.testing.assert_frame_equal(ck.describe_features(pipe), described)


def test_set_events_swaps_the_store_without_refitting():
    events = _events(usage=USAGE)
    X = _X(("a", T))
    features = ck.ChurnFeatures(events).fit(X)
    newer = _events(usage=USAGE + [("a", T - DAY, "login", 1.0)])
    ck.set_events(features, newer)
    assert features.events is newer
    assert all(b.events is newer for _, b in features.builders_)
    assert _row(features.transform(X))["usage__events_7d"] == 3


def test_missing_tables_produce_no_builder():
    events = _events(usage=USAGE)
    names = ck.ChurnFeatures(events).fit(_X(("a", T))).get_feature_names_out()
    assert not any(n.startswith(("billing__", "support__")) for n in names)


@pytest.mark.parametrize(
    ("windows", "error", "match"),
    [
        ("30D", ChurnkitTypeError, "Did you mean"),
        (("30",), SchemaError, "with a unit"),
        (("12h",), SchemaError, "at least one day"),
        (("30D", "30D"), SchemaError, "duplicates"),
        ((), SchemaError, "at least one window"),
    ],
)
def test_bad_windows(windows, error, match):
    events = _events(usage=USAGE)
    with pytest.raises(error, match=match):
        ck.UsageFeatures(events, windows=windows).fit(_X(("a", T)))


def test_errors_for_bad_X_and_unfitted_and_no_events():
    events = _events(usage=USAGE)
    with pytest.raises(NotFittedError, match="not fitted"):
        ck.UsageFeatures(events).transform(_X(("a", T)))
    with pytest.raises(SchemaError, match="customer_id"):
        ck.UsageFeatures(events).fit(pd.DataFrame({"id": ["a"]}))
    with pytest.raises(SchemaError, match="does not\nknow|not know"):
        ck.UsageFeatures(events).fit(_X(("zz", T)))
    with pytest.raises(SchemaError, match="set_events"):
        ck.UsageFeatures().fit(_X(("a", T)))


def test_custom_specs_and_derived():
    events = _events(usage=USAGE)
    S, D = ck.FeatureSpec, ck.Derived
    specs = (
        S("logins_30d", "usage", "count", window="30D", where={"event": "login"}),
        S("qty_max_90d", "usage", "max", column="quantity", window="90D"),
        S("qty_min_90d", "usage", "min", column="quantity", window="90D"),
        S("qty_mean_90d", "usage", "mean", column="quantity", window="90D"),
        S("first_kind", "usage", "first", column="event"),
        S("kinds_90d", "usage", "distinct", column="event", window="90D"),
        S("logins_prev", "usage", "count", window="30D", offset="30D", output=False),
        D("login_ratio", "ratio", "logins_30d", "logins_prev"),
    )
    out = ck.CustomFeatures(events, specs=specs).fit_transform(_X(("a", T)))
    a = _row(out)
    assert a["logins_30d"] == 2
    assert a["qty_max_90d"] == 4 and a["qty_min_90d"] == 1
    assert a["qty_mean_90d"] == pytest.approx(10 / 4)
    assert a["first_kind"] == "login"
    assert a["kinds_90d"] == 2
    assert a["login_ratio"] == 2  # 2 logins now vs 1 before
    assert "logins_prev" not in out


def test_bad_specs():
    events = _events(usage=USAGE)
    with pytest.raises(SchemaError, match="agg"):
        ck.CustomFeatures(events, specs=(ck.FeatureSpec("x", "usage", "median"),)).fit(
            _X(("a", T))
        )
    with pytest.raises(SchemaError, match="no column 'nope'"):
        ck.CustomFeatures(
            events, specs=(ck.FeatureSpec("x", "usage", "sum", column="nope"),)
        ).fit(_X(("a", T)))


# ------------------------------------------------- properties (hypothesis)
KINDS = ["login", "export", "api"]
BASE = pd.Timestamp("2024-01-01")


@st.composite
def event_tables(draw):
    n = draw(st.integers(0, 40))
    usage = pd.DataFrame(
        {
            "customer_id": draw(
                st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)
            ),
            "time": BASE
            + pd.to_timedelta(
                draw(st.lists(st.integers(0, 200 * 24), min_size=n, max_size=n)),
                unit="h",
            ),
            "event": draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n)),
            "quantity": draw(
                st.lists(st.floats(0, 1000, allow_nan=False), min_size=n, max_size=n)
            ),
        }
    )
    m = draw(st.integers(0, 12))
    opened = BASE + pd.to_timedelta(
        draw(st.lists(st.integers(0, 200 * 24), min_size=m, max_size=m)), unit="h"
    )
    durations = pd.to_timedelta(
        draw(st.lists(st.integers(0, 40 * 24), min_size=m, max_size=m)), unit="h"
    )
    closed = pd.Series(opened + durations)
    closed[draw(st.lists(st.booleans(), min_size=m, max_size=m))] = pd.NaT
    support = pd.DataFrame(
        {
            "customer_id": draw(
                st.lists(st.sampled_from(["a", "b", "c"]), min_size=m, max_size=m)
            ),
            "time": opened,
            "closed_time": closed.to_numpy(),
            "csat": draw(
                st.lists(
                    st.sampled_from([1.0, 3.0, 5.0, np.nan]), min_size=m, max_size=m
                )
            ),
        }
    )
    return usage, support


CUSTOMERS = pd.DataFrame(
    {"customer_id": ["a", "b", "c"], "signup_time": [BASE - DAY] * 3}
)
CUTOFFS = [
    BASE + pd.Timedelta(days=d, hours=h) for d, h in ((30, 0), (91, 0), (120, 7))
]


def _spine():
    return _X(*[(c, t) for c in "abc" for t in CUTOFFS])


def _build(usage, support):
    return ck.Events(
        customers=CUSTOMERS, usage=usage, support=support, observed_until="2025-01-01"
    )


SPECS = tuple(
    s
    for w in ("7D", "30D")
    for s in (
        ck.FeatureSpec(f"n_{w}", "usage", "count", window=w),
        ck.FeatureSpec(f"sum_{w}", "usage", "sum", column="quantity", window=w),
        ck.FeatureSpec(f"mean_{w}", "usage", "mean", column="quantity", window=w),
        ck.FeatureSpec(f"min_{w}", "usage", "min", column="quantity", window=w),
        ck.FeatureSpec(f"max_{w}", "usage", "max", column="quantity", window=w),
        ck.FeatureSpec(f"days_{w}", "usage", "active_days", window=w),
        ck.FeatureSpec(
            f"login_{w}", "usage", "count", window=w, where={"event": "login"}
        ),
        ck.FeatureSpec(
            f"export_{w}", "usage", "count", window=w, where={"event": "export"}
        ),
        ck.FeatureSpec(f"api_{w}", "usage", "count", window=w, where={"event": "api"}),
        ck.FeatureSpec(f"tickets_{w}", "support", "count", window=w),
        ck.FeatureSpec(
            f"csat_{w}", "support", "mean", column="csat", window=w, by="closed_time"
        ),
    )
) + (
    ck.FeatureSpec("last_qty", "usage", "last", column="quantity"),
    ck.FeatureSpec("recency", "usage", "days_since_last"),
    ck.FeatureSpec("open", "support", "open"),
)


def _naive(usage, support, customer, t):
    """Row-by-row recomputation straight from the definitions.

    Plain Python over the rows (at most 40): the oracle must not share code
    with pandas' or churnkit's vectorised paths, and pandas' per-call overhead
    made it most of this test's time.
    """
    out = {}
    u = sorted(
        (
            r
            for r in usage.itertuples(index=False)
            if r.customer_id == customer and r.time < t
        ),
        key=lambda r: (r.time, KINDS_ORDER[r.event], r.quantity),
    )
    s = [r for r in support.itertuples(index=False) if r.customer_id == customer]
    for w in ("7D", "30D"):
        start = t - pd.Timedelta(w)
        win = [r for r in u if r.time >= start]
        q = [r.quantity for r in win]
        out[f"n_{w}"] = len(win)
        out[f"sum_{w}"] = sum(q)
        out[f"mean_{w}"] = sum(q) / len(q) if q else np.nan
        out[f"min_{w}"] = min(q) if q else np.nan
        out[f"max_{w}"] = max(q) if q else np.nan
        out[f"days_{w}"] = len({r.time.normalize() for r in win})
        for k in KINDS:
            out[f"{k}_{w}"] = sum(r.event == k for r in win)
        out[f"tickets_{w}"] = sum(start <= r.time < t for r in s)
        csat = [
            r.csat
            for r in s
            if not pd.isna(r.closed_time)
            and start <= r.closed_time < t
            and not np.isnan(r.csat)
        ]
        out[f"csat_{w}"] = sum(csat) / len(csat) if csat else np.nan
    out["last_qty"] = u[-1].quantity if u else np.nan
    out["recency"] = (t - u[-1].time) / DAY if u else np.nan
    out["open"] = sum(
        r.time < t and (pd.isna(r.closed_time) or r.closed_time >= t) for r in s
    )
    return out


KINDS_ORDER = {k: i for i, k in enumerate(sorted(KINDS))}
EXACT = {
    "n_",
    "days_",
    "login_",
    "export_",
    "api_",
    "tickets_",
    "min_",
    "max_",
    "last_",
    "recency",
    "open",
}


@pytest.mark.parametrize("category_counts", ["listed rows", "prefix counts"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=event_tables())
def test_kernel_matches_naive_recomputation(category_counts, tables):
    from churnkit.features import _windows

    usage, support = tables
    events = _build(usage, support)
    factor = 0.0 if category_counts == "listed rows" else np.inf
    saved, _windows.PREFIX_COUNTS_FACTOR = _windows.PREFIX_COUNTS_FACTOR, factor
    try:
        out = ck.CustomFeatures(events, specs=SPECS).fit_transform(_spine())
    finally:
        _windows.PREFIX_COUNTS_FACTOR = saved
    for (customer, t), row in out.iterrows():
        expected = _naive(usage, support, customer, t)
        for name, value in expected.items():
            if any(name.startswith(p) for p in EXACT):
                np.testing.assert_array_equal(row[name], value, err_msg=name)
            else:
                np.testing.assert_allclose(row[name], value, rtol=1e-12, err_msg=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=event_tables(), later=event_tables(), cutoff=st.sampled_from(CUTOFFS))
def test_nothing_recorded_at_or_after_the_cutoff_changes_features(
    tables, later, cutoff
):
    usage, support = tables
    extra_usage, extra_support = later
    X = _X(*[(c, cutoff) for c in "abc"])
    features = ck.ChurnFeatures(_build(usage, support), include=("usage", "support"))
    before = features.fit(X).transform(X)
    # shift the extra rows to at or after the cutoff
    extra_usage = extra_usage.assign(time=extra_usage.time - BASE + cutoff)
    extra_support = extra_support.assign(
        time=extra_support.time - BASE + cutoff,
        closed_time=extra_support.closed_time - BASE + cutoff,
    )
    # tickets closed at or after the cutoff get a new close time and CSAT
    late = support.closed_time >= cutoff
    changed = support.copy()
    changed.loc[late, "closed_time"] = changed.loc[late, "closed_time"] + pd.Timedelta(
        "3D"
    )
    changed.loc[late, "csat"] = 1.0
    after_events = _build(
        pd.concat([usage, extra_usage], ignore_index=True),
        pd.concat([changed, extra_support], ignore_index=True),
    )
    ck.set_events(features, after_events)
    pd.testing.assert_frame_equal(features.transform(X), before)


@settings(max_examples=30, deadline=None)
@given(tables=event_tables(), seed=st.integers(0, 1000))
def test_row_order_of_events_does_not_matter(tables, seed):
    usage, support = tables
    X = _spine()
    first = ck.CustomFeatures(_build(usage, support), specs=SPECS).fit_transform(X)
    shuffled = ck.CustomFeatures(
        _build(
            usage.sample(frac=1, random_state=seed),
            support.sample(frac=1, random_state=seed),
        ),
        specs=SPECS,
    ).fit_transform(X)
    pd.testing.assert_frame_equal(first, shuffled)


def test_calendar_offset_windows_use_calendar_months():
    usage = [
        ("a", pd.Timestamp("2024-02-01"), "login", 1.0),
        ("a", pd.Timestamp("2024-01-31"), "login", 1.0),
    ]
    events = _events(usage=usage)
    spec = ck.FeatureSpec("n_1ms", "usage", "count", window="1MS")
    out = ck.CustomFeatures(events, specs=(spec,)).fit_transform(
        _X(("a", "2024-02-15"))
    )
    # MonthBegin: the window starts at 2024-02-01
    assert out["n_1ms"].iloc[0] == 1


def test_scoring_a_few_accounts_reads_only_their_rows(monkeypatch):
    from churnkit.features import _windows

    rng = np.random.default_rng(1)
    ids = [f"c{i:03d}" for i in range(200)]
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_time": BASE - DAY, "seats": 2}
    )
    n = 4000
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n),
            "time": BASE + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"),
            "event": rng.choice(KINDS, n),
            "quantity": rng.random(n),
        }
    )
    events = ck.Events(customers=customers, usage=usage)
    X = _X(("c007", BASE + 100 * DAY), ("c150", BASE + 150 * DAY))
    features = ck.ChurnFeatures(events).fit(_X(*[(c, BASE + 90 * DAY) for c in ids]))
    calls = []
    real = _windows.RestrictedEvents

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_windows, "RestrictedEvents", spy)
    restricted = features.transform(X)  # 2 of 200 customers: restricted path
    assert calls, "the restricted path was not taken"
    # a new builder (no memo of the last transform) with the restriction off
    monkeypatch.setattr(_windows, "RESTRICT_BELOW", 0.0)
    calls.clear()
    fresh = ck.ChurnFeatures(events).fit(_X(*[(c, BASE + 90 * DAY) for c in ids]))
    pd.testing.assert_frame_equal(restricted, fresh.transform(X), check_exact=True)
    assert not calls


def test_compiled_paths_for_large_tables_give_the_same_features(monkeypatch):
    """Past ``COMPILED_FROM`` rows, grouping and window bounds run in numba.

    Forcing those paths on a small synthetic set must change nothing: same
    store, same features to the bit. Times are floored to the day so that
    many rows tie and the tie-break reorders them.
    """
    import churnkit.events._store as store

    data = ck.datasets.make_saas_events(n_customers=300, random_state=3)
    tables = {name: getattr(data, name) for name in ("customers", "support", "churn")}
    for name in ("usage", "billing"):
        table = getattr(data, name)
        tables[name] = table.assign(time=table["time"].dt.floor("D"))
    assert tables["usage"].duplicated(["customer_id", "time"]).sum() > 1000
    X = ck.make_cutoffs(data.events, start="2024-03-01", end="2025-03-01", freq="MS")
    X = pd.concat([X, X.assign(cutoff_time=X.cutoff_time + pd.Timedelta("7h"))])
    radix = ck.Events(**tables)
    expected = ck.ChurnFeatures(radix).fit(X).transform(X)
    monkeypatch.setattr(store, "COMPILED_FROM", 1)
    monkeypatch.setattr(store, "THREADED_FROM", 1)
    events = ck.Events(**tables)
    for name in ("usage", "billing", "support"):
        a, b = radix._engine.table(name), events._engine.table(name)
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_array_equal(a.time, b.time)
        for col in a.columns:
            np.testing.assert_array_equal(a.columns[col], b.columns[col])
    got = ck.ChurnFeatures(events).fit(X).transform(X)
    pd.testing.assert_frame_equal(got, expected)


def test_features_are_written_into_the_frame_block_without_a_copy():
    from churnkit.features._frame import feature_frame, float_block

    index = pd.RangeIndex(3)
    block, out = float_block(["a", "b"], 3)
    out["a"][:] = [1.0, 2.0, 3.0]
    out["b"][:] = 0.5
    frame = feature_frame({"a": out["a"], "b": out["b"]}, index, block)
    assert np.shares_memory(frame.to_numpy(), block)
    np.testing.assert_array_equal(frame["a"], [1.0, 2.0, 3.0])
    # columns that are not the block's, in its order, are copied into a new one
    swapped = feature_frame({"b": out["b"], "a": out["a"]}, index, block)
    assert list(swapped.columns) == ["b", "a"]
    assert not np.shares_memory(swapped.to_numpy(), block)
    np.testing.assert_array_equal(swapped["a"], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("threads", [2, 3])
def test_specs_on_several_threads_give_the_same_features(monkeypatch, threads):
    """The kernel's tasks on helper threads change nothing, to the bit."""
    from churnkit.features import _windows

    data = ck.datasets.make_saas_events(n_customers=300, random_state=4)
    X = ck.make_cutoffs(data.events, start="2024-03-01", end="2025-03-01", freq="MS")
    monkeypatch.setattr(_windows, "KERNEL_THREADS", 1)
    expected = ck.ChurnFeatures(data.events).fit(X).transform(X)
    monkeypatch.setattr(_windows, "KERNEL_THREADS", threads)
    monkeypatch.setattr(_windows, "PARALLEL_FROM_ROWS", 0)
    events = ck.Events(  # a new store: its views are built on the threads too
        customers=data.customers,
        usage=data.usage,
        billing=data.billing,
        support=data.support,
        churn=data.churn,
    )
    got = ck.ChurnFeatures(events).fit(X).transform(X)
    pd.testing.assert_frame_equal(got, expected)


def test_kernel_tasks_raise_the_first_error_and_see_the_callers_errstate():
    from churnkit.features._tasks import run_tasks

    seen = []

    def divide():
        seen.append(np.geterr()["divide"])

    def fail():
        raise SchemaError("bad spec")

    with np.errstate(divide="ignore"):
        run_tasks([divide, divide, divide], threads=2)
    assert seen == ["ignore"] * 3
    with pytest.raises(SchemaError, match="bad spec"):
        run_tasks([divide, fail, divide], threads=2)


def test_store_views_are_computed_once_when_threads_ask_together():
    import threading
    import time

    from churnkit.events._store import OnceCache

    cache, calls = OnceCache(), []

    def make():
        calls.append(1)
        time.sleep(0.05)  # the others arrive while it is being made
        return "view"

    threads = [
        threading.Thread(target=lambda: cache.get("key", make)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert cache.get("key", make) == "view"


@pytest.mark.parametrize(
    ("cutoff", "born", "age"),
    [
        ("2020-06-01", "2007-12-07", 12),  # 12.48 years: not "12"
        ("2020-07-01", "2007-12-07", 12),  # ... then 12.57, still 12 (was "13")
        ("2020-12-07", "2007-12-07", 13),  # from the birthday on
        ("2020-12-06 23:59", "2007-12-07", 12),  # the day before
        ("2021-02-28", "2008-02-29", 12),  # a leap-day birthday: from March 1
        ("2021-03-01", "2008-02-29", 13),
        ("2024-02-29", "2008-02-29", 16),
    ],
)
def test_age_from_a_birth_date_counts_completed_years(cutoff, born, age):
    from churnkit.features._ages import completed_years

    t = np.array([pd.Timestamp(cutoff).value])
    assert completed_years(t, np.array([pd.Timestamp(born).value]))[0] == age


def test_mrr_features_read_the_subscriptions_beside_a_payments_table():
    # a Recurly-shaped export: subscriptions with MRR plus a billing table of
    # payments (no `mrr`); the MRR features read the subscriptions' MRR (was:
    # no MRR feature at all, a trial's MRR 0 invisible to the model)
    subs = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "start": ["2024-01-01"] * 4,
         "end": [None, "2024-03-10", None, None],
         "mrr": [0.0, 9.99, 15.99, 9.99]}
    )  # fmt: skip
    subs.loc[4] = ["c", "2024-02-15", None, 5.0]  # an add-on: MRR 20.99
    X = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "cutoff_time": pd.Timestamp("2024-03-01")}
    )
    pay = pd.DataFrame(
        {"customer_id": ["b", "c", "d"], "time": ["2024-02-01"] * 3,
         "kind": "payment", "amount": [9.99, 15.99, 9.99]}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = ck.Events(subscriptions=subs, observed_until="2024-06-01")
        both = ck.Events(subscriptions=subs, billing=pay, observed_until="2024-06-01")
        expected = ck.BillingFeatures(alone).fit(X).transform(X)
        got = ck.BillingFeatures(both).fit(X).transform(X)
    assert got["billing__mrr"].tolist() == [0.0, 9.99, 20.99, 9.99]
    mrr = [c for c in expected.columns if c.startswith("billing__mrr")]
    pd.testing.assert_frame_equal(got[mrr], expected[mrr])
    assert got["billing__amount_paid_30d"].tolist() == [0.0, 9.99, 15.99, 9.99]
    # scored on a store without the subscriptions: named, not silently NaN
    model = ck.BillingFeatures(both).fit(X)
    with pytest.raises(SchemaError, match="subscriptions"):
        ck.set_events(
            model,
            ck.Events(
                billing=pay,
                customers=subs[["customer_id"]]
                .drop_duplicates()
                .assign(signup_time="2024-01-01"),
                observed_until="2024-06-01",
            ),
        ).transform(X)


def test_numeric_columns_no_feature_reads_are_named():
    # a game's sessions with `session_length_s` and `level_reached` beside the
    # event: kept in the store, no feature, no word (the planted churn cause
    # was the level wall)
    usage = pd.DataFrame(
        {"customer_id": ["a", "a", "b"], "event": "session",
         "time": ["2024-02-01", "2024-02-10", "2024-02-11"],
         "level_reached": [3, 12, 5], "session_length_s": [60, 30, 90]}
    )  # fmt: skip
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    events = ck.Events(customers=customers, usage=usage, observed_until=T)
    X = _X(("a", T), ("b", T))
    with pytest.warns(ck.DataQualityWarning, match="usage.level_reached, usage.sess"):
        ck.ChurnFeatures(events, windows=("30D",)).fit(X)
    level = ck.FeatureSpec("level", "usage", "max", column="level_reached")
    length = ck.FeatureSpec("length", "usage", "sum", column="session_length_s")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        features = ck.ChurnFeatures(events, windows=("30D",), custom=(level, length))
        out = features.fit_transform(X)
    assert out["level"].tolist() == [12.0, 5.0]


def test_a_change_counts_the_window_before_per_day_since_the_signup():
    # a player 60 days old: the 30 days before the last 30 hold 30 of their
    # days; 45 days old: only 15 of them, counted per day and scaled to the
    # window (was: +100 % for a player as active as ever)
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    usage = pd.DataFrame(
        {"customer_id": ["a"] * len(days), "time": days, "event": "session"}
    )
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    events = ck.Events(customers=customers, usage=usage, observed_until="2024-04-01")
    X = pd.DataFrame(
        {"customer_id": "a",
         "cutoff_time": pd.to_datetime(["2024-03-01", "2024-02-15"])}
    )  # fmt: skip
    out = ck.UsageFeatures(events, windows=("30D",)).fit_transform(X)
    assert out["usage__events_change_30d"].tolist() == [0.0, 0.0]  # 30 vs 30
    # every other day from Jan 31: 15 of 30 days against 30, -50 %; at Feb 15
    # 15 + 8 days against 15 in the 15 days since the signup, scaled to 30
    days_in = (usage["time"] - pd.Timestamp("2024-01-31")).dt.days
    quiet = usage[(days_in < 0) | (days_in % 2 == 0)]
    events = ck.Events(customers=customers, usage=quiet, observed_until="2024-04-01")
    out = ck.UsageFeatures(events, windows=("30D",)).fit_transform(X)
    assert out["usage__events_change_30d"].tolist() == pytest.approx(
        [-0.5, (23 - 30) / 30]
    )

"""KPIs on edge shapes of real exports: a spell that starts and ends at the
same instant, MRR kept on the subscriptions beside a billing table, an
activity table that begins after the other tables.

Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import DataQualityWarning, SchemaError
from tests.shapes import stripe_like

T = pd.Timestamp
MOVES = ["mrr_start", "new_mrr", "expansion", "churned_mrr", "reactivation_mrr"]


# --------------------------------------------------------------------------
# a spell of zero length (a same-day cancel in a dates-only export)
# --------------------------------------------------------------------------


def test_a_same_instant_signup_and_churn_never_holds_mrr():
    # a signs up and cancels on 03-15 (invoice of 40 that day) and has a retry
    # invoice of 40 on 04-15; b pays 100 from 01-10 on
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": ["2024-03-15", "2024-01-10"]}
    )
    billing = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "time": ["2024-03-15", "2024-04-15", "2024-01-10"],
            "kind": "invoice",
            "mrr": [40.0, 40.0, 100.0],
        }
    )
    churn = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2024-03-15"], "kind": ["voluntary"]}
    )
    events = ck.Events(
        customers=customers, billing=billing, churn=churn,
        observed_until="2024-07-01",
    )  # fmt: skip
    rates = ck.churn_rate(events, start="2024-03-01")
    # churn_rate: a is new in March and gone by its end (out of the rate)
    march = rates.loc["2024-03-01"]
    assert (march["new"], march["churned_same_period_signups"]) == (1, 1)
    assert rates["customers_end"].tolist() == [1, 1, 1, 1]
    table = ck.revenue_churn(events, start="2024-03-01")
    # revenue agrees: a is never active, so only b's 100 every month; a's
    # April row adds nothing (was: expansion 40 in April, NRR 140 %, MRR 140)
    assert table["mrr_end"].tolist() == [100.0] * 4
    assert table[["new_mrr", "expansion", "reactivation_mrr"]].sum().sum() == 0
    assert table["nrr"].tolist() == [1.0] * 4
    # a's March cohort has no MRR at the end of March: no revenue retention
    cohorts = ck.cohort_retention(events, by="revenue")
    assert cohorts.loc["2024-03-01"].isna().all()


def test_a_zero_length_subscription_then_a_return_is_a_reactivation():
    # a: 03-15 to 03-15 at 40, then from 05-10 at 40; b: 100 from 01-10
    subs = pd.DataFrame(
        [
            ("a", "2024-03-15", "2024-03-15", 40.0),
            ("a", "2024-05-10", None, 40.0),
            ("b", "2024-01-10", None, 100.0),
        ],
        columns=["customer_id", "start", "end", "mrr"],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-07-01")
    assert ck.churn_rate(events, start="2024-03-01")["reactivated"].tolist() == [
        0, 0, 1, 0,
    ]  # fmt: skip
    table = ck.revenue_churn(events, start="2024-03-01")
    # Mar, Apr: 100 (b); May: a comes back at 40, a reactivation, not an
    # expansion of b's 100 (was: expansion 40, NRR 140 %); Jun: 140
    assert table[MOVES].to_numpy().tolist() == [
        [100.0, 0.0, 0.0, 0.0, 0.0],
        [100.0, 0.0, 0.0, 0.0, 0.0],
        [100.0, 0.0, 0.0, 0.0, 40.0],
        [140.0, 0.0, 0.0, 0.0, 0.0],
    ]
    assert table["mrr_end"].tolist() == [100.0, 100.0, 140.0, 140.0]
    assert table["nrr"].tolist() == [1.0] * 4


# --------------------------------------------------------------------------
# MRR on the subscriptions, beside a billing table (a Stripe-like export)
# --------------------------------------------------------------------------


def test_billing_without_mrr_takes_the_subscriptions_mrr():
    subs, billing = stripe_like()
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the documented rule: nothing to say
        table = ck.revenue_churn(events)
    # Jan: a 100 + b 50 sign up; Feb: c 30 signs up; Mar: b (50) churns on
    # 03-05 (was: SchemaError "the billing table has no `mrr` column")
    assert table[MOVES].to_numpy().tolist() == [
        [0.0, 150.0, 0.0, 0.0, 0.0],
        [150.0, 30.0, 0.0, 0.0, 0.0],
        [180.0, 0.0, 0.0, 50.0, 0.0],
    ]
    assert table.loc["2024-03-01", "gross_mrr_churn_rate"] == pytest.approx(50 / 180)
    # the billing table itself is the one given: features see its payments
    assert len(events.frame("billing")) == 7
    assert "mrr" not in events.frame("billing")


def test_billing_mrr_on_some_rows_wins_there_and_subscriptions_fill_in(tmp_path):
    # billing's only `mrr`: a's upgrade to 120 on 02-20
    change = pd.DataFrame(
        [("a", "2024-02-20", "plan_change", None, 120.0)],
        columns=["customer_id", "time", "kind", "amount", "mrr"],
    )
    subs, billing = stripe_like(change)
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    with pytest.warns(DataQualityWarning, match=r"value on 1 of 8 rows") as record:
        table = ck.revenue_churn(events)
    message = str(record[0].message)
    assert "2 customer(s) ('b', 'c')" in message
    assert "columns={'billing': {'mrr': None}}" in message
    # a: 100 from the subscriptions until billing's 120 on 02-20; b, c: the
    # subscriptions' 50 and 30. Feb: 150 + c 30 + a's expansion 20 = 200.
    # Mar: b's 50 lost: gross 50 / 200 = 25 %, NRR 150 / 200 = 75 %
    # (was: the report started in March with 120 and no churned MRR)
    assert table[MOVES].to_numpy().tolist() == [
        [0.0, 150.0, 0.0, 0.0, 0.0],
        [150.0, 30.0, 20.0, 0.0, 0.0],
        [200.0, 0.0, 0.0, 50.0, 0.0],
    ]
    march = table.loc["2024-03-01"]
    assert (march["gross_mrr_churn_rate"], march["nrr"]) == (0.25, 0.75)
    # a saved and loaded store keeps the subscriptions' MRR
    events.save(tmp_path / "store")
    with pytest.warns(DataQualityWarning, match=r"value on 1 of 8 rows"):
        loaded = ck.revenue_churn(ck.Events.load(tmp_path / "store"))
    pd.testing.assert_frame_equal(loaded, table)


def test_complete_billing_mrr_wins_over_the_subscriptions():
    # billing's mrr (a discounted 90, 40 and 25) at every start: the
    # subscriptions' list prices are never used, and nothing is said
    rows = pd.DataFrame(
        [
            ("a", "2024-01-05", "invoice", None, 90.0),
            ("b", "2024-01-05", "invoice", None, 40.0),
            ("c", "2024-02-10", "invoice", None, 25.0),
        ],
        columns=["customer_id", "time", "kind", "amount", "mrr"],
    )
    subs, billing = stripe_like(rows)
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = ck.revenue_churn(events)
    # Jan: 90 + 40; Feb: c 25; Mar: b's 40 lost of 155
    assert table["new_mrr"].tolist() == [130.0, 25.0, 0.0]
    assert table["churned_mrr"].tolist() == [0.0, 0.0, 40.0]
    assert table["mrr_end"].tolist() == [130.0, 155.0, 115.0]


def test_no_mrr_anywhere_names_both_places():
    subs, billing = stripe_like()
    events = ck.Events(
        subscriptions=subs.drop(columns="mrr"),
        billing=billing,
        observed_until="2024-04-01",
    )
    with pytest.raises(SchemaError, match="no `mrr` column") as error:
        ck.revenue_churn(events)
    assert "the subscriptions' `mrr`" in str(error.value)
    assert "billing table's `mrr`" in str(error.value)


# --------------------------------------------------------------------------
# inactivity churn when the activity table begins after the others
# --------------------------------------------------------------------------


def _late_usage_extract():
    """Payments kept since the signups (2023), purchases only from 2024-01-10."""
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_time": ["2023-03-01", "2023-03-01", "2023-06-01"],
        }
    )
    billing = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "time": ["2023-03-01", "2023-03-01", "2023-06-01"],
            "kind": "payment",
            "mrr": [10.0, 20.0, 30.0],
        }
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["a"] * 6 + ["b"],
            "time": [f"2024-0{m}-10" for m in range(1, 7)] + ["2024-01-15"],
            "event": "purchase",
        }
    )
    return ck.Events(
        customers=customers, billing=billing, usage=usage,
        observed_until="2024-07-01",
    )  # fmt: skip


def test_inactivity_clock_starts_with_the_activity_table():
    events = _late_usage_extract()
    table = ck.churn_rate(events, inactivity="60D")
    # the report starts with the usage extract (2024-01-10), not billing's
    # 2023-03; nobody's 2023 is read as inactivity: a, b, c are continuing
    # customers in January. Before 2024-01-10 the customers count as active,
    # so the first churn can be 60 days after it, on 03-10:
    # b (last purchase 01-15) churns 03-15; c (no purchase) 03-10;
    # a buys monthly to 06-10 (open). Rates of Jan, Feb, Mar (starting before
    # 03-10) are not measured. (Was: periods from 2023-03 with churn rates up
    # to 100 %, a and b "reactivated" in January 2024, Feb and Mar 0 %.)
    cols = ["customers_start", "new", "reactivated", "churned", "customers_end"]
    assert table.index[0] == T("2024-01-01")
    assert table[cols].to_numpy().tolist() == [
        [3, 0, 0, 0, 3],
        [3, 0, 0, 0, 3],
        [3, 0, 0, 2, 1],
        [1, 0, 0, 0, 1],
        [1, 0, 0, 0, 1],
        [1, 0, 0, 0, 1],
    ]
    rates = table["churn_rate"].to_numpy()
    assert np.isnan(rates[:3]).all() and rates[3:].tolist() == [0.0, 0.0, 0.0]
    assert "2024-01-01 to 2024-03-01 are not measured" in table.attrs["note"]
    # revenue: the same periods, from the same start; b's 20 and c's 30 lost
    # in March, which is not measured
    revenue = ck.revenue_churn(events, inactivity="60D")
    assert revenue.index[0] == T("2024-01-01")
    assert revenue["mrr_start"].tolist() == [60.0, 60.0, 60.0, 10.0, 10.0, 10.0]
    assert revenue.loc["2024-03-01", "churned_mrr"] == 50.0
    assert revenue["nrr"].isna().tolist() == [True] * 3 + [False] * 3
    # cohorts start there too: the 2023 signups are before the report
    assert ck.cohort_retention(events, inactivity="60D").empty


def test_the_reports_customer_value_takes_the_subscriptions_mrr_too():
    # billing has payments only: the value at risk is 12 x the subscriptions'
    # MRR in effect (was: 12 x billing's mrr only, so the sum of payments)
    from churnkit.reporting._risk import annual_value

    subs, billing = stripe_like()
    events = ck.Events(subscriptions=subs, billing=billing, observed_until="2024-04-01")
    value, basis = annual_value(events, "2024-03-01")
    assert basis == "12 × current MRR"
    assert value.sort_index().to_dict() == {"a": 1200.0, "b": 600.0, "c": 360.0}
    # without MRR anywhere: what was paid in the past 365 days
    plain = ck.Events(
        customers=subs[["customer_id"]].assign(signup_time="2024-01-01"),
        billing=billing,
        observed_until="2024-04-01",
    )
    value, basis = annual_value(plain, "2024-03-01")
    assert basis == "paid in the past 365 days, less refunds"
    assert value.sort_index().to_dict() == {"a": 200.0, "b": 100.0, "c": 30.0}


def test_the_paid_value_takes_refunds_off_and_counts_a_sale_once():
    # a pays 100 and is refunded 30 (written positive, as the built-in data
    # does); b is invoiced 100 and pays it; c's payment fails. Was: the sum of
    # every amount, 130, 200 and 50
    from churnkit.reporting._risk import annual_value

    billing = pd.DataFrame(
        [
            ("a", "2024-02-01", "payment", 100.0),
            ("a", "2024-02-03", "refund", 30.0),
            ("b", "2024-02-01", "invoice", 100.0),
            ("b", "2024-02-01", "payment", 100.0),
            ("c", "2024-02-01", "payment_failed", 50.0),
        ],
        columns=["customer_id", "time", "kind", "amount"],
    )
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": "2024-01-01"}
    )
    events = ck.Events(
        customers=customers, billing=billing, observed_until="2024-04-01"
    )
    value, basis = annual_value(events, "2024-03-01")
    assert value.sort_index().to_dict() == {"a": 70.0, "b": 100.0, "c": 0.0}
    # invoices alone: what was invoiced
    invoices = billing[billing["kind"] == "invoice"]
    events = ck.Events(
        customers=customers, billing=invoices, observed_until="2024-04-01"
    )
    value, basis = annual_value(events, "2024-03-01")
    assert (basis, value.to_dict()) == ("invoiced in the past 365 days", {"b": 100.0})


def test_cohorts_hold_customers_from_their_first_subscription():
    # ten users register on 01-03; u0 and u1 subscribe that day, u2 and u3 on
    # 02-03 after a free month, u1 cancels on 03-03, u4-u9 never subscribe
    customers = pd.DataFrame(
        {"customer_id": [f"u{i}" for i in range(10)], "signup_time": "2024-01-03"}
    )
    subs = pd.DataFrame(
        [
            ("u0", "2024-01-03", None, 10.0),
            ("u1", "2024-01-03", "2024-03-03", 10.0),
            ("u2", "2024-02-03", None, 10.0),
            ("u3", "2024-02-03", None, 10.0),
        ],
        columns=["customer_id", "start", "end", "mrr"],
    )
    events = ck.Events(
        customers=customers, subscriptions=subs, observed_until="2024-05-01"
    )
    with pytest.warns(DataQualityWarning, match="6 of 10 customers") as caught:
        table = ck.cohort_retention(events)
    assert "'u4'" in str(caught[0].message)
    # January: u0, u1 -- both at 02-01 and 03-01, u0 alone at 04-01 and 05-01
    # (1/2); February: u2, u3 -- both throughout. Was one cohort of ten by
    # signup_time: 0.2, 0.4, 0.3, 0.3 (rising: u2, u3 read as returns)
    assert table.index.tolist() == [T("2024-01-01"), T("2024-02-01")]
    assert table.iloc[0].tolist() == [1.0, 1.0, 0.5, 0.5]
    assert table.iloc[1, :3].tolist() == [1.0, 1.0, 1.0]
    # churn_rate counts the same customers: 2 new in January, 2 in February
    rates = ck.churn_rate(events)
    assert rates["new"].tolist()[:2] == [2, 2]
    with pytest.warns(DataQualityWarning, match="6 of 10 customers"):
        revenue = ck.cohort_retention(events, by="revenue")
    assert revenue.iloc[0].tolist() == [1.0, 1.0, 0.5, 0.5]


def test_a_free_trial_that_starts_paying_is_new_business_not_expansion():
    # P: 100 since December. T0, T1 start a trial (mrr 0) on 01-20 and pay 50
    # from 02-03; T2 starts one on 01-20 and leaves on 02-03 without paying.
    # Q paid 30 in January, went to a free plan (0) on 01-25 and pays 40
    # again from 02-10 without churning: an expansion, not new business
    customers = pd.DataFrame(
        {
            "customer_id": ["P", "T0", "T1", "T2", "Q"],
            "signup_time": ["2023-12-01", *["2024-01-20"] * 3, "2023-12-01"],
        }
    )
    billing = pd.DataFrame(
        [
            ("P", "2023-12-01", 100.0),
            ("T0", "2024-01-20", 0.0),
            ("T0", "2024-02-03", 50.0),
            ("T1", "2024-01-20", 0.0),
            ("T1", "2024-02-03", 50.0),
            ("T2", "2024-01-20", 0.0),
            ("Q", "2023-12-01", 30.0),
            ("Q", "2024-01-25", 0.0),
            ("Q", "2024-02-10", 40.0),
        ],
        columns=["customer_id", "time", "mrr"],
    ).assign(kind="invoice")
    churn = pd.DataFrame({"customer_id": ["T2"], "time": ["2024-02-03"]})
    events = ck.Events(
        customers=customers, billing=billing, churn=churn, observed_until="2024-04-01"
    )
    table = ck.revenue_churn(events, start="2024-01-01")
    feb = table.loc["2024-02-01"]
    # January: Q 30 -> 0 is contraction 30 (start 130, end 100)
    jan = table.loc["2024-01-01"]
    assert jan[["mrr_start", "contraction", "mrr_end"]].tolist() == [130, 30, 100]
    # February: start 100 (P); T0 + T1 = 100 new (was: expansion 100, NRR
    # 200 %); Q's 40 an expansion of a customer active at the start (was: a
    # reactivation, so January's contraction of 30 never came back in NRR,
    # and churn_rate counts no return); T2 loses nothing
    assert feb[MOVES].tolist() == [100.0, 100.0, 40.0, 0.0, 0.0]
    assert (feb["contraction"], feb["mrr_end"], feb["nrr"]) == (0.0, 240.0, 1.4)
    # T2 is still a churned customer in the logo count
    assert ck.churn_rate(events, start="2024-01-01").loc["2024-02-01", "churned"] == 1


def test_warnings_name_integer_ids_as_the_user_wrote_them():
    # was "(e.g. np.int64(4), ...)": numpy's repr of a scalar
    customers = pd.DataFrame({"customer_id": range(6), "signup_time": "2024-01-03"})
    subs = pd.DataFrame(
        {"customer_id": [0, 1], "start": "2024-01-03", "end": None, "mrr": 10.0}
    )
    events = ck.Events(
        customers=customers, subscriptions=subs, observed_until="2024-04-01"
    )
    with pytest.warns(DataQualityWarning, match=r"\(e\.g\. 2, 3, 4, 5\)"):
        ck.cohort_retention(events)


def test_a_free_month_after_a_return_is_a_reactivation_and_inside_a_spell_is_not():
    # R pays 60, churns on 01-10, returns on 02-05 on a free month (0) and pays
    # 60 again from 03-05: revenue back from a churned customer, a
    # reactivation in March. S pays 80 throughout but has a free month (0)
    # from 02-01 to 03-01: contraction 80 in February, expansion 80 in March
    subs = pd.DataFrame(
        [
            ("R", "2023-12-01", "2024-01-10", 60.0),
            ("R", "2024-02-05", "2024-03-05", 0.0),
            ("R", "2024-03-05", None, 60.0),
            ("S", "2023-12-01", "2024-02-01", 80.0),
            ("S", "2024-02-01", "2024-03-01", 0.0),
            ("S", "2024-03-01", None, 80.0),
        ],
        columns=["customer_id", "start", "end", "mrr"],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-05-01")
    table = ck.revenue_churn(events, start="2024-01-01")
    columns = ["mrr_start", "expansion", "contraction", "churned_mrr"]
    columns += ["reactivation_mrr", "mrr_end"]
    assert table[columns].to_numpy().tolist()[:3] == [
        [140.0, 0.0, 0.0, 60.0, 0.0, 80.0],  # R churns
        [80.0, 0.0, 80.0, 0.0, 0.0, 0.0],  # S's free month; R back at 0
        [0.0, 80.0, 0.0, 0.0, 60.0, 140.0],  # S pays again; R pays again
    ]
    rates = ck.churn_rate(events, start="2024-01-01")
    assert rates["reactivated"].tolist()[:3] == [0, 1, 0]


def test_inactivity_kpis_count_only_the_kinds_given():
    # b pays in January and February, then only receives refunds (03-10 to
    # 05-10). With every billing row as activity b stays "active" to the end;
    # with payments only, b churns 60 days after its last payment (02-05 ->
    # 04-05), in April: 1 of 2 customers. a pays monthly and never churns.
    billing = pd.DataFrame(
        {
            "customer_id": ["a"] * 6 + ["b"] * 5,
            "time": [f"2024-0{m}-05" for m in range(1, 7)]
            + ["2024-01-05", "2024-02-05", "2024-03-10", "2024-04-10", "2024-05-10"],
            "kind": ["payment"] * 8 + ["refund"] * 3,
            "amount": 10.0,
        }
    )
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    events = ck.Events(
        customers=customers, billing=billing, observed_until="2024-07-01"
    )
    every = ck.churn_rate(events, inactivity="60D", table="billing")
    assert every["churned"].sum() == 0
    paid = ck.churn_rate(events, inactivity="60D", table=("billing", ["payment"]))
    assert paid["churned"].tolist() == [0, 0, 0, 1, 0, 0]
    assert paid.loc["2024-04-01", "churn_rate"] == 0.5
    assert paid.loc["2024-05-01", "customers_start"] == 1


def test_a_period_held_back_by_the_grace_says_why():
    # the data runs to 03-01 and February ends there, but with grace='1D' an
    # end on 02-29 may still be renewed: February is partial, and the note
    # says so (was: partial with NaN rates and no word why)
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "start": ["2024-01-01", "2024-02-01", "2024-01-01"],
            "end": ["2024-02-01", "2024-03-01", "2024-02-15"],
            "mrr": 10.0,
        }
    )
    events = ck.Events(subscriptions=subs, grace="1D", observed_until="2024-03-01")
    rates = ck.churn_rate(events)
    assert rates["partial"].tolist() == [False, True]
    note = (
        "2024-02-01: partial although the data runs to 2024-03-01: with "
        "grace='1D', an end after 2024-02-29 may still be followed by a renewal"
    )
    assert rates.attrs["note"].startswith(note)
    assert ck.revenue_churn(events).attrs["note"].startswith(note)
    # without a grace nothing is held back and nothing is said
    plain = ck.churn_rate(ck.Events(subscriptions=subs, observed_until="2024-03-01"))
    assert "renewal" not in plain.attrs.get("note", "")
    assert not plain["partial"].any()


def test_a_contract_lapsed_within_the_grace_keeps_its_mrr():
    # a's annual contract ended 12 days before the data's end; under
    # grace='45D' the renewal may still come, so a is active, its MRR runs on
    # and it is worth 12 x 1000 in the call list (was: MRR 0, booked as 1000
    # of contraction in the last quarter and valued at 0)
    from churnkit.reporting._risk import annual_value

    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": ["2023-01-01", "2023-01-01"],
            "end": ["2023-12-20", "2024-12-31"],
            "mrr": [1000.0, 100.0],
        }
    )
    events = ck.Events(subscriptions=subs, grace="45D", observed_until="2024-01-01")
    revenue = ck.revenue_churn(events, "QS")
    assert revenue.loc["2023-10-01", ["contraction", "churned_mrr"]].tolist() == [0, 0]
    assert revenue.loc["2023-10-01", "mrr_end"] == 1100.0
    value, _ = annual_value(events, "2024-01-01")
    assert value.loc["a"] == 12_000.0
    # an end before the last grace is a churn, as before: its MRR is gone
    early = subs.assign(end=["2023-11-01", "2024-12-31"])
    events = ck.Events(subscriptions=early, grace="45D", observed_until="2024-01-01")
    revenue = ck.revenue_churn(events, "QS")
    assert revenue.loc["2023-10-01", "churned_mrr"] == 1000.0


def test_cohort_cells_within_the_grace_of_the_end_are_not_known_yet():
    # monthly renewals to 2017-04-01 with grace 29D: an end after 03-03 may
    # still be renewed, so the cell measured at 04-01 is NaN (churn_rate's
    # March is partial); it read b as retained (KKBox-shaped trial)
    months = pd.date_range("2016-09-01", "2017-03-01", freq="MS")
    subs = pd.DataFrame(
        {
            "customer_id": ["a"] * 7 + ["b"] * 7,
            "start": list(months) * 2,
            "end": list(months + pd.offsets.MonthBegin())
            + list(months[:-1] + pd.offsets.MonthBegin())
            + [pd.Timestamp("2017-03-20")],
        }
    )
    events = ck.Events(subscriptions=subs, grace="29D", observed_until="2017-04-01")
    table = ck.cohort_retention(events)
    assert table.loc["2016-09-01"].tolist()[:6] == [1.0] * 6
    assert np.isnan(table.loc["2016-09-01", 6])
    assert "measured at 2017-04-01 are NaN" in table.attrs["note"]
    assert "grace='29D', an end after 2017-03-03" in table.attrs["note"]
    assert ck.churn_rate(events)["partial"].tolist()[-1]
    # without a grace, b's end is a churn and the cell is measured
    plain = ck.cohort_retention(
        ck.Events(subscriptions=subs, observed_until="2017-04-01")
    )
    assert plain.loc["2016-09-01", 6] == 0.5 and "note" not in plain.attrs


def test_cohorts_before_the_data_begins_are_counted_when_left_out():
    # Sparkify: the log begins in March; A and B signed up in January and
    # February and are in no cohort (was: silently)
    customers = pd.DataFrame(
        {"customer_id": list("ABCD"),
         "signup_time": ["2024-01-10", "2024-02-10", "2024-03-05", "2024-03-06"]}
    )  # fmt: skip
    usage = pd.DataFrame(
        {"customer_id": list("ABCD"), "event": "play",
         "time": ["2024-03-02", "2024-03-03", "2024-03-06", "2024-03-07"]}
    )  # fmt: skip
    churn = pd.DataFrame({"customer_id": ["A"], "time": ["2024-04-15"]})
    events = ck.Events(
        customers=customers, usage=usage, churn=churn, observed_until="2024-06-01"
    )
    with pytest.warns(
        ck.DataQualityWarning, match=r"2 of 4 customers signed up before 2024-03-01"
    ):
        table = ck.cohort_retention(events)
    assert table.index.tolist() == [pd.Timestamp("2024-03-01")]

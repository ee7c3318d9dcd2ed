"""Subscriptions that overlap each other, the signup and the churn table.

Every expected number is computed by hand in the comments.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import DataQualityWarning, SchemaError
from tests.shared_data import FIGHTCHURN, fightchurn_subscriptions

T = pd.Timestamp


def _subs(ids, starts, ends, mrr=None):
    df = pd.DataFrame({"customer_id": ids, "start": starts, "end": ends})
    if mrr is not None:
        df["mrr"] = mrr
    return df


def _billing(events):
    billing = events.frame("billing")
    return list(
        zip(
            billing["customer_id"],
            billing["time"].dt.strftime("%m-%d"),
            billing["kind"].astype(str),
            billing["mrr"],
            strict=True,
        )
    )


def _assert_identity(rates):
    flow = rates["customers_start"] + rates["new"] + rates["reactivated"]
    assert (flow - rates["churned"] == rates["customers_end"]).all()
    starts = rates["customers_start"].to_numpy()[1:]
    assert (starts == rates["customers_end"].to_numpy()[:-1]).all()
    assert (rates[["customers_start", "customers_end"]] >= 0).all().all()


# ------------------------------------------------------------ MRR is a sum
def test_overlapping_subscriptions_add_up():
    subs = _subs(["B", "B"], ["2024-01-01", "2024-02-15"], ["2024-04-01", None])
    subs["mrr"] = [50.0, 80.0]
    events = ck.Events(subscriptions=subs, observed_until="2024-07-01")
    # 50 from 01-01; 50 + 80 = 130 from 02-15; 130 - 50 = 80 from 04-01
    assert _billing(events) == [
        ("B", "01-01", "subscription_start", 50.0),
        ("B", "02-15", "subscription_start", 130.0),
        ("B", "04-01", "subscription_end", 80.0),
    ]
    table = ck.revenue_churn(events, start="2024-02-01")
    got = table[["mrr_start", "expansion", "contraction", "churned_mrr", "mrr_end"]]
    assert got.to_numpy().tolist() == [
        [50.0, 80.0, 0.0, 0.0, 130.0],  # February: +80 on 02-15
        [130.0, 0.0, 0.0, 0.0, 130.0],
        [130.0, 0.0, 50.0, 0.0, 80.0],  # April: the first subscription ends
        [80.0, 0.0, 0.0, 0.0, 80.0],
        [80.0, 0.0, 0.0, 0.0, 80.0],
    ]
    assert table["nrr"].tolist() == pytest.approx([2.6, 1.0, 80 / 130, 1.0, 1.0])


def test_subscriptions_starting_and_ending_together_add_up():
    subs = _subs(
        ["a", "a", "a"],
        ["2024-01-01", "2024-01-01", "2024-02-01"],
        ["2024-03-01", "2024-03-01", "2024-03-01"],
        [10.0, 20.0, 5.0],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-05-01")
    # 10 + 20 = 30 on 01-01, + 5 = 35 on 02-01, all three end on 03-01: 0
    assert _billing(events) == [
        ("a", "01-01", "subscription_start", 30.0),
        ("a", "02-01", "subscription_start", 35.0),
        ("a", "03-01", "subscription_end", 0.0),
    ]
    table = ck.revenue_churn(events, start="2024-01-01")
    assert table["mrr_end"].tolist() == [30.0, 35.0, 0.0, 0.0]
    assert table["churned_mrr"].tolist() == [0.0, 0.0, 35.0, 0.0]


def test_mrr_sums_are_exact():
    subs = _subs(
        ["a", "a", "a", "b", "b"],
        ["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-01", "2024-01-01"],
        ["2024-03-01", "2024-02-01", None, "2024-02-01", None],
        [0.1, 0.2, 0.3, 1 / 3, 2 / 3],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-05-01")
    billing = events.frame("billing")
    a = billing[billing["customer_id"] == "a"]["mrr"].tolist()
    # 0.1 + 0.2 = 0.3 exactly (not 0.30000000000000004); 0.3 - 0.2 = 0.1,
    # + 0.3 = 0.4; 0.4 - 0.1 = 0.3 from 03-01
    assert a == [0.3, 0.4, 0.3]
    # thirds are not decimals: summed as floats, the change within 1e-9
    b = billing[billing["customer_id"] == "b"]["mrr"].to_numpy()
    np.testing.assert_allclose(b, [1.0, 2 / 3], rtol=0, atol=1e-12)
    subs = _subs(["c"] * 3, ["2024-01-01"] * 3, ["2024-02-01"] * 3, [0.1, 0.2, 0.3])
    c = ck.Events(subscriptions=subs, observed_until="2024-05-01").frame("billing")
    # 0.1 + 0.2 + 0.3 - 0.1 - 0.2 - 0.3 is 0, not 5.6e-17
    assert c["mrr"].tolist() == [0.6, 0.0]


def test_back_to_back_renewals_make_no_rows():
    subs = _subs(
        ["a", "a", "a", "b", "b"],
        ["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01", "2024-03-01"],
        ["2024-02-01", "2024-03-01", "2024-04-01", "2024-03-01", None],
        [10.0, 10.0, 10.0, 10.0, 25.0],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    # a renews at 10 on 02-01 and 03-01: no change until it ends on 04-01;
    # b changes plan back to back on 03-01: one row, the new MRR
    assert _billing(events) == [
        ("a", "01-01", "subscription_start", 10.0),
        ("a", "04-01", "subscription_end", 0.0),
        ("b", "01-01", "subscription_start", 10.0),
        ("b", "03-01", "subscription_start", 25.0),
    ]
    assert events.report.query("table == 'billing'")["rows"].tolist() == [4]


def test_a_subscription_without_mrr_adds_nothing():
    subs = _subs(
        ["a", "a", "b"],
        ["2024-01-01", "2024-02-01", "2024-01-01"],
        [None, "2024-03-01", None],
        [10.0, None, None],
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-05-01")
    billing = _billing(events)
    # a: 10, the subscription without MRR changes nothing; b: MRR unknown
    assert billing[0] == ("a", "01-01", "subscription_start", 10.0)
    assert billing[1][:3] == ("b", "01-01", "subscription_start")
    assert np.isnan(billing[1][3]) and len(billing) == 2
    report = events.report.query("table == 'subscriptions'")
    assert report[["reason", "rows", "action"]].values.tolist() == [
        ["null mrr", 2, "adds no MRR"]
    ]
    assert ck.revenue_churn(events)["mrr_end"].tolist() == [10.0] * 4


# ------------------------------------------------ subscriptions and signups
def _before_signup():
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": ["2024-01-01", "2024-05-01"]}
    )
    subs = _subs(
        ["a", "b", "b"],
        ["2024-01-01", "2024-01-01", "2024-03-01"],
        [None, "2024-02-01", None],
        [10.0, 20.0, 30.0],
    )
    return customers, subs


def test_a_subscription_ending_before_the_signup_is_an_error():
    customers, subs = _before_signup()
    with pytest.raises(SchemaError, match=r"1 row\(s\) end before") as info:
        ck.Events(customers=customers, subscriptions=subs)
    message = str(info.value)
    assert "2024-02-01" in message and "2024-05-01" in message
    assert "'signup_time': None" in message and "errors='drop'" in message


def test_subscriptions_before_the_signup_with_errors_drop():
    customers, subs = _before_signup()
    with pytest.warns(DataQualityWarning, match=r"1 row\(s\) of 1 customer\(s\)"):
        events = ck.Events(
            customers=customers,
            subscriptions=subs,
            observed_until="2024-07-01",
            errors="drop",
        )
    # b's January subscription is dropped, its March one counts from 05-01
    spells = events.spells
    assert spells["customer_id"].tolist() == ["a", "b"]
    assert spells["start"].tolist() == [T("2024-01-01"), T("2024-05-01")]
    assert spells["end"].isna().all()
    assert _billing(events) == [
        ("a", "01-01", "subscription_start", 10.0),
        ("b", "05-01", "subscription_start", 30.0),
    ]
    report = events.report.query("table == 'subscriptions'")
    assert report[["reason", "rows", "action"]].values.tolist() == [
        ["ends before signup_time", 1, "dropped"],
        ["starts before signup_time", 1, "start moved to signup_time"],
    ]
    rates = ck.churn_rate(events)
    # a new in January, b new in May, nobody churns
    assert rates["new"].tolist() == [1, 0, 0, 0, 1, 0]
    assert rates["churned"].sum() == 0
    assert rates["customers_end"].tolist() == [1, 1, 1, 1, 2, 2]
    _assert_identity(rates)
    revenue = ck.revenue_churn(events)
    assert revenue["new_mrr"].tolist() == [10.0, 0, 0, 0, 30.0, 0]


def test_without_signup_time_the_first_subscription_is_the_signup():
    customers, subs = _before_signup()
    events = ck.Events(
        customers=customers,
        subscriptions=subs,
        observed_until="2024-07-01",
        columns={"customers": {"signup_time": None}},
    )
    assert events.customers["signup_time"].tolist() == [T("2024-01-01")] * 2
    spells = events.spells
    assert (spells["end"].isna() | (spells["end"] >= spells["start"])).all()
    rates = ck.churn_rate(events)
    # a and b new in January; b churns 02-01 and returns 03-01
    assert rates["new"].tolist() == [2, 0, 0, 0, 0, 0]
    assert rates["churned"].tolist() == [0, 1, 0, 0, 0, 0]
    assert rates["reactivated"].tolist() == [0, 0, 1, 0, 0, 0]
    assert rates["customers_end"].tolist() == [2, 1, 2, 2, 2, 2]
    _assert_identity(rates)
    revenue = ck.revenue_churn(events)
    # 10 + 20 in January, b's 20 churns in February, its 30 returns in March
    assert revenue["mrr_end"].tolist() == [30.0, 10.0, 40.0, 40.0, 40.0, 40.0]
    assert revenue["churned_mrr"].tolist() == [0.0, 20.0, 0, 0, 0, 0]
    assert revenue["reactivation_mrr"].tolist() == [0.0, 0, 30.0, 0, 0, 0]


def test_a_subscription_starting_on_the_signup_is_not_reported():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    subs = _subs(["a"], ["2024-01-01"], ["2024-03-01"], [10.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        events = ck.Events(
            customers=customers, subscriptions=subs, observed_until="2024-05-01"
        )
    assert events.report.query("table == 'subscriptions'").empty
    _assert_identity(ck.churn_rate(events))


# ------------------------------------------------ subscriptions and churn
def test_churn_rows_matching_no_subscription_end_are_counted_and_warned():
    subs = _subs(["A", "B"], ["2024-01-01"] * 2, ["2024-03-01", None])
    churn = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "time": ["2024-03-01", "2024-04-10"],
            "kind": ["involuntary", "voluntary"],
        }
    )
    with pytest.warns(DataQualityWarning, match="1 row") as record:
        events = ck.Events(subscriptions=subs, churn=churn, observed_until="2024-07-01")
    message = str(record[0].message)
    assert "'B' churns 2024-04-10 but its subscription is still open" in message
    assert "set that subscription's `end`" in message
    assert "without `subscriptions`" in message
    assert events.report.to_dict("records") == [
        {
            "table": "churn",
            "reason": "no matching subscription end",
            "rows": 1,
            "action": "dropped",
        }
    ]
    summary = events.summary().loc["churn"]
    assert (summary["rows"], summary["rows_excluded"]) == (1, 1)  # 2 input rows
    assert events.churns["kind"].astype(str).tolist() == ["involuntary"]


def test_churn_rows_far_from_an_end_or_repeating_one_say_why():
    subs = _subs(["a", "b"], ["2024-01-01"] * 2, ["2024-03-01", "2024-04-01"])
    churn = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "time": ["2024-05-20", "2024-04-01", "2024-04-01 12:00"],
            "kind": ["voluntary", "involuntary", "voluntary"],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"2 row\(s\)") as record:
        events = ck.Events(subscriptions=subs, churn=churn, observed_until="2024-07-01")
    message = str(record[0].message)
    assert "'a' churns 2024-05-20 but its nearest subscription end is 2024-03-01" in (
        message
    )
    assert "'b' churns 2024-04-01 12:00:00 but another churn row is nearer" in message
    # a's end has no kind; b's end takes the nearest row's (04-01, involuntary)
    churns = events.churns
    assert churns["kind"].isna().tolist() == [True, False]
    assert churns["kind"].iloc[1] == "involuntary"
    assert events.summary().loc["churn", "rows_excluded"] == 2


# ------------------------------------------------------- real shapes
@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_revenue_is_unchanged_and_renewals_make_no_rows():
    subs = fightchurn_subscriptions()
    events = ck.Events(subscriptions=subs)
    billing = events.frame("billing")
    # monthly renewals at 10: each of the 1,620 accounts has a first start and
    # a last end, nothing in between (it had 14,348 rows with a pair per renewal)
    assert len(billing) == 2 * 1620
    assert not billing.duplicated(["customer_id", "mrr"]).any()
    table = ck.revenue_churn(events)
    # the numbers before overlapping subscriptions were summed
    assert table["new_mrr"].tolist() == [10000, 1000, 1110, 1230, 1360, 1500, 0]
    assert table["churned_mrr"].tolist() == [0, 700, 230, 280, 270, 320, 0]
    assert table["mrr_end"].tolist() == [
        10000,
        10300,
        11180,
        12130,
        13220,
        14400,
        14400,
    ]
    assert (table[["expansion", "contraction", "reactivation_mrr"]] == 0).all().all()
    assert table["nrr"].iloc[1] == pytest.approx(0.93)


# ------------------------------------------------------- property
@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.integers(0, 120),  # start, days after 2024-01-01
            st.one_of(st.none(), st.integers(1, 90)),  # length, None: open
            st.sampled_from([10.0, 20.0, 0.1, 0.2, 33.33, 5.0]),
        ),
        min_size=1,
        max_size=7,
    )
)
def test_billing_mrr_is_the_sum_over_open_subscriptions(rows):
    day0 = pd.Timestamp("2024-01-01")
    subs = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "start": [day0 + pd.Timedelta(r[1], "D") for r in rows],
            "end": [
                pd.NaT if r[2] is None else day0 + pd.Timedelta(r[1] + r[2], "D")
                for r in rows
            ],
            "mrr": [r[3] for r in rows],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        billing = ck.Events(subscriptions=subs, observed_until="2024-09-01").frame(
            "billing"
        )
    for customer, own in subs.groupby("customer_id"):
        rows_of = billing[billing["customer_id"].astype(str) == customer]
        for t in pd.date_range("2024-01-01", "2024-08-31", freq="5D"):
            in_effect = rows_of[rows_of["time"] <= t]["mrr"]
            got = in_effect.iloc[-1] if len(in_effect) else 0.0
            open_ = own[(own["start"] <= t) & (own["end"].isna() | (own["end"] > t))]
            assert got == pytest.approx(round(open_["mrr"].sum(), 6), abs=1e-9)


def test_a_subscriptions_table_appended_twice_warns():
    subs = _subs(["a", "b"], ["2024-01-01", "2024-02-01"], [None, None], [10.0, 20.0])
    twice = pd.concat([subs, subs], ignore_index=True)
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(subscriptions=twice, observed_until="2024-06-01")
    (message,) = [str(w.message) for w in record]
    assert message.startswith("Table 'subscriptions': 2 row(s) repeat another row")
    assert "MRR, churned and new MRR include them twice" in message
    # nothing is changed: the warning says what to drop
    assert ck.revenue_churn(events, start="2024-03-01")["mrr_end"].iloc[0] == 60.0
    # the same customer and dates at another price is no repeat
    other = pd.concat([subs, subs.assign(mrr=[5.0, 5.0])], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ck.Events(subscriptions=other, observed_until="2024-06-01")


@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="needs ../shared/datasets")
def test_fightchurn_subscriptions_appended_twice_warn_and_once_do_not():
    subs = fightchurn_subscriptions()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ck.Events(subscriptions=subs)
    with pytest.warns(DataQualityWarning, match=r"7,174 row\(s\) repeat another"):
        ck.Events(subscriptions=pd.concat([subs, subs], ignore_index=True))


def test_end_dates_that_include_the_last_day_warn_and_grace_reads_renewals():
    # 10 customers renewing monthly, each term written 01-01..01-31
    starts = pd.date_range("2024-01-01", periods=5, freq="MS")
    ids = [f"c{i}" for i in range(10)]
    subs = pd.DataFrame(
        {
            "customer_id": np.repeat(ids, 5),
            "start": np.tile(starts, 10),
            "end": np.tile(starts + pd.offsets.MonthEnd(0), 10),
            "mrr": 10.0,
        }
    )
    with pytest.warns(DataQualityWarning) as record:
        ck.Events(subscriptions=subs, observed_until="2024-05-15")
    (message,) = [str(w.message) for w in record]
    # 4 renewals each: 40 returns, all one day after an end
    assert message.startswith(
        "Table 'subscriptions': 40 of 40 returns start a day or less after"
    )
    assert "pass `grace='1D'`" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        events = ck.Events(subscriptions=subs, grace="1D", observed_until="2024-05-15")
    assert events.churns.empty


def test_grace_keeps_the_mrr_through_the_gap_it_bridges():
    # a renews 3 days late (02-29 -> 03-03): with grace 7D one spell, and its
    # $100 runs on through the gap; b, unbroken, $100 throughout
    subs = _subs(
        ["a", "a", "b"],
        ["2024-01-15", "2024-03-03", "2024-01-20"],
        ["2024-02-29", None, None],
        [100.0, 100.0, 100.0],
    )
    events = ck.Events(subscriptions=subs, grace="7D", observed_until="2024-06-01")
    table = ck.revenue_churn(events, start="2024-02-01", end="2024-04-01")
    assert table["mrr_start"].tolist() == [200.0, 200.0, 200.0]
    assert table["contraction"].sum() == 0 and table["expansion"].sum() == 0
    assert table["nrr"].tolist() == [1.0, 1.0, 1.0]
    # the derived billing rows: a's first end moved to the restart (no row)
    rows = [row for row in _billing(events) if row[0] == "a"]
    assert rows == [("a", "01-15", "subscription_start", 100.0)]
    # without grace the gap is a churn and a return: $0 at 03-01
    strict = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    march = ck.revenue_churn(strict).loc["2024-03-01"]
    assert march["mrr_start"] == 100.0


def test_a_contract_and_its_amendment_both_bridge_a_late_renewal():
    # A's contract (1000) and a seat amendment (200) end together on 01-01;
    # the renewal (1200) is signed 31 days late. Only the amendment's 200 was
    # kept through the gap: contraction 1000 in January, expansion in February
    subs = _subs(
        ["A", "A", "A", "B", "B"],
        ["2023-01-01", "2023-06-01", "2024-02-01", "2023-01-01", "2024-02-01"],
        ["2024-01-01", "2024-01-01", "2025-01-01", "2024-01-01", "2025-01-01"],
        [1000.0, 200.0, 1200.0, 1000.0, 1000.0],
    )
    events = ck.Events(subscriptions=subs, grace="40D", observed_until="2024-06-01")
    table = ck.revenue_churn(events, start="2023-12-01", end="2024-03-01")
    assert table["mrr_start"].tolist() == [2200.0] * 4
    assert table["contraction"].sum() == table["expansion"].sum() == 0
    X = pd.DataFrame({"customer_id": ["A", "B"], "cutoff_time": T("2024-01-15")})
    mrr = ck.BillingFeatures(events).fit_transform(X)["billing__mrr"]
    assert mrr.tolist() == [1200.0, 1000.0]


def _cancellations_after_the_last_signup():
    # 20 customers, one row each, signed up on the 10th of a month from
    # 2023-01 to 2024-03 (the last signup, 2024-03-10); running ones have an
    # empty end; C01..C06 cancelled in Apr-Jun 2024, after the last signup
    months = [i * 14 // 20 for i in range(19)] + [14]
    start = [T("2023-01-10") + pd.DateOffset(months=m) for m in months]
    cancelled = ["04-03", "04-20", "05-02", "05-28", "06-11", "06-25"]
    ends = [None] + [f"2024-{day}" for day in cancelled] + [None] * 13
    ids = [f"C{i:02d}" for i in range(20)]
    return _subs(ids, start, ends, 100.0)


def test_ends_after_the_last_start_in_a_table_with_empty_ends_warn():
    subs = _cancellations_after_the_last_signup()
    with pytest.warns(DataQualityWarning, match="observed_until=") as record:
        events = ck.Events(subscriptions=subs)
    (message,) = [str(w.message) for w in record if "column 'end'" in str(w.message)]
    # dates only: observed_until is the end of 03-10, the last start; the 6
    # ends (6 of 20 customers, 30 %) are read as paid-period ends, so no churn
    assert events.observed_until == T("2024-03-11")
    assert events.churns.empty
    assert message.startswith(
        "Table 'subscriptions': 6 values of column 'end' (6 of 20 customers) lie "
        "at or after the default `observed_until` (2024-03-11 00:00:00"
    )
    assert "up to 2024-06-25" in message and "14 running subscriptions" in message
    assert "C01" in message
    # with the date the extract was taken: 2 churns in each of Apr, May, Jun
    # out of 20, 18 and 16 customers; nothing said
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        later = ck.Events(subscriptions=subs, observed_until="2024-07-01")
    rates = ck.churn_rate(later, start="2024-04-01")
    assert rates["churned"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(rates["churn_rate"], [2 / 20, 2 / 18, 2 / 16])


def test_paid_period_ends_or_few_late_ends_do_not_warn():
    subs = _cancellations_after_the_last_signup()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        # every row has an end: a table of paid periods, the documented rule
        filled = subs.assign(end=subs["end"].fillna("2024-04-09"))
        ck.Events(subscriptions=filled)
        # 4 late ends: fewer than 5
        few = subs.assign(end=subs["end"].where(subs.index > 4))
        ck.Events(subscriptions=few)


def test_blank_and_nat_text_ends_are_open_like_null():
    # a CSV export writes open subscriptions as "", "NaT" or spaces: a, b, d
    # are open like null; c ends on 03-10, a churn in March of 1 of 4
    subs = _subs(
        ["a", "b", "c", "d"],
        ["2024-01-05"] * 4,
        ["", "NaT", "2024-03-10", "  "],
        10.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        events = ck.Events(subscriptions=subs, observed_until="2024-05-01")
    assert events.spells["end"].isna().tolist() == [True, True, False, True]
    assert events.churns["customer_id"].tolist() == ["c"]
    march = ck.churn_rate(events).loc["2024-03-01"]
    assert (march["customers_start"], march["churned"]) == (4, 1)
    assert march["churn_rate"] == 0.25
    # nothing dropped (was: a SchemaError)
    assert (events.report["action"] != "dropped").all()


def test_mrr_in_several_currencies_warns():
    # two USD customers at 100 and two JPY at 15,000: one USD churn is 25 % of
    # the MRR in USD, 100 / 30,200 = 0.33 % summed as one number
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "start": "2024-01-05",
            "end": [None, "2024-02-10", None, None],
            "mrr": [100.0, 100.0, 15_000.0, 15_000.0],
            "currency": ["USD", "usd ", "JPY", "JPY"],
        }
    )
    with pytest.warns(ck.DataQualityWarning, match="2 currencies") as caught:
        events = ck.Events(subscriptions=subs, observed_until="2024-04-01")
    message = str(caught[0].message)
    assert "Table 'subscriptions'" in message and "USD (2 rows)" in message
    assert "JPY (2 rows)" in message
    assert events.warnings["message"].str.contains("currencies").any()
    one = subs.assign(currency="USD")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(subscriptions=one.iloc[:2], observed_until="2024-04-01")
        # no money column, nothing added up: nothing to say (was: a warning
        # on a raw Stripe export whose amounts were not mapped)
        ck.Events(subscriptions=subs.drop(columns="mrr"), observed_until="2024-04-01")


def test_a_plan_change_exported_with_a_one_day_overlap_warns():
    # an upgrade 40 -> 70: the old row ends 03-01, the new one starts 02-29;
    # on the overlap the MRR reads 110 (February NRR 150 % instead of 121 %)
    subs = pd.DataFrame(
        {
            "customer_id": ["x", "x", "y", "z", "z"],
            "start": ["2024-01-05", "2024-02-29", "2024-01-05", "2024-01-05",
                      "2024-02-01"],
            "end": ["2024-03-01", None, None, None, "2024-03-01"],
            "mrr": [40.0, 70.0, 100.0, 50.0, 20.0],
        }
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match="1 subscription") as caught:
        ck.Events(subscriptions=subs, observed_until="2024-04-01")
    assert "2024-02-29" in str(caught[0].message)
    # z's add-on inside an open subscription is what overlapping rows are
    # for: nothing to say
    quiet = subs.iloc[2:].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(subscriptions=quiet, observed_until="2024-04-01")


def test_renewals_paid_days_ahead_warn_and_the_fix_given_mends_them():
    # KKBox: a renewal paid 2 days before the membership expires read MRR 298
    # for a 149 plan, silently (only overlaps of a day or less warned)
    subs = pd.DataFrame(
        {"customer_id": ["A", "A", "A"],
         "start": pd.to_datetime(["2016-01-01", "2016-01-29", "2016-02-27"]),
         "end": pd.to_datetime(["2016-01-31", "2016-03-01", "2016-03-31"]),
         "mrr": 149.0}
    )  # fmt: skip
    with pytest.warns(
        ck.DataQualityWarning, match=r"2 subscription\(s\) start up"
    ) as w:
        ck.Events(subscriptions=subs, observed_until="2016-06-01")
    message = str(w[0].message)
    assert "(0 by a day or less, 2 by 1 to 7 days)" in message
    fix = message.split("e.g. `")[-1].split("`.")[0]
    scope = {"subs": subs.copy()}
    exec(fix, scope)  # the fix the warning gives, as written
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        events = ck.Events(subscriptions=scope["subs"], observed_until="2016-06-01")
    daily = ck.revenue_churn(events, start="2016-01-01", freq="D")
    assert daily["mrr_start"].max() == 149.0


def test_a_renewal_charged_a_day_early_warns():
    # w renews at the same 30 a day before the period ends (auto-renewal
    # billed ahead): on 01-31 the MRR reads 60, so January ends at 160 and
    # February loses 30. Was silent: new MRR 160 instead of 130, then a
    # contraction of 30 where nothing changed
    renewal = pd.DataFrame(
        {"customer_id": ["w", "w", "v"], "start": ["2024-01-01", "2024-01-31",
         "2024-01-05"], "end": ["2024-02-01", None, None],
         "mrr": [30.0, 30.0, 100.0]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match="1 subscription") as caught:
        events = ck.Events(subscriptions=renewal, observed_until="2024-04-01")
    assert "renewal read as new MRR counted twice" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.DataQualityWarning)
        kpis = ck.revenue_churn(events)
    assert kpis["new_mrr"].tolist()[:2] == [160.0, 0.0]
    assert kpis["contraction"].tolist()[:2] == [0.0, 30.0]
    # ended when the new one starts, as the warning says: 130, then nothing
    fixed = renewal.assign(end=["2024-01-31", None, None])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        kpis = ck.revenue_churn(
            ck.Events(subscriptions=fixed, observed_until="2024-04-01")
        )
    assert kpis["new_mrr"].tolist()[:2] == [130.0, 0.0]
    assert kpis["contraction"].tolist()[:2] == [0.0, 0.0]


def test_a_kind_row_of_a_scheduled_cancellation_does_not_move_the_data_end():
    # A's annual plan is cancelled on 03-05 to end 2025-01-10; the churn table
    # only names the kinds. Was: observed_until 2025-01-11 (from the kind
    # row), April..December read as observed months at 0 % churn
    subs = pd.DataFrame(
        {"customer_id": ["A", "B", "C"],
         "start": ["2024-01-10", "2024-01-12", "2024-01-15"],
         "end": ["2025-01-10", "2024-03-01", None],
         "cancel_time": ["2024-03-05", "2024-03-01", None]}
    )  # fmt: skip
    churn = pd.DataFrame(
        {"customer_id": ["A", "B"], "time": ["2025-01-10", "2024-03-01"],
         "kind": ["voluntary", "involuntary"]}
    )  # fmt: skip
    usage = pd.DataFrame(
        {"customer_id": ["A", "B", "C"], "time": "2024-03-30", "event": "login"}
    )
    plain = ck.Events(subscriptions=subs, usage=usage)
    kinds = ck.Events(subscriptions=subs, usage=usage, churn=churn)
    assert kinds.observed_until == plain.observed_until == pd.Timestamp("2024-03-31")
    # the kinds still reach their ends; A's scheduled churn is dated at its end
    got = kinds.churns.set_index("customer_id")
    assert got.loc["B", "kind"] == "involuntary"
    assert got.loc["A", "time"] == pd.Timestamp("2025-01-10")


def test_a_cancellation_without_an_end_warns():
    # Stripe leaves ended_at empty until a scheduled cancellation takes effect:
    # mapped to `end`, A's cancellation read as no churn, silently
    subs = pd.DataFrame(
        {"customer_id": ["A", "B"], "start": ["2024-01-10", "2024-01-12"],
         "end": [None, None], "cancel_time": ["2024-03-05", None]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match=r"1 subscription\(s\) have a") as w:
        events = ck.Events(subscriptions=subs, observed_until="2024-04-01")
    assert "current_period_end" in str(w[0].message)
    assert events.churns.empty  # nothing changed: the end is the user's to give


def test_an_open_subscription_whose_status_says_it_ended_warns():
    # Stripe leaves ended_at empty on 'unpaid' subscriptions: mapped to `end`,
    # B stayed active with its MRR for ever, silently
    subs = pd.DataFrame(
        {"customer_id": ["A", "B", "C", "D"], "start": "2024-01-01",
         "end": [None, None, "2024-03-01", None],
         "status": ["active", " Unpaid", "canceled", "past_due"],
         "mrr": [100.0, 100.0, 50.0, 10.0]}
    )  # fmt: skip
    with pytest.warns(
        ck.DataQualityWarning, match=r"1 subscription\(s\) have no "
    ) as w:
        events = ck.Events(subscriptions=subs, observed_until="2024-06-15")
    message = str(w[0].message)
    assert "('unpaid': 1)" in message and "current_period_end" in message
    assert " B " in message.split("\n")[2]  # the row, by its customer
    assert events.churns["customer_id"].tolist() == ["C"]  # nothing changed
    with warnings.catch_warnings():  # ended rows with an end: nothing to say
        warnings.simplefilter("error")
        ck.Events(subscriptions=subs.iloc[[0, 2, 3]], observed_until="2024-06-15")


def test_plan_switches_seconds_apart_among_real_returns_warn():
    # 4 upgrades written as a new subscription 3 s after the old one ends,
    # beside 10 win-backs after two months: the day-gap rule (most returns a
    # day apart) stayed silent and February read 4 churns, NRR 88 %
    rows = []
    for i in range(4):
        rows += [(f"S{i}", "2024-01-05", "2024-02-10 12:00:00", 100.0),
                 (f"S{i}", "2024-02-10 12:00:03", None, 200.0)]  # fmt: skip
    for i in range(10):
        rows += [(f"W{i}", "2023-10-05", "2023-11-10", 100.0),
                 (f"W{i}", "2024-01-10", None, 100.0)]  # fmt: skip
    subs = pd.DataFrame(rows, columns=["customer_id", "start", "end", "mrr"])
    with pytest.warns(ck.DataQualityWarning, match=r"4 of 14 returns start within a"):
        ck.Events(subscriptions=subs, observed_until="2024-04-01")
    # read as one subscription, as the warning says: an expansion, no churn
    events = ck.Events(subscriptions=subs, grace="1h", observed_until="2024-04-01")
    feb = ck.churn_rate(events, start="2024-02-01").loc["2024-02-01"]
    assert (feb["churned"], feb["reactivated"]) == (0, 0)
    assert ck.revenue_churn(events, start="2024-02-01").loc[
        "2024-02-01", "expansion"
    ] == pytest.approx(400.0)
    # the win-backs alone: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(subscriptions=subs[subs["customer_id"].str.startswith("W")])


def test_renewals_signed_late_name_the_grace_that_covers_them():
    # annual contracts renewed 10 to 40 days after they end: each is a churn
    # and a return with no grace; the warning names a grace covering nine in
    # ten of them (a B2B trial read quarterly churn 3.6-8.6 % for 2.4-6 %)
    rows = []
    for i, gap in enumerate(range(10, 41)):
        start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2023-01-01")
        rows.append((i, start, end))
        renewed = end + pd.Timedelta(days=gap)
        rows.append((i, renewed, renewed + pd.Timedelta("365D")))
    subs = pd.DataFrame(rows, columns=["customer_id", "start", "end"])
    with pytest.warns(
        ck.DataQualityWarning,
        match=r"31 of 31 returns start 2 to 60 days after the previous "
        r"subscription's `end` \(median 25 days.*pass `grace='37D'`",
    ):
        ck.Events(subscriptions=subs, observed_until="2024-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        events = ck.Events(subscriptions=subs, grace="37D", observed_until="2024-06-01")
    churns = events.churns
    late = churns[churns["time"] < pd.Timestamp("2024-01-01")]
    assert sorted(late["customer_id"]) == [28, 29, 30]  # gaps of 38 to 40 days


def test_a_churn_row_at_a_plan_change_is_said_to_be_one():
    # Stripe: an upgrade ends one subscription on 02-01 and starts the next;
    # the churn table's row there read "its nearest subscription end is
    # 2024-03-01", and the fix offered (set that subscription's `end`) was wrong
    subs = pd.DataFrame(
        {"customer_id": ["a", "a", "b"],
         "start": ["2024-01-01", "2024-02-01", "2024-01-01"],
         "end": ["2024-02-01", "2024-03-01", "2024-02-01"]}
    )  # fmt: skip
    churn = pd.DataFrame(
        {"customer_id": ["a", "b", "b"], "kind": "voluntary",
         "time": ["2024-02-01", "2024-02-01 12:00", "2024-02-01"]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match="match no subscription end") as w:
        events = ck.Events(subscriptions=subs, churn=churn, observed_until="2024-06-01")
    message = str(w[0].message)
    assert "'a' churns 2024-02-01 but a subscription ends then while" in message
    assert "another churn row is nearer" in message  # b's second row: not a switch
    assert "1 of them falls where a subscription ends while the customer" in message
    assert events.churns["customer_id"].tolist() == ["b", "a"]


def test_an_exports_current_mrr_on_ended_subscriptions_warns():
    # Chargebee writes a cancelled subscription's mrr as 0: February's two
    # churns lost nothing, NRR 100 %, silently
    subs = pd.DataFrame(
        {"customer_id": list("abcdefghij"), "start": "2024-01-05",
         "end": [None] * 4 + ["2024-02-10"] * 6, "mrr": [3000] * 4 + [0] * 6}
    )  # fmt: skip
    with pytest.warns(
        ck.DataQualityWarning, match=r"6 of the 6 customers whose latest"
    ):
        ck.Events(subscriptions=subs, observed_until="2024-04-01")
    # trials at 0 that converted, and churns that kept their MRR: nothing
    trials = pd.DataFrame(
        {"customer_id": [c for c in "abcdef" for _ in (0, 1)],
         "start": ["2024-01-01", "2024-01-15"] * 6,
         "end": ["2024-01-15", None] * 6, "mrr": [0.0, 50.0] * 6}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(subscriptions=trials, observed_until="2024-04-01")
        ck.Events(subscriptions=subs.assign(mrr=3000), observed_until="2024-04-01")


def test_asking_for_the_subscriptions_table_says_where_they_went():
    subs = pd.DataFrame(
        {"customer_id": ["a"], "start": ["2024-01-01"], "end": [None], "mrr": [9.0]}
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-03-01")
    with pytest.raises(SchemaError, match=r"kept as active spells \(`events.spells`"):
        events.frame("subscriptions")
    assert events.spells["customer_id"].tolist() == ["a"]


def test_a_trial_on_the_paid_row_warns_and_is_no_guess_for_start_or_end():
    # Recurly writes a trial on the paid subscription's row: mapped as is,
    # the trial counted as paid MRR and a lapsed trial as churned MRR (+53 %
    # churned MRR in a trial), silently; the column guess even offered
    # trial_started_at as the start
    from churnkit.events._columns import likely_columns

    subs = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "start": ["2024-01-01"] * 3,
         "end": [None, "2024-01-15", None], "mrr": [9.99, 9.99, 9.99],
         "trial_ends_at": ["2024-01-15T00:00:00Z", "2024-01-15T00:00:00Z", None]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match="2 subscription\\(s\\) with MRR"):
        ck.Events(subscriptions=subs, observed_until="2024-06-01")
    recurly = ["account_code", "activated_at", "canceled_at", "expires_at"]
    recurly += ["trial_started_at", "trial_ends_at", "current_period_ends_at"]
    assert likely_columns(
        ["customer_id", "start", "end"], recurly, "subscriptions"
    ) == {
        "account_code": "customer_id",
        "activated_at": "start",
        "expires_at": "end",
    }


def test_a_renewal_with_a_null_mrr_keeps_the_previous_one():
    # an insurer's legacy renewal row without a premium: read as 0, a holder
    # insured throughout booked a contraction of 51.08, then an expansion of
    # 55.80 a year later (NRR 44 % for the month)
    subs = pd.DataFrame(
        {"customer_id": ["A"] * 4 + ["B"],
         "start": ["2022-03-29", "2023-03-29", "2024-03-29", "2025-06-01",
                   "2022-01-01"],
         "end": ["2023-03-28", "2024-03-28", "2025-03-28", None, None],
         "mrr": [51.08, None, 55.80, None, 40.0]}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, grace="30D", observed_until="2025-07-01")
    revenue = ck.revenue_churn(events, start="2023-02-01", end="2024-05-01")
    assert revenue.loc["2023-03-01", "contraction"] == 0.0
    assert revenue.loc["2024-03-01", "expansion"] == pytest.approx(55.80 - 51.08)
    report = events.report.set_index("reason")
    assert report.loc["null mrr on a renewal", "rows"] == 1
    # a return after a churn (two months late) is no renewal: it adds nothing
    assert report.loc["null mrr", "rows"] == 1


def test_subscriptions_with_every_mrr_null_are_named_as_the_cause():
    # was: "the billing table's `mrr` is empty on all its 2 rows" to a user
    # who gave no billing table, and a mapping they already had
    subs = pd.DataFrame(
        {"customer_id": ["a", "b"], "start": "2024-01-01", "end": [None, "2024-03-01"],
         "mrr": [None, None]}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    with pytest.raises(ck.SchemaError, match="the subscriptions' `mrr` is empty"):
        ck.revenue_churn(events)

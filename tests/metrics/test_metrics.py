"""Tests of churnkit.metrics: every expected number below is computed by hand."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError
from churnkit.metrics import (
    CHURN_RATE_COLUMNS,
    REVENUE_CHURN_COLUMNS,
    churn_rate,
    cohort_retention,
    convert_rate,
    plot_churn_rate,
    plot_cohort_retention,
    plot_revenue_churn,
    revenue_churn,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAN = np.nan


def make_events(signups, churns=(), billing=None, **kwargs):
    """Events from {id: signup}, [(id, time, kind)] and [(id, time, mrr)]."""
    customers = pd.DataFrame(
        {"customer_id": list(signups), "signup_time": list(signups.values())}
    )
    churn = None
    if churns:
        churn = pd.DataFrame(list(churns), columns=["customer_id", "time", "kind"])
    if billing is not None:
        billing = pd.DataFrame(billing, columns=["customer_id", "time", "mrr"])
        billing["kind"] = "invoice"
    return ck.Events(customers=customers, churn=churn, billing=billing, **kwargs)


def periods(*starts):
    return pd.DatetimeIndex(pd.to_datetime(list(starts)), name="period").as_unit("ns")


# --------------------------------------------------------------------------
# the worked example of docs/kpis.md
# --------------------------------------------------------------------------


def five_customers():
    """The five customers of docs/kpis.md (keep the two in sync)."""
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "C", "D", "E"],
            "start": [
                "2023-11-03",
                "2023-12-15",
                "2023-10-01",
                "2024-02-12",
                "2024-01-05",
                "2024-01-15",
            ],
            "end": [None, "2024-02-01", "2024-01-18", None, "2024-01-25", "2024-03-10"],
        }
    )
    churn = pd.DataFrame(
        {
            "customer_id": ["C", "D", "B", "E"],
            "time": ["2024-01-18", "2024-01-25", "2024-02-01", "2024-03-10"],
            "kind": ["involuntary", "voluntary", "voluntary", "voluntary"],
        }
    )
    billing = pd.DataFrame(
        [
            ("A", "2023-11-03", "invoice", 100),
            ("A", "2024-01-10", "plan_change", 60),
            ("A", "2024-01-20", "plan_change", 120),
            ("A", "2024-02-20", "plan_change", 90),
            ("B", "2023-12-15", "invoice", 50),
            ("C", "2023-10-01", "invoice", 80),
            ("C", "2024-02-12", "invoice", 80),
            ("D", "2024-01-05", "invoice", 30),
            ("E", "2024-01-15", "invoice", 40),
            ("E", "2024-02-20", "plan_change", 60),
        ],
        columns=["customer_id", "time", "kind", "mrr"],
    )
    return ck.Events(
        subscriptions=subscriptions,
        churn=churn,
        billing=billing,
        observed_until="2024-03-16",
    )


def test_worked_example_churn_rate():
    table = churn_rate(five_customers(), start="2024-01-01")
    expected = pd.DataFrame(
        {
            "customers_start": [3, 3, 3],
            "new": [2, 0, 0],
            "reactivated": [0, 1, 0],
            "churned": [1, 1, 1],
            "churned_voluntary": [0, 1, 1],
            "churned_involuntary": [1, 0, 0],
            "churned_unknown_kind": [0, 0, 0],
            "churned_same_period_signups": [1, 0, 0],
            "customers_end": [3, 3, 2],
            "churn_rate": [1 / 3, 1 / 3, NAN],
            "voluntary_churn_rate": [0.0, 1 / 3, NAN],
            "involuntary_churn_rate": [1 / 3, 0.0, NAN],
            "unknown_kind_churn_rate": [0.0, 0.0, NAN],
            "partial": [False, False, True],
        },
        index=periods("2024-01-01", "2024-02-01", "2024-03-01"),
    )
    pd.testing.assert_frame_equal(table, expected)


def test_worked_example_revenue_churn():
    table = revenue_churn(five_customers(), start="2024-01-01")
    expected = pd.DataFrame(
        {
            "mrr_start": [230.0, 210.0, 230.0],
            "new_mrr": [40.0, 0.0, 0.0],
            "expansion": [20.0, 20.0, 0.0],
            "contraction": [0.0, 30.0, 0.0],
            "churned_mrr": [80.0, 50.0, 60.0],
            "reactivation_mrr": [0.0, 80.0, 0.0],
            "mrr_end": [210.0, 230.0, 170.0],
            "gross_mrr_churn_rate": [80 / 230, 80 / 210, NAN],
            "net_mrr_churn_rate": [60 / 230, 60 / 210, NAN],
            "nrr": [170 / 230, 150 / 210, NAN],
            "partial": [False, False, True],
        },
        index=periods("2024-01-01", "2024-02-01", "2024-03-01"),
    )
    pd.testing.assert_frame_equal(table, expected)


@pytest.mark.parametrize(
    "by, expected",
    [
        (
            "customers",
            [
                [1, 1, 1, 0, 1],
                [1, 1, 1, 1, NAN],
                [1, 1, 0, NAN, NAN],
                [0.5, 0.5, NAN, NAN, NAN],
            ],
        ),
        (
            "revenue",
            [
                [1, 1, 1, 0, 1],
                [1, 1, 1.2, 0.9, NAN],
                [1, 1, 0, NAN, NAN],
                [1, 1.5, NAN, NAN, NAN],
            ],
        ),
    ],
)
def test_worked_example_cohorts(by, expected):
    table = cohort_retention(five_customers(), by=by)
    index = pd.DatetimeIndex(
        pd.to_datetime(["2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01"]),
        name="cohort",
    ).as_unit("ns")
    columns = pd.Index(np.arange(5), name="periods_since_signup")
    expected = pd.DataFrame(np.array(expected, float), index=index, columns=columns)
    pd.testing.assert_frame_equal(table, expected)


def test_worked_example_default_start_is_the_first_signup():
    table = revenue_churn(five_customers())
    assert table.index[0] == pd.Timestamp("2023-10-01")
    assert table["new_mrr"].iloc[:3].tolist() == [80.0, 100.0, 50.0]


# --------------------------------------------------------------------------
# churn_rate
# --------------------------------------------------------------------------


def test_churn_rate_120_at_start_30_lost_is_25_percent():
    signups = {f"c{i:03d}": "2023-12-15" for i in range(120)}
    churns = [(f"c{i:03d}", "2024-01-20", "voluntary") for i in range(30)]
    events = make_events(signups, churns, observed_until="2024-02-01")
    table = churn_rate(events, start="2024-01-01")
    row = table.loc["2024-01-01"]
    assert row["customers_start"] == 120
    assert row["churned"] == 30
    assert row["churn_rate"] == 0.25
    assert row["voluntary_churn_rate"] == 0.25
    assert row["involuntary_churn_rate"] == 0.0


def test_no_churners():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-02"}, observed_until="2024-03-01"
    )
    table = churn_rate(events, start="2024-01-01")
    assert table["churned"].tolist() == [0, 0]
    assert table["churn_rate"].tolist() == [0.0, 0.0]
    assert table["customers_end"].tolist() == [2, 2]


def test_all_churners():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-02"},
        [("a", "2024-01-03", "voluntary"), ("b", "2024-01-31", "involuntary")],
        observed_until="2024-03-01",
    )
    table = churn_rate(events, start="2024-01-01")
    np.testing.assert_array_equal(table["churn_rate"], [1.0, NAN])
    assert table["customers_end"].tolist() == [0, 0]
    assert table["churned_voluntary"].iloc[0] == 1
    assert table["churned_involuntary"].iloc[0] == 1


def test_period_with_no_customers_has_nan_rate():
    events = make_events(
        {"a": "2024-01-05", "b": "2024-03-05"},
        [("a", "2024-01-20", "voluntary")],
        observed_until="2024-04-01",
    )
    table = churn_rate(events)
    assert list(table.index) == list(periods("2024-01-01", "2024-02-01", "2024-03-01"))
    assert table["customers_start"].tolist() == [0, 0, 0]
    assert table["churned_same_period_signups"].tolist() == [1, 0, 0]
    assert table["churn_rate"].isna().all()
    assert table["customers_end"].tolist() == [0, 0, 1]


def test_churn_at_period_start_belongs_to_that_period():
    # active at t iff start < t <= end: churning at 2024-02-01 00:00 means
    # active at the start of February and lost in February
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        [("a", "2024-02-01", "voluntary")],
        observed_until="2024-03-01",
    )
    table = churn_rate(events, start="2024-01-01")
    assert table["churned"].tolist() == [0, 1]
    assert table["customers_end"].tolist() == [2, 1]
    assert table["customers_start"].tolist() == [2, 2]


def test_signup_at_period_start_is_new_in_that_period():
    events = make_events({"a": "2024-02-01"}, observed_until="2024-03-01")
    table = churn_rate(events, start="2024-01-01")
    assert table["new"].tolist() == [0, 1]
    assert table["customers_start"].tolist() == [0, 0]
    assert table["customers_end"].tolist() == [0, 1]


def test_signup_and_churn_in_same_period_stay_out_of_the_rate():
    events = make_events(
        {"a": "2023-12-01", "b": "2024-01-05"},
        [("b", "2024-01-25", "voluntary")],
        observed_until="2024-02-01",
    )
    row = churn_rate(events, start="2024-01-01").iloc[0]
    assert row["new"] == 1
    assert row["churned"] == 0
    assert row["churned_same_period_signups"] == 1
    assert row["churn_rate"] == 0.0
    assert row["customers_end"] == 1


def test_return_is_a_reactivation_not_a_new_customer():
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "start": ["2023-12-01", "2024-02-10", "2023-12-01"],
            "end": ["2024-01-10", None, None],
        }
    )
    events = ck.Events(subscriptions=subscriptions, observed_until="2024-04-01")
    table = churn_rate(events, start="2024-01-01")
    assert table["new"].tolist() == [0, 0, 0]
    assert table["reactivated"].tolist() == [0, 1, 0]
    assert table["churned"].tolist() == [1, 0, 0]
    assert table["churned_unknown_kind"].tolist() == [1, 0, 0]
    assert table["customers_start"].tolist() == [2, 1, 2]


def test_return_and_churn_again_in_one_period():
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": ["2023-12-01", "2024-01-10"],
            "end": ["2024-01-05", "2024-01-20"],
        }
    )
    events = ck.Events(subscriptions=subscriptions, observed_until="2024-02-01")
    row = churn_rate(events, start="2024-01-01").iloc[0]
    assert row["churned"] == 1  # the spell active at the start
    assert row["reactivated"] == 1
    assert row["churned_same_period_signups"] == 1  # the return, lost again
    assert row["customers_end"] == 0


def test_partial_last_period_is_flagged_and_has_no_rate():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        [("a", "2024-02-10", "voluntary")],
        observed_until="2024-02-15",
    )
    table = churn_rate(events, start="2024-01-01")
    assert table["partial"].tolist() == [False, True]
    assert table["churned"].tolist() == [0, 1]
    assert np.isnan(table["churn_rate"].iloc[1])


def test_period_ending_at_observed_until_is_complete():
    events = make_events({"a": "2023-12-01"}, observed_until="2024-02-01")
    table = churn_rate(events, start="2024-01-01")
    assert list(table.index) == list(periods("2024-01-01"))
    assert not table["partial"].iloc[0]


def test_churn_without_kind_is_unknown():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2023-12-01"]})
    churn = pd.DataFrame({"customer_id": ["a"], "time": ["2024-01-10"]})
    events = ck.Events(customers=customers, churn=churn, observed_until="2024-02-01")
    row = churn_rate(events, start="2024-01-01").iloc[0]
    assert row["churned_unknown_kind"] == 1
    # the split is not known: NaN, not 0 % voluntary (issue 15)
    assert np.isnan(row["voluntary_churn_rate"])
    assert row["churn_rate"] == 1.0


@pytest.mark.parametrize(
    "freq, start, index, churned",
    [
        ("QS", "2024-02-15", ["2024-01-01", "2024-04-01"], [1, 0]),
        ("W-MON", "2024-01-03", ["2024-01-01", "2024-01-08"], [0, 1]),
        ("D", "2024-01-08 13:00", ["2024-01-08", "2024-01-09"], [1, 0]),
    ],
)
def test_other_frequencies(freq, start, index, churned):
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        [("a", "2024-01-08 12:00", "voluntary")],
        observed_until="2024-07-01",
    )
    table = churn_rate(events, freq, start=start, end=index[-1])
    assert list(table.index) == list(periods(*index))
    assert table["churned"].tolist() == churned


def test_default_start_skips_history_before_the_event_tables():
    # two customers signed up in 2022, the billing extract starts in 2024
    events = make_events(
        {"a": "2022-03-01", "b": "2022-05-01"},
        [("a", "2024-02-10", "voluntary")],
        billing=[("a", "2024-01-03", 10.0), ("b", "2024-01-04", 20.0)],
        observed_until="2024-03-01",
    )
    table = churn_rate(events)
    assert list(table.index) == list(periods("2024-01-01", "2024-02-01"))
    assert table["churn_rate"].tolist() == [0.0, 0.5]


def test_counts_add_up_on_synthetic_data(saas):
    table = churn_rate(saas.events)
    flow = (
        table["customers_start"]
        + table["new"]
        + table["reactivated"]
        - table["churned"]
        - table["churned_same_period_signups"]
    )
    pd.testing.assert_series_equal(flow, table["customers_end"], check_names=False)
    np.testing.assert_array_equal(
        table["customers_end"].iloc[:-1], table["customers_start"].iloc[1:]
    )
    kinds = table[
        ["churned_voluntary", "churned_involuntary", "churned_unknown_kind"]
    ].sum(axis=1)
    pd.testing.assert_series_equal(kinds, table["churned"], check_names=False)


def test_monthly_churn_of_synthetic_data_is_1_5_to_3_percent(saas):
    table = churn_rate(saas.events)
    full = table[~table["partial"]]
    pooled = full["churned"].sum() / full["customers_start"].sum()
    assert 0.015 <= pooled <= 0.03


@pytest.mark.slow
def test_monthly_churn_of_2000_synthetic_customers():
    data = ck.datasets.make_saas_events(n_customers=2000, random_state=0)
    table = churn_rate(data.events)
    assert table["churn_rate"].between(0.015, 0.03).all()


# --------------------------------------------------------------------------
# revenue_churn
# --------------------------------------------------------------------------


def test_upgrade_and_downgrade_in_one_period_count_the_net_change():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        billing=[
            ("a", "2023-12-01", 100.0),
            ("a", "2024-01-05", 150.0),
            ("a", "2024-01-20", 120.0),  # net +20
            ("b", "2023-12-01", 100.0),
            ("b", "2024-01-05", 40.0),
            ("b", "2024-01-20", 90.0),  # net -10
        ],
        observed_until="2024-02-01",
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert (row["expansion"], row["contraction"]) == (20.0, 10.0)
    assert row["mrr_start"] == 200.0
    assert row["mrr_end"] == 210.0
    assert row["gross_mrr_churn_rate"] == 0.05
    assert row["net_mrr_churn_rate"] == -0.05
    assert row["nrr"] == 1.05


def test_net_mrr_churn_is_negative_when_expansion_exceeds_losses():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        [("b", "2024-01-15", "voluntary")],
        billing=[
            ("a", "2023-12-01", 100.0),
            ("b", "2023-12-01", 20.0),
            ("a", "2024-01-10", 150.0),
        ],
        observed_until="2024-02-01",
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert row["churned_mrr"] == 20.0
    assert row["gross_mrr_churn_rate"] == 20 / 120
    assert row["net_mrr_churn_rate"] == pytest.approx(-30 / 120)
    assert row["nrr"] == pytest.approx(150 / 120)


def test_churned_mrr_is_the_mrr_just_before_the_churn():
    # a downgrade before the churn is contraction; a row at the churn time
    # (mrr 0) is not "before" the churn
    events = make_events(
        {"a": "2023-12-01"},
        [("a", "2024-01-20", "voluntary")],
        billing=[
            ("a", "2023-12-01", 100.0),
            ("a", "2024-01-10", 70.0),
            ("a", "2024-01-20", 0.0),
        ],
        observed_until="2024-02-01",
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert row["contraction"] == 30.0
    assert row["churned_mrr"] == 70.0
    assert row["mrr_end"] == 0.0
    assert row["gross_mrr_churn_rate"] == 1.0
    assert row["nrr"] == 0.0


def test_mrr_drops_to_zero_at_churn_even_without_a_billing_row():
    events = make_events(
        {"a": "2023-12-01", "b": "2023-12-01"},
        [("a", "2024-01-20", "voluntary")],
        billing=[("a", "2023-12-01", 100.0), ("b", "2023-12-01", 50.0)],
        observed_until="2024-03-01",
    )
    table = revenue_churn(events, start="2024-01-01")
    assert table["mrr_start"].tolist() == [150.0, 50.0]
    assert table["churned_mrr"].tolist() == [100.0, 0.0]
    assert table["mrr_end"].tolist() == [50.0, 50.0]


def test_churn_at_period_start_keeps_its_mrr_in_that_period():
    events = make_events(
        {"a": "2023-12-01"},
        [("a", "2024-02-01", "voluntary")],
        billing=[("a", "2023-12-01", 100.0)],
        observed_until="2024-03-01",
    )
    table = revenue_churn(events, start="2024-01-01")
    assert table["mrr_end"].tolist() == [100.0, 0.0]
    assert table["churned_mrr"].tolist() == [0.0, 100.0]


def test_new_mrr_of_signup_lost_in_the_same_period_is_zero():
    events = make_events(
        {"a": "2023-12-01", "b": "2024-01-05", "c": "2024-01-06"},
        [("b", "2024-01-25", "voluntary")],
        billing=[
            ("a", "2023-12-01", 100.0),
            ("b", "2024-01-05", 30.0),
            ("c", "2024-01-06", 40.0),
        ],
        observed_until="2024-02-01",
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert row["new_mrr"] == 40.0
    assert row["churned_mrr"] == 0.0
    assert row["mrr_end"] == 140.0
    assert row["nrr"] == 1.0


def test_zero_starting_mrr_gives_nan_rates():
    events = make_events(
        {"a": "2023-12-01", "b": "2024-01-10"},
        billing=[("a", "2023-12-01", 0.0), ("b", "2024-01-10", 25.0)],
        observed_until="2024-02-01",
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert row["mrr_start"] == 0.0
    assert row["new_mrr"] == 25.0
    for column in ("gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr"):
        assert np.isnan(row[column])


def test_mrr_from_subscriptions_with_a_plan_change():
    # contiguous spells are one spell; at the change time the old spell's end
    # applies before the new spell's start
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": ["2023-12-10", "2024-01-15"],
            "end": ["2024-01-15", None],
            "mrr": [100.0, 150.0],
        }
    )
    events = ck.Events(subscriptions=subscriptions, observed_until="2024-03-01")
    table = revenue_churn(events, start="2024-01-01")
    assert table["mrr_start"].tolist() == [100.0, 150.0]
    assert table["expansion"].tolist() == [50.0, 0.0]
    assert table["churned_mrr"].tolist() == [0.0, 0.0]


def test_return_without_a_new_billing_row_has_no_mrr():
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": ["2023-12-01", "2024-02-10"],
            "end": ["2024-01-10", None],
        }
    )
    billing = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2023-12-01"], "kind": "invoice", "mrr": [70]}
    )
    events = ck.Events(
        subscriptions=subscriptions, billing=billing, observed_until="2024-03-01"
    )
    table = revenue_churn(events, start="2024-01-01")
    assert table["churned_mrr"].tolist() == [70.0, 0.0]
    assert table["reactivation_mrr"].tolist() == [0.0, 0.0]
    assert table["mrr_end"].tolist() == [0.0, 0.0]


def test_revenue_movements_add_up_on_synthetic_data(saas):
    table = revenue_churn(saas.events)
    flow = (
        table["mrr_start"]
        + table["new_mrr"]
        + table["reactivation_mrr"]
        + table["expansion"]
        - table["contraction"]
        - table["churned_mrr"]
    )
    np.testing.assert_allclose(flow, table["mrr_end"], rtol=1e-9)
    np.testing.assert_allclose(table["nrr"], 1 - table["net_mrr_churn_rate"], rtol=1e-9)
    # billing starts after the oldest signups: the first period starts after it
    first_row = saas.events.frame("billing")["time"].min()
    assert table.index[0] > first_row
    assert list(table.columns) == REVENUE_CHURN_COLUMNS


def test_billing_rows_without_mrr_change_nothing():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2023-12-01"]})
    billing = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "time": ["2023-12-01", "2024-01-05"],
            "kind": ["invoice", "payment"],
            "mrr": [40.0, NAN],
        }
    )
    events = ck.Events(
        customers=customers, billing=billing, observed_until="2024-02-01"
    )
    row = revenue_churn(events, start="2024-01-01").iloc[0]
    assert (row["mrr_start"], row["mrr_end"], row["nrr"]) == (40.0, 40.0, 1.0)


def test_revenue_churn_does_not_depend_on_input_row_order():
    expected = revenue_churn(five_customers())
    events = five_customers()
    shuffled = ck.Events(
        subscriptions=events.spells[["customer_id", "start", "end"]].sample(
            frac=1, random_state=1
        ),
        churn=events.churns.sample(frac=1, random_state=2),
        billing=events.frame("billing").sample(frac=1, random_state=3),
        observed_until=events.observed_until,
    )
    pd.testing.assert_frame_equal(revenue_churn(shuffled), expected)


def test_billing_order_falls_back_to_a_full_sort():
    from churnkit.metrics._periods import billing_order

    code = np.array([1, 0, 0, 1])
    time = np.array([5, 7, 7, 2])
    rank = np.array([1, 1, 0, 1])
    np.testing.assert_array_equal(billing_order(code, time, rank), [2, 1, 3, 0])
    # sorted input with a subscription_end after a start at the same time
    np.testing.assert_array_equal(
        billing_order(np.array([0, 0, 0]), np.array([1, 4, 4]), np.array([1, 1, 0])),
        [0, 2, 1],
    )


def test_no_customers():
    customers = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=str),
            "signup_time": pd.Series([], dtype="datetime64[ns]"),
        }
    )
    events = ck.Events(customers=customers, observed_until="2024-01-01")
    with pytest.raises(SchemaError, match="holds no customers.*pass `start`"):
        churn_rate(events)
    table = churn_rate(events, start="2023-12-01")
    assert table["customers_start"].tolist() == [0]
    assert cohort_retention(events).empty


def test_revenue_churn_without_billing_raises():
    events = make_events({"a": "2024-01-01"})
    with pytest.raises(SchemaError, match="no billing table"):
        revenue_churn(events)


def test_revenue_churn_without_mrr_column_raises():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    billing = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2024-01-02"], "kind": "invoice", "amount": 5}
    )
    events = ck.Events(customers=customers, billing=billing)
    with pytest.raises(SchemaError, match="no `mrr` column"):
        revenue_churn(events)


# --------------------------------------------------------------------------
# cohort_retention
# --------------------------------------------------------------------------


def cohort_events():
    return make_events(
        {"a": "2024-01-05", "b": "2024-01-10", "c": "2024-02-10"},
        [("a", "2024-02-15", "voluntary")],
        billing=[
            ("a", "2024-01-05", 10.0),
            ("b", "2024-01-10", 30.0),
            ("b", "2024-03-05", 45.0),
            ("c", "2024-02-10", 0.0),
        ],
        observed_until="2024-04-10",
    )


def test_cohort_retention_by_customers():
    table = cohort_retention(cohort_events())
    expected = [[1.0, 0.5, 0.5], [1.0, 1.0, NAN]]
    np.testing.assert_array_equal(table.to_numpy(), expected)
    assert list(table.index) == list(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    assert table.index.name == "cohort"
    assert table.columns.name == "periods_since_signup"


def test_cohort_retention_by_revenue_and_zero_initial_mrr():
    table = cohort_retention(cohort_events(), by="revenue")
    # January: 40 at Feb 1, 30 at Mar 1 (a left), 45 at Apr 1 (b upgraded)
    np.testing.assert_allclose(table.iloc[0], [1.0, 0.75, 45 / 40])
    assert table.iloc[1].isna().all()  # c pays nothing: no initial MRR


def test_cohort_retention_max_periods():
    table = cohort_retention(cohort_events(), max_periods=1)
    assert list(table.columns) == [0, 1]
    assert cohort_retention(cohort_events(), max_periods=0).shape == (2, 1)


def test_cohort_retention_counts_returns_as_active_again():
    subscriptions = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": ["2024-01-05", "2024-03-10"],
            "end": ["2024-02-10", None],
        }
    )
    events = ck.Events(subscriptions=subscriptions, observed_until="2024-05-01")
    table = cohort_retention(events)
    np.testing.assert_array_equal(table.iloc[0], [1.0, 0.0, 1.0, 1.0])


def test_cohort_retention_signup_and_churn_in_the_signup_period():
    events = make_events(
        {"a": "2024-01-05", "b": "2024-01-06"},
        [("a", "2024-01-20", "voluntary")],
        observed_until="2024-03-01",
    )
    np.testing.assert_array_equal(cohort_retention(events).iloc[0], [0.5, 0.5])


def test_cohort_retention_quarterly():
    events = make_events(
        {"a": "2024-01-05", "b": "2024-03-10"},
        [("a", "2024-05-01", "voluntary")],
        observed_until="2024-10-01",
    )
    table = cohort_retention(events, "QS")
    np.testing.assert_array_equal(table.iloc[0], [1.0, 0.5, 0.5])
    np.testing.assert_array_equal(table.index, pd.to_datetime(["2024-01-01"]))


# --------------------------------------------------------------------------
# convert_rate
# --------------------------------------------------------------------------


def test_convert_rate_monthly_to_annual_and_back():
    annual = convert_rate(0.02)
    assert annual == pytest.approx(1 - 0.98**12)
    assert round(annual, 3) == 0.215
    assert convert_rate(annual, from_periods=12, to_periods=1) == pytest.approx(0.02)
    assert isinstance(annual, float)


def test_convert_rate_keeps_the_container():
    series = pd.Series([0.0, 0.5, 1.0, NAN], index=list("wxyz"))
    out = convert_rate(series, to_periods=2)
    pd.testing.assert_series_equal(out, pd.Series([0.0, 0.75, 1.0, NAN], list("wxyz")))
    np.testing.assert_allclose(convert_rate([0.19], 1, 0.5), [0.1])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"rate": 2.0}, SchemaError, r"fractions in \[0, 1\].*\[2.0\]"),
        ({"rate": [-0.1, 0.2]}, SchemaError, r"Divide percentages by 100"),
        ({"rate": "high"}, ChurnkitTypeError, "must be a number"),
        (
            {"rate": 0.1, "to_periods": 0},
            SchemaError,
            "`to_periods` must be a positive",
        ),
        ({"rate": 0.1, "from_periods": "12"}, ChurnkitTypeError, "`from_periods`"),
    ],
)
def test_convert_rate_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        convert_rate(**kwargs)


# --------------------------------------------------------------------------
# argument errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("func", [churn_rate, revenue_churn, cohort_retention])
def test_events_must_be_an_events_store(func):
    with pytest.raises(ChurnkitTypeError, match="must be a churnkit.Events store"):
        func(pd.DataFrame())


@pytest.mark.parametrize(
    "freq, error, match",
    [
        ("ME", SchemaError, "anchors periods at their end.*'MS'"),
        ("monthly", SchemaError, "period-start alias such as 'MS'"),
        (3, ChurnkitTypeError, "must be a pandas frequency alias"),
        ("-1MS", SchemaError, "must step forward"),
    ],
)
@pytest.mark.parametrize("func", [churn_rate, cohort_retention])
def test_bad_freq(func, freq, error, match):
    with pytest.raises(error, match=match):
        func(five_customers(), freq)


def test_end_before_start_raises():
    with pytest.raises(SchemaError, match="`end` .* is before `start`"):
        churn_rate(five_customers(), start="2024-02-01", end="2024-01-01")


def test_start_after_the_data_raises():
    with pytest.raises(SchemaError, match="at or after the end of the data"):
        churn_rate(five_customers(), start="2024-04-01")


def test_start_must_be_a_date():
    with pytest.raises(SchemaError, match="`start` must be a date"):
        churn_rate(five_customers(), start=20240101)


def test_end_after_the_data_warns_and_clips():
    with pytest.warns(ChurnkitWarning, match="2024-04-01.*left out"):
        table = churn_rate(five_customers(), start="2024-01-01", end="2024-12-01")
    assert table.index[-1] == pd.Timestamp("2024-03-01")


def test_end_inside_the_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = churn_rate(five_customers(), start="2024-01-01", end="2024-03-05")
    assert len(table) == 3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"by": "mrr"}, SchemaError, "`by` must be 'customers' or 'revenue'"),
        ({"max_periods": -1}, SchemaError, "`max_periods` must be 0 or more"),
        ({"max_periods": 2.5}, ChurnkitTypeError, "`max_periods` must be an integer"),
    ],
)
def test_cohort_retention_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        cohort_retention(five_customers(), **kwargs)


def test_columns_are_documented_order():
    assert list(churn_rate(five_customers()).columns) == CHURN_RATE_COLUMNS


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plot, compute",
    [
        (plot_churn_rate, churn_rate),
        (plot_revenue_churn, revenue_churn),
        (plot_cohort_retention, cohort_retention),
    ],
)
def test_plots_draw_on_the_given_axes_and_return_it(plot, compute):
    events = five_customers()
    fig, (ax1, ax2) = plt.subplots(1, 2)
    try:
        assert plot(compute(events), ax=ax2) is ax2
        assert ax2.has_data()
        assert not ax1.has_data()
        assert plot(events, ax=ax1) is ax1  # an Events store works too
    finally:
        plt.close(fig)


def test_plot_without_ax_uses_the_current_axes():
    fig, ax = plt.subplots()
    try:
        assert plot_churn_rate(five_customers()) is ax
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == ["Churn rate", "Voluntary", "Involuntary"]
    finally:
        plt.close(fig)


def test_plot_cohort_retention_annotates_cells():
    fig, ax = plt.subplots()
    try:
        plot_cohort_retention(five_customers(), ax=ax, cmap="viridis")
        texts = [t.get_text() for t in ax.texts]
        assert texts.count("100%") == 10 and "50%" in texts
        assert ax.images[0].get_cmap().name == "viridis"
    finally:
        plt.close(fig)


def test_plot_rejects_other_tables():
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['churn_rate'\]"):
        plot_churn_rate(pd.DataFrame({"x": [1]}))
    with pytest.raises(ChurnkitTypeError, match="Pass an Events store"):
        plot_revenue_churn([0.1, 0.2])

"""KPIs on the shapes real exports have: auto-renewing subscriptions, transaction
logs without cancellations, churn kinds that are not recorded (issue 15).

Every expected value here is worked out by hand in the comments, or by an
independent pandas computation written in the test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitWarning, SchemaError
from tests.shared_data import (
    CDNOW,
    FIGHTCHURN,
    cdnow_transactions,
    fightchurn_subscriptions,
)

T = pd.Timestamp


# --------------------------------------------------------------------------
# a small auto-renewing subscription table (Stripe-style monthly periods)
# --------------------------------------------------------------------------


def _renewing():
    rows = [
        # a renews every month; its current period ends in the future
        ("a", "2024-01-01", "2024-02-01", 10.0),
        ("a", "2024-02-01", "2024-03-01", 10.0),
        ("a", "2024-03-01", "2024-04-01", 10.0),
        ("a", "2024-04-01", "2024-05-01", 10.0),
        # b stops renewing: churn at 03-01
        ("b", "2024-01-01", "2024-02-01", 20.0),
        ("b", "2024-02-01", "2024-03-01", 20.0),
        # c's current period ends on 04-15, after the data
        ("c", "2024-01-15", "2024-02-15", 30.0),
        ("c", "2024-02-15", "2024-03-15", 30.0),
        ("c", "2024-03-15", "2024-04-15", 30.0),
        # d: one month, churn at 03-10
        ("d", "2024-02-10", "2024-03-10", 50.0),
        # e upgrades from 40 to 60 on 02-05 and is still active
        ("e", "2024-01-05", "2024-02-05", 40.0),
        ("e", "2024-02-05", "2024-03-05", 60.0),
        ("e", "2024-03-05", "2024-04-05", 60.0),
    ]
    subs = pd.DataFrame(rows, columns=["customer_id", "start", "end", "mrr"])
    return ck.Events(subscriptions=subs)


def test_a_period_end_after_the_data_is_not_a_churn():
    events = _renewing()
    # dates only: the data runs to the end of the latest start, 04-01
    assert events.observed_until == T("2024-04-02")
    churns = events.churns
    assert churns["customer_id"].tolist() == ["b", "d"]
    assert churns["time"].tolist() == [T("2024-03-01"), T("2024-03-10")]
    assert (churns["time"] < events.observed_until).all()
    spells = events.spells.set_index("customer_id")
    assert spells.loc[["a", "c", "e"], "end"].isna().all()
    # a later extract sees c's period end as a churn once the data passes it
    later = events.with_observed_until("2024-04-20")
    assert later.churns["customer_id"].tolist() == ["b", "d", "e", "c"]


def test_renewing_subscriptions_churn_rate_by_hand():
    table = ck.churn_rate(_renewing())
    cols = ["customers_start", "new", "churned", "customers_end"]
    # Jan: a, b, c, e sign up. Feb: d signs up; b is still active at 03-01.
    # Mar: b (03-01) and d (03-10) churn out of 5. Apr: partial (data ends 04-02)
    assert table[cols].to_numpy().tolist() == [
        [0, 4, 0, 4],
        [4, 1, 0, 5],
        [5, 0, 2, 3],
        [3, 0, 0, 3],
    ]
    np.testing.assert_allclose(table["churn_rate"].to_numpy()[1:3], [0.0, 2 / 5])
    assert table["partial"].tolist() == [False, False, False, True]
    assert np.isnan(table["churn_rate"].iloc[3])


def test_renewing_subscriptions_mrr_churn_and_nrr_by_hand():
    table = ck.revenue_churn(_renewing())
    # Feb: starts at 10+20+30+40 = 100; d adds 50, e expands by 20 -> 170
    # Mar: b (20) and d (50) churn: 70 of 170; ends at 10 + 30 + 60 = 100
    feb, mar = table.loc["2024-02-01"], table.loc["2024-03-01"]
    assert (feb["mrr_start"], feb["new_mrr"], feb["expansion"]) == (100, 50, 20)
    assert (feb["churned_mrr"], feb["mrr_end"]) == (0, 170)
    assert (mar["mrr_start"], mar["churned_mrr"], mar["mrr_end"]) == (170, 70, 100)
    assert mar["gross_mrr_churn_rate"] == pytest.approx(70 / 170)
    assert mar["nrr"] == pytest.approx(100 / 170)
    assert feb["nrr"] == pytest.approx(120 / 100)
    # the future period ends are not MRR lost: April (partial) loses nothing
    assert table.loc["2024-04-01", "churned_mrr"] == 0
    assert table.loc["2024-04-01", "mrr_end"] == 100


def test_renewing_subscriptions_cohort_retention_by_hand():
    table = ck.cohort_retention(_renewing())
    # Jan cohort a, b, c, e: all active at 02-01 and 03-01 (b churns at 03-01,
    # active up to and including it), 3 of 4 at 04-01; 05-01 is not observed.
    # Feb cohort d: active at 03-01, gone at 04-01. The data ends on 04-02, so
    # the last measurement is at 04-01.
    np.testing.assert_array_equal(
        table.to_numpy(),
        [[1.0, 1.0, 0.75], [1.0, 0.0, np.nan]],
    )
    assert table.index.tolist() == [T("2024-01-01"), T("2024-02-01")]


# --------------------------------------------------------------------------
# open ends and scheduled cancellations
# --------------------------------------------------------------------------


def _subs(end, **extra):
    data = {
        "customer_id": ["a", "b", "c", "d"],
        "start": ["2024-01-01", "2024-01-05", "2024-01-09", "2024-02-01"],
        "end": end,
        **extra,
    }
    return pd.DataFrame(data)


def test_open_end_sentinels_mean_still_active():
    end = ["9999-12-31", None, "2300-01-01", "2024-02-20"]
    events = ck.Events(subscriptions=_subs(end), observed_until="2024-03-01")
    assert events.churns["customer_id"].tolist() == ["d"]
    assert events.spells["end"].isna().tolist() == [True, True, True, False]
    report = events.report
    row = report[report["reason"].str.contains("9999-12-31")]
    assert row[["table", "rows", "action"]].to_numpy().tolist() == [
        ["subscriptions", 2, "read as open"]
    ]


def test_open_end_sentinels_in_a_datetime_column_beyond_pandas_range():
    end = np.array(
        ["9999-12-31", "NaT", "2024-02-20", "2024-02-25"], dtype="datetime64[s]"
    )
    subs = _subs(pd.Series(end))
    events = ck.Events(subscriptions=subs, observed_until="2024-03-01")
    assert events.churns["customer_id"].tolist() == ["c", "d"]


def test_a_cancellation_before_the_end_of_data_schedules_the_churn():
    end = ["2024-03-10", "2024-03-20", "2024-02-15", None]
    cancel = ["2024-02-20", None, None, None]
    for column in ("cancel_time", "canceled_at"):
        subs = _subs(end, **{column: cancel})
        events = ck.Events(subscriptions=subs, observed_until="2024-03-01")
        # a cancelled on 02-20 and leaves at the end of the period it paid for;
        # b's period ends on 03-20 with no cancellation: a renewal, still active
        churns = events.churns
        assert churns["customer_id"].tolist() == ["c", "a"], column
        assert churns["time"].tolist() == [T("2024-02-15"), T("2024-03-10")]
        eligible = ck.make_cutoffs(events, at="2024-03-15")
        assert eligible["customer_id"].tolist() == ["b", "d"]


def test_scheduled_cancellations_survive_save_and_load(tmp_path):
    subs = _subs(
        ["2024-03-10", None, None, None], cancel_time=["2024-02-20", None, None, None]
    )
    events = ck.Events(subscriptions=subs, observed_until="2024-03-01")
    back = ck.Events.load(events.save(tmp_path / "store"))
    pd.testing.assert_frame_equal(back.churns, events.churns)


# --------------------------------------------------------------------------
# a small transaction log: churn is inactivity
# --------------------------------------------------------------------------


def _purchases():
    customers = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "signup_time": ["2024-01-01", "2024-01-10", "2024-02-01"],
        }
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x", "y", "y", "y", "z"],
            "time": [
                "2024-01-01", "2024-01-20", "2024-03-15",
                "2024-01-10", "2024-02-05", "2024-02-28",
                "2024-02-01",
            ],
            "event": "purchase",
        }
    )  # fmt: skip
    return ck.Events(customers=customers, usage=usage)


def test_contractual_kpis_on_a_transaction_log_warn_naming_inactivity():
    events = _purchases()
    table = None
    for func in (ck.churn_rate, ck.cohort_retention):
        with pytest.warns(ChurnkitWarning, match=r"inactivity='90D'") as record:
            table = func(events)
        message = str(record[0].message)
        assert "0 %: not measured" in message and func.__name__ in message
    # revenue: the warning comes before the missing MRR error
    with pytest.warns(ChurnkitWarning, match=r"inactivity='90D'"):
        with pytest.raises(SchemaError, match="MRR"):
            ck.revenue_churn(events)
    assert table is not None


def test_transaction_log_churn_rate_by_hand():
    events = _purchases()
    assert events.observed_until == T("2024-03-16")  # the end of the last day
    table = ck.churn_rate(events, inactivity="30D")
    # x: active from 01-01; 55 days pass after 01-20, churn at 01-20 + 30D =
    #    02-19; back on 03-15 (open: 04-14 is after the data)
    # y: gaps of 26 and 23 days; 02-28 + 30D = 03-29 is after the data: open
    # z: one purchase on 02-01, churn at 02-01 + 30D = 03-02 (2024 is a leap year)
    cols = ["customers_start", "new", "reactivated", "churned", "customers_end"]
    assert table[cols].to_numpy().tolist() == [
        [0, 2, 0, 0, 2],
        [2, 1, 0, 1, 2],
        [2, 0, 1, 1, 2],
    ]
    assert table["churn_rate"].iloc[1] == 0.5
    assert table["partial"].tolist() == [False, False, True]
    assert table["churned_unknown_kind"].tolist() == table["churned"].tolist()
    kinds = [
        "voluntary_churn_rate",
        "involuntary_churn_rate",
        "unknown_kind_churn_rate",
    ]
    assert table[kinds].isna().all().all()
    assert "inactivity" in table.attrs["note"]


def test_transaction_log_cohort_retention_by_hand():
    table = ck.cohort_retention(_purchases(), inactivity="30D")
    # Jan cohort x, y: both active at 02-01, only y at 03-01; Feb cohort z:
    # active at 03-01 (its churn is on 03-02); 04-01 is after the data (03-16)
    np.testing.assert_array_equal(table.to_numpy(), [[1.0, 0.5], [1.0, np.nan]])


def test_transaction_log_without_mrr_says_revenue_needs_it():
    with pytest.raises(SchemaError, match="MRR"):
        ck.revenue_churn(_purchases(), inactivity="30D")


def test_inactivity_revenue_churn_drops_mrr_at_the_inactivity_churn():
    events = _purchases()
    billing = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "time": ["2024-01-01", "2024-01-10", "2024-02-01"],
            "kind": "plan_change",
            "mrr": [10.0, 20.0, 40.0],
        }
    )
    usage = events.frame("usage")
    events = ck.Events(
        customers=events.customers, usage=usage, billing=billing,
        observed_until=events.observed_until,
    )  # fmt: skip
    table = ck.revenue_churn(events, inactivity="30D")
    # Feb: 30 at its start, z adds 40, x (10) churns on 02-19
    feb = table.loc["2024-02-01"]
    assert (feb["mrr_start"], feb["new_mrr"], feb["churned_mrr"]) == (30, 40, 10)
    assert feb["gross_mrr_churn_rate"] == pytest.approx(10 / 30)


def test_inactivity_churn_agrees_with_label_inactivity():
    """Active at t with a churn in [t, t + P) iff label_inactivity(horizon=P,
    active_within=P) keeps t and labels it 1."""
    from churnkit.metrics._inactivity import inactivity_spells

    events = _purchases()
    spells = inactivity_spells(events, "30D")
    ids = events.customers["customer_id"].to_numpy()[spells.code]
    cutoffs = ck.make_cutoffs(events, start="2024-01-02", end="2024-02-14", freq="D")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        labels = ck.label_inactivity(
            events, cutoffs, horizon="30D", active_within="30D"
        )
    checked = 0
    for t in cutoffs["cutoff_time"].unique():
        t = T(t)
        stop = (t + pd.Timedelta("30D")).value
        active = (spells.start < t.value) & (spells.end >= t.value)
        churn = active & (spells.end < stop)
        mine = labels[labels["cutoff_time"] == t]
        assert sorted(mine["customer_id"]) == sorted(ids[active]), t
        assert sorted(mine.loc[mine["churned"] == 1, "customer_id"]) == sorted(
            ids[churn]
        ), t
        checked += int(churn.sum())
    assert checked > 0


# --------------------------------------------------------------------------
# unknown kinds, a hand-made cohort table
# --------------------------------------------------------------------------


def test_unknown_churn_kinds_are_unknown_and_counts_add_up():
    ids = list("abcdefghij")
    customers = pd.DataFrame({"customer_id": ids, "signup_time": "2024-01-10"})
    churn = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "time": ["2024-02-03", "2024-02-10", "2024-03-04", "2024-03-05",
                     "2024-03-20"],
            "kind": ["voluntary", None, "involuntary", "voluntary", "involuntary"],
        }
    )  # fmt: skip
    events = ck.Events(customers=customers, churn=churn, observed_until="2024-04-01")
    table = ck.churn_rate(events)
    feb, mar = table.loc["2024-02-01"], table.loc["2024-03-01"]
    assert (feb["churned"], feb["churned_voluntary"]) == (2, 1)
    assert feb["churned_unknown_kind"] == 1
    # one of February's churns has no kind: counted as such, beside the
    # known ones (was: both rates NaN, so free trials hid every split)
    assert feb["voluntary_churn_rate"] == pytest.approx(1 / 10)
    assert feb["involuntary_churn_rate"] == 0.0
    assert feb["unknown_kind_churn_rate"] == pytest.approx(1 / 10)
    assert feb["churn_rate"] == pytest.approx(2 / 10)
    kinds = [
        "voluntary_churn_rate",
        "involuntary_churn_rate",
        "unknown_kind_churn_rate",
    ]
    full = table[~table["partial"]]
    sums = full[kinds].sum(axis=1, min_count=3)
    assert np.allclose(sums, full["churn_rate"], equal_nan=True)
    # March: every kind recorded, 1 voluntary and 2 involuntary of 8
    assert mar["voluntary_churn_rate"] == pytest.approx(1 / 8)
    assert mar["involuntary_churn_rate"] == pytest.approx(2 / 8)
    split = table[["churned_voluntary", "churned_involuntary", "churned_unknown_kind"]]
    assert (split.sum(axis=1) == table["churned"]).all()
    assert table.attrs["note"].startswith("1 churn(s) have no kind")
    # no kind anywhere: no split, NaN, and the note says why
    table = ck.churn_rate(
        ck.Events(
            customers=customers,
            churn=churn.drop(columns="kind"),
            observed_until="2024-04-01",
        )
    )
    assert table[kinds].isna().all().all()
    assert table.attrs["note"].startswith("No churn has a kind")


def test_cohort_retention_of_a_hand_made_cohort_table():
    # Jan cohort: 10 customers, 2 leave in Feb, 3 in Mar, 1 in Apr
    # Feb cohort: 4 customers, 1 leaves in Feb (its signup month), 1 on 04-02
    jan = [f"j{i}" for i in range(10)]
    feb = [f"f{i}" for i in range(4)]
    customers = pd.DataFrame(
        {
            "customer_id": jan + feb,
            "signup_time": ["2024-01-05"] * 10 + ["2024-02-03"] * 4,
        }
    )
    churn = pd.DataFrame(
        {
            "customer_id": ["j0", "j1", "j2", "j3", "j4", "j5", "f0", "f1"],
            "time": ["2024-02-02", "2024-02-20", "2024-03-01", "2024-03-15",
                     "2024-03-31", "2024-04-10", "2024-02-25", "2024-04-02"],
        }
    )  # fmt: skip
    events = ck.Events(customers=customers, churn=churn, observed_until="2024-05-01")
    table = ck.cohort_retention(events)
    # measured at the end of each month; j2, who churns at 03-01, is still
    # active at 03-01; 06-01 is after the data
    expected = [
        [10 / 10, 8 / 10, 5 / 10, 4 / 10],  # at 02-01, 03-01, 04-01, 05-01
        [3 / 4, 3 / 4, 2 / 4, np.nan],  # at 03-01, 04-01, 05-01
    ]
    np.testing.assert_allclose(table.to_numpy(), expected)


# --------------------------------------------------------------------------
# the two shared data sets
# --------------------------------------------------------------------------


def _fightchurn():
    subs = fightchurn_subscriptions()
    events = pd.read_csv(FIGHTCHURN / "event.csv.gz", nrows=200_000)
    usage = events.rename(
        columns={
            "account_id": "customer_id",
            "event_time": "time",
            "event_type": "event",
        }
    )
    return subs, usage


@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_no_churn_after_the_data_and_the_readme_monthly_rate():
    subs, usage = _fightchurn()
    events = ck.Events(subscriptions=subs, usage=usage)
    churns = events.churns
    assert len(churns) == 180  # the README's label: 180 of 1,620 accounts
    assert (churns["time"] < T("2020-07-01")).all()
    table = ck.churn_rate(events, start="2020-02-01", end="2020-06-30")
    # the README's definition: churn date = end of the last subscription if
    # before 2020-07-01; monthly churn among accounts active at the month start
    first = subs.groupby("customer_id")["start"].min().pipe(pd.to_datetime)
    last = subs.groupby("customer_id")["end"].max().pipe(pd.to_datetime)
    churn_at = last.where(last < T("2020-07-01"))
    months = pd.date_range("2020-02-01", "2020-06-01", freq="MS")
    readme = []
    for m in months:
        active = (first < m) & (churn_at.isna() | (churn_at >= m))
        lost = active & (churn_at < m + pd.offsets.MonthBegin(1))
        readme.append(lost.sum() / active.sum())
    got = table.loc[months, "churn_rate"].to_numpy()
    assert np.abs(got - np.array(readme)).max() < 0.005
    assert got[0] == pytest.approx(0.07)  # README: 6.9% in February


def _cdnow():
    return cdnow_transactions()


@pytest.mark.skipif(not CDNOW.exists(), reason="shared data sets absent")
def test_cdnow_inactivity_churn_rate_equals_a_pandas_computation():
    raw = _cdnow()
    signup = raw.groupby("customer_id")["time"].min()
    events = ck.Events(
        customers=signup.rename("signup_time").reset_index(),
        usage=raw.assign(event="purchase")[["customer_id", "time", "event"]],
    )
    assert events.observed_until == T("1998-07-01")
    with pytest.warns(ChurnkitWarning, match="inactivity='90D'"):
        ck.churn_rate(events, "QS")
    got = ck.churn_rate(events, "QS", inactivity="90D")

    # independently: runs of purchase days with gaps of at most 90 days; a run
    # ends (the customer churns) 90 days after its last day, if before the end
    days = raw[["customer_id", "time"]].drop_duplicates()
    days = days.sort_values(["customer_id", "time"])
    gap = days.groupby("customer_id")["time"].diff()
    days["run"] = (gap.isna() | (gap > pd.Timedelta("90D"))).cumsum()
    runs = days.groupby("run").agg(
        customer_id=("customer_id", "first"),
        start=("time", "min"),
        last=("time", "max"),
    )
    runs["first"] = ~runs["customer_id"].duplicated()
    runs["end"] = runs["last"] + pd.Timedelta("90D")
    runs.loc[runs["end"] >= T("1998-07-01"), "end"] = pd.NaT
    quarters = pd.date_range("1997-01-01", "1998-04-01", freq="QS").as_unit("ns")
    rows = []
    for q in quarters:
        nxt = q + pd.offsets.QuarterBegin(1, startingMonth=1)
        ended = runs["end"].notna()
        active = (runs["start"] < q) & (~ended | (runs["end"] >= q))
        in_q = (runs["start"] >= q) & (runs["start"] < nxt)
        churned = active & ended & (runs["end"] < nxt)
        rows.append(
            {
                "customers_start": int(active.sum()),
                "new": int((in_q & runs["first"]).sum()),
                "reactivated": int((in_q & ~runs["first"]).sum()),
                "churned": int(churned.sum()),
                "churn_rate": churned.sum() / active.sum() if active.sum() else np.nan,
            }
        )
    expected = pd.DataFrame(rows, index=pd.DatetimeIndex(quarters, name="period"))
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_freq=False)
    assert got["churn_rate"].iloc[1] == pytest.approx(19695 / 23570)


def test_inactivity_rates_are_not_measured_before_the_rule_can_fire():
    """With a 30-day rule a churn is dated 30 days after a last activity: in a
    period starting less than 30 days after the data begin none can be
    counted, so its rate is NaN, not 0 %."""
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": ["2024-01-02"] * 3}
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "c"],
            "time": ["2024-01-02", "2024-01-05", "2024-01-03", "2024-02-20"],
            "event": "purchase",
        }
    )
    events = ck.Events(customers=customers, usage=usage, observed_until="2024-05-01")
    table = ck.churn_rate(events, start="2024-01-01", inactivity="30D")
    rates = table["churn_rate"]
    assert np.isnan(rates.loc["2024-01-01"])  # starts before 2024-01-02 + 30D
    # February: a (last 01-02) churns 02-01, b (01-05) 02-04, c (01-03) 02-02
    # and returns 02-20
    row = table.loc["2024-02-01"]
    assert row[["customers_start", "churned", "reactivated"]].tolist() == [3, 3, 1]
    assert rates.loc["2024-02-01"] == 1.0
    assert "2024-01-01 are not measured" in table.attrs["note"]


def test_a_period_within_grace_of_the_data_end_is_partial():
    # d's subscription ends 2024-03-29; with grace 7D a renewal could start
    # until 04-05, so on data to 04-03 March's churns are not all known
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "start": ["2024-01-10", "2024-01-12", "2024-01-15", "2024-01-20"],
            "end": [None, None, None, "2024-03-29"],
            "mrr": 10.0,
        }
    )
    early = ck.Events(subscriptions=subs, grace="7D", observed_until="2024-04-03")
    march = ck.churn_rate(early).loc["2024-03-01"]
    assert bool(march["partial"]) and np.isnan(march["churn_rate"])
    revenue = ck.revenue_churn(early).loc["2024-03-01"]
    assert bool(revenue["partial"]) and np.isnan(revenue["gross_mrr_churn_rate"])
    # on data to 04-20 it is known: d churned, 1 of 4 (25 %), $10 of $40
    late = ck.Events(subscriptions=subs, grace="7D", observed_until="2024-04-20")
    march = ck.churn_rate(late).loc["2024-03-01"]
    assert not march["partial"] and march["churn_rate"] == 0.25
    assert ck.revenue_churn(late).loc["2024-03-01", "churned_mrr"] == 10.0


def test_an_extract_of_survivors_warns_of_its_quiet_early_periods():
    # subscriptions derived from a telecom panel that begins in 2023: the
    # customers who left before were never exported, so 2019-2022 read 0 %
    # churn and 100 % retention, silently
    n = 200
    start = pd.date_range("2019-01-01", "2024-11-20", periods=n)
    end = np.array([None] * n, dtype=object)
    months = pd.period_range("2023-02", "2024-11", freq="M").astype(str)
    rng = np.random.default_rng(0)
    leavers = rng.choice(np.flatnonzero(start < "2023-01-01"), 40, replace=False)
    end[leavers] = rng.choice(months, 40)
    subs = pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)],
                         "start": start, "end": end})  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-12-01")
    with pytest.warns(ck.DataQualityWarning, match="no churn is recorded in the 50"):
        table = ck.churn_rate(events)
    assert table.loc[:"2022-12-01", "churned"].sum() == 0
    with warnings.catch_warnings():  # the start it names silences it
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.churn_rate(events, start="2023-03-01")
    # a new business selling annual plans: nobody can leave in its first
    # year, and nothing is said
    ids = [f"n{i:03d}" for i in range(300)]
    starts = pd.date_range("2023-01-01", "2023-12-31", periods=300)
    plans = pd.DataFrame({"customer_id": ids, "start": starts,
                          "end": starts + pd.DateOffset(years=1)})  # fmt: skip
    plans.loc[::3, "end"] = None  # a third renew
    annual = ck.Events(subscriptions=plans, observed_until="2024-12-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.churn_rate(annual)

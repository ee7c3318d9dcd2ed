"""Where the data ends, and what errors='drop' may drop.

Stray rows far past the rest of the data (a scheduled renewal invoice, a
mistyped year) set the default ``observed_until`` months ahead: Events warns,
naming the rows and the ``observed_until`` to pass. ``errors='drop'`` warns with
the counts of what it dropped and refuses to empty a table; amounts written as
money get the line that reads them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import DataQualityWarning, SchemaError
from tests.shared_data import CDNOW, FIGHTCHURN, FIGHTCHURN_COLUMNS, cdnow_transactions

T = pd.Timestamp
IDS = [f"c{i:03d}" for i in range(100)]


def _customers():
    return pd.DataFrame({"customer_id": IDS, "signup_time": "2024-01-01"})


def _every(times, **columns) -> pd.DataFrame:
    """A row for every customer of IDS at each of ``times``, with ``columns``."""
    return pd.DataFrame(
        {
            "customer_id": np.repeat(IDS, len(times)),
            "time": np.tile(times, len(IDS)),
            **columns,
        }
    )


def _billing():
    """An invoice per customer on the 1st of each month of 2024, 09:00."""
    months = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    return _every(months + pd.Timedelta("9h"), kind="invoice", mrr=10.0)


def _churn():
    """20 churns, one a month from 2024-02-15 on; the last on 2024-12-31."""
    times = list(pd.date_range("2024-02-15", periods=19, freq="14D"))
    return pd.DataFrame({"customer_id": IDS[:20], "time": [*times, T("2024-12-31")]})


def _future(day="2025-06-01", customers=("c050",)):
    return pd.DataFrame(
        {"customer_id": list(customers), "time": T(day), "kind": "invoice"}
    ).assign(mrr=10.0)


def _quiet(**tables):
    """Events built with every churnkit warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        return ck.Events(**tables)


# ------------------------------------------------------- stray latest rows
def test_one_future_invoice_warns_with_the_gap_the_rows_and_the_fix():
    billing = pd.concat([_billing(), _future()], ignore_index=True)
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(customers=_customers(), churn=_churn(), billing=billing)
    # nothing changed: the warning says what to pass
    assert events.observed_until == T("2025-06-01") + pd.Timedelta(1)
    (message,) = [str(w.message) for w in record]
    # 2024-12-31 -> 2025-06-01: 31 + 28 + 31 + 30 + 31 + 1 = 152 days
    assert message.startswith(
        "Table 'billing': 1 row (column 'time') lies 152 days after the rest "
        "of the data, which ends 2024-12-31 (every other table's last row and "
        "every other 'billing' row are earlier)."
    )
    assert "would treat 2025-01-01..2025-06-01 as observed" in message
    assert "billing   time        c050 2025-06-01" in message
    assert "pass `observed_until='2025-01-01'`" in message
    assert "with_observed_until('2025-01-01')" in message
    # the fix silences it, and the labels of 2025 are then censored, not 0
    fixed = _quiet(
        customers=_customers(),
        churn=_churn(),
        billing=billing,
        observed_until="2025-01-01",
    )
    cutoffs = ck.make_cutoffs(fixed, start="2024-11-01", end="2025-04-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = ck.label_churn(fixed, cutoffs, horizon="30D")
    assert labels["cutoff_time"].max() < T("2025-01-01")


def test_three_stray_rows_in_two_tables_are_all_named():
    billing = pd.concat(
        [_billing(), _future(customers=["c050", "c051"])], ignore_index=True
    )
    usage = pd.DataFrame(
        {"customer_id": ["c007"], "time": [T("2030-03-04 10:00")], "event": "x"}
    )
    with pytest.warns(DataQualityWarning) as record:
        ck.Events(customers=_customers(), churn=_churn(), billing=billing, usage=usage)
    (message,) = [str(w.message) for w in record]
    assert message.startswith(
        "3 rows of 'billing'.time (2), 'usage'.time (1) lie 152 days or more "
        "after the rest of the data, which ends 2024-12-31 (every other row of "
        "every table is earlier)."
    )
    assert "would treat 2025-01-01..2030-03-04 10:00:00 as observed" in message
    assert "usage   time        c007 2030-03-04 10:00:00" in message


def test_a_future_churn_row_is_scheduled_and_does_not_move_the_end():
    # a churn dated a year after every invoice: an end of service scheduled
    # past the data; the default end stays the data's (was: 2026-01-05, a
    # year of months read as observed with no churn in them)
    churn = pd.concat(
        [_churn(), pd.DataFrame({"customer_id": ["c090"], "time": ["2026-01-05"]})]
    )
    with pytest.warns(DataQualityWarning, match=r"Table 'churn': 1 row\(s\) are dated"):
        events = ck.Events(customers=_customers(), churn=churn, billing=_billing())
    assert events.observed_until == T("2024-12-31") + pd.Timedelta(1)


def test_churns_after_a_notice_period_do_not_extend_a_daily_log():
    # a gym's check-ins end on the extract day; cancellations are dated at the
    # end of their notice period, up to two months later (was: observed_until
    # moved to 2025-03-31 and February read as a month without churn)
    days = pd.date_range("2024-10-01 07:00", "2025-01-31 07:00", freq="D")
    usage = _every(days, event="checkin")
    usage["time"] += pd.to_timedelta(np.arange(len(usage)) % 600, unit="min")
    churn = pd.DataFrame(
        {"customer_id": IDS[:30],
         "time": ["2024-12-15"] * 10 + ["2025-02-28"] * 10 + ["2025-03-31"] * 10}
    )  # fmt: skip
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(customers=_customers(), usage=usage, churn=churn)
    (message,) = [str(w.message) for w in record]
    assert message.startswith("Table 'churn': 20 row(s) are dated on or after")
    assert "up to 2025-03-31" in message
    assert events.observed_until == usage["time"].max() + pd.Timedelta(1)
    rates = ck.churn_rate(events, start="2024-12-01")
    assert rates["churned"].tolist() == [10, 0]  # January is the data's last


def test_a_complete_log_does_not_warn():
    events = _quiet(customers=_customers(), churn=_churn(), billing=_billing())
    assert events.observed_until == T("2024-12-31") + pd.Timedelta(1)


def _daily_usage():
    """10 customers with a login every day of 2024 (3,660 rows)."""
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    return pd.DataFrame(
        {
            "customer_id": np.tile(IDS[:10], len(days)),
            "time": np.repeat(days, 10),
            "event": "login",
        }
    )


def test_a_daily_log_with_a_late_burst_of_rows_does_not_warn():
    """A gap of 29 days is under the 30-day floor; rows after a gap that are
    more than 1% of the data are data, not stray rows."""
    usage = _daily_usage()
    near = pd.DataFrame(
        {"customer_id": ["c001"], "time": [T("2025-01-29")], "event": "login"}
    )
    _quiet(customers=_customers(), usage=pd.concat([usage, near]))
    # 60 days later, but 50 rows (1.3 % of 3,760 rows): a restart, not strays
    burst = pd.DataFrame(
        {"customer_id": IDS[:50], "time": T("2025-03-01"), "event": "login"}
    )
    _quiet(customers=_customers(), usage=pd.concat([usage, burst]))
    # the same gap with one row: a stray row
    with pytest.warns(DataQualityWarning, match=r"1 row .* 60 days after"):
        ck.Events(customers=_customers(), usage=pd.concat([usage, burst[:1]]))


def test_a_table_that_ends_a_month_earlier_does_not_warn():
    """Support tickets stop on 2024-11-30, usage runs to 2024-12-31: December
    is observed (usage fills it), so observed_until is right."""
    usage = _daily_usage()
    support = pd.DataFrame(
        {"customer_id": IDS, "time": pd.date_range("2024-01-01", "2024-11-30", 100)}
    )
    support["time"] = support["time"].dt.normalize()
    events = _quiet(customers=_customers(), usage=usage, support=support)
    assert events.observed_until == T("2025-01-01")


def test_monthly_data_is_judged_by_its_own_spacing():
    """Invoices all on the 1st: a 62-day gap is one missing month (under 3
    spacings of 31 days), not a stray row."""
    billing = _billing()
    billing["time"] = billing["time"].dt.normalize()
    late = _future("2025-03-01")
    _quiet(customers=_customers(), billing=pd.concat([billing, late]))
    with pytest.warns(DataQualityWarning, match=r"1 row .* 182 days after"):
        ck.Events(customers=_customers(), billing=pd.concat([billing, _future()]))


def test_a_given_observed_until_is_not_checked():
    billing = pd.concat([_billing(), _future()], ignore_index=True)
    _quiet(customers=_customers(), billing=billing, observed_until="2025-07-01")


def test_a_toy_log_is_too_small_to_judge():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b"],
            "time": ["2024-02-01", "2024-02-10", "2025-03-31"],
            "event": "x",
        }
    )
    assert _quiet(customers=customers, usage=usage).observed_until == T("2025-04-01")


@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_renewals_the_day_after_the_events_do_not_warn():
    """Events end 2020-06-30 23:59, subscription renewals start 2020-07-01."""
    f = FIGHTCHURN
    events = _quiet(
        customers=f / "account.csv",
        usage=f / "event.csv.gz",
        subscriptions=f / "subscription.csv",
        columns=FIGHTCHURN_COLUMNS,
    )
    assert events.observed_until == T("2020-07-01") + pd.Timedelta(1)


@pytest.mark.skipif(not CDNOW.exists(), reason="shared data sets absent")
def test_cdnow_does_not_warn():
    raw = cdnow_transactions()
    signup = raw.groupby("customer_id")["time"].min().rename("signup_time")
    events = _quiet(
        customers=signup.reset_index(),
        usage=raw.assign(event="purchase")[["customer_id", "time", "event"]],
    )
    assert events.observed_until == T("1998-07-01")


# ------------------------------------------------------------ errors="drop"
CUST = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})


def _bill(amount):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b"][: len(amount)],
            "time": ["2024-02-01", "2024-02-05"][: len(amount)],
            "kind": "invoice",
            "amount": amount,
        }
    )


US_FIX = (
    "`df['amount'] = pd.to_numeric(df['amount'].str.replace(r'[$€£¥,\\s]', '', "
    "regex=True))`"
)
EU_FIX = (
    "`df['amount'] = pd.to_numeric(df['amount'].str.replace(r'[$€£¥.\\s]', '', "
    "regex=True).str.replace(',', '.'))`"
)


def test_drop_refuses_to_empty_a_table_and_gives_the_fix():
    with pytest.raises(SchemaError) as info:
        ck.Events(customers=CUST, billing=_bill(["$1,200.00", "$99.00"]), errors="drop")
    message = str(info.value)
    assert message.startswith(
        "Table 'billing': all its 2 rows are defective (2 where column 'amount' "
        "holds text that is not a number), so `errors='drop'` would empty it:"
    )
    assert "$1,200.00" in message and US_FIX in message


def test_raise_on_a_column_no_row_of_which_reads_does_not_suggest_drop():
    with pytest.raises(SchemaError) as info:
        ck.Events(customers=CUST, billing=_bill(["1.200,00 €", "99,00 €"]))
    message = str(info.value)
    assert "No row of the table can be read: fix the column first." in message
    assert "errors='drop'" not in message
    assert EU_FIX in message
    # the fix reads the values: 1200.0 and 99.0
    fixed = _bill(["1.200,00 €", "99,00 €"])
    exec(EU_FIX.strip("`"), {"pd": pd, "df": fixed})
    assert fixed["amount"].tolist() == [1200.0, 99.0]


def test_raise_on_some_rows_suggests_the_fix_and_drop():
    with pytest.raises(SchemaError) as info:
        ck.Events(customers=CUST, billing=_bill(["$1,200.00", "99.00"]))
    message = str(info.value)
    assert "1 row(s) where column 'amount' holds text that is not a number" in message
    assert "pass `errors='drop'`" in message and US_FIX in message
    fixed = _bill(["$1,200.00", "99.00"])
    exec(US_FIX.strip("`"), {"pd": pd, "df": fixed})
    assert fixed["amount"].tolist() == [1200.0, 99.0]
    # the example is a value written with a separator, not the first one read
    with pytest.raises(SchemaError, match=r"separators \(e.g. '1,000.00'\)"):
        ck.Events(customers=CUST, billing=_bill(["20.00", "1,000.00"]))


def test_drop_warns_with_the_counts_per_reason():
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b"],
            "time": ["2024-01-02", None, "bad", "2024-03-01"],
            "event": "login",
            "quantity": [1.0, 1.0, 1.0, 2.0],
        }
    )
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(customers=CUST, usage=usage, errors="drop")
    (message,) = [str(w.message) for w in record]
    assert message.startswith(
        "Table 'usage': `errors='drop'` dropped 2 of 4 rows: 1 where values in "
        "column 'time' could not be read as dates; 1 where column 'time' is "
        "null. They are counted in `events.report`; e.g.:"
    )
    assert "most of the table" not in message  # 2 of 4 is not more than half
    assert len(events.frame("usage")) == 2


def test_drop_of_most_rows_says_so():
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b"],
            "time": ["2024-01-02", "x", "y", "z"],
            "event": "login",
        }
    )
    with pytest.warns(DataQualityWarning) as record:
        ck.Events(customers=CUST, usage=usage, errors="drop")
    (message,) = [str(w.message) for w in record]
    assert "dropped 3 of 4 rows (75%, most of the table: check the column)" in message


def test_text_that_is_no_amount_gets_no_hint():
    with pytest.raises(SchemaError) as info:
        ck.Events(customers=CUST, billing=_bill(["abc", "12"]))
    assert "pd.to_numeric" not in str(info.value)


# ------------------------------------------------ warnings kept with the store
def test_the_warnings_of_the_build_stay_with_the_store(tmp_path):
    billing = pd.concat([_billing(), _future()], ignore_index=True)
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(customers=_customers(), churn=_churn(), billing=billing)
    shown = [(w.category.__name__, str(w.message)) for w in record]
    kept = list(events.warnings.itertuples(index=False, name=None))
    assert kept == shown and len(kept) == 1
    assert kept[0][1].startswith("Table 'billing': 1 row (column 'time')")
    # a dated copy and a saved-and-loaded store carry them; loading says nothing
    assert events.with_observed_until("2025-01-01").warnings.equals(events.warnings)
    events.save(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = ck.Events.load(tmp_path / "store")
    assert loaded.warnings.equals(events.warnings)
    # a clean build has none
    clean = _quiet(customers=_customers(), churn=_churn(), billing=_billing())
    assert clean.warnings.empty
    assert list(clean.warnings.columns) == ["category", "message"]


# ------------------------------------------------- a given observed_until late
def test_an_observed_until_in_the_future_warns_with_the_data_end():
    # '2030-01-01' typed for '2025-01-01': every day to 2030 would read as
    # observed; the data end 2024-12-31 (the last churn row)
    with pytest.warns(DataQualityWarning) as record:
        events = ck.Events(
            customers=_customers(),
            churn=_churn(),
            billing=_billing(),
            observed_until="2030-01-01",
        )
    assert events.observed_until == T("2030-01-01")  # as given: warned only
    (message,) = [str(w.message) for w in record]
    assert message.startswith("observed_until=2030-01-01 is in the future (today is ")
    # 2024-12-31 .. 2030-01-01: 365 * 5 + 2 (2028 is a leap year) = 1,827 days
    assert "the last row is of 2024-12-31, and the 1,827 days after it" in message
    assert [str(w) for w in events.warnings["message"]] == [message]


def test_an_observed_until_long_after_the_data_warns_and_a_near_one_does_not():
    tables = {"customers": _customers(), "churn": _churn(), "billing": _billing()}
    with pytest.warns(DataQualityWarning, match=r"is 121 days after the data's last"):
        ck.Events(**tables, observed_until="2025-05-01")
    # the extract taken a few weeks after the last invoice: nothing to say
    _quiet(**tables, observed_until="2025-02-01")
    # a small churn log may be quiet for months: only a future date is said
    small = {"customers": _customers(), "churn": _churn()}
    _quiet(**small, observed_until="2025-06-01")
    # a layout's bucket is dated by the whole data's end: not checked there
    from churnkit.events._extent import dated_by_the_whole

    with dated_by_the_whole():
        _quiet(**tables, observed_until="2025-05-01")


def test_a_table_of_dates_runs_to_the_end_of_its_last_day_beside_times():
    # an energy retailer's bills dated by day to 2024-12-31 beside complaints
    # with times: the data ran to 2024-12-31 + 1 ns, December read partial
    # and its churn NaN (was: every table had to be dates for the whole day)
    months = pd.date_range("2024-01-31", "2024-12-31", freq="ME")
    bills = _every(months, kind="invoice", amount=50.0)
    tickets = pd.DataFrame(
        {"customer_id": IDS[:5], "time": pd.Timestamp("2024-12-23 16:52")}
    )
    events = _quiet(customers=_customers(), billing=bills, support=tickets)
    assert events.observed_until == T("2025-01-01")


def test_a_table_running_months_past_the_others_warns():
    # an insurer's payments table holds the scheduled instalments of policies
    # in force, eleven months past the claims and contacts: every month to
    # them read as observed, 9.7 % churn a month invented, silently
    months = pd.date_range("2024-01-01", "2025-05-01", freq="MS")
    payments = _every(months, kind="invoice", amount=30.0)
    contacts = pd.DataFrame(
        {"customer_id": IDS, "time": pd.Timestamp("2024-06-28 10:00")}
    )
    with pytest.warns(DataQualityWarning, match="Table 'billing' runs to 2025-05-01"):
        ck.Events(customers=_customers(), billing=payments, support=contacts)
    _quiet(  # said where the data end: nothing to warn
        customers=_customers(), billing=payments, support=contacts,
        observed_until="2024-07-01",
    )  # fmt: skip


def test_subscription_starts_booked_ahead_do_not_move_the_end():
    # a Zuora export lists a promotional price's step-up as a segment that
    # starts months after the extract: observed_until moved to May 2025 and
    # four months read 0 % churn and NRR 104 %, silently
    days = pd.date_range("2024-06-01 08:00", "2024-12-31 08:00", freq="D")
    usage = _every(days, event="pageview")
    subs = pd.DataFrame(
        {"customer_id": IDS, "start": "2024-06-01", "end": None, "mrr": 1.0}
    )
    subs.loc[:19, "end"] = "2025-04-05"
    steps = pd.DataFrame(
        {"customer_id": IDS[:20], "start": "2025-04-05", "end": None, "mrr": 17.0}
    )
    with pytest.warns(DataQualityWarning, match="20 row\\(s\\) start after the end"):
        events = ck.Events(
            subscriptions=pd.concat([subs, steps], ignore_index=True), usage=usage
        )
    assert events.observed_until == usage["time"].max() + pd.Timedelta(1)

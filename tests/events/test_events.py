"""The validated event store: churnkit.Events."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, DataQualityWarning, SchemaError

TABLES = ("usage", "billing", "support", "churn")


def _customers(ids=("a", "b"), signups=("2024-01-01", "2024-02-01")):
    return pd.DataFrame({"customer_id": list(ids), "signup_time": list(signups)})


def _usage(ids=("a", "b", "a"), times=("2024-01-02", "2024-02-03", "2024-03-01")):
    return pd.DataFrame({"customer_id": list(ids), "time": list(times), "event": "x"})


def _table(name, ids, times, **extra):
    """A minimal valid table of kind ``name`` with the given ids and times."""
    df = pd.DataFrame({"customer_id": list(ids), "time": list(times)})
    if name == "usage":
        df["event"] = "login"
    if name == "billing":
        df["kind"] = "invoice"
    for col, values in extra.items():
        df[col] = values
    return df


def _all_frames(events):
    return {name: events.frame(name) for name in events._engine.tables}


# ----------------------------------------------------------- missing columns
@pytest.mark.parametrize(
    ("table", "df", "missing"),
    [
        ("usage", pd.DataFrame({"customer_id": ["a"], "ts": ["2024-01-02"]}), "time"),
        (
            "billing",
            pd.DataFrame({"customer_id": ["a"], "time": ["2024-01-02"]}),
            "kind",
        ),
        ("support", pd.DataFrame({"customer_id": ["a"]}), "time"),
        ("churn", pd.DataFrame({"time": ["2024-03-01"]}), "customer_id"),
        ("subscriptions", pd.DataFrame({"customer_id": ["a"]}), "start"),
    ],
)
def test_missing_columns_lists_what_is_there(table, df, missing):
    present = re_list(df.columns)
    with pytest.raises(
        SchemaError,
        match=rf"Table '{table}' is missing required column\(s\) \[.*'{missing}'.*\]\. "
        rf"Columns present: {present}",
    ):
        ck.Events(customers=_customers(), **{table: df})


def re_list(columns):
    """The regex of ``str(list(columns))``."""
    import re

    return re.escape(str(list(columns)))


def test_missing_time_column_suggests_a_mapping():
    usage = pd.DataFrame(
        {"customer_id": ["a"], "event": "x", "event_ts": ["2024-01-02"]}
    )
    with pytest.raises(
        SchemaError, match=r"Perhaps: columns=\{'usage': \{'event_ts': 'time'\}\}"
    ):
        ck.Events(customers=_customers(), usage=usage)


def test_every_table_missing_columns_is_named_in_one_error(tmp_path):
    """Each table's missing columns, with a likely mapping, before any is read:
    two files (parquet, CSV) and a frame, all at fault."""
    usage = pd.DataFrame(
        {"customer_id": ["a"], "date": ["2024-01-02"], "kind": ["login"]}
    )
    usage.to_parquet(tmp_path / "usage.parquet")
    billing = pd.DataFrame({"user": ["a"], "time": ["2024-01-02"], "amount": [3.0]})
    billing.to_csv(tmp_path / "billing.csv", index=False)
    support = pd.DataFrame({"account_id": ["a"], "opened_at": ["2024-01-02"]})
    with pytest.raises(SchemaError) as err:
        ck.Events(
            customers=_customers(),
            usage=tmp_path / "usage.parquet",
            billing=tmp_path / "billing.csv",
            support=support,
        )
    message = str(err.value)
    assert message.startswith("3 tables do not have the columns churnkit needs:")
    assert "- Table 'usage' is missing required column(s) ['time', 'event']" in message
    assert "Perhaps: columns={'usage': {'date': 'time', 'kind': 'event'}}" in message
    assert "Perhaps: columns={'billing': {'user': 'customer_id'}}" in message
    assert (
        "Perhaps: columns={'support': {'account_id': 'customer_id', "
        "'opened_at': 'time'}}" in message
    )
    # a helpdesk export: a bare `id` is the ticket's, not the customer's
    tickets = pd.DataFrame(
        {"id": [7], "ticket_owner_id": ["a"], "created_at": ["2024-01-02"]}
    )
    with pytest.raises(SchemaError, match=r"\{'ticket_owner_id': 'customer_id'"):
        ck.Events(customers=_customers(), support=tickets)
    # a mapping that fixes one table leaves the other two
    with pytest.raises(SchemaError, match="^2 tables"):
        ck.Events(
            customers=_customers(),
            usage=tmp_path / "usage.parquet",
            billing=tmp_path / "billing.csv",
            support=support,
            columns={"usage": {"date": "time", "kind": "event"}},
        )


def test_customers_table_needs_customer_id():
    with pytest.raises(
        SchemaError, match=r"Table 'customers' is missing.*\['customer_id'\]"
    ):
        ck.Events(customers=pd.DataFrame({"id": ["a"], "signup_time": ["2024-01-01"]}))


def test_customers_need_signup_time_without_subscriptions():
    with pytest.raises(
        SchemaError,
        match=r"missing required column 'signup_time' \(columns present: "
        r"\['customer_id'\]\)",
    ):
        ck.Events(customers=pd.DataFrame({"customer_id": ["a"]}))


def test_no_customers_and_no_subscriptions():
    with pytest.raises(SchemaError, match=r"Events needs a `customers` table") as e:
        ck.Events(usage=_usage())
    # a purchase log alone: the error shows how to take signups from it
    assert "usage.groupby('customer_id', as_index=False)['time'].min()" in str(e.value)


def test_a_store_with_no_customer_is_an_error():
    empty = pd.DataFrame({"customer_id": [], "signup_time": pd.to_datetime([])})
    with pytest.raises(SchemaError, match=r"the `customers` table has no rows"):
        ck.Events(customers=empty)
    subs = pd.DataFrame({"customer_id": ["a"], "start": ["never"], "end": [None]})
    # errors="drop" refuses to empty the table that gives the customers
    with pytest.raises(SchemaError, match=r"so `errors='drop'` would empty it"):
        ck.Events(subscriptions=subs, errors="drop")


def test_churn_kinds_other_than_the_two_standard_ones_warn():
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": ["2024-01-01"] * 3}
    )
    churn = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "time": ["2024-02-01"] * 3,
            "kind": ["voluntary", "payment_failed", "payment_failed"],
        }
    )
    with pytest.warns(ck.ChurnkitWarning, match=r"'payment_failed' \(2\)"):
        events = ck.Events(
            customers=customers, churn=churn, observed_until="2024-04-01"
        )
    table = ck.churn_rate(events, start="2024-02-01", end="2024-02-28")
    assert table["churned_unknown_kind"].tolist() == [2]
    assert table.attrs["note"].startswith("2 churn(s) have no kind, or one other")


def test_subscriptions_without_an_end_warn_naming_a_likely_column():
    subs = pd.DataFrame(
        {"customer_id": ["a"], "start": ["2024-01-01"], "end_date": ["2024-03-01"]}
    )
    with pytest.warns(ck.ChurnkitWarning, match=r"no customer ever churns\. It has "):
        events = ck.Events(subscriptions=subs)
    assert events.churns.empty


def test_a_defect_shows_the_column_it_is_in():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": ["2024-01-01"] * 2,
            "end": [None, None],
            "mrr": [10, "ten"],
        }
    )
    with pytest.raises(SchemaError, match=r"(?s)column 'mrr' holds text.*mrr\n.*ten"):
        ck.Events(subscriptions=subs)


# ----------------------------------------------------------- column mapping
def test_columns_mapping_renames():
    customers = pd.DataFrame({"user": ["a", "b"], "created": ["2024-01-01"] * 2})
    usage = pd.DataFrame({"user": ["a", "b"], "ts": ["2024-01-02"] * 2, "ev": "x"})
    events = ck.Events(
        customers=customers,
        usage=usage,
        columns={
            "customers": {"user": "customer_id", "created": "signup_time"},
            "usage": {"user": "customer_id", "ts": "time", "ev": "event"},
        },
    )
    expected = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "time": pd.to_datetime(["2024-01-02"] * 2).as_unit("ns"),
            "event": pd.Categorical(["x", "x"]),
        }
    )
    pd.testing.assert_frame_equal(events.frame("usage"), expected, check_dtype=False)
    assert list(events.customers.columns) == ["customer_id", "signup_time"]


@pytest.mark.parametrize(
    ("columns", "error", "match"),
    [
        ({"usage": {"uid": "customer_id"}}, SchemaError, r"maps \['uid'\] but the"),
        ({"visits": {"a": "b"}}, SchemaError, r"unknown table\(s\) \['visits'\]"),
        ([("uid", "customer_id")], ChurnkitTypeError, r"`columns` must be a dict"),
        ({"usage": ["uid"]}, ChurnkitTypeError, r"`columns\['usage'\]` must be a dict"),
        (
            {"usage": {"event": "time"}},
            SchemaError,
            r"Table 'usage' has duplicate column names \['time'\]",
        ),
    ],
)
def test_bad_column_mappings(columns, error, match):
    with pytest.raises(error, match=match):
        ck.Events(customers=_customers(), usage=_usage(), columns=columns)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"errors": "ignore"}, r"`errors` must be 'raise' or 'drop'; got 'ignore'"),
        ({"unknown_customers": "keep"}, r"`unknown_customers` must be 'raise' or"),
        ({"grace": "1MS"}, r"`grace` must be an exact span such as '7D'"),
        ({"grace": "7"}, r"`grace` must be a duration with a unit"),
        ({"observed_until": 20240101}, r"`observed_until` must be a date"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        ck.Events(customers=_customers(), **kwargs)


# ----------------------------------------------------------------- times
@pytest.mark.parametrize("table", TABLES)
def test_unparseable_time(table):
    df = _table(table, ["a", "b"], ["2024-03-01", "not a date"])
    with pytest.raises(
        SchemaError,
        match=rf"(?s)Table '{table}': 1 row\(s\) where values in column 'time' "
        r"could not "
        r"be read as dates:\n.*not a date.*\nFix or remove these rows, or pass "
        r"`errors='drop'`",
    ):
        ck.Events(customers=_customers(), **{table: df})


@pytest.mark.parametrize("table", TABLES)
def test_null_time(table):
    df = _table(table, ["a", "b"], ["2024-03-01", None])
    with pytest.raises(
        SchemaError, match=rf"Table '{table}': 1 row\(s\) where column 'time' is null"
    ):
        ck.Events(customers=_customers(), **{table: df})


@pytest.mark.parametrize("signup", [None, "never"])
def test_customers_need_a_signup_time(signup):
    customers = _customers(signups=("2024-01-01", signup))
    with pytest.raises(
        SchemaError,
        match=r"Table 'customers': 1 row\(s\) where .*'signup_time'.*\n.*\n.* b .*\n"
        r"Every customer needs a signup time",
    ):
        ck.Events(customers=customers)


def test_mixed_timezone_aware_and_naive_times():
    usage = _usage(times=("2024-01-02T00:00:00+02:00", "2024-02-03", "2024-03-01"))
    with pytest.raises(
        SchemaError,
        match=r"Table 'usage', column 'time' mixes timezone-aware and naive "
        r"timestamps \(1 aware, 2 naive\)",
    ):
        ck.Events(customers=_customers(), usage=usage)


@pytest.mark.parametrize(
    "times",
    [
        ["2024-01-02T02:00:00+02:00", "2024-02-03T00:00:00Z"],
        pd.to_datetime(["2024-01-02T02:00:00+02:00", "2024-02-03T02:00:00+02:00"]),
        pd.DatetimeIndex(["2024-01-02 03:00", "2024-02-03 03:00"]).tz_localize(
            "Etc/GMT-3"  # UTC+3 (the sign is inverted in Etc/ zones)
        ),
    ],
)
def test_timezone_aware_times_are_converted_to_utc(times):
    usage = pd.DataFrame({"customer_id": ["a", "b"], "time": times, "event": "x"})
    events = ck.Events(customers=_customers(), usage=usage)
    got = events.frame("usage")["time"]
    assert got.dt.tz is None
    assert got.tolist() == [
        pd.Timestamp("2024-01-02 00:00"),
        pd.Timestamp("2024-02-03 00:00"),
    ]


@pytest.mark.parametrize(
    ("table", "column"),
    [("usage", "time"), ("customers", "signup_time"), ("churn", "time")],
)
def test_numeric_timestamps_are_an_error(table, column):
    tables = {"customers": _customers()}
    if table == "customers":
        tables["customers"] = pd.DataFrame({"customer_id": ["a"], column: [19970101]})
    else:
        tables[table] = _table(table, ["a"], [19970101])
    with pytest.raises(
        SchemaError,
        match=rf"Table '{table}', column '{column}': timestamps are numbers \(dtype "
        r"int64, e.g. \[19970101\]\).*19970101 would be read as nanoseconds",
    ):
        ck.Events(**tables)


@pytest.mark.parametrize(
    ("values", "fix"),
    [
        ([1706745600, 1709251200], r"pd.to_datetime(df['time'], unit='s')"),
        ([1706745600000, 1709251200500], r"pd.to_datetime(df['time'], unit='ms')"),
        ([19970101, 19971231], "format='%Y%m%d'"),
        ([930101, 981231, 50101], "str.zfill(6), format='%y%m%d'"),
        # an export whose unit changed midway: seconds, then milliseconds
        ([1706745600, 1743465600000], "both UNIX epoch seconds and milliseconds"),
    ],
)
def test_numeric_timestamps_name_the_conversion_that_fits(values, fix):
    usage = _table("usage", ["a"] * len(values), values)
    with pytest.raises(SchemaError, match="timestamps are numbers") as info:
        ck.Events(customers=_customers(), usage=usage)
    assert fix in str(info.value)
    if "%Y%m%d" in fix or "%y%m%d" in fix:  # text dates: parsed (or not) as text
        return
    # epoch numbers written as text are unreadable dates with the same fix
    text = usage.assign(time=usage["time"].astype(str))
    with pytest.raises(SchemaError, match="numbers written as text") as info:
        ck.Events(customers=_customers(), usage=text)
    assert fix in str(info.value)


def test_dates_from_epoch_numbers_read_with_the_wrong_unit_warn():
    # seconds read as milliseconds land in January 1970: kept as given (they
    # are times), but counted and named, in usage, signups and subscriptions
    seconds = pd.Series([1706745600, 1709251200])
    usage = _usage(ids=("a", "b"), times=("2024-01-02", "2024-01-03"))
    usage["time"] = [pd.to_datetime(seconds[0], unit="ms"), pd.Timestamp("2024-02-01")]
    with pytest.warns(
        ck.DataQualityWarning,
        match=r"Table 'usage', column 'time': 1 of 2 rows are before 1980-01-01 "
        r"\(e.g. 'a' at 1970-01-20 18:05\)",
    ):
        events = ck.Events(customers=_customers(), usage=usage)
    assert events.frame("usage")["time"].min().year == 1970  # nothing changed
    customers = _customers().assign(signup_time=pd.to_datetime(seconds, unit="ms"))
    with pytest.warns(ck.DataQualityWarning, match="'signup_time': 2 of 2 rows"):
        ck.Events(customers=customers)
    subs = pd.DataFrame(
        {"customer_id": ["a"], "start": pd.to_datetime(seconds[:1], unit="ms")}
    )
    with pytest.warns(ck.DataQualityWarning, match="'subscriptions', column 'start'"):
        ck.Events(subscriptions=subs)


def test_out_of_range_dates():
    usage = _usage(ids=("a", "b"), times=("2024-01-02", "3000-01-01"))
    with pytest.raises(SchemaError, match=r"outside 1677-09-22..2262-04-11"):
        ck.Events(customers=_customers(), usage=usage)


# ------------------------------------------------------------ customer ids
def test_null_customer_id_in_customers():
    customers = _customers(ids=("a", None))
    with pytest.raises(
        SchemaError,
        match=r"(?s)Table 'customers', column 'customer_id': 1 null id\(s\).*fill or",
    ):
        ck.Events(customers=customers)


def test_duplicate_customer_ids_in_customers():
    customers = _customers(ids=("a", "b", "a"), signups=("2024-01-01",) * 3)
    with pytest.raises(
        SchemaError,
        match=r"1 id\(s\) appear more than once:\n(.|\n)*drop_duplicates",
    ):
        ck.Events(customers=customers)


@pytest.mark.parametrize("table", TABLES)
def test_null_customer_id_in_an_event_table(table):
    df = _table(table, ["a", None], ["2024-03-01", "2024-03-02"])
    with pytest.raises(
        SchemaError, match=rf"Table '{table}': 1 row\(s\) where `customer_id` is null"
    ):
        ck.Events(customers=_customers(), **{table: df})


@pytest.mark.parametrize("table", TABLES)
def test_unknown_customers_raise_by_default(table):
    df = _table(table, ["a", "zz"], ["2024-03-01", "2024-03-02"])
    with pytest.raises(
        SchemaError,
        match=rf"Table '{table}': 1 row\(s\) belong to customers that are not in "
        r"`customers`:\n(.|\n)*zz(.|\n)*`unknown_customers='drop'`",
    ):
        ck.Events(customers=_customers(), **{table: df})


@pytest.mark.parametrize("table", TABLES)
def test_unknown_customers_dropped_and_reported(table):
    df = _table(table, ["a", "zz", "zz"], ["2024-03-01", "2024-03-02", "2024-03-03"])
    events = ck.Events(customers=_customers(), unknown_customers="drop", **{table: df})
    report = events.report
    assert report.to_dict("records") == [
        {"table": table, "reason": "unknown customer", "rows": 2, "action": "dropped"}
    ]
    if table == "churn":
        assert events.churns["customer_id"].tolist() == ["a"]
    else:
        assert events.frame(table)["customer_id"].tolist() == ["a"]


def test_unknown_customers_drop_still_raises_on_other_defects():
    usage = _table("usage", ["a", "zz", "b"], ["2024-03-01", "oops", "never"])
    with pytest.raises(SchemaError, match=r"1 row\(s\) where values in column 'time'"):
        ck.Events(customers=_customers(), usage=usage, unknown_customers="drop")


def test_unknown_customers_raise_even_when_errors_drop():
    usage = _table("usage", ["a", "zz"], ["2024-03-01", "2024-03-02"])
    with pytest.raises(SchemaError, match=r"belong to customers that are not in"):
        ck.Events(
            customers=_customers(),
            usage=usage,
            errors="drop",
            unknown_customers="raise",
        )


def test_unknown_subscription_customers():
    subs = pd.DataFrame({"customer_id": ["a", "zz"], "start": ["2024-01-05"] * 2})
    with pytest.raises(
        SchemaError, match=r"Table 'subscriptions': 1 row\(s\) belong to customers"
    ):
        ck.Events(customers=_customers(), subscriptions=subs)
    events = ck.Events(
        customers=_customers(), subscriptions=subs, unknown_customers="drop"
    )
    assert events.spells["customer_id"].tolist() == ["a"]
    assert events.report["reason"].tolist() == ["unknown customer"]


@pytest.mark.parametrize(
    ("customers_ids", "usage_ids", "table", "types"),
    [
        ([1, "b"], ["b"], "customers", r"\['int', 'str'\]"),
        (["a", "b"], ["a", 1], "usage", r"\['str', 'int'\]"),
    ],
)
def test_mixed_int_and_str_ids(customers_ids, usage_ids, table, types):
    customers = _customers(ids=customers_ids)
    usage = _usage(ids=usage_ids, times=["2024-03-01"] * len(usage_ids))
    with pytest.raises(
        SchemaError,
        match=rf"Table '{table}', column 'customer_id' mixes types {types}.*astype",
    ):
        ck.Events(customers=customers, usage=usage)


def test_str_ids_against_int_customers_hint():
    customers = pd.DataFrame({"customer_id": [1, 2], "signup_time": ["2024-01-01"] * 2})
    # "1" is 1: the same ids in two types join (test_integer_ids_match_...)
    usage = _usage(ids=("1", "2"), times=("2024-03-01",) * 2)
    assert len(ck.Events(customers=customers, usage=usage).frame("usage")) == 2
    # ids that are no integers at all: the types differ, and the fix is named
    usage = _usage(ids=("a1", "a2"), times=("2024-03-01",) * 2)
    with pytest.raises(
        SchemaError, match=r"The ids are \w+ here but int64 in customers: convert"
    ):
        ck.Events(customers=customers, usage=usage)


def test_integer_ids():
    customers = pd.DataFrame(
        {"customer_id": [30, 10, 20], "signup_time": ["2024-01-01"] * 3}
    )
    usage = _usage(ids=(20, 30, 20), times=("2024-01-05", "2024-01-02", "2024-01-03"))
    events = ck.Events(customers=customers, usage=usage)
    assert events._engine.customer_ids.tolist() == [10, 20, 30]
    frame = events.frame("usage")
    assert frame["customer_id"].tolist() == [20, 20, 30]
    assert frame["time"].dt.day.tolist() == [3, 5, 2]


# ------------------------------------------------------------ numeric values
@pytest.mark.parametrize(
    ("table", "column", "values", "message"),
    [
        ("usage", "quantity", [1.0, -1.0], r"`quantity` is negative"),
        ("billing", "mrr", [10.0, -5.0], r"`mrr` is negative"),
        ("billing", "amount", [10.0, -5.0], r"`amount` is negative on an invoice"),
        ("support", "csat", ["4", "great"], r"column 'csat' holds text that is not"),
        ("usage", "quantity", [1, "two"], r"column 'quantity' holds text that is not"),
        ("billing", "amount", [1.0, np.inf], r"column 'amount' is infinite"),
        ("usage", "quantity", [1.0, -np.inf], r"column 'quantity' is infinite"),
        ("usage", "quantity", [1.0, None], r"`quantity` is null"),
    ],
)
def test_bad_numeric_values(table, column, values, message):
    df = _table(table, ["a", "b"], ["2024-03-01", "2024-03-02"], **{column: values})
    with pytest.raises(
        SchemaError, match=rf"Table '{table}': 1 row\(s\) where {message}"
    ):
        ck.Events(customers=_customers(), **{table: df})


def test_negative_amounts_are_allowed_on_refunds():
    billing = _table(
        "billing",
        ["a", "a"],
        ["2024-03-01", "2024-03-02"],
        kind=["payment", "refund"],
        amount=[10.0, -10.0],
    )
    events = ck.Events(customers=_customers(), billing=billing)
    assert events.frame("billing")["amount"].tolist() == [10.0, -10.0]


def test_numeric_text_is_parsed():
    usage = _table("usage", ["a", "b"], ["2024-03-01"] * 2, quantity=["1.5", "2"])
    events = ck.Events(customers=_customers(), usage=usage)
    assert events.frame("usage")["quantity"].tolist() == [1.5, 2.0]


def test_ticket_closed_before_opened():
    support = _table(
        "support",
        ["a", "b"],
        ["2024-03-05"] * 2,
        closed_time=["2024-03-06", "2024-03-04"],
    )
    with pytest.raises(SchemaError, match=r"1 row\(s\) where `closed_time` is before"):
        ck.Events(customers=_customers(), support=support)


def test_subscription_end_before_start():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": ["2024-01-01", "2024-02-01"],
            "end": ["2024-03-01", "2024-01-01"],
        }
    )
    with pytest.raises(
        SchemaError, match=r"Table 'subscriptions': 1 row\(s\) where `end` is before"
    ):
        ck.Events(subscriptions=subs)


# ------------------------------------------------------------------ churn
def test_churn_before_signup():
    churn = _table("churn", ["a", "b"], ["2024-03-01", "2024-01-15"])
    with pytest.raises(
        SchemaError,
        match=r"Table 'churn': 1 row\(s\) where the churn `time` is before the "
        r"customer's `signup_time`",
    ):
        ck.Events(customers=_customers(), churn=churn)


def test_several_churns_need_subscriptions():
    churn = _table("churn", ["a", "a"], ["2024-03-01", "2024-05-01"])
    with pytest.raises(
        SchemaError, match=r"a customer churns more than once; describe returns with"
    ):
        ck.Events(customers=_customers(), churn=churn)


def test_churn_at_signup_is_allowed():
    churn = _table("churn", ["a"], ["2024-01-01"], kind=["involuntary"])
    events = ck.Events(customers=_customers(), churn=churn)
    assert events.churns.to_dict("records") == [
        {
            "customer_id": "a",
            "time": pd.Timestamp("2024-01-01"),
            "kind": "involuntary",
        }
    ]


# ----------------------------------------------------------- errors="drop"
def test_errors_drop_counts_each_reason_and_keeps_the_clean_rows():
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b", "zz", None, "a"],
            "time": [
                "2024-01-02",  # clean
                None,  # null time
                "bad",  # unparseable time
                "2024-03-01",  # negative quantity
                "2024-01-03",  # unknown customer
                "2024-01-04",  # null customer_id
                "2024-02-10",  # clean
            ],
            "event": ["login", "login", "login", "view", "login", "login", "view"],
            "quantity": [1.0, 1.0, 1.0, -2.0, 1.0, 1.0, 3.0],
        }
    )
    events = ck.Events(customers=_customers(), usage=usage, errors="drop")
    report = events.report.set_index("reason")["rows"].to_dict()
    assert report == {
        "null customer_id": 1,
        "unknown customer": 1,
        "unparseable time": 1,
        "null time": 1,
        "negative quantity": 1,
    }
    assert set(events.report["action"]) == {"dropped"}
    assert set(events.report["table"]) == {"usage"}
    frame = events.frame("usage")
    assert frame["customer_id"].tolist() == ["a", "a"]
    assert frame["time"].tolist() == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-02-10"),
    ]
    assert frame["quantity"].tolist() == [1.0, 3.0]
    assert events.summary().loc["usage", "rows_excluded"] == 5


def test_errors_drop_on_churn_rows():
    churn = _table("churn", ["a", "b", "b"], ["2024-03-01", "2024-01-15", "2024-05-01"])
    events = ck.Events(customers=_customers(), churn=churn, errors="drop")
    assert events.churns["customer_id"].tolist() == ["a"]
    assert events.report["reason"].tolist() == ["churn before signup", "several churns"]
    assert events.report["rows"].tolist() == [1, 1]


# ------------------------------------------------------------------ paths
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tables_from_files(tmp_path, suffix):
    customers, usage = _customers(), _usage()
    paths = {}
    for name, df in {"customers": customers, "usage": usage}.items():
        paths[name] = tmp_path / f"{name}{suffix}"
        if suffix == ".csv":
            df.to_csv(paths[name], index=False)
        else:
            df.to_parquet(paths[name])
    from_files = ck.Events(customers=paths["customers"], usage=str(paths["usage"]))
    from_frames = ck.Events(customers=customers, usage=usage)
    pd.testing.assert_frame_equal(from_files.frame("usage"), from_frames.frame("usage"))
    assert from_files._engine.customer_ids.tolist() == ["a", "b"]


def test_missing_file(tmp_path):
    with pytest.raises(
        SchemaError, match=r"Table 'usage': file '.*nope.parquet' does not exist"
    ):
        ck.Events(customers=_customers(), usage=tmp_path / "nope.parquet")


def test_unknown_file_format(tmp_path):
    path = tmp_path / "usage.json"
    path.write_text("{}")
    with pytest.raises(SchemaError, match=r"cannot tell the format of .*usage.json"):
        ck.Events(customers=_customers(), usage=path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "usage.parquet"
    path.write_text("not parquet")
    with pytest.raises(SchemaError, match=r"Table 'usage': could not read"):
        ck.Events(customers=_customers(), usage=path)


def test_table_of_the_wrong_type():
    with pytest.raises(
        ChurnkitTypeError, match=r"Table 'usage' must be a pandas DataFrame or a path"
    ):
        ck.Events(customers=_customers(), usage=[("a", "2024-01-01")])


# ------------------------------------------------------------------- ties
BILLING_TIES = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "b", "b"],
        "time": ["2024-01-05"] * 4 + ["2024-02-05"] * 2,
        "kind": [
            "refund",
            "payment",
            "invoice",
            "payment",
            "payment_failed",
            "invoice",
        ],
        "amount": [5.0, 20.0, 10.0, 10.0, 3.0, 3.0],
    }
)
USAGE_TIES = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b"],
        "time": ["2024-01-05"] * 3 + ["2024-02-05"] * 2,
        "event": ["login", "export", "login", "zoom", "api"],
        "quantity": [2.0, 1.0, 1.0, 4.0, 5.0],
    }
)


@pytest.mark.parametrize("seed", range(6))
def test_ties_are_ordered_by_kind_then_value_whatever_the_row_order(seed):
    events = ck.Events(
        customers=_customers().sample(frac=1, random_state=seed),
        billing=BILLING_TIES.sample(frac=1, random_state=seed),
        usage=USAGE_TIES.sample(frac=1, random_state=seed),
    )
    billing = events.frame("billing")
    # contract order: invoice, payment, payment_failed, refund; then amount
    assert billing["kind"].astype(str).tolist() == [
        "invoice",
        "payment",
        "payment",
        "refund",
        "invoice",
        "payment_failed",
    ]
    assert billing["amount"].tolist() == [10.0, 10.0, 20.0, 5.0, 3.0, 3.0]
    usage = events.frame("usage")
    # usage events have no contract order: alphabetical, then quantity
    assert usage["event"].astype(str).tolist() == [
        "export",
        "login",
        "login",
        "api",
        "zoom",
    ]
    assert usage["quantity"].tolist() == [1.0, 1.0, 2.0, 5.0, 4.0]


@st.composite
def _event_rows(draw):
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    kinds = draw(
        st.lists(
            st.sampled_from(["payment", "invoice", "refund", "x"]),
            min_size=n,
            max_size=n,
        )
    )
    amounts = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": ids,
            "time": pd.Timestamp("2024-02-01") + pd.to_timedelta(days, unit="D"),
            "kind": kinds,
            "amount": np.array(amounts, dtype=float),
        }
    )


@settings(max_examples=40, deadline=None)
@given(rows=_event_rows(), seed=st.integers(0, 2**16))
def test_time_ordered_and_shuffled_inputs_give_identical_stores(rows, seed):
    customers = _customers(ids=("a", "b", "c"), signups=("2024-01-01",) * 3)
    ordered = rows.sort_values("time", kind="stable")
    shuffled = rows.sample(frac=1, random_state=seed)
    a = ck.Events(customers=customers, billing=ordered)
    b = ck.Events(customers=customers, billing=shuffled)
    pd.testing.assert_frame_equal(a.frame("billing"), b.frame("billing"))
    ta, tb = a._engine.table("billing"), b._engine.table("billing")
    np.testing.assert_array_equal(ta.offsets, tb.offsets)
    np.testing.assert_array_equal(ta.time, tb.time)
    for col in ta.columns:
        np.testing.assert_array_equal(ta.columns[col], tb.columns[col])
    frame = a.frame("billing")
    # grouped by customer, then by time
    key = list(zip(frame["customer_id"], frame["time"], strict=True))
    assert key == sorted(key)


@pytest.mark.parametrize("time_ordered", [True, False])
def test_compiled_grouping_of_large_tables_matches_the_radix_path(
    monkeypatch, time_ordered
):
    """Tables past ``COMPILED_FROM`` rows take the numba path: same store."""
    import churnkit.events._store as store

    rng = np.random.default_rng(0)
    n, n_customers = 5_000, 70_000  # codes past 2**16: both radix passes run
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(n_customers),
            "signup_time": pd.Timestamp("2024-01-01"),
        }
    )
    usage = pd.DataFrame(
        {
            "customer_id": rng.integers(0, n_customers, n),
            "time": pd.Timestamp("2024-02-01")
            + pd.to_timedelta(rng.integers(0, 50, n), unit="h"),
            "event": rng.choice(["login", "export", "api"], n),
            "quantity": rng.integers(0, 4, n).astype(float),
        }
    )
    if time_ordered:
        usage = usage.sort_values("time", kind="stable")
    radix = ck.Events(customers=customers, usage=usage)._engine.table("usage")
    monkeypatch.setattr(store, "COMPILED_FROM", 1)
    monkeypatch.setattr(store, "THREADED_FROM", 1)
    compiled = ck.Events(customers=customers, usage=usage)._engine.table("usage")
    np.testing.assert_array_equal(radix.offsets, compiled.offsets)
    np.testing.assert_array_equal(radix.time, compiled.time)
    for col in radix.columns:
        np.testing.assert_array_equal(radix.columns[col], compiled.columns[col])


# -------------------------------------------------- data, not hyperparameters
@pytest.fixture
def small():
    return ck.Events(
        customers=_customers(),
        usage=_usage(),
        billing=BILLING_TIES,
        churn=_table("churn", ["a"], ["2024-03-15"], kind=["voluntary"]),
    )


def test_deepcopy_and_copy_return_the_same_store(small):
    assert copy.deepcopy(small) is small
    assert copy.copy(small) is small
    assert copy.deepcopy({"events": small})["events"] is small


def test_pickle_round_trip(small):
    back = pickle.loads(pickle.dumps(small))
    assert back is not small
    for name, frame in _all_frames(small).items():
        pd.testing.assert_frame_equal(back.frame(name), frame)
    pd.testing.assert_frame_equal(back.spells, small.spells)
    assert back.observed_until == small.observed_until
    assert repr(back) == repr(small)
    with pytest.raises(ValueError, match=r"read-only"):
        back._engine.table("billing").columns["amount"][0] = 0.0
    with pytest.raises(ValueError, match=r"read-only"):
        back._engine.signup_time[0] = 0


def test_store_is_immutable(small):
    with pytest.raises(AttributeError, match=r"Events is immutable"):
        small.observed_until = pd.Timestamp("2025-01-01")
    with pytest.raises(ValueError, match=r"read-only"):
        small._engine.table("usage").time[0] = 0


def test_repr(small):
    assert repr(small) == (
        "Events(2 customers; usage: 3 rows; billing: 6 rows; 2024-01-01..2024-03-15)"
    )


def test_summary(small):
    summary = small.summary()
    assert summary.index.tolist() == ["customers", "churn", "usage", "billing"]
    assert summary["rows"].tolist() == [2, 1, 3, 6]
    assert summary["customers"].tolist() == [2, 1, 2, 2]
    assert summary["rows_excluded"].tolist() == [0, 0, 0, 0]
    assert summary.loc["customers", "first"] == pd.Timestamp("2024-01-01")
    assert summary.loc["customers", "last"] == pd.Timestamp("2024-02-01")
    assert summary.loc["churn", "first"] == pd.Timestamp("2024-03-15")
    assert summary.loc["usage", "last"] == pd.Timestamp("2024-03-01")
    assert summary.loc["billing", "first"] == pd.Timestamp("2024-01-05")


def test_accessors(small):
    assert small._engine.customer_ids.tolist() == ["a", "b"]
    assert small.customers["signup_time"].tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
    ]
    assert small.churns.to_dict("records") == [
        {"customer_id": "a", "time": pd.Timestamp("2024-03-15"), "kind": "voluntary"}
    ]
    assert small.spells["end"].isna().tolist() == [False, True]
    with pytest.raises(SchemaError, match=r"no 'support' table; it has \['usage'"):
        small.frame("support")


def test_save_load_round_trip(small, tmp_path):
    small.save(tmp_path / "store")
    loaded = ck.Events.load(tmp_path / "store")
    assert set(loaded._engine.tables) == set(small._engine.tables)
    for name, frame in _all_frames(small).items():
        pd.testing.assert_frame_equal(loaded.frame(name), frame)
    pd.testing.assert_frame_equal(loaded.customers, small.customers)
    pd.testing.assert_frame_equal(loaded.spells, small.spells)
    pd.testing.assert_frame_equal(loaded.report, small.report)
    assert loaded.observed_until == small.observed_until
    assert repr(loaded) == repr(small)
    cutoffs = ck.make_cutoffs(small, at="2024-02-15")
    pd.testing.assert_frame_equal(
        ck.label_churn(loaded, cutoffs, horizon="14D"),
        ck.label_churn(small, cutoffs, horizon="14D"),
    )


def test_saved_search_index_gives_the_same_features(tmp_path):
    """A store saved with its index loads warm and computes the same features."""
    data = ck.datasets.make_saas_events(n_customers=200, random_state=5)
    midnight = ck.make_cutoffs(
        data.events, start="2024-03-01", end="2025-01-01", freq="MS"
    )
    hours = midnight.assign(cutoff_time=midnight.cutoff_time + pd.Timedelta("5h"))
    data.events.save(tmp_path / "indexed")
    data.events.save(tmp_path / "plain", index=False)
    assert len(list((tmp_path / "indexed").glob("*/usage.index.day_keys.npy"))) == 1
    assert list((tmp_path / "indexed").glob("*/support.by.closed_time.time.npy"))
    assert not list((tmp_path / "plain").glob("*/*.index.*"))
    indexed = ck.Events.load(tmp_path / "indexed")
    support = indexed._engine.table("support")
    assert ("by", "closed_time") in support._views  # adopted, not recomputed
    assert isinstance(support.reordered_by("closed_time").time, np.memmap)
    plain = ck.Events.load(tmp_path / "plain")
    for X in (midnight, pd.concat([midnight, hours])):  # day keys, hour keys
        expected = ck.ChurnFeatures(data.events).fit(X).transform(X)
        for store in (indexed, plain):
            got = ck.ChurnFeatures(store).fit(X).transform(X)
            pd.testing.assert_frame_equal(got, expected)


def test_active_day_prefix_from_day_keys_matches_the_direct_count():
    data = ck.datasets.make_saas_events(n_customers=100, random_state=6)
    usage = data.events._engine.table("usage")
    from_keys = usage.day_prefix()
    direct = ck.Events(customers=data.customers, usage=data.usage)._engine.table(
        "usage"
    )
    direct.day_keys = lambda: None  # no keys: count day changes and new customers
    np.testing.assert_array_equal(direct.day_prefix(), from_keys)
    day = usage.time // (86_400 * 10**9)
    code = usage.customer_codes()
    n_days = len(pd.unique(pd.Series(code * 10**6 + day)))
    assert from_keys[-1] == n_days


def test_load_of_a_folder_that_is_not_a_store(tmp_path):
    with pytest.raises(SchemaError, match=r"is not a saved Events store"):
        ck.Events.load(tmp_path)


def test_with_observed_until(small):
    later = small.with_observed_until("2025-01-01T00:00:00+01:00")
    assert later.observed_until == pd.Timestamp("2024-12-31 23:00")
    # the churn, a date: the data runs to the end of that day
    assert small.observed_until == pd.Timestamp("2024-03-16")
    assert later._engine.table("usage") is small._engine.table("usage")
    with pytest.raises(SchemaError, match=r"`observed_until` must be a date"):
        small.with_observed_until(20250101)


# ------------------------------------------------------------ observed_until
def test_observed_until_is_just_after_the_latest_event_time():
    support = _table(
        "support",
        ["a"],
        ["2024-03-10"],
        closed_time=["2024-06-01"],  # not counted
    )
    events = ck.Events(customers=_customers(), usage=_usage(), support=support)
    # dates only: the data runs to the end of the last day
    assert events.observed_until == pd.Timestamp("2024-03-11")


def test_observed_until_ignores_subscription_ends():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": ["2024-01-01", "2024-02-01"],
            "end": ["2024-12-31", None],
            "mrr": [10.0, 20.0],
        }
    )
    events = ck.Events(subscriptions=subs)
    # dates only: the data runs to the end of the last day
    assert events.observed_until == pd.Timestamp("2024-02-02")
    # the billing rows derived from the spells do not move it either
    assert events.frame("billing")["time"].max() == pd.Timestamp("2024-12-31")


def test_observed_until_counts_billing_rows_of_every_kind():
    billing = _table(
        "billing",
        ["a", "a"],
        ["2024-01-01", "2024-05-01"],
        kind=["subscription_start", "subscription_end"],
    )
    events = ck.Events(customers=_customers(), billing=billing)
    # dates only: the data runs to the end of the last day
    assert events.observed_until == pd.Timestamp("2024-05-02")


def test_observed_until_is_settable():
    events = ck.Events(customers=_customers(), observed_until="2024-06-01")
    assert events.observed_until == pd.Timestamp("2024-06-01")


# ------------------------------------------------------------- subscriptions
def test_subscriptions_give_signups_spells_and_returns():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b"],
            "start": ["2024-04-01", "2024-01-01", "2024-01-10", "2024-02-05"],
            "end": ["2024-06-01", "2024-02-01", "2024-02-01", None],
        }
    )
    # the data runs past a's end on 06-01: it is a churn, not a paid period's end
    events = ck.Events(subscriptions=subs, grace="7D", observed_until="2024-07-01")
    assert events.customers.to_dict("list") == {
        "customer_id": ["a", "b"],
        "signup_time": [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-10")],
    }
    spells = events.spells
    assert spells["customer_id"].tolist() == ["a", "a", "b"]
    assert spells["start"].dt.strftime("%m-%d").tolist() == ["01-01", "04-01", "01-10"]
    assert spells["end"].dt.strftime("%m-%d").fillna("-").tolist() == [
        "02-01",
        "06-01",
        "-",
    ]
    assert events.churns["customer_id"].tolist() == ["a", "a"]


def test_churn_rows_give_the_kind_of_subscription_ends():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": ["2024-01-01", "2024-04-01"],
            "end": ["2024-02-01", "2024-06-01"],
        }
    )
    churn = _table(
        "churn",
        ["a", "a", "a"],
        ["2024-06-01", "2024-02-01", "2024-09-01"],
        kind=["involuntary", "voluntary", "voluntary"],
    )
    with pytest.warns(
        DataQualityWarning,
        match=r"(?s)1 row\(s\) match no subscription end.*'a' churns 2024-09-01",
    ):
        # the data's end is given: beside subscriptions, churn rows are kinds
        # of ends and (like the ends) do not say how far the data runs
        events = ck.Events(subscriptions=subs, churn=churn, observed_until="2024-10-01")
    assert events.churns["kind"].astype(str).tolist() == ["voluntary", "involuntary"]
    assert events.report.to_dict("records") == [
        {
            "table": "churn",
            "reason": "no matching subscription end",
            "rows": 1,
            "action": "dropped",
        }
    ]
    assert events.summary().loc["churn", "rows_excluded"] == 1


def test_customers_without_signup_take_it_from_subscriptions():
    subs = pd.DataFrame({"customer_id": ["a"], "start": ["2024-01-05"]})
    customers = pd.DataFrame({"customer_id": ["a"], "plan": ["pro"]})
    events = ck.Events(customers=customers, subscriptions=subs)
    assert events.customers["signup_time"].tolist() == [pd.Timestamp("2024-01-05")]
    assert events.customers["plan"].tolist() == ["pro"]
    with pytest.raises(SchemaError, match=r"1 customer\(s\) have no subscription"):
        ck.Events(
            customers=pd.DataFrame({"customer_id": ["a", "b"]}), subscriptions=subs
        )
    # and the way on: leave them out, or give every customer a signup_time
    # (was: no fix named, after an earlier error advised leaving it out)
    with pytest.raises(SchemaError, match=r"Leave them out .*isin\(") as caught:
        ck.Events(
            customers=pd.DataFrame({"customer_id": ["a", "b"]}), subscriptions=subs
        )
    assert "give every customer a `signup_time`" in str(caught.value)
    kept = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-05"})
    assert ck.Events(customers=kept, subscriptions=subs).n_customers == 2


# --------------------------------------------------------------- data set
def test_synthetic_data_set_is_a_valid_store(saas):
    events = saas.events
    assert events.n_customers == 300
    assert not (events.report["action"] == "dropped").any()
    rebuilt = ck.Events(
        customers=saas.customers,
        usage=saas.usage.sample(frac=1, random_state=0),
        billing=saas.billing,
        support=saas.support,
        churn=saas.churn,
        observed_until=events.observed_until,
    )
    for name in events._engine.tables:
        pd.testing.assert_frame_equal(rebuilt.frame(name), events.frame(name))


def test_back_to_back_subscriptions_keep_the_new_mrr():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": pd.to_datetime(["2024-01-01", "2024-03-01"]),
            "end": pd.to_datetime(["2024-03-01", None]),
            "mrr": [10.0, 25.0],
        }
    )
    events = ck.Events(subscriptions=subs)
    billing = events.frame("billing")
    # MRR is the sum over open subscriptions: 10, then 25 from the plan change
    # (no 0 in between: the end and the start fall at the same time)
    assert billing["mrr"].tolist() == [10.0, 25.0]
    assert list(billing["kind"].astype(str)) == [
        "subscription_start",
        "subscription_start",
    ]


def test_a_churn_table_counts_for_observed_until():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    churn = pd.DataFrame({"customer_id": ["a"], "time": ["2024-05-01"]})
    events = ck.Events(customers=customers, churn=churn)
    # dates only: the data runs to the end of the last day
    assert events.observed_until == pd.Timestamp("2024-05-02")


def test_memory_reuse_scope_nests_and_restores():
    from churnkit import _memory

    with _memory.reuse_freed_memory():
        with _memory.reuse_freed_memory():
            assert _memory._depth in (0, 2)  # 0 where the C library is not glibc
            block = np.ones(5_000_000)  # served from the heap inside the scope
        assert block.sum() == 5_000_000
    assert _memory._depth == 0


def _numpy_hugepage_setting(switch):
    before = switch(True)
    switch(before)
    return before


def test_memory_scope_turns_numpy_huge_pages_off_and_restores(monkeypatch):
    from churnkit import _memory

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    monkeypatch.setattr(_memory, "_enabled", True)  # off unless asked for
    switch = _memory._numpy_hugepage_switch()
    if switch is None or not _memory._glibc():
        pytest.skip("numpy's huge-page switch or glibc is not available here")
    before = _numpy_hugepage_setting(switch)
    with _memory.reuse_freed_memory():
        assert _numpy_hugepage_setting(switch) is False
    assert _numpy_hugepage_setting(switch) == before


def test_memory_scope_keeps_a_huge_page_setting_the_user_chose(monkeypatch):
    from churnkit import _memory

    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    assert _memory._numpy_hugepage_switch() is None


def test_phone_numbers_written_as_floats_or_with_a_plus_are_named(tmp_path):
    # msisdns in CSV files: one table read as floats (a missing id), one with a
    # '+'; as files the ids stay text and join nothing (was: no hint why)
    pd.DataFrame(
        {"customer_id": [447700900123, 447700900124], "signup_time": "2024-01-01"}
    ).to_csv(tmp_path / "customers.csv", index=False)
    pd.DataFrame(
        {"customer_id": [447700900123.0, None, 447700900124.0],
         "time": "2024-01-02", "event": "call"}
    ).to_csv(tmp_path / "usage.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"customer_id": ["+447700900123", "447700900124"], "time": "2024-01-03"}
    ).to_csv(tmp_path / "support.csv", index=False)
    customers = tmp_path / "customers.csv"
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, usage=tmp_path / "usage.csv")
    assert (
        "2 of these ids match a customer once written alike ('447700900123.0' "
        "here, '447700900123' in customers): one table's ids were read as floats"
    ) in str(err.value)
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, support=tmp_path / "support.csv")
    assert "('+447700900123' here, '447700900123' in customers)" in str(err.value)
    assert "`.str.lstrip('+')`" in str(err.value)


def test_ids_that_lost_their_leading_zeros_are_named_before_dropping():
    customers = pd.DataFrame(
        {"customer_id": ["00001", "00002", "00010"], "signup_time": "2024-01-01"}
    )
    usage = pd.DataFrame(
        {"customer_id": ["1", "2", "10", "7"], "time": "2024-02-01", "event": "x"}
    )
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, usage=usage)
    message = str(err.value)
    assert (
        "3 of these ids match a customer once leading zeros are removed (e.g. '1')"
        in message
    )
    # the cause comes before the advice to drop the rows
    assert message.index("leading zeros") < message.index("unknown_customers='drop'")
    # ids equal as numbers but without any leading zero: the same ids, joined
    plain = pd.DataFrame({"customer_id": ["260", "261"], "signup_time": "2024-01-01"})
    numbers = pd.DataFrame({"customer_id": [260], "time": "2024-02-01", "event": "x"})
    assert len(ck.Events(customers=plain, usage=numbers).frame("usage")) == 1
    # unrelated unknown ids get no such hint
    usage["customer_id"] = ["x", "y", "z", "w"]
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, usage=usage)
    assert "leading zeros" not in str(err.value)


def test_dropping_unknown_customers_warns_and_never_empties_a_table():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {"customer_id": ["a", "z", "z"], "time": "2024-02-01", "event": ["x", "x", "y"]}
    )
    with pytest.warns(DataQualityWarning, match=r"2 of 3 rows belong to customers"):
        events = ck.Events(customers=customers, usage=usage, unknown_customers="drop")
    assert len(events.frame("usage")) == 1
    assert events.report.set_index("reason").loc["unknown customer", "rows"] == 2
    # every row unknown, ids of another type: dropping would hide the mismatch
    numbers = usage.assign(customer_id=[1, 2, 3])
    with pytest.raises(SchemaError, match=r"none of its 3 rows .* would empty it"):
        ck.Events(customers=customers, usage=numbers, unknown_customers="drop")
    # every row unknown without a known cause (a one-row table): counted, warned
    stray = usage.iloc[[1]]
    with pytest.warns(DataQualityWarning, match=r"1 of 1 rows belong to customers"):
        ck.Events(customers=customers, usage=stray, unknown_customers="drop")


def test_customers_without_signups_are_named_with_the_other_tables():
    customers = pd.DataFrame({"customer_id": ["a"], "signup_at": ["2024-01-01"]})
    usage = pd.DataFrame({"customer_id": ["a"], "ts": ["2024-02-01"], "event": "x"})
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, usage=usage)
    message = str(err.value)
    assert message.startswith("2 tables do not have the columns churnkit needs:")
    assert "Perhaps: columns={'customers': {'signup_at': 'signup_time'}}" in message
    # subscriptions give the signups: no error about them
    subs = pd.DataFrame({"customer_id": ["a"], "start": ["2024-01-01"]})
    with pytest.raises(SchemaError) as err:
        ck.Events(customers=customers, usage=usage, subscriptions=subs)
    assert "signup_time" not in str(err.value)


def test_usage_rows_with_quantity_zero_are_counted_aloud():
    # a wide daily export melted to rows: 6 of 8 rows are idle days (0), each
    # an event and an active day unless dropped; 1 zero in 40 rows says nothing
    usage = _usage(ids=["a"] * 8, times=pd.date_range("2024-01-02", periods=8))
    usage["quantity"] = [3, 0, 0, 0, 0, 0, 0, 2]
    with pytest.warns(ck.DataQualityWarning, match=r"6 of 8 rows \(75%\) have "):
        ck.Events(customers=_customers(), usage=usage)
    usage = _usage(ids=["a"] * 40, times=pd.date_range("2024-01-02", periods=40))
    usage["quantity"] = [0] + [1] * 39
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(customers=_customers(), usage=usage)
    # a wide daily table, idle days kept as rows of zeros (a prepaid extract:
    # silent, its inactivity labels read 65 churners for 279)
    wide = _usage(ids=["a"] * 4, times=pd.date_range("2024-01-02", periods=4))
    wide["voice_minutes"], wide["data_mb"] = [5, 0, 0, 1], [10, 0, 0, 0]
    with pytest.warns(ck.DataQualityWarning, match=r"'data_mb'\]: 2 of 4 rows") as w:
        ck.Events(customers=_customers(), usage=wide)
    fix = str(w[0].message).split("`usage = ")[1].split("`")[0]
    assert len(eval(fix, {"usage": wide})) == 2  # the fix the warning gives
    wide["length"] = np.nan  # a missing value is no zero: nothing to say
    wide["voice_minutes"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(customers=_customers(), usage=wide.drop(columns="data_mb"))


def test_ticket_priorities_of_no_known_word_warn():
    # Freshdesk writes priority 1 to 4: the high-priority features read 0
    # for every account, silently
    support = pd.DataFrame(
        {"customer_id": ["a", "a", "b"], "priority": [4, 3, 1],
         "time": ["2024-02-01", "2024-02-10", "2024-02-11"]}
    )  # fmt: skip
    with pytest.warns(
        ck.DataQualityWarning, match=r"none of its values \('1', '3', '4'\)"
    ) as w:
        ck.Events(customers=_customers(), support=support)
    fix = str(w[0].message).split("df['priority'] = ")[1].split(" (check")[0]
    mapped = support.assign(priority=eval(fix, {"df": support}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        events = ck.Events(customers=_customers(), support=mapped)
    X = pd.DataFrame(
        {"customer_id": ["a", "b"], "cutoff_time": pd.Timestamp("2024-03-01")}
    )
    got = ck.SupportFeatures(events).fit_transform(X)
    assert got["support__high_priority_tickets_30d"].tolist() == [2.0, 0.0]


def test_billing_kinds_no_feature_reads_are_counted_aloud():
    # a gym's payments export: Status Paid/Failed/Chargeback; the chargebacks
    # fed no feature and no KPI, and the latest one left the month 'paid'
    billing = pd.DataFrame(
        {"customer_id": ["a", "a", "a", "b", "b"], "amount": 39.9,
         "time": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-01", "2024-03-01"],
         "kind": ["payment", "payment", "chargeback", "payment", "chargeback"]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match=r"'chargeback' \(2\)") as w:
        ck.Events(customers=_customers(), billing=billing)
    fix = str(w[0].message).split("df['kind'] = ")[1].split(", or read")[0]
    mapped = billing.assign(kind=eval(fix, {"df": billing}))
    assert mapped["kind"].tolist()[2] == "refund"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(customers=_customers(), billing=mapped)


def test_customer_numbers_written_with_a_decimal_comma_warn():
    # a gym's MonthlyFee '39,90' became a category, silently, where the same
    # text in billing.amount is an error with the fix
    customers = _customers().assign(
        fee=["39,90", "24,90", "44,90"][: len(_customers())]
    )
    with pytest.warns(ck.DataQualityWarning, match="column 'fee': numbers written"):
        ck.Events(customers=customers)
    with warnings.catch_warnings():  # words with a comma are no amount
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(customers=customers.assign(fee="Berlin, Mitte"))


def test_usage_rows_without_a_kind_are_counted():
    # Berka's empty k_symbol: rows with a missing or blank kind count in the
    # all-kinds features and as activity, in no per-kind feature
    usage = _usage(ids=["a"] * 4, times=pd.date_range("2024-01-02", periods=4))
    usage["event"] = ["x", None, " ", "y"]
    with pytest.warns(ck.DataQualityWarning, match=r"2 of 4 rows have no kind"):
        ck.Events(customers=_customers(), usage=usage)


def test_integer_ids_match_the_same_ids_read_as_text(tmp_path):
    # a parquet customers table keeps its int64 ids while a CSV file's ids are
    # read as text: 100105 and "100105" are one customer (was: every row
    # unknown, with an empty fix "written alike (...): .")
    customers = pd.DataFrame(
        {"customer_id": [100105, 100106], "signup_time": ["2024-01-01"] * 2}
    )
    customers.to_parquet(tmp_path / "customers.parquet")
    billing = pd.DataFrame(
        {"customer_id": [100105, 100106, 100106], "time": "2024-01-05",
         "kind": "payment", "amount": [1.0, 2.0, 3.0]}
    )  # fmt: skip
    billing.to_csv(tmp_path / "billing.csv", index=False)
    events = ck.Events(
        customers=tmp_path / "customers.parquet", billing=tmp_path / "billing.csv"
    )
    assert events.frame("billing").groupby("customer_id")["amount"].sum().to_dict() == {
        100105: 1.0,
        100106: 5.0,
    }
    # text customers, integer rows: alike too
    events = ck.Events(
        customers=customers.astype({"customer_id": str}), billing=billing
    )
    assert len(events.frame("billing")) == 3
    # "0105" is not 105: no merge, and the error says why
    with pytest.raises(SchemaError) as err:
        ck.Events(
            customers=customers.assign(customer_id=["0105", "0106"]),
            billing=billing.assign(customer_id=[105, 106, 106]),
        )
    assert "leading zeros" in str(err.value)
    assert "): ." not in str(err.value)


def test_subscriptions_with_integer_ids_join_a_customers_csv():
    # an energy retailer's subscriptions built in pandas (int account_ref)
    # beside accounts.csv (ids read as text): every row was 'unknown', and
    # unknown_customers='drop' left a store with no churn at all
    customers = pd.DataFrame({"customer_id": [101, 102], "signup_time": "2024-01-01"})
    subs = pd.DataFrame(
        {"customer_id": [101, 102], "start": ["2024-01-01", "2024-01-15"],
         "end": [None, "2024-03-20"]}
    )  # fmt: skip
    events = ck.Events(
        customers=customers.astype({"customer_id": str}),
        subscriptions=subs,
        observed_until="2024-06-01",
    )
    assert events.churns["customer_id"].tolist() == ["102"]
    # one id that is no integer stays unknown, and only its row is dropped
    usage = pd.DataFrame(
        {"customer_id": ["101", "102", "x"], "time": "2024-02-01", "event": "read"}
    )
    with pytest.warns(ck.ChurnkitWarning, match="1 of 3 rows"):
        events = ck.Events(customers=customers, usage=usage, unknown_customers="drop")
    assert len(events.frame("usage")) == 2


def test_amounts_in_cents_mapped_to_money_warn():
    # Recurly writes amount_in_cents: mapped to `amount`, a 9.99 plan read 999
    billing = pd.DataFrame(
        {"customer_id": ["a", "b"], "time": "2024-02-01", "kind": "payment",
         "amount_in_cents": [999, 1999]}
    )  # fmt: skip
    with pytest.warns(ck.DataQualityWarning, match="'amount_in_cents' is mapped"):
        ck.Events(
            customers=_customers(),
            billing=billing,
            columns={"billing": {"amount_in_cents": "amount"}},
        )
    with warnings.catch_warnings():  # a word that only holds "cent": silent
        warnings.simplefilter("error", ck.DataQualityWarning)
        ck.Events(
            customers=_customers(),
            billing=billing.rename(columns={"amount_in_cents": "recent_amount"}),
            columns={"billing": {"recent_amount": "amount"}},
        )

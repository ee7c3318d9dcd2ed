"""Input contracts at scoring time (issue 16, deliverable 1).

A fitted builder remembers the tables, columns, kinds and vocabularies it read
and checks them when it transforms a store attached later: a missing table or
column is an error naming it (or, on purpose, missing features with a warning),
unseen kinds and categories are counted in one warning per call, and standard
kinds (``payment``, ``voluntary``, ...) match case-insensitively.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import (
    ChurnkitTypeError,
    ChurnkitWarning,
    DataQualityWarning,
    SchemaError,
)

T = pd.Timestamp("2024-04-01")


def _customers(plans=("pro", "basic")):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_time": pd.to_datetime(["2024-01-01", "2024-01-15"]),
            "plan": list(plans),
        }
    )


def _usage(kinds=("login", "login", "export")):
    times = pd.to_datetime(["2024-03-20", "2024-03-25", "2024-03-28"])
    return pd.DataFrame(
        {"customer_id": ["a", "a", "b"], "time": times, "event": list(kinds)}
    )


def _billing(kind="payment"):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "time": pd.to_datetime(["2024-02-01", "2024-02-02", "2024-03-01"]),
            "kind": [kind, kind, "invoice"],
            "amount": [10.0, 20.0, 10.0],
        }
    )


def _events(**tables):
    tables.setdefault("customers", _customers())
    # observed through the cutoff T: the rows of X describe active customers
    tables.setdefault("observed_until", T)
    return ck.Events(**tables)


X = pd.DataFrame({"customer_id": ["a", "b"], "cutoff_time": [T, T]})


def _fitted(**kw):
    events = _events(usage=_usage(), billing=_billing())
    features = ck.ChurnFeatures(events, windows=("30D",), **kw)
    features.fit(X)
    return features


def _fit_usage():
    events = _events(usage=_usage())
    return ck.UsageFeatures(events, windows=("30D",), min_frequency=1).fit(X)


def test_contract_is_recorded_at_fit():
    features = _fitted()
    billing = dict(features.builders_)["billing"].input_contract_
    assert billing["tables"]["billing"]["columns"]["kind"] == "category"
    assert billing["tables"]["billing"]["columns"]["amount"] == "number"
    assert billing["tables"]["billing"]["vocabularies"]["kind"] == (
        "invoice",
        "payment",
    )
    assert billing["time_range"] == ("2024-02-01 00:00:00", "2024-04-01 00:00:00")
    profile = dict(features.builders_)["profile"].input_contract_
    assert profile["customers"] == {"plan": "category"}
    assert profile["customer_vocabularies"] == {"plan": ("basic", "pro")}


def test_missing_table_is_an_error_naming_it_and_the_option():
    features = _fitted()
    ck.set_events(features, _events(usage=_usage()))
    with pytest.raises(SchemaError, match=r"fitted with the 'billing' table") as info:
        features.transform(X)
    assert "missing_tables=('billing',)" in str(info.value)


def test_missing_table_in_a_pipeline_is_an_error():
    data = ck.datasets.make_saas_events(n_customers=120, random_state=0)
    labels = ck.label_churn(
        data.events,
        ck.make_cutoffs(data.events, start="2024-03-01", end="2024-06-01", freq="MS"),
        horizon="30D",
    )
    X_train = labels[["customer_id", "cutoff_time"]]
    model = ck.make_churn_pipeline(data.events, model="logistic")
    model.fit(X_train, labels["churned"])
    no_billing = ck.Events(
        customers=data.customers,
        usage=data.usage,
        support=data.support,
        churn=data.churn,
    )
    ck.set_events(model, no_billing)
    with pytest.raises(SchemaError, match="'billing' table"):
        model.predict_proba(X_train)
    ck.set_events(model, no_billing, missing_tables=("billing",))
    with pytest.warns(ChurnkitWarning, match="billing__"):
        proba = model.predict_proba(X_train)
    assert proba.shape == (len(X_train), 2)


def test_scoring_without_a_table_on_purpose_gives_nan_and_names_features():
    features = _fitted()
    ck.set_events(features, _events(usage=_usage()), missing_tables=("billing",))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = features.transform(X)
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ChurnkitWarning)
    ]
    assert len(messages) == 1  # once per call
    assert "scoring without the table(s) ['billing']" in messages[0]
    assert "billing__payments_30d" in messages[0]
    billing = [c for c in out.columns if c.startswith("billing__")]
    assert billing and out[billing].isna().all().all()
    assert list(out.columns) == list(features.get_feature_names_out())
    # usage features are computed as usual
    assert out["usage__events_30d"].tolist() == [2.0, 1.0]


def test_missing_tables_option_is_checked():
    features = _fitted()
    with pytest.raises(ChurnkitTypeError, match=r"Did you mean \('billing',\)"):
        ck.set_events(features, features.events, missing_tables="billing")
    with pytest.raises(SchemaError, match="only event tables"):
        ck.set_events(features, features.events, missing_tables=("customers",))


def test_missing_column_is_an_error_naming_table_and_column():
    features = _fitted()
    billing = _billing().drop(columns="amount")
    ck.set_events(features, _events(usage=_usage(), billing=billing))
    with pytest.raises(SchemaError, match=r"'billing'.* column 'amount'"):
        features.transform(X)


def test_changed_column_kind_is_an_error():
    billing = _billing()
    billing["seats_added"] = [1.0, 2.0, 3.0]
    spec = ck.FeatureSpec("custom__seats_added", "billing", "sum", column="seats_added")
    builder = ck.CustomFeatures(_events(billing=billing), specs=(spec,)).fit(X)
    assert builder.transform(X)["custom__seats_added"].tolist() == [4.0, 2.0]
    billing["seats_added"] = ["one", "two", "three"]
    ck.set_events(builder, _events(billing=billing))
    with pytest.raises(SchemaError, match=r"'seats_added' read as numbers"):
        builder.transform(X)


def test_missing_customer_attribute_is_an_error():
    features = _fitted()
    customers = _customers().drop(columns="plan")
    ck.set_events(
        features, _events(customers=customers, usage=_usage(), billing=_billing())
    )
    with pytest.raises(
        SchemaError, match="customers has no column 'plan'|customer attribute 'plan'"
    ):
        features.transform(X)


def test_unseen_kinds_are_counted_once_per_call_not_zeroed():
    builder = _fit_usage()
    assert "usage__login_count_30d" in builder.get_feature_names_out()
    upper = _usage(kinds=("LOGIN", "login", "вход"))
    ck.set_events(builder, _events(usage=upper))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = builder.transform(X)
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ChurnkitWarning)
    ]
    assert len(messages) == 1
    assert "usage.event: 2 value(s) not seen in training, 2 events" in messages[0]
    assert "'LOGIN' (1)" in messages[0] and "'вход' (1)" in messages[0]
    # totals still count them; the per-kind count counts exact matches only
    assert out["usage__events_30d"].tolist() == [2.0, 1.0]
    assert out["usage__login_count_30d"].tolist() == [1.0, 0.0]


def test_unseen_kinds_after_the_cutoff_are_not_reported():
    builder = _fit_usage()
    later = pd.concat(
        [
            _usage(),
            pd.DataFrame(
                {
                    "customer_id": ["a"],
                    "time": [T + pd.Timedelta("1D")],
                    "event": ["new"],
                }
            ),
        ]
    )
    ck.set_events(builder, _events(usage=later))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        builder.transform(X)


def test_union_reports_each_message_once():
    features = _fitted()
    usage = _usage(kinds=("LOGIN", "login", "export"))
    ck.set_events(
        features,
        _events(
            customers=_customers(("pro", "platinum")), usage=usage, billing=_billing()
        ),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features.transform(X)
        features.transform(X)
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ChurnkitWarning)
    ]
    assert len(messages) == 4  # two reports, once per call each
    assert sum("'LOGIN' (1)" in m for m in messages) == 2
    plan = [m for m in messages if m.startswith("customers.plan")]
    assert len(plan) == 2 and "'platinum' (1)" in plan[0]
    assert "profile__plan is missing (NaN)" in plan[0]


def test_standard_kinds_match_case_insensitively_with_a_warning():
    with pytest.warns(
        ChurnkitWarning, match=r"billing.kind: read 'Payment' \(2 rows\)"
    ):
        upper = _events(billing=_billing(kind="Payment"))
    lower = _events(billing=_billing())
    # counted as altered input, so the report's Data section lists them
    assert upper.report.to_dict("records") == [
        {
            "table": "billing",
            "reason": "kind in another case or with spaces",
            "rows": 2,
            "action": "normalised",
        }
    ]
    assert len(lower.report) == 0
    assert upper._engine.table("billing").categories["kind"] == ("invoice", "payment")
    X_ = X.copy()
    a = ck.BillingFeatures(upper, windows=("90D",)).fit_transform(X_)
    b = ck.BillingFeatures(lower, windows=("90D",)).fit_transform(X_)
    pd.testing.assert_frame_equal(a, b)
    assert a["billing__payments_90d"].tolist() == [1.0, 1.0]


def test_churn_kinds_match_case_insensitively():
    churn = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "time": pd.to_datetime(["2024-05-01", "2024-05-02"]),
            "kind": ["VOLUNTARY", " Involuntary "],
        }
    )
    with pytest.warns(ChurnkitWarning, match=r"churn.kind: read"):
        events = _events(usage=_usage(), churn=churn)
    assert events.churn_kinds == ("voluntary", "involuntary")
    code, _ = events._engine.churn_arrays("voluntary")
    assert len(code) == 1


def test_other_kinds_keep_case_variants_apart():
    with pytest.warns(
        DataQualityWarning,
        match=r"usage.event: 1 group\(s\) of values differ only in case or "
        r"surrounding spaces: 'LOGIN' \(1 rows\), 'Login' \(1 rows\), 'login' "
        r"\(1 rows\)\. They are kept apart .*df\['event'\] = df\['event'\]"
        r"\.str\.strip\(\)\.str\.lower\(\)",
    ):
        events = _events(usage=_usage(kinds=("Login", "login", "LOGIN")))
    assert events._engine.table("usage").categories["event"] == (
        "LOGIN",
        "Login",
        "login",
    )


def test_kinds_differing_in_surrounding_spaces_are_named_with_their_rows():
    usage = _usage(kinds=("login", "login ", "export"))
    with pytest.warns(DataQualityWarning, match=r"'login' \(1 rows\), 'login ' \("):
        events = _events(usage=usage)
    assert events._engine.table("usage").categories["event"] == (
        "export",
        "login",
        "login ",
    )
    with warnings.catch_warnings():  # distinct kinds: nothing to say
        warnings.simplefilter("error", DataQualityWarning)
        _events(usage=_usage())


def test_unfitted_contract_free_builders_still_transform():
    """A builder fitted by an older churnkit (no input_contract_) still scores."""
    builder = _fit_usage()
    del builder.input_contract_
    out = builder.transform(X)
    assert np.isfinite(out["usage__events_30d"]).all()


# ------------------------------------------------- crash list (deliverable 4)


def _ids_usage(ids):
    return pd.DataFrame(
        {
            "customer_id": ids,
            "time": pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-03"]),
            "event": ["x", "y", "x"],
        }
    )


def test_an_empty_text_id_is_a_missing_id_in_every_table():
    # Sparkify's logged-out rows have userId "": a frame kept it as a customer
    # '' (scored, listed) where the same data read from CSV was a null id
    customers = pd.DataFrame({"customer_id": ["10", "11"], "signup_time": "2024-01-01"})
    usage = _ids_usage(["10", "", "11"])
    with pytest.raises(SchemaError, match=r"'usage'.*1 row.*null or empty text"):
        ck.Events(customers=customers, usage=usage)
    churn = pd.DataFrame({"customer_id": ["", "10"], "time": "2024-02-01"})
    with pytest.warns(ck.DataQualityWarning, match="null or empty text"):
        events = ck.Events(customers=customers, usage=usage, churn=churn, errors="drop")
    assert events.report[["table", "reason", "rows"]].values.tolist() == [
        ["usage", "null customer_id", 1],
        ["churn", "null customer_id", 1],
    ]
    assert events.customers["customer_id"].tolist() == ["10", "11"]
    # a customers table grouped from such a log names the row and the fix
    grouped = usage.groupby("customer_id", as_index=False)["time"].min()
    grouped = grouped.rename(columns={"time": "signup_time"})
    with pytest.raises(SchemaError, match=r"(?s)'customers'.*1 null id.*!= ''"):
        ck.Events(customers=grouped, usage=usage)


def test_nullable_int_ids_with_missing_values():
    customers = pd.DataFrame(
        {
            "customer_id": pd.array([1, 2, 3], dtype="Int64"),
            "signup_time": pd.to_datetime(["2024-01-01"] * 3),
        }
    )
    usage = _ids_usage(pd.array([1, None, 2], dtype="Int64"))
    with pytest.raises(SchemaError, match=r"Table 'usage'.*null"):
        ck.Events(customers=customers, usage=usage)
    events = ck.Events(customers=customers, usage=usage, errors="drop")
    assert len(events.frame("usage")) == 2
    assert events.report["reason"].tolist() == ["null customer_id"]
    bad = customers.assign(customer_id=pd.array([1, 2, None], dtype="Int64"))
    with pytest.raises(SchemaError, match=r"'customers'.*null id"):
        ck.Events(customers=bad, usage=usage.iloc[[0, 2]])


def test_pyarrow_backed_attribute_and_timestamps():
    pytest.importorskip("pyarrow")
    customers = _customers().assign(
        seats=pd.array([3, 1], dtype="int64[pyarrow]"),
        plan=pd.array(["pro", "basic"], dtype="string[pyarrow]"),
    )
    usage = _usage()
    usage["time"] = (
        usage["time"].dt.tz_localize("UTC").astype("timestamp[ns, tz=UTC][pyarrow]")
    )
    events = ck.Events(customers=customers, usage=usage)
    plain = ck.Events(customers=_customers().assign(seats=[3, 1]), usage=_usage())
    assert events.frame("usage").equals(plain.frame("usage"))
    a = ck.UsageFeatures(events, windows=("30D",)).fit_transform(X)
    b = ck.UsageFeatures(plain, windows=("30D",)).fit_transform(X)
    pd.testing.assert_frame_equal(a, b)
    assert a["usage__events_per_seat_30d"].tolist() == [2 / 3, 1.0]


def test_pyarrow_table_and_nullable_attribute_with_missing_values():
    pa = pytest.importorskip("pyarrow")
    customers = _customers().assign(seats=pd.array([3, None], dtype="Int64"))
    events = ck.Events(
        customers=pa.Table.from_pandas(customers, preserve_index=False),
        usage=pa.Table.from_pandas(_usage(), preserve_index=False),
    )
    assert events.customers["seats"].dtype == np.float64
    assert np.isnan(events.customers["seats"].iloc[1])
    out = ck.ProfileFeatures(events, cohort=False).fit_transform(X)
    assert out["profile__seats"].tolist()[0] == 3.0


def test_single_distinct_text_timestamp_in_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    usage = _usage().assign(time="2024-03-20")
    usage.to_parquet(tmp_path / "usage.parquet")
    events = ck.Events(customers=_customers(), usage=tmp_path / "usage.parquet")
    assert (events.frame("usage")["time"] == pd.Timestamp("2024-03-20")).all()


def test_mixed_date_formats_raise_like_pandas():
    # pandas raises on these; read day-first they are one format (13/02 says
    # so), and churnkit reads them so
    usage = _usage().assign(time=["02/01/2024", "13/02/2024", "25/02/2024"])
    with pytest.raises(ValueError):
        pd.to_datetime(usage["time"])
    events = ck.Events(customers=_customers(), usage=usage)
    assert events.frame("usage")["time"].min() == pd.Timestamp("2024-01-02")
    # day-first and month-first in one column: an error
    usage = _usage().assign(time=["02/01/2024", "02/13/2024", "25/02/2024"])
    with pytest.raises(SchemaError, match=r"more than one format.*'25/02/2024'"):
        ck.Events(customers=_customers(), usage=usage)


def test_dates_that_read_both_day_and_month_first_warn():
    # every first and second field <= 12: 01/08/2018 is January 8th or 1 August
    usage = _usage().assign(time=["02/01/2024", "03/02/2024", "05/02/2024"])
    with pytest.warns(ChurnkitWarning, match=r"'time': every date reads both"):
        events = ck.Events(customers=_customers(), usage=usage)
    assert events.frame("usage")["time"].min() == pd.Timestamp("2024-02-01")
    # a second field above 12 says month-first; ISO dates never are ambiguous
    for times in (
        ["02/13/2024", "03/02/2024", "05/02/2024"],
        ["2024-02-01", "2024-02-02", "2024-02-03"],
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ChurnkitWarning)
            ck.Events(customers=_customers(), usage=_usage().assign(time=times))


def test_iso_dates_and_datetimes_mix_fine():
    usage = _usage().assign(time=["2024-03-20", "2024-03-25 10:30:00", "2024-03-28"])
    events = ck.Events(customers=_customers(), usage=usage)
    assert sorted(events.frame("usage")["time"].dt.strftime("%d %H").tolist()) == [
        "20 00",
        "25 10",
        "28 00",
    ]


@pytest.mark.parametrize(
    "zone", ["Z", "+01:00", " +01:00", "+0100", "+01", " UTC", "UTC", " GMT+1"]
)
def test_every_time_zone_form_is_detected(zone):
    mixed = _usage().assign(
        time=["2024-03-20 10:00", f"2024-03-25 10:00{zone}", "2024-03-28 10:00"]
    )
    with pytest.raises(SchemaError, match="mixes timezone-aware and naive"):
        ck.Events(customers=_customers(), usage=mixed)


@pytest.mark.parametrize(
    "zone, hour", [("+01:00", 9), ("+0100", 9), ("+01", 9), (" UTC", 10), ("Z", 10)]
)
def test_time_zone_forms_convert_to_utc(zone, hour):
    usage = _usage().assign(time=[f"2024-03-2{i} 10:00{zone}" for i in (0, 5, 8)])
    events = ck.Events(customers=_customers(), usage=usage)
    assert (events.frame("usage")["time"].dt.hour == hour).all()


def test_dates_beyond_pandas_range_in_observed_until_are_an_error():
    with pytest.raises(SchemaError, match=r"`observed_until` is '9999-12-31', outs"):
        ck.Events(customers=_customers(), usage=_usage(), observed_until="9999-12-31")
    events = ck.Events(customers=_customers(), usage=_usage())
    with pytest.raises(SchemaError, match=r"1677-09-22 to 2262-04-11"):
        events.with_observed_until("9999-12-31")


def test_cutoff_beyond_pandas_range_is_never_a_label():
    events = ck.Events(customers=_customers(), usage=_usage())
    far = pd.DataFrame({"customer_id": ["a"], "cutoff_time": ["9999-12-31"]})
    try:
        labels = ck.label_churn(events, far, horizon="30D")
    except (SchemaError, ValueError) as exc:
        assert "9999" in str(exc) or "range" in str(exc)
    else:
        assert len(labels) == 0


def test_csv_ids_are_read_as_text(tmp_path):
    customers = _customers().assign(customer_id=["00123", "0456"])
    customers.to_csv(tmp_path / "customers.csv", index=False)
    usage = _usage().assign(customer_id=["00123", "00123", "0456"])
    usage.rename(columns={"customer_id": "user"}).to_csv(
        tmp_path / "usage.csv", index=False
    )
    events = ck.Events(
        customers=tmp_path / "customers.csv",
        usage=tmp_path / "usage.csv",
        columns={"usage": {"user": "customer_id"}},
    )
    assert events.customers["customer_id"].tolist() == ["00123", "0456"]
    assert events.frame("usage")["customer_id"].tolist() == ["00123", "00123", "0456"]


def test_csv_codes_with_leading_zeros_stay_text(tmp_path):
    # Olist's zip code prefixes: "01046" read as 1046, a numeric feature
    # ("zip code prefix 88,066 (typical: 20,047)"), silently
    customers = _customers().assign(zip=["01046", "20040"], seats=[3, 5])
    customers.to_csv(tmp_path / "customers.csv", index=False)
    events = ck.Events(customers=tmp_path / "customers.csv")
    assert events.customers["zip"].tolist() == ["01046", "20040"]
    assert events.customers["seats"].tolist() == [3, 5]  # numbers stay numbers


def test_python_and_numpy_integer_ids_are_one_type():
    ids = pd.Series([1, np.int64(2)], dtype=object)
    customers = _customers().assign(customer_id=ids)
    usage = _usage().assign(customer_id=pd.Series([1, 1, np.int64(2)], dtype=object))
    events = ck.Events(customers=customers, usage=usage)
    assert events.n_customers == 2
    mixed = customers.assign(customer_id=pd.Series([1, "2"], dtype=object))
    with pytest.raises(SchemaError, match=r"mixes types \['int', 'str'\]"):
        ck.Events(customers=mixed)


def test_input_column_order_never_changes_a_model():
    data = ck.datasets.make_saas_events(n_customers=150, random_state=3)
    cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2024-07-01")
    labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    Xl, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    rng = np.random.default_rng(0)

    def shuffled(df):
        return df[list(rng.permutation(df.columns))]

    tables = {k: data[k] for k in ("customers", "usage", "billing", "support", "churn")}
    probas = []
    for permute in (False, True, True):
        given = {k: shuffled(v) if permute else v for k, v in tables.items()}
        events = ck.Events(**given)
        model = ck.make_churn_pipeline(events, model="xgboost", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChurnkitWarning)
            model.fit(Xl, y)
        probas.append(model.predict_proba(Xl)[:, 1])
    np.testing.assert_array_equal(probas[0], probas[1])
    np.testing.assert_array_equal(probas[0], probas[2])


# ------------------------------------------------ other input kinds, extra columns
def _assert_same_events(a, b):
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert list(a._engine.tables) == list(b._engine.tables)
    for name in a._engine.tables:
        pd.testing.assert_frame_equal(a.frame(name), b.frame(name))
    pd.testing.assert_frame_equal(a.spells, b.spells)
    assert a.observed_until == b.observed_until
    pd.testing.assert_frame_equal(a.report, b.report)


def _three_tables():
    churn = pd.DataFrame(
        {"customer_id": ["b"], "time": ["2024-03-30"], "kind": ["voluntary"]}
    )
    return {
        "customers": _customers(),
        "usage": _usage(),
        "billing": _billing(),
        "churn": churn,
    }


def test_pyarrow_tables_give_the_same_store_as_pandas():
    pa = pytest.importorskip("pyarrow")
    tables = _three_tables()
    arrow = {
        k: pa.Table.from_pandas(v, preserve_index=False) for k, v in tables.items()
    }
    _assert_same_events(ck.Events(**arrow), ck.Events(**tables))


def test_polars_frames_give_the_same_store_as_pandas():
    pl = pytest.importorskip("polars")
    tables = _three_tables()
    polars = {k: pl.from_pandas(v) for k, v in tables.items()}
    assert all(type(v).__module__.startswith("polars") for v in polars.values())
    _assert_same_events(ck.Events(**polars), ck.Events(**tables))


def test_unique_per_row_text_column_is_stored_and_changes_nothing_else():
    # an id-like column (one distinct value per row) is a category like any
    # other: codes in sorted order, every other column of the store unchanged
    plain = _events(usage=_usage(), billing=_billing())
    usage = _usage().assign(note=["r2", "r10", "r1"])
    events = _events(usage=usage, billing=_billing())
    frame = events.frame("usage")
    assert frame["note"].tolist() == ["r2", "r10", "r1"]  # rows in store order
    assert list(frame["note"].cat.categories) == ["r1", "r10", "r2"]  # sorted
    pd.testing.assert_frame_equal(frame.drop(columns="note"), plain.frame("usage"))
    pd.testing.assert_frame_equal(events.frame("billing"), plain.frame("billing"))
    pd.testing.assert_frame_equal(events.report, plain.report)


def test_category_codes_match_python_sorted_order():
    from churnkit.events._categories import category_codes

    values = ["b", "é", "B", "a b", "a", "ё", "中", "😀", "Z", "a", None, "b"]
    for series in (
        pd.Series(values, dtype=object),
        pd.Series(values, dtype="str"),
        pd.Series(values, dtype="category"),
    ):
        codes, cats = category_codes(series, ())
        distinct = sorted({v for v in values if v is not None})
        assert cats == tuple(distinct)
        expected = [distinct.index(v) if v is not None else -1 for v in values]
        assert codes.tolist() == expected


def test_category_codes_known_first_and_standard_case_variants():
    from churnkit.events._categories import category_codes

    series = pd.Series(["refund", "Payment", "zeta", "invoice", " PAYMENT", "alpha"])
    with pytest.warns(ChurnkitWarning, match=r"'Payment' \(1 rows\) as 'payment'"):
        codes, cats = category_codes(
            series, ("invoice", "payment", "refund"), where="billing.kind"
        )
    assert cats == ("invoice", "payment", "refund", "alpha", "zeta")
    assert codes.tolist() == [2, 1, 4, 0, 1, 3]


def test_category_codes_merge_values_written_alike():
    from churnkit.events._categories import category_codes

    codes, cats = category_codes(pd.Series([1, "1", "x", 2], dtype=object), ())
    assert cats == ("1", "2", "x")
    assert codes.tolist() == [0, 0, 2, 1]


@pytest.mark.parametrize("source", ["frame", "csv", "parquet", "arrow"])
def test_columns_mapped_to_none_are_not_read(source, tmp_path):
    pa = pytest.importorskip("pyarrow")
    usage = _usage().assign(event_id=["e1", "e2", "e3"], ts=_usage()["time"])
    usage = usage.drop(columns="time")
    given = {
        "frame": usage,
        "arrow": pa.Table.from_pandas(usage, preserve_index=False),
    }
    if source == "csv":
        usage.to_csv(tmp_path / "u.csv", index=False)
        given["csv"] = tmp_path / "u.csv"
    if source == "parquet":
        usage.to_parquet(tmp_path / "u.parquet", index=False)
        given["parquet"] = tmp_path / "u.parquet"
    plain = _events(usage=_usage())
    events = _events(
        usage=given[source], columns={"usage": {"event_id": None, "ts": "time"}}
    )
    pd.testing.assert_frame_equal(events.frame("usage"), plain.frame("usage"))
    report = events.report
    assert report.to_dict("records") == [
        {
            "table": "usage",
            "reason": "columns ['event_id'] not read",
            "rows": 3,
            "action": "ignored",
        }
    ]


@pytest.mark.parametrize("source", ["frame", "csv", "parquet"])
def test_column_mapped_to_none_must_exist(source, tmp_path):
    given = {"frame": _usage()}
    _usage().to_csv(tmp_path / "u.csv", index=False)
    _usage().to_parquet(tmp_path / "u.parquet", index=False)
    given["csv"], given["parquet"] = tmp_path / "u.csv", tmp_path / "u.parquet"
    with pytest.raises(SchemaError, match=r"maps \['evnt_id'\] to None.*Columns pres"):
        _events(usage=given[source], columns={"usage": {"evnt_id": None}})


def test_polars_column_mapped_to_none_is_not_read():
    pl = pytest.importorskip("polars")
    usage = pl.from_pandas(_usage().assign(event_id=["e1", "e2", "e3"]))
    events = _events(usage=usage, columns={"usage": {"event_id": None}})
    assert "event_id" not in events.frame("usage")
    with pytest.raises(SchemaError, match=r"maps \['nope'\] to None"):
        _events(usage=usage, columns={"usage": {"nope": None}})


def test_evidently_day_first_text_is_read_day_first():
    # a prepaid extract's DD/MM/YYYY activation dates: pandas inferred
    # month-first from '05/04/2023' and called '31/08/2023' another format
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"],
         "signup_time": ["05/04/2023", "12/01/2023", "31/08/2023"]}
    )  # fmt: skip
    events = ck.Events(customers=customers)
    assert events.customers["signup_time"].dt.strftime("%m-%d").tolist() == [
        "04-05",
        "01-12",
        "08-31",
    ]


def test_the_day_first_fix_fits_the_values_it_names():
    # both orders in one column: an error, with the day-first format to use
    times = ["01/02/2024 00:05", "02/13/2024 00:02", "20/02/2024 10:30"]
    usage = _usage().assign(time=times)
    with pytest.raises(SchemaError, match="more than one format") as err:
        ck.Events(customers=_customers(), usage=usage)
    fmt = re.search(r"format='([^']+)'\)`", str(err.value)).group(1)
    assert fmt == "%d/%m/%Y %H:%M"


def test_billing_derived_from_subscriptions_names_their_mrr_when_missing():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "start": ["2024-01-05", "2024-01-10", "2024-02-01"],
            "end": [None, "2024-03-10", None],
            "mrr": [10.0, 20.0, 30.0],
        }
    )
    rows = pd.DataFrame({"customer_id": ["a", "c"], "cutoff_time": ["2024-04-01"] * 2})
    features = ck.ChurnFeatures(ck.Events(subscriptions=subs)).fit(rows)
    ck.set_events(features, ck.Events(subscriptions=subs.drop(columns="mrr")))
    with pytest.raises(SchemaError, match=r"fitted with the 'billing' table") as info:
        features.transform(rows)
    assert "the training billing came from the subscriptions' `mrr`" in str(info.value)
    assert "a failed export" not in str(info.value)

"""Non-contractual signals of the usage builder (frequency, age, gaps, overdue,
monetary) and the kernel's ``gap_mean`` / ``gap_cv``: hand-computed values,
events at the cutoff instant, and agreement with a naive pandas recomputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnkit as ck

CUTOFF = pd.Timestamp("2024-01-11")
RFM = [
    "usage__active_days_total",
    "usage__days_since_first",
    "usage__active_span_days",
    "usage__gap_mean_days",
    "usage__gap_cv",
    "usage__overdue_ratio",
    "usage__amount_mean",
]


def _store(rows, ids=("none", "one", "many", "two")):
    customers = pd.DataFrame(
        {
            "customer_id": list(ids),
            "signup_time": pd.Timestamp("2023-06-01"),
        }
    )
    usage = pd.DataFrame(rows, columns=["customer_id", "time", "event", "amount"])
    usage["time"] = pd.to_datetime(usage["time"], format="ISO8601")
    return ck.Events(customers=customers, usage=usage, observed_until="2024-03-01")


ROWS = [
    # "none": no event before the cutoff (its only event is after it)
    ("none", "2024-01-20", "buy", 5.0),
    # "one": a single event
    ("one", "2024-01-05", "buy", 7.0),
    # "many": active days 01-01 (twice), 01-03, 01-06, 01-10; one AT the cutoff
    ("many", "2024-01-01 10:00", "buy", 10.0),
    ("many", "2024-01-01 15:00", "buy", 20.0),
    ("many", "2024-01-03 08:00", "buy", 30.0),
    ("many", "2024-01-06 12:00", "buy", 40.0),
    ("many", "2024-01-10 06:00", "buy", 50.0),
    ("many", "2024-01-11 00:00", "buy", 1000.0),  # at the cutoff: must not count
    # "two": active days 01-02 and 01-07
    ("two", "2024-01-02", "buy", 1.0),
    ("two", "2024-01-07", "buy", 3.0),
]


def _features(X, events=None, **kw):
    events = events or _store(ROWS)
    builder = ck.UsageFeatures(events, windows=("7D",), per_kind=False, **kw)
    return builder.fit(X).transform(X)


def test_rfm_signals_hand_computed():
    X = pd.DataFrame(
        {"customer_id": ["many", "two", "one", "none"], "cutoff_time": CUTOFF}
    )
    F = _features(X)[RFM]
    # many: active days 1, 3, 6, 10 (Jan) -> gaps 2, 3, 4: mean 3, population
    # std sqrt(2/3), cv sqrt(2/3) / 3; first event 9 days 14 h before the
    # cutoff, last 18 h before it; the 1000 at the cutoff instant is left out
    many = F.loc[("many", CUTOFF)]
    assert many["usage__active_days_total"] == 4
    assert many["usage__days_since_first"] == pytest.approx(9 + 14 / 24)
    assert many["usage__active_span_days"] == pytest.approx(9 + 14 / 24 - 0.75)
    assert many["usage__gap_mean_days"] == pytest.approx(3.0)
    assert many["usage__gap_cv"] == pytest.approx(np.sqrt(2 / 3) / 3)
    assert many["usage__overdue_ratio"] == pytest.approx(0.75 / 3)
    assert many["usage__amount_mean"] == pytest.approx(30.0)  # (10+..+50) / 5
    # two: one gap of 5 days; a CV needs two gaps
    two = F.loc[("two", CUTOFF)]
    assert two["usage__active_days_total"] == 2
    assert two["usage__gap_mean_days"] == 5.0
    assert np.isnan(two["usage__gap_cv"])
    assert two["usage__overdue_ratio"] == pytest.approx(4 / 5)  # 4 days silent
    assert two["usage__amount_mean"] == 2.0
    # one event: age and span known, no gap
    one = F.loc[("one", CUTOFF)]
    assert one["usage__active_days_total"] == 1
    assert one["usage__days_since_first"] == 6.0
    assert one["usage__active_span_days"] == 0.0
    assert np.isnan(one[["usage__gap_mean_days", "usage__gap_cv"]]).all()
    assert np.isnan(one["usage__overdue_ratio"])
    assert one["usage__amount_mean"] == 7.0
    # no event before the cutoff: frequency 0, everything else unknown
    none = F.loc[("none", CUTOFF)]
    assert none["usage__active_days_total"] == 0
    assert none.drop("usage__active_days_total").isna().all()


def test_event_at_cutoff_counts_only_after_it():
    """The event at 2024-01-11 00:00 counts for a cutoff one second later."""
    later = CUTOFF + pd.Timedelta("1s")
    X = pd.DataFrame({"customer_id": ["many", "many"], "cutoff_time": [CUTOFF, later]})
    F = _features(X)
    assert F["usage__active_days_total"].tolist() == [4, 5]
    # gaps 2, 3, 4, 1: mean 2.5
    assert F["usage__gap_mean_days"].tolist() == [3.0, 2.5]
    assert F["usage__amount_mean"].tolist() == [30.0, 1150.0 / 6]


def test_gap_aggregations_over_a_window_starting_mid_day():
    """gap_mean / gap_cv over a trailing window, cutoff at noon.

    Window 7D before 2024-01-11 12:00 is [01-04 12:00, 01-11 12:00): active days
    6, 10, 11 -> gaps 4, 1: mean 2.5, std 1.5, cv 0.6.
    """
    specs = [
        ck.FeatureSpec("gap", "usage", "gap_mean", window="7D"),
        ck.FeatureSpec("cv", "usage", "gap_cv", window="7D"),
        ck.FeatureSpec("gap5", "usage", "gap_mean", window="5D"),
    ]
    X = pd.DataFrame(
        {"customer_id": ["many"], "cutoff_time": [CUTOFF + pd.Timedelta("12h")]}
    )
    out = ck.compute_features(_store(ROWS), X, specs)
    assert out["gap"].iloc[0] == 2.5
    assert out["cv"].iloc[0] == pytest.approx(0.6)
    # 5D: [01-06 12:00, 01-11 12:00) holds 01-06 12:00, 01-10, 01-11 -> gaps 4, 1
    assert out["gap5"].iloc[0] == 2.5


def test_amount_mean_only_with_an_amount_column():
    events = _store(ROWS)
    X = pd.DataFrame({"customer_id": ["many"], "cutoff_time": [CUTOFF]})
    with_amount = ck.UsageFeatures(events, windows=("7D",)).fit(X)
    assert "usage__amount_mean" in with_amount.get_feature_names_out()
    rows = [r[:3] for r in ROWS]
    usage = pd.DataFrame(rows, columns=["customer_id", "time", "event"])
    usage["time"] = pd.to_datetime(usage["time"], format="ISO8601")
    plain = ck.Events(
        customers=events.customers[["customer_id", "signup_time"]], usage=usage
    )
    names = ck.UsageFeatures(plain, windows=("7D",)).fit(X).get_feature_names_out()
    assert "usage__amount_mean" not in names
    assert {"usage__gap_mean_days", "usage__overdue_ratio"} <= set(names)


def test_descriptions_of_the_new_signals():
    X = pd.DataFrame({"customer_id": ["many"], "cutoff_time": [CUTOFF]})
    desc = ck.UsageFeatures(_store(ROWS), windows=("7D",)).fit(X).describe_features()
    desc = desc.set_index("feature")
    assert desc.loc["usage__overdue_ratio", "direction"] == "higher"
    assert desc.loc["usage__active_days_total", "direction"] == "lower"
    assert desc.loc["usage__gap_mean_days", "unit"] == "days"
    text = desc.loc["usage__overdue_ratio", "template"].format(value=2.0, typical=0.5)
    assert text == "silent for 2.0x the customer's usual gap (typical: 0.5x)"


def _naive(usage, customer, cutoff):
    """Brute force in pandas: the signals of one (customer, cutoff)."""
    rows = usage[(usage["customer_id"] == customer) & (usage["time"] < cutoff)]
    if rows.empty:
        return [0.0, np.nan, np.nan, np.nan, np.nan, np.nan]
    days = np.unique(rows["time"].to_numpy().astype("datetime64[D]").astype(np.int64))
    gaps = np.diff(days).astype(float)
    first, last = rows["time"].min(), rows["time"].max()
    since_first = (cutoff - first) / pd.Timedelta("1D")
    since_last = (cutoff - last) / pd.Timedelta("1D")
    mean = gaps.mean() if len(gaps) else np.nan
    cv = gaps.std() / gaps.mean() if len(gaps) >= 2 else np.nan
    return [
        float(len(days)),
        since_first,
        since_first - since_last,
        mean,
        cv,
        since_last / mean if len(gaps) else np.nan,
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 60 * 24 * 40)),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.integers(0, 60 * 24 * 45), min_size=1, max_size=6),
)
def test_signals_match_a_naive_recomputation(events, cutoffs):
    """Random logs (minutes over 40 days) and cutoffs (any minute), any row order."""
    start = pd.Timestamp("2024-01-01")
    usage = pd.DataFrame(
        {
            "customer_id": [c for c, _ in events],
            "time": [start + pd.Timedelta(minutes=m) for _, m in events],
            "event": "e",
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": pd.Timestamp("2023-12-01")}
    )
    store = ck.Events(customers=customers, usage=usage, observed_until="2024-03-01")
    X = pd.DataFrame(
        [(c, start + pd.Timedelta(minutes=m)) for m in cutoffs for c in "cab"],
        columns=["customer_id", "cutoff_time"],
    )
    F = ck.UsageFeatures(store, windows=("7D",), per_kind=False).fit(X).transform(X)
    got = F[RFM[:6]].to_numpy()
    want = np.array(
        [
            _naive(usage, c, t)
            for c, t in zip(X["customer_id"], X["cutoff_time"], strict=True)
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_a_long_history_is_never_a_risk_reason():
    # directions the reasons obey: a short history (days since the first
    # activity, first-to-last span) is the risky side. With "either", 775 of
    # 2,971 top-3 reasons on an Online Retail-shaped log read "Active over 536
    # days, first to last event (typical: 401)" as a churn risk
    X = pd.DataFrame({"customer_id": ["many"], "cutoff_time": [CUTOFF]})
    builder = ck.UsageFeatures(_store(ROWS), windows=("7D",), per_kind=False).fit(X)
    directions = builder.describe_features().set_index("feature")["direction"]
    assert directions["usage__days_since_first"] == "lower"
    assert directions["usage__active_span_days"] == "lower"
    assert directions["usage__overdue_ratio"] == "higher"


def test_gap_variability_reads_as_a_percent_as_its_template_says():
    # the template says "{value:.0%}"; with unit "ratio" reasons read "vary by
    # 0.57 of their mean (typical: 0.7)"
    from churnkit.explain._format import unit_kind

    X = pd.DataFrame({"customer_id": ["many"], "cutoff_time": [CUTOFF]})
    builder = ck.UsageFeatures(_store(ROWS), windows=("7D",), per_kind=False).fit(X)
    row = builder.describe_features().set_index("feature").loc["usage__gap_cv"]
    assert "{value:.0%}" in row["template"]
    assert unit_kind(row["unit"]) == "percent"

"""label_survival and survival_array on hand-made stores with censoring and gaps.

Every expected duration is worked out by hand from the rules in the
docstring: follow-up over ``[t + gap, min(t + gap + max_horizon,
observed_until))``, duration measured from the cutoff ``t`` in days.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError

T = pd.Timestamp("2024-03-01")
UNTIL = "2024-06-01"  # 92 days after T


def store(rows, *, observed_until=UNTIL, subscriptions=None):
    """Events of customers ``(id, signup, churn or None[, kind])``."""
    churned = [r for r in rows if r[2] is not None]
    churn = pd.DataFrame(
        {
            "customer_id": [r[0] for r in churned],
            "time": pd.to_datetime([pd.Timestamp(r[2]) for r in churned]),
            "kind": [r[3] if len(r) > 3 else "voluntary" for r in churned],
        }
    )
    if subscriptions is not None:
        return ck.Events(
            subscriptions=subscriptions,
            churn=churn if len(churned) else None,
            observed_until=observed_until,
        )
    customers = pd.DataFrame(
        {"customer_id": [r[0] for r in rows], "signup_time": [r[1] for r in rows]}
    )
    return ck.Events(customers=customers, churn=churn, observed_until=observed_until)


def cutoffs(*rows):
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "cutoff_time": pd.to_datetime([r[1] for r in rows]).as_unit("ns"),
        }
    )


def survival(events, table, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = ck.label_survival(events, table, **kwargs)
    return out, [str(w.message) for w in caught if issubclass(w.category, Warning)]


def as_tuples(frame):
    return list(
        zip(
            frame["customer_id"],
            frame["duration"].round(6),
            frame["event"],
            strict=True,
        )
    )


ROWS = [
    ("a", "2024-01-01", "2024-03-11"),  # churns 10 days after T
    ("b", "2024-01-01", None),  # never churns: censored at observed_until
    ("c", "2024-01-01", "2024-07-01"),  # churns after the data ends: censored
    ("d", "2024-01-01", "2024-05-31 12:00"),  # half a day before the end: event
    ("e", "2024-03-01", None),  # signs up at T: not eligible
    ("f", "2024-01-01", "2024-02-15"),  # churned before T: not eligible
    ("g", "2024-01-01", T),  # churns at T: eligible, duration 0
]


def test_durations_and_censoring_by_hand():
    events = store(ROWS)
    table = cutoffs(*[(r[0], T) for r in ROWS])
    frame, messages = survival(events, table)
    assert as_tuples(frame) == [
        ("a", 10.0, 1),
        ("b", 92.0, 0),
        ("c", 92.0, 0),
        ("d", 91.5, 1),
        ("g", 0.0, 1),
    ]
    assert list(frame.index) == [0, 1, 2, 3, 6]  # the cutoff table's labels
    assert frame.attrs["excluded"] == {"not eligible": 2}
    assert frame.attrs["n_censored"] == 2
    assert frame.attrs["unit"] == "days"
    assert any("excluded 2 of 7 cutoff rows (2 not eligible)" in m for m in messages)
    assert frame["duration"].dtype == np.float64
    assert frame["event"].dtype == np.int64


def test_max_horizon_censors_later_churns_and_is_half_open():
    events = store(
        [
            ("a", "2024-01-01", "2024-03-31"),  # day 30 = t + horizon: censored
            ("b", "2024-01-01", "2024-03-30 23:00"),  # just inside
            ("c", "2024-01-01", None),
        ]
    )
    frame, _ = survival(
        events, cutoffs(("a", T), ("b", T), ("c", T)), max_horizon="30D"
    )
    assert as_tuples(frame) == [
        ("a", 30.0, 0),
        ("b", round(29 + 23 / 24, 6), 1),
        ("c", 30.0, 0),
    ]
    assert frame.attrs["max_horizon"] == "30D"


def test_gap_excludes_churns_inside_it_and_durations_count_from_the_cutoff():
    events = store(
        [
            ("a", "2024-01-01", T),  # at t: inside [t, t + 7D)
            ("b", "2024-01-01", "2024-03-07 23:00"),  # inside the gap
            ("c", "2024-01-01", "2024-03-08"),  # t + gap: an event at day 7
            ("d", "2024-01-01", None),
        ]
    )
    table = cutoffs(("a", T), ("b", T), ("c", T), ("d", T))
    frame, messages = survival(events, table, gap="7D", max_horizon="30D")
    assert as_tuples(frame) == [("c", 7.0, 1), ("d", 37.0, 0)]
    assert frame.attrs["excluded"] == {"churned in gap": 2}
    assert any("2 churned in gap" in m for m in messages)


def test_no_follow_up_is_excluded_and_counted():
    events = store([("a", "2024-01-01", None)])
    frame, messages = survival(
        events, cutoffs(("a", "2024-05-28"), ("a", "2024-05-01")), gap="7D"
    )
    assert as_tuples(frame) == [("a", 31.0, 0)]
    assert frame.attrs["excluded"] == {"no follow-up": 1}
    assert any("no follow-up" in m for m in messages)


def test_a_return_makes_the_next_churn_the_event():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "start": pd.to_datetime(["2024-01-01", "2024-03-20", "2024-01-01"]),
            "end": pd.to_datetime(["2024-03-05", "2024-05-01", None]),
        }
    )
    events = store([], subscriptions=subs)
    table = cutoffs(("a", T), ("a", "2024-04-01"), ("a", "2024-03-10"), ("b", T))
    frame, _ = survival(events, table)
    # a at T: churns 4 days later; at Apr 1: the second spell ends 30 days later;
    # at Mar 10: between spells, not eligible
    assert as_tuples(frame) == [("a", 4.0, 1), ("a", 30.0, 1), ("b", 92.0, 0)]
    assert frame.attrs["excluded"] == {"not eligible": 1}


def test_kind_counts_one_kind_and_censors_at_a_churn_of_another():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "start": pd.to_datetime(["2024-01-01", "2024-03-20", "2024-01-01"]),
            "end": pd.to_datetime(["2024-03-05", "2024-05-01", "2024-03-21"]),
        }
    )
    churn = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "time": pd.to_datetime(["2024-03-05", "2024-05-01", "2024-03-21"]),
            "kind": ["involuntary", "voluntary", "voluntary"],
        }
    )
    events = ck.Events(subscriptions=subs, churn=churn, observed_until=UNTIL)
    frame, _ = survival(events, cutoffs(("a", T), ("b", T)), kind="voluntary")
    assert as_tuples(frame) == [("a", 4.0, 0), ("b", 20.0, 1)]
    frame, _ = survival(events, cutoffs(("a", T), ("b", T)), kind="involuntary")
    assert as_tuples(frame) == [("a", 4.0, 1), ("b", 20.0, 0)]


def test_agrees_with_label_churn_at_every_horizon():
    data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    grid = ck.make_cutoffs(data.events, start="2024-01-01", end="2025-05-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ck.label_survival(data.events, grid, gap="7D")
        for h in (14, 30, 90):
            labels = ck.label_churn(data.events, grid, horizon=f"{h}D", gap="7D")
            mine = frame.loc[labels.index]
            expected = ((mine["event"] == 1) & (mine["duration"] < 7 + h)).astype(int)
            assert (expected == labels["churned"]).all()
            assert len(labels) and labels["churned"].sum() > 0
    assert frame["event"].sum() > 10


@settings(max_examples=40, deadline=None)
@given(
    churn_day=st.one_of(st.none(), st.integers(0, 120)),
    gap=st.integers(0, 20),
    horizon=st.one_of(st.none(), st.integers(1, 120)),
)
def test_one_customer_any_churn_day_gap_and_horizon(churn_day, gap, horizon):
    churn = None if churn_day is None else T + pd.Timedelta(days=churn_day)
    events = store([("a", "2024-01-01", churn)])
    kwargs = {"gap": f"{gap}D"}
    if horizon is not None:
        kwargs["max_horizon"] = f"{horizon}D"
    frame, _ = survival(events, cutoffs(("a", T)), **kwargs)
    if gap >= 92 or (churn_day is not None and churn_day < gap):
        assert len(frame) == 0
        return
    end = min(92, gap + (horizon if horizon is not None else 10**6))
    if churn_day is not None and churn_day < end:
        assert as_tuples(frame) == [("a", float(churn_day), 1)]
    else:
        assert as_tuples(frame) == [("a", float(end), 0)]


def test_survival_array_dtype_and_errors():
    frame = pd.DataFrame({"t": [3.0, 0.0, 7.5], "e": [1, 1, 0]})
    y = ck.survival_array(frame, duration="t", event="e")
    assert y.dtype.names == ("event", "duration")
    assert y["event"].tolist() == [True, True, False]
    assert y["duration"].tolist() == [3.0, 0.0, 7.5]
    with pytest.raises(SchemaError, match=r"no column \['duration'\]"):
        ck.survival_array(frame, event="e")
    with pytest.raises(SchemaError, match="0 \\(censored\\) or 1"):
        ck.survival_array(pd.DataFrame({"duration": [1.0], "event": [2]}))
    with pytest.raises(SchemaError, match=">= 0; 1 are not"):
        ck.survival_array(pd.DataFrame({"duration": [-1.0], "event": [1]}))
    with pytest.raises(ChurnkitTypeError, match="takes a DataFrame"):
        ck.survival_array(np.zeros(3))


def test_bad_arguments_name_the_fix():
    events = store([("a", "2024-01-01", None)])
    with pytest.raises(SchemaError, match="max_horizon"):
        ck.label_survival(events, cutoffs(("a", T)), max_horizon="30")
    with pytest.raises(SchemaError, match="kind"):
        ck.label_survival(events, cutoffs(("a", T)), kind="unknown")
    assert issubclass(ChurnkitWarning, UserWarning)

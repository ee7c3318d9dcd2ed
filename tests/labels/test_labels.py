"""Point-in-time cutoffs and labels: make_cutoffs, label_churn, label_inactivity.

Each test is one row of the point-in-time table in DESIGN.md, on a few customers
whose expected rows are worked out by hand. The contractual rows run twice: with
churn from a ``churn`` table and from a ``subscriptions`` table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit import labels as labels_mod
from churnkit.exceptions import (
    CensoringWarning,
    ChurnkitTypeError,
    ChurnkitWarning,
    DataQualityWarning,
    SchemaError,
)

T = pd.Timestamp("2024-03-01")
FAR = "2025-01-01"  # an observed_until that censors nothing
SOURCES = ("churn", "subscriptions")


def ts(value):
    return pd.Timestamp(value)


def store(source, rows, *, observed_until=FAR):
    """Events of customers ``(id, signup, churn or None[, kind])``.

    ``source="churn"``: a customers and a churn table; ``"subscriptions"``: one
    subscription spell per customer from signup to churn (and the churn table
    only for the kinds).
    """
    ids = [r[0] for r in rows]
    churned = [r for r in rows if r[2] is not None]
    churn = pd.DataFrame(
        {
            "customer_id": [r[0] for r in churned],
            "time": [r[2] for r in churned],
            "kind": [r[3] if len(r) > 3 else "voluntary" for r in churned],
        }
    )
    if source == "churn":
        customers = pd.DataFrame(
            {"customer_id": ids, "signup_time": [r[1] for r in rows]}
        )
        return ck.Events(
            customers=customers, churn=churn, observed_until=observed_until
        )
    subs = pd.DataFrame(
        {"customer_id": ids, "start": [r[1] for r in rows], "end": [r[2] for r in rows]}
    )
    return ck.Events(
        subscriptions=subs,
        churn=churn if len(churned) else None,
        observed_until=observed_until,
    )


def cutoffs(*rows, index=None):
    """A cutoff table from ``(customer_id, cutoff_time)`` pairs."""
    return pd.DataFrame(
        {
            "customer_id": pd.array([r[0] for r in rows], dtype="str"),
            "cutoff_time": pd.to_datetime([r[1] for r in rows]).as_unit("ns"),
        },
        index=index,
    )


def labelled(rows, index=None):
    """The expected label frame from ``(customer_id, cutoff_time, churned)``."""
    if not rows:  # what is left of a cutoff table with a RangeIndex
        index = pd.Index([], dtype="int64")
    out = cutoffs(*[r[:2] for r in rows], index=index)
    out["churned"] = np.array([r[2] for r in rows], dtype=np.int64)
    return out


def quiet(func, *args, **kwargs):
    """Call ``func`` and return its result and its ChurnkitWarnings' messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = func(*args, **kwargs)
    return out, [
        str(w.message) for w in caught if issubclass(w.category, ChurnkitWarning)
    ]


def check(labels, expected, excluded):
    pd.testing.assert_frame_equal(labels, expected)
    assert labels.attrs["excluded"] == excluded


# ------------------------------------------------------------- eligibility
@pytest.mark.parametrize("source", SOURCES)
def test_signup_exactly_at_the_cutoff_is_not_eligible(source):
    events = store(source, [("a", "2024-01-01", None), ("b", T, None)])
    pd.testing.assert_frame_equal(ck.make_cutoffs(events, at=T), cutoffs(("a", T)))
    with pytest.warns(ChurnkitWarning, match=r"excluded 1 of 2 cutoff rows \(1 not"):
        labels = ck.label_churn(events, cutoffs(("a", T), ("b", T)))
    check(labels, labelled([("a", T, 0)]), {"not eligible": 1})


@pytest.mark.parametrize("source", SOURCES)
def test_churn_exactly_at_the_cutoff_is_eligible_and_labelled_1(source):
    events = store(source, [("a", "2024-01-01", T), ("b", "2024-01-01", "2024-02-29")])
    grid = ck.make_cutoffs(events, at=T)
    pd.testing.assert_frame_equal(grid, cutoffs(("a", T)))
    labels, messages = quiet(ck.label_churn, events, grid, horizon="30D")
    check(labels, labelled([("a", T, 1)]), {})
    assert messages == []


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("churn", "churned"),
    [
        ("2024-03-08", 1),  # t + gap: the first instant of the window
        ("2024-04-06 23:59:59", 1),
        ("2024-04-07", 0),  # t + gap + horizon: the window is half-open
        ("2024-05-01", 0),
    ],
)
def test_label_window_is_half_open(source, churn, churned):
    events = store(source, [("a", "2024-01-01", churn)])
    labels = ck.label_churn(events, cutoffs(("a", T)), horizon="30D", gap="7D")
    check(labels, labelled([("a", T, churned)]), {})


@pytest.mark.parametrize("source", SOURCES)
def test_churn_inside_the_gap_excludes_the_row(source):
    events = store(
        source,
        [
            ("a", "2024-01-01", T),  # at t: inside [t, t + gap)
            ("b", "2024-01-01", "2024-03-07 23:00"),  # just before t + gap
            ("c", "2024-01-01", "2024-03-08"),  # t + gap: labelled 1
            ("d", "2024-01-01", None),
        ],
    )
    grid = ck.make_cutoffs(events, at=T)
    with pytest.warns(
        ChurnkitWarning,
        match=r"label_churn excluded 2 of 4 cutoff rows \(2 churned in gap\); see "
        r"`labels.attrs\['excluded'\]`",
    ):
        labels = ck.label_churn(events, grid, horizon="30D", gap="7D")
    check(
        labels,
        labelled([("c", T, 1), ("d", T, 0)], index=[2, 3]),
        {"churned in gap": 2},
    )


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("observed_until", "kept"),
    [
        ("2024-04-07", True),  # == t + gap + horizon: kept
        ("2024-04-06 23:59:59.999999999", False),  # censored
    ],
)
def test_censoring_at_observed_until(source, observed_until, kept):
    rows = [("a", "2024-01-01", "2024-03-20"), ("b", "2024-01-01", None)]
    events = store(source, rows, observed_until=observed_until)
    labels, messages = quiet(
        ck.label_churn, events, cutoffs(("a", T), ("b", T)), horizon="30D", gap="7D"
    )
    if kept:
        check(labels, labelled([("a", T, 1), ("b", T, 0)]), {})
        assert messages == []
    else:
        # whatever the outcome: the observed churn of a is excluded too
        check(labels, labelled([]), {"censored": 2})
        assert len(messages) == 1
        assert messages[0].startswith(
            "label_churn excluded 2 of 2 cutoff rows (2 censored); see "
            "`labels.attrs['excluded']`. Censored rows"
        )
        assert "observed_until='2024-04-07'" in messages[0]


def test_reasons_are_counted_once_per_row_in_order():
    events = store(
        "churn",
        [
            ("a", "2024-01-01", "2024-02-15"),  # not eligible at T
            ("b", "2024-01-01", T),  # in the gap, also censored at T
            ("c", "2024-01-01", None),  # labelled at 2024-02-01
        ],
        observed_until="2024-03-15",
    )
    grid = cutoffs(("a", T), ("b", T), ("c", T), ("c", "2024-02-01"))
    labels, _ = quiet(ck.label_churn, events, grid, horizon="7D", gap="1D")
    check(
        labels,
        labelled([("c", T, 0), ("c", "2024-02-01", 0)], index=[2, 3]),
        {"not eligible": 1, "churned in gap": 1},
    )
    labels, _ = quiet(ck.label_churn, events, grid, horizon="30D", gap="1D")
    check(
        labels,
        labelled([("c", "2024-02-01", 0)], index=[3]),
        {"not eligible": 1, "censored": 2},
    )


# ------------------------------------------------------------ subscriptions
SPELLS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "b", "c", "c", "c"],
        "start": [
            "2024-01-01",
            "2024-04-01",  # a returns after two months
            "2024-01-01",
            "2024-02-05",  # b's break of 4 days is shorter than the grace
            "2024-01-01",
            "2024-03-01",
            "2024-05-01",
        ],
        "end": [
            "2024-02-01",
            None,
            "2024-02-01",
            None,
            "2024-02-10",
            "2024-04-10",
            "2024-06-10",
        ],
    }
)


def test_return_after_churn_is_eligible_again_with_tenure_continuing():
    events = ck.Events(subscriptions=SPELLS, grace="7D", observed_until=FAR)
    grid = ck.make_cutoffs(events, "2024-02-01", "2024-07-01")
    a = grid[grid["customer_id"] == "a"]
    # 02-01: churn at t (eligible); 03-01: gone; 04-01: the return starts at t
    assert a["cutoff_time"].dt.strftime("%m-%d").tolist() == [
        "02-01",
        "05-01",
        "06-01",
        "07-01",
    ]
    labels = ck.label_churn(events, a, horizon="30D")
    assert labels["churned"].tolist() == [1, 0, 0, 0]
    # tenure continues: the signup stays the first start
    assert events.customers.set_index("customer_id")["signup_time"]["a"] == ts(
        "2024-01-01"
    )
    assert events.churns[events.churns["customer_id"] == "a"]["time"].tolist() == [
        ts("2024-02-01")
    ]


@pytest.mark.parametrize(
    ("grace", "churns", "labels"),
    [
        ("7D", [], [0, 0, 0]),  # the 4-day break is merged: no churn
        ("4D", [], [0, 0, 0]),  # a break equal to the grace is no churn either
        ("3D", ["2024-02-01"], [1, 0, 0]),  # a churn, and a return on 02-05
    ],
)
def test_spells_closer_than_grace_are_merged(grace, churns, labels):
    events = ck.Events(subscriptions=SPELLS, grace=grace, observed_until=FAR)
    b_churns = events.churns[events.churns["customer_id"] == "b"]
    assert b_churns["time"].tolist() == [ts(c) for c in churns]
    grid = cutoffs(("b", "2024-02-01"), ("b", "2024-03-01"), ("b", "2024-04-01"))
    assert ck.label_churn(events, grid, horizon="30D")["churned"].tolist() == labels


def test_windows_within_the_grace_of_the_data_end_are_censored():
    # a's month ends 06-10 and is not renewed; a renewal could still start
    # until 07-10 (30-day grace), after the data (07-01): whether a churns is
    # unknown. Was: the 06-05 row labelled 0, nothing excluded.
    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": ["2016-01-10", "2016-01-10"],
            "end": ["2016-06-10", "2016-04-10"],
        }
    )
    events = ck.Events(subscriptions=subs, grace="30D", observed_until="2016-07-01")
    assert events.churns["customer_id"].tolist() == ["b"]  # b: 04-10 + 30D < 07-01
    assert labels_mod.outcomes_known_until(events) == ts("2016-06-01")
    grid = cutoffs(
        ("a", "2016-05-01"),  # window to 05-16: known
        ("a", "2016-05-17"),  # window to 06-01: known, the last one
        ("a", "2016-05-18"),  # window to 06-02: after 06-01, censored
        ("a", "2016-06-05"),
        ("b", "2016-04-01"),  # b churns on 04-10: known
    )
    with pytest.warns(CensoringWarning, match=r"2 censored.*grace.*2016-06-01"):
        got = ck.label_churn(events, grid, horizon="15D")
    assert got["cutoff_time"].dt.strftime("%m-%d").tolist() == [
        "05-01",
        "05-17",
        "04-01",
    ]
    assert got["churned"].tolist() == [0, 0, 1]
    assert got.attrs["excluded"] == {"censored": 2}
    # without a grace the data's end is where churns are known, as before
    plain = ck.Events(subscriptions=subs, observed_until="2016-07-01")
    assert ck.label_churn(plain, grid, horizon="15D")["churned"].tolist() == [
        0,
        0,
        0,
        1,
        1,
    ]


def test_survival_follow_up_stops_where_churns_are_known():
    subs = pd.DataFrame(
        {"customer_id": ["a"], "start": ["2016-01-10"], "end": ["2016-06-10"]}
    )
    events = ck.Events(subscriptions=subs, grace="30D", observed_until="2016-07-01")
    grid = cutoffs(("a", "2016-05-01"), ("a", "2016-06-05"))
    with pytest.warns(
        CensoringWarning, match=r"1 no follow-up.*known up to 2016-06-01"
    ):
        frame = ck.label_survival(events, grid)
    # followed 31 days to 06-01, not 61 to 07-01 (a may not renew by 07-10)
    assert frame["duration"].tolist() == [31.0]
    assert frame["event"].tolist() == [0]


def test_several_churns_per_customer():
    events = ck.Events(subscriptions=SPELLS, observed_until=FAR)
    assert events.churns[events.churns["customer_id"] == "c"]["time"].tolist() == [
        ts("2024-02-10"),
        ts("2024-04-10"),
        ts("2024-06-10"),
    ]
    grid = ck.make_cutoffs(events, "2024-02-01", "2024-08-01")
    c = grid[grid["customer_id"] == "c"]
    # not eligible on 03-01, 05-01 (spells start at t) nor 07-01, 08-01 (gone)
    assert c["cutoff_time"].dt.strftime("%m-%d").tolist() == ["02-01", "04-01", "06-01"]
    assert ck.label_churn(events, c, horizon="30D")["churned"].tolist() == [1, 1, 1]
    assert ck.label_churn(events, c, horizon="5D")["churned"].tolist() == [0, 0, 0]


# -------------------------------------------------------------------- kinds
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("kind", "expected"),
    [(None, [1, 1, 0]), ("voluntary", [1, 0, 0]), ("involuntary", [0, 1, 0])],
)
def test_churn_kinds(source, kind, expected):
    events = store(
        source,
        [
            ("a", "2024-01-01", "2024-03-10", "voluntary"),
            ("b", "2024-01-01", "2024-03-20", "involuntary"),
            ("c", "2024-01-01", None),
        ],
    )
    grid = cutoffs(("a", T), ("b", T), ("c", T))
    labels = ck.label_churn(events, grid, horizon="30D", kind=kind)
    assert labels["churned"].tolist() == expected


@pytest.mark.parametrize("source", SOURCES)
def test_churn_of_another_kind_in_the_gap_still_excludes(source):
    events = store(
        source,
        [
            ("a", "2024-01-01", "2024-03-10", "voluntary"),
            ("b", "2024-01-01", "2024-03-20", "involuntary"),
        ],
    )
    labels, _ = quiet(
        ck.label_churn,
        events,
        cutoffs(("a", T), ("b", T)),
        horizon="30D",
        gap="15D",
        kind="involuntary",
    )
    check(labels, labelled([("b", T, 1)], index=[1]), {"churned in gap": 1})


def test_unknown_kind():
    events = store("churn", [("a", "2024-01-01", "2024-03-10")])  # voluntary
    labels = ck.label_churn(events, cutoffs(("a", T)), kind="involuntary")
    assert labels["churned"].tolist() == [0]
    with pytest.raises(
        SchemaError, match=r"`kind` must be one of \['voluntary', 'involuntary'\]"
    ):
        ck.label_churn(events, cutoffs(("a", T)), kind="forced")


# ------------------------------------------------------------ calendar horizon
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("churn", "churned"), [("2024-02-29 12:00", 1), ("2024-03-01", 0)]
)
def test_calendar_horizon(source, churn, churned):
    # "1MS" from 2024-02-01 ends at 2024-03-01: 29 days in a leap year
    events = store(source, [("a", "2024-01-01", churn)], observed_until="2024-03-01")
    labels = ck.label_churn(events, cutoffs(("a", "2024-02-01")), horizon="1MS")
    check(labels, labelled([("a", "2024-02-01", churned)]), {})


def test_calendar_horizon_is_censored_after_observed_until():
    events = store("churn", [("a", "2024-01-01", None)], observed_until="2024-02-29")
    labels, _ = quiet(
        ck.label_churn, events, cutoffs(("a", "2024-02-01")), horizon="1MS"
    )
    check(labels, labelled([]), {"censored": 1})


# ---------------------------------------------------------------- inactivity
USAGE = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "c", "d", "d", "e", "e", "f", "f"],
        "time": [
            "2024-02-10",
            "2024-03-15",  # a: active before and within the horizon
            "2024-02-10",  # b: active before, silent after: 1
            "2024-03-05",  # c: nothing before t: not eligible
            "2024-01-01",
            T,  # d: an event at t counts in the window, not before it
            "2024-01-01",
            "2024-03-31",  # e: an event at t + horizon is outside the window
            T,  # f: an event only at t is not before t
            "2024-03-02",
        ],
        "event": "login",
    }
)
INACTIVE = [("a", T, 0), ("b", T, 1), ("d", T, 0), ("e", T, 1)]


def _inactivity_store(observed_until=FAR, usage=USAGE):
    return ck.Events(
        customers=pd.DataFrame(
            {"customer_id": list("abcdef"), "signup_time": "2024-01-01"}
        ),
        usage=usage,
        observed_until=observed_until,
    )


def _at_t(ids="abcdef"):
    return cutoffs(*[(i, T) for i in ids])


def test_inactivity_labels():
    events = _inactivity_store()
    with pytest.warns(
        ChurnkitWarning,
        match=r"label_inactivity excluded 2 of 6 cutoff rows \(2 no activity before",
    ):
        labels = ck.label_inactivity(events, _at_t(), horizon="30D")
    check(
        labels,
        labelled(INACTIVE, index=[0, 1, 3, 4]),
        {"no activity before cutoff": 2},
    )


def test_inactivity_active_within():
    events = _inactivity_store()
    # only a and b have an event in [t - 30D, t) = [01-31, 03-01)
    labels, _ = quiet(
        ck.label_inactivity, events, _at_t(), horizon="30D", active_within="30D"
    )
    check(
        labels,
        labelled(INACTIVE[:2], index=[0, 1]),
        {"no activity in the 30D before cutoff": 4},
    )


def test_make_cutoffs_active_within_keeps_the_recently_active():
    # a store without churn records: all six are eligible at T; a and b have
    # an event in [t - 30D, t), a, b, d and e one at any time before t
    events = _inactivity_store()
    assert ck.make_cutoffs(events, at=T)["customer_id"].tolist() == list("abcdef")
    recent = ck.make_cutoffs(events, at=T, active_within="30D")
    assert recent["customer_id"].tolist() == ["a", "b"]
    assert (recent["cutoff_time"] == T).all()
    # the rows label_inactivity labels with the same setting, no exclusions
    labels, _ = quiet(
        ck.label_inactivity, events, recent, horizon="30D", active_within="30D"
    )
    assert labels["customer_id"].tolist() == ["a", "b"]
    assert labels.attrs["excluded"] == {}
    with pytest.raises(SchemaError, match=r"no such table"):
        ck.make_cutoffs(events, at=T, active_within="30D", table="support")
    with pytest.raises(SchemaError, match=r"No eligible customer has a usage event"):
        ck.make_cutoffs(events, at="2024-01-20", active_within="1D")


def test_inactivity_gap():
    events = _inactivity_store()
    # window [03-04, 04-03): d's event at t falls in the gap, e's 03-31 inside
    labels, _ = quiet(ck.label_inactivity, events, _at_t(), horizon="30D", gap="3D")
    expected = [("a", T, 0), ("b", T, 1), ("d", T, 1), ("e", T, 0)]
    check(
        labels, labelled(expected, index=[0, 1, 3, 4]), {"no activity before cutoff": 2}
    )


@pytest.mark.parametrize(
    ("observed_until", "excluded"),
    [
        ("2024-03-31", {"no activity before cutoff": 2}),  # == t + horizon: kept
        ("2024-03-30", {"no activity before cutoff": 2, "censored": 4}),
    ],
)
def test_inactivity_censoring(observed_until, excluded):
    events = _inactivity_store(observed_until=observed_until)
    labels, _ = quiet(ck.label_inactivity, events, _at_t(), horizon="30D")
    kept = INACTIVE if "censored" not in excluded else []
    index = [0, 1, 3, 4] if kept else []
    check(labels, labelled(kept, index=index), excluded)


def test_inactivity_on_another_table():
    billing = USAGE.rename(columns={"event": "kind"}).assign(kind="invoice")
    events = ck.Events(
        customers=pd.DataFrame(
            {"customer_id": list("abcdef"), "signup_time": "2024-01-01"}
        ),
        billing=billing,
        observed_until=FAR,
    )
    labels, _ = quiet(
        ck.label_inactivity, events, _at_t(), horizon="30D", table="billing"
    )
    check(
        labels, labelled(INACTIVE, index=[0, 1, 3, 4]), {"no activity before cutoff": 2}
    )
    with pytest.raises(
        SchemaError, match=r"`table`='usage': this Events store has no such table"
    ):
        ck.label_inactivity(events, _at_t())


def test_inactivity_on_the_kinds_that_count():
    # T = 2024-03-01, horizon 30D: the window is [03-01, 03-31). a's only row
    # in it is a refund, b's a failed payment, c pays: with every billing row
    # as activity nobody churns; with payments only a and b do. d paid before
    # the cutoff only (churned either way); e has refunds only, so it has no
    # payment before the cutoff and is not labelled on payments
    billing = pd.DataFrame(
        {"customer_id": ["a", "a", "b", "b", "c", "c", "d", "e", "e"],
         "time": ["2024-02-01", "2024-03-10", "2024-02-01", "2024-03-05",
                  "2024-02-01", "2024-03-20", "2024-02-10", "2024-02-01",
                  "2024-03-02"],
         "kind": ["payment", "refund", "payment", "payment_failed", "payment",
                  "payment", "payment", "refund", "refund"],
         "amount": 10.0}
    )  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": list("abcde"), "signup_time": "2024-01-01"}
    )
    events = ck.Events(customers=customers, billing=billing, observed_until=FAR)
    every, _ = quiet(
        ck.label_inactivity, events, _at_t("abcde"), horizon="30D", table="billing"
    )
    assert every["churned"].tolist() == [0, 0, 0, 1, 0]
    paid, _ = quiet(
        ck.label_inactivity,
        events,
        _at_t("abcde"),
        horizon="30D",
        table=("billing", ["payment"]),
    )
    assert paid["customer_id"].tolist() == list("abcd")
    assert paid["churned"].tolist() == [1, 1, 0, 1]
    assert paid.attrs["excluded"] == {"no activity before cutoff": 1}
    # one kind may be given as text; make_cutoffs reads the same activity
    one, _ = quiet(
        ck.label_inactivity, events, _at_t("abcde"), horizon="30D",
        table=("billing", "payment"),
    )  # fmt: skip
    pd.testing.assert_frame_equal(one, paid)
    recent = ck.make_cutoffs(
        events, at=T, active_within="25D", table=("billing", ["payment"])
    )
    assert recent["customer_id"].tolist() == ["d"]


@pytest.mark.parametrize(
    "table, error, match",
    [
        (
            ("billing", ["paymnt"]),
            SchemaError,
            r"\['paymnt'\] never occur in billing.kind",
        ),
        (("support", ["x"]), SchemaError, "the support table has no kind column"),
        (("billing",), ck.ChurnkitTypeError, "a pair of a name and the kinds"),
        (("billing", [1]), ck.ChurnkitTypeError, "a pair of a name and the kinds"),
    ],
)
def test_activity_kinds_that_cannot_count_are_refused(table, error, match):
    billing = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2024-02-01"], "kind": ["payment"]}
    )
    support = pd.DataFrame({"customer_id": ["a"], "time": ["2024-02-01"]})
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": "2024-01-01"})
    events = ck.Events(
        customers=customers, billing=billing, support=support, observed_until=FAR
    )
    with pytest.raises(error, match=match):
        ck.label_inactivity(events, _at_t("a"), horizon="30D", table=table)


# ---------------------------------------------------------- cutoff tables
def test_cutoff_index_labels_are_kept():
    events = store("churn", [("a", "2024-01-01", None), ("b", "2024-02-01", None)])
    grid = cutoffs(
        ("b", "2024-02-01"), ("a", "2024-02-01"), ("b", T), index=["x", "y", "z"]
    )
    labels, _ = quiet(ck.label_churn, events, grid)
    check(
        labels,
        labelled([("a", "2024-02-01", 0), ("b", T, 0)], index=["y", "z"]),
        {"not eligible": 1},
    )


def test_cutoffs_in_the_index_are_accepted():
    events = store("churn", [("a", "2024-01-01", "2024-03-10")])
    grid = cutoffs(("a", T)).set_index(["customer_id", "cutoff_time"])
    labels = ck.label_churn(events, grid, horizon="30D")
    assert labels["churned"].tolist() == [1]


def test_cutoff_times_as_text_and_with_a_timezone():
    events = store("churn", [("a", "2024-01-01", "2024-03-10")])
    for time in ["2024-03-01", "2024-03-01T01:00:00+01:00"]:
        grid = pd.DataFrame({"customer_id": ["a"], "cutoff_time": [time]})
        labels = ck.label_churn(events, grid, horizon="30D")
        assert labels["cutoff_time"].tolist() == [T]
        assert labels["churned"].tolist() == [1]


@pytest.mark.parametrize(
    ("grid", "error", "match"),
    [
        ([("a", T)], ChurnkitTypeError, r"`cutoffs` must be a DataFrame"),
        (
            pd.DataFrame({"customer_id": ["a"], "time": [T]}),
            SchemaError,
            r"`cutoffs` needs columns 'customer_id' and 'cutoff_time'; columns "
            r"present: \['customer_id', 'time'\]",
        ),
        (
            pd.DataFrame({"customer_id": ["zz"], "cutoff_time": [T]}),
            SchemaError,
            r"cutoffs: 1 row\(s\) name customers this Events store does not know",
        ),
        (
            pd.DataFrame({"customer_id": ["a"], "cutoff_time": [pd.NaT]}),
            SchemaError,
            r"`cutoffs\['cutoff_time'\]` has 1 null value",
        ),
        (
            pd.DataFrame({"customer_id": ["a"], "cutoff_time": ["soon"]}),
            SchemaError,
            r"`cutoffs\['cutoff_time'\]` could not be read as dates",
        ),
    ],
)
def test_bad_cutoff_tables(grid, error, match):
    events = _inactivity_store()
    with pytest.raises(error, match=match):
        ck.label_churn(events, grid)
    with pytest.raises(error, match=match):
        ck.label_inactivity(events, grid)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": "30"}, r"`horizon` must be a duration with a unit"),
        ({"horizon": "0D"}, r"`horizon` must be positive"),
        ({"horizon": "1M"}, r"`horizon`='1M' is ambiguous"),
        ({"gap": "-1D"}, r"`gap` must be non-negative"),
    ],
)
def test_bad_horizons(kwargs, match):
    events = _inactivity_store()
    with pytest.raises(SchemaError, match=match):
        ck.label_churn(events, cutoffs(("a", T)), **kwargs)
    with pytest.raises(SchemaError, match=match):
        ck.label_inactivity(events, cutoffs(("a", T)), **kwargs)


# ------------------------------------------------------------- make_cutoffs
GRID_STORE = [
    ("a", "2024-01-01", "2024-03-01"),
    ("b", "2024-01-15", None),
    ("c", "2024-03-01", None),
]


@pytest.mark.parametrize("source", SOURCES)
def test_make_cutoffs_grid(source):
    events = store(source, GRID_STORE)
    with pytest.warns(ChurnkitWarning, match=r"No customer is eligible at 1 cutoff"):
        grid = ck.make_cutoffs(events, "2024-01-01", "2024-04-01", freq="MS")
    expected = cutoffs(
        ("a", "2024-02-01"),
        ("b", "2024-02-01"),
        ("a", T),  # churn at t: still eligible
        ("b", T),  # c signs up at t: not yet
        ("b", "2024-04-01"),
        ("c", "2024-04-01"),
    )
    pd.testing.assert_frame_equal(grid, expected)


def test_make_cutoffs_weekly_grid():
    events = store("churn", GRID_STORE)
    grid = ck.make_cutoffs(events, "2024-02-26", "2024-03-11", freq="W-MON")
    assert grid["cutoff_time"].dt.strftime("%m-%d").tolist() == [
        "02-26",
        "02-26",
        "03-04",
        "03-04",
        "03-11",
        "03-11",
    ]
    assert grid["customer_id"].tolist() == ["a", "b", "b", "c", "b", "c"]


def test_make_cutoffs_at():
    events = store("churn", GRID_STORE)
    expected = cutoffs(("a", T), ("b", T))
    pd.testing.assert_frame_equal(ck.make_cutoffs(events, at=T), expected)
    pd.testing.assert_frame_equal(ck.make_cutoffs(events, at="2024-03-01"), expected)
    several = ck.make_cutoffs(events, at=["2024-03-02", "2024-02-01", "2024-03-02"])
    pd.testing.assert_frame_equal(
        several,
        cutoffs(
            ("a", "2024-02-01"),
            ("b", "2024-02-01"),
            ("b", "2024-03-02"),
            ("c", "2024-03-02"),
        ),
    )


def test_a_cutoff_where_nobody_is_eligible_warns():
    events = store("churn", GRID_STORE)
    with pytest.warns(
        ChurnkitWarning,
        match=r"No customer is eligible at 1 cutoff\(s\): \['2023-06-01'\]; they "
        r"yield no rows",
    ):
        grid = ck.make_cutoffs(events, at=["2023-06-01", T])
    pd.testing.assert_frame_equal(grid, cutoffs(("a", T), ("b", T)))


def test_all_cutoffs_empty_is_an_error():
    events = store("churn", GRID_STORE)
    with pytest.raises(
        SchemaError,
        match=r"No customer is eligible at any cutoff \['2023-01-01', '2023-02-01'\]",
    ):
        ck.make_cutoffs(events, "2023-01-01", "2023-02-01")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"start": "2024-01-01", "at": T},
            SchemaError,
            r"either `at` or `start`/`end`",
        ),
        ({"start": "2024-01-01"}, SchemaError, r"make_cutoffs needs `start` and `end`"),
        ({}, SchemaError, r"make_cutoffs needs `start` and `end`"),
        (
            {"start": "2024-03-01", "end": "2024-01-01"},
            SchemaError,
            r"`end` \(2024-01-01 00:00:00\) is before `start`",
        ),
        (
            {"start": "2024-01-01", "end": "2024-03-01", "freq": "fortnightly"},
            SchemaError,
            r"`freq`='fortnightly' is not a pandas offset alias",
        ),
        (
            {"start": "2024-01-01", "end": "2024-03-01", "freq": 7},
            ChurnkitTypeError,
            r"`freq` must be a pandas offset alias",
        ),
        (
            {"start": "2024-01-02", "end": "2024-01-31", "freq": "MS"},
            SchemaError,
            r"No cutoff on the grid from 2024-01-02",
        ),
        ({"at": 20240101}, SchemaError, r"`at` must be a date"),
        ({"start": 20240101, "end": "2024-03-01"}, SchemaError, r"`start` must be a"),
    ],
)
def test_bad_make_cutoffs_arguments(kwargs, error, match):
    events = store("churn", GRID_STORE)
    with pytest.raises(error, match=match):
        ck.make_cutoffs(events, **kwargs)


def test_synthetic_data_set_labels(saas):
    events = saas.events
    grid = ck.make_cutoffs(events, "2024-03-01", "2024-09-01")
    labels, _ = quiet(ck.label_churn, events, grid, horizon="30D")
    assert set(labels["churned"]) == {0, 1}
    assert labels.index.isin(grid.index).all()
    truth = saas.truth.set_index("customer_id")["churn_time"]
    churners = labels[labels["churned"] == 1]
    gaps = (
        truth.reindex(churners["customer_id"]).to_numpy()
        - churners["cutoff_time"].to_numpy()
    )
    assert ((gaps >= pd.Timedelta(0)) & (gaps < pd.Timedelta("30D"))).all()


# ================================================================ properties
DAY = pd.Timedelta("1D")
ORIGIN = pd.Timestamp("2024-01-01")
HORIZONS = ("1D", "7D", "30D", "1MS")
GAPS = ("0D", "3D", "1MS")


def _day(n):
    return ORIGIN + n * DAY


@st.composite
def customers_with_churn(draw):
    """Small customers/churn tables: ``[(id, signup, churn or None)]``."""
    n = draw(st.integers(1, 5))
    rows = []
    for i in range(n):
        signup = draw(st.integers(0, 60))
        churn = draw(st.none() | st.integers(signup, 90))
        rows.append((f"c{i}", _day(signup), None if churn is None else _day(churn)))
    return rows


@st.composite
def customers_with_spells(draw):
    """Small subscription tables: ``[(id, start, end or None)]``, several per id."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 3))):
            start = draw(st.integers(0, 80))
            end = draw(st.none() | st.integers(start, 100))
            rows.append((f"c{i}", _day(start), None if end is None else _day(end)))
    return rows


def _naive_spells(rows, grace):
    """Merge each customer's spells: a break longer than ``grace`` is a churn."""
    inf = pd.Timestamp.max
    spells = {}
    for cid in sorted({r[0] for r in rows}):
        mine = sorted((s, inf if e is None else e) for c, s, e in rows if c == cid)
        merged = [list(mine[0])]
        for s, e in mine[1:]:
            last_end = merged[-1][1]
            if last_end == inf or s <= last_end + grace:  # a break of <= grace
                merged[-1][1] = max(last_end, e)
            else:
                merged.append([s, e])
        spells[cid] = [(s, None if e == inf else e) for s, e in merged]
    return spells


def _as_observed(spells, observed_until, grace="0D"):
    """The spells as the data knows them: a spell starting at or after
    ``observed_until`` is unknown, an end with ``end + grace >= observed_until``
    the end of a paid period (still open)."""
    grace = pd.Timedelta(grace)
    return {
        cid: [
            (s, e if e is None or e + grace < observed_until else None)
            for s, e in mine
            if s < observed_until
        ]
        for cid, mine in spells.items()
    }


def _naive_eligible(spells, t):
    return any(s < t and (e is None or e >= t) for s, e in spells)


def _naive_cutoffs(spells, times):
    rows = [
        (cid, t)
        for t in sorted(set(times))
        for cid in sorted(spells)
        if _naive_eligible(spells[cid], t)
    ]
    return cutoffs(*rows) if rows else None


def _naive_labels(spells, grid, horizon, gap, observed_until, grace="0D"):
    """label_churn from the rule, one row at a time."""
    known = observed_until - pd.Timedelta(grace)  # churns known up to here
    gap_ = pd.tseries.frequencies.to_offset(gap)
    horizon_ = pd.tseries.frequencies.to_offset(horizon)
    keep, churned, excluded = [], [], {}
    for cid, t in zip(grid["customer_id"], grid["cutoff_time"], strict=True):
        start = t + gap_ if gap != "0D" else t
        stop = start + horizon_
        churns = [e for _, e in spells[cid] if e is not None]
        if not _naive_eligible(spells[cid], t):
            reason = "not eligible"
        elif stop > known:
            reason = "censored"
        elif any(t <= c < start for c in churns):
            reason = "churned in gap"
        else:
            keep.append(True)
            churned.append(int(any(start <= c < stop for c in churns)))
            continue
        keep.append(False)
        excluded[reason] = excluded.get(reason, 0) + 1
    out = grid.loc[np.array(keep, dtype=bool)].copy()
    out["churned"] = np.array(churned, dtype=np.int64)
    return out, excluded


def _events_from_rows(rows, observed_until, usage=None):
    return ck.Events(
        customers=pd.DataFrame(
            {"customer_id": [r[0] for r in rows], "signup_time": [r[1] for r in rows]}
        ),
        churn=pd.DataFrame(
            {
                "customer_id": [r[0] for r in rows if r[2] is not None],
                "time": pd.to_datetime([r[2] for r in rows if r[2] is not None]),
            }
        ),
        usage=usage,
        observed_until=observed_until,
    )


def _events_from_spells(rows, observed_until, grace):
    return ck.Events(
        subscriptions=pd.DataFrame(rows, columns=["customer_id", "start", "end"]),
        observed_until=observed_until,
        grace=grace,
    )


cutoff_days = st.lists(st.integers(0, 100), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(rows=customers_with_churn(), days=cutoff_days)
def test_make_cutoffs_eligibility_matches_the_rule(rows, days):
    events = _events_from_rows(rows, observed_until=_day(200))
    spells = {cid: [(s, c)] for cid, s, c in rows}
    expected = _naive_cutoffs(spells, [_day(d) for d in days])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        if expected is None:
            with pytest.raises(SchemaError, match=r"No customer is eligible at any"):
                ck.make_cutoffs(events, at=[_day(d) for d in days])
            return
        got = ck.make_cutoffs(events, at=[_day(d) for d in days])
    pd.testing.assert_frame_equal(got, expected)


@settings(max_examples=30, deadline=None)
@given(
    rows=customers_with_spells(),
    days=cutoff_days,
    grace=st.sampled_from(["0D", "2D", "10D"]),
)
def test_make_cutoffs_eligibility_matches_the_rule_with_subscriptions(
    rows, days, grace
):
    events = _events_from_spells(rows, _day(200), grace)
    spells = _naive_spells(rows, pd.Timedelta(grace))
    expected = _naive_cutoffs(spells, [_day(d) for d in days])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        if expected is None:
            with pytest.raises(SchemaError, match=r"No customer is eligible at any"):
                ck.make_cutoffs(events, at=[_day(d) for d in days])
            return
        got = ck.make_cutoffs(events, at=[_day(d) for d in days])
    pd.testing.assert_frame_equal(got, expected)
    churns = sorted(
        (e, cid) for cid, ss in spells.items() for _, e in ss if e is not None
    )
    got_churns = events.churns
    assert (
        list(zip(got_churns["time"], got_churns["customer_id"], strict=True)) == churns
    )


def _all_pairs(spells, days):
    ids = sorted(spells)
    return cutoffs(*[(cid, _day(d)) for d in days for cid in ids])


@settings(max_examples=40, deadline=None)
@given(
    rows=customers_with_spells(),
    days=cutoff_days,
    grace=st.sampled_from(["0D", "5D"]),
    horizon=st.sampled_from(HORIZONS),
    gap=st.sampled_from(GAPS),
    end=st.integers(60, 140),
)
def test_label_churn_matches_the_rule(rows, days, grace, horizon, gap, end):
    observed_until = _day(end)
    events = _events_from_spells(rows, observed_until, grace)
    spells = _naive_spells(rows, pd.Timedelta(grace))
    grid = _all_pairs(spells, days)
    spells = _as_observed(spells, observed_until, grace)
    expected, excluded = _naive_labels(
        spells, grid, horizon, gap, observed_until, grace
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        got = ck.label_churn(events, grid, horizon=horizon, gap=gap)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["excluded"] == excluded


@settings(max_examples=40, deadline=None)
@given(
    rows=customers_with_churn(),
    days=cutoff_days,
    horizon=st.sampled_from(HORIZONS),
    gap=st.sampled_from(GAPS),
    end=st.integers(60, 140),
)
def test_label_churn_matches_the_rule_with_a_churn_table(rows, days, horizon, gap, end):
    observed_until = _day(end)
    events = _events_from_rows(rows, observed_until)
    spells = {cid: [(s, c)] for cid, s, c in rows}
    grid = _all_pairs(spells, days)
    spells = _as_observed(spells, observed_until)
    expected, excluded = _naive_labels(spells, grid, horizon, gap, observed_until)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        got = ck.label_churn(events, grid, horizon=horizon, gap=gap)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["excluded"] == excluded


def _labels(func, events, grid, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        return func(events, grid, **kwargs).set_index(["customer_id", "cutoff_time"])


def _same_where_kept(a, b):
    common = a.index.intersection(b.index)
    pd.testing.assert_series_equal(a.loc[common, "churned"], b.loc[common, "churned"])


@settings(max_examples=30, deadline=None)
@given(
    rows=customers_with_spells(),
    t_day=st.integers(10, 90),
    horizon=st.sampled_from(HORIZONS),
    gap=st.sampled_from(GAPS),
    extra=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 100), st.integers(0, 60)),
        max_size=4,
    ),
    grace=st.sampled_from(["0D", "5D"]),
)
def test_churn_labels_never_look_before_the_cutoff_or_past_the_window(
    rows, t_day, horizon, gap, extra, grace
):
    """Churns and returns added before t, or after the window (beyond the grace),
    never change the label of a row that stays kept."""
    t = _day(t_day)
    gap_ = pd.tseries.frequencies.to_offset(gap)
    stop = (t + gap_ if gap != "0D" else t) + pd.tseries.frequencies.to_offset(horizon)
    observed_until = _day(400)
    ids = sorted({r[0] for r in rows})
    added = []
    for which, start_day, length in extra:
        cid = ids[which % len(ids)]
        start = _day(start_day)
        end = start + length * DAY
        if end < t:  # a whole spell (and its churn) strictly before t
            added.append((cid, start, end))
        later = stop + pd.Timedelta(grace) + DAY + start_day * DAY
        added.append((cid, later, later + length * DAY))  # after the window
    assume(added)
    grid = _all_pairs(dict.fromkeys(ids), [t_day])
    base = _labels(
        ck.label_churn,
        _events_from_spells(rows, observed_until, grace),
        grid,
        horizon=horizon,
        gap=gap,
    )
    changed = _labels(
        ck.label_churn,
        _events_from_spells(rows + added, observed_until, grace),
        grid,
        horizon=horizon,
        gap=gap,
    )
    _same_where_kept(base, changed)


@settings(max_examples=30, deadline=None)
@given(
    rows=customers_with_churn(),
    t_day=st.integers(10, 90),
    horizon=st.sampled_from(HORIZONS),
    gap=st.sampled_from(GAPS),
    moves=st.lists(st.integers(0, 50), min_size=5, max_size=5),
)
def test_churn_labels_ignore_churn_times_moved_past_the_window(
    rows, t_day, horizon, gap, moves
):
    t = _day(t_day)
    gap_ = pd.tseries.frequencies.to_offset(gap)
    stop = (t + gap_ if gap != "0D" else t) + pd.tseries.frequencies.to_offset(horizon)
    moved = [
        (cid, s, c if c is not None and c < stop else max(s, stop) + move * DAY)
        for (cid, s, c), move in zip(rows, moves, strict=False)
    ]
    grid = _all_pairs({r[0]: None for r in rows}, [t_day])
    base = _labels(
        ck.label_churn,
        _events_from_rows(rows, _day(400)),
        grid,
        horizon=horizon,
        gap=gap,
    )
    changed = _labels(
        ck.label_churn,
        _events_from_rows(moved, _day(400)),
        grid,
        horizon=horizon,
        gap=gap,
    )
    pd.testing.assert_frame_equal(base, changed)


@settings(max_examples=30, deadline=None)
@given(
    days=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 120)), min_size=1, max_size=12
    ),
    extra=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 200)), min_size=1, max_size=6
    ),
    t_day=st.integers(10, 90),
    horizon=st.sampled_from(HORIZONS),
    gap=st.sampled_from(GAPS),
    active_within=st.sampled_from([None, "10D", "1MS"]),
)
def test_inactivity_labels_never_look_before_the_cutoff_or_past_the_window(
    days, extra, t_day, horizon, gap, active_within
):
    t = _day(t_day)
    start = t + pd.tseries.frequencies.to_offset(gap) if gap != "0D" else t
    stop = start + pd.tseries.frequencies.to_offset(horizon)
    customers = pd.DataFrame({"customer_id": list("wxyz"), "signup_time": ORIGIN})

    def usage(pairs):
        return pd.DataFrame(
            {
                "customer_id": ["wxyz"[i] for i, _ in pairs],
                "time": [_day(d) for _, d in pairs],
                "event": "login",
            }
        )

    outside = [(i, d) for i, d in extra if not (start <= _day(d) < stop)]
    assume(outside)
    grid = cutoffs(*[(c, t) for c in "wxyz"])
    kwargs = {"horizon": horizon, "gap": gap, "active_within": active_within}
    ends = _day(400)
    base = _labels(
        ck.label_inactivity,
        ck.Events(customers=customers, usage=usage(days), observed_until=ends),
        grid,
        **kwargs,
    )
    changed = _labels(
        ck.label_inactivity,
        ck.Events(
            customers=customers, usage=usage(days + outside), observed_until=ends
        ),
        grid,
        **kwargs,
    )
    _same_where_kept(base, changed)
    # and the label is the rule: 1 iff no event in [t + gap, t + gap + horizon)
    for (cid, _), churned in base["churned"].items():
        i = "wxyz".index(cid)
        inside = [d for j, d in days if j == i and start <= _day(d) < stop]
        assert churned == int(not inside)


def test_repeated_cutoff_rows_warn_and_ids_of_another_type_get_a_hint():
    events = store("churn", [("a", "2024-01-01", None), ("b", "2024-01-01", None)])
    rows = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "a"],
            "cutoff_time": pd.to_datetime(["2024-03-01"] * 2 + ["2024-03-01"] * 2),
        }
    )
    with pytest.warns(
        ChurnkitWarning, match=r"2 row\(s\) repeat .*\('a', 2024-03-01\)"
    ):
        labels = ck.label_churn(events, rows, horizon="30D")
    assert len(labels) == 4  # labelled, not dropped: the warning says so
    numbers = store("churn", [(1, "2024-01-01", None)])
    with pytest.raises(SchemaError, match=r"ids are str here but int64 in the store"):
        ck.label_churn(numbers, rows.head(1).assign(customer_id="1"), horizon="30D")


def test_a_calendar_horizon_with_local_cutoffs_is_refused():
    """Berlin's 2020-03-01 00:00 is 2020-02-29 23:00 UTC: one month start later
    was one hour later, every window an hour long."""
    data = ck.datasets.make_saas_events(n_customers=60, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, at="2024-06-01")
    local = cutoffs.assign(
        cutoff_time=cutoffs["cutoff_time"].dt.tz_localize("Europe/Berlin")
    )
    with pytest.raises(
        SchemaError, match=r"time zone 'Europe/Berlin' and horizon='1MS'"
    ):
        ck.label_churn(data.events, local, horizon="1MS")
    # a fixed horizon, or cutoffs in UTC, are fine
    fixed = ck.label_churn(data.events, local, horizon="30D")
    utc = local.assign(cutoff_time=local["cutoff_time"].dt.tz_convert("UTC"))
    assert len(ck.label_churn(data.events, utc, horizon="1MS")) == len(fixed)


def test_labels_on_a_store_that_records_no_churn_warn():
    """CDNOW: a transaction log without a churn table labels every row 0."""
    customers = pd.DataFrame({"customer_id": ["a", "b"], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {"customer_id": ["a", "b"], "time": ["2024-02-01", "2024-03-01"], "event": "x"}
    )
    events = ck.Events(customers=customers, usage=usage, observed_until="2024-06-01")
    cutoffs = ck.make_cutoffs(events, at="2024-03-15")
    with pytest.warns(DataQualityWarning, match=r"label_churn: .* records no churn"):
        labels = ck.label_churn(events, cutoffs, horizon="30D")
    assert labels["churned"].eq(0).all()
    with pytest.warns(
        DataQualityWarning, match=r"label_survival: .*ck\.label_inactivity"
    ):
        ck.label_survival(events, cutoffs)


def test_rows_a_system_posts_for_everyone_are_named_when_no_one_churns():
    # a bank posts interest ('UROK') monthly on every account, so no account is
    # ever inactive: every label 0 and 0 % churn, now with a warning naming
    # the kinds and the option (was: silent). Counting deposits only labels
    # the accounts idle since February
    customers = pd.DataFrame({"customer_id": range(60), "signup_time": "1995-01-01"})
    month_ends = pd.date_range("1995-01-31", "1996-12-31", freq="ME")
    interest = [
        pd.DataFrame({"customer_id": i, "time": month_ends, "event": "UROK"})
        for i in range(60)
    ]
    deposits = pd.DataFrame(
        {"customer_id": range(60), "time": pd.Timestamp("1995-02-10"), "event": "VKLAD"}
    )
    usage = pd.concat([*interest, deposits])
    events = ck.Events(customers=customers, usage=usage)
    cuts = ck.make_cutoffs(events, start="1995-03-01", end="1996-09-01")
    with pytest.warns(
        ck.DataQualityWarning,
        match=r"none of the 1,140 labels is a churn: .* table=\('usage', \[...\]\) "
        r"\(CLI --activity-kinds\); usage.event holds 'UROK' \(96%\), 'VKLAD' \(4%\)",
    ):
        labels = ck.label_inactivity(events, cuts, horizon="90D")
    assert labels["churned"].sum() == 0
    with pytest.warns(ck.DataQualityWarning, match="churn_rate: none of the 420"):
        ck.churn_rate(events, "QS", inactivity="90D")
    acting = ck.label_inactivity(
        events, cuts, horizon="90D", table=("usage", ["VKLAD"])
    )
    assert acting["churned"].all() and len(acting) == 1140


def test_churns_announced_by_a_notice_warn_and_can_be_left_out():
    # a gym's members give notice months before their membership ends; every
    # churn was known at its cutoff: validation AUC 0.99, 49 of the top 50
    # on the call list already cancelled, with no word
    ids = [f"m{i:02d}" for i in range(40)]
    ends = [None] * 20 + ["2024-06-30"] * 20
    cancels = [None] * 20 + ["2024-04-15"] * 20  # notice: 2.5 months ahead
    subs = pd.DataFrame(
        {"customer_id": ids, "start": "2024-01-01", "end": ends,
         "cancel_time": cancels, "mrr": 30.0}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-12-01")
    cutoffs = ck.make_cutoffs(events, at="2024-06-15")
    with pytest.warns(ck.ChurnkitWarning, match="20 of the 20 churns labelled were"):
        labels = ck.label_churn(events, cutoffs, horizon="30D")
    assert labels["churned"].sum() == 20
    with warnings.catch_warnings():
        warnings.simplefilter("error", ck.ChurnkitWarning)
        warnings.simplefilter("ignore", CensoringWarning)  # the count, said
        left = ck.label_churn(events, cutoffs, horizon="30D", noticed="exclude")
    assert (len(left), left["churned"].sum()) == (20, 0)
    assert left.attrs["excluded"] == {"notice given": 20}
    # a notice given after the cutoff is no notice at it: kept, not warned
    early = ck.make_cutoffs(events, at="2024-04-01")
    early_labels = ck.label_churn(events, early, horizon="120D", noticed="exclude")
    assert early_labels["churned"].sum() == 20
    with pytest.raises(ck.SchemaError, match="noticed"):
        ck.label_churn(events, cutoffs, noticed="drop")


def test_churns_in_the_windows_of_two_cutoffs_warn():
    # a telecom panel dates churn by month (the 1st); under the CLI's default
    # 30-day horizon on monthly cutoffs, Feb 1 + 30D reaches Mar 2: a March
    # churner was a positive at both cutoffs (115 where 59 churned), silently
    ids = [f"c{i:03d}" for i in range(200)]
    customers = pd.DataFrame({"customer_id": ids, "signup_time": "2023-06-01"})
    months = ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    churn = pd.DataFrame({"customer_id": ids[:80], "time": months * 20})
    events = ck.Events(customers=customers, churn=churn, observed_until="2024-08-01")
    cutoffs = ck.make_cutoffs(events, start="2024-01-01", end="2024-05-01")
    with pytest.warns(ck.ChurnkitWarning, match="churns labelled fall in the label"):
        ck.label_churn(events, cutoffs, horizon="30D")
    with warnings.catch_warnings():  # the grid's own period: each churn once
        warnings.simplefilter("error", ck.ChurnkitWarning)
        warnings.simplefilter("ignore", CensoringWarning)
        labels = ck.label_churn(events, cutoffs, horizon="1MS")
        assert labels["churned"].sum() == 80
        weekly = ck.make_cutoffs(
            events, start="2024-01-01", end="2024-05-01", freq="W-MON"
        )
        ck.label_churn(events, weekly, horizon="30D")  # windows meant to slide

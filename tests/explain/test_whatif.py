"""Reasons are tested on the model: the score falls at the typical value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from churnkit import Explanation
from churnkit.explain._whatif import keep_tested, top_cells

IDX = pd.Index(["C-1", "C-2"], name="customer_id")


def test_top_cells_orders_the_k_largest_and_marks_candidates():
    S = np.array([[1.0, 5.0, -np.inf, 3.0], [-np.inf, -np.inf, 2.0, -np.inf]])
    idx, live = top_cells(S, 2)
    assert idx.tolist()[0] == [1, 3] and live.tolist()[0] == [True, True]
    assert idx[1, 0] == 2 and live.tolist()[1] == [True, False]


def test_a_failing_candidate_gives_its_place_to_the_next():
    S = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    failing = {(0, 0), (0, 2)}
    asked = []

    def passes(i, j):
        asked.append(list(zip(i.tolist(), j.tolist(), strict=True)))
        return [(a, b) not in failing for a, b in zip(i, j, strict=True)]

    out = keep_tested(S, 2, passes, lambda S: S)
    idx, live = top_cells(out, 2)
    assert idx.tolist() == [[1, 3]] and live.all()  # 5 and 3 failed
    # the 2 k = 4 strongest were asked at once; nothing was asked twice
    assert asked == [[(0, 0), (0, 1), (0, 2), (0, 3)]]


def _interacting():
    """Calls and minutes stand in for each other; tickets are a cause alone.

    C-1 has 6 calls (typical 1), 300 minutes (typical 180) and 5 tickets
    (typical 0). The margin is 1 with many calls, 2 with few calls and many
    minutes (the minutes drive the risk then), plus 0.5 with 3+ tickets: at
    one call C-1 scores 2.5 > 1.5, at 180 minutes 1.5 (no lower), at no
    tickets 1.0 < 1.5. Only tickets hold.
    """
    data = pd.DataFrame(
        {"calls": [6.0, 1.0], "minutes": [300.0, 100.0], "tickets": [5.0, 0.0]},
        index=IDX,
    )
    typical = pd.DataFrame(
        {"calls": [1.0] * 2, "minutes": [180.0] * 2, "tickets": [0.0] * 2}, index=IDX
    )
    calls = 0

    def margin_of(F):
        nonlocal calls
        calls += 1
        many = F["calls"].to_numpy() > 3
        long = F["minutes"].to_numpy() > 250
        ticket = 0.5 * (F["tickets"].to_numpy() >= 3)
        return np.where(many, 1.0, np.where(long, 2.0, 0.0)) + ticket

    values = [[0.9, 0.4, 0.2], [-0.5, -0.4, -0.1]]  # SHAP credits calls most
    return data, typical, values, margin_of, lambda: calls


def test_a_reason_the_model_does_not_bear_out_is_not_shown():
    data, typical, values, margin_of, _ = _interacting()
    untested = Explanation(values, [-1.0] * 2, data, calibrate=expit, typical=typical)
    assert [r.split(":")[0] for r in untested.reasons("C-1")] == [
        "Calls",
        "Minutes",
        "Tickets",
    ]
    tested = Explanation(
        values, [-1.0] * 2, data, calibrate=expit, typical=typical, margin_of=margin_of
    )
    assert tested.reasons("C-1") == ["Tickets: 5 (typical: 0)"]
    drivers = tested.top_drivers(k=3)
    assert drivers["feature"].tolist() == ["tickets"]
    assert np.isclose(drivers["contribution"].iloc[0], 0.2)  # SHAP's own points


def test_protective_reasons_are_tested_the_other_way():
    # C-2 (1 call, 100 minutes, no tickets) scores 0: a protective reason
    # holds when the typical value scores it higher
    data, typical, values, margin_of, _ = _interacting()
    tested = Explanation(
        values, [-1.0] * 2, data, calibrate=expit, typical=typical, margin_of=margin_of
    )
    # minutes 100 -> 180 leaves the margin at 0: not a protective reason;
    # calls and tickets equal their typical values: not reasons by the rules
    assert tested.protective("C-2") == ["No strong protective drivers"]
    lifted = typical.assign(minutes=[180.0, 260.0])  # 100 -> 260: margin 0 -> 2
    tested = Explanation(
        values, [-1.0] * 2, data, calibrate=expit, typical=lifted, margin_of=margin_of
    )
    assert tested.protective("C-2") == ["Minutes: 100 (typical: 260)"]


def test_each_candidate_is_predicted_once():
    data, typical, values, margin_of, calls = _interacting()
    tested = Explanation(
        values, [-1.0] * 2, data, calibrate=expit, typical=typical, margin_of=margin_of
    )
    first = tested.reasons("C-1")
    n = calls()
    assert tested.reasons("C-1") == first and tested.top_drivers(k=3) is not None
    assert calls() == n == 1  # one batch: the three candidates and the row


def test_nullable_bools_and_a_twin_without_typical_are_tested_as_they_are():
    # a nullable boolean is set to True / False, not 1.0 (pandas refuses
    # floats there); "typical: 0.5" of a 0/1 column cannot be tested; a twin
    # member without a typical value keeps its own
    data = pd.DataFrame(
        {
            "issue": pd.array([True, False], dtype="boolean"),
            "flag": pd.array([True, False], dtype="boolean"),
            "minutes": [300.0, 100.0],
            "charge": [51.0, 17.0],
        },
        index=IDX,
    )
    typical = pd.DataFrame(
        {"issue": [0.0] * 2, "flag": [0.5] * 2, "minutes": [180.0] * 2},
        index=IDX,
    ).assign(charge=np.nan)
    scored = []

    def margin_of(F):
        scored.append(F.copy())
        assert F["issue"].dtype == "boolean" and F["charge"].notna().all()
        return F["issue"].astype(float).to_numpy() + F["minutes"].to_numpy() / 100

    tested = Explanation(
        [[0.6, 0.5, 0.4, 0.2], [-0.1] * 4],
        [-1.0] * 2,
        data,
        calibrate=expit,
        typical=typical,
        twins=[["minutes", "charge"]],
        margin_of=margin_of,
    )
    reasons = tested.reasons("C-1")
    # minutes with its twin: 0.6; issue holds; flag (typical 0.5) untested
    assert [r.split(":")[0] for r in reasons] == ["Minutes", "Issue", "Flag"]
    asked = pd.concat(scored)
    assert not asked["flag"].eq(False).any()  # flag was never "set to 0.5"


def test_the_explainer_tests_reasons_unless_told_not_to(fitted_xgboost, labelled):
    import churnkit as ck

    model, X = fitted_xgboost, labelled[0].tail(200)
    tested = ck.ChurnExplainer(model).explain(X)
    untested = ck.ChurnExplainer(model, check_reasons=False).explain(X)
    assert tested._whatif is not None and untested._whatif is None
    a, b = tested.top_drivers(k=3), untested.top_drivers(k=3)
    # testing only ever replaces reasons: the accounts with reasons are kept
    # or lose them, never gain any
    assert set(a["customer_id"]) <= set(b["customer_id"])

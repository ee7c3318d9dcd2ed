"""explain_change and ScoreChange: exact additivity, hand cases, a planted change."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import churnkit as ck
from churnkit.exceptions import AccountNotFoundError, ChurnkitWarning, SchemaError

T1, T2 = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-01")


def static_tables(n=400, seed=0):
    """A feature table, its labels, and the same accounts with one column moved."""
    rng = np.random.default_rng(seed)
    index = pd.Index([f"C-{i:04d}" for i in range(n)], name="customer_id")
    X = pd.DataFrame(
        {
            "logins": rng.poisson(20, n).astype(float),
            "failed": rng.poisson(0.5, n).astype(float),
            "tickets": rng.poisson(1, n).astype(float),
        },
        index=index,
    )
    risk = -1.5 - 0.08 * (X["logins"] - 20) + 0.9 * X["failed"] + 0.2 * X["tickets"]
    y = pd.Series((rng.random(n) < expit(risk)).astype(int), index=index)
    after = X.copy()
    after["logins"] = np.maximum(after["logins"] - rng.integers(0, 15, n), 0)
    return X, y, after


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def logistic():
    X, y, after = static_tables()
    clf = quiet(ck.ChurnClassifier(model="logistic", random_state=0).fit, X, y)
    return clf, X, after


def additive(change, atol=1e-6):
    total = change.values.sum(axis=1) + change.base_change + change.model_change
    np.testing.assert_allclose(total, change.change, atol=atol, rtol=0)
    groups = change.by_group().sum(axis=1) + change.base_change + change.model_change
    np.testing.assert_allclose(groups, change.change, atol=atol, rtol=0)


def test_only_the_moved_feature_gets_points_and_they_add_up(logistic):
    clf, X, after = logistic
    change = ck.explain_change(clf, X, after)
    additive(change, atol=1e-12)
    assert change.values[["failed", "tickets"]].abs().to_numpy().max() < 1e-12
    moved = X["logins"] != after["logins"]
    np.testing.assert_allclose(
        change.values.loc[moved, "logins"], change.change[moved], atol=1e-12
    )
    assert (change.values.loc[~moved, "logins"].abs() < 1e-12).all()
    # the probabilities are the model's own
    np.testing.assert_allclose(change.probability_before, clf.predict_proba(X)[:, 1])
    np.testing.assert_allclose(change.probability_after, clf.predict_proba(after)[:, 1])


def test_secant_rule_by_hand(logistic):
    """points = d_logodds * (p_a - p_b) / (m_a - m_b), worked out from the margins."""
    clf, X, after = logistic
    after = after.copy()
    after["failed"] = X["failed"] + 2
    change = ck.explain_change(clf, X, after)
    m_b, m_a = clf.decision_function(X), clf.decision_function(after)
    p_b, p_a = clf.calibrate_margin(m_b), clf.calibrate_margin(m_a)
    d = change.log_odds_values
    np.testing.assert_allclose(d.sum(axis=1), m_a - m_b, atol=1e-9)
    expected = d.to_numpy() * ((p_a - p_b) / (m_a - m_b))[:, None]
    np.testing.assert_allclose(change.values.to_numpy(), expected, atol=1e-12)
    # failed payments up by 2 never lower the risk (the model input may be
    # clipped at its training range, then it stays)
    assert (change.values["failed"] >= 0).all()
    assert (change.values["failed"] > 0).mean() > 0.9


def test_unchanged_accounts_have_no_change_and_no_reasons(logistic):
    clf, X, _ = logistic
    change = ck.explain_change(clf, X, X)
    assert np.abs(change.change).max() == 0
    assert np.abs(change.values.to_numpy()).max() == 0
    assert change.reasons("C-0001") == [
        "No group of features moved the risk by 1 point(s) or more"
    ]
    assert change.top_features(k=2).empty


def test_reasons_movers_and_summary_read_the_values(logistic):
    clf, X, after = logistic
    change = ck.explain_change(clf, X, after)
    movers = change.movers(k=5, direction="up")
    assert len(movers) == 5
    assert movers["change"].is_monotonic_decreasing
    assert (movers["change"] == change.change.nlargest(5).to_numpy()).all()
    assert (movers["top_feature"] == "logins").all()
    cid = movers.index[0]
    before_v, after_v = int(X.loc[cid, "logins"]), int(after.loc[cid, "logins"])
    points = 100 * change.values.loc[cid, "logins"]
    assert change.reasons(cid, k=1) == [
        f"Logins: {before_v} → {after_v} ({points:+.1f} pts)"
    ]
    assert change.summary(cid).startswith(f"Risk {100 * change.change[cid]:+.1f} pts (")
    down = change.movers(k=3, direction="down")
    assert (down["change"] < 0).all() or down.empty
    table = change.top_features(k=1)
    assert set(table.columns) >= {"customer_id", "feature", "points", "reason"}
    assert (
        np.sign(table["points"])
        == np.sign(change.change[table["customer_id"]]).to_numpy()
    ).all()
    with pytest.raises(AccountNotFoundError, match="not among the 400"):
        change.reasons("nobody")
    with pytest.raises(SchemaError, match="direction"):
        change.movers(direction="sideways")


def test_accounts_in_one_side_only_are_counted_and_duplicates_refused(logistic):
    clf, X, after = logistic
    with pytest.warns(ChurnkitWarning, match=r"the 390 accounts.*10 only in `after`"):
        change = ck.explain_change(clf, X.iloc[10:], after)
    assert len(change) == 390
    assert list(change.index) == list(after.index[10:])
    with pytest.raises(SchemaError, match="more than once"):
        ck.explain_change(clf, pd.concat([X, X.iloc[:2]]), after)
    other = after.set_axis([f"D-{i}" for i in range(len(after))]).rename_axis(
        "customer_id"
    )
    with (
        pytest.raises(SchemaError, match="share no account"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        ck.explain_change(clf, X, other)


def test_two_model_versions_split_data_and_model(logistic):
    clf, X, after = logistic
    _, y, _ = static_tables()
    new = quiet(ck.ChurnClassifier(model="xgboost", random_state=0).fit, X, y)
    change = ck.explain_change(new, X, after, previous_model=clf)
    additive(change, atol=1e-6)
    p_old_b = clf.predict_proba(X)[:, 1]
    p_old_a = clf.predict_proba(after)[:, 1]
    p_new_b = new.predict_proba(X)[:, 1]
    p_new_a = new.predict_proba(after)[:, 1]
    np.testing.assert_allclose(change.change, p_new_a - p_old_b, atol=1e-6)
    np.testing.assert_allclose(
        change.model_change, (p_new_b - p_old_b + p_new_a - p_old_a) / 2, atol=1e-6
    )
    np.testing.assert_allclose(
        change.data_change, (p_old_a - p_old_b + p_new_a - p_new_b) / 2, atol=1e-6
    )
    # the same accounts and data under two models: all of it is the model
    same = ck.explain_change(new, X, X, previous_model=clf)
    np.testing.assert_allclose(same.data_change, 0, atol=1e-6)
    np.testing.assert_allclose(same.model_change, p_new_b - p_old_b, atol=1e-6)


@pytest.fixture(scope="module")
def planted():
    """The built-in data with every usage event of a fifth of the accounts
    removed between two cutoffs, and a churn pipeline fitted before them."""
    data = ck.datasets.make_saas_events(n_customers=800, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = ck.make_cutoffs(data.events, start="2024-01-01", end="2025-02-01")
        labels = ck.label_churn(data.events, grid, horizon="30D")
        X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
        model = ck.make_churn_pipeline(data.events, random_state=0).fit(X, y)
    before = ck.make_cutoffs(data.events, at=T1)
    after = ck.make_cutoffs(data.events, at=T2)
    usage = data.usage
    window = (usage["time"] >= T1) & (usage["time"] < T2)
    before_window = (usage["time"] >= T1 - pd.Timedelta("30D")) & (usage["time"] < T1)
    active = np.intersect1d(
        usage.loc[window, "customer_id"].unique(),
        usage.loc[before_window, "customer_id"].unique(),
    )
    ids = np.intersect1d(
        np.intersect1d(before["customer_id"], after["customer_id"]), active
    )
    rng = np.random.default_rng(0)
    chosen = rng.choice(ids, size=len(ids) // 5, replace=False)
    drop = usage["customer_id"].isin(chosen) & window
    events = ck.Events(
        customers=data.customers,
        usage=usage[~drop],
        billing=data.billing,
        support=data.support,
        churn=data.churn,
        observed_until=data.events.observed_until,
    )
    ck.set_events(model, events)
    keep_b = before[before["customer_id"].isin(ids)]
    keep_a = after[after["customer_id"].isin(ids)]
    change = ck.explain_change(model, keep_b, keep_a)
    return change, pd.Index(chosen), int(drop.sum())


def test_planted_usage_drop_is_the_top_reason(planted):
    change, chosen, n_dropped = planted
    assert n_dropped > 500 and len(chosen) >= 80
    additive(change, atol=1e-6)
    top = change.top_features(k=1, min_points=0).set_index("customer_id")
    named = top.reindex(chosen)["group"].eq("usage").mean()
    assert named >= 0.85, named
    reasons = change.top_reasons(k=1, min_points=0).set_index("customer_id")
    by_reason = reasons.reindex(chosen)["group"].eq("usage").mean()
    assert by_reason >= 0.85, by_reason
    assert change.movers(k=len(change))["top_group"].reindex(chosen).eq(
        "usage"
    ).mean() == pytest.approx(by_reason)
    assert change.change.reindex(chosen).median() > change.change.drop(chosen).median()
    by_group = change.by_group().reindex(chosen)
    assert by_group.idxmax(axis=1).eq("usage").mean() >= 0.85
    summary = change.summary(chosen[0])
    assert summary.startswith("Risk ") and "since 2025-04-01" in summary


def hand_change(points, groups, before, after):
    """A ScoreChange of one account from hand-made per-feature points."""
    idx = pd.Index(["C-1"], name="customer_id")
    names = list(points)
    values = pd.DataFrame({f: [p] for f, p in points.items()}, index=idx)
    zero = pd.Series([0.0], index=idx)
    total = sum(points.values())
    desc = pd.DataFrame(
        {
            "feature": names,
            "group": [groups[f] for f in names],
            "display_name": [f.replace("_", " ").capitalize() for f in names],
            "unit": None,
            "template": None,
        }
    )
    return ck.ScoreChange(
        values,
        values * 4,
        pd.Series([0.10], index=idx),
        pd.Series([0.10 + total], index=idx),
        zero,
        zero,
        pd.DataFrame({f: [before[f]] for f in names}, index=idx),
        pd.DataFrame({f: [after[f]] for f in names}, index=idx),
        (pd.DatetimeIndex(["2025-04-01"]), pd.DatetimeIndex(["2025-05-01"])),
        desc,
    )


def test_many_small_usage_features_outrank_one_larger_billing_feature():
    """The top reason is the group with the largest total, not the largest
    single feature: 5 usage features of +3, +2.5, +2, +1.5, +1 pts (10 pts)
    against one billing feature of +4 pts and a support feature of -0.5 pts."""
    points = {
        "logins_30d": 0.03,
        "logins_7d": 0.025,
        "sessions_30d": 0.02,
        "sessions_7d": 0.015,
        "exports_30d": 0.01,
        "failed_payments": 0.04,
        "tickets": -0.005,
    }
    groups = dict.fromkeys(points, "usage") | {
        "failed_payments": "billing",
        "tickets": "support",
    }
    before = {
        "logins_30d": 40,
        "logins_7d": 9,
        "sessions_30d": 30,
        "sessions_7d": 7,
        "exports_30d": 3,
        "failed_payments": 0,
        "tickets": 2,
    }
    after = dict.fromkeys(points, 0) | {
        "logins_30d": 6,
        "failed_payments": 1,
        "tickets": 0,
    }
    change = hand_change(points, groups, before, after)
    additive(change, atol=1e-12)
    # the single largest feature is billing ...
    assert change.top_features(k=1)["feature"].tolist() == ["failed_payments"]
    # ... but the top reason is usage, with its total and largest contributors
    reasons = change.top_reasons(k=3, min_points=0)
    assert reasons["group"].tolist() == ["usage", "billing"]
    np.testing.assert_allclose(reasons["points"], [0.10, 0.04], atol=1e-12)
    assert reasons["top_feature"].tolist() == ["logins_30d", "failed_payments"]
    assert reasons["n_features"].tolist() == [5, 1]
    assert change.reasons("C-1") == [
        "Usage (+10.0 pts): Logins 30d: 40 → 6 (+3.0 pts), "
        "Logins 7d: 9 → 0 (+2.5 pts) and 3 more",
        "Failed payments: 0 → 1 (+4.0 pts)",
    ]
    assert change.summary("C-1", k=1) == (
        "Risk +13.5 pts since 2025-04-01 (10% → 24%): Usage (+10.0 pts): "
        "Logins 30d: 40 → 6 (+3.0 pts), Logins 7d: 9 → 0 (+2.5 pts) and 3 more"
    )
    mover = change.movers(k=1).iloc[0]
    assert (mover["top_group"], mover["top_feature"]) == ("usage", "logins_30d")
    assert mover["top_points"] == pytest.approx(0.10, abs=1e-12)
    # the support group pushed the other way: a reason of a fall
    down = change.top_reasons(direction="down", min_points=0)
    assert down["reason"].tolist() == ["Tickets: 2 → 0 (-0.5 pts)"]
    # a group's total counts features pushing both ways
    mixed = hand_change(
        {"logins": 0.05, "sessions": -0.02, "failed": 0.04},
        {"logins": "usage", "sessions": "usage", "failed": "billing"},
        {"logins": 40, "sessions": 3, "failed": 0},
        {"logins": 6, "sessions": 9, "failed": 2},
    )
    first = mixed.top_reasons(k=1)
    assert first["group"].tolist() == ["billing"]
    assert mixed.reasons("C-1", k=2)[1] == (
        "Usage (+3.0 pts): Logins: 40 → 6 (+5.0 pts)"
    )


def test_a_feature_whose_value_reads_the_same_is_not_named():
    # usage moved +6 pts: logins 40 -> 6 (+4), sessions 3 -> 3 (+2 through an
    # interaction): the sentence names logins, and the 2 points the changed
    # feature does not explain (a third of the total) as interactions
    change = hand_change(
        {"logins": 0.04, "sessions": 0.02, "days_since_login": 0.01},
        {"logins": "usage", "sessions": "usage", "days_since_login": "billing"},
        {"logins": 40, "sessions": 3, "days_since_login": np.nan},
        {"logins": 6, "sessions": 3, "days_since_login": 5},
    )
    assert change.reasons("C-1") == [
        "Usage (+6.0 pts): Logins: 40 → 6 (+4.0 pts); +2.0 pts through features "
        "whose values did not change (interactions)",
        "Days since login: none recorded → 5 (+1.0 pts)",
    ]
    # a small remainder (under a quarter of the total) is left in the total
    usage = dict.fromkeys(["logins", "sessions"], "usage")
    small = hand_change(
        {"logins": 0.05, "sessions": 0.01}, usage,
        {"logins": 40, "sessions": 3}, {"logins": 6, "sessions": 3},
    )  # fmt: skip
    assert small.reasons("C-1") == ["Usage (+6.0 pts): Logins: 40 → 6 (+5.0 pts)"]
    # every member unchanged: the group still reads, with its members
    flat = hand_change(
        {"a": 0.02, "b": 0.01}, dict.fromkeys("ab", "usage"), {"a": 1, "b": 2},
        {"a": 1, "b": 2},
    )  # fmt: skip
    assert flat.reasons("C-1") == [
        "Usage (+3.0 pts): A: 1 → 1 (+2.0 pts), B: 2 → 2 (+1.0 pts)"
    ]
    # the only feature with points did not change, the one that changed has
    # none: the points are not credited to the changed one's sentence
    through = hand_change(
        {"logins": 0.0, "sessions": 0.03}, usage,
        {"logins": 40, "sessions": 5}, {"logins": 6, "sessions": 5},
    )  # fmt: skip
    assert through.reasons("C-1") == [
        "Usage (+3.0 pts): Logins: 40 → 6 (+0.0 pts); +3.0 pts through features "
        "whose values did not change (interactions)"
    ]


def test_a_missing_days_since_value_reads_never():
    from churnkit.explain._score_change import _texts

    values = pd.Series([np.nan, 3.0])
    template = "last 'login' {value:.0f} days ago"
    assert _texts(values, "days", template).tolist() == ["never", "3"]
    assert _texts(values, None, None).tolist()[0] == "none recorded"

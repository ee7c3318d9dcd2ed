"""Feature names that never collide (issue 16, deliverable 2).

Slugs keep every alphabet, case and punctuation variants get distinct names
with a stable suffix, and ``get_feature_names_out()`` always equals the output
columns, whatever the kind names.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import SchemaError
from churnkit.features._naming import slug, unique_slugs

T = pd.Timestamp("2024-04-01")
X = pd.DataFrame({"customer_id": ["a", "b"], "cutoff_time": [T, T]})


def _customers(**extra):
    return pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "signup_time": pd.to_datetime(["2024-01-01", "2024-01-15"]),
            **extra,
        }
    )


def _usage(kinds_counts):
    rows = []
    for kind, n in kinds_counts.items():
        for i in range(n):
            rows.append(("a", T - pd.Timedelta(hours=i + 1), kind))
    return pd.DataFrame(rows, columns=["customer_id", "time", "event"])


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Payment Failed", "payment_failed"),
        ("login", "login"),
        ("Вход", "вход"),
        ("登录", "登录"),
        ("हिन्दी", "हिन्दी"),  # combining vowel signs are kept
        ("🎉", "party_popper"),
        ("c++", "c_plus_sign_plus_sign"),
        ("  ", "blank"),
        ("ｌｏｇｉｎ", "login"),  # NFKC: full-width letters
    ],
)
def test_slug_keeps_every_alphabet(value, expected):
    assert slug(value) == expected


def test_long_slugs_are_cut_and_stay_distinct():
    a, b = "x" * 60 + "a", "x" * 60 + "b"
    assert slug(a) != slug(b)
    assert len(slug(a)) == 48 + 7


def test_unique_slugs_keeps_variants_apart_with_stable_suffixes():
    values = ["Log In", "log-in", "login", "Login", "LOGIN"]
    names = unique_slugs(values)
    assert names["login"] == "login"  # its own slug: kept bare
    assert len(set(names.values())) == len(values)
    assert all(n.startswith("log_in_") for n in (names["Log In"], names["log-in"]))
    # stable: independent of order, and of values that do not collide
    assert unique_slugs(values[::-1]) == names
    assert unique_slugs([*values, "export"])["Login"] == names["Login"]


def test_reserved_names_get_a_suffix():
    names = unique_slugs(["tenure_days", "plan"], reserved=("tenure_days",))
    assert names["plan"] == "plan"
    assert names["tenure_days"].startswith("tenure_days_")


def test_cyrillic_kinds_keep_their_events():
    """31 'вход' and 18 'выход' events of one account: both counted (not 'blank')."""
    events = ck.Events(customers=_customers(), usage=_usage({"вход": 31, "выход": 18}))
    builder = ck.UsageFeatures(events, windows=("7D",), min_frequency=1)
    out = builder.fit_transform(X)
    assert out.loc["a", "usage__вход_count_7d"].item() == 31.0
    assert out.loc["a", "usage__выход_count_7d"].item() == 18.0
    assert list(out.columns) == list(builder.get_feature_names_out())


def test_case_and_punctuation_variants_are_separate_features():
    kinds = {"Log In": 3, "log-in": 2, "login": 4, "Login": 1}
    events = ck.Events(customers=_customers(), usage=_usage(kinds))
    builder = ck.UsageFeatures(events, windows=("7D",), min_frequency=1)
    out = builder.fit_transform(X)
    counts = [c for c in out.columns if c.endswith("_count_7d")]
    assert len(counts) == 4
    row = out.loc["a"].iloc[0]
    assert sorted(row[counts].tolist()) == [1.0, 2.0, 3.0, 4.0]
    assert row["usage__login_count_7d"] == 4.0


def test_customer_columns_differing_in_case_are_kept_apart():
    customers = _customers(
        Plan=["pro", "basic"], plan=["x", "y"], tenure_days=[1.0, 2.0]
    )
    events = ck.Events(customers=customers)
    builder = ck.ProfileFeatures(events)
    out = builder.fit_transform(X)
    assert list(out.columns) == list(builder.get_feature_names_out())
    assert len(set(out.columns)) == 5
    assert out["profile__plan"].tolist() == ["x", "y"]
    tenure = [c for c in out.columns if c.startswith("profile__tenure_days_")]
    assert len(tenure) == 1 and out[tenure[0]].tolist() == [1.0, 2.0]
    assert out["profile__tenure_days"].tolist() == [91.0, 77.0]


def test_support_category_named_like_a_builtin_feature():
    support = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "time": [T - pd.Timedelta("2D")] * 2,
            "priority": ["high", "low"],
            "category": ["High Priority", "billing"],
        }
    )
    events = ck.Events(customers=_customers(), support=support)
    builder = ck.SupportFeatures(events, windows=("30D",))
    out = builder.fit_transform(X)
    assert list(out.columns) == list(builder.get_feature_names_out())
    assert out.loc["a", "support__high_priority_tickets_30d"].item() == 1.0


def test_duplicate_custom_names_are_an_error():
    events = ck.Events(customers=_customers(), usage=_usage({"login": 2}))
    spec = ck.FeatureSpec("custom__n", "usage", "count")
    with pytest.raises(SchemaError, match=r"repeated: \['custom__n'\]"):
        ck.CustomFeatures(events, specs=(spec, spec)).fit(X)
    clash = ck.FeatureSpec("usage__events_7d", "usage", "count")
    features = ck.ChurnFeatures(events, windows=("7D",), custom=(clash,))
    with pytest.raises(SchemaError, match="come from more than one builder"):
        features.fit(X)


_ALPHABETS = st.sampled_from(
    [
        "abcXYZ",
        "входВЫХОД",
        "登录退出",
        "🎉👍🏽💳",
        " -_.!/'",
        "0123",
    ]
)


@st.composite
def _kind_names(draw):
    parts = draw(
        st.lists(
            _ALPHABETS.flatmap(lambda a: st.text(alphabet=a, min_size=1, max_size=4)),
            min_size=1,
            max_size=3,
        )
    )
    name = "".join(parts)
    variant = draw(st.sampled_from(["same", "upper", "title", "spaced"]))
    return {
        "same": name,
        "upper": name.upper(),
        "title": name.title(),
        "spaced": f" {name} ",
    }[variant]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_kind_names(), min_size=1, max_size=8, unique=True))
def test_names_out_always_equal_the_columns(kinds):
    counts = {k: i + 1 for i, k in enumerate(kinds)}
    events = ck.Events(customers=_customers(), usage=_usage(counts))
    builder = ck.UsageFeatures(
        events, windows=("7D",), min_frequency=1, max_kinds=len(kinds)
    )
    out = builder.fit_transform(X)
    names = list(builder.get_feature_names_out())
    assert list(out.columns) == names
    assert len(set(names)) == len(names)
    # every kind got its own column, holding exactly its events
    stored = events._engine.table("usage").categories["event"]
    per_kind = [c for c in names if c.endswith("_count_7d")]
    assert len(per_kind) == len(stored)
    row = out.loc["a"].iloc[0]
    assert sorted(row[per_kind].tolist()) == sorted(
        float(sum(n for k, n in counts.items() if str(k) == s)) for s in stored
    )

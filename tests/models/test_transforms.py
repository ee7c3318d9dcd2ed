"""FeatureShaper: the logistic path's per-column shaping, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.explain import ChurnExplainer
from churnkit.models._transforms import (
    FeatureShaper,
    _kind,
    percentile_rank,
    signed_log1p,
)


def test_signed_log1p_by_hand():
    out = signed_log1p([0.0, np.e - 1, -(np.e - 1), np.nan])
    np.testing.assert_allclose(out[:3], [0.0, 1.0, -1.0], rtol=0, atol=1e-15)
    assert np.isnan(out[3])


def test_percentile_rank_is_linear_between_percentiles():
    q = np.quantile([0.0, 1, 2, 3, 4], np.linspace(0, 1, 101))  # q = 4 p
    out = percentile_rank([0.0, 1.0, 2.5, 4.0, 10.0, -3.0, np.nan], q)
    np.testing.assert_allclose(out[:6], [0, 0.25, 0.625, 1, 1, 0], atol=1e-12)
    assert np.isnan(out[6])


def test_percentile_rank_maps_ties_to_the_middle_of_their_span():
    # 0 is the value of the percentiles 0..75: its rank is their middle, 0.375;
    # above, percentile p (0.75 <= p <= 1) is 16 (p - 0.75)
    q = np.quantile([0.0, 0, 0, 0, 4], np.linspace(0, 1, 101))
    out = percentile_rank([0.0, 2.0, 4.0], q)
    np.testing.assert_allclose(out, [0.375, 0.875, 1.0], atol=1e-12)


@pytest.mark.parametrize(
    "values, kind",
    [
        ([3.0, 3.0], "constant"),
        ([3.0, 3.0, np.nan], "flag"),  # present or missing: a signal
        ([np.nan, np.nan], "constant"),
        ([0.0, 1.0, 1.0, 0.0], "flag"),
        ([0.0, 1, 2, 3, 1000], "log"),  # counts with a long right tail
        ([-1.0, 0.0, 0.5, 2.0], "clip"),  # a change: signed
        ([1.0, 2, 3, 4, 5], "clip"),  # not long-tailed
    ],
)
def test_kind_by_hand(values, kind):
    assert _kind(np.asarray(values, dtype="float64")) == kind


def test_kind_method_clips_at_learned_quantiles_then_logs_by_hand():
    X = pd.DataFrame({"logins": [0.0, 1, 3, 1000], "change": [-1.0, 0.0, 0.5, 2.0]})
    shaper = FeatureShaper(method="kind").fit(X)
    # 0.5 % / 99.5 % quantiles by linear interpolation over 4 values:
    # logins: 0 + 0.015 * 1 and 3 + 0.985 * 997; change: -0.985 and 1.9775
    assert shaper.bounds_["logins"] == pytest.approx((0.015, 985.045))
    assert shaper.bounds_["change"] == pytest.approx((-0.985, 1.9775))
    new = pd.DataFrame({"logins": [5000.0, 0.0, np.nan], "change": [-7.0, 1.0, 9.0]})
    out = shaper.transform(new)
    np.testing.assert_allclose(
        out["logins"].to_numpy()[:2], np.log1p([985.045, 0.015]), rtol=1e-12
    )
    assert np.isnan(out["logins"].iloc[2])  # missing stays missing (imputed later)
    np.testing.assert_allclose(out["change"], [-0.985, 1.0, 1.9775], rtol=1e-12)


def test_quantile_method_is_the_percentile_rank_at_fit():
    X = pd.DataFrame({"a": [0.0, 1, 2, 3, 4], "flag": [0.0, 1, 0, 1, 0]})
    shaper = FeatureShaper().fit(X)
    assert shaper.kinds_ == {"a": "clip", "flag": "flag"}
    out = shaper.transform(pd.DataFrame({"a": [2.0, 9.0], "flag": [1.0, 0.0]}))
    np.testing.assert_allclose(out["a"], [0.5, 1.0], atol=1e-12)
    np.testing.assert_array_equal(out["flag"], [1.0, 0.0])  # flags unchanged


def test_constant_columns_are_dropped_and_counted():
    X = pd.DataFrame({"a": [0.0, 1, 2, 3], "mrr_change": 0.0, "b": [1.0, np.nan] * 2})
    shaper = FeatureShaper().fit(X)
    assert shaper.dropped_columns_ == ["mrr_change"]
    assert shaper.n_dropped_ == 1
    assert list(shaper.transform(X).columns) == ["a", "b"]
    assert list(shaper.get_feature_names_out()) == ["a", "b"]
    # with nothing else left, a constant column is kept: a model needs one
    only = FeatureShaper().fit(X[["mrr_change"]])
    assert only.dropped_columns_ == []


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="'quantile' or 'kind'"):
        FeatureShaper(method="rank").fit(pd.DataFrame({"a": [1.0, 2.0]}))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=60, unique=True
    ),
    st.sampled_from(["quantile", "kind"]),
)
def test_shaping_is_monotone_and_bounded(values, method):
    X = pd.DataFrame({"a": values})
    shaper = FeatureShaper(method=method).fit(X)
    grid = np.sort(np.concatenate([values, [-1e9, 1e9]]))
    out = shaper.transform(pd.DataFrame({"a": grid}))["a"].to_numpy()
    assert np.all(np.diff(out) >= -1e-12)  # order of accounts is kept
    assert np.all(np.isfinite(out))
    if method == "quantile":
        assert out.min() >= 0 and out.max() <= 1


def heavy_table(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    events = rng.negative_binomial(1, 0.02, size=n).astype(float)  # long tail
    change = rng.standard_t(1.5, size=n) * 5
    risk = -0.6 * np.log1p(events) + 0.3 * np.tanh(change) + rng.normal(size=n)
    y = (risk > np.quantile(risk, 0.75)).astype(int)
    X = pd.DataFrame(
        {"events_30d": events, "events_change_90d": change, "mrr_change_30d": 0.0}
    )
    return X, y


def test_logistic_classifier_shapes_drops_and_explains_exactly_in_raw_units():
    X, y = heavy_table()
    clf = ck.ChurnClassifier("logistic", calibration=None, random_state=0).fit(X, y)
    assert [name for name, _ in clf.preprocessor_.steps] == ["table", "shape", "encode"]
    shaper = clf.preprocessor_.named_steps["shape"]
    assert shaper.dropped_columns_ == ["mrr_change_30d"]
    assert "mrr_change_30d" not in set(clf.feature_map_.values())
    # the model input is the percentile rank, scaled
    ranks = shaper.transform(X)["events_30d"]
    assert ranks.between(0, 1).all()
    ex = ChurnExplainer(clf).explain(X.iloc[:20])
    np.testing.assert_allclose(
        ex.margin.to_numpy(), clf.decision_function(X.iloc[:20]), rtol=0, atol=1e-9
    )
    total = ex.base_probability + ex.probability_values.sum(axis=1)
    np.testing.assert_allclose(
        total.to_numpy(), clf.predict_proba(X.iloc[:20])[:, 1], rtol=0, atol=1e-12
    )
    # reasons read the user's raw values, and the dropped column adds nothing
    np.testing.assert_array_equal(ex.data["events_30d"], X["events_30d"].iloc[:20])
    assert (ex.values["mrr_change_30d"] == 0).all()


def test_shaping_beats_plain_scaling_on_heavy_tails():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = heavy_table(seed=1)
    Xt, yt = heavy_table(seed=2)
    clf = ck.ChurnClassifier("logistic", calibration=None, random_state=0).fit(X, y)
    plain = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    ours = roc_auc_score(yt, clf.predict_proba(Xt)[:, 1])
    theirs = roc_auc_score(yt, plain.predict_proba(Xt)[:, 1])
    assert ours > theirs + 0.01

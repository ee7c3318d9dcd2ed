"""Per-bucket work equals the single-machine run: cutoffs, labels, features, scores."""

from __future__ import annotations

import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.distributed import (
    bucket_cutoffs,
    bucket_features,
    bucket_labels,
    bucket_of,
    bucket_scores,
    run_local,
    write_layout,
)

KEYS = ["customer_id", "cutoff_time"]
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FIGHTCHURN = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "datasets"
    / "fightchurn_socialnet7_sim"
)


def _sorted(frame):
    frame = frame.reset_index() if "customer_id" in frame.index.names else frame
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def layout(saas, tmp_path_factory):
    return write_layout(saas.events, tmp_path_factory.mktemp("saas"), n_buckets=8)


def test_cutoffs_and_labels_equal_single_machine(saas, layout):
    grid = {"start": "2024-03-01", "end": "2025-06-01"}
    whole = ck.make_cutoffs(saas.events, **grid)
    parts = run_local(layout, bucket_cutoffs, **grid)
    assert (parts["bucket"] == bucket_of(parts["customer_id"], 8)).all()
    pd.testing.assert_frame_equal(
        _sorted(whole), _sorted(parts.drop(columns="bucket")), check_exact=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = ck.label_churn(saas.events, whole, horizon="30D", gap="7D")
        got = run_local(layout, bucket_labels, whole, horizon="30D", gap="7D")
    pd.testing.assert_frame_equal(
        _sorted(labels), _sorted(got.drop(columns="bucket")), check_exact=True
    )
    # the index labels of the cutoff rows are kept, as label_churn keeps them
    assert got.index.sort_values().equals(labels.index.sort_values())
    assert got.attrs["excluded"] == labels.attrs["excluded"]
    assert got.attrs["excluded"]["censored"] > 0  # the global observed_until


def test_a_bucket_without_eligible_customers_gives_no_rows(layout):
    # before every signup: no customer of the bucket is eligible
    out = bucket_cutoffs(layout.read(0), at="2000-01-01")
    assert out.columns.tolist() == ["customer_id", "cutoff_time", "bucket"]
    assert len(out) == 0


@pytest.mark.parametrize("fitted", ["fitted_logistic", "fitted_xgboost"])
def test_features_bit_identical(request, labelled, layout, fitted):
    model = request.getfixturevalue(fitted)
    X, _ = labelled
    store = model[0].events
    whole = model[0].transform(X)
    got = run_local(layout, lambda ev, rows: bucket_features(model, ev, rows), X)
    pd.testing.assert_frame_equal(
        _sorted(whole), _sorted(got.drop(columns="bucket")), check_exact=True
    )
    # the shared fitted model still holds its own store
    assert model[0].events is store
    assert all(b.events is store for _, b in model[0].builders_)


def test_features_keep_the_rows_order_of_X(fitted_xgboost, labelled, layout):
    X, _ = labelled
    bucket = layout.read(3)
    rows = X[bucket_of(X["customer_id"], 8) == 3].sample(frac=1, random_state=0)
    out = bucket_features(fitted_xgboost, bucket, rows)
    assert list(out.index.get_level_values("customer_id")) == list(rows["customer_id"])
    assert (out["bucket"] == 3).all() and out["bucket"].dtype == np.int32
    expected = fitted_xgboost[0].transform(rows)
    pd.testing.assert_frame_equal(out.drop(columns="bucket"), expected)


def test_concurrent_tasks_do_not_share_a_store(fitted_xgboost, labelled, layout):
    X, _ = labelled
    buckets = [layout.read(b) for b in (1, 2, 5, 6)]
    rows = [X[bucket_of(X["customer_id"], 8) == b] for b in (1, 2, 5, 6)]
    pairs = list(zip(buckets, rows, strict=True))
    alone = [bucket_features(fitted_xgboost, e, r) for e, r in pairs]
    with ThreadPoolExecutor(4) as pool:
        together = list(
            pool.map(
                lambda pair: bucket_features(fitted_xgboost, *pair),
                pairs * 3,
            )
        )
    for i, out in enumerate(together):
        pd.testing.assert_frame_equal(out, alone[i % 4], check_exact=True)


def test_xgboost_scores_and_reasons_equal_exactly(saas, fitted_xgboost, layout):
    today = ck.make_cutoffs(saas.events, at="2025-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        got = run_local(
            layout, lambda ev, X: bucket_scores(fitted_xgboost, ev, X, explain=2), today
        )
        drivers = ck.ChurnExplainer(fitted_xgboost).explain(today)
    expected = today.assign(churn_probability=fitted_xgboost.predict_proba(today)[:, 1])
    merged = _sorted(got)
    pd.testing.assert_frame_equal(
        merged[[*KEYS, "churn_probability"]], _sorted(expected), check_exact=True
    )
    top = drivers.top_drivers(k=2, scale="probability")
    for rank in (1, 2):
        part = top[top["rank"] == rank].set_index(KEYS)
        mine = merged.set_index(KEYS).loc[part.index]
        assert (mine[f"reason_{rank}"] == part["reason"]).all()
        assert (mine[f"reason_{rank}_group"] == part["group"]).all()
        np.testing.assert_array_equal(
            mine[f"reason_{rank}_points"], 100 * part["contribution"]
        )
    assert merged.columns.tolist() == [
        *KEYS,
        "churn_probability",
        "reason_1",
        "reason_1_group",
        "reason_1_points",
        "reason_2",
        "reason_2_group",
        "reason_2_points",
        "bucket",
    ]


def test_logistic_scores_and_reasons_equal_to_rounding(saas, fitted_logistic, layout):
    """The margin is a BLAS product whose last bit may depend on the batch size;
    the reasons are the same (the reference is the training mean, input_mean_,
    not the mean of the bucket's rows)."""
    today = ck.make_cutoffs(saas.events, at="2025-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        got = _sorted(
            run_local(
                layout,
                lambda ev, X: bucket_scores(fitted_logistic, ev, X, explain=2),
                today,
            )
        )
        explanation = ck.ChurnExplainer(fitted_logistic).explain(today)
        top = explanation.top_drivers(k=2, scale="probability")
    for rank in (1, 2):
        part = top[top["rank"] == rank].set_index(KEYS)
        mine = got.set_index(KEYS).loc[part.index]
        assert (mine[f"reason_{rank}"] == part["reason"]).all()
        np.testing.assert_allclose(
            mine[f"reason_{rank}_points"], 100 * part["contribution"], atol=1e-9
        )
    expected = _sorted(
        today.assign(churn_probability=fitted_logistic.predict_proba(today)[:, 1])
    )
    pd.testing.assert_frame_equal(got[KEYS], expected[KEYS])
    np.testing.assert_allclose(
        got["churn_probability"], expected["churn_probability"], rtol=1e-13, atol=0
    )


def test_scores_of_no_rows(fitted_xgboost, layout):
    empty = pd.DataFrame(
        {"customer_id": pd.Series([], dtype=str), "cutoff_time": pd.to_datetime([])}
    )
    out = bucket_scores(fitted_xgboost, layout.read(0), empty, explain=1)
    assert out.columns.tolist() == [
        *KEYS,
        "churn_probability",
        "reason_1",
        "reason_1_group",
        "reason_1_points",
        "bucket",
    ]
    assert len(out) == 0


def test_scores_explain_argument(fitted_xgboost, layout):
    rows = bucket_cutoffs(layout.read(0), at="2025-06-01")
    with pytest.raises(ck.ChurnkitTypeError, match="`explain` must be a number"):
        bucket_scores(fitted_xgboost, layout.read(0), rows, explain=True)
    with pytest.raises(ck.SchemaError, match="`explain` must be 0 or more"):
        bucket_scores(fitted_xgboost, layout.read(0), rows, explain=-1)


@pytest.mark.slow
@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_features_and_labels_bit_identical(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _data import fightchurn_events
    finally:
        sys.path.remove(str(BENCHMARKS))
    events = fightchurn_events()
    layout = write_layout(events, tmp_path, n_buckets=16)
    grid = {"start": "2020-03-01", "end": "2020-06-01"}
    cutoffs = ck.make_cutoffs(events, **grid)
    pd.testing.assert_frame_equal(
        _sorted(cutoffs),
        _sorted(run_local(layout, bucket_cutoffs, **grid).drop(columns="bucket")),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = ck.label_churn(events, cutoffs, horizon="30D")
        got = run_local(layout, bucket_labels, cutoffs, horizon="30D")
    pd.testing.assert_frame_equal(_sorted(labels), _sorted(got.drop(columns="bucket")))
    X = labels[KEYS]
    features = ck.ChurnFeatures(events).fit(X, labels["churned"])
    whole = features.transform(X)
    parts = run_local(layout, lambda ev, rows: bucket_features(features, ev, rows), X)
    pd.testing.assert_frame_equal(
        _sorted(whole), _sorted(parts.drop(columns="bucket")), check_exact=True
    )


def test_a_bucket_without_rows_of_a_table_scores(
    saas, fitted_xgboost, tmp_path, recwarn
):
    """An empty table of the right columns: the fitted contract still holds."""
    layout = write_layout(saas.events, tmp_path, n_buckets=128)
    rows = layout.rows()
    empty = int(rows.index[rows["support"] == 0][0])
    bucket = layout.read(empty)
    assert "support" in bucket._engine.tables and len(bucket.frame("support")) == 0
    today = bucket_cutoffs(bucket, at="2025-06-01")
    assert len(today)
    scores = bucket_scores(fitted_xgboost, bucket, today)
    expected = fitted_xgboost.predict_proba(today.drop(columns="bucket"))[:, 1]
    np.testing.assert_array_equal(scores["churn_probability"], expected)
    features = bucket_features(fitted_xgboost, bucket, today)
    assert (features.filter(like="support__tickets").fillna(0) == 0).all().all()
    assert not [w for w in recwarn if "not seen in training" in str(w.message)]

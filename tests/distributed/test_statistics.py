"""Fit-time state travels: a builder fitted on one bucket with the merged
statistics of every bucket equals the builder fitted on the whole store."""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.distributed import (
    StoreStatistics,
    bucket_features,
    bucket_of,
    fit_builder,
    fit_statistics,
    merge_statistics,
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


def _learned(features):
    """Everything a fitted ChurnFeatures learned, builder by builder."""
    out = {
        "windows_": features.windows_,
        "window_choice_": features.window_choice_,
        "feature_names_out_": list(features.feature_names_out_),
        "training_cutoffs_": features.training_cutoffs_,
    }
    for name, builder in features.builders_:
        out[name] = {
            "specs_": builder.specs_,
            "categories_": builder.categories_,
            "input_contract_": builder.input_contract_,
            "attribute_categories_": getattr(builder, "attribute_categories_", None),
        }
    return out


def _statistics(layout, X):
    b = bucket_of(X["customer_id"], layout.n_buckets)
    return [fit_statistics(layout.read(k), X[b == k]) for k in layout.buckets]


def _bucket_fit(layout, X, y, stats, make):
    b = bucket_of(X["customer_id"], layout.n_buckets)
    first = layout.buckets[0]
    return fit_builder(make(), layout.read(first), X[b == first], stats, y[b == first])


@pytest.fixture(scope="module")
def layout(saas, tmp_path_factory):
    return write_layout(saas.events, tmp_path_factory.mktemp("saas"), n_buckets=8)


def test_fit_on_one_bucket_equals_fit_on_the_whole_store(saas, labelled, layout):
    X, y = labelled
    whole = ck.ChurnFeatures(saas.events).fit(X, y)
    stats = merge_statistics(_statistics(layout, X))
    part = _bucket_fit(layout, X, y, stats, ck.ChurnFeatures)
    assert _learned(part) == _learned(whole)
    # the builder fitted on one bucket scores the whole store identically
    ck.set_events(part, saas.events)
    pd.testing.assert_frame_equal(part.transform(X), whole.transform(X))


def test_without_statistics_one_bucket_learns_less(saas, labelled, layout):
    """The statistics are what makes the fit equal: a bucket alone differs."""
    X, y = labelled
    whole = ck.ChurnFeatures(saas.events).fit(X, y)
    b = bucket_of(X["customer_id"], 8)
    alone = ck.ChurnFeatures(layout.read(7)).fit(X[b == 7], y[b == 7])
    assert alone.training_cutoffs_["rows"] < whole.training_cutoffs_["rows"]
    assert alone.window_choice_ != whole.window_choice_  # fewer rows measured
    # bucket 7 lacks some frequent kinds and values: other features and vocabularies
    assert list(alone.feature_names_out_) != list(whole.feature_names_out_)
    learned, expected = _learned(alone), _learned(whole)
    assert learned["usage"]["specs_"] != expected["usage"]["specs_"]
    assert (
        learned["support"]["input_contract_"] != expected["support"]["input_contract_"]
    )
    # bucket 1 lacks a billing kind the whole store has
    one = ck.ChurnFeatures(layout.read(1)).fit(X[b == 1], y[b == 1])
    assert _learned(one)["billing"]["specs_"] != expected["billing"]["specs_"]


def test_windows_auto_measures_every_bucket(saas, labelled, layout):
    """A rhythm that differs by bucket: the typical gap is the global median."""
    X, y = labelled
    whole = ck.UsageFeatures(saas.events, windows="auto").fit(X, y)
    stats = merge_statistics(_statistics(layout, X))
    part = _bucket_fit(layout, X, y, stats, lambda: ck.UsageFeatures(windows="auto"))
    assert part.window_choice_ == whole.window_choice_
    assert part.window_choice_.rows_measured > 0
    gaps = np.sort(stats.typical_gaps("usage"))
    assert part.window_choice_.typical_gap_days == float(np.median(gaps))


def test_pipeline_feature_step_and_horizon_travel(saas, labelled, layout):
    X, y = labelled
    assert X.attrs["horizon"] == "30D"
    whole = ck.make_churn_pipeline(saas.events, model="logistic")
    whole[0].fit(X, y)
    stats = merge_statistics(_statistics(layout, X))
    assert stats.horizon == "30D"
    rows = X.copy()
    rows.attrs.clear()  # a partition of an engine's frame carries no attrs
    pipe = ck.make_churn_pipeline(None, model="logistic")
    b = bucket_of(rows["customer_id"], 8)
    got = fit_builder(pipe, layout.read(2), rows[b == 2], stats)
    assert got is pipe
    assert _learned(pipe[0]) == _learned(whole[0])
    assert pipe[0].window_choice_.horizon_days == 30.0


def test_statistics_are_small_and_merge_in_any_grouping(labelled, layout):
    X, _ = labelled
    parts = _statistics(layout, X)
    assert sum(len(pickle.dumps(p)) for p in parts) < 200_000
    flat = merge_statistics(parts)
    nested = merge_statistics(
        [merge_statistics(parts[:3]), merge_statistics(parts[3:])]
    )
    assert nested.counts == flat.counts and nested.attributes == flat.attributes
    assert nested.training_cutoffs == flat.training_cutoffs
    np.testing.assert_array_equal(
        np.sort(nested.typical_gaps("usage")), np.sort(flat.typical_gaps("usage"))
    )
    assert flat.buckets == list(range(8))
    assert flat.rows == len(X)


def test_value_counts_hand_computed(tmp_path):
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_time": ["2024-01-01", "2024-01-01", "2024-04-01"],
            "plan": ["pro", "basic", "pro"],
        }
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c"],
            "time": ["2024-01-02", "2024-03-01", "2024-01-05", "2024-04-02"]
            + ["2024-01-20"],
            "event": ["login", "export", "login", "share", "login"],
        }
    )
    layout = write_layout(
        {"customers": customers, "usage": usage}, tmp_path, n_buckets=3
    )
    X = pd.DataFrame(
        {"customer_id": ["a", "b"], "cutoff_time": pd.to_datetime(["2024-03-01"] * 2)}
    )
    b = bucket_of(X["customer_id"], 3)
    parts = [
        fit_statistics(layout.read(k), X[b == k], max_cutoff="2024-03-01")
        for k in layout.buckets
    ]
    merged = merge_statistics(parts)
    # before 2024-03-01: login x3 (a, b, c), export at the cutoff does not count
    values, counts = merged.value_counts("usage", "event")
    assert values == ["export", "login", "share"]
    assert counts.tolist() == [0, 3, 0]
    plans = merged.attribute_counts("plan")
    assert plans.to_dict() == {"pro": 2, "basic": 1}
    assert merged.attribute_counts(None).to_dict() == {"2024Q1": 2, "2024Q2": 1}


def test_statistics_errors(labelled, layout):
    X, _ = labelled
    rows = X[bucket_of(X["customer_id"], 8) == 1]
    with pytest.raises(ck.SchemaError, match="pass `max_cutoff=`"):
        fit_statistics(layout.read(1), rows.iloc[:0])
    early = fit_statistics(layout.read(1), rows, max_cutoff="2024-06-01")
    late = fit_statistics(layout.read(2), rows.iloc[:0], max_cutoff="2025-05-01")
    with pytest.raises(ck.SchemaError, match="different cutoffs"):
        merge_statistics([early, late])
    with pytest.raises(ck.SchemaError, match="more than one of the statistics"):
        merge_statistics([early, early])
    with pytest.raises(ck.ChurnkitTypeError, match="non-empty list"):
        merge_statistics([])
    with pytest.raises(ck.ChurnkitTypeError, match="StoreStatistics"):
        fit_builder(ck.ChurnFeatures(), layout.read(1), rows, {"a": 1})
    assert isinstance(early, StoreStatistics)
    with pytest.raises(ck.SchemaError, match=r"no counts of usage\.nope"):
        early.value_counts("usage", "nope")


@pytest.mark.slow
@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_fit_on_one_bucket(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _data import fightchurn_events
    finally:
        sys.path.remove(str(BENCHMARKS))
    events = fightchurn_events()
    layout = write_layout(events, tmp_path, n_buckets=8)
    cutoffs = ck.make_cutoffs(events, start="2020-03-01", end="2020-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = ck.label_churn(events, cutoffs, horizon="30D")
    X, y = labels[KEYS], labels["churned"]
    whole = ck.ChurnFeatures(events).fit(X, y)
    stats = merge_statistics(_statistics(layout, X))
    part = _bucket_fit(layout, X, y, stats, ck.ChurnFeatures)
    assert _learned(part) == _learned(whole)
    got = run_local(layout, lambda ev, rows: bucket_features(part, ev, rows), X)
    pd.testing.assert_frame_equal(
        whole.transform(X).sort_index(),
        got.drop(columns="bucket").sort_index(),
        check_exact=True,
    )


def test_statistics_missing_buckets_warn(labelled, layout):
    X, _ = labelled
    b = bucket_of(X["customer_id"], 8)
    some = merge_statistics([fit_statistics(layout.read(k), X[b == k]) for k in (0, 1)])
    with pytest.warns(ck.ChurnkitWarning, match=r"cover 2 of the layout's 8"):
        fit_builder(ck.ChurnFeatures(), layout.read(0), X[b == 0], some)
    # a bucket without training rows is measured with the latest cutoff
    latest = X["cutoff_time"].max()
    empty = fit_statistics(layout.read(5), X.iloc[:0], max_cutoff=latest)
    assert empty.rows == 0 and empty.max_cutoff == latest.value
    assert sum(empty.value_counts("usage", "event")[1]) > 0

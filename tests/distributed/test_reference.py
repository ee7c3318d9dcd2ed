"""The typical values of reason texts travel: the reference of a builder fitted
from buckets equals the one a whole-store fit stores (or a sample's, when the
training rows are many)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.distributed import (
    REFERENCE_ROWS,
    bucket_of,
    bucket_reference,
    fit_builder,
    fit_statistics,
    merge_statistics,
    reference_fraction,
    set_reference,
    write_layout,
)

KEYS = ["customer_id", "cutoff_time"]


@pytest.fixture(scope="module")
def layout(saas, tmp_path_factory):
    return write_layout(saas.events, tmp_path_factory.mktemp("saas"), n_buckets=4)


@pytest.fixture(scope="module")
def fitted(labelled, layout):
    """A pipeline whose feature step was fitted from the buckets."""
    X, y = labelled
    b = bucket_of(X["customer_id"], layout.n_buckets)
    stats = merge_statistics(
        [fit_statistics(layout.read(k), X[b == k]) for k in layout.buckets]
    )
    pipe = ck.make_churn_pipeline(None, random_state=0)
    first = layout.buckets[0]
    fit_builder(pipe, layout.read(first), X[b == first], stats)
    return pipe, b


def _parts(pipe, layout, X, b, fraction=1.0):
    return [
        bucket_reference(pipe, layout.read(k), X[b == k], fraction=fraction)
        for k in layout.buckets
    ]


def test_reference_from_buckets_equals_the_whole_store(saas, labelled, layout, fitted):
    X, y = labelled
    order = np.lexsort((X["cutoff_time"], X["customer_id"]))
    whole = ck.ChurnFeatures(saas.events)
    whole.fit_transform(X.iloc[order], y.iloc[order])
    pipe, b = fitted
    assert not hasattr(pipe[0], "reference_")
    table = set_reference(pipe, _parts(pipe, layout, X, b))
    assert pipe[0].reference_ is table
    pd.testing.assert_frame_equal(table, whole.reference_)
    assert table.attrs["rows"] == whole.reference_.attrs["rows"]


def test_explanations_quote_the_training_reference_in_every_bucket(
    saas, labelled, layout, fitted
):
    """Without a reference an account's "typical" values come from the rows it
    is explained with; with it, from the training rows, in any batch."""
    X, y = labelled
    pipe, b = fitted
    set_reference(pipe, _parts(pipe, layout, X, b))
    ck.set_events(pipe, saas.events)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        pipe[-1].fit(pipe[0].transform(X), y)  # the classifier only
    latest = X[X["cutoff_time"] == X["cutoff_time"].max()]
    explainer = ck.ChurnExplainer(pipe)
    some = latest.head(60)
    alone = explainer.explain(some).top_drivers(k=3)
    batch = explainer.explain(latest).top_drivers(k=3)
    batch = batch[batch["customer_id"].isin(some["customer_id"])]
    assert len(alone) > 5
    assert alone["reference_text"].tolist() == batch["reference_text"].tolist()
    # and the values quoted are the training medians of the account's band
    whole = ck.ChurnFeatures(saas.events)
    order = np.lexsort((X["cutoff_time"], X["customer_id"]))
    whole.fit_transform(X.iloc[order], y.iloc[order])
    other = copy.deepcopy(pipe)
    other.steps[0] = (other.steps[0][0], whole)
    again = ck.ChurnExplainer(other).explain(some).top_drivers(k=3)
    assert again["reference_text"].tolist() == alone["reference_text"].tolist()


def test_a_sample_is_chosen_by_the_rows_keys(labelled, layout, fitted):
    X, _ = labelled
    pipe, b = fitted
    assert reference_fraction(REFERENCE_ROWS) == 1.0
    assert reference_fraction(4 * REFERENCE_ROWS) == 0.25
    half = pd.concat(_parts(pipe, layout, X, b, fraction=0.5))
    # the same rows whatever the order of the rows given
    shuffled = X.sample(frac=1.0, random_state=1)
    again = pd.concat(
        _parts(pipe, layout, shuffled, bucket_of(shuffled["customer_id"], 4), 0.5)
    )
    pd.testing.assert_frame_equal(
        half.sort_values(KEYS).reset_index(drop=True),
        again.sort_values(KEYS).reset_index(drop=True),
    )
    assert 0.4 < len(half) / len(X) < 0.6
    table = set_reference(pipe, [half])
    full = set_reference(pipe, _parts(pipe, layout, X, b))
    assert table.attrs["rows"][-1] == len(half)
    # medians of half the rows, near the full ones
    numeric = [c for c in full.columns if pd.api.types.is_number(full.loc[-1, c])]
    gap = [
        abs(float(table.loc[-1, c]) - float(full.loc[-1, c]))
        / (abs(float(full.loc[-1, c])) + 1.0)
        for c in numeric
        if not np.isnan(float(full.loc[-1, c]))
    ]
    assert np.median(gap) < 0.1


def test_errors(labelled, layout, fitted):
    X, _ = labelled
    pipe, b = fitted
    with pytest.raises(ck.SchemaError, match="fraction"):
        bucket_reference(pipe, layout.read(0), X[b == 0], fraction=0.0)
    with pytest.raises(ck.SchemaError, match="No training rows"):
        set_reference(pipe, [])

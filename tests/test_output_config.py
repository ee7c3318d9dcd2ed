"""scikit-learn's output config never breaks churnkit.

The builders opt out of scikit-learn's wrapping and honour ``set_output`` /
``set_config(transform_output=...)`` themselves, keeping the
``(customer_id, cutoff_time)`` keys; the classifier reads a polars feature
table with its keys, so its hold-out stays the latest cutoffs and its
probabilities do not move.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.pipeline import Pipeline

import churnkit as ck
from churnkit.features._output import frame_attrs

CONFIGS = ["default", "pandas", "polars"]


def _needs(config):
    if config == "polars":
        pytest.importorskip("polars")


@pytest.fixture(scope="module")
def reference(saas, labelled):
    """Features and probabilities with scikit-learn's default config."""
    X, y = labelled
    with sklearn.config_context(transform_output="default"):
        features = ck.ChurnFeatures(saas.events).fit_transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ck.ChurnkitWarning)
            pipe = ck.make_churn_pipeline(saas.events, "logistic", random_state=0)
            proba = pipe.fit(X, y).predict_proba(X)[:, 1]
    return features, proba, pipe[-1].holdout_["kind"]


def _as_pandas(out):
    if isinstance(out, pd.DataFrame):
        return out
    assert type(out).__module__.startswith("polars")
    assert out.columns[:2] == ["customer_id", "cutoff_time"]
    frame = out.to_pandas().set_index(["customer_id", "cutoff_time"])
    return frame


@pytest.mark.parametrize("config", CONFIGS)
def test_features_under_the_global_config(saas, labelled, reference, config):
    _needs(config)
    X, _ = labelled
    with sklearn.config_context(transform_output=config):
        out = ck.ChurnFeatures(saas.events).fit_transform(X)
        single = ck.UsageFeatures(saas.events).fit(X).transform(X)
    expected_type = "polars" if config == "polars" else "pandas"
    assert type(out).__module__.split(".")[0] == expected_type
    assert type(single).__module__.split(".")[0] == expected_type
    frame = _as_pandas(out)
    ref = reference[0]
    assert list(frame.index.names) == ["customer_id", "cutoff_time"]
    np.testing.assert_array_equal(
        frame.index.get_level_values("customer_id"), X["customer_id"]
    )
    assert list(frame.columns) == list(ref.columns)
    numeric = ref.select_dtypes("number").columns
    np.testing.assert_allclose(
        frame[numeric].to_numpy(float), ref[numeric].to_numpy(float), equal_nan=True
    )
    # the feature directions travel with the table, as pandas attrs or beside
    # the polars frame
    assert frame_attrs(out)["feature_directions"] == ref.attrs["feature_directions"]


@pytest.mark.parametrize("config", CONFIGS)
def test_pipeline_under_the_global_config(saas, labelled, reference, config):
    _needs(config)
    X, y = labelled
    with sklearn.config_context(transform_output=config), warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.CensoringWarning)
        warnings.simplefilter("ignore", ck.CalibrationWarning)  # small data
        pipe = ck.make_churn_pipeline(saas.events, "logistic", random_state=0)
        proba = pipe.fit(X, y).predict_proba(X)[:, 1]
    assert pipe[-1].holdout_["kind"] == reference[2] == "latest_cutoffs"
    np.testing.assert_allclose(proba, reference[1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("config", ["pandas", "polars"])
def test_pipeline_set_output_keeps_the_keys(saas, labelled, reference, config):
    # set_output("polars") used to drop customer_id / cutoff_time: the
    # classifier then fell back to a random hold-out (probabilities moved)
    _needs(config)
    X, y = labelled
    pipe = ck.make_churn_pipeline(saas.events, "logistic", random_state=0)
    pipe.set_output(transform=config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        proba = pipe.fit(X, y).predict_proba(X)[:, 1]
        features = pipe[0].transform(X)
    assert pipe[-1].holdout_["kind"] == "latest_cutoffs"
    np.testing.assert_allclose(proba, reference[1], rtol=1e-9, atol=1e-12)
    assert list(_as_pandas(features).index.names) == ["customer_id", "cutoff_time"]


def test_xgboost_with_polars_keeps_monotone_directions(saas, labelled):
    pytest.importorskip("polars")
    X, y = labelled
    fitted = {}
    for config in ("default", "polars"):
        pipe = ck.make_churn_pipeline(saas.events, random_state=0)
        pipe.set_output(transform=config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ck.ChurnkitWarning)
            fitted[config] = pipe.fit(X, y)
    a, b = fitted["default"][-1], fitted["polars"][-1]
    assert (
        a.monotone_constraints_ and a.monotone_constraints_ == b.monotone_constraints_
    )
    np.testing.assert_allclose(
        fitted["default"].predict_proba(X), fitted["polars"].predict_proba(X)
    )


def test_builder_set_output_overrides_the_global_config(saas, labelled):
    pytest.importorskip("polars")
    X, _ = labelled
    builder = ck.BillingFeatures(saas.events).set_output(transform="pandas")
    with sklearn.config_context(transform_output="polars"):
        assert isinstance(builder.fit_transform(X), pd.DataFrame)
    builder.set_output(transform="polars")
    out = builder.transform(X)
    assert out.columns[:2] == ["customer_id", "cutoff_time"]
    assert out.height == len(X)


def test_set_output_refuses_unknown_containers(saas):
    with pytest.raises(ck.SchemaError, match="transform"):
        ck.ChurnFeatures(saas.events).set_output(transform="arrow")
    builder = ck.ChurnFeatures(saas.events)
    assert builder.set_output(transform=None) is builder


def test_polars_cutoff_table_is_read(saas, labelled, reference):
    pl = pytest.importorskip("polars")
    X, _ = labelled
    out = ck.ChurnFeatures(saas.events).fit_transform(pl.from_pandas(X))
    assert isinstance(out, pd.DataFrame)
    pd.testing.assert_index_equal(out.index, reference[0].index, exact=False)


def test_features_inside_a_generic_pipeline_with_polars(saas, labelled):
    # an sklearn Pipeline of churnkit features then a plain sklearn step
    pytest.importorskip("polars")
    from sklearn.preprocessing import FunctionTransformer

    X, _ = labelled
    pipe = Pipeline(
        [
            ("features", ck.ChurnFeatures(saas.events, include=("usage",))),
            ("id", FunctionTransformer(feature_names_out="one-to-one")),
        ]
    ).set_output(transform="polars")
    out = pipe.fit_transform(X)
    assert out.columns[:2] == ["customer_id", "cutoff_time"]

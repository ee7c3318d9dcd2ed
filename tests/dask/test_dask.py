"""churnkit.dask on a local cluster equals the single-machine flow.

One in-process cluster (2 workers, 1 thread each) serves the module. The
single-machine references are the session fixtures of ``tests/conftest.py``
(300 customers, monthly cutoffs Mar 2024 - May 2025, 30-day labels, the
fitted xgboost and logistic pipelines).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

import churnkit as ck

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
ckd = pytest.importorskip("churnkit.dask")
from churnkit.distributed import (  # noqa: E402
    bucket_scores,
    run_local,
    write_layout,
)

KEYS = ["customer_id", "cutoff_time"]
START, END = "2024-03-01", "2025-05-01"  # the `labelled` fixture's cutoffs


def by_keys(frame):
    """Rows sorted by (customer_id, cutoff_time), keys as columns, no bucket."""
    if set(KEYS) <= set(frame.index.names):
        frame = frame.reset_index()
    frame = frame.drop(columns=["bucket"], errors="ignore")
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def raw_tables(saas):
    """The raw tables of ``saas.events`` (what a lakehouse holds)."""
    return {n: saas[n] for n in ("customers", "usage", "billing", "support", "churn")}


@pytest.fixture(scope="module")
def layout(client, raw_tables, saas, tmp_path_factory):
    """A layout written by the cluster from the raw tables (dask frames)."""
    tables = {n: dd.from_pandas(t, npartitions=3) for n, t in raw_tables.items()}
    return ckd.write_layout(
        tables,
        tmp_path_factory.mktemp("layout"),
        n_buckets=8,
        observed_until=saas.events.observed_until,
    )


@pytest.fixture(scope="module")
def labels(layout, client):
    cutoffs = ckd.make_cutoffs(layout, start=START, end=END)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        return ckd.label_churn(layout, cutoffs, horizon="30D").persist()


@pytest.fixture(scope="module")
def features(layout, labels, fitted_xgboost):
    """Features of ``labels`` on the cluster, by the single-machine builder."""
    return ckd.compute_features(fitted_xgboost[0], layout, labels).persist()


@pytest.fixture(scope="module")
def latest(labels):
    """The labelled rows of the last two cutoffs (a small table to score)."""
    return labels[labels["cutoff_time"] >= pd.Timestamp("2025-04-01")]


def test_the_cluster_writes_the_layout_of_the_store(layout, saas, tmp_path):
    reference = write_layout(saas.events, tmp_path, n_buckets=8)
    assert layout.buckets == reference.buckets
    for b in layout.buckets:
        ours, theirs = layout.read(b), reference.read(b)
        pd.testing.assert_frame_equal(ours.customers, theirs.customers)
        for name in ("usage", "billing", "support"):
            pd.testing.assert_frame_equal(
                ours.frame(name), theirs.frame(name), check_exact=True
            )
        pd.testing.assert_frame_equal(ours.spells, theirs.spells)


def test_cutoffs_and_labels_equal_the_single_machine_ones(
    layout, labels, labelled, saas
):
    X, y = labelled
    cutoffs = ckd.make_cutoffs(layout, start=START, end=END).compute()
    local = ck.make_cutoffs(saas.events, start=START, end=END)
    pd.testing.assert_frame_equal(by_keys(cutoffs), by_keys(local), check_exact=True)
    got = labels.compute()
    assert got.attrs["horizon"] == "30D"
    # each bucket's excluded counts are not the total: not carried
    assert "excluded" not in got.attrs
    expected = by_keys(X.assign(churned=y.to_numpy()))
    pd.testing.assert_frame_equal(by_keys(got), expected, check_exact=True)


def test_meta_warnings_say_they_are_of_a_sample(layout, saas, client):
    # Dask's meta is computed on the first rows of X: a warning of it counted
    # those rows as if they were the job's ("excluded 5 of 5 cutoff rows")
    until = saas.events.observed_until.floor("D")
    cutoffs = ckd.make_cutoffs(layout, at=until - pd.Timedelta("10D"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ckd.label_churn(layout, cutoffs, horizon="30D")  # built, not computed
    said = [
        str(w.message) for w in caught if issubclass(w.category, ck.CensoringWarning)
    ]
    assert said and all("[Seen while planning the job on the first" in m for m in said)


def test_features_are_bit_identical(features, fitted_xgboost, labelled):
    X, _ = labelled
    got = features.compute()
    assert list(got.columns[:3]) == [*KEYS, "churned"]
    expected = fitted_xgboost[0].transform(X)  # fitted on the whole store
    pd.testing.assert_frame_equal(
        by_keys(got).drop(columns="churned"), by_keys(expected), check_exact=True
    )


def test_features_fitted_on_the_cluster_are_the_single_machine_ones(
    layout, labels, fitted_xgboost, labelled
):
    X, _ = labelled
    builder = ck.ChurnFeatures(None)  # windows="auto": measured on all buckets
    got = ckd.compute_features(builder, layout, labels).compute()
    reference = fitted_xgboost[0]
    assert builder.windows_ == reference.windows_
    assert list(builder.get_feature_names_out()) == list(
        reference.get_feature_names_out()
    )
    expected = reference.transform(X)
    pd.testing.assert_frame_equal(
        by_keys(got).drop(columns="churned"), by_keys(expected), check_exact=True
    )
    # the typical values of reason texts: medians of every bucket's rows
    pd.testing.assert_frame_equal(builder.reference_, reference.reference_)


def test_a_single_machine_model_scores_the_same_on_the_cluster(
    layout, latest, fitted_xgboost, tmp_path
):
    scores = ckd.score(fitted_xgboost, layout, latest, explain=2)
    path = ckd.write_results(scores, tmp_path / "scores")
    got = by_keys(scores.compute())
    X = got[KEYS]
    np.testing.assert_array_equal(
        got["churn_probability"].to_numpy(), fitted_xgboost.predict_proba(X)[:, 1]
    )

    def scores_of(events, rows):
        return bucket_scores(fitted_xgboost, events, rows, explain=2)

    reference = run_local(layout, scores_of, X)
    pd.testing.assert_frame_equal(got, by_keys(reference), check_exact=True)
    # written as parquet partitioned by bucket, read back the same
    assert sorted(p.name for p in path.iterdir())[:2] == ["bucket=0", "bucket=1"]
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(by_keys(back), got, check_dtype=False)
    with pytest.raises(ck.SchemaError, match="is not empty"):
        ckd.write_results(scores, path)


def test_a_cluster_trained_xgboost_is_close_to_the_single_machine_one(
    client, layout, labels, fitted_xgboost, labelled, saas
):
    """xgboost.dask sketches quantiles per worker and subsamples rows per
    worker, so its trees differ from the single machine's: as much as two
    single-machine fits with different seeds. Bounds: a mean absolute
    probability difference and a ROC-AUC difference at most twice the
    seed-to-seed ones (the AUC at least 0.01).
    """
    X, y = labelled
    model = clone(fitted_xgboost)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        features = ckd.compute_features(model, layout, labels)
        assert ckd.fit(model, features, client=client) is model
        other_seed = clone(fitted_xgboost).set_params(model__random_state=1)
        other_seed.fit(X, y)
    ck.set_events(model, saas.events)  # a cluster-fitted model on one machine
    ours = model.predict_proba(X)[:, 1]
    theirs = fitted_xgboost.predict_proba(X)[:, 1]
    seed_p = other_seed.predict_proba(X)[:, 1]
    seeds = np.abs(seed_p - theirs).mean()
    assert np.abs(ours - theirs).mean() <= 2 * seeds
    # in-sample ROC-AUC moves with the trees too: 0.0008 to 0.0102 from run to
    # run (the rows each worker holds vary), the seed-to-seed move is 0.0058
    auc = roc_auc_score(y, theirs)
    seed_auc = abs(roc_auc_score(y, seed_p) - auc)
    assert abs(roc_auc_score(y, ours) - auc) <= max(0.01, 2 * seed_auc)
    assert model[-1].holdout_["cutoffs"] == fitted_xgboost[-1].holdout_["cutoffs"]
    # ... and the cluster-fitted model scores on the cluster exactly as here
    scores = by_keys(ckd.score(model, layout, labels).compute())
    np.testing.assert_array_equal(
        scores["churn_probability"].to_numpy(),
        by_keys(X.assign(p=ours))["p"].to_numpy(),
    )


def test_logistic_regression_fits_on_a_sample_of_buckets(
    features, fitted_logistic, labelled
):
    X, _ = labelled
    # the same builder as the features' (both fitted on the whole store)
    model = Pipeline(
        [("features", fitted_logistic[0]), ("model", clone(fitted_logistic[-1]))]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        ckd.fit(model, features, sample_rows=10**9)  # every bucket: every row
    np.testing.assert_allclose(
        model.predict_proba(X), fitted_logistic.predict_proba(X), rtol=0, atol=1e-12
    )


def test_fit_names_a_missing_label_column(features, fitted_xgboost):
    with pytest.raises(ck.SchemaError, match="no label column 'churn'"):
        ckd.fit(clone(fitted_xgboost), features, label="churn")


def test_write_layout_refuses_a_table_without_ids(tmp_path, raw_tables):
    tables = {
        "customers": raw_tables["customers"].rename(columns={"customer_id": "id"})
    }
    with pytest.raises(ck.SchemaError, match="no customer id column 'customer_id'"):
        ckd.write_layout(tables, tmp_path, n_buckets=4)


def test_a_few_rows_far_past_the_rest_warn_as_on_one_machine(raw_tables, tmp_path):
    # three usage rows with a mistyped year set observed_until a year late:
    # Events warns, and so does a layout written from the raw tables
    usage = raw_tables["usage"]
    late = usage.tail(3).assign(time=usage["time"].tail(3) + pd.DateOffset(years=1))
    tables = {**raw_tables, "usage": pd.concat([usage, late], ignore_index=True)}
    with pytest.warns(ck.DataQualityWarning, match=r"3 row\(s\) \('usage'.time: 3\)"):
        layout = ckd.write_layout(tables, tmp_path / "late", n_buckets=4)
    assert layout.observed_until > usage["time"].max() + pd.Timedelta("300D")
    with warnings.catch_warnings():  # a given observed_until: nothing to say
        warnings.simplefilter("error", ck.DataQualityWarning)
        until = usage["time"].max().normalize() + pd.Timedelta("1D")
        ckd.write_layout(tables, tmp_path / "given", n_buckets=4, observed_until=until)


def test_a_cutoff_table_without_cutoff_time_is_named(layout):
    # was a bare KeyError from inside the meta computation
    X = pd.DataFrame({"customer_id": ["C-00001"], "when": [pd.Timestamp("2025-01-01")]})
    with pytest.raises(ck.SchemaError, match=r"X has no \['cutoff_time'\]"):
        ckd.label_churn(layout, X, horizon="30D")


def test_write_layout_refuses_ids_typed_two_ways(tmp_path):
    # a layout's buckets hash ids by their type, so ints in one table and text
    # in another are refused here (a single machine joins 1 and "1" since
    # docs/reliability.md row 191), as is one column mixing ints and text
    # (Dask turned them into text, silently)
    customers = pd.DataFrame({"customer_id": [1, 2], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {"customer_id": ["1", "2"], "time": "2024-02-01", "event": "login"}
    )
    tables = {"customers": customers, "usage": usage.astype({"customer_id": "str"})}
    with pytest.raises(ck.SchemaError, match="is int64 in table 'customers' but"):
        ckd.write_layout(tables, tmp_path / "a", n_buckets=4)
    assert not (tmp_path / "a" / "usage").exists()  # refused before writing
    mixed = customers.astype({"customer_id": object})
    mixed.loc[1, "customer_id"] = "2"
    with pytest.raises(ck.SchemaError, match=r"mixes types \['int', 'str'\]"):
        ckd.write_layout({"customers": mixed}, tmp_path / "b", n_buckets=4)


@pytest.mark.parametrize("name", ckd.__all__)
def test_public_docstrings(name):
    from numpydoc.validate import validate

    obj = getattr(ckd, name)
    errors = validate(f"{obj.__module__}.{obj.__qualname__}")["errors"]
    wanted = {"GL08", "SS01", "PR01", "PR02", "RT01"} - (
        {"RT01"} if isinstance(obj, type) else set()
    )
    assert not [e for e in errors if e[0] in wanted], errors


def test_a_bucket_column_of_another_layout_is_named(layout, client):
    """Cutoffs bucketed for 16 buckets, used on this 8-bucket layout: the
    error names the column, not an empty bucket or unknown customers."""
    from churnkit.distributed import bucket_of

    cutoffs = ckd.make_cutoffs(layout, start=START, end=START).compute()
    cutoffs["bucket"] = bucket_of(cutoffs["customer_id"], 16).astype("int32")
    with pytest.raises(ck.exceptions.SchemaError, match="`bucket` column is not"):
        ckd.label_churn(layout, cutoffs, horizon="30D").compute()


def test_the_task_graph_carries_the_model_without_its_store(
    layout, fitted_xgboost, latest, monkeypatch
):
    """Each task attaches its bucket's store: the model in the graph has none,
    the caller's keeps its own."""
    import churnkit.dask._flow as flow

    shipped = {}
    original = flow.map_rows

    def spy(X, layout, fn, kwargs):
        shipped.update(kwargs)
        return original(X, layout, fn, kwargs)

    monkeypatch.setattr(flow, "map_rows", spy)
    model = fitted_xgboost
    before = model.named_steps["features"].events
    got = ckd.score(model, layout, latest).compute()
    assert len(got) == len(latest.compute())
    assert shipped["model"].named_steps["features"].events is None
    assert model.named_steps["features"].events is before


@pytest.mark.parametrize("n_buckets", [0, 2.5])
def test_write_layout_refuses_a_bad_n_buckets_before_touching_the_folder(
    tmp_path, n_buckets
):
    customers = pd.DataFrame(
        {"customer_id": ["a"], "signup_time": [pd.Timestamp("2024-01-01")]}
    )
    with pytest.raises(ck.ChurnkitError, match="`n_buckets` must be a positive"):
        ckd.write_layout({"customers": customers}, tmp_path / "a", n_buckets=n_buckets)
    assert not (tmp_path / "a").exists()

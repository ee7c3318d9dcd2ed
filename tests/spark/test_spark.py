"""churnkit.spark on a local Spark session equals the single-machine run.

One local session (``local[2]``, 4 shuffle partitions, no UI) serves the
module. The layout is written from Spark DataFrames of the built-in data (300
customers, 8 buckets); cutoffs, labels, features and scores computed per
bucket with ``applyInPandas`` are compared with ``ck.make_cutoffs``,
``ck.label_churn`` and the fitted pipeline of ``tests/conftest.py`` on the
whole store: equal, features bit for bit. The Spark-trained model
(``xgboost.spark``) is compared within a tolerance.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import ChurnkitTypeError, SchemaError

if importlib.util.find_spec("pyspark") is None:
    pytest.skip(
        "pyspark is not installed (pip install 'churnkit[spark]')",
        allow_module_level=True,
    )
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip(
        "Spark needs a Java runtime (java not on PATH, JAVA_HOME unset)",
        allow_module_level=True,
    )

import churnkit.spark as cks  # noqa: E402

pytestmark = [
    # with `-n auto --dist loadgroup` the module's tests share one worker (one
    # Spark session); other --dist modes may start one session per worker
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings(
        # pyspark 4.x announces that pandas 3 is not fully supported yet
        "ignore:PySpark does not yet fully support:FutureWarning",
        "ignore::ResourceWarning",
        # pyspark's own pandas calls under pandas 3
        "ignore:The copy keyword is deprecated",
    ),
]

START, END, HORIZON = "2024-03-01", "2025-05-01", "30D"
KEYS = ["customer_id", "cutoff_time"]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("churnkit-tests")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.default.parallelism", "2")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .config("spark.python.worker.reuse", "true")
            .config("spark.pyspark.python", sys.executable)  # this environment
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def layout(spark, saas, tmp_path_factory):
    tables = {
        name: spark.createDataFrame(getattr(saas, name))
        for name in ("customers", "usage", "billing", "support", "churn")
    }
    path = tmp_path_factory.mktemp("spark") / "layout"
    return cks.write_layout(
        tables, path, n_buckets=8, observed_until=saas.events.observed_until
    )


def _local(frame: pd.DataFrame) -> pd.DataFrame:
    """A pandas result keyed by customer_id/cutoff_time columns, sorted."""
    if "customer_id" in (frame.index.names or []):
        frame = frame.reset_index()
    frame = frame.drop(columns=["bucket"], errors="ignore").copy()
    frame["customer_id"] = frame["customer_id"].astype(str).astype(object)
    frame["cutoff_time"] = frame["cutoff_time"].astype("datetime64[ns]")
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_datetime64_dtype(dtype)
        ):  # text as Python str objects, missing as None
            text = frame[column].astype(object)
            frame[column] = text.where(text.notna(), None).map(
                lambda v: v if v is None else str(v)
            )
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _collect(sdf) -> pd.DataFrame:
    return _local(sdf.toPandas())


# ------------------------------------------------------------ no Spark needed
def test_import_churnkit_spark_does_not_import_pyspark():
    code = (
        "import sys, churnkit, churnkit.spark; "
        "assert 'pyspark' not in sys.modules, 'pyspark imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_docstrings():
    from numpydoc import validate as numpydoc_validate

    bad = {}
    for name in cks.__all__:
        obj = getattr(cks, name)
        checks = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
        if isinstance(obj, type):
            checks -= {"RT01"}
        result = numpydoc_validate.validate(f"churnkit.spark.{name}")
        errors = [c for c, _ in result["errors"] if c in checks]
        if errors:
            bad[name] = errors
    assert not bad


def test_trainer_best_rounds_follows_the_local_rule():
    from churnkit.spark._trainer import best_rounds

    losses = np.ones(60)  # losses[i]: hold-out log-loss after i + 1 rounds
    losses[[4, 9, 14]] = [0.9, 0.8, 0.7]  # rounds 5, 10, 15 improve
    losses[11] = 0.1  # round 12 is never read (only every 5th round is)
    losses[19:] = 0.75  # no improvement from round 20 on...
    losses[44] = 0.1  # ...and round 45 comes after the stop at 15 + 25 = 40
    assert best_rounds(losses, 5, 25) == 15
    assert best_rounds(np.ones(60), 5, 25) == 5  # the first of equal losses
    assert best_rounds(np.linspace(1, 0, 40), 5, 25) == 40


# ------------------------------------------------------------------ layout
def test_layout_from_spark_holds_the_single_machine_buckets(layout, saas, tmp_path):
    reference = ck.distributed.write_layout(saas.events, tmp_path / "ref", n_buckets=8)
    assert layout.buckets == reference.buckets
    pd.testing.assert_frame_equal(layout.rows(), reference.rows(), check_like=True)
    assert layout.observed_until == saas.events.observed_until
    assert layout.first_event_time == saas.events.first_event_time
    bucket = layout.buckets[0]
    mine, theirs = layout.read(bucket), reference.read(bucket)
    assert mine.n_customers == theirs.n_customers
    for table in ("usage", "billing", "support"):
        a = _sorted_events(mine.frame(table))
        b = _sorted_events(theirs.frame(table))
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)


def _sorted_events(frame):
    frame = frame.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) and not (
            pd.api.types.is_datetime64_any_dtype(frame[column])
        ):
            frame[column] = frame[column].astype(str)
        elif pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].astype("datetime64[ns]")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# ------------------------------------------------------- cutoffs and labels
def test_cutoffs_and_labels_equal_the_single_machine_run(layout, saas, labelled):
    cutoffs = cks.make_cutoffs(layout, start=START, end=END)
    assert cutoffs.columns == ["customer_id", "cutoff_time", "bucket"]
    expected = ck.make_cutoffs(saas.events, start=START, end=END)
    pd.testing.assert_frame_equal(_collect(cutoffs), _local(expected))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = cks.label_churn(layout, cutoffs, horizon=HORIZON)
        got = _collect(labels)
    X, y = labelled
    pd.testing.assert_frame_equal(got, _local(X.assign(churned=y)))


def test_the_schema_probe_warns_about_no_row_of_the_user(layout):
    # the probe labels one customer at observed_until: every label_churn
    # warned "excluded 1 of 1 cutoff rows (1 censored)", on clean data too
    cutoffs = cks.make_cutoffs(layout, start=START, end=END)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cks.label_churn(layout, cutoffs, horizon=HORIZON)
    said = [
        str(w.message) for w in caught if issubclass(w.category, ck.ChurnkitWarning)
    ]
    assert not [m for m in said if "1 of 1 cutoff rows" in m], said


# ------------------------------------------------------- features and scores
def test_features_and_scores_equal_the_single_machine_run(
    spark, layout, labelled, fitted_xgboost
):
    X, y = labelled
    rows = X.iloc[::7].reset_index(drop=True)  # a few hundred rows, all buckets
    sdf = spark.createDataFrame(rows)

    features = cks.compute_features(fitted_xgboost, layout, sdf)
    expected = fitted_xgboost.steps[0][1].transform(rows)
    pd.testing.assert_frame_equal(
        _collect(features), _local(expected), check_exact=True
    )

    scores = cks.score(fitted_xgboost, layout, sdf, explain=2)
    got = _collect(scores)
    want = _local(rows.assign(p=fitted_xgboost.predict_proba(rows)[:, 1]))
    pd.testing.assert_frame_equal(got[KEYS], want[KEYS])
    np.testing.assert_array_equal(got["churn_probability"], want["p"])

    def scores_of(events, X):
        return ck.distributed.bucket_scores(fitted_xgboost, events, X, explain=2)

    local = ck.distributed.run_local(layout, scores_of, rows)
    pd.testing.assert_frame_equal(got, _local(local), check_exact=True)


def test_builder_fitted_on_spark_equals_the_single_machine_builder(
    spark, layout, labelled, fitted_xgboost
):
    X, _ = labelled
    builder = cks.fit_features(
        ck.ChurnFeatures(None), layout, spark.createDataFrame(X), horizon=HORIZON
    )
    expected = fitted_xgboost.steps[0][1]
    assert builder.events is None
    assert list(builder.get_feature_names_out()) == list(
        expected.get_feature_names_out()
    )
    rows = X.iloc[::11]
    ck.set_events(builder, fitted_xgboost.steps[0][1].events)
    pd.testing.assert_frame_equal(
        builder.transform(rows), expected.transform(rows), check_exact=True
    )
    # the typical values of reason texts: medians of every bucket's rows
    pd.testing.assert_frame_equal(builder.reference_, expected.reference_)


# ------------------------------------------------------------------ training
def _split(X, y):
    """Train on cutoffs whose 30 days closed by 2025-02-01, test on later ones."""
    cut = pd.Timestamp("2025-02-01")
    train = X["cutoff_time"] + pd.Timedelta(HORIZON) <= cut
    return train.to_numpy(), (X["cutoff_time"] >= cut).to_numpy()


def _fit_both(spark, layout, events, X, y, train, num_workers):
    """The same pipeline fitted on one machine and on Spark, same rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        local = ck.make_churn_pipeline(events, model="xgboost", random_state=0)
        local.fit(X[train], y[train])
        labels = spark.createDataFrame(X[train].assign(churned=y[train].to_numpy()))
        model = ck.make_churn_pipeline(None, model="xgboost", random_state=0)
        cks.fit(model, layout, labels, horizon=HORIZON, num_workers=num_workers)
    return local, model


def test_spark_trained_model_with_one_worker_equals_the_local_fit(
    spark, layout, saas, labelled
):
    # one xgboost worker sees the rows in the local fit's order (cutoff, id):
    # xgboost.spark then boosts exactly the trees ChurnClassifier.fit boosts
    X, y = labelled
    train, test = _split(X, y)
    local, model = _fit_both(spark, layout, saas.events, X, y, train, 1)
    clf, ref = model.steps[-1][1], local.steps[-1][1]
    assert type(clf.estimator_).__name__ == "XGBClassifier"
    assert clf.holdout_ == ref.holdout_
    assert clf.best_iteration_ == ref.best_iteration_
    assert list(clf.feature_names_in_) == list(ref.feature_names_in_)
    assert model.steps[0][1].events is None
    assert b"pyspark" not in pickle.dumps(model)  # an ordinary fitted pipeline
    ck.set_events(model, saas.events)
    np.testing.assert_array_equal(
        model.predict_proba(X[test]), local.predict_proba(X[test])
    )


@pytest.mark.slow
def test_spark_trained_model_with_two_workers_is_close(spark, tmp_path):
    from sklearn.metrics import roc_auc_score

    # 1,500 customers: with 300 the test AUC moves by 0.01 between two
    # equally good fits; two workers sketch their quantiles and sample rows
    # apart (and xgboost ranks workers as they connect), so close, not equal
    data = ck.datasets.make_saas_events(n_customers=1500, random_state=1)
    tables = {
        name: spark.createDataFrame(getattr(data, name))
        for name in ("customers", "usage", "billing", "support", "churn")
    }
    layout = cks.write_layout(
        tables, tmp_path / "big", n_buckets=8, observed_until=data.events.observed_until
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        cutoffs = ck.make_cutoffs(data.events, start=START, end=END)
        labels = ck.label_churn(data.events, cutoffs, horizon=HORIZON)
    X, y = labels[KEYS], labels["churned"]
    train, test = _split(X, y)
    local, model = _fit_both(spark, layout, data.events, X, y, train, 2)
    ck.set_events(model, data.events)
    p_spark = model.predict_proba(X[test])[:, 1]
    p_local = local.predict_proba(X[test])[:, 1]
    assert np.abs(p_spark - p_local).mean() < 0.02
    auc_spark = roc_auc_score(y[test], p_spark)
    auc_local = roc_auc_score(y[test], p_local)
    assert abs(auc_spark - auc_local) < 0.01, (auc_spark, auc_local)


@pytest.mark.slow
def test_spark_fitted_logistic_model_equals_the_local_fit(
    spark, layout, saas, labelled
):
    # other models than xgboost are fitted on the feature rows collected to
    # the driver: every row here (fewer than sample_rows), so the same model
    X, y = labelled
    train, test = _split(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        local = ck.make_churn_pipeline(saas.events, model="logistic", random_state=0)
        local.fit(X[train], y[train])
        labels = spark.createDataFrame(X[train].assign(churned=y[train].to_numpy()))
        model = ck.make_churn_pipeline(None, model="logistic", random_state=0)
        cks.fit(model, layout, labels, horizon=HORIZON)
    ck.set_events(model, saas.events)
    np.testing.assert_allclose(
        model.predict_proba(X[test]), local.predict_proba(X[test]), rtol=0, atol=1e-12
    )


# ------------------------------------------------------------------ results
def test_write_results_parquet_round_trip(spark, layout, tmp_path):
    today = cks.make_cutoffs(layout, at="2025-05-01")
    fmt = cks.write_results(today, str(tmp_path / "out"), format="parquet")
    assert fmt == "parquet"
    back = pd.read_parquet(tmp_path / "out")  # hive partitions: bucket=<k>/
    pd.testing.assert_frame_equal(_local(back), _collect(today))
    assert sorted(back["bucket"].astype(int).unique()) == layout.buckets


def test_write_results_auto_is_parquet_without_delta(spark, layout, tmp_path):
    if importlib.util.find_spec("delta") is not None:
        pytest.skip("delta-spark is installed: format='auto' may write Delta")
    assert cks.delta_available(spark) is False
    today = cks.make_cutoffs(layout, at="2025-05-01")
    assert cks.write_results(today, str(tmp_path / "auto")) == "parquet"
    assert len(pd.read_parquet(tmp_path / "auto")) > 0


# ------------------------------------------------------------------ errors
def test_customers_outside_the_layout_are_named(spark, layout, fitted_xgboost):
    rows = pd.DataFrame(
        {"customer_id": ["NOPE-1"], "cutoff_time": [pd.Timestamp("2025-01-01")]}
    )
    with pytest.raises(Exception, match="NOPE-1"):
        cks.score(fitted_xgboost, layout, spark.createDataFrame(rows)).collect()


def test_inputs_are_checked_before_any_job(layout):
    with pytest.raises(ChurnkitTypeError, match="Spark DataFrame"):
        cks.label_churn(layout, pd.DataFrame({"customer_id": ["a"]}), horizon="30D")
    with pytest.raises(SchemaError, match="format"):
        cks.write_results(None, "x", format="csv")


def test_write_layout_refuses_ids_typed_two_ways(spark, tmp_path):
    customers = pd.DataFrame({"customer_id": [1, 2], "signup_time": "2024-01-01"})
    usage = pd.DataFrame(
        {"customer_id": ["1", "2"], "time": "2024-02-01", "event": "login"}
    )
    tables = {
        "customers": spark.createDataFrame(
            customers.assign(signup_time=pd.to_datetime(customers.signup_time))
        ),
        "usage": spark.createDataFrame(usage.assign(time=pd.to_datetime(usage.time))),
    }
    with pytest.raises(SchemaError, match="is bigint in table 'customers' but string"):
        cks.write_layout(tables, tmp_path / "a", n_buckets=4)


def test_write_layout_refuses_a_bad_n_buckets_before_any_job(spark, tmp_path):
    customers = pd.DataFrame(
        {"customer_id": ["a"], "signup_time": [pd.Timestamp("2024-01-01")]}
    )
    tables = {"customers": spark.createDataFrame(customers)}
    # was a Java IllegalArgumentException from repartition(0)
    with pytest.raises(SchemaError, match="`n_buckets` must be a positive integer"):
        cks.write_layout(tables, tmp_path / "a", n_buckets=0)
    assert not (tmp_path / "a").exists()


def test_a_cutoff_table_that_cannot_match_is_refused_on_the_driver(spark, layout):
    """Int ids against the layout's text ids, or no cutoff_time column: a
    churnkit error before any job (they came back as Java stacks)."""
    ints = spark.createDataFrame(
        pd.DataFrame({"customer_id": [1], "cutoff_time": [pd.Timestamp("2025-01-01")]})
    )
    with pytest.raises(SchemaError, match=r"customer_id is bigint .*cast\('string'\)"):
        cks.label_churn(layout, ints, horizon="30D")
    renamed = ints.withColumnRenamed("cutoff_time", "when")
    with pytest.raises(SchemaError, match=r"lacks the column\(s\) \['cutoff_time'\]"):
        cks.label_churn(layout, renamed, horizon="30D")

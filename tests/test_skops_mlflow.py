"""skops and MLflow: plain fitted state, pickle-free model files, MLflow runs.

skops and MLflow are optional (``churnkit[mlflow]``): their tests skip when
they are not installed.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit._plainstate import decode, encode

sio = pytest.importorskip("skops.io")


@pytest.fixture(scope="module")
def fitted(saas, labelled):
    """Fitted logistic and xgboost churn pipelines on the shared SaaS data."""
    X, y = labelled
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        for model in ("logistic", "xgboost"):
            pipe = ck.make_churn_pipeline(saas.events, model, random_state=0)
            out[model] = pipe.fit(X, y)
    return out


@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_skops_round_trip_of_a_fitted_pipeline(fitted, saas, labelled, model):
    X, _ = labelled
    pipe = fitted[model]
    payload = sio.dumps(pipe)
    untrusted = sio.get_untrusted_types(data=payload)
    # nothing outside the documented list: no pandas, no Events, no pickle
    assert set(untrusted) <= set(ck.skops_trusted_types()), untrusted
    assert not any(t.startswith(("pandas.", "builtins.")) for t in untrusted)
    loaded = sio.loads(payload, trusted=ck.skops_trusted_types())
    assert loaded[0].events is None  # detached: data, not model state
    assert pipe[0].events is saas.events  # the fitted model keeps its store
    ck.set_events(loaded, saas.events)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    # fitted state comes back in its own types
    assert loaded[0].training_cutoffs_ == pipe[0].training_cutoffs_
    assert loaded[-1].holdout_ == pipe[-1].holdout_
    assert all(isinstance(t, pd.Timestamp) for t in loaded[-1].holdout_["cutoffs"])


def test_skops_refuses_churnkit_types_unless_trusted(fitted):
    payload = sio.dumps(fitted["logistic"])
    with pytest.raises(Exception, match="Untrusted types"):
        sio.loads(payload)


def test_pickle_and_clone_keep_the_store(fitted, saas):
    # only skops detaches the events: joblib workers still get the store
    copy = pickle.loads(pickle.dumps(fitted["logistic"]))
    assert copy[0].events is not None


@pytest.mark.parametrize(
    "value",
    [
        pd.Timestamp("2024-03-01 12:00", tz="Europe/Paris"),
        pd.Timedelta("30D"),
        (1, "a", None),
        {1: pd.Timestamp("2024-01-01"), "x": [1.5, np.int64(3)]},
        pd.Index(["a", "b"], name="k"),
        pd.DatetimeIndex(["2024-01-01", "2024-02-01"], name="cutoff_time"),
        pd.Categorical(["x", "y", "x"], categories=["y", "x"]),
        np.array(["a", None, "c"], dtype=object),
    ],
    ids=lambda v: type(v).__name__,
)
def test_plain_encoding_round_trips(value):
    back = decode(encode(value))
    if isinstance(value, pd.Index):
        pd.testing.assert_index_equal(back, value)
    elif isinstance(value, pd.Categorical):
        pd.testing.assert_extension_array_equal(back, value)
    elif isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_plain_encoding_round_trips_a_frame():
    index = pd.MultiIndex.from_arrays(
        [["a", "b"], pd.to_datetime(["2024-01-01", "2024-02-01"])],
        names=["customer_id", "cutoff_time"],
    )
    frame = pd.DataFrame(
        {"n": [1.5, np.nan], "plan": pd.Categorical(["pro", None]), "s": ["x", None]},
        index=index,
    )
    frame.attrs["feature_directions"] = {"n": "higher"}
    back = decode(encode(frame))
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs


def test_decoding_refuses_types_outside_churnkit():
    crafted = {"__ck__": "dataclass", "type": "os:system", "state": {}}
    with pytest.raises(TypeError, match="not a churnkit type"):
        decode(crafted)


# --------------------------------------------------------------------------- #
# ck.save(format="skops")
# --------------------------------------------------------------------------- #
def test_save_and_load_in_skops_format(fitted, saas, labelled, tmp_path, caplog):
    X, _ = labelled
    path = ck.save(fitted["logistic"], tmp_path / "m.ckm", format="skops")
    header = ck.read_header(path)
    assert header["format"] == 3 and header["payload_format"] == "skops"
    with caplog.at_level("INFO", logger="churnkit"):
        loaded = ck.load(path, events=saas.events)
    assert loaded.churnkit_metadata_["payload_format"] == "skops"
    assert any("skops payload" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(
        loaded.predict_proba(X), fitted["logistic"].predict_proba(X)
    )
    pickled = ck.load(ck.save(fitted["logistic"], tmp_path / "p.ckm"))
    assert pickled.churnkit_metadata_["payload_format"] == "pickle"


def test_skops_file_with_an_untrusted_type_is_refused(tmp_path):
    import os

    from sklearn.preprocessing import FunctionTransformer

    evil = FunctionTransformer(func=os.system).fit(np.zeros((2, 1)))
    path = ck.save(evil, tmp_path / "evil.ckm", format="skops")
    with pytest.raises(ck.ChurnkitError, match="does not trust.*system"):
        ck.load(path)


def test_skops_format_options_are_checked(fitted, tmp_path):
    with pytest.raises(ck.ChurnkitTypeError, match="never stores the Events"):
        ck.save(
            fitted["logistic"], tmp_path / "m.ckm", format="skops", include_events=True
        )
    with pytest.raises(ck.ChurnkitTypeError, match="'pickle' or 'skops'"):
        ck.save(fitted["logistic"], tmp_path / "m.ckm", format="json")


# --------------------------------------------------------------------------- #
# MLflow
# --------------------------------------------------------------------------- #
def test_mlflow_logs_and_loads_a_churn_pipeline(
    fitted, saas, labelled, tmp_path, monkeypatch
):
    mlflow = pytest.importorskip("mlflow")
    import churnkit.mlflow as ck_mlflow

    # MLflow 3 keeps the file store for local use behind this switch
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    mlflow.set_experiment("churn")
    X, _ = labelled
    pipe = fitted["logistic"]
    info = ck_mlflow.log_model(
        pipe, X_example=X.head(), metrics={"roc_auc": 0.81}, horizon="30D"
    )
    inputs = [c["name"] for c in info.signature.inputs.to_dict()]
    assert inputs == ["customer_id", "cutoff_time"]
    run = mlflow.get_run(info.run_id)
    assert run.data.tags["churnkit_version"] == ck.__version__
    assert run.data.metrics["roc_auc"] == pytest.approx(0.81)
    loaded = ck_mlflow.load_model(info.model_uri, events=saas.events)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert loaded[0].events is saas.events


def test_metadata_requests_survive_skops():
    # set_fit_request keeps objects pointing at each other: skops recursed
    import sklearn

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(size=300) > 0.5).astype(int)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = ck.ChurnClassifier("logistic").set_fit_request(sample_weight=True)
        clf.fit(X, y, sample_weight=np.ones(300))
        back = sio.loads(sio.dumps(clf), trusted=ck.skops_trusted_types())
        assert back.get_metadata_routing().fit.requests == {"sample_weight": True}
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))

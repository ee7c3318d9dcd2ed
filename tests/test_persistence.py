"""Saving and loading models: round trips, events detached, corrupt files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import churnkit as ck
from churnkit.exceptions import ChurnkitError, ChurnkitWarning, SchemaError


def _data():
    rng = np.random.default_rng(0)
    n = 60
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "signup_time": pd.Timestamp("2024-01-01"),
        }
    )
    times = pd.Timestamp("2024-01-02") + pd.to_timedelta(rng.integers(0, 150, 600), "D")
    usage = pd.DataFrame(
        {
            "customer_id": rng.choice(customers["customer_id"], 600),
            "time": times,
            "event": rng.choice(["login", "export"], 600),
        }
    )
    events = ck.Events(customers=customers, usage=usage)
    X = ck.make_cutoffs(events, at=["2024-04-01", "2024-05-01"])
    y = rng.integers(0, 2, len(X))
    return events, X, y


def _model(events):
    return Pipeline(
        [
            ("features", ck.ChurnFeatures(events, include=("usage",))),
            ("impute", _FillNa()),
            ("model", LogisticRegression(max_iter=500)),
        ]
    )


class _FillNa:
    """A tiny picklable transformer (module-level so pickle finds it)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.fillna(0)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def test_round_trip_gives_identical_predictions_and_metadata(tmp_path):
    events, X, y = _data()
    model = _model(events).fit(X, y)
    path = ck.save(model, tmp_path / "m.ckm", horizon="30D", metrics={"roc_auc": 0.8})
    loaded = ck.load(path, events=events)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    meta = loaded.churnkit_metadata_
    assert meta["horizon"] == "30D"
    assert meta["metrics"] == {"roc_auc": 0.8}
    assert meta["versions"]["churnkit"] == ck.__version__
    assert meta["training_cutoffs"]["rows"] == len(X)
    assert meta["feature_names"][0].startswith("usage__")
    assert ck.read_header(path)["sha256"] == meta["sha256"]


def test_events_are_left_out_unless_asked(tmp_path):
    events, X, y = _data()
    model = _model(events).fit(X, y)
    small = ck.save(model, tmp_path / "small.ckm")
    big = ck.save(model, tmp_path / "big.ckm", include_events=True)
    assert big.stat().st_size > small.stat().st_size
    detached = ck.load(small)
    assert detached[0].events is None
    with pytest.raises(SchemaError, match="set_events"):
        detached.predict_proba(X)
    attached = ck.load(big)
    np.testing.assert_array_equal(attached.predict_proba(X), model.predict_proba(X))
    # the original model keeps its store
    assert model[0].events is events


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda b: b[:-10], "truncated"),
        (lambda b: b[:-10] + b"0123456789", "corrupted"),
        (lambda b: b"not a model" + b, "not a churnkit model"),
    ],
)
def test_damaged_files_fail_before_unpickling(tmp_path, damage, match):
    events, X, y = _data()
    path = ck.save(_model(events).fit(X, y), tmp_path / "m.ckm")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ChurnkitError, match=match):
        ck.load(path)


def test_other_version_warns(tmp_path, monkeypatch):
    events, X, y = _data()
    path = ck.save(_model(events).fit(X, y), tmp_path / "m.ckm")
    monkeypatch.setattr("churnkit.persistence.VERSION", "9.9.9")
    with pytest.warns(ChurnkitWarning, match="saved with churnkit"):
        ck.load(path, events=events)


def test_failed_save_leaves_no_file(tmp_path):
    class Unpicklable:
        def __reduce__(self):
            raise TypeError("cannot pickle this")

    with pytest.raises(TypeError, match="cannot be saved"):
        ck.save(Unpicklable(), tmp_path / "m.ckm")
    assert list(tmp_path.iterdir()) == []


def test_missing_file():
    with pytest.raises(ChurnkitError, match="does not exist"):
        ck.load("no/such/model.ckm")

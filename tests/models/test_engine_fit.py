"""The engine fit hook: the driver-side half of an xgboost fit on a cluster.

``fit_on_engine`` with the in-process ``LocalTrainer`` (which boosts with the
code ``ChurnClassifier.fit`` uses) must give the model a single-machine fit
gives, attribute for attribute.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

import churnkit as ck
from churnkit.models._engine_fit import (
    BoostSpec,
    LocalTrainer,
    count_labels,
    fit_on_engine,
)


def panel(n_customers=700, n_cutoffs=6, seed=0):
    """Customers x monthly cutoffs; churn depends on two numbers and a plan."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [[f"C{i:04d}" for i in range(n_customers)], cutoffs],
        names=["customer_id", "cutoff_time"],
    )
    n = len(index)
    plan = rng.choice(["free", "pro", "team", "rare"], n, p=[0.5, 0.3, 0.198, 0.002])
    X = pd.DataFrame(
        {
            "logins": rng.poisson(5, n).astype(float),
            "tickets": rng.poisson(1, n).astype(float),
            "plan": pd.Categorical(plan),
        },
        index=index,
    )
    X.attrs["feature_directions"] = {"logins": "lower", "tickets": "higher"}
    risk = -0.4 * X["logins"] + 0.8 * X["tickets"] + (plan == "free")
    y = (risk + rng.logistic(size=n) > 1.5).astype(int).to_numpy()
    return X, y


def engine_fit(model, X, y, **kwargs):
    counts = count_labels(X.index.get_level_values("cutoff_time"), y)
    return fit_on_engine(model, X, counts, LocalTrainer(X, y), **kwargs)


FITTED = [
    "classes_",
    "n_features_in_",
    "feature_names_in_",
    "feature_map_",
    "model_kind_",
    "monotone_constraints_",
    "best_iteration_",
    "holdout_",
]


def test_engine_fit_with_the_local_trainer_is_the_local_fit():
    X, y = panel()
    shuffled = np.random.default_rng(1).permutation(len(X))  # order must not matter
    Xs, ys = X.iloc[shuffled], y[shuffled]
    local = ck.ChurnClassifier(random_state=0).fit(X, y)
    engine = engine_fit(ck.ChurnClassifier(random_state=0), Xs, ys)
    for name in FITTED:
        np.testing.assert_equal(getattr(engine, name), getattr(local, name), name)
    assert engine.monotone_constraints_ == {"logins": -1, "tickets": 1}
    assert engine.holdout_["kind"] == "latest_cutoffs"
    assert engine.preprocessor_.categories_ == local.preprocessor_.categories_
    assert vars(engine.calibrator_) == vars(local.calibrator_)  # fitted here
    assert engine.estimator_.get_params() == local.estimator_.get_params()
    np.testing.assert_allclose(
        engine.predict_proba(X), local.predict_proba(X), rtol=0, atol=1e-6
    )
    again = pickle.loads(pickle.dumps(engine))
    np.testing.assert_array_equal(again.predict_proba(X), engine.predict_proba(X))


def test_engine_fit_of_a_pipeline_predicts_and_explains_like_the_local_fit(
    fitted_xgboost, labelled, saas, tmp_path
):
    X, y = labelled
    features = fitted_xgboost[0]  # fitted: an engine fits it from all buckets
    F = features.transform(X)
    pipe = Pipeline([("features", features), ("model", clone(fitted_xgboost[-1]))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        assert engine_fit(pipe, F, y.to_numpy(), sample_y=y) is pipe
    rows = X.iloc[:300]
    np.testing.assert_allclose(
        pipe.predict_proba(rows), fitted_xgboost.predict_proba(rows), atol=1e-6
    )
    ck.save(pipe, tmp_path / "engine.ck")
    loaded = ck.set_events(ck.load(tmp_path / "engine.ck"), saas.events)
    np.testing.assert_array_equal(loaded.predict_proba(rows), pipe.predict_proba(rows))
    ours = ck.ChurnExplainer(pipe).explain(rows.iloc[:20])
    theirs = ck.ChurnExplainer(fitted_xgboost).explain(rows.iloc[:20])
    np.testing.assert_allclose(ours.values, theirs.values, atol=1e-6)


def test_one_cutoff_boosts_fixed_rounds_without_calibration():
    X, y = panel(n_cutoffs=1)
    with pytest.warns(ck.CalibrationWarning, match="one cutoff time"):
        model = engine_fit(ck.ChurnClassifier(random_state=0), X, y)
    assert model.holdout_["kind"] is None and model.calibrator_ is None
    assert model.best_iteration_ == 99  # FALLBACK_ROUNDS - 1
    assert model.estimator_.get_booster().num_boosted_rounds() == 100


def test_too_few_churners_in_the_hold_out_means_no_hold_out():
    X, y = panel(n_customers=25)
    with pytest.warns(ck.CalibrationWarning, match="at least 10 of each"):
        model = engine_fit(ck.ChurnClassifier(random_state=0), X, y)
    assert model.holdout_["kind"] is None


def test_hold_out_cutoffs_are_the_latest_as_in_a_local_fit():
    X, y = panel(n_customers=300, n_cutoffs=10)
    local = ck.ChurnClassifier(random_state=3, validation_fraction=0.35).fit(X, y)
    engine = engine_fit(
        ck.ChurnClassifier(random_state=3, validation_fraction=0.35), X, y
    )
    # 10 cutoffs of 300 rows: the latest 4 (1,200 rows) are >= 35 % of 3,000
    assert engine.holdout_["cutoffs"] == list(
        pd.date_range("2024-07-01", periods=4, freq="MS")
    )
    assert engine.holdout_ == local.holdout_


def test_the_spec_marks_hold_out_rows_by_cutoff_time():
    hold = (pd.Timestamp("2024-03-01"),)
    spec = BoostSpec(None, {}, {}, hold, 1, seed=0, n_jobs=None)
    times = pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-01", "2024-02-01"])
    assert spec.is_hold(times).tolist() == [False, True, True, False]
    assert not BoostSpec(None, {}, {}, (), 1, 0, None).is_hold(times).any()


def test_count_labels_by_hand():
    t = pd.to_datetime(["2024-02-01", "2024-01-01", "2024-01-01", "2024-02-01"])
    counts = count_labels(t, [1, 0, 1, 1])
    assert counts.to_dict("list") == {
        "cutoff_time": list(pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"])),
        "label": [0, 1, 1],
        "n_rows": [1, 1, 2],
    }


def test_label_counts_of_blocks_are_added_up():
    X, y = panel(n_customers=300)
    t = X.index.get_level_values("cutoff_time")
    half = len(X) // 2  # two engine blocks, counted apart
    blocks = pd.concat(
        [count_labels(t[:half], y[:half]), count_labels(t[half:], y[half:])]
    )
    trainer = LocalTrainer(X, y)
    whole = fit_on_engine(
        ck.ChurnClassifier(random_state=0), X, count_labels(t, y), trainer
    )
    split = fit_on_engine(ck.ChurnClassifier(random_state=0), X, blocks, trainer)
    assert split.holdout_ == whole.holdout_
    np.testing.assert_array_equal(split.predict_proba(X), whole.predict_proba(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model": "logistic"}, "boosts model='xgboost'"),
        ({"class_weight": "balanced"}, "class_weight=None"),
    ],
)
def test_other_models_are_refused_with_the_way_out(params, match):
    X, y = panel(n_customers=50, n_cutoffs=2)
    with pytest.raises(ck.SchemaError, match=match):
        engine_fit(ck.ChurnClassifier(**params), X, y)


def test_one_class_is_refused():
    X, y = panel(n_customers=50, n_cutoffs=2)
    with pytest.raises(ck.SchemaError, match="exactly two"):
        engine_fit(ck.ChurnClassifier(), X, np.zeros(len(y), dtype=int))


def test_an_unfitted_feature_step_is_refused(saas):
    X, y = panel(n_customers=50, n_cutoffs=2)
    pipe = ck.make_churn_pipeline(saas.events)
    with pytest.raises(ck.SchemaError, match="step 'features' is not fitted"):
        engine_fit(pipe, X, y)

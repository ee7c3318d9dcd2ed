"""ChurnClassifier(model="auto"): a fixed search on the fit rows only."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import churnkit as ck
import churnkit.models._auto as auto
from churnkit.models._xgboost import XGBOOST_PARAMS

NAMES = [name for name, _, _ in auto.AUTO_CANDIDATES]


def _static(n=600, seed=0, linear=False):
    """A static table (no cutoff times): churn from a, b (and a*b unless linear)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    logit = 1.5 * X["a"] - X["b"] + (0 if linear else 1.5 * X["a"] * X["b"]) - 1
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


def _over_time(n_customers=150, n_cutoffs=6, seed=0):
    """A feature table indexed by (customer_id, cutoff_time), like a builder's."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [np.arange(n_customers), cutoffs], names=["customer_id", "cutoff_time"]
    )
    X = pd.DataFrame(rng.normal(size=(len(index), 3)), columns=["a", "b", "c"])
    X.index = index
    y = (rng.random(len(X)) < expit(1.5 * X["a"] - X["b"] - 1)).astype(int)
    return X, y.to_numpy()


def _fit(model, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        return ck.ChurnClassifier(model, random_state=0, **params).fit(X, y)


def test_auto_is_deterministic_and_exposes_its_candidates():
    X, y = _static()
    first, second = _fit("auto", X, y), _fit("auto", X, y)
    search = first.search_
    assert search["scheme"] == "stratified_kfold" and search["n_splits"] == 3
    assert [c["name"] for c in search["candidates"]] == NAMES
    scores = [c["inner_roc_auc"] for c in search["candidates"]]
    # the first best inner score wins; the fitted model is that candidate's kind
    assert search["chosen"] == NAMES[int(np.argmax(scores))]
    chosen = search["candidates"][int(np.argmax(scores))]
    assert first.model_kind_ == chosen["model"]
    for c in search["candidates"]:
        assert c["inner_roc_auc"] == pytest.approx(np.mean(c["fold_roc_auc"]))
        assert len(c["fold_roc_auc"]) == 3 and c["fit_s"] >= 0
    assert [c["inner_roc_auc"] for c in second.search_["candidates"]] == scores
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # the row order of X changes nothing
    shuffled = np.random.default_rng(1).permutation(len(X))
    third = _fit("auto", X.iloc[shuffled], y[shuffled])
    assert third.search_["chosen"] == search["chosen"]
    np.testing.assert_allclose(third.predict_proba(X), first.predict_proba(X))


def test_auto_fits_exactly_like_the_chosen_plain_model(monkeypatch):
    X, y = _static(linear=True)
    monkeypatch.setattr(auto, "AUTO_CANDIDATES", (auto.AUTO_CANDIDATES[-1],))
    chosen = _fit("auto", X, y)
    assert chosen.search_["chosen"] == "logistic"
    plain = _fit("logistic", X, y)
    np.testing.assert_array_equal(chosen.predict_proba(X), plain.predict_proba(X))
    assert chosen.holdout_ == plain.holdout_


def test_an_xgboost_candidate_is_the_default_with_its_settings(monkeypatch):
    X, y = _static()
    name, kind, overrides = "xgboost shallow", "xgboost", {"max_depth": 2}
    monkeypatch.setattr(auto, "AUTO_CANDIDATES", ((name, kind, overrides),))
    chosen = _fit("auto", X, y)
    assert chosen.search_["chosen"] == name
    assert chosen.estimator_.get_params()["max_depth"] == 2
    # the same fit as the plain default with max_depth=2 in its settings
    monkeypatch.setitem(XGBOOST_PARAMS, "max_depth", 2)
    plain = _fit("xgboost", X, y)
    np.testing.assert_array_equal(chosen.predict_proba(X), plain.predict_proba(X))
    assert chosen.best_iteration_ == plain.best_iteration_
    # refitting the same estimator as plain xgboost drops the search's settings
    monkeypatch.setitem(XGBOOST_PARAMS, "max_depth", 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        chosen.set_params(model="xgboost").fit(X, y)
    assert not hasattr(chosen, "search_")
    assert chosen.estimator_.get_params()["max_depth"] == 4


class _Spy:
    """Stands in for a candidate: records the rows it is fitted and scored on."""

    def __init__(self, inner, log):
        self.inner, self.log = inner, log

    def fit(self, X, y, sample_weight=None):
        self.log.append(("fit", X.index))
        self.inner.fit(X, y, sample_weight=sample_weight)
        return self

    def decision_function(self, X):
        self.log.append(("score", X.index))
        return self.inner.decision_function(X)


def _spy_on_candidates(monkeypatch):
    log, make = [], ck.ChurnClassifier._candidate
    monkeypatch.setattr(
        ck.ChurnClassifier,
        "_candidate",
        lambda self, kind, overrides: _Spy(make(self, kind, overrides), log),
    )
    return log


def test_search_over_time_trains_on_earlier_and_scores_later_given_rows(
    monkeypatch,
):
    X_all, y_all = _over_time()
    given = X_all.index.get_level_values("cutoff_time") < "2024-06-01"
    X, y = X_all[given], y_all[given]  # June is never given to fit
    log = _spy_on_candidates(monkeypatch)
    clf = _fit("auto", X, y)
    assert clf.search_["scheme"] == "latest_cutoffs"
    # forward chaining over one-cutoff blocks: score May, April, March, each
    # by candidates trained on every earlier given cutoff
    assert len(log) == 2 * 3 * len(NAMES)
    for what, index in log:
        assert index.isin(X.index).all(), f"{what} used rows it was not given"
    months = pd.to_datetime(["2024-05-01", "2024-04-01", "2024-03-01"])
    for (fit_what, fitted), (score_what, scored), month in zip(
        log[0:6:2], log[1:6:2], months, strict=True
    ):
        assert (fit_what, score_what) == ("fit", "score")
        assert scored.get_level_values("cutoff_time").unique().tolist() == [month]
        fit_times = fitted.get_level_values("cutoff_time")
        assert fit_times.max() < month  # forward in time
        assert len(fitted) == 150 * (month.month - 1)  # every earlier cutoff
    assert clf.search_["scored_rows"] == [150, 150, 150]
    assert clf.search_["n_splits"] == 3


def test_forward_splits_stop_when_earlier_cutoffs_lack_churners(monkeypatch):
    X, y = _over_time()
    times = X.index.get_level_values("cutoff_time")
    y = y.copy()
    early = np.flatnonzero(times < "2024-03-01")
    y[early] = 0
    y[early[:5]] = 1  # 5 churners before March: too few to train a split on
    clf = _fit("auto", X[times < "2024-06-01"], y[times < "2024-06-01"])
    # May (trained on Jan-Apr) and April (Jan-Mar) qualify; March would
    # train on January and February alone
    assert clf.search_["scored_rows"] == [150, 150]
    for candidate in clf.search_["candidates"]:
        assert len(candidate["fold_roc_auc"]) == 2


def test_static_search_folds_partition_the_given_rows(monkeypatch):
    X_all, y_all = _static(n=900)
    X, y = X_all.iloc[:600], y_all[:600]
    log = _spy_on_candidates(monkeypatch)
    _fit("auto", X, y)
    first = log[: 2 * 3]  # the first candidate's three folds
    scored = [index for what, index in first if what == "score"]
    fitted = [index for what, index in first if what == "fit"]
    assert sorted(np.concatenate(scored).tolist()) == list(range(600))
    for fit_rows, score_rows in zip(fitted, scored, strict=True):
        assert not set(fit_rows) & set(score_rows)
        assert len(fit_rows) + len(score_rows) == 600


def test_too_few_rows_skip_the_search():
    X, y = _static(n=60)
    clf = _fit("auto", X, y, calibration=None)
    assert clf.search_["scheme"] is None and clf.search_["candidates"] == []
    assert clf.search_["chosen"] == "xgboost" and clf.model_kind_ == "xgboost"


def test_params_clone_and_pipeline():
    clf = ck.ChurnClassifier("auto", random_state=3)
    assert clone(clf).get_params() == clf.get_params()
    assert clf.get_params()["model"] == "auto"
    with pytest.raises(ck.SchemaError, match="'xgboost', 'logistic', 'auto'"):
        ck.ChurnClassifier("autox").fit(*_static(n=100))


def test_explanations_of_an_auto_pipeline_add_up(saas, labelled):
    X, y = labelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        pipe = ck.make_churn_pipeline(saas.events, model="auto", random_state=0)
        pipe.fit(X, y)
    clf = pipe.named_steps["model"]
    assert pipe.get_params()["model__model"] == "auto"
    assert clf.search_["scheme"] == "latest_cutoffs"
    assert clf.search_["chosen"] in NAMES
    rows = X.tail(60)
    ex = ck.ChurnExplainer(pipe).explain(rows)
    margin = pipe.decision_function(rows)
    total = ex.base_values.to_numpy() + ex.values.to_numpy().sum(axis=1)
    np.testing.assert_allclose(total, margin, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ex.probability.to_numpy(), pipe.predict_proba(rows)[:, 1], atol=1e-6
    )
    assert ex.model_kind == clf.model_kind_


@pytest.mark.slow  # 45 s: the plain models' checks run in tests/test_common.py
@parametrize_with_checks(
    [ck.ChurnClassifier("auto")],
    expected_failed_checks=lambda est: {
        # as for the plain models in tests/test_common.py
        "check_sample_weight_equivalence_on_dense_data": (
            "rows, not weights, are split into the hold-out"
        ),
    },
)
def test_sklearn_compatible_auto(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        check(estimator)


def test_a_saved_auto_model_loads_with_its_search(tmp_path):
    X, y = _static(n=300)
    clf = _fit("auto", X, y)
    loaded = ck.load(ck.save(clf, tmp_path / "auto.ckm"))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.search_ == clf.search_

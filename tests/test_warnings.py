"""Warnings by topic, reported at the caller's line; the churnkit logger;
churnkit's NotFittedError is scikit-learn's too; no print in the library."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from scipy.special import expit
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import churnkit as ck
from churnkit import (
    CalibrationWarning,
    CensoringWarning,
    ChurnClassifier,
    ChurnkitWarning,
    DataQualityWarning,
    LeakageWarning,
    SchemaDriftWarning,
)

PACKAGE = Path(__file__).resolve().parents[1] / "churnkit"
TOPICS = [
    CensoringWarning,
    LeakageWarning,
    CalibrationWarning,
    SchemaDriftWarning,
    DataQualityWarning,
]


def panel(n_customers=300, n_cutoffs=4, seed=0, *, leak=False):
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [[f"C{i:04d}" for i in range(n_customers)], cutoffs],
        names=["customer_id", "cutoff_time"],
    )
    usage = rng.normal(size=len(index))
    y = (rng.random(len(index)) < expit(-1.0 - 1.2 * usage)).astype(int)
    X = pd.DataFrame({"usage": usage, "noise": rng.normal(size=len(index))}, index)
    if leak:
        X["days_to_cancel"] = (1 - 2 * y) * (10.0 + rng.random(len(y)))
    return X, pd.Series(y, index=index)


def caught(func, *args, **kwargs):
    """Run ``func`` and return the warnings it issued (all recorded)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        func(*args, **kwargs)
    return records


def of(records, category):
    return [r for r in records if issubclass(r.category, category)]


# --------------------------------------------------------------------------- #
# The classes
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.__name__)
def test_every_topic_is_a_churnkit_warning(topic):
    # old filters on ChurnkitWarning (or UserWarning) keep catching everything
    assert issubclass(topic, ChurnkitWarning)
    assert issubclass(topic, UserWarning)
    assert getattr(ck, topic.__name__) is topic
    assert topic.__doc__


def test_topics_are_distinct():
    for a in TOPICS:
        for b in TOPICS:
            assert (a is b) == issubclass(a, b)


# --------------------------------------------------------------------------- #
# Each topic, where it is raised, reported at this file's line
# --------------------------------------------------------------------------- #
def test_leak_warning_is_leakage_and_points_here():
    X, y = panel(leak=True)
    records = caught(ChurnClassifier("logistic", random_state=0).fit, X, y)
    leaks = of(records, LeakageWarning)
    assert len(leaks) == 1
    assert "`days_to_cancel` alone separates" in str(leaks[0].message)
    assert leaks[0].filename == __file__


def test_warning_through_a_pipeline_still_points_at_the_caller():
    X, y = panel(leak=True)
    pipe = Pipeline([("model", ChurnClassifier("logistic", random_state=0))])
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        pipe.fit(X, y)
        line = sys._getframe().f_lineno - 1
    (leak,) = of(records, LeakageWarning)
    assert (leak.filename, leak.lineno) == (__file__, line)


def test_censoring_can_be_silenced_alone(saas):
    cutoffs = ck.make_cutoffs(saas.events, start="2025-04-01", end="2025-07-01")
    records = caught(ck.label_churn, saas.events, cutoffs, horizon="30D")
    censored = of(records, CensoringWarning)
    assert censored and all(r.filename == __file__ for r in censored)
    assert "excluded" in str(censored[0].message)
    # silencing censoring leaves the other topics on
    X, y = panel(leak=True)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=CensoringWarning)
        ck.label_churn(saas.events, cutoffs, horizon="30D")
        ChurnClassifier("logistic", random_state=0).fit(X, y)
    assert not of(records, CensoringWarning)
    assert len(of(records, LeakageWarning)) == 1


def test_old_filter_on_churnkit_warning_still_silences_everything(saas):
    cutoffs = ck.make_cutoffs(saas.events, start="2025-04-01", end="2025-07-01")
    X, y = panel(leak=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        with pytest.raises(CensoringWarning):
            ck.label_churn(saas.events, cutoffs, horizon="30D")
        with pytest.raises(LeakageWarning):
            ChurnClassifier("logistic", random_state=0).fit(X, y)


def test_skipped_calibration_is_a_calibration_warning():
    X, y = panel(n_customers=20, n_cutoffs=2)
    records = caught(ChurnClassifier("logistic").fit, X, y)
    (skipped,) = of(records, CalibrationWarning)
    assert "calibration='sigmoid' was skipped" in str(skipped.message)
    assert skipped.filename == __file__


def test_random_holdout_on_a_panel_without_cutoffs_warns():
    X, y = panel(n_customers=500)
    flat = X.reset_index(level="cutoff_time", drop=True)  # customers repeat
    clf = ChurnClassifier("logistic", random_state=0)
    records = caught(clf.fit, flat, y.to_numpy())
    (note,) = of(records, CalibrationWarning)
    assert "no `cutoff_time` index level but repeats customers" in str(note.message)
    assert "2000 rows, 500 distinct ids" in str(note.message)
    assert clf.holdout_["kind"] == "stratified_random"
    assert note.filename == __file__


def test_random_holdout_on_a_static_table_is_silent():
    X, y = panel(n_customers=1500, n_cutoffs=1)
    static = X.reset_index(level="cutoff_time", drop=True)  # one row a customer
    clf = ChurnClassifier("logistic", random_state=0)
    assert not of(caught(clf.fit, static, y.to_numpy()), CalibrationWarning)
    assert clf.holdout_["kind"] == "stratified_random"
    plain = static.reset_index(drop=True)  # RangeIndex
    assert not of(caught(clf.fit, plain, y.to_numpy()), CalibrationWarning)


def test_one_class_scores_are_data_quality_at_the_callers_line():
    # evaluate() used to report the warning inside churnkit
    records = caught(ck.evaluate, np.zeros(10, int), np.linspace(0, 1, 10))
    (one_class,) = of(records, DataQualityWarning)
    assert "no churners" in str(one_class.message)
    assert one_class.filename == __file__
    records = caught(ck.lift_table, np.zeros(10, int), np.linspace(0, 1, 10))
    assert of(records, DataQualityWarning)[0].filename == __file__


def test_text_at_predict_in_a_numeric_column_is_schema_drift():
    X, y = panel()
    clf = ChurnClassifier("logistic", calibration=None, random_state=0).fit(X, y)
    drifted = X.astype({"usage": object})
    drifted.iloc[:4, 0] = "n/a"
    records = caught(clf.predict_proba, drifted)
    (drift,) = of(records, SchemaDriftWarning)
    assert "4 of 1200 value(s) here are not numbers" in str(drift.message)
    assert drift.filename == __file__


def test_text_read_as_numbers_at_fit_is_data_quality():
    X, y = panel()
    X["noise"] = X["noise"].round(3).astype(str).astype(object)
    records = caught(ChurnClassifier("logistic", random_state=0).fit, X, y)
    assert of(records, DataQualityWarning)
    assert not of(records, SchemaDriftWarning)


def test_unseen_table_at_transform_is_schema_drift(saas):
    cutoffs = ck.make_cutoffs(saas.events, start="2024-06-01", end="2024-08-01")
    builder = ck.ProfileFeatures(saas.events, attributes=["plan"]).fit(cutoffs)
    customers = saas.events.customers
    renamed = customers.assign(plan=customers["plan"].astype(str) + "-v2")
    events = ck.Events(customers=renamed)
    records = caught(builder.set_params(events=events).transform, cutoffs)
    drift = of(records, SchemaDriftWarning)
    assert drift and drift[0].filename == __file__


# --------------------------------------------------------------------------- #
# NotFittedError, logger, print
# --------------------------------------------------------------------------- #
def test_not_fitted_error_is_sklearns(saas):
    assert issubclass(ck.NotFittedError, sklearn.exceptions.NotFittedError)
    assert issubclass(ck.NotFittedError, (ck.ChurnkitError, ValueError))
    assert issubclass(ck.NotFittedError, AttributeError)
    X = pd.DataFrame({"customer_id": ["C0000"], "cutoff_time": ["2024-06-01"]})
    with pytest.raises(sklearn.exceptions.NotFittedError, match="not fitted"):
        ck.ChurnFeatures(saas.events).transform(X)
    with pytest.raises(ck.NotFittedError):
        ck.UsageFeatures(saas.events).transform(X)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(ck.ChurnClassifier())
    with pytest.raises(ck.NotFittedError):
        ck.ChurnClassifier().predict_proba(np.zeros((2, 1)))


def test_not_fitted_error_pickles_and_stays_lazy():
    import pickle

    error = pickle.loads(pickle.dumps(ck.NotFittedError("x")))
    assert type(error) is ck.NotFittedError
    code = "import sys, churnkit; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr  # import churnkit stays fast


def test_churnkit_logger_is_quiet_until_configured():
    from churnkit._logging import logger

    assert logger is logging.getLogger("churnkit")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_feature_timings_go_to_the_churnkit_logger(saas, caplog):
    cutoffs = ck.make_cutoffs(saas.events, start="2024-06-01", end="2024-08-01")
    with caplog.at_level(logging.DEBUG, logger="churnkit"):
        ck.ChurnFeatures(saas.events, include=("usage", "profile")).fit_transform(
            cutoffs
        )
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("churnkit")]
    assert any("usage" in m and " s" in m for m in messages), messages


def _prints(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]


def test_no_print_in_the_library():
    allowed = {"cli", "cli.py", "demo.py"}  # they talk to a terminal
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in allowed
        and (lines := _prints(path))
    }
    assert not found, f"print() in the library (use churnkit's logger): {found}"

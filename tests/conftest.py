"""Shared fixtures, built once per session. Tests build their tiny tables inline.

The session fixtures are shared by every test that asks for them, so a test
must not change them: ``clone()`` a pipeline before setting its parameters or
refitting it, ``.copy()`` a frame before writing to it. Each fixture checks at
the end of the session that it was left as it was built.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def saas():
    """A small synthetic SaaS business (300 customers), built once per session."""
    from churnkit.datasets import make_saas_events

    return make_saas_events(n_customers=300, random_state=0)


@pytest.fixture(scope="session")
def labelled(saas):
    """Monthly cutoffs Mar 2024 - May 2025 on ``saas`` and their 30-day labels.

    Returns ``(X, y)``: X the cutoff table (customer_id, cutoff_time), y the
    0/1 ``churned`` label, row for row.
    """
    import churnkit as ck

    cutoffs = ck.make_cutoffs(saas.events, start="2024-03-01", end="2025-05-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        labels = ck.label_churn(saas.events, cutoffs, horizon="30D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    snapshot = X.copy(), y.copy()
    yield X, y
    pd.testing.assert_frame_equal(X, snapshot[0], obj="the `labelled` X fixture")
    pd.testing.assert_series_equal(y, snapshot[1], obj="the `labelled` y fixture")


def _fitted_pipeline(saas, labelled, model):
    import churnkit as ck

    X, y = labelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ck.ChurnkitWarning)
        pipe = ck.make_churn_pipeline(saas.events, model=model, random_state=0)
        pipe.fit(X, y)
    rows = X.iloc[:200]
    params, proba = _leaf_params(pipe), pipe.predict_proba(rows)
    yield pipe
    # a test that set a parameter or refitted the shared pipeline changed
    # what every later test sees: it should have worked on a clone()
    changed = [
        name
        for name, value in _leaf_params(pipe).items()
        if not (value is params.get(name) or value == params.get(name))
    ]
    assert not changed, f"a test changed {changed} of the shared {model} pipeline"
    np.testing.assert_array_equal(pipe.predict_proba(rows), proba)


def _leaf_params(pipe):
    """The pipeline's parameters that are not themselves estimators."""
    return {
        name: value
        for name, value in pipe.get_params(deep=True).items()
        if not hasattr(value, "get_params")
    }


@pytest.fixture(scope="session")
def fitted_logistic(saas, labelled):
    """``make_churn_pipeline(saas.events, model="logistic", random_state=0)``
    fitted on ``labelled``. Do not mutate: clone() it."""
    yield from _fitted_pipeline(saas, labelled, "logistic")


@pytest.fixture(scope="session")
def fitted_xgboost(saas, labelled):
    """``make_churn_pipeline(saas.events, model="xgboost", random_state=0)``
    fitted on ``labelled``. Do not mutate: clone() it."""
    yield from _fitted_pipeline(saas, labelled, "xgboost")

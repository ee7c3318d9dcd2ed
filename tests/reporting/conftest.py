"""Shared fixtures of the report tests: a small business, a model, reports."""

import warnings

import pytest

import churnkit as ck


@pytest.fixture(scope="session")
def small_business():
    data = ck.datasets.make_saas_events(n_customers=600, random_state=0)
    events = data.events
    cutoffs = ck.make_cutoffs(events, start="2024-06-01", end="2025-05-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = ck.label_churn(events, cutoffs, horizon="30D")
        model = ck.make_churn_pipeline(events, model="logistic", random_state=0)
        model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    return events, model


@pytest.fixture(scope="session")
def report_with_model(small_business, tmp_path_factory):
    events, model = small_business
    path = tmp_path_factory.mktemp("report") / "report.html"
    return ck.report(events, model, path=path, top=20)

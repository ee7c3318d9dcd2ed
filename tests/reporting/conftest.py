"""Shared fixtures of the report tests: a small business, a model, reports."""

import pytest

import churnkit as ck
from tests.reporting._fit import fitted_logistic


@pytest.fixture(scope="session")
def small_business():
    data = ck.datasets.make_saas_events(n_customers=600, random_state=0)
    events = data.events
    cutoffs = ck.make_cutoffs(events, start="2024-06-01", end="2025-05-01")
    return events, fitted_logistic(events, cutoffs)


@pytest.fixture(scope="session")
def report_with_model(small_business, tmp_path_factory):
    events, model = small_business
    path = tmp_path_factory.mktemp("report") / "report.html"
    return ck.report(events, model, path=path, top=20)

"""Shared fixtures. Keep this small: tests build their tiny tables inline."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def saas():
    """A small synthetic SaaS business (300 customers), built once per session."""
    from churnkit.datasets import make_saas_events

    return make_saas_events(n_customers=300, random_state=0)

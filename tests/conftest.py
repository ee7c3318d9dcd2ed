"""Shared fixtures. Keep this small: tests build their tiny tables inline."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def saas():
    """A small synthetic SaaS business (300 customers), built once per session."""
    try:
        from churnkit.datasets import make_saas_events
    except ImportError as exc:  # datasets.py is written by another helper
        pytest.skip(f"churnkit.datasets.make_saas_events is not importable: {exc}")
    return make_saas_events(n_customers=300, random_state=0)

"""Small hand-made tables and API walks shared by several test modules."""

from __future__ import annotations

import pandas as pd


def stripe_like(billing_mrr=None):
    """a: 100 from 01-05, open; b: 50 from 01-05, ends 03-05; c: 30 from
    02-10, open; payments (amount only) every month. ``billing_mrr``: rows
    with an ``mrr`` added to the payments."""
    subs = pd.DataFrame(
        [
            ("a", "2024-01-05", None, 100.0),
            ("b", "2024-01-05", "2024-03-05", 50.0),
            ("c", "2024-02-10", None, 30.0),
        ],
        columns=["customer_id", "start", "end", "mrr"],
    )
    billing = pd.DataFrame(
        [
            ("a", "2024-01-05", "payment", 100.0),
            ("a", "2024-02-05", "payment", 100.0),
            ("a", "2024-03-05", "payment", 100.0),
            ("b", "2024-01-05", "payment", 50.0),
            ("b", "2024-02-05", "payment", 50.0),
            ("c", "2024-02-10", "payment", 30.0),
            ("c", "2024-03-10", "payment", 30.0),
        ],
        columns=["customer_id", "time", "kind", "amount"],
    )
    if billing_mrr is not None:
        billing = pd.concat([billing.assign(mrr=float("nan")), billing_mrr])
    return subs, billing


def churnkit_members(cls) -> dict:
    """The class's own attributes and those of its churnkit bases (mixins such
    as ``ExplanationViews``), the class's own first; not sklearn's."""
    members = {}
    for base in reversed(cls.__mro__):
        if base.__module__.startswith("churnkit"):
            members.update(vars(base))
    return members

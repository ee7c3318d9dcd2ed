"""The third-party data sets of ``../shared/datasets``, read as the tests read them.

Tests that use them skip when ``../shared`` is absent, e.g.
``@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FIGHTCHURN = DATASETS / "fightchurn_socialnet7_sim"
CDNOW = DATASETS / "cdnow" / "CDNOW_master.txt"

#: ``ck.Events(columns=...)`` for fightchurn's account, event and subscription files
FIGHTCHURN_COLUMNS = {
    "customers": {"account_id": "customer_id"},
    "usage": {"account_id": "customer_id", "event_time": "time", "event_type": "event"},
    "subscriptions": {
        "account_id": "customer_id",
        "start_date": "start",
        "end_date": "end",
    },
}


def fightchurn_subscriptions() -> pd.DataFrame:
    """``customer_id, start, end, mrr``: one row per monthly billing period."""
    subs = pd.read_csv(FIGHTCHURN / "subscription.csv")
    subs = subs.rename(columns=FIGHTCHURN_COLUMNS["subscriptions"])
    return subs[["customer_id", "start", "end", "mrr"]]


def cdnow_transactions() -> pd.DataFrame:
    """CDNOW's purchases with a ``time`` column (dates without times)."""
    raw = pd.read_csv(
        CDNOW, sep=r"\s+", skiprows=1,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
    )  # fmt: skip
    raw["time"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    return raw

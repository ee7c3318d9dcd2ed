"""Third-party event logs as every benchmark reads them: one definition.

A benchmark run as a script, or loaded from its path by a test, finds this
module beside it (each adds its own folder to ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

import churnkit as ck

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def fightchurn_events(folder=None):
    """A fightchurn simulation as an Events store, None if absent.

    ``folder``: a folder of ``event.csv.gz`` and ``subscription.csv`` in the
    shared set's format (``benchmarks/fightchurn_sim.py`` writes other seeds);
    default the shared seed-7 set.
    """
    folder = DATASETS / "fightchurn_socialnet7_sim" if folder is None else Path(folder)
    if not folder.exists():
        return None
    return ck.Events(
        usage=folder / "event.csv.gz",
        subscriptions=folder / "subscription.csv",
        columns={
            "usage": {
                "account_id": "customer_id",
                "event_time": "time",
                "event_type": "event",
            },
            "subscriptions": {
                "account_id": "customer_id",
                "start_date": "start",
                "end_date": "end",
            },
        },
        observed_until="2020-07-01",  # the README: events were cut there
    )

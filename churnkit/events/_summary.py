"""The row, customer and time-range counts of :meth:`Events.summary`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.events._spells import END_OF_TIME

__all__ = ["summary_table"]


def summary_table(events) -> pd.DataFrame:
    """``events.summary()``: rows, excluded rows, customers, first and last
    time per table (customers, churn, then each event table)."""
    engine = events._engine
    report = events.report
    rows = []
    for name, table in engine.tables.items():
        active = int((np.diff(table.offsets) > 0).sum())
        dropped = int(
            report.loc[
                (report["table"] == name) & (report["action"] == "dropped"), "rows"
            ].sum()
        )
        rows.append(
            {
                "table": name,
                "rows": len(table),
                "rows_excluded": dropped,
                "customers": active,
                "first": pd.Timestamp(int(table.time.min())) if len(table) else pd.NaT,
                "last": pd.Timestamp(int(table.time.max())) if len(table) else pd.NaT,
            }
        )
    spell_end = engine.spells_at(events._observed_until.value, events._grace.value)[2]
    churned = spell_end < END_OF_TIME
    n_churn = int(churned.sum())
    churn_times = spell_end[churned]
    rows.insert(
        0,
        {
            "table": "customers",
            "rows": events.n_customers,
            "rows_excluded": 0,
            "customers": events.n_customers,
            "first": pd.Timestamp(int(engine.signup_time.min()))
            if events.n_customers
            else pd.NaT,
            "last": pd.Timestamp(int(engine.signup_time.max()))
            if events.n_customers
            else pd.NaT,
        },
    )
    rows.insert(
        1,
        {
            "table": "churn",
            "rows": n_churn,
            "rows_excluded": int(
                report.loc[
                    (report["table"] == "churn") & (report["action"] == "dropped"),
                    "rows",
                ].sum()
            ),
            "customers": int(len(np.unique(engine.spell_code[churned]))),
            "first": pd.Timestamp(int(churn_times.min())) if n_churn else pd.NaT,
            "last": pd.Timestamp(int(churn_times.max())) if n_churn else pd.NaT,
        },
    )
    return pd.DataFrame(rows).set_index("table")

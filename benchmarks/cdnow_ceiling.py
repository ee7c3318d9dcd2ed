#!/usr/bin/env python
"""How far can hand-made features take CDNOW? The ceiling behind issue 17's 0.78.

    python benchmarks/cdnow_ceiling.py

Same protocol as ``cdnow_quality.py`` (cutoff 1997-10-01, churn = no purchase
in the next 39 weeks, ``StratifiedKFold(5, shuffle=True, random_state=0)``),
but the features are written by hand from the raw purchases, with everything
an analyst would try: purchase days, recency, customer age T, mean, total and
largest spend, CDs, the first purchase's spend, purchase days per 30-day bin
since the cutoff (9 bins: the whole history of the 1997-Q1 cohort), the mean
and spread of the gaps between purchase days, and recency over the usual gap.
Plain xgboost on them, a small grid (depth 2/3/4, 200/500 trees at learning
rate 0.03), and the 4 RFM columns alone for reference. Prints the mean ROC-AUC
of each: the best is the ceiling the features allow, to set beside churnkit's
default (``cdnow_quality.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cdnow_quality import CUTOFF, load_transactions  # noqa: E402


def hand_features(tx: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(features per customer, churned) of every customer of the cohort."""
    cal = tx[tx["time"] < CUTOFF]
    later = tx[tx["time"] >= CUTOFF]
    ids = np.sort(tx["customer_id"].unique())
    churned = (~pd.Series(ids).isin(later["customer_id"])).to_numpy().astype(int)
    days = cal.groupby(["customer_id", "time"], as_index=False)[
        ["dollar_value", "number_of_cds"]
    ].sum()
    g = days.groupby("customer_id")
    F = pd.DataFrame(index=ids)
    F["purchase_days"] = g.size()
    F["recency"] = (CUTOFF - g["time"].max()).dt.days
    F["T"] = (CUTOFF - g["time"].min()).dt.days
    F["mean_spend"] = g["dollar_value"].mean()
    F["total_spend"] = g["dollar_value"].sum()
    F["largest_spend"] = g["dollar_value"].max()
    F["cds"] = g["number_of_cds"].sum()
    F["first_spend"] = g["dollar_value"].first()
    days["bin"] = (CUTOFF - days["time"]).dt.days // 30
    bins = days.pivot_table(
        index="customer_id", columns="bin", values="dollar_value", aggfunc="size"
    )
    F = F.join(bins.add_prefix("days_in_bin_")).fillna(0.0)
    days["gap"] = days.groupby("customer_id")["time"].diff().dt.days
    F["gap_mean"] = days.groupby("customer_id")["gap"].mean()
    F["gap_std"] = days.groupby("customer_id")["gap"].std()
    F["overdue"] = F["recency"] / F["gap_mean"]
    return F, churned


def cv_auc(X: np.ndarray, y: np.ndarray, depth: int, trees: int) -> float:
    aucs = []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        model = xgb.XGBClassifier(
            n_estimators=trees,
            learning_rate=0.03,
            max_depth=depth,
            subsample=0.8,
            colsample_bytree=0.8,
            min_child_weight=5,
            n_jobs=2,
            random_state=0,
        )
        model.fit(X[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
    return float(np.mean(aucs))


def main() -> None:
    tx = load_transactions()
    if tx is None:
        print("CDNOW not found under ../shared/datasets: skipped")
        return
    F, y = hand_features(tx)
    X = F.to_numpy(float)
    rows = [
        {"features": f"{F.shape[1]} hand-made", "depth": d, "trees": n,
         "roc_auc": cv_auc(X, y, d, n)}
        for d in (2, 3, 4)
        for n in (200, 500)
    ]  # fmt: skip
    rfm = F[["purchase_days", "recency", "T", "mean_spend"]].to_numpy(float)
    auc = cv_auc(rfm, y, 3, 300)
    rows.append({"features": "4 RFM", "depth": 3, "trees": 300, "roc_auc": auc})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"ceiling (best hand-made): {table['roc_auc'].max():.4f}")


if __name__ == "__main__":
    main()

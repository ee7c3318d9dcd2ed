#!/usr/bin/env python
"""Forward-in-time ROC-AUC of the default pipelines, calibrated and not.

    python benchmarks/linear_quality.py [--customers 5000] [--skip builtin]

For the built-in data (``make_saas_events``, monthly cutoffs, 30-day churn,
``CutoffSplit(3)``) and the fightchurn ``socialnet7`` simulation
(``../shared/datasets``, monthly cutoffs 2020-02..06, "1MS" horizon,
``CutoffSplit(2)``), fits ``make_churn_pipeline(model=..., calibration=...)``
for the logistic and xgboost models with ``calibration="sigmoid"`` (the default)
and ``None``, and prints the ROC-AUC of each fold and the mean. The features of
each fold are built once and shared by the four models (as the pipeline would
build them). Nothing is tuned.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import churnkit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events as fightchurn_events_shared  # noqa: E402


def builtin(n_customers):
    data = ck.datasets.make_saas_events(n_customers=n_customers, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-05-01", end="2025-06-01")
    return data.events, cutoffs, "30D", 3


def fightchurn():
    events = fightchurn_events_shared()
    if events is None:
        return None
    cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-06-01")
    return events, cutoffs, "1MS", 2


def scores(name, events, cutoffs, horizon, n_splits):
    labels = ck.label_churn(events, cutoffs, horizon=horizon)
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    rows = []
    cv = ck.CutoffSplit(n_splits=n_splits, horizon=horizon)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        features = ck.ChurnFeatures(events)
        Ftr = features.fit(X.iloc[train]).transform(X.iloc[train])
        Fte = features.transform(X.iloc[test])
        ytr, yte = y.iloc[train].to_numpy(), y.iloc[test].to_numpy()
        for model in ("logistic", "xgboost"):
            for calibration in ("sigmoid", None):
                clf = ck.ChurnClassifier(
                    model, calibration=calibration, random_state=0
                ).fit(Ftr, ytr)
                auc = roc_auc_score(yte, clf.predict_proba(Fte)[:, 1])
                rows.append(
                    {
                        "data set": name,
                        "fold": fold,
                        "model": model,
                        "calibration": str(calibration),
                        "roc_auc": auc,
                    }
                )
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    runs = {"builtin": lambda: builtin(args.customers), "fightchurn": fightchurn}
    tables = []
    for name, load in runs.items():
        if name in args.skip:
            continue
        data = load()
        if data is None:
            print(f"{name}: data not found, skipped")
            continue
        tables.append(scores(name, *data))
    table = pd.concat(tables)
    wide = table.pivot_table(
        index=["data set", "model", "calibration"], columns="fold", values="roc_auc"
    )
    wide["mean"] = wide.mean(axis=1)
    print(wide.round(4).to_string())
    gap = wide["mean"].unstack("calibration")
    print("\ncalibrated minus uncalibrated mean ROC-AUC:")
    print((gap["sigmoid"] - gap["None"]).round(4).to_string())
    return np.asarray(wide["mean"])


if __name__ == "__main__":
    main()

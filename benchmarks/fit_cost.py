#!/usr/bin/env python
"""CPU of ChurnClassifier's default fit against a plain XGBClassifier.

    python benchmarks/fit_cost.py [--customers 5000] [--repeats 3] [--skip telco]

For each data set, one table of features is built once (not timed); then, in
one process and interleaved, ``repeats`` times each:

* ``ChurnClassifier(random_state=0).fit(X_train, y_train)`` (the default
  xgboost fit: typing, hold-out, early stopping, calibration, refit);
* ``xgboost.XGBClassifier(n_estimators=T)`` on the same rows, with ``T`` the
  number of trees churnkit's final model uses (``best_iteration_ + 1``), the
  pandas table given with ``enable_categorical=True`` (text columns made
  ``category`` and numbers-as-text made numbers beforehand, untimed).

Both run single-threaded (``n_jobs=1``), so ``time.process_time()`` counts the
same work. The table reports medians; AUC is on a test part the fits never see:
the latest cutoff of the event logs (forward in time) and a stratified 25 % of
Telco.

Data sets: the built-in ``make_saas_events`` (monthly cutoffs, 30-day churn),
the fightchurn ``socialnet7`` simulation and IBM Telco (``../shared/datasets``,
skipped when absent).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import churnkit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events as fightchurn_events_shared  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _forward(events, cutoffs, horizon):
    """Features and labels; train = all but the latest cutoff, test = latest."""
    labels = ck.label_churn(events, cutoffs, horizon=horizon)
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"].to_numpy()
    F = ck.ChurnFeatures(events).fit(X).transform(X)
    last = X["cutoff_time"].to_numpy() == X["cutoff_time"].max()
    return F[~last], y[~last], F[last], y[last]


def builtin(n_customers):
    data = ck.datasets.make_saas_events(n_customers=n_customers, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-05-01", end="2025-06-01")
    return _forward(data.events, cutoffs, "30D")


def fightchurn():
    events = fightchurn_events_shared()
    if events is None:
        return None
    cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-06-01")
    return _forward(events, cutoffs, "1MS")


def telco():
    path = DATASETS / "telco_ibm" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    if not path.exists():
        return None
    df = pd.read_csv(path)
    y = (df.pop("Churn") == "Yes").astype(int).to_numpy()
    X = df.drop(columns=["customerID"])
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.25, stratify=y, random_state=0
    )
    return X.iloc[train], y[train], X.iloc[test], y[test]


def _plain_table(X: pd.DataFrame) -> pd.DataFrame:
    """What a user hands a plain XGBClassifier: numbers and categories."""
    out = X.copy()
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(
            out[col]
        ):
            numbers = pd.to_numeric(out[col].str.strip(), errors="coerce")
            if numbers.notna().mean() > 0.9:
                out[col] = numbers
            else:
                out[col] = out[col].astype("category")
    return out


def measure(name, data, repeats):
    from xgboost import XGBClassifier

    Xtr, ytr, Xte, yte = data
    Ptr, Pte = _plain_table(Xtr), _plain_table(Xte)
    ck_cpu, plain_cpu = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        clf = ck.ChurnClassifier(random_state=0).fit(Xtr, ytr)
        ck_cpu.append(time.process_time() - t0)
        trees = int(clf.best_iteration_) + 1
        t0 = time.process_time()
        plain = XGBClassifier(
            n_estimators=trees, n_jobs=1, enable_categorical=True, random_state=0
        ).fit(Ptr, ytr)
        plain_cpu.append(time.process_time() - t0)
    ck_auc = roc_auc_score(yte, clf.predict_proba(Xte)[:, 1])
    plain_auc = roc_auc_score(yte, plain.predict_proba(Pte)[:, 1])
    a, b = statistics.median(ck_cpu), statistics.median(plain_cpu)
    return {
        "data set": name,
        "rows": len(ytr),
        "trees": trees,
        "holdout": clf.holdout_["kind"],
        "refit": clf.holdout_["refit"],
        "churnkit CPU s": round(a, 2),
        "plain CPU s": round(b, 2),
        "ratio": round(a / b, 2),
        "churnkit AUC": round(ck_auc, 4),
        "plain AUC": round(plain_auc, 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    runs = {
        "built-in": lambda: builtin(args.customers),
        "fightchurn": fightchurn,
        "telco": telco,
    }
    rows = []
    for name, load in runs.items():
        if name in args.skip:
            continue
        data = load()
        if data is None:
            print(f"{name}: data not found, skipped")
            continue
        rows.append(measure(name, data, args.repeats))
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print()
    table = pd.DataFrame(rows).astype(str)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

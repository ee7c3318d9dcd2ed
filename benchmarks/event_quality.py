#!/usr/bin/env python
"""Model quality on event-level data, through the whole pipeline.

    python benchmarks/event_quality.py [--customers 10000] [--skip fightchurn ...]

Three data sets, each against a named baseline measured in the same run:

* synthetic SaaS (``ck.datasets.make_saas_events``): monthly cutoffs, 30-day
  churn labels, ``CutoffSplit(3)`` forward in time; logistic regression and
  xgboost pipelines; baseline = logistic regression on days since the last
  event and tenure.
* fightchurn ``socialnet7`` simulation (``../shared/datasets``): its
  subscriptions give signup and churn, events are usage; monthly cutoffs and a
  "1MS" horizon; ``CutoffSplit(2)``; same baseline.
* CDNOW (real purchases, no cancellations): ``label_inactivity`` at the cutoff
  1997-10-01 with a 39-week horizon ("no purchase in the next 39 weeks"); one
  cutoff, so 5-fold stratified CV over customers; baseline = logistic
  regression on recency and frequency.

Nothing is tuned: every model runs with its defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import churnkit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events as fightchurn_events_shared  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
BASELINE = ["usage__days_since_last", "profile__tenure_days"]


class Baseline:
    """Logistic regression on a few columns of the churn features (NaN -> max)."""

    def __init__(self, columns):
        self.columns = columns

    def _matrix(self, F):
        M = F[self.columns].astype(float)
        return M.fillna(self.fill_)

    def fit(self, F, y):
        self.fill_ = F[self.columns].astype(float).max() + 1
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression())
        self.model_.fit(self._matrix(F), y)
        return self

    def predict_proba(self, F):
        return self.model_.predict_proba(self._matrix(F))


def forward_scores(events, X, y, n_splits, horizon):
    """Per-fold scores of the two pipelines and the baseline, forward in time."""
    rows = []
    features = ck.ChurnFeatures(events)
    cv = ck.CutoffSplit(n_splits=n_splits, horizon=horizon)
    for fold, (train, test) in enumerate(cv.split(X, y)):
        Xtr, ytr, Xte, yte = X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]
        for name in ("logistic", "xgboost"):
            model = ck.make_churn_pipeline(events, model=name, random_state=0)
            score = model.fit(Xtr, ytr).predict_proba(Xte)[:, 1]
            rows.append({"fold": fold, "model": name, **_metrics(yte, score)})
        Ftr = features.fit(Xtr).transform(Xtr)
        Fte = features.transform(Xte)
        base = Baseline(BASELINE).fit(Ftr, ytr).predict_proba(Fte)[:, 1]
        rows.append({"fold": fold, "model": "baseline", **_metrics(yte, base)})
    return pd.DataFrame(rows)


def _metrics(y, score):
    e = ck.evaluate(np.asarray(y), score)
    return {
        "n_test": int(e["n"]),
        "churners": int(e["positives"]),
        "roc_auc": e["roc_auc"],
        "pr_auc": e["pr_auc"],
        "lift@10%": e["lift@10%"],
    }


def synthetic(n_customers):
    data = ck.datasets.make_saas_events(n_customers=n_customers, random_state=0)
    events = data.events
    cutoffs = ck.make_cutoffs(events, start="2024-05-01", end="2025-06-01")
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    return forward_scores(events, X, y, n_splits=3, horizon="30D")


def fightchurn():
    events = fightchurn_events_shared()
    if events is None:
        return None
    cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-06-01")
    labels = ck.label_churn(events, cutoffs, horizon="1MS")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    return forward_scores(events, X, y, n_splits=2, horizon="1MS")


def cdnow():
    path = DATASETS / "cdnow" / "CDNOW_master.txt"
    if not path.exists():
        return None
    tx = pd.read_csv(
        path,
        sep=r"\s+",
        skiprows=1,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
    )
    tx["time"] = pd.to_datetime(tx["date"].astype(str), format="%Y%m%d")
    first = tx.groupby("customer_id")["time"].min()
    customers = pd.DataFrame(
        {"customer_id": first.index, "signup_time": first.values - pd.Timedelta("1s")}
    )
    usage = tx.assign(event="purchase", quantity=tx["number_of_cds"])[
        ["customer_id", "time", "event", "quantity"]
    ]
    billing = tx.assign(kind="payment", amount=tx["dollar_value"])[
        ["customer_id", "time", "kind", "amount"]
    ]
    events = ck.Events(
        customers=customers, usage=usage, billing=billing, observed_until="1998-07-01"
    )
    X = ck.make_cutoffs(events, at="1997-10-01")
    labels = ck.label_inactivity(events, X, horizon="273D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"].to_numpy()
    features = ck.ChurnFeatures(events, windows=("30D", "90D", "180D"))
    F = features.fit(X).transform(X)
    F["usage__purchases"] = F["usage__events_per_month"] * np.maximum(
        F["profile__tenure_days"] / (365.25 / 12), 1
    )
    rows = []
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(folds.split(F, y)):
        for name in ("logistic", "xgboost"):
            clf = ck.ChurnClassifier(name, random_state=0)
            cols = [c for c in F.columns if c != "usage__purchases"]
            score = clf.fit(F.iloc[train][cols], y[train]).predict_proba(
                F.iloc[test][cols]
            )[:, 1]
            rows.append({"fold": fold, "model": name, **_metrics(y[test], score)})
        base = Baseline(["usage__days_since_last", "usage__purchases"])
        score = base.fit(F.iloc[train], y[train]).predict_proba(F.iloc[test])[:, 1]
        rows.append(
            {
                "fold": fold,
                "model": "baseline (recency, frequency)",
                **_metrics(y[test], score),
            }
        )
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    runs = {
        "synthetic SaaS": lambda: synthetic(args.customers),
        "fightchurn socialnet7": fightchurn,
        "CDNOW": cdnow,
    }
    for name, run in runs.items():
        if name.split()[0].lower() in args.skip:
            continue
        t0 = time.perf_counter()
        scores = run()
        if scores is None:
            print(f"\n## {name}: data not found, skipped")
            continue
        table = scores.groupby("model", sort=False)[
            ["roc_auc", "pr_auc", "lift@10%"]
        ].agg(["mean", "std"])
        sizes = scores.groupby("model", sort=False)[["n_test", "churners"]].sum()
        print(
            f"\n## {name} ({time.perf_counter() - t0:.0f} s; "
            f"{scores['fold'].nunique()} folds, test rows/churners summed: "
            f"{sizes.iloc[0, 0]:,}/{sizes.iloc[0, 1]:,})"
        )
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Time to churn vs the 30-day classifier, forward in time, and score-change accuracy.

    python benchmarks/survival_quality.py [--customers 2000] [--skip fightchurn ...]
    python benchmarks/survival_quality.py --only-change   # the planted change only

For each data set, cutoffs before a split date train, later cutoffs test:

* the training targets only see the data before the split
  (``events.with_observed_until(split)``): 30-day labels for the classifier
  (``make_churn_pipeline``, xgboost), survival frames (``label_survival``) for
  ``ChurnSurvival`` ("xgboost" discrete-time hazards, "cox", "linear");
* every model uses the same features (``ChurnFeatures(horizon="30D")``);
* test: ROC-AUC of P(churn within 30 days) against ``label_churn(horizon=
  "30D")`` on the full data; survival metrics on ``label_survival`` of the test
  cutoffs (Harrell's and Uno's C of P(churn within 30 days), time-dependent AUC
  at 30/60/90 days, integrated Brier score over 7..90 days) and calibration
  across horizons (mean predicted P(churn within h) vs the Kaplan-Meier
  estimate of the test rows).

Data sets: synthetic SaaS (``ck.datasets.make_saas_events``, split
2024-12-01) and the fightchurn ``socialnet7`` simulation
(``../shared/datasets``, split 2020-05-01). The synthetic run also measures
the planted change: every usage event of a fifth of the active accounts is
removed between two cutoffs; the share of those accounts whose top reason
of ``explain_change`` (``ScoreChange.top_reasons``: feature groups ranked by
their total points) is usage is printed, with the share whose single top
feature is a usage feature. Nothing is tuned.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import churnkit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events  # noqa: E402

MODELS = ("xgboost", "cox", "linear")


def kaplan_meier(duration, event, h):
    order = np.argsort(duration)
    d, e = duration[order], event[order].astype(bool)
    at_risk = len(d) - np.arange(len(d))
    factors = np.where(e & (d <= h), 1 - 1 / at_risk, 1.0)
    return float(np.prod(factors))


def compare(name, events, cutoffs, split, horizons=(30, 60, 90)):
    split = pd.Timestamp(split)
    train_c = cutoffs[cutoffs["cutoff_time"] < split]
    test_c = cutoffs[cutoffs["cutoff_time"] >= split]
    past = events.with_observed_until(split)
    labels = ck.label_churn(past, train_c, horizon="30D")
    frame = ck.label_survival(past, train_c)
    test_labels = ck.label_churn(events, test_c, horizon="30D")
    test_frame = ck.label_survival(events, test_c)
    y_train, y_test = ck.survival_array(frame), ck.survival_array(test_frame)
    Xl = test_labels[["customer_id", "cutoff_time"]]
    rows = []
    t0 = time.perf_counter()
    clf = ck.make_churn_pipeline(events, random_state=0)
    clf.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    p_clf = clf.predict_proba(Xl)[:, 1]
    rows.append(
        {
            "data": name,
            "model": "classifier 30D (xgboost)",
            "auc_30d": roc_auc_score(test_labels["churned"], p_clf),
            "fit_s": time.perf_counter() - t0,
        }
    )
    features = ck.ChurnFeatures(events, horizon="30D").fit(
        frame[["customer_id", "cutoff_time"]]
    )
    F_train = features.transform(frame[["customer_id", "cutoff_time"]])
    F_test = features.transform(test_frame[["customer_id", "cutoff_time"]])
    F_lab = features.transform(Xl)
    max_h = min(float(y_train["duration"].max()), float(y_test["duration"].max()))
    hs = [h for h in horizons if h <= max_h]
    for model in MODELS:
        t0 = time.perf_counter()
        surv = ck.ChurnSurvival(model, random_state=0).fit(F_train, y_train)
        fit_s = time.perf_counter() - t0
        p30 = surv.predict_proba(F_lab)[:, 1]
        risk = surv.predict_proba(F_test)[:, 1]
        grid = np.linspace(7, max(hs), 12)
        S = surv.predict_survival_function(F_test, grid).to_numpy()
        tdauc = ck.time_dependent_auc(
            y_test,
            1 - surv.predict_survival_function(F_test, hs).to_numpy(),
            hs,
            y_train=y_train,
        )
        row = {
            "data": name,
            "model": f"survival {model}",
            "auc_30d": roc_auc_score(test_labels["churned"], p30),
            "harrell_c": ck.concordance_index(y_test, risk),
            "uno_c": ck.concordance_index(
                y_test, risk, method="uno", tau=max(hs), y_train=y_train
            ),
            "ibs": ck.integrated_brier_score(y_test, S, grid, y_train=y_train),
            "fit_s": fit_s,
        }
        for h, auc in zip(hs, tdauc, strict=True):
            row[f"td_auc_{h}d"] = auc
            pred = surv.predict_proba(F_test, horizon=f"{h}D")[:, 1].mean()
            km = 1 - kaplan_meier(y_test["duration"], y_test["event"], h)
            row[f"p{h}d_pred/km"] = f"{pred:.3f}/{km:.3f}"
        rows.append(row)
    return pd.DataFrame(rows)


def planted_change(events, data, t1="2025-04-01", t2="2025-05-01", seed=0):
    """Share of accounts with a planted usage drop named by explain_change."""
    t1, t2 = pd.Timestamp(t1), pd.Timestamp(t2)
    grid = ck.make_cutoffs(events, start="2024-01-01", end="2025-02-01")
    labels = ck.label_churn(events, grid, horizon="30D")
    model = ck.make_churn_pipeline(events, random_state=0)
    model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    before = ck.make_cutoffs(events, at=t1)
    after = ck.make_cutoffs(events, at=t2)
    usage = data.usage
    window = (usage["time"] >= t1) & (usage["time"] < t2)
    prior = (usage["time"] >= t1 - pd.Timedelta("30D")) & (usage["time"] < t1)
    active = np.intersect1d(
        usage.loc[window, "customer_id"].unique(),
        usage.loc[prior, "customer_id"].unique(),
    )
    ids = np.intersect1d(
        np.intersect1d(before["customer_id"], after["customer_id"]), active
    )
    chosen = np.random.default_rng(seed).choice(ids, size=len(ids) // 5, replace=False)
    drop = usage["customer_id"].isin(chosen) & window
    planted = ck.Events(
        customers=data.customers,
        usage=usage[~drop],
        billing=data.billing,
        support=data.support,
        churn=data.churn,
        observed_until=events.observed_until,
    )
    ck.set_events(model, planted)
    change = ck.explain_change(
        model,
        before[before["customer_id"].isin(ids)],
        after[after["customer_id"].isin(ids)],
    )
    top = change.top_features(k=1, min_points=0).set_index("customer_id")
    by_feature = top.reindex(chosen)["group"].eq("usage").mean()
    reasons = change.top_reasons(k=1, min_points=0).set_index("customer_id")
    by_reason = reasons.reindex(chosen)["group"].eq("usage").mean()
    rises = change.top_reasons(k=1, direction="up", min_points=0)
    by_rise = rises.set_index("customer_id").reindex(chosen)["group"].eq("usage")
    by_group = change.by_group().reindex(chosen).idxmax(axis=1).eq("usage").mean()
    total = change.values.sum(axis=1) + change.base_change + change.model_change
    return {
        "accounts compared": len(change),
        "planted accounts": len(chosen),
        "usage events removed": int(drop.sum()),
        "top reason is usage": round(float(by_reason), 4),
        "top reason of the rise is usage": round(float(by_rise.mean()), 4),
        "planted accounts whose risk fell": int((change.change[chosen] < 0).sum()),
        "top feature is usage": round(float(by_feature), 4),
        "top group is usage": round(float(by_group), 4),
        "max additivity error": float(np.abs(total - change.change).max()),
        "median change planted (pts)": round(
            100 * change.change.reindex(chosen).median(), 2
        ),
        "median change others (pts)": round(
            100 * change.change.drop(chosen).median(), 2
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument(
        "--only-change",
        action="store_true",
        help="measure only the planted change on the synthetic data",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    tables = []
    if args.only_change:
        data = ck.datasets.make_saas_events(n_customers=args.customers, random_state=0)
        print("planted change:", planted_change(data.events, data))
        return
    if "synthetic" not in args.skip:
        data = ck.datasets.make_saas_events(n_customers=args.customers, random_state=0)
        cutoffs = ck.make_cutoffs(data.events, start="2023-07-01", end="2025-05-01")
        tables.append(compare("synthetic", data.events, cutoffs, "2024-12-01"))
        if "planted" not in args.skip:
            print("planted change:", planted_change(data.events, data))
    if "fightchurn" not in args.skip:
        events = fightchurn_events()
        if events is not None:
            cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-06-01")
            tables.append(
                compare("fightchurn", events, cutoffs, "2020-05-01", (30, 60))
            )
    out = pd.concat(tables, ignore_index=True)
    print(out.round(4).to_string(index=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""The whole pipeline at scale: wall time and peak memory per stage.

    python benchmarks/scale_pipeline.py --customers 200000 --usage-rate 2.5

Stages: synthetic data (``make_saas_events``, Events included), monthly cutoffs
and 30-day labels, features, xgboost training (ChurnClassifier on the feature
frame), explanation of the latest cutoff's top decile. Peak memory is the
process's resident-set high-water mark after each stage (``ru_maxrss``), so a
stage's figure includes everything before it.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd

import churnkit as ck


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--usage-rate", type=float, default=2.5)
    parser.add_argument("--months", type=int, default=6, help="training cutoffs")
    parser.add_argument(
        "--no-memory-tuning",
        action="store_true",
        help="leave the allocator alone (ck.set_memory_tuning, on by default here)",
    )
    args = parser.parse_args()
    ck.set_memory_tuning(not args.no_memory_tuning)
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    rows = []
    t = time.perf_counter()

    def stage(name, **extra):
        nonlocal t
        now = time.perf_counter()
        rows.append(
            {
                "stage": name,
                "wall_s": round(now - t, 1),
                "peak_rss_gib": round(peak_gib(), 2),
                **extra,
            }
        )
        print(rows[-1], flush=True)
        t = time.perf_counter()

    data = ck.datasets.make_saas_events(
        n_customers=args.customers, usage_rate=args.usage_rate, random_state=0
    )
    events = data.events
    del data
    stage("data + Events", usage_rows=len(events._engine.table("usage")))
    last = (events.observed_until - pd.Timedelta("31D")).to_period("M").to_timestamp()
    first = last - pd.DateOffset(months=args.months)
    cutoffs = ck.make_cutoffs(events, start=first, end=last)
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    stage("cutoffs + labels", rows=len(X))
    features = ck.ChurnFeatures(events)
    F = features.fit(X).transform(X)
    stage("features", columns=F.shape[1])
    train = X["cutoff_time"].to_numpy() < np.datetime64(last)
    model = ck.ChurnClassifier("xgboost", random_state=0, n_jobs=2)
    model.fit(F[train], y[train])
    stage("xgboost training", train_rows=int(train.sum()))
    latest = F[~train]
    risk = model.predict_proba(latest)[:, 1]
    top = latest.iloc[np.argsort(-risk)[: max(1, len(latest) // 10)]]
    explanation = ck.ChurnExplainer(model).explain(top)
    drivers = explanation.top_drivers(k=3)
    stage("explain top decile", accounts=len(top), drivers=len(drivers))
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

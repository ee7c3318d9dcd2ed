#!/usr/bin/env python
"""Monotone constraints in xgboost: AUC and reasons, with and without.

``ChurnClassifier(monotone=True)`` constrains the churn log-odds to rise with
each feature whose ``direction`` in ``describe_features`` is "higher" and fall
with each "lower" one. This script measures what that costs in ROC-AUC and what
it does to the reasons, on the data sets of ``benchmarks/reason_quality.py``:

(a) built-in: ``make_saas_events(n_customers=2000, random_state=0)``, monthly
    cutoffs, 30-day horizon; train on every cutoff before the latest labelled
    one, test on the latest.
(b) fightchurn socialnet7 simulation: monthly cutoffs 2020-02..2020-05,
    1-month horizon; train on 2020-02..2020-04, test on 2020-05-01.
(c) CDNOW: cutoff 1997-10-01, ``label_inactivity`` over 39 weeks; a random
    half of the customers train, the other half test.

For each model the test rows are explained and, among every account's top-3
risk-raising drivers *before* the reason rules (the 3 largest positive
contributions), the script counts **contradictions**: a value on the safe side
of its reference by the feature's direction. These are filtered out of the
reasons anyway; ``reasons`` is how many top-3 reasons survive the rules
(``top_drivers(k=3)``).

Run::

    python benchmarks/monotone_auc.py
    python benchmarks/monotone_auc.py --datasets builtin cdnow --seeds 0 1 2
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
from reason_quality import cdnow, fightchurn  # noqa: E402

LIMIT = 0.005  # largest AUC loss for monotone=True to become the default


def builtin():
    data = ck.datasets.make_saas_events(n_customers=2000, random_state=0)
    events = data.events
    cutoffs = ck.make_cutoffs(events, start="2024-03-01", end="2025-06-01", freq="MS")
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    latest = labels["cutoff_time"].max()
    test = labels["cutoff_time"] == latest
    return events, labels.loc[~test], labels.loc[test]


def fightchurn_forward():
    loaded = fightchurn()
    if loaded is None:
        return None
    events, labels, _ = loaded
    latest = labels["cutoff_time"].max()
    test = labels["cutoff_time"] == latest
    return events, labels.loc[~test], labels.loc[test]


LOADERS = {"builtin": builtin, "fightchurn": fightchurn_forward, "cdnow": cdnow}


def raw_contradictions(explanation, k=3) -> tuple[int, int]:
    """(contradictions, drivers) among each account's k largest positive drivers."""
    rules = explanation._rules()  # the rules' own shown values and references
    value, ref = rules._rounded()
    S = explanation.values.to_numpy(dtype="float64")
    kk = min(k, S.shape[1])
    idx = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
    top = np.take_along_axis(S, idx, axis=1)
    rows = np.broadcast_to(np.arange(len(S))[:, None], idx.shape)
    positive = top > 0
    v, t = value[rows, idx], ref[rows, idx]
    direction = rules.directions[idx]
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isinf(v) & np.isinf(t), 0.0, v - t)
        wrong = np.where(
            direction == "higher",
            diff < 0,
            np.where(direction == "lower", diff > 0, False),
        )
    known = ~np.isnan(v) & ~np.isnan(t)
    return int((positive & known & wrong).sum()), int(positive.sum())


def run(name, seeds):
    loaded = LOADERS[name]()
    if loaded is None:
        print(f"{name}: data not available; skipped")
        return []
    events, train, test = loaded
    rows = []
    for seed in seeds:
        for monotone in (False, True):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ck.make_churn_pipeline(
                    events, model="xgboost", random_state=seed, monotone=monotone
                )
                model.fit(train[["customer_id", "cutoff_time"]], train["churned"])
                X = test[["customer_id", "cutoff_time"]]
                p = model.predict_proba(X)[:, 1]
                explanation = ck.ChurnExplainer(model).explain(X)
                reasons = len(explanation.top_drivers(k=3))
            bad, drivers = raw_contradictions(explanation)
            clf = model.named_steps["model"]
            rows.append(
                {
                    "data": name,
                    "seed": seed,
                    "monotone": monotone,
                    "constrained": len(clf.monotone_constraints_),
                    "features": clf.n_features_in_,
                    "train": len(train),
                    "test": len(test),
                    "auc": roc_auc_score(test["churned"], p),
                    "top3_drivers": drivers,
                    "contradictions": bad,
                    "reasons": reasons,
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    rows = [r for name in args.datasets for r in run(name, args.seeds)]
    if not rows:
        return
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="{:.4f}".format))
    auc = table.pivot_table(index="data", columns="monotone", values="auc")
    auc["loss"] = auc[False] - auc[True]
    print(auc.to_string(float_format="{:.4f}".format))
    ok = bool((auc["loss"] <= LIMIT).all())
    print(
        f"monotone=True within {LIMIT} AUC on every data set: {ok} "
        f"({'can be the default' if ok else 'keep it an option'})"
    )


if __name__ == "__main__":
    main()

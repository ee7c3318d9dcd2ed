#!/usr/bin/env python
"""What does explaining cost on top of xgboost's own TreeSHAP?

The model and data are those of ``/work/shared/bench/shap_bench.py``: 100,000
rows x 50 features (correlated gaussians, counts, skewed amounts, flags) and
``xgboost.train`` with ``tree_method=hist``, 300 trees of depth 6. Three timings,
each the median of ``--repeats`` runs, interleaved in one process:

  contribs   booster.predict(DMatrix(X), pred_contribs=True)      (the floor)
  explain    ck.ChurnExplainer(booster).explain(X).top_drivers(k=3)
             (SHAP values, probabilities of the drivers, reason sentences for
             every account: 300,000 rows)
  subset     the same on X[:1000]: only those rows are computed

Targets: explain <= 1.15 x contribs; subset ~ 1% of explain. Before timing, the
explainer's values are checked against ``shap.TreeExplainer`` on 200 rows.

    python benchmarks/explain_speed.py                      # 100k rows, all cores
    python benchmarks/explain_speed.py --rows 20000 --threads 1

The model is trained once and cached in ``--dir``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import churnkit as ck


def make_data(rows: int, feats: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The matrix and labels of shap_bench.py (copied verbatim, deterministic)."""
    rng = np.random.default_rng(seed)
    n_g = feats * 3 // 5
    n_c = feats // 5
    n_a = feats // 10
    n_f = feats - n_g - n_c - n_a
    z = rng.standard_normal((rows, 8))
    g = z @ rng.normal(0, 0.5, (8, n_g)) + rng.standard_normal((rows, n_g))
    c = rng.poisson(np.exp(0.5 * z[:, :1] + rng.normal(1.0, 0.5, n_c)))
    a = rng.lognormal(3.0 + 0.3 * z[:, 1:2], 1.0, (rows, n_a))
    f = (rng.random((rows, n_f)) < 0.2 + 0.1 * (z[:, 2:3] > 0)).astype(float)
    X = np.hstack([g, c, a, f]).astype(np.float64)
    logit = (
        0.8 * g[:, 0]
        - 0.6 * g[:, 1] * (c[:, 0] > 2)
        + 0.5 * np.log1p(a[:, 0])
        - 2.5
        + 0.7 * f[:, 0] * (g[:, 2] > 0)
        + 0.3 * np.sin(g[:, 3] * 2)
        + 0.2 * z[:, 4]
    )
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    return X, y


def prepare(directory, rows, features, seed, threads):
    """(X, booster): shap_bench's model, trained once and cached."""
    import xgboost as xgb

    X, y = make_data(rows, features, seed)
    path = os.path.join(directory, f"xgb_{rows}x{features}_seed{seed}.json")
    if os.path.exists(path):
        booster = xgb.Booster(model_file=path)
    else:
        os.makedirs(directory, exist_ok=True)
        t = time.perf_counter()
        params = {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "max_depth": 6,
            "eta": 0.1,
            "nthread": threads,
            "seed": seed,
        }
        booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=300)
        booster.save_model(path)
        print(f"trained 300 trees in {time.perf_counter() - t:.0f} s -> {path}")
    booster.set_param({"nthread": threads})
    return X, booster


def contribs(booster, X, threads):
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(X, nthread=threads), pred_contribs=True)


def explain(booster, X):
    explanation = ck.ChurnExplainer(booster).explain(X)
    return explanation, explanation.top_drivers(k=3)


def check(booster, X) -> float:
    """max |explainer - shap.TreeExplainer| on 200 rows (must be <= 1e-4)."""
    import shap

    sample = X[:200]
    reference = np.asarray(shap.TreeExplainer(booster).shap_values(sample))
    values = ck.ChurnExplainer(booster).explain(sample).values.to_numpy()
    return float(np.max(np.abs(values - reference)))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default="/tmp/churnkit_explain_speed")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--subset", type=int, default=1000)
    a = ap.parse_args()
    X, booster = prepare(a.dir, a.rows, a.features, a.seed, a.threads)
    diff = check(booster, X)
    print(
        f"max |ChurnExplainer - shap.TreeExplainer| on 200 rows: {diff:.2g} (<= 1e-4)"
    )
    times = {"contribs": [], "explain": [], "subset": []}
    for _ in range(a.repeats):
        t, floor = timed(lambda: contribs(booster, X, a.threads))
        times["contribs"].append(t)
        t, (explanation, drivers) = timed(lambda: explain(booster, X))
        times["explain"].append(t)
        t, _ = timed(lambda: explain(booster, X[: a.subset]))
        times["subset"].append(t)
    same = float(np.max(np.abs(explanation.values.to_numpy() - floor[:, :-1])))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{a.rows:,} rows x {a.features} features, 300 trees depth 6, ", end="")
    print(f"{a.threads} threads")
    for k, v in times.items():
        runs = ", ".join(f"{x:.2f}" for x in v)
        print(f"  {k:9s} median {med[k]:7.2f} s   runs {runs}")
    print(f"  top_drivers rows: {len(drivers):,}; ", end="")
    print(f"max |values - pred_contribs| = {same:.2g}")
    ratio = med["explain"] / med["contribs"]
    share = med["subset"] / med["explain"]
    verdict = "ok" if ratio <= 1.15 else "FAIL"
    print(f"explain / contribs = {ratio:.3f} (target <= 1.15): {verdict}")
    print(f"subset of {a.subset:,} / all = {share:.2%} ", end="")
    print(f"(rows share {a.subset / a.rows:.2%})")


if __name__ == "__main__":
    main()

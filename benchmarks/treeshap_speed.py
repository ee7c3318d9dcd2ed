#!/usr/bin/env python
"""Exact TreeSHAP: churnkit's precomputed path weights against xgboost and shap.

The model and data are ``/work/shared/bench/shap_bench.py``'s (``prepare``:
100,000 rows x 50 features, ``xgboost.train`` with ``tree_method=hist``, 300
trees of depth 6, ``binary:logistic``), read from ``--dir`` (prepared there by
running shap_bench.py when absent). For each thread count, interleaved in one
process, medians of ``--repeats`` runs of:

  pred_contribs   booster.predict(DMatrix(X), pred_contribs=True)
  shap            shap.TreeExplainer(booster).shap_values(X)
  fast            compile_booster(booster) + .shap_values(X)   (churnkit)
  fast_top10      the same on the top decile of rows by margin

``fast`` includes reading the booster and precomputing its tables (reported on
its own as ``fast_compile``). Values are checked against ``pred_contribs``
(max |diff|) and for additivity before the timings are trusted. Target:
``fast <= 0.5 x pred_contribs`` on the same threads; ``fast_top10`` about a
tenth of ``fast``.

    python benchmarks/treeshap_speed.py --dir /tmp/shapbench            # 100k rows
    python benchmarks/treeshap_speed.py --dir /tmp/shapbench --rows 5000 --threads 1,2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def _load(directory: Path):
    import xgboost as xgb

    if not (directory / "X.npy").exists() or not (directory / "xgb.json").exists():
        script = SHARED_BENCH / "shap_bench.py"
        if not script.exists():
            sys.exit(f"{directory} has no X.npy/xgb.json and {script} is absent.")
        subprocess.run(
            [sys.executable, str(script), "prepare", "--dir", str(directory)],
            check=True,
        )
    X = np.load(directory / "X.npy")
    booster = xgb.Booster(model_file=str(directory / "xgb.json"))
    return X, booster


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-shap", action="store_true", help="skip shap.TreeExplainer")
    a = ap.parse_args()

    import numba
    import shap
    import xgboost as xgb
    from threadpoolctl import threadpool_limits

    from churnkit.explain._treeshap import compile_booster

    X, booster = _load(a.dir)
    X = np.ascontiguousarray(X[: a.rows])
    margin = booster.predict(xgb.DMatrix(X), output_margin=True)
    top = np.sort(np.argsort(-margin, kind="stable")[: max(1, len(X) // 10)])
    X_top = np.ascontiguousarray(X[top])

    # warm up (numba's on-disk cache, shap's import) and check the values
    fast = compile_booster(booster)
    check = slice(0, min(len(X), 2000))
    ref = booster.predict(xgb.DMatrix(X[check]), pred_contribs=True)
    ours = fast.shap_values(X[check])
    diff = float(np.max(np.abs(ours - ref)))
    add = float(np.max(np.abs(ours.sum(1) - margin[check])))
    print(
        f"check on {ref.shape[0]} rows: max|fast - pred_contribs| = {diff:.3g} "
        f"(max |value| {np.abs(ref).max():.3g}); additivity {add:.3g}; "
        f"tables {fast.table_bytes / 2**20:.1f} MiB"
    )
    if diff > 1e-4 or add > 1e-4:
        sys.exit("values disagree: timings not reported")

    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        booster.set_param({"nthread": threads})
        times: dict[str, list[float]] = {}
        with threadpool_limits(limits=threads):
            for _ in range(a.repeats):
                runs = {
                    "pred_contribs": lambda t=threads: booster.predict(
                        xgb.DMatrix(X, nthread=t), pred_contribs=True
                    ),
                    "fast_compile": lambda: compile_booster(booster),
                    "fast": lambda t=threads: compile_booster(booster).shap_values(
                        X, n_threads=t
                    ),
                    "fast_top10": lambda t=threads: compile_booster(
                        booster
                    ).shap_values(X_top, n_threads=t),
                }
                if not a.skip_shap:
                    runs["shap"] = lambda: shap.TreeExplainer(booster).shap_values(X)
                for name, fn in runs.items():
                    times.setdefault(name, []).append(_timed(fn)[0])
        base = statistics.median(times["pred_contribs"])
        for name, ts in times.items():
            med = statistics.median(ts)
            n = len(X_top) if name == "fast_top10" else len(X)
            rows.append((name, threads, n, med, med / base))
            each = ", ".join(f"{t:.3f}" for t in ts)
            print(
                f"{name:14s} threads={threads} rows={n:6d} median {med:8.3f} s "
                f"({each}) = {med / base:.3f} x pred_contribs",
                flush=True,
            )

    print(
        f"\nxgboost {xgb.__version__}, shap {shap.__version__}, numba "
        f"{numba.__version__}, {os.cpu_count()} cores; medians of {a.repeats}\n"
    )
    print("| method | threads | rows | median s | x pred_contribs |")
    print("|---|---:|---:|---:|---:|")
    for name, threads, n, med, ratio in rows:
        print(f"| {name} | {threads} | {n:,} | {med:.3f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()

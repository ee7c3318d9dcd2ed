#!/usr/bin/env python
"""The churn pipeline on a local Dask cluster against one process.

    python benchmarks/distributed.py --data /tmp/bench/large --buckets 64 \\
        --workers 2 --memory-limit 6GiB --out /tmp/bench/distributed_large.json
    python benchmarks/distributed.py --data /tmp/bench/medium --sweep 8 16 32 64

Data: the bench harness's parquet files (``python ../shared/bench/gen_events.py
--size large --out DIR``: 200k customers, 50M usage events, 1.2M labelled
cutoffs). The pipeline is ``make_churn_pipeline`` (``ChurnFeatures`` with its
defaults, ``ChurnClassifier(model="xgboost", random_state=0)``) on the
harness's ``labels.parquet`` rows (``churned_30d``).

Single machine (one process, run first as a subprocess, so its peak memory is
its own): the Events store from the parquet files, ``pipeline.fit`` (features,
then the classifier), ``predict_proba`` of every row.

Cluster (``LocalCluster(n_workers, threads_per_worker=1, memory_limit)``,
worker processes): ``churnkit.dask.write_layout`` from the parquet files
(bucket, shuffle, sort, ``to_parquet(partition_on="bucket")``, manifest);
``compute_features`` (fits the feature step from every bucket's statistics,
then builds the features bucket by bucket) written with ``write_results``;
``fit`` (``xgboost.dask`` through the engine fit hook) on the written features;
``score`` of every row, written with ``write_results``.

Each phase reports wall seconds and each worker's peak resident memory so far
(``ru_maxrss`` of the worker process). ``--sweep N ...`` instead writes the
layout and computes the features at each number of buckets (time against
buckets). Prints one JSON record per phase and a markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# this file's name is the `distributed` package's: run as a script, its folder
# comes first on sys.path and would shadow the package (the cluster's workers
# inherit sys.path)
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

COLUMNS = {  # the harness's column names -> churnkit's
    "customers": {"signup_at": "signup_time"},
    "usage": {"timestamp": "time"},
    "billing": {"timestamp": "time"},
    "support": {"opened_at": "time", "closed_at": "closed_time"},
}
LABEL = "churned_30d"


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def single_machine(data: str) -> list[dict]:
    """The whole pipeline in this process; one record per phase."""
    import pandas as pd

    import churnkit as ck

    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    rows, t, cpu = [], time.perf_counter(), _cpu_s()

    def phase(name, **extra):
        nonlocal t, cpu
        now, cpu_now = time.perf_counter(), _cpu_s()
        rows.append(
            {
                "run": "single",
                "phase": name,
                "wall_s": round(now - t, 1),
                "cpu_s": round(cpu_now - cpu, 1),
                "peak_gib": [round(_peak_rss_gib(), 2)],
                **extra,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        t, cpu = time.perf_counter(), _cpu_s()

    events = ck.Events(
        **{n: os.path.join(data, f"{n}.parquet") for n in COLUMNS}, columns=COLUMNS
    )
    phase("events")
    labels = pd.read_parquet(os.path.join(data, "labels.parquet"))
    X, y = labels[["customer_id", "cutoff_time"]], labels[LABEL]
    pipe = ck.make_churn_pipeline(events, random_state=0)
    features = pipe[0].fit_transform(X)
    phase("features", rows=len(features), columns=features.shape[1])
    pipe[-1].fit(features, y)
    phase("fit", rounds=int(pipe[-1].best_iteration_) + 1)
    proba = pipe.predict_proba(X)[:, 1]
    phase("score", rows=len(proba))
    return rows


def _worker_peaks(client) -> list[float]:
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    return [round(v, 2) for v in client.run(peak).values()]


def _cluster_cpu_s(client) -> float:
    """CPU seconds of the workers and of this (driver) process so far."""
    return sum(client.run(_cpu_s).values()) + _cpu_s()


def cluster_run(data, *, workers, memory_limit, buckets, scratch, sweep=None):
    """The pipeline on a local cluster; one record per phase."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import churnkit as ck
    import churnkit.dask as ckd

    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    rows = []
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    )
    client = Client(cluster)
    t, cpu = time.perf_counter(), _cluster_cpu_s(client)

    def phase(name, n_buckets, **extra):
        nonlocal t, cpu
        now, cpu_now = time.perf_counter(), _cluster_cpu_s(client)
        rows.append(
            {
                "run": f"dask {workers}x1 thread, {memory_limit}",
                "phase": name,
                "buckets": n_buckets,
                "wall_s": round(now - t, 1),
                "cpu_s": round(cpu_now - cpu, 1),
                "peak_gib": _worker_peaks(client),
                **extra,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        t, cpu = time.perf_counter(), _cluster_cpu_s(client)

    tables = {n: os.path.join(data, f"{n}.parquet") for n in COLUMNS}
    for n_buckets in sweep or [buckets]:
        root = Path(scratch) / f"b{n_buckets}"
        layout = ckd.write_layout(
            tables, root / "layout", n_buckets=n_buckets, columns=COLUMNS
        )
        phase("layout", n_buckets)
        X = dd.read_parquet(os.path.join(data, "labels.parquet"))
        pipe = ck.make_churn_pipeline(None, random_state=0)
        features = ckd.compute_features(pipe, layout, X)
        ckd.write_results(features, root / "features")
        phase("features", n_buckets, columns=len(features.columns) - 4)
        if sweep:
            continue
        features = dd.read_parquet(root / "features")
        ckd.fit(pipe, features, label=LABEL, client=client)
        phase("fit", n_buckets, rounds=int(pipe[-1].best_iteration_) + 1)
        scores = ckd.score(pipe, layout, X)
        ckd.write_results(scores, root / "scores")
        phase("score", n_buckets)
    client.close()
    cluster.close()
    return rows


def markdown(rows) -> str:
    lines = [
        "| run | phase | buckets | wall (s) | CPU (s) | peak memory per process "
        "(GiB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        peaks = ", ".join(f"{p:.2f}" for p in r["peak_gib"])
        lines.append(
            f"| {r['run']} | {r['phase']} | {r.get('buckets', '')} | "
            f"{r['wall_s']} | {r['cpu_s']} | {peaks} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="gen_events.py output folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GiB")
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--sweep", type=int, nargs="*", help="buckets to time")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--single-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", default=None, help="layouts and results")
    parser.add_argument("--out", default=None, help="JSON records")
    args = parser.parse_args()
    if args.single_only:
        single_machine(args.data)
        return
    rows = []
    if not args.skip_single and not args.sweep:
        # its own process: its peak memory is not the cluster's
        proc = subprocess.run(
            [sys.executable, __file__, "--data", args.data, "--single-only"],
            stdout=subprocess.PIPE,
            text=True,
        )
        if proc.returncode:
            sys.exit(f"the single-machine run failed ({proc.returncode})")
        rows += [json.loads(line) for line in proc.stdout.splitlines() if line]
        for r in rows:
            print(json.dumps(r), flush=True)
    scratch = args.scratch or tempfile.mkdtemp(prefix="ck-dask-bench-")
    rows += cluster_run(
        args.data,
        workers=args.workers,
        memory_limit=args.memory_limit,
        buckets=args.buckets,
        scratch=scratch,
        sweep=args.sweep,
    )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


if __name__ == "__main__":
    main()

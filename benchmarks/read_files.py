#!/usr/bin/env python
"""Reading files: ``Events(path)`` against reading them yourself.

    python benchmarks/read_files.py [--rows 2000000] [--customers 50000] [--repeat 3]

Writes one usage table as CSV and as parquet (``customer_id`` text ids,
``time`` ISO text in the CSV and timestamps in the parquet, ``event`` kind,
``quantity``), then times, best of ``--repeat`` runs taken alternately:

* ``Events(customers=df, usage=path)``: churnkit reads the file;
* ``pd.read_csv(path, dtype={'customer_id': str})`` (or ``pq.read_table(path)
  .to_pandas()``) and then ``Events(customers=df, usage=frame)``.

The ratio (first / second) is the overhead of letting churnkit read the file;
the issue's target is at most 1.2.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import churnkit as ck


def _tables(rows: int, customers: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:07d}" for i in range(customers)], dtype=object)
    start = np.datetime64("2023-01-01", "s")
    cust = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_time": start + rng.integers(0, 86400 * 30, customers),
        }
    )
    seconds = np.sort(rng.integers(86400 * 31, 86400 * 400, rows))
    usage = pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, customers, rows)],
            "time": start + seconds,
            "event": rng.choice(["login", "view", "export", "api_call"], rows),
            "quantity": rng.integers(1, 5, rows).astype(float),
        }
    )
    return cust, usage


def _best_pair(first, second, repeat):
    """Best times of two functions, run alternately so that a busy machine
    slows both alike."""
    times = ([], [])
    for _ in range(repeat):
        for fn, out in zip((first, second), times, strict=True):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return min(times[0]), min(times[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ck.set_memory_tuning(True)  # a churnkit-only process: see docs/performance.md
    import pyarrow.parquet as pq

    cust, usage = _tables(args.rows, args.customers)
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    with tempfile.TemporaryDirectory() as tmp:
        csv, parquet = Path(tmp) / "usage.csv", Path(tmp) / "usage.parquet"
        usage.to_csv(csv, index=False)
        usage.to_parquet(parquet, index=False)
        cases = {
            "csv": (
                lambda: ck.Events(customers=cust, usage=csv),
                lambda: ck.Events(
                    customers=cust,
                    usage=pd.read_csv(csv, dtype={"customer_id": str}),
                ),
            ),
            "parquet": (
                lambda: ck.Events(customers=cust, usage=parquet),
                lambda: ck.Events(
                    customers=cust, usage=pq.read_table(parquet).to_pandas()
                ),
            ),
        }
        print(f"{args.rows:,} usage rows, {args.customers:,} customers")
        print(f"{'file':8} {'Events(path)':>13} {'read + Events(df)':>18} {'ratio':>6}")
        for name, (direct, yourself) in cases.items():
            a, b = _best_pair(direct, yourself, args.repeat)
            print(f"{name:8} {a:12.2f}s {b:17.2f}s {a / b:6.2f}")


if __name__ == "__main__":
    main()

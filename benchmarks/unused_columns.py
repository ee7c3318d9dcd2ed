#!/usr/bin/env python
"""Unused columns: building the store with and without extra columns.

    python benchmarks/unused_columns.py [--rows 1000000] [--repeat 3]

Builds ``Events(customers=..., usage=...)`` on the same usage table (text
``customer_id``, ``time``, ``event`` kind, ``quantity``) three ways, best of
``--repeat`` runs taken alternately so that a busy machine slows all alike:

* ``contract only``: the contract's columns;
* ``+ unique text``: plus one text column unique per row (a request id);
* ``+ 3 extra``: plus the unique text column, a low-cardinality text column
  (a device name) and a numeric one.

The ratios (extra / contract only) are what unused columns cost; issue 16's
target is about 1 (they cost nothing until a feature spec uses them). The last
line times the first read of the unique column (coding it to categories), paid
only by a caller that reads it: a feature spec, ``events.frame``, a save.
"""

from __future__ import annotations

import argparse
import time
import warnings

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
    request = pd.Series(np.arange(rows)).map("req-{:09d}".format).to_numpy()
    unique = usage.assign(request_id=request[rng.permutation(rows)])
    extra = unique.assign(
        device=rng.choice(["ios", "android", "web"], rows),
        latency_ms=rng.gamma(2.0, 50.0, rows),
    )
    return cust, usage, unique, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cust, usage, unique, extra = _tables(args.rows, args.customers)
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    cases = {"contract only": usage, "+ unique text": unique, "+ 3 extra": extra}
    ck.Events(customers=cust, usage=usage)  # warm-up: imports, first allocations
    times = {name: [] for name in cases}
    first_use = []
    for _ in range(args.repeat):
        for name, table in cases.items():
            t0 = time.perf_counter()
            events = ck.Events(customers=cust, usage=table)
            times[name].append(time.perf_counter() - t0)
            if name == "+ unique text":
                t0 = time.perf_counter()
                codes = events._engine.table("usage").columns["request_id"]
                first_use.append(time.perf_counter() - t0)
                assert len(codes) == args.rows
            del events
    base = min(times["contract only"])
    print(
        f"{args.rows:,} usage rows, {args.customers:,} customers (best of "
        f"{args.repeat})"
    )
    print(f"{'usage table':14} {'Events(...)':>12} {'ratio':>6}")
    for name in cases:
        best = min(times[name])
        print(f"{name:14} {best:11.2f}s {best / base:6.2f}")
    print(f"first read of the unique column: {min(first_use):.2f}s")


if __name__ == "__main__":
    main()

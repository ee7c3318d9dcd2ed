#!/usr/bin/env python
"""Feature pass in any row order: cutoffs sorted by (customer, time) or shuffled.

    python benchmarks/row_order.py --store DIR/ck_store --data DIR [--repeat 2]

Loads a saved store of the bench harness's data (build it with
``python benchmarks/reference_features.py --data DIR --out X.parquet --store
DIR/ck_store``), then computes the 44 reference features for the harness's
cutoffs as given (sorted by customer and time) and shuffled, alternately, and
prints the best CPU and wall seconds of each. The kernel evaluates rows in
(customer, time) order whatever the input order, so the two should cost about
the same; before, every window search of a shuffled row missed the cache.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pyarrow.parquet as pq

import churnkit as ck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_features import reference_specs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    events = ck.Events.load(args.store)
    cutoffs = pq.read_table(os.path.join(args.data, "cutoffs.parquet")).to_pandas()
    cases = {
        "sorted": cutoffs,
        "shuffled": cutoffs.sample(frac=1.0, random_state=0).reset_index(drop=True),
    }
    specs = reference_specs()
    best = {name: (float("inf"), float("inf")) for name in cases}
    for _ in range(args.repeat):
        for name, X in cases.items():
            cpu, wall = time.process_time(), time.perf_counter()
            ck.compute_features(events, X, specs)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    print(f"{len(cutoffs):,} cutoff rows, {len(specs)} specs (best of {args.repeat})")
    print(f"{'cutoffs':10} {'CPU':>8} {'wall':>8}")
    for name, (cpu, wall) in best.items():
        print(f"{name:10} {cpu:7.2f}s {wall:7.2f}s")


if __name__ == "__main__":
    main()

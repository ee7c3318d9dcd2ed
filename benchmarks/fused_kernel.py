#!/usr/bin/env python
"""The fused window kernel against the numpy kernel, in fresh processes.

Computes the harness's 44 reference features (``reference_features.py``) on a
saved Events store, ``--calls`` times in one process, with the fused loops on
(``fused``) or off (``numpy``), alternating the two in fresh processes
``--repeat`` times, and prints one markdown table of the CPU seconds (user +
sys of the feature calls, ``time.process_time``) -- the first call (numba's
start-up included) and the later ones -- and of the whole process::

    python benchmarks/reference_features.py --data DIR --out /tmp/x.parquet \
        --store DIR/ck_store
    python benchmarks/fused_kernel.py --store DIR/ck_store \
        --cutoffs DIR/cutoffs.parquet

Both modes check their results against each other (to the bit) in the first
round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(mode, store, cutoffs, calls, check):
    sys.path.insert(0, HERE)
    import numpy as np
    import pyarrow.parquet as pq
    from reference_features import reference_specs

    import churnkit as ck
    import churnkit.features._fused as fused

    if mode == "numpy":
        fused.FUSED_FROM = fused.FUSED_LOADED_FROM = 10**18
    events = ck.Events.load(store)
    X = pq.read_table(cutoffs).to_pandas()
    seconds = []
    for _ in range(calls):
        start = time.process_time()
        features = ck.compute_features(events, X, reference_specs())
        seconds.append(time.process_time() - start)
    if check:
        np.save(check, features.to_numpy())
    print(json.dumps({"calls": seconds, "process": time.process_time()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--cutoffs", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--child", choices=["numpy", "fused"])
    parser.add_argument("--check")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.store, args.cutoffs, args.calls, args.check)
    import numpy as np

    results = {"numpy": [], "fused": []}
    for round_ in range(args.repeat):
        for mode in results:
            cmd = [sys.executable, __file__, "--store", args.store]
            cmd += ["--cutoffs", args.cutoffs, "--child", mode]
            cmd += ["--calls", str(args.calls)]
            if round_ == 0:
                cmd += ["--check", f"/tmp/fused_kernel_{os.getpid()}_{mode}.npy"]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True)
            results[mode].append(json.loads(line.stdout.strip().splitlines()[-1]))
    a, b = (np.load(f"/tmp/fused_kernel_{os.getpid()}_{m}.npy") for m in results)
    same = np.array_equal(a.view(np.int64), b.view(np.int64))
    print(f"fused == numpy to the bit: {same}\n")
    print(
        "| kernel | first call CPU (s) | later calls CPU (s) | whole process CPU (s) |"
    )
    print("|---|---:|---:|---:|")
    for mode, runs in results.items():
        first = statistics.median(r["calls"][0] for r in runs)
        later = statistics.median(c for r in runs for c in r["calls"][1:])
        process = statistics.median(r["process"] for r in runs)
        print(f"| {mode} | {first:.2f} | {later:.2f} | {process:.2f} |")
    print(f"\n(medians of {args.repeat} fresh processes per kernel, alternating)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Writing and reading a partitioned layout against building one store.

    python benchmarks/layout_io.py --data /tmp/bench/small --buckets 16 64 --repeat 3

Data: the bench harness's parquet files (``python ../shared/bench/gen_events.py
--size small --out DIR``). Phases, run round-robin ``--repeat`` times so load
drift hits each alike, each timed in wall and CPU seconds (user + sys of this
process, steadier than wall on a shared machine):

- ``build``: ``ck.Events`` from the parquet files (the single-machine store);
- ``write N``: ``write_layout(events, tmp, n_buckets=N)`` from that store;
- ``read N``: ``open_layout`` then ``layout.read(b)`` for every bucket, one
  after the other (what the workers of an engine do between them).

Prints one JSON record per phase and run, then a markdown table of medians
with the ratio of each phase to ``build``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_features import build_events  # noqa: E402

from churnkit.distributed import open_layout, write_layout  # noqa: E402


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--buckets", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    records = []
    scratch = Path(tempfile.mkdtemp(prefix="layout_io_"))
    try:
        for run in range(args.repeat):
            events, wall, cpu = _timed(lambda: build_events(args.data))
            records.append({"phase": "build", "run": run, "wall": wall, "cpu": cpu})
            print(json.dumps(records[-1]), flush=True)
            for n in args.buckets:
                path = scratch / f"n{n}"
                _, wall, cpu = _timed(
                    lambda n=n, path=path, store=events: write_layout(
                        store, path, n_buckets=n, overwrite=True
                    )
                )
                records.append(
                    {"phase": f"write {n}", "run": run, "wall": wall, "cpu": cpu}
                )
                print(json.dumps(records[-1]), flush=True)

                def read_all(path=path):
                    layout = open_layout(path)
                    return sum(layout.read(b).n_customers for b in layout.buckets)

                customers, wall, cpu = _timed(read_all)
                assert customers == events.n_customers
                records.append(
                    {"phase": f"read {n}", "run": run, "wall": wall, "cpu": cpu}
                )
                print(json.dumps(records[-1]), flush=True)
            events = None  # freed before the next build
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    phases = list(dict.fromkeys(r["phase"] for r in records))
    median = {
        p: {
            k: statistics.median(r[k] for r in records if r["phase"] == p)
            for k in ("wall", "cpu")
        }
        for p in phases
    }
    print("\n| phase | wall (s) | CPU (s) | CPU / build |")
    print("|---|---|---|---|")
    for p in phases:
        ratio = median[p]["cpu"] / median["build"]["cpu"]
        print(
            f"| {p} | {median[p]['wall']:.2f} | {median[p]['cpu']:.2f} | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()

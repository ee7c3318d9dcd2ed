#!/usr/bin/env python
"""The whole-process floor of the harness's task: read the inputs, write the output.

A peer for ``../shared/bench/run_bench.py`` that computes nothing: it imports
what a churnkit process imports (pandas, pyarrow and, unless ``--no-numba``,
numba with one cached compiled loop called, which starts numba's runtime as
churnkit's kernels do), reads every column the 44 reference features need
from the harness's parquet files into numpy, touches each once, and writes the
harness's output shape (``customer_id``, ``cutoff_time`` and 44 float columns,
all zero) for the cutoff rows. Memory is tuned as churnkit's peer tunes it
(``ck.set_memory_tuning(True)``: glibc keeps freed blocks, Arrow reads into the
system allocator); ``--untuned`` leaves the defaults (numba's start-up then
makes the reads that follow it pay ~1-2 s of page faults)::

    python benchmarks/process_floor.py --data DIR --out FILE.parquet [--no-numba]
    python benchmarks/process_floor.py --data DIR --out FILE --inputs cutoffs

``--inputs cutoffs`` reads only the cutoff file: the floor of a warm run,
which starts from a saved store instead of the event files (loading the store
is not counted, so this floor is lower than any warm run can be).

Whatever an implementation computes, its process costs at least this much, so
a target below this floor (issue 23 asks a cold medium run for at most 0.20x
polars' wall time and a warm one for 0.10x) cannot be met by a Python process
that takes and gives pandas. ``docs/performance.md`` has the measured run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import numpy as np
import pandas as pd  # noqa: F401  (the import a churnkit process pays)
import pyarrow as pa
import pyarrow.parquet as pq

from churnkit._memory import reuse_freed_memory, set_memory_tuning

#: the columns of each file the 44 reference features read
NEEDED = {
    "customers": ["customer_id", "signup_at"],
    "usage": ["customer_id", "timestamp", "event", "quantity"],
    "billing": ["customer_id", "timestamp", "kind", "amount", "mrr"],
    "support": ["customer_id", "opened_at", "closed_at", "csat"],
    "cutoffs": ["customer_id", "cutoff_time"],
}
N_FEATURES = 44


def start_numba() -> None:
    """Call one cached compiled loop: numba's start-up, as churnkit pays it."""
    from numba import njit

    @njit(cache=True)
    def total(values):
        out = 0.0
        for v in values:
            out += v
        return out

    total(np.ones(4))


def read_columns(path: str, columns: list[str]) -> dict:
    """The file's ``columns`` as numpy arrays (kinds as dictionary codes)."""
    table = pq.read_table(path, columns=columns)
    out = {}
    for name in columns:
        column = table.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.indices
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = column.dictionary_encode().indices
        out[name] = column.to_numpy(zero_copy_only=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-numba", action="store_true")
    parser.add_argument("--inputs", choices=["all", "cutoffs"], default="all")
    parser.add_argument("--untuned", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    tuned = not args.untuned
    set_memory_tuning(tuned)
    with reuse_freed_memory() if tuned else contextlib.nullcontext():
        if tuned:
            pa.set_memory_pool(pa.system_memory_pool())
        n = run(args)
    print(f"{n:,} rows written in {time.perf_counter() - started:.2f} s")


def run(args) -> int:
    """Read, touch and write; the number of cutoff rows written."""
    if not args.no_numba:
        start_numba()
    names = list(NEEDED) if args.inputs == "all" else ["cutoffs"]
    touched = 0
    for name in names:
        arrays = read_columns(os.path.join(args.data, f"{name}.parquet"), NEEDED[name])
        touched += sum(int(a.view(np.uint8)[::4096].sum()) for a in arrays.values())
        if name == "cutoffs":
            cutoffs = arrays
    n = len(cutoffs["customer_id"])
    zeros = pa.array(np.zeros(n))
    columns = {
        "customer_id": pa.array(cutoffs["customer_id"]),
        "cutoff_time": pa.array(cutoffs["cutoff_time"]),
        **{f"feature_{i}": zeros for i in range(N_FEATURES)},
    }
    pq.write_table(pa.table(columns), args.out, use_dictionary=False)
    return n if touched >= 0 else 0


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Events build and features with and without ``ck.set_memory_tuning``.

    python benchmarks/memory_tuning.py off 30000
    python benchmarks/memory_tuning.py on 30000

Run each mode in its own process (the tuning keeps freed memory in the heap,
which would favour whatever runs next in the same process), alternating.
Prints wall and kernel (sys) time per stage and the peak resident memory.
"""

import resource
import sys
import time
import warnings

import pandas as pd

import churnkit as ck

warnings.simplefilter("ignore")
on = sys.argv[1] == "on"
n = int(sys.argv[2])
ck.set_memory_tuning(on)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


t0, (u0, s0) = time.perf_counter(), cpu()
data = ck.datasets.make_saas_events(n_customers=n, usage_rate=2.5, random_state=0)
t1, (u1, s1) = time.perf_counter(), cpu()
events = data.events
last = (events.observed_until - pd.Timedelta("31D")).to_period("M").to_timestamp()
cutoffs = ck.make_cutoffs(events, start=last - pd.DateOffset(months=2), end=last)
F = ck.ChurnFeatures(events).fit(cutoffs)
t2, (u2, s2) = time.perf_counter(), cpu()
F.transform(cutoffs)
t3, (u3, s3) = time.perf_counter(), cpu()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(
    f"tuning={'on ' if on else 'off'} rows={len(events._engine.table('usage'))} "
    f"data+Events {t1 - t0:.1f}s (sys {s1 - s0:.1f}) | "
    f"features fit {t2 - t1:.1f}s (sys {s2 - s1:.1f}) | "
    f"warm transform {t3 - t2:.1f}s (sys {s3 - s2:.1f}) | peak {peak:.2f} GiB",
    flush=True,
)

#!/usr/bin/env python
"""The bench harness's reference feature set, computed with churnkit's public API.

A peer for ``../shared/bench/run_bench.py``: reads the harness's parquet files,
builds a :class:`churnkit.Events` store (with a column mapping), evaluates the
44 reference features as user-defined :class:`churnkit.FeatureSpec` specs on
churnkit's kernel (``ck.compute_features``, the functional core of
``ck.CustomFeatures``), and writes them in the harness's format::

    python benchmarks/reference_features.py --data DIR --out FILE.parquet

``--store DIR`` saves the grouped Events store; ``--load-store DIR`` starts from
a saved store (the "warm" measure: a new set of cutoffs on a built store).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import pyarrow.parquet as pq

import churnkit as ck

KINDS = [
    "login",
    "page_view",
    "api_call",
    "report_run",
    "export",
    "invite_sent",
    "integration_sync",
    "file_upload",
]
WINDOWS = [7, 30, 90]
COLUMNS = {
    "customers": {"signup_at": "signup_time"},
    "usage": {"timestamp": "time"},
    "billing": {"timestamp": "time"},
    "support": {"opened_at": "time", "closed_at": "closed_time"},
}


def reference_specs():
    """The harness's 44 features (``common.py``) as churnkit specs, in order."""
    S, D = ck.FeatureSpec, ck.Derived
    specs = []
    for w in WINDOWS:
        win = f"{w}D"
        specs += [
            S(f"usage_count_{w}d", "usage", "count", window=win),
            S(f"usage_qty_sum_{w}d", "usage", "sum", column="quantity", window=win),
        ]
        specs += [
            S(f"usage_{k}_count_{w}d", "usage", "count", window=win, where={"event": k})
            for k in KINDS
        ]
        specs.append(S(f"usage_active_days_{w}d", "usage", "active_days", window=win))
    specs += [
        S("usage_days_since_last", "usage", "days_since_last"),
        S(
            "usage_count_30_60d",
            "usage",
            "count",
            window="30D",
            offset="30D",
            output=False,
        ),
        D("usage_trend_30d", "trend", "usage_count_30d", "usage_count_30_60d"),
        S(
            "billing_payment_sum_90d",
            "billing",
            "sum",
            column="amount",
            window="90D",
            where={"kind": "payment"},
        ),
        S(
            "billing_failed_count_90d",
            "billing",
            "count",
            window="90D",
            where={"kind": "payment_failed"},
        ),
        S("billing_last_mrr", "billing", "last", column="mrr"),
        S(
            "billing_mrr_90d_ago",
            "billing",
            "last",
            column="mrr",
            offset="90D",
            output=False,
        ),
        D(
            "billing_mrr_change_90d",
            "difference",
            "billing_last_mrr",
            "billing_mrr_90d_ago",
        ),
        S("support_tickets_30d", "support", "count", window="30D"),
        S("support_tickets_90d", "support", "count", window="90D"),
        S("support_open_at_cutoff", "support", "open"),
        S(
            "support_csat_mean_90d",
            "support",
            "mean",
            column="csat",
            window="90D",
            by="closed_time",
        ),
        S("tenure_days", "customers", "tenure_days"),
    ]
    return specs


def build_events(data):
    """Events read straight from the parquet files (freed table by table)."""
    return ck.Events(
        **{name: os.path.join(data, f"{name}.parquet") for name in COLUMNS},
        columns=COLUMNS,
    )


def write(features, path):
    """The harness's format: keys + features sorted by (customer_id, cutoff_time).

    Written with pyarrow from the feature block's columns (zero-copy), sorted
    only when the cutoff file was not already in that order.
    """
    import numpy as np
    import pyarrow as pa

    ids = features.index.get_level_values("customer_id").to_numpy()
    times = features.index.get_level_values("cutoff_time").to_numpy("datetime64[us]")
    ordered = len(ids) < 2 or bool(
        np.all(
            (ids[1:] > ids[:-1]) | ((ids[1:] == ids[:-1]) & (times[1:] >= times[:-1]))
        )
    )
    order = None if ordered else np.lexsort((times, ids))

    def take(values):
        return values if order is None else values[order]

    columns = {"customer_id": pa.array(take(ids)), "cutoff_time": pa.array(take(times))}
    for name in features.columns:
        columns[name] = pa.array(take(features[name].to_numpy()))
    # no dictionary pages: float features rarely repeat, and trying costs time
    pq.write_table(pa.table(columns), path, use_dictionary=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--store", help="also save the Events store here")
    parser.add_argument("--load-store", help="start from a saved Events store")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    ck.set_memory_tuning(True)  # a churnkit-only process: see docs/performance.md
    t0 = last = time.perf_counter()
    phases = {}

    def mark(phase):
        nonlocal last
        now = time.perf_counter()
        phases[phase] = round(now - last, 4)
        last = now

    if args.load_store:
        events = ck.Events.load(args.load_store)
        mark("load_store")
    else:
        events = build_events(args.data)
        mark("events")
        if args.store:
            events.save(args.store)
            mark("save_store")
    cutoffs = pq.read_table(os.path.join(args.data, "cutoffs.parquet")).to_pandas()
    mark("read_cutoffs")
    features = ck.compute_features(events, cutoffs, reference_specs())
    mark("features")
    write(features, args.out)
    mark("write")
    rec = {
        "peer": "churnkit",
        "phases_s": phases,
        "in_process_s": round(time.perf_counter() - t0, 4),
        "maxrss_self_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "rows": len(features),
    }
    print("BENCH_JSON " + json.dumps(rec), flush=True)
    print(f"churnkit: {len(features)} rows -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

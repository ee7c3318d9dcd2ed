"""The ``churnkit`` command line: ``churnkit demo | train | score | explain``.

The CLI is argparse over the public API, with no logic of its own.
"""

from __future__ import annotations

import argparse
import sys
import time

from churnkit.exceptions import ChurnkitError


def _demo(args) -> int:
    import pandas as pd

    import churnkit as ck

    t0 = time.perf_counter()
    data = ck.datasets.make_saas_events(
        n_customers=args.customers, random_state=args.seed
    )
    events = data.events
    print(events)
    print(events.summary().to_string())
    start = events.customers["signup_time"].min().normalize() + pd.offsets.MonthBegin(3)
    end = events.observed_until - pd.DateOffset(months=1)
    cutoffs = ck.make_cutoffs(events, start=start, end=end, freq="MS")
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    rate = labels.groupby("cutoff_time")["churned"].agg(["size", "mean"])
    rate.columns = ["customers", "churn_rate_30d"]
    print("\n30-day churn by cutoff:")
    print(rate.to_string(float_format=lambda v: f"{v:.2%}"))
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="churnkit",
        description="Predict which customers will churn and explain why.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole flow on built-in synthetic data")
    demo.add_argument(
        "--customers", type=int, default=5_000, help="customers to simulate"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--out", default="churnkit-demo", help="output folder")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ChurnkitError as exc:
        print(f"churnkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Predictive quality on fightchurn simulations of several seeds (issue 17).

    python benchmarks/fightchurn_seeds.py DIR [DIR ...] [--json out.json]

Each DIR holds ``event.csv.gz`` and ``subscription.csv`` of one fightchurn
``socialnet7`` simulation (the shared seed-7 set, or one written by
``benchmarks/fightchurn_sim.py --seed N``). The protocol is the quality
table's (``quality_table.fightchurn``): monthly cutoffs 2020-02..2020-06, a
1-month horizon, ``CutoffSplit(2)`` forward in time, every model at its
defaults. Prints ROC-AUC per seed and model (the mean over the two folds),
then the mean and the lowest over the seeds.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events  # noqa: E402
from quality_table import fightchurn  # noqa: E402

import churnkit as ck  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = []
    for folder in args.dirs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ck.ChurnkitWarning)
            scores = fightchurn(fightchurn_events(folder))
        if scores is None:
            print(f"{folder}: not found; skipped", file=sys.stderr)
            continue
        scores["data"] = Path(folder).name
        rows.append(scores)
        means = scores.groupby("model", sort=False)["roc_auc"].mean().round(4)
        print(Path(folder).name, means.to_dict(), flush=True)
    if not rows:
        return
    table = pd.concat(rows, ignore_index=True)
    per_seed = table.pivot_table(
        index="data", columns="model", values="roc_auc", aggfunc="mean", sort=False
    )
    print(per_seed.round(3).to_string())
    print("\nmean over seeds:", per_seed.mean().round(3).to_dict())
    print("lowest seed:", per_seed.min().round(3).to_dict())
    if args.json:
        table.to_json(args.json, orient="records", date_format="iso")


if __name__ == "__main__":
    main()

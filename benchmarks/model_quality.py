"""ROC-AUC of ChurnClassifier at its defaults on public static churn tables.

Each table gets only the preparation its README allows (drop the listed columns,
map the label to 0/1); everything else (text numbers, categoricals, missing
values) is ChurnClassifier's job. Scores are 5-fold stratified cross-validation
(``StratifiedKFold(5, shuffle=True, random_state=0)``); nothing is tuned.

Run from the repository root::

    python benchmarks/model_quality.py            # all data sets, both models
    python benchmarks/model_quality.py --quick    # 3 folds, for a fast look

Prints a markdown table: mean ± sd of ROC-AUC over the folds, the target, and
the fit time per fold.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate

from churnkit.models import ChurnClassifier

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def load_telco():
    df = pd.read_csv(DATASETS / "telco_ibm" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    y = (df.pop("Churn") == "Yes").astype(int)
    return df.drop(columns=["customerID"]), y


def load_bank():
    df = pd.read_csv(DATASETS / "bank_churn_modelling" / "Churn_Modelling.csv")
    y = df.pop("Exited").astype(int)
    return df.drop(columns=["RowNumber", "CustomerId", "Surname"]), y


def load_mlc():
    df = pd.read_csv(DATASETS / "telecom_mlc_churn" / "mlc_churn.csv")
    y = (df.pop("churn") == "yes").astype(int)
    return df.drop(columns=["mlc_split", "bigml_split"]), y


def load_bank_churners():
    df = pd.read_csv(DATASETS / "bank_churners_credit_card" / "BankChurners.csv")
    y = (df.pop("Attrition_Flag") == "Attrited Customer").astype(int)
    leaks = [c for c in df.columns if c.startswith("Naive_Bayes")]
    return df.drop(columns=["CLIENTNUM", *leaks]), y


# name, loader, {model: target ROC-AUC or None}
CASES = [
    ("IBM Telco", load_telco, {"logistic": 0.84, "xgboost": 0.84}),
    ("Churn_Modelling (bank)", load_bank, {"logistic": 0.76, "xgboost": 0.865}),
    ("MLC telecom", load_mlc, {"logistic": None, "xgboost": 0.92}),
    (
        "BankChurners (credit card)",
        load_bank_churners,
        {"logistic": None, "xgboost": None},
    ),
]


def score(model: str, X, y, n_splits: int) -> tuple[np.ndarray, float]:
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TotalCharges text warning, once per fold
        result = cross_validate(
            ChurnClassifier(model, random_state=0), X, y, cv=cv, scoring="roc_auc"
        )
    return result["test_score"], float(np.mean(result["fit_time"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 folds instead of 5")
    args = parser.parse_args(argv)
    n_splits = 3 if args.quick else 5
    if not DATASETS.exists():
        print(f"data sets not found at {DATASETS}", file=sys.stderr)
        return 1
    lines = [
        f"ROC-AUC, StratifiedKFold({n_splits}, shuffle=True, random_state=0), "
        "ChurnClassifier defaults (random_state=0)",
        "",
        "| data set | rows | churn rate | model | ROC-AUC mean ± sd | target | met | "
        "fit s/fold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    missed = 0
    for name, loader, targets in CASES:
        X, y = loader()
        for model, target in targets.items():
            aucs, fit_time = score(model, X, y, n_splits)
            mean = aucs.mean()
            ok = "" if target is None else ("yes" if mean >= target else "**no**")
            missed += ok == "**no**"
            lines.append(
                f"| {name} | {len(y):,} | {y.mean():.1%} | {model} | "
                f"{mean:.4f} ± {aucs.std(ddof=1):.4f} | "
                f"{'' if target is None else f'>= {target}'} | {ok} | {fit_time:.2f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""churnkit's xgboost default vs untuned off-the-shelf GBMs on the four static tables.

    python benchmarks/static_quality.py [--only telco bank mlc churners] [--json F]

Data: the four static sets in ``../shared/datasets`` (IBM Telco, Churn_Modelling,
MLC telecom, BankChurners), each prepared as its README says (label to 0/1, id
and leaking columns dropped; loaders shared with ``model_quality.py``). Scores:
5-fold stratified CV (``StratifiedKFold(5, shuffle=True, random_state=0)``),
ROC-AUC, PR-AUC and Brier score of the predicted probabilities, and fit
seconds per fold with the ratio to plain xgboost.

Models, all at their defaults (nothing tuned, ``random_state=0``):

* ``churnkit xgboost``: ``ck.ChurnClassifier("xgboost")`` on the raw frame;
* ``churnkit auto``: ``ck.ChurnClassifier("auto")``, the opt-in search of
  ``churnkit.models._auto`` (candidates scored on inner folds of the training
  fold only; the output lists the candidate each fold chose);
* ``xgboost``: ``xgboost.XGBClassifier()`` with native categoricals
  (``enable_categorical=True``; text columns as pandas categories);
* ``HistGradientBoosting``: scikit-learn, categorical columns "from_dtype";
* ``LightGBM`` and ``CatBoost``: their defaults with native categoricals, when
  the package is installed (``pip install catboost lightgbm``: benchmark only,
  not churnkit dependencies); a peer that is not installed is skipped and the
  output says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_quality import (  # noqa: E402
    DATASETS,
    load_bank,
    load_bank_churners,
    load_mlc,
    load_telco,
)

import churnkit as ck  # noqa: E402

SETS = {
    "telco": ("IBM Telco", load_telco, "telco_ibm"),
    "bank": ("Churn_Modelling", load_bank, "bank_churn_modelling"),
    "mlc": ("MLC telecom", load_mlc, "telecom_mlc_churn"),
    "churners": ("BankChurners", load_bank_churners, "bank_churners_credit_card"),
}


def _typed(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns that hold numbers become numbers, other text categories."""
    out = X.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            numbers = pd.to_numeric(out[col].str.strip(), errors="coerce")
            blank = out[col].str.strip().eq("") | out[col].isna()
            if numbers.notna().sum() >= 0.99 * (~blank).sum() and (~blank).any():
                out[col] = numbers
            else:
                out[col] = out[col].astype("category")
    return out


def peers() -> dict:
    """name -> factory of an untuned classifier taking the typed frame."""
    import xgboost as xgb
    from sklearn.ensemble import HistGradientBoostingClassifier

    models = {
        "churnkit xgboost": "xgboost",  # churnkit models take the raw frame
        "churnkit auto": "auto",
        "xgboost": lambda: xgb.XGBClassifier(
            enable_categorical=True, random_state=0, n_jobs=2
        ),
        "HistGradientBoosting": lambda: HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=0
        ),
    }
    if importlib.util.find_spec("lightgbm"):
        import lightgbm as lgb

        models["LightGBM"] = lambda: lgb.LGBMClassifier(
            random_state=0, verbose=-1, n_jobs=2
        )
    if importlib.util.find_spec("catboost"):
        import catboost as cb

        models["CatBoost"] = lambda: _CatBoost(cb)
    return models


class _CatBoost:
    """CatBoost at its defaults, told which columns are categorical."""

    def __init__(self, cb):
        self.cb = cb

    def fit(self, X, y):
        cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        X = X.copy()
        for c in cats:
            X[c] = X[c].astype(str)
        self.cats_ = cats
        self.model_ = self.cb.CatBoostClassifier(
            random_seed=0,
            verbose=0,
            thread_count=2,
            cat_features=cats,
            allow_writing_files=False,  # no catboost_info/ in the cwd
        )
        self.model_.fit(X, y)
        return self

    def predict_proba(self, X):
        X = X.copy()
        for c in self.cats_:
            X[c] = X[c].astype(str)
        return self.model_.predict_proba(X)


def metrics(y, score) -> dict:
    e = ck.evaluate(np.asarray(y), np.asarray(score, float))
    return {"roc_auc": e["roc_auc"], "pr_auc": e["pr_auc"], "brier": e["brier"]}


def run(only=None, models=None, n_splits=5) -> pd.DataFrame:
    """Per-fold scores, one row per (data set, model, fold)."""
    factories = peers()
    if models is not None:
        factories = {k: v for k, v in factories.items() if k in models}
    rows = []
    for key, (name, load, folder) in SETS.items():
        if only and key not in only:
            continue
        if not (DATASETS / folder).exists():
            print(f"{name}: data not found in {DATASETS / folder}, skipped")
            continue
        X, y = load()
        y = np.asarray(y)
        typed = _typed(X)
        folds = StratifiedKFold(n_splits, shuffle=True, random_state=0)
        for fold, (train, test) in enumerate(folds.split(X, y)):
            for model_name, make in factories.items():
                if isinstance(make, str):
                    model = ck.ChurnClassifier(make, random_state=0)
                    Xtr, Xte = X.iloc[train], X.iloc[test]
                else:
                    model = make()
                    Xtr, Xte = typed.iloc[train], typed.iloc[test]
                t0 = time.perf_counter()
                model.fit(Xtr, y[train])
                fit_s = time.perf_counter() - t0
                score = model.predict_proba(Xte)[:, 1]
                rows.append(
                    {
                        "data": name,
                        "model": model_name,
                        "fold": fold,
                        "fit_s": fit_s,
                        **metrics(y[test], score),
                        "chosen": getattr(model, "search_", {}).get("chosen", ""),
                    }
                )
    out = pd.DataFrame(rows)
    missing = [p for p in ("lightgbm", "catboost") if not importlib.util.find_spec(p)]
    out.attrs["skipped"] = missing
    return out


def summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean per (data set, model), with the fit-time ratio to plain xgboost."""
    table = scores.groupby(["data", "model"], sort=False)[
        ["roc_auc", "pr_auc", "brier", "fit_s"]
    ].mean()
    plain = table.xs("xgboost", level="model")["fit_s"]
    table["fit_ratio_vs_xgboost"] = (
        table["fit_s"] / plain.reindex(table.index.get_level_values("data")).to_numpy()
    )
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, choices=list(SETS))
    parser.add_argument("--json", default=None)
    parser.add_argument("--models", nargs="*", default=None, help="model names")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    scores = run(args.only, args.models)
    if scores.empty:
        print("no data found")
        return
    table = summary(scores)
    if scores.attrs["skipped"]:
        print(f"not installed, skipped: {scores.attrs['skipped']}")
    print(f"5-fold CV, {time.perf_counter() - t0:.0f} s")
    print(table.round(4).to_string())
    chosen = scores[scores["chosen"] != ""].groupby("data", sort=False)["chosen"]
    for data, picks in chosen:
        print(f"{data}: churnkit auto chose {list(picks)} (fold by fold)")
    if args.json:
        flat = table.round(4).reset_index().to_dict("records")
        Path(args.json).write_text(json.dumps(flat, indent=1))


if __name__ == "__main__":
    main()

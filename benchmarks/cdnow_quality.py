#!/usr/bin/env python
"""CDNOW with the standard protocol: churnkit's default pipeline vs BG/NBD and RFM.

    python benchmarks/cdnow_quality.py [--windows auto|7D,30D,90D] [--json out.json]

Data: ``../shared/datasets/cdnow/CDNOW_master.txt`` (23,570 customers of the
1997-Q1 cohort, real purchases). Protocol (Fader & Hardie; the data's README):
one cutoff, 1997-10-01; churn = no purchase in the next 39 weeks
(``ck.label_inactivity(horizon="273D")``); 5-fold stratified CV over customers
(``StratifiedKFold(5, shuffle=True, random_state=0)``), every model fitted on
the training folds only. Purchases are the usage table (``event="purchase"``,
``quantity`` = CDs, ``amount`` = dollars).

Models, each scored on the same folds:

* ``churnkit xgboost`` and ``churnkit logistic``: ``ck.make_churn_pipeline``
  with its defaults (``windows="auto"`` unless ``--windows`` says otherwise);
* ``BG/NBD``: Fader, Hardie & Lee (2005), 4 parameters fitted by maximum
  likelihood (scipy.optimize, implemented below: no ``lifetimes``/``btyd``),
  time in weeks, same-day purchases merged; risk = minus the expected number of
  purchases in the 39 holdout weeks;
* ``RFM logistic``: logistic regression on 4 features (recency = days since
  the last purchase, frequency = repeat purchase days, monetary = mean spend,
  T = days since the first purchase), log1p then standardised.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import churnkit as ck

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CUTOFF = pd.Timestamp("1997-10-01")
HORIZON = "273D"  # 39 weeks
HOLDOUT_WEEKS = 39.0


def load_transactions() -> pd.DataFrame | None:
    path = DATASETS / "cdnow" / "CDNOW_master.txt"
    if not path.exists():
        return None
    tx = pd.read_csv(
        path,
        sep=r"\s+",
        skiprows=1,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
    )
    tx["time"] = pd.to_datetime(tx["date"].astype(str), format="%Y%m%d")
    return tx


def make_events(tx: pd.DataFrame):
    """The log as an Events store: purchases are usage events with an amount."""
    first = tx.groupby("customer_id")["time"].min()
    customers = pd.DataFrame(
        # signed up just before the first purchase: eligible at a cutoff on that day
        {"customer_id": first.index, "signup_time": first.values - pd.Timedelta("1s")}
    )
    usage = tx.assign(
        event="purchase", quantity=tx["number_of_cds"], amount=tx["dollar_value"]
    )[["customer_id", "time", "event", "quantity", "amount"]]
    return ck.Events(customers=customers, usage=usage, observed_until="1998-07-01")


def rfm_summary(tx: pd.DataFrame, ids) -> pd.DataFrame:
    """Per customer, from purchases before the cutoff (same-day merged), in weeks.

    ``x`` repeat purchase days, ``t_x`` weeks from first to last purchase day,
    ``T`` weeks from the first purchase to the cutoff, ``recency`` days since
    the last purchase, ``monetary`` mean spend per purchase day.
    """
    cal = tx[tx["time"] < CUTOFF]
    days = cal.groupby(["customer_id", "time"], as_index=False)["dollar_value"].sum()
    g = days.groupby("customer_id")
    first, last, n = g["time"].min(), g["time"].max(), g["time"].size()
    week = pd.Timedelta("7D")
    out = pd.DataFrame(
        {
            "x": (n - 1).astype(float),
            "t_x": (last - first) / week,
            "T": (CUTOFF - first) / week,
            "recency": (CUTOFF - last) / pd.Timedelta("1D"),
            "monetary": g["dollar_value"].mean(),
        }
    )
    return out.reindex(ids)


class BGNBD:
    """BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood."""

    def fit(self, x, t_x, T):
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))

        def nll(log_params):
            r, alpha, a, b = np.exp(log_params)
            a1 = (
                special.gammaln(r + x)
                - special.gammaln(r)
                + r * np.log(alpha)
                + special.gammaln(a + b)
                + special.gammaln(b + x)
                - special.gammaln(b)
                - special.gammaln(a + b + x)
            )
            a3 = -(r + x) * np.log(alpha + T)
            with np.errstate(divide="ignore", invalid="ignore"):
                a4 = np.where(
                    x > 0,
                    np.log(a)
                    - np.log(np.maximum(b + x - 1, 1e-12))
                    - (r + x) * np.log(alpha + t_x),
                    -np.inf,
                )
            return -(a1 + np.logaddexp(a3, a4)).sum()

        best = optimize.minimize(
            nll,
            np.zeros(4),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6},
        )
        best = optimize.minimize(nll, best.x, method="L-BFGS-B")
        self.params_ = dict(zip(("r", "alpha", "a", "b"), np.exp(best.x), strict=True))
        return self

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in the next ``t`` weeks | x, t_x, T] (eq. 10 of the paper)."""
        r, alpha, a, b = (self.params_[k] for k in ("r", "alpha", "a", "b"))
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        alive = 1 + (x > 0) * a / np.maximum(b + x - 1, 1e-12) * (
            (alpha + T) / (alpha + t_x)
        ) ** (r + x)
        return first * second / alive


def rfm_matrix(s: pd.DataFrame) -> np.ndarray:
    return np.log1p(s[["recency", "x", "monetary", "T"]].to_numpy(float).clip(min=0))


def metrics(y, score) -> dict:
    e = ck.evaluate(np.asarray(y), np.asarray(score, float))
    return {"roc_auc": e["roc_auc"], "pr_auc": e["pr_auc"], "brier": e["brier"]}


def run(windows="auto", models=("xgboost", "logistic")) -> pd.DataFrame | None:
    tx = load_transactions()
    if tx is None:
        return None
    events = make_events(tx)
    X = ck.make_cutoffs(events, at=str(CUTOFF.date()))
    labels = ck.label_inactivity(events, X, horizon=HORIZON)
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"].to_numpy()
    summary = rfm_summary(tx, X["customer_id"].to_numpy())
    rows, chosen = [], None
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(folds.split(X, y)):
        for name in models:
            params = {} if windows is None else {"windows": windows}
            model = ck.make_churn_pipeline(events, model=name, random_state=0, **params)
            t0 = time.perf_counter()
            model.fit(X.iloc[train], y[train])
            fit_s = time.perf_counter() - t0
            # a predicted churn probability: Brier is comparable across models
            score = model.predict_proba(X.iloc[test])[:, 1]
            chosen = getattr(model.named_steps["features"], "windows_", None)
            rows.append(
                {
                    "fold": fold,
                    "model": f"churnkit {name}",
                    "fit_s": fit_s,
                    **metrics(y[test], score),
                }
            )
        s_tr, s_te = summary.iloc[train], summary.iloc[test]
        t0 = time.perf_counter()
        bg = BGNBD().fit(s_tr["x"], s_tr["t_x"], s_tr["T"])
        expected = bg.expected_purchases(
            HOLDOUT_WEEKS, s_te["x"], s_te["t_x"], s_te["T"]
        )
        # P(no purchase) under a Poisson count with that mean: a churn probability
        rows.append(
            {
                "fold": fold,
                "model": "BG/NBD",
                "fit_s": time.perf_counter() - t0,
                **metrics(y[test], np.exp(-expected)),
            }
        )
        t0 = time.perf_counter()
        lr = make_pipeline(StandardScaler(), LogisticRegression())
        lr.fit(rfm_matrix(s_tr), y[train])
        rows.append(
            {
                "fold": fold,
                "model": "RFM logistic (4 features)",
                "fit_s": time.perf_counter() - t0,
                **metrics(y[test], lr.predict_proba(rfm_matrix(s_te))[:, 1]),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["windows"] = chosen
    out.attrs["rows"] = len(y)
    out.attrs["churn_rate"] = float(np.mean(y))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--windows",
        default="auto",
        help="'auto' or comma-separated windows such as 7D,30D,90D",
    )
    parser.add_argument("--json", default=None, help="write the mean scores here")
    args = parser.parse_args()
    windows = args.windows if args.windows == "auto" else tuple(args.windows.split(","))
    warnings.simplefilter("ignore", ck.ChurnkitWarning)
    t0 = time.perf_counter()
    scores = run(windows)
    if scores is None:
        print("CDNOW data not found (../shared/datasets/cdnow): skipped")
        return
    grouped = scores.groupby("model", sort=False)
    means = grouped[["roc_auc", "pr_auc", "brier", "fit_s"]].mean()
    print(
        f"CDNOW, cutoff {CUTOFF.date()}, 39-week inactivity label, "
        f"{scores.attrs['rows']:,} customers ({scores.attrs['churn_rate']:.1%} "
        f"churn), 5-fold CV; windows={args.windows} (chosen: "
        f"{scores.attrs['windows']}); {time.perf_counter() - t0:.0f} s"
    )
    print(
        means.join(grouped["roc_auc"].std().rename("roc_auc_std")).round(4).to_string()
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(means.round(4).to_dict("index"), indent=1)
        )


if __name__ == "__main__":
    main()

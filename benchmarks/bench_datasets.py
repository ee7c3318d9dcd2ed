"""Benchmark and difficulty check of ``churnkit.datasets.make_saas_events``.

Two measurements:

1. **Speed and size**: wall time of ``make_saas_events`` (split into simulation
   and the ``Events`` build), rows and memory of each table, peak RSS.
2. **Difficulty**: forward-in-time ROC-AUC of xgboost (and a logistic
   regression for reference) on simple point-in-time features written here in
   plain numpy/pandas (the library's feature builders are not used, so this
   checks the data, not the builders). Train on monthly cutoffs of months
   6-12, test on later months; label = churn in ``[t, t + 30 days)``; features
   use only events strictly before ``t``. Target: AUC between 0.75 and 0.90.

Run::

    python benchmarks/bench_datasets.py                  # both, defaults below
    python benchmarks/bench_datasets.py --skip-timing --n-customers 20000 --seeds 0 1 2
    python benchmarks/bench_datasets.py --skip-auc --timing-customers 100000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from churnkit import set_memory_tuning
from churnkit.datasets import make_saas_events

DAY = 86_400
SHIFT = 27  # bits for seconds since start in the (customer, time) search keys
TRAIN_MONTHS = range(6, 13)
TEST_MONTHS = (14, 15, 16)
HORIZON_DAYS = 30


# --------------------------------------------------------------------------
# timing


def bench_timing(n_customers: int, usage_rate: float) -> None:
    from churnkit.events import Events

    t0, c0 = time.perf_counter(), time.process_time()
    data = make_saas_events(n_customers, usage_rate=usage_rate, random_state=0)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    tables = {k: data[k] for k in ("customers", "usage", "billing", "support", "churn")}
    t0, c0 = time.perf_counter(), time.process_time()
    Events(**tables, observed_until=data.end)
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"make_saas_events(n_customers={n_customers:,}, usage_rate={usage_rate})")
    print(
        f"  CPU {cpu:.1f} s = simulation ~{cpu - build_cpu:.1f} s "
        f"+ Events ~{build_cpu:.1f} s"
    )
    print(
        f"  wall {total:.1f} s = simulation ~{total - build:.1f} s "
        f"+ Events ~{build:.1f} s"
    )
    for name, df in tables.items():
        mb = df.memory_usage(deep=True).sum() / 1e6
        print(f"  {name:<10} {len(df):>12,} rows {mb:>9.1f} MB")
    print(f"  truth      {len(data.truth):>12,} rows")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"  peak RSS {rss:,.0f} MB")


# --------------------------------------------------------------------------
# point-in-time features


class Store:
    """Per-table (customer, time) search keys for window counts and last values."""

    def __init__(self, data):
        self.start = data.start
        self.code = {cid: i for i, cid in enumerate(data.customers["customer_id"])}
        self.tables = {}
        for name in ("usage", "billing", "support"):
            df = data[name]
            c = df["customer_id"].map(self.code).to_numpy(np.int64)
            s = self.seconds(df["time"])
            order = np.lexsort((s, c))
            self.tables[name] = (
                df.iloc[order].reset_index(drop=True),
                (c << SHIFT | s)[order],
            )

    def seconds(self, times):
        return ((pd.DatetimeIndex(times) - self.start) // pd.Timedelta("1s")).to_numpy(
            np.int64
        )

    def count(self, name, c, t, days, mask=None):
        """Rows of ``name`` in [t - days, t) (optionally only the ``mask`` rows)."""
        df, key = self.tables[name]
        if mask is not None:
            key = key[mask]
        hi = np.searchsorted(key, c << SHIFT | t)
        lo = np.searchsorted(key, c << SHIFT | np.maximum(t - days * DAY, 0))
        return hi - lo

    def last(self, name, c, t, mask=None):
        """Index (into the masked table) of the last row before t, -1 if none."""
        df, key = self.tables[name]
        if mask is not None:
            key = key[mask]
        i = np.searchsorted(key, c << SHIFT | t) - 1
        ok = (i >= 0) & ((key[np.maximum(i, 0)] >> SHIFT) == c)
        return np.where(ok, i, -1), key


def features(store, data, cutoff):
    """One row per customer eligible at ``cutoff``, with label ``churned``."""
    cust = data.customers
    churn = data.churn.set_index("customer_id")["time"].reindex(cust["customer_id"])
    churn = churn.to_numpy()
    eligible = (cust["signup_time"].to_numpy() < cutoff) & (
        pd.isna(churn) | (churn >= np.datetime64(cutoff))
    )
    c = np.flatnonzero(eligible).astype(np.int64)
    t = np.full(len(c), int((cutoff - store.start) // pd.Timedelta("1s")))
    end = cutoff + pd.Timedelta(days=HORIZON_DAYS)
    y = (churn[c] >= np.datetime64(cutoff)) & (churn[c] < np.datetime64(end))
    X = {}
    X["usage_30d"] = store.count("usage", c, t, 30)
    X["usage_prev_30d"] = store.count("usage", c, t, 60) - X["usage_30d"]
    X["usage_ratio"] = (X["usage_30d"] + 1) / (X["usage_prev_30d"] + 1)
    X["usage_7d"] = store.count("usage", c, t, 7)
    X["usage_90d"] = store.count("usage", c, t, 90)
    i, key = store.last("usage", c, t)
    X["days_since_usage"] = np.where(
        i >= 0, (t - (key[i] & ((1 << SHIFT) - 1))) / DAY, 999
    )
    bill, _ = store.tables["billing"]
    kind = bill["kind"].to_numpy()
    X["failed_90d"] = store.count("billing", c, t, 90, kind == "payment_failed")
    pay = np.isin(kind, ["payment", "payment_failed"])
    i, _ = store.last("billing", c, t, pay)
    X["unrecovered"] = (i >= 0) & (kind[pay][np.maximum(i, 0)] == "payment_failed")
    mrr = bill["mrr"].to_numpy()
    i_now, _ = store.last("billing", c, t)
    i_then, _ = store.last("billing", c, np.maximum(t - 90 * DAY, 0))
    now = np.where(i_now >= 0, mrr[i_now], np.nan)
    then = np.where(i_then >= 0, mrr[i_then], now)
    X["mrr"] = now
    X["mrr_change_90d"] = (now - then) / np.maximum(then, 1)
    X.update(support_features(store, c, t))
    signup = store.seconds(cust["signup_time"])
    X["tenure_days"] = (t - signup[c]) / DAY
    X["plan"] = cust["plan"].cat.codes.to_numpy()[c]
    X["seats"] = cust["seats"].to_numpy()[c]
    return pd.DataFrame(X), y.astype(int), c


def support_features(store, c, t):
    sup, key = store.tables["support"]
    closed = store.seconds(sup["closed_time"].fillna(pd.Timestamp.max.floor("D")))
    out = {
        "tickets_60d": store.count("support", c, t, 60),
        "tickets_90d": store.count("support", c, t, 90),
    }
    # per ticket in the last 90 days: closed before t? csat known before t?
    hi = np.searchsorted(key, c << SHIFT | t)
    lo = np.searchsorted(key, c << SHIFT | np.maximum(t - 90 * DAY, 0))
    n = hi - lo
    rows = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    owner = np.repeat(np.arange(len(c)), n)
    done = closed[rows] < np.repeat(t, n)
    csat = np.where(done, sup["csat"].to_numpy()[rows], np.nan)
    has = ~np.isnan(csat)
    s = np.bincount(owner, np.where(has, csat, 0), len(c))
    k = np.bincount(owner, has, len(c))
    out["csat_mean_90d"] = np.where(k > 0, s / np.maximum(k, 1), np.nan)
    out["open_tickets_90d"] = np.bincount(owner, ~done, len(c))
    res = np.where(
        done, (closed[rows] - (key[rows] & ((1 << SHIFT) - 1))) / 3600, np.nan
    )
    m = np.bincount(owner, np.where(done, res, 0), len(c))
    kd = np.bincount(owner, done, len(c))
    out["resolution_hours_90d"] = np.where(kd > 0, m / np.maximum(kd, 1), np.nan)
    return out


def frame(store, data, months):
    parts = []
    for m in months:
        cutoff = data.start + pd.DateOffset(months=m)
        X, y, c = features(store, data, cutoff)
        parts.append((X, y, c, m))
    X = pd.concat([p[0] for p in parts], ignore_index=True)
    y = np.concatenate([p[1] for p in parts])
    c = np.concatenate([p[2] for p in parts])
    month = np.concatenate([np.full(len(p[1]), p[3]) for p in parts])
    return X, y, c, month


def bench_auc(n_customers: int, seed: int, usage_rate: float = 1.0) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier

    data = make_saas_events(n_customers, usage_rate=usage_rate, random_state=seed)
    store = Store(data)
    X_tr, y_tr, _, _ = frame(store, data, TRAIN_MONTHS)
    X_te, y_te, c_te, month = frame(store, data, TEST_MONTHS)
    model = XGBClassifier(
        n_estimators=300,
        max_depth=4,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.8,
        n_jobs=2,
        random_state=0,
    ).fit(X_tr, y_tr)
    p = model.predict_proba(X_te)[:, 1]
    logit = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    logit.fit(X_tr.fillna(X_tr.median()), y_tr)
    p_lr = logit.predict_proba(X_te.fillna(X_tr.median()))[:, 1]
    out = {"seed": seed, "train_rows": len(y_tr), "train_pos": int(y_tr.sum())}
    for m in TEST_MONTHS:
        sel = month == m
        out[f"auc_m{m}"] = roc_auc_score(y_te[sel], p[sel])
    out["auc_xgb"] = roc_auc_score(y_te, p)
    out["auc_logit"] = roc_auc_score(y_te, p_lr)
    # which planted causes are found: AUC of each cause's churners vs non-churners
    cause = data.truth.set_index("customer_id")["cause"]
    ids = data.customers["customer_id"].to_numpy()[c_te]
    test_cause = cause.reindex(ids).astype(object).to_numpy()
    for name in cause.cat.categories:
        sel = (y_te == 0) | (test_cause == name)
        if (y_te[sel] == 1).sum() >= 5:
            out[f"auc_{name}"] = roc_auc_score(y_te[sel], p[sel])
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-customers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--timing-customers", type=int, default=100_000)
    parser.add_argument("--usage-rate", type=float, default=1.0)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-auc", action="store_true")
    args = parser.parse_args(argv)
    set_memory_tuning(True)  # a churnkit-only process: see docs/performance.md
    if not args.skip_timing:
        bench_timing(args.timing_customers, args.usage_rate)
    if not args.skip_auc:
        rows = [bench_auc(args.n_customers, s, args.usage_rate) for s in args.seeds]
        table = pd.DataFrame(rows).set_index("seed")
        print(
            f"\nforward-in-time ROC-AUC, n_customers={args.n_customers:,}, "
            f"usage_rate={args.usage_rate}"
        )
        print(f"train months {list(TRAIN_MONTHS)}, test months {list(TEST_MONTHS)}")
        with pd.option_context("display.width", 200, "display.precision", 3):
            print(table.T)
            print(table.mean().round(3).to_string())


if __name__ == "__main__":
    main()

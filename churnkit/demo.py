"""``churnkit demo``: the whole flow on built-in synthetic data, end to end.

Generates a SaaS business, prints its KPIs, builds point-in-time features,
trains logistic regression and xgboost forward in time, compares them, lists
the accounts with the most value at risk with their reasons, and writes plots
and a self-contained HTML report.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd

from churnkit.datasets import make_saas_events
from churnkit.evaluation import evaluate, plot_calibration, plot_gains
from churnkit.events._extent import first_full_cutoff
from churnkit.exceptions import ChurnkitError, ChurnkitTypeError, ChurnkitWarning
from churnkit.labels import label_churn, make_cutoffs
from churnkit.metrics import churn_rate, revenue_churn
from churnkit.models import make_churn_pipeline
from churnkit.reporting import report as write_report
from churnkit.reporting._format import fmt_money, fmt_percent
from churnkit.reporting._risk import score_today

__all__ = ["run_demo"]

HORIZON = "30D"
MODELS = ("logistic", "xgboost")


MIN_CUSTOMERS = 100  # fewer: no churner in the test months


def _say(text: str = "") -> None:
    print(text, flush=True)


def _section(title: str) -> None:
    _say(f"\n== {title} ==")


def run_demo(
    n_customers=5_000, *, random_state=None, out="churnkit-demo", progress=True
):
    """Run the demo and return a dict of its results (tables and paths).

    Parameters
    ----------
    n_customers : int, default=5_000
        Customers of the synthetic business, at least 100.
    random_state : int or None, default=None
        Seed of the data and the models (``churnkit demo`` passes ``--seed``,
        0 by default).
    out : str or Path, default="churnkit-demo"
        Folder for the plots and the HTML report (created if missing).
    progress : bool, default=True
        Show progress bars.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(n_customers, bool) or not isinstance(n_customers, int):
        raise ChurnkitTypeError(
            f"`n_customers` must be an integer; got {n_customers!r}."
        )
    if n_customers < MIN_CUSTOMERS:
        raise ChurnkitError(
            f"The demo needs at least {MIN_CUSTOMERS} customers (got {n_customers}): "
            "with fewer, its test months hold no churner to evaluate the models on."
        )
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {}

    _section("Data")
    data = make_saas_events(n_customers=n_customers, random_state=random_state)
    events = data.events
    _say(repr(events))

    _section("KPIs (monthly)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        rates = churn_rate(events)
        revenue = revenue_churn(events)
    kpis = (
        pd.DataFrame(
            {
                "customers": rates["customers_start"],
                "churn rate": rates["churn_rate"],
                "voluntary": rates["voluntary_churn_rate"],
                "involuntary": rates["involuntary_churn_rate"],
                "MRR": revenue["mrr_start"],
                "gross MRR churn": revenue["gross_mrr_churn_rate"],
                "NRR": revenue["nrr"],
            }
        )
        .dropna()
        .tail(6)
    )
    results["kpis"] = kpis
    _say(
        _format(
            kpis,
            percent=[
                "churn rate",
                "voluntary",
                "involuntary",
                "gross MRR churn",
                "NRR",
            ],
        )
    )

    _section(f"Cutoffs, {HORIZON} churn labels and features")
    last_month = (events.observed_until - pd.Timedelta(HORIZON)).to_period("M")
    start = first_full_cutoff(events, "MS")
    cutoffs = make_cutoffs(
        events, start=start, end=last_month.to_timestamp(), freq="MS"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        labels = label_churn(events, cutoffs, horizon=HORIZON)
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    test_cutoff = X["cutoff_time"].max()
    train = X["cutoff_time"] < test_cutoff - pd.Timedelta(HORIZON)
    test = X["cutoff_time"] == test_cutoff
    _say(
        f"{len(X):,} labelled rows over {X['cutoff_time'].nunique()} monthly cutoffs; "
        f"train on {int(train.sum()):,} rows before "
        f"{(test_cutoff - pd.Timedelta(HORIZON)).date()}, test on the "
        f"{int(test.sum()):,} accounts at {test_cutoff.date()} "
        f"(churn rate {y[test].mean():.1%})"
    )

    _section("Models, forward in time")
    models, scores = {}, {}
    for name in MODELS:
        model = make_churn_pipeline(events, model=name, random_state=random_state)
        model.set_params(features__progress=progress)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChurnkitWarning)
            model.fit(X[train], y[train])
        models[name] = model
        scores[name] = model.predict_proba(X[test])[:, 1]
    evaluation = pd.DataFrame({n: evaluate(y[test], s) for n, s in scores.items()})
    results["evaluation"] = evaluation
    shown = evaluation.loc[
        ["roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift@10%", "capture@10%"]
    ]
    _say(shown.to_string(float_format=lambda v: f"{v:.3f}"))

    _section("Who to call first: value at risk today")
    best = models["xgboost"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        scored = score_today(best, events, events.observed_until, "churn", "usage")
    priority, explanation = scored["table"], scored["explanation"]
    results["priority"] = priority
    # the report's call list: high and medium tiers, most value at risk first
    top = priority[priority["tier"].isin(["high", "medium"])].head(10)
    _say(f"risk tiers: {scored['tiers_text']}")
    for _, row in top.iterrows():
        _say(
            f"{row['customer_id']} ({row['tier']}): churn "
            f"{fmt_percent(row['churn_probability'])}, annual value "
            f"{fmt_money(row['value'])}, at risk {fmt_money(row['value_at_risk'])}"
        )
        for k in (1, 2, 3):
            reason = row.get(f"reason_{k}")
            if isinstance(reason, str) and reason:
                _say(f"    - {reason}")

    _section("Plots and report")
    figures = {}
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, s in scores.items():
        plot_gains(y[test], s, ax=ax, label=name)
    ax.set_title("Cumulative gains (test month)")
    figures["gains"] = fig
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, s in scores.items():
        plot_calibration(y[test], s, ax=ax, label=name)
    ax.set_title("Calibration (test month)")
    figures["calibration"] = fig
    fig, ax = plt.subplots(figsize=(6, 5))
    explanation.plot_global(ax=ax)
    figures["global_drivers"] = fig
    first = top.iloc[0]
    fig, ax = plt.subplots(figsize=(7, 5))
    explanation.plot(first["customer_id"], ax=ax)
    figures["account_waterfall"] = fig
    paths = {}
    for name, fig in figures.items():
        fig.tight_layout()
        paths[name] = out / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
    for fig in figures.values():
        plt.close(fig)
    report = write_report(
        events,
        best,
        path=out / "report.html",
        horizon=HORIZON,
        test=labels[test.to_numpy()],
        title="churnkit demo: a simulated SaaS business",
    )
    results["paths"] = {**paths, "report": report}
    for path in results["paths"].values():
        _say(f"wrote {path}")
    elapsed = time.perf_counter() - t0
    results["seconds"] = elapsed
    _say(f"\ndone in {elapsed:.1f} s; open {report.resolve()}")
    return results


def _format(frame: pd.DataFrame, percent) -> str:
    shown = frame.copy()
    shown.index = [str(pd.Timestamp(i).date()) for i in shown.index]
    formats = {
        c: (lambda v: f"{v:.1%}") if c in percent else (lambda v: f"{v:,.0f}")
        for c in shown.columns
    }
    return shown.to_string(formatters=formats)

"""``churnkit demo``: the whole flow on built-in synthetic data, end to end.

Generates a SaaS business, prints its KPIs, builds point-in-time features,
trains logistic regression and xgboost forward in time, compares them, lists
the accounts with the most value at risk with their reasons, and writes plots
and a self-contained HTML report.
"""

from __future__ import annotations

import base64
import html
import io
import time
import warnings
from pathlib import Path

import pandas as pd

from churnkit.datasets import make_saas_events
from churnkit.evaluation import evaluate, plot_calibration, plot_gains
from churnkit.exceptions import ChurnkitWarning
from churnkit.explain import ChurnExplainer
from churnkit.labels import first_full_cutoff, label_churn, make_cutoffs
from churnkit.metrics import churn_rate, revenue_churn
from churnkit.models import make_churn_pipeline
from churnkit.targeting import prioritize

__all__ = ["run_demo"]

HORIZON = "30D"
MODELS = ("logistic", "xgboost")


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
        Customers of the synthetic business.
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
    today = make_cutoffs(events, at=events.observed_until.floor("D"))
    risk = pd.Series(
        best.predict_proba(today)[:, 1], index=pd.MultiIndex.from_frame(today)
    )
    features = best.named_steps["features"].transform(today)
    mrr = features["billing__mrr"].fillna(0.0) if "billing__mrr" in features else 0.0
    explanation = ChurnExplainer(best).explain(today)
    priority = prioritize(risk, value=mrr * 12, explanation=explanation)
    top = priority.head(10)
    results["priority"] = priority
    for _, row in top.iterrows():
        _say(
            f"{row['customer_id']}: churn {row['churn_probability']:.0%}, "
            f"annual value {row['value']:,.0f}, at risk {row['value_at_risk']:,.0f}"
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
    report = out / "report.html"
    report.write_text(_html_report(kpis, evaluation, top, figures))
    for fig in figures.values():
        plt.close(fig)
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


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode()


def _html_report(kpis, evaluation, top, figures) -> str:
    """One self-contained HTML page: tables and base64-embedded plots."""
    reasons = [c for c in top.columns if c.startswith("reason_")]
    table = top[
        ["customer_id", "churn_probability", "value", "value_at_risk", "tier", *reasons]
    ]
    images = "".join(
        f'<figure><img src="data:image/png;base64,{_png(fig)}" alt="{html.escape(n)}">'
        f"<figcaption>{html.escape(n.replace('_', ' '))}</figcaption></figure>"
        for n, fig in figures.items()
    )
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}"
        "figure{display:inline-block;margin:8px}img{max-width:520px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>churnkit demo"
        f"</title><style>{style}</style></head><body><h1>churnkit demo report</h1>"
        f"<h2>KPIs</h2>{kpis.to_html(float_format=lambda v: f'{v:,.3f}')}"
        f"<h2>Model evaluation (test month)</h2>"
        f"{evaluation.to_html(float_format=lambda v: f'{v:.3f}')}"
        f"<h2>Accounts with the most value at risk</h2>"
        f"{table.to_html(index=False, float_format=lambda v: f'{v:,.2f}')}"
        f"<h2>Plots</h2>{images}</body></html>"
    )

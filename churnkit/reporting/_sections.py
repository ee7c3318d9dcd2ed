"""The report's sections as data: formatted tables and charts, ready to render.

:func:`build_sections` computes every number once and formats it by its unit;
the template only lays them out. A section the data cannot give says why
(``note``) instead of disappearing.
"""

from __future__ import annotations

import warnings

import pandas as pd

from churnkit._logging import warn
from churnkit.events._columns import activity_parts
from churnkit.exceptions import ChurnkitError
from churnkit.reporting import _charts as charts
from churnkit.reporting import _kpis as kpis
from churnkit.reporting import _risk as risk
from churnkit.reporting._format import fmt, fmt_date, fmt_number, fmt_percent

CALL_LIST = 50  # accounts in the call list


def _cells(frame: pd.DataFrame, units: dict) -> list[list[dict]]:
    """Rows of {text, sort} cells: ``text`` formatted by the column's unit,
    ``sort`` the raw value the table sorts by."""
    rows = []
    for record in frame.itertuples(index=False):
        row = []
        for column, value in zip(frame.columns, record, strict=True):
            unit = units.get(column)
            text = fmt(value, unit) if unit else ("" if pd.isna(value) else str(value))
            sort = value if unit in ("percent", "money", "count", "number") else text
            if unit == "date":
                sort = text
            row.append({"text": text, "sort": "" if pd.isna(sort) else sort})
        rows.append(row)
    return rows


def _table(frame: pd.DataFrame, units: dict, headers: dict | None = None) -> dict:
    headers = headers or {}
    return {
        "headers": [headers.get(c, c.replace("_", " ")) for c in frame.columns],
        "numeric": [
            units.get(c) in ("percent", "money", "count", "number", "ratio")
            for c in frame.columns
        ],
        "rows": _cells(frame, units),
    }


def trends_section(trend: dict, cohort: dict, breakdown: list) -> dict:
    out = {"charts": [], "notes": list(trend["notes"]), "breakdown": []}
    rates, revenue = trend["churn"], trend["revenue"]
    if rates is not None and len(rates):
        lines = {"churn_rate": "all churn"}
        if rates["churned_voluntary"].sum() and rates["churned_involuntary"].sum():
            lines.update(
                voluntary_churn_rate="voluntary", involuntary_churn_rate="involuntary"
            )
            if rates["churned_unknown_kind"].sum():  # lapsed trials, say
                lines.update(unknown_kind_churn_rate="kind not recorded")
        out["charts"].append(
            charts.line_chart("logo-churn", "Logo churn rate", rates, lines, "percent")
        )
    if revenue is not None and len(revenue):
        out["charts"].append(
            charts.line_chart(
                "revenue-churn",
                "Revenue churn rate",
                revenue,
                {"gross_mrr_churn_rate": "gross", "net_mrr_churn_rate": "net"},
                "percent",
            )
        )
        out["charts"].append(charts.nrr_chart("nrr", revenue))
        out["charts"].append(
            charts.line_chart("mrr", "MRR", revenue, {"mrr_end": "MRR"}, "money")
        )
    if cohort["table"] is not None:
        out["charts"].append(charts.cohort_heatmap("cohorts", cohort["table"]))
    elif cohort["note"]:
        out["notes"].append(cohort["note"])
    for item in breakdown:
        table = item["table"].reset_index(names=item["column"])
        out["breakdown"].append(
            {
                "column": item["column"],
                "chart": charts.breakdown_chart(
                    f"by-{len(out['breakdown'])}", item["column"], item["table"]
                ),
                "table": _table(
                    table,
                    {"customers": "count", "churned": "count", "churn_rate": "percent"},
                ),
            }
        )
    return out


def risk_section(scored: dict, top: int) -> dict:
    scores = scored["table"]
    tiers = risk.tier_summary(scores)
    money = "money" if scored["value_basis"] != "none" else "number"
    tier_table = tiers.reset_index(names="tier")[
        ["tier", "accounts", "share", "mean_probability", "value", "value_at_risk"]
    ]
    # the call list: accounts of the high and medium tiers, most value at risk
    # first (a low-risk account with a large contract is in the tier table)
    calls = scores[scores["tier"].isin(["high", "medium"])].head(top).copy()
    reasons = [c for c in calls.columns if c.startswith("reason_")]
    calls["reasons"] = (
        calls[reasons].apply(
            lambda r: [x for x in r if isinstance(x, str) and x], axis=1
        )
        if reasons
        else [[] for _ in range(len(calls))]
    )
    shown = calls[
        ["customer_id", "churn_probability", "value", "value_at_risk", "tier"]
    ]
    table = _table(
        shown.assign(tier=shown["tier"].astype(object)),
        {"churn_probability": "percent", "value": money, "value_at_risk": money},
        {"churn_probability": "churn probability", "value_at_risk": "value at risk"},
    )
    for row, why in zip(table["rows"], calls["reasons"], strict=True):
        row.append({"text": why, "sort": len(why), "list": True})
    table["headers"].append("top reasons")
    table["numeric"].append(False)
    p = scores["churn_probability"].to_numpy(float)
    thresholds = scored["tiers"]
    return {
        "at": fmt_date(scored["at"]),
        "accounts": fmt(len(scores), "count"),
        "value_basis": scored["value_basis"],
        "total_at_risk": fmt(scores["value_at_risk"].sum(), money),
        "tier_rule": scored["tiers_text"],
        "histogram": charts.histogram("probability", p, thresholds),
        "tiers": _table(
            tier_table,
            {
                "accounts": "count",
                "share": "percent",
                "mean_probability": "percent",
                "value": money,
                "value_at_risk": money,
            },
            {"mean_probability": "mean probability", "value_at_risk": "value at risk"},
        ),
        "calls": table,
        "n_calls": len(calls),
    }


def model_section(quality: dict, explanation) -> dict:
    out = {"note": quality.get("note"), "metrics": [], "charts": []}
    metrics = quality.get("metrics")
    # in-sample figures overstate the model: each says so where it is read
    card = " (in-sample)" if quality.get("cards_in_sample") else ""
    chart = " (in-sample)" if quality.get("charts_in_sample") else ""
    if metrics is not None:
        out["metrics"] = [
            (
                f"AUC{card}",
                fmt_number(metrics["roc_auc"], 3),
                "0.5 = random, 1 = perfect",
            ),
            (
                f"PR-AUC{card}",
                fmt_number(metrics["pr_auc"], 3),
                f"base rate {fmt_percent(metrics['base_rate'])}",
            ),
            (
                f"Lift in the top 10%{card}",
                fmt(metrics["lift@10%"], "ratio"),
                f"finds {fmt_percent(metrics['capture@10%'])} of churners",
            ),
            (
                "Accounts tested",
                fmt(metrics["n"], "count"),
                f"{fmt(metrics['positives'], 'count')} churned",
            ),
        ]
        out["charts"].append(
            charts.gains_chart("gains", quality["y"], quality["p"], chart)
        )
        out["charts"].append(
            charts.calibration_chart("calibration", quality["calibration"], chart)
        )
    if explanation is not None:
        top = risk.drivers(explanation)
        out["drivers"] = charts.drivers_chart("drivers", top)
    return out


def data_section(events, labelled, caught) -> dict:
    summary = events.summary().reset_index()
    summary["first"] = summary["first"].map(fmt_date)
    summary["last"] = summary["last"].map(fmt_date)
    exclusions = events.report
    excluded = {} if labelled is None else dict(labelled.attrs.get("excluded", {}))
    counts: dict = {}
    for w in caught:
        key = (w.category.__name__, str(w.message))
        counts[key] = counts.get(key, 0) + 1
    built: dict = {}
    for w in events.warnings.itertuples(index=False):
        key = (w.category, w.message)
        built[key] = built.get(key, 0) + 1
    return {
        "observed_until": fmt_date(events.observed_until),
        "tables": _table(
            summary,
            {"rows": "count", "rows_excluded": "count", "customers": "count"},
            {"rows_excluded": "rows excluded"},
        ),
        "exclusions": _table(exclusions, {"rows": "count"})
        if len(exclusions)
        else None,
        "label_exclusions": [(k, fmt(v, "count")) for k, v in excluded.items()],
        "warnings": [
            {"category": c, "message": m, "count": n} for (c, m), n in counts.items()
        ],
        "build_warnings": [
            {"category": c, "message": m, "count": n} for (c, m), n in built.items()
        ],
    }


def activity_phrase(table) -> str:
    """What an inactivity churn misses, for the report: "usage activity",
    "payment or top_up in billing"."""
    name, kinds = activity_parts(table)
    return f"{name} activity" if kinds is None else f"{' or '.join(kinds)} in {name}"


def build_sections(
    events,
    model,
    *,
    label,
    horizon,
    table,
    freq,
    by,
    at,
    test,
    top,
    title,
    missing_tables=(),
    value=None,
):
    """Compute every section; warnings met are recorded for the data section."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        options = kpis.kpi_options(label, horizon, table)
        trend = kpis.trends(events, freq, options)
        cohort = kpis.cohorts(events, freq, options)
        notes, labelled, cutoff = [], None, None
        if "unmeasured" not in trend:  # with no churn recorded, every label is 0
            try:
                cutoff = risk.latest_labelled_cutoff(events, freq, horizon)
                rows = risk.make_cutoffs(events, at=cutoff)
                labelled = risk.label(events, rows, label, horizon, table)
            except ChurnkitError as exc:
                labelled, cutoff = None, None
                notes.append(f"No labelled period for the churn breakdown: {exc}")
        breakdown = kpis.breakdown(events, labelled, kpis.attributes(events, by))
        sections = {
            "title": title,
            "label": label,
            "horizon": horizon,
            "activity": activity_phrase(table),
            "headline": kpis.headline(events, trend, freq),
            "trends": trends_section(trend, cohort, breakdown),
            "breakdown_period": None if cutoff is None else fmt_date(cutoff),
            "risk": None,
            "model": None,
        }
        sections["trends"]["notes"] += notes
        if model is not None:
            at = pd.Timestamp(at) if at is not None else events.observed_until
            scored = risk.score_today(
                model,
                events,
                at,
                label,
                table,
                active_within=horizon,
                missing_tables=missing_tables,
                value=value,
            )
            sections["risk"] = risk_section(scored, top)
            quality = risk.model_quality(
                model, events, test, label, horizon, table, freq, missing_tables
            )
            sections["model"] = model_section(quality, scored["explanation"])
    sections["data"] = data_section(events, labelled, caught)
    # listed in the report, and issued to the caller too (once each): a
    # warning that every score means nothing must not live in the HTML only
    seen = set()
    for w in caught:
        key = (w.category, str(w.message))
        if key not in seen:
            seen.add(key)
            warn(str(w.message), w.category)
    return sections

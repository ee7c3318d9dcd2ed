"""The report's business numbers: headline, trends, cohorts, churn by attribute.

Each function returns plain data (frames and dicts of raw and formatted
values); charts and HTML are made elsewhere. A KPI the data cannot give (no
MRR, no churn recorded) is returned as None with the reason, never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitError
from churnkit.metrics import churn_rate, cohort_retention, revenue_churn
from churnkit.metrics._inactivity import records_churn
from churnkit.reporting._format import fmt, fmt_change, fmt_date

TREND_PERIODS = 24  # complete periods shown in the trend charts
COHORTS = 18  # latest signup cohorts in the heatmap
MAX_LEVELS = 12  # attributes with more distinct values are not broken down
NO_PERIOD = "No complete period in the data."


def kpi_options(label: str, horizon: str, table: str) -> dict:
    """Keyword arguments of the metrics functions for a label kind."""
    if label == "inactivity":
        return {"inactivity": horizon, "table": table}
    return {}


def complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The fully observed periods, the latest :data:`TREND_PERIODS` of them."""
    return frame[~frame["partial"].astype(bool)].tail(TREND_PERIODS)


def unmeasured(events, options: dict) -> str | None:
    """Why churn cannot be measured with these options, or None: recorded
    churns asked of a store that records none (a transaction log) would read
    0 % churn and every customer active forever."""
    if options or records_churn(events):
        return None
    return (
        "Churn is not measured: this data records no churn (no churn table and "
        "no subscriptions), so every customer would count as active forever. "
        "For a business without cancellations, count churn as inactivity: "
        "ck.report(events, label='inactivity', horizon='90D') (CLI: --label "
        "inactivity)."
    )


def trends(events, freq: str, options: dict) -> dict:
    """Churn and revenue tables by period, and why one is missing."""
    out = {"churn": None, "revenue": None, "notes": []}
    why = unmeasured(events, options)
    if why is not None:
        out["notes"].append(why)
        out["unmeasured"] = why
        return out
    try:
        rates = complete(churn_rate(events, freq, **options))
        out["churn"] = rates.dropna(subset=["churn_rate"])
        out["churn_all"] = rates  # the period before, for the cards' changes
    except ChurnkitError as exc:
        out["notes"].append(f"Churn rates are not available: {exc}")
    try:
        revenue = complete(revenue_churn(events, freq, **options))
        out["revenue"] = revenue.dropna(subset=["gross_mrr_churn_rate"])
        out["revenue_all"] = revenue
    except ChurnkitError as exc:
        out["notes"].append(f"Revenue churn and NRR are not available: {exc}")
    return out


def _card(name, unit, series, *, good, period, help_text, at=None):
    """``series``' value at ``at`` (default: its last row) and its change from
    the row just before (the calendar period before: a period left out of the
    charts, with no rate, is still the one to compare with)."""
    pos = len(series) - 1 if at is None else series.index.get_loc(at)
    current = series.iloc[pos] if len(series) else np.nan
    previous = series.iloc[pos - 1] if pos >= 1 else np.nan
    change = np.nan if pd.isna(previous) else current - previous
    tone = "neutral"
    if not pd.isna(change) and change != 0:
        tone = "good" if (change > 0) == (good == "up") else "bad"
    return {
        "name": name,
        "value": fmt(current, unit),
        "raw": None if pd.isna(current) else float(current),
        "change": fmt_change(current, previous, unit),
        "tone": tone,
        "period": period,
        "help": help_text,
    }


def headline(events, trend: dict, freq: str) -> dict:
    """As-of date and the headline cards, each with its change vs the previous
    complete period."""
    rates, revenue = trend["churn"], trend["revenue"]
    last = None
    for table in (rates, revenue):
        if table is not None and len(table):
            last = table.index[-1]
    label = _period_label(last, freq) if last is not None else None
    cards = []
    if rates is not None and len(rates):
        at, full = rates.index[-1], trend.get("churn_all", rates)
        period = _period_label(at, freq)
        cards.append(
            _card(
                "Active customers",
                "count",
                full["customers_end"],
                at=at,
                good="up",
                period=f"end of {period}",
                help_text="customers active at the end of the period",
            )
        )
        cards.append(
            _card(
                "Logo churn",
                "percent",
                full["churn_rate"],
                at=at,
                good="down",
                period=period,
                help_text="churned / active at the start of the period",
            )
        )
    if revenue is not None and len(revenue):
        at, full = revenue.index[-1], trend.get("revenue_all", revenue)
        period = _period_label(at, freq)
        cards.insert(
            1,
            _card(
                "MRR",
                "money",
                full["mrr_end"],
                at=at,
                good="up",
                period=f"end of {period}",
                help_text="monthly recurring revenue at the end of the period",
            ),
        )
        cards.append(
            _card(
                "Revenue churn",
                "percent",
                full["gross_mrr_churn_rate"],
                at=at,
                good="down",
                period=period,
                help_text="(churned + contraction MRR) / MRR at the start",
            )
        )
        cards.append(
            _card(
                "NRR",
                "percent",
                full["nrr"],
                at=at,
                good="up",
                period=period,
                help_text="net revenue retention of the period",
            )
        )
    return {
        "as_of": fmt_date(last_day(events.observed_until)),
        "last_period": label,
        "cards": cards,
        "note": None if cards else trend.get("unmeasured", NO_PERIOD),
        "unmeasured": "unmeasured" in trend,
    }


def last_day(observed_until: pd.Timestamp) -> pd.Timestamp:
    """The last day the data covers, for "Data through <day>".

    The day of the last recorded instant, unless that instant is exactly a
    midnight after timed rows: billing exports book the next period's renewal
    at 00:00 of the day after the last event (fightchurn: events end
    2020-06-30 23:59, renewals start 2020-07-01 00:00), and that day holds
    nothing else.
    """
    through = observed_until - pd.Timedelta(1, "ns")
    day = through.normalize()
    if through == day and observed_until != observed_until.normalize():
        return day - pd.Timedelta(1, "D")
    return day


def _period_label(ts, freq: str) -> str:
    ts = pd.Timestamp(ts)
    if str(freq).upper() in ("MS", "M", "ME"):
        return ts.strftime("%b %Y")
    return f"period from {fmt_date(ts)}"


def cohorts(events, freq: str, options: dict) -> dict:
    """Customer retention of the latest signup cohorts (a matrix)."""
    if unmeasured(events, options) is not None:  # said once, in the trends
        return {"table": None, "note": None}
    try:
        table = cohort_retention(events, freq, max_periods=12, **options)
    except ChurnkitError as exc:
        return {"table": None, "note": f"Cohort retention is not available: {exc}"}
    table = table.dropna(how="all").tail(COHORTS)
    if table.empty:
        return {"table": None, "note": "No signup cohort falls inside the data."}
    return {"table": table, "note": None}


def attributes(events, by) -> list[str]:
    """Customer attributes to break churn down by: ``by``, or every column of
    the customers table with 2 to :data:`MAX_LEVELS` distinct values."""
    customers = events.customers
    if by is not None:
        by = [by] if isinstance(by, str) else list(by)
        missing = [c for c in by if c not in customers.columns]
        if missing:
            raise ChurnkitError(
                f"`by`: the customers table has no column {missing}; its "
                f"columns are {list(customers.columns)}."
            )
        return by
    skip = {"customer_id", "signup_time"}
    return [
        c
        for c in customers.columns
        if c not in skip
        and not pd.api.types.is_datetime64_any_dtype(customers[c])
        and 2 <= customers[c].nunique(dropna=True) <= MAX_LEVELS
    ]


def breakdown(events, labels: pd.DataFrame | None, columns: list[str]) -> list:
    """Churn rate in the labelled period by each attribute's values."""
    if labels is None or labels.empty or not columns:
        return []
    customers = events.customers.set_index("customer_id")
    out = []
    for column in columns:
        levels = labels["customer_id"].map(customers[column])
        values = levels.astype(object).where(levels.notna(), "(missing)")
        grouped = labels.groupby(values.to_numpy(), sort=False)["churned"]
        table = pd.DataFrame(
            {"customers": grouped.size(), "churned": grouped.sum()}
        ).astype("int64")
        other = None
        if len(table) > MAX_LEVELS:  # named by the user: the largest, and the
            # rest in one row, so that the rows still add up to every customer
            table = table.sort_values("customers", ascending=False, kind="stable")
            rest = table.iloc[MAX_LEVELS - 1 :]
            table = table.iloc[: MAX_LEVELS - 1]
            other = pd.DataFrame(
                {
                    "customers": [rest["customers"].sum()],
                    "churned": [rest["churned"].sum()],
                },
                index=[f"(the other {len(rest):,} values)"],
            )
        table["churn_rate"] = table["churned"] / table["customers"]
        table = table.sort_values("churn_rate", ascending=False, kind="stable")
        if other is not None:
            other["churn_rate"] = other["churned"] / other["customers"]
            table = pd.concat([table, other])
        out.append({"column": column, "table": table})
    return out

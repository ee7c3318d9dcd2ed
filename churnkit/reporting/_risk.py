"""The report's model numbers: who is at risk today and how good the model is.

``score_today`` scores every account eligible at the as-of date, with its
annual value, value at risk, risk tier and top reasons (the reasons follow the
explainer's rules: only drivers that raise the risk above the base rate and
pass ``min_points``). ``model_quality`` evaluates the model on the latest
cutoff whose label window is fully observed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import held, warn
from churnkit._time import add_duration, latest_on_grid, parse_duration
from churnkit.evaluation import evaluate
from churnkit.events._extent import outcomes_known_until
from churnkit.events._notices import ANNOUNCED, has_notices, notice_given
from churnkit.exceptions import ChurnkitError, SchemaError
from churnkit.explain import ChurnExplainer
from churnkit.features import set_events
from churnkit.features._auto_windows import trained_label
from churnkit.labels import (
    active_rows,
    label_churn,
    label_inactivity,
    make_cutoffs,
)
from churnkit.reporting._format import fmt_percent
from churnkit.targeting import prioritize

TIER_SHARES = {"high": 0.10, "medium": 0.20}  # top 10 %, next 20 %, the rest
CALIBRATION_BINS = 10
# the figures of the model section, in a saved forward validation
SAVED_KEYS = {"roc_auc", "pr_auc", "base_rate", "lift@10%", "capture@10%", "n"}
SAVED_KEYS |= {"positives"}


def latest_labelled_cutoff(events, freq: str, horizon: str) -> pd.Timestamp:
    """The latest cutoff of the ``freq`` grid whose label window is observed
    (and, with a ``grace``, followed by it: churns are known up to
    ``observed_until - grace``)."""
    span = parse_duration(horizon, name="horizon", allow_zero=False)
    cutoff = latest_on_grid(outcomes_known_until(events), [span], freq)
    if cutoff <= events.customers["signup_time"].min():
        raise ChurnkitError(
            f"No {freq} cutoff has its {horizon} label window observed after the "
            f"first signup (data until {events.observed_until}); shorten the "
            "horizon."
        )
    return cutoff


def label(
    events, cutoffs, kind: str, horizon: str, table: str, noticed="keep"
) -> pd.DataFrame:
    """Churn labels of ``cutoffs`` by the label kind. With inactivity labels,
    the accounts active within ``horizon`` before the cutoff: the population
    the risk section scores (a customer idle for longer has already churned
    by the same rule, and would inflate the model's figures). ``noticed``: as
    the model's training labels (``label_churn``); the advice on announced
    churns is for training, not for a report's figures."""
    if kind == "inactivity":
        return label_inactivity(
            events, cutoffs, horizon=horizon, table=table, active_within=horizon
        )
    with held() as met:
        out = label_churn(events, cutoffs, horizon=horizon, noticed=noticed)
    for message, category in met:  # the others, as they were
        if ANNOUNCED not in message:
            warn(message, category)
    return out


def scoring_rows(events, at, kind: str, table: str, active_within=None):
    """The accounts scored at ``at``: the eligible ones; with inactivity labels,
    those with activity in ``table`` before ``at`` (the population
    :func:`churnkit.label_inactivity` labels), within ``active_within`` before
    ``at`` if given (the others have already churned by the label's
    definition)."""
    rows = make_cutoffs(events, at=at)
    if kind != "inactivity":
        return rows
    # positions in the grouped store, not a frame of the whole activity table
    code = events._engine.codes(rows["customer_id"], table="cutoffs")
    t = rows["cutoff_time"].to_numpy("datetime64[ns]")
    recent = active_rows(events, table, active_within, code, t)
    return rows[recent].reset_index(drop=True)


def annual_value(events, at) -> tuple[pd.Series | None, str]:
    """Each customer's annual value at ``at`` and how it was measured: 12 x the
    MRR in effect (billing's ``mrr``, the subscriptions' where billing has
    none: :func:`churnkit.metrics._mrr.billing_mrr`), else what was paid in
    the past 365 days (:func:`_paid`), else None."""
    from churnkit.metrics._mrr import billing_mrr

    try:
        with held():  # the revenue KPIs warned already
            rows = billing_mrr(events)
    except SchemaError:  # no MRR anywhere
        rows = None
    if rows is not None:
        rows = rows[rows["time"] < pd.Timestamp(at)]
    if rows is not None and len(rows):
        order = np.argsort(rows["time"].to_numpy(), kind="stable")
        last = rows.iloc[order].drop_duplicates("customer_id", keep="last")
        return last.set_index("customer_id")["mrr"] * 12.0, "12 × current MRR"
    if "billing" not in events.summary().index:
        return None, "none"
    billing = events.frame("billing")
    before = billing[billing["time"] < pd.Timestamp(at)]
    if "amount" in before:
        recent = before[before["time"] >= pd.Timestamp(at) - pd.Timedelta("365D")]
        return _paid(recent)
    return None, "none"


def column_value(events, column) -> tuple[pd.Series, str]:
    """Each customer's value from a numeric column of the customers table,
    and how it was measured ("the customers' `ARR`")."""
    customers = events.customers
    if not isinstance(column, str) or column not in customers:
        raise SchemaError(
            f"`value`={column!r}: the customers table has no such column; it has "
            f"{[c for c in customers.columns if c != 'customer_id']}."
        )
    numbers = pd.to_numeric(customers[column], errors="coerce")
    unread = numbers.isna() & customers[column].notna()
    if unread.any():
        raise SchemaError(
            f"`value`={column!r}: {int(unread.sum()):,} value(s) of customers."
            f"{column} are not numbers, e.g. "
            f"{customers.loc[unread, column].head(3).tolist()}; value needs a "
            "numeric column (a balance, an ARR)."
        )
    value = pd.Series(numbers.to_numpy(), index=customers["customer_id"].to_numpy())
    return value.rename_axis("customer_id"), f"the customers' `{column}`"


def _paid(rows: pd.DataFrame) -> tuple[pd.Series, str]:
    """What each customer paid: payments less refunds (refunds count as money
    back whichever sign they are written with); invoices when no payment is
    recorded; every amount when the rows have no standard kind. An invoice
    and its payment are one sale, and a failed payment none."""
    kind = rows["kind"].astype(object) if "kind" in rows else None
    amount = rows["amount"].astype(float)
    by = rows["customer_id"]
    if kind is not None and (kind == "payment").any():
        signed = amount.where(kind == "payment", 0.0)
        signed = signed - amount.abs().where(kind == "refund", 0.0)
        basis = "paid in the past 365 days, less refunds"
    elif kind is not None and (kind == "invoice").any():
        signed = amount.where(kind == "invoice", 0.0)
        basis = "invoiced in the past 365 days"
    else:
        signed, basis = amount, "billed in the past 365 days"
    return signed.groupby(by, observed=True).sum(), basis


def tier_thresholds(probability: np.ndarray) -> dict:
    """Tiers relative to today's accounts: high = the top 10 % of churn
    probability, medium = the next 20 %, low = the rest. Ties stay in one tier,
    so a tier can hold more (a tier whose threshold equals the one above is
    left out, and ``high`` is above 0); a tier that ties would stretch over
    more than half of the accounts starts above the tie, or is left out when
    no probability is above it (a model giving every account 0.7 %: no high
    tier, not all high)."""
    p = np.asarray(probability, dtype=float)
    if len(p) == 0:
        return {"high": 1.0, "medium": 0.5, "low": 0.0}
    high = float(np.quantile(p, 1 - TIER_SHARES["high"]))
    medium = float(np.quantile(p, 1 - TIER_SHARES["high"] - TIER_SHARES["medium"]))
    if high <= 0.0:  # 90 % of the accounts at probability 0
        high = float(p[p > 0].min()) if (p > 0).any() else 1.0
    # a tier that ties would stretch over most accounts singles no one out
    # (a model giving everyone 0.7 % made them all "high"): it starts above
    # the tie instead, and is empty when nothing is above (inf)
    high, medium = _above_ties(p, high), _above_ties(p, medium)
    tiers = {"high": high} if np.isfinite(high) else {}
    if 0.0 < medium < high:
        tiers["medium"] = medium
    tiers["low"] = 0.0
    return tiers


def _above_ties(p: np.ndarray, threshold: float) -> float:
    """``threshold``, or the next probability above it when the accounts at
    or above it are more than half (ties at the threshold); inf if none."""
    if np.mean(p >= threshold) <= 0.5:
        return threshold
    above = p[p > threshold]
    return float(above.min()) if len(above) else np.inf


def tier_text(tiers: dict, probability=None) -> str:
    """The tier rule in words, with today's thresholds; where ties make a tier
    hold another share of the accounts than its rule, the share it holds."""
    p = None if probability is None else np.asarray(probability, dtype=float)

    def held(lo, hi, nominal) -> str:
        if p is None or not len(p):
            return ""
        share = float(np.mean((p >= lo) & (p < hi)))
        if abs(share - nominal) <= 0.01:
            return ""
        return f"; it holds {fmt_percent(share)} of the accounts, tied at its threshold"

    high = tiers.get("high", np.inf)
    if not np.isfinite(high):
        text = "high: none (the scores do not single out a top 10%"
        if p is not None and len(p):
            top = float(p.max())
            text += (
                f": {fmt_percent(float(np.mean(p == top)))} of the accounts share "
                f"the highest probability, {fmt_percent(top)}"
            )
        return text + "); the rest: low"
    text = f"high: the top 10% of churn probability (from {fmt_percent(high)}"
    text += held(high, np.inf, TIER_SHARES["high"]) + ")"
    if "medium" in tiers:
        medium = tiers["medium"]
        text += f"; medium: the next 20% (from {fmt_percent(medium)}"
        text += held(medium, high, TIER_SHARES["medium"]) + ")"
    return text + "; low: the rest (ties stay in one tier)"


def score_today(
    model,
    events,
    at,
    kind,
    table,
    *,
    display_names=True,
    active_within=None,
    missing_tables=(),
    value=None,
) -> dict:
    """Probability, value, value at risk, tier and top 3 reasons per account.

    ``missing_tables``: event tables the model was fitted with that ``events``
    may lack (see :func:`churnkit.set_events`). ``value``: a column of the
    customers table holding each account's value (a balance, an ARR), used
    instead of :func:`annual_value`.
    """
    set_events(model, events, missing_tables=missing_tables)
    rows = scoring_rows(events, at, kind, table, active_within)
    if rows.empty:
        raise ChurnkitError(
            f"No account is eligible for scoring at {at}; pass an earlier date."
        )
    probability = model.predict_proba(rows)[:, 1]
    risk = pd.Series(probability, index=pd.MultiIndex.from_frame(rows))
    if value is not None:
        value, value_basis = column_value(events, value)
    else:
        value, value_basis = annual_value(events, at)
    if value is None:
        value = 1.0  # value at risk is then the expected number of churns
    else:
        value = value.reindex(rows["customer_id"].unique()).fillna(0.0)
    explanation = ChurnExplainer(model).explain(rows)
    tiers = tier_thresholds(probability)
    table_ = prioritize(
        risk,
        value=value,
        explanation=explanation,
        tiers=tiers,
        display_names=display_names,
    )
    engine = events._engine
    if has_notices(engine):  # they told you already: a column to work them apart
        codes = engine.codes(table_["customer_id"].to_numpy())
        times = table_["cutoff_time"].to_numpy("datetime64[ns]").view("int64")
        table_["notice_given"] = notice_given(engine, codes, times) > 0
    return {
        "table": table_,
        "explanation": explanation,
        "tiers": tiers,
        "tiers_text": tier_text(tiers, probability),
        "value_basis": value_basis,
        "at": pd.Timestamp(at),
    }


def tier_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Accounts, share, value and value at risk per tier, high first."""
    tiers = scores["tier"].astype(object).fillna("(none)")
    grouped = scores.groupby(tiers.to_numpy(), sort=False)
    table = pd.DataFrame(
        {
            "accounts": grouped.size(),
            "value": grouped["value"].sum(),
            "value_at_risk": grouped["value_at_risk"].sum(),
            "mean_probability": grouped["churn_probability"].mean(),
        }
    )
    table["share"] = table["accounts"] / table["accounts"].sum()
    order = [t for t in ("high", "medium", "low", "(none)") if t in table.index]
    return table.loc[order]


def calibration_bins(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Mean predicted vs observed churn in equal-count bins of the prediction."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(CALIBRATION_BINS, max(len(p), 1)))
    return pd.DataFrame(
        {
            "predicted": [p[b].mean() for b in bins if len(b)],
            "observed": [y[b].mean() for b in bins if len(b)],
            "accounts": [len(b) for b in bins if len(b)],
        }
    )


def model_quality(
    model, events, test, kind, horizon, table, freq, missing_tables=()
) -> dict:
    """AUC, PR-AUC, lift, gains and calibration on a labelled test set:
    ``test`` (customer_id, cutoff_time, churned) or the latest labelled
    cutoff."""
    note, saved, in_sample = None, None, False
    if test is None:
        cutoff = latest_labelled_cutoff(events, freq, horizon)
        noticed = trained_label(model).get("noticed", "keep")  # as trained
        rows = make_cutoffs(events, at=cutoff)
        test = label(events, rows, kind, horizon, table, noticed)
        note, saved = _quality_note(model, cutoff, horizon)
        in_sample = "in-sample" in note
    missing = {"customer_id", "cutoff_time", "churned"} - set(test.columns)
    if missing:
        raise ChurnkitError(
            f"`test` must have customer_id, cutoff_time and churned columns; it "
            f"lacks {sorted(missing)}."
        )
    y = test["churned"].to_numpy().astype(int)
    if len(np.unique(y)) < 2:
        return {"metrics": None, "note": "The test period has a single outcome."}
    set_events(model, events, missing_tables=missing_tables)
    p = model.predict_proba(test[["customer_id", "cutoff_time"]])[:, 1]
    metrics = evaluate(y, p)
    return {
        "metrics": metrics if saved is None else saved,
        "y": y,
        "p": p,
        "calibration": calibration_bins(y, p),
        "cutoffs": sorted(pd.to_datetime(test["cutoff_time"].unique())),
        "note": note,
        # the charts are on y and p: in-sample whenever the cutoff was trained
        # on; the cards too unless they are the saved forward validation
        "charts_in_sample": in_sample,
        "cards_in_sample": in_sample and saved is None,
    }


def _quality_note(model, cutoff, horizon) -> tuple[str, dict | None]:
    """What the figures of the latest labelled cutoff mean for ``model``, and
    the forward validation saved with it when they are in-sample."""
    where = (
        f"The charts are measured on the accounts of the latest cutoff whose "
        f"{horizon} outcome is known ({cutoff.date()})"
    )
    features = getattr(model, "named_steps", {}).get("features")
    trained = getattr(features, "training_cutoffs_", None) or {}
    last, reach = trained.get("last"), None
    if last is not None and trained.get("horizon"):  # its labels' outcomes
        reach = add_duration(
            np.array([pd.Timestamp(last).value], "datetime64[ns]"),
            parse_duration(trained["horizon"], name="horizon"),
        )[0]
    if last is None or (
        pd.Timestamp(last) < cutoff and (reach is None or reach <= cutoff)
    ):
        return where + "; the model was not trained on it.", None
    saved = (getattr(model, "churnkit_metadata_", None) or {}).get("metrics") or {}
    if pd.Timestamp(last) < cutoff:  # earlier cutoffs whose outcomes overlap it
        where += (
            f", which the model's training labels reach into (cutoffs to "
            f"{pd.Timestamp(last).date()} with a {trained['horizon']} horizon, "
            f"outcomes to {pd.Timestamp(reach).date()}): in-sample, they "
            "overstate its quality"
        )
    else:
        where += (
            f", which the model was trained on (its cutoffs run to "
            f"{pd.Timestamp(last).date()}): in-sample, they overstate its quality"
        )
    if not SAVED_KEYS <= set(saved):
        return where + ". Pass `test=` (later labelled rows) for honest figures.", None
    return (
        "The figures are the forward validation saved with the model (trained "
        "on earlier cutoffs only, scored on a later one). " + where + ".",
        saved,
    )


def drivers(explanation, k: int = 12) -> pd.DataFrame:
    """The model's global drivers with readable names, in probability points."""
    imp = explanation.global_importance(by="feature", scale="probability")
    return imp.head(k)


def trained_horizon(model) -> str | None:
    """The label horizon ``model``'s features step learned at fit, if known."""
    features = getattr(model, "named_steps", {}).get("features")
    return (getattr(features, "training_cutoffs_", None) or {}).get("horizon")

"""``churnkit score``, ``explain`` and ``report``: a saved model on a store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnkit._logging import warn
from churnkit.cli._train import check_inactivity_days
from churnkit.events._columns import activity_name, activity_parts
from churnkit.exceptions import ChurnkitError, ChurnkitWarning

SCORE_COLUMNS = [
    "customer_id",
    "cutoff_time",
    "churn_probability",
    "tier",
    "value",
    "value_at_risk",
    "rank",
    "notice_given",  # with cancellation notices: the accounts already leaving
]


def load_model(args, say=print):
    from churnkit.persistence import load, read_header

    path = Path(args.model)
    if not path.exists():
        raise ChurnkitError(
            f"--model {str(path)!r} does not exist; `churnkit train --model "
            f"{path}` writes it (the algorithm is --model-type)."
        )
    header = read_header(path)
    label_from(args, header)
    return load(path), header


def label_from(args, header) -> None:
    """--label / --activity-table when given, else the model's (saved by
    train), else recorded churn and usage: scored as it was trained."""
    saved = header.get("label")
    if args.label is None:
        args.label = saved or "churn"
    elif saved is not None and args.label != saved:
        warn(
            f"--label {args.label} differs from the label the model was trained "
            f"with ({saved}): the accounts scored are not those it learned from. "
            "Leave --label out to use the model's.",
            ChurnkitWarning,
        )
    saved_table = header.get("activity_table") or "usage"
    if not isinstance(saved_table, str):  # (table, kinds) saved as a list
        saved_table = (saved_table[0], tuple(saved_table[1]))
    if args.activity_table is None and not args.activity_kinds:
        args.activity_table = saved_table
    else:
        name = args.activity_table or activity_parts(saved_table)[0]
        kinds = args.activity_kinds
        args.activity_table = name if not kinds else (name, tuple(kinds))


def horizon_for(args, header) -> str:
    """--inactivity-days / --horizon when given, else the model's horizon."""
    check_inactivity_days(args)
    if args.label == "inactivity" and args.inactivity_days is not None:
        return f"{args.inactivity_days}D"
    return args.horizon or header.get("horizon") or "30D"


def _at(args, events):
    # the latest instant observed: with times, the last day's events count
    # (its midnight left them out)
    return pd.Timestamp(args.at) if args.at else events.observed_until


def score(args, events, say=print) -> int:
    from churnkit.reporting._risk import score_today

    model, header = load_model(args, say)
    scored = score_today(
        model,
        events,
        _at(args, events),
        args.label,
        args.activity_table,
        display_names=not args.raw_names,
        active_within=horizon_for(args, header),
        missing_tables=tuple(args.missing_table or ()),
        value=args.value,
    )
    table = scored["table"]
    extra = [c for c in table.columns if c.startswith(("driver_", "reason_"))]
    table = table[[c for c in SCORE_COLUMNS if c in table.columns] + extra]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        table.to_parquet(out, index=False)
    elif out.suffix in (".csv", ".gz", ".txt", ".tsv") or not out.suffix:
        table.to_csv(out, index=False, sep="\t" if out.suffix == ".tsv" else ",")
    else:
        raise ChurnkitError(
            f"--out {str(out)!r}: write a .csv (or .csv.gz, .tsv) or .parquet file."
        )
    say(
        f"scored {len(table):,} accounts at {scored['at'].date()}; value: "
        f"{scored['value_basis']}; tiers: {scored['tiers_text']}; wrote {out}"
    )
    if not args.quiet:
        shown = table.head(10).copy()
        shown["churn_probability"] = shown["churn_probability"].map("{:.1%}".format)
        say(
            shown[
                ["customer_id", "churn_probability", "tier", "value_at_risk"]
            ].to_string(index=False, float_format=lambda v: f"{v:,.0f}")
        )
    return 0


def explain(args, events, say=print) -> int:
    from churnkit.explain import ChurnExplainer
    from churnkit.features import set_events
    from churnkit.reporting._risk import scoring_rows

    model, header = load_model(args, say)
    set_events(model, events, missing_tables=tuple(args.missing_table or ()))
    at = _at(args, events)
    X = scoring_rows(
        events, at, args.label, args.activity_table, horizon_for(args, header)
    )
    X = X[same_customer(X["customer_id"], str(args.customer))]
    if X.empty:
        raise ChurnkitError(_not_scored(events, args, at, horizon_for(args, header)))
    explanation = ChurnExplainer(model).explain(X)
    customer = X["customer_id"].iloc[0]
    probability = model.predict_proba(X)[0, 1]
    say(
        f"{customer} at {X['cutoff_time'].iloc[0].date()}: churn probability "
        f"{probability:.1%}"
    )
    say("Risk drivers:")
    drivers = explanation.top_drivers(k=3, scale="probability")
    if drivers.empty:  # the account's "no strong risk drivers" line
        for reason in explanation.reasons(customer):
            say(f"  - {reason}")
    for row in drivers.itertuples(index=False):  # at most 3 rows
        name = row.feature if args.raw_names else row.display_name
        say(f"  - {row.reason}  [{name}: {row.contribution * 100:+.1f} pts]")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        explanation.plot(customer, ax=ax, display_names=not args.raw_names)
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        say(f"wrote {args.plot}")
    return 0


def report(args, events, say=print) -> int:
    from churnkit.cli import for_the_command_line
    from churnkit.reporting import report as write_report

    model, header = (None, {}) if not args.model else load_model(args, say)
    if model is None:  # else set by load_model
        label_from(args, header)
    path = write_report(
        events,
        model,
        path=args.out,
        label=args.label,
        horizon=horizon_for(args, header),
        table=args.activity_table,
        freq=args.freq,
        by=args.by or None,
        at=args.at,
        top=args.top,
        title=args.title,
        missing_tables=tuple(args.missing_table or ()),
        phrase=for_the_command_line,
        currency=args.currency,
        value=args.value,
    )
    say(f"wrote {path}")
    return 0


def same_customer(ids: pd.Series, who: str) -> pd.Series:
    """Rows of customer ``who`` (text from the command line): ids written the
    same, else the one id equal to it as a number (``12347`` finds a customer
    whose id was read as ``12347.0``, a float, and the reverse)."""
    mask = ids.astype(str) == who
    number = pd.to_numeric(pd.Series([who]), errors="coerce").iloc[0]
    if mask.any() or pd.isna(number):
        return mask
    numbers = pd.to_numeric(ids, errors="coerce")
    equal = numbers == number
    return equal if ids[equal].nunique() == 1 else mask


def _not_scored(events, args, at, horizon) -> str:
    """Why ``--customer`` has no row at ``at``: unknown, not signed up yet,
    churned before, or (inactivity labels) idle for the horizon."""
    who = str(args.customer)
    customers = events.customers
    mine = customers[same_customer(customers["customer_id"], who)]
    if mine.empty:
        return f"Customer {who!r} is not in the data; check the id."
    signup = mine["signup_time"].iloc[0]
    if signup >= at:
        return (
            f"Customer {who!r} signed up on {signup.date()}, not before "
            f"{at.date()}; pass a later --at."
        )
    churns = events.churns
    gone = churns[same_customer(churns["customer_id"], who) & (churns["time"] < at)]
    if len(gone):
        return (
            f"Customer {who!r} churned on {gone['time'].iloc[-1].date()}, before "
            f"{at.date()}; pass an earlier --at to explain the score it had then."
        )
    if args.label == "inactivity":
        return (
            f"Customer {who!r} has no {activity_name(args.activity_table)} "
            "activity in the "
            f"{horizon} before {at.date()}: by the inactivity label it has already "
            "churned; pass an earlier --at."
        )
    return f"Customer {who!r} is not active at {at.date()}; check --at."

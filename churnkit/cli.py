"""The ``churnkit`` command line: ``churnkit demo | train | score | explain``.

argparse over the public API, with no modelling logic of its own::

    churnkit demo
    churnkit train --customers c.csv --usage u.parquet --churn churn.csv \\
                   --horizon 30D --out model.ckm
    churnkit score --model model.ckm --customers c.csv --usage u.parquet \\
                   --at 2025-01-01 --out scores.csv
    churnkit explain --model model.ckm --customers c.csv --usage u.parquet \\
                     --customer C-00042 --plot waterfall.png

A business without cancellations (a transaction log, a usage-only product)
labels churn as inactivity: ``--label inactivity --horizon 90D`` labels 1 a
customer with no row in ``--activity-table`` (default: usage) in the 90 days
after the cutoff, as :func:`churnkit.label_inactivity` does.

Column names are mapped with ``--map usage.user_id=customer_id`` (repeatable)
or a TOML file (``--config``)::

    [tables]
    customers = "customers.csv"
    usage = "events.csv.gz"

    [columns.usage]
    user_id = "customer_id"
    ts = "time"

    [events]
    grace = "7D"          # subscriptions: gaps up to 7 days are not churn
    errors = "drop"       # drop defective rows (counted) instead of failing
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from churnkit.exceptions import ChurnkitError, ChurnkitWarning

TABLES = ("customers", "usage", "billing", "support", "churn", "subscriptions")


def _events(args):
    """Build an Events store from --config and the table/--map flags."""
    from churnkit.events import Events

    config = _read_config(args.config) if args.config else {}
    tables = dict(config.get("tables", {}))
    base = Path(args.config).parent if args.config else Path(".")
    tables = {k: str(base / v) for k, v in tables.items()}
    for name in TABLES:
        if getattr(args, name, None):
            tables[name] = getattr(args, name)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ChurnkitError(f"Unknown table(s) {sorted(unknown)}; tables are {TABLES}.")
    for name, path in tables.items():
        if not Path(path).exists():
            raise ChurnkitError(f"--{name}: file {path!r} does not exist.")
    columns = {k: dict(v) for k, v in config.get("columns", {}).items()}
    for item in args.map or []:
        try:
            left, target = item.split("=", 1)
            table, source = left.split(".", 1)
        except ValueError:
            raise ChurnkitError(
                f"--map {item!r}: write it as TABLE.YOUR_COLUMN=CHURNKIT_COLUMN, e.g. "
                "--map usage.ts=time"
            ) from None
        columns.setdefault(table, {})[source] = target
    options = dict(config.get("events", {}))
    if args.observed_until:
        options["observed_until"] = args.observed_until
    return Events(**tables, columns=columns or None, **options)


def _read_config(path):
    import tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ChurnkitError(f"--config: file {str(path)!r} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChurnkitError(
            f"--config {str(path)!r} is not valid TOML: {exc}"
        ) from None


def _quiet():
    """Library warnings are summarised by the CLI, not printed one by one."""
    warnings.simplefilter("ignore", ChurnkitWarning)


def _demo(args) -> int:
    from churnkit.demo import run_demo

    run_demo(args.customers, random_state=args.seed, out=args.out)
    return 0


def _train(args) -> int:
    from churnkit._time import add_duration, parse_duration, subtract_duration
    from churnkit.evaluation import evaluate
    from churnkit.labels import (
        first_full_cutoff,
        label_churn,
        label_inactivity,
        make_cutoffs,
    )
    from churnkit.models import make_churn_pipeline
    from churnkit.persistence import save

    _quiet()
    events = _events(args)
    print(events)
    horizon = parse_duration(args.horizon, name="horizon", allow_zero=False)
    start = args.start or first_full_cutoff(events, args.freq)
    end = args.end or subtract_duration(events.observed_until, horizon)
    cutoffs = make_cutoffs(events, start=start, end=end, freq=args.freq)
    if args.label == "inactivity":
        labels = label_inactivity(
            events,
            cutoffs,
            horizon=args.horizon,
            gap=args.gap,
            table=args.activity_table,
        )
    else:
        labels = label_churn(events, cutoffs, horizon=args.horizon, gap=args.gap)
    if labels.empty or labels["churned"].nunique() < 2:
        raise ChurnkitError(_too_few_labels(args, events, labels))
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    print(
        f"{len(X):,} labelled rows, {X['cutoff_time'].nunique()} cutoffs, "
        f"churn rate {y.mean():.2%}; excluded: {labels.attrs.get('excluded', {})}"
    )
    model = make_churn_pipeline(events, model=args.model, random_state=args.seed)
    model.set_params(features__progress=True)
    test_cutoff = X["cutoff_time"].max()
    window_end = add_duration(X["cutoff_time"].to_numpy("datetime64[ns]"), horizon)
    train = window_end <= test_cutoff.to_datetime64()
    metrics = None
    if train.any() and y[train].nunique() == 2:
        model.fit(X[train], y[train])
        test = X["cutoff_time"] == test_cutoff
        metrics = evaluate(y[test], model.predict_proba(X[test])[:, 1])
        print(
            f"\nValidation on the latest cutoff {test_cutoff.date()} "
            f"({int(test.sum()):,} accounts), trained on earlier cutoffs:"
        )
        print(metrics.to_string(float_format=lambda v: f"{v:.3f}"))
    else:
        print("Too few cutoffs for a forward validation; training on everything.")
    model.fit(X, y)
    path = save(model, args.out, horizon=args.horizon, metrics=metrics)
    print(f"\nwrote {path}")
    return 0


def _too_few_labels(args, events, labels) -> str:
    """Why there is too little to train on, and the fix that applies."""
    n, churners = len(labels), int(labels["churned"].sum())
    head = f"{n} labelled rows with {churners} churners: not enough to train."
    excluded = labels.attrs.get("excluded", {})
    if args.label == "contractual" and events.churns.empty:
        return (
            f"{head} These tables record no churn (no --churn or --subscriptions "
            "table, or no churn in it), so no customer ever churns. For a "
            "business without cancellations, label churn as inactivity: --label "
            f"inactivity --horizon 90D (no row in the {args.activity_table} table "
            "for 90 days; --activity-table picks another table)."
        )
    if excluded.get("censored", 0) and excluded["censored"] >= n:
        return (
            f"{head} {excluded['censored']} rows are censored: their label window "
            f"ends after the data (observed until {events.observed_until}). If the "
            "extract was taken later than its last event, pass --observed-until; "
            "otherwise move --end earlier or shorten --horizon."
        )
    return (
        f"{head} Excluded: {excluded}. Widen --start/--end, or choose a --horizon "
        "in which both outcomes occur."
    )


def _inactive_out(events, today, args):
    """With --label inactivity, only customers with activity before the date
    are scored (the customers the labels were trained on)."""
    if getattr(args, "label", "contractual") != "inactivity":
        return today
    table = events.frame(args.activity_table)
    first = table.groupby("customer_id", observed=True)["time"].min()
    seen = today["customer_id"].map(first)
    return today[seen.notna() & (seen < today["cutoff_time"])].reset_index(drop=True)


def _score_frame(model, events, at, args=None):
    """Probability, tier, value at risk and top 3 reasons per eligible account."""
    import pandas as pd

    from churnkit.explain import ChurnExplainer
    from churnkit.features import set_events
    from churnkit.labels import make_cutoffs
    from churnkit.targeting import prioritize

    set_events(model, events)
    at = at or events.observed_until.floor("D")
    today = _inactive_out(events, make_cutoffs(events, at=at), args)
    risk = pd.Series(
        model.predict_proba(today)[:, 1], index=pd.MultiIndex.from_frame(today)
    )
    features = model.named_steps["features"].transform(today)
    if "billing__mrr" in features:
        value = features["billing__mrr"].fillna(0.0) * 12
    else:
        value = 1.0  # without MRR, value at risk is the probability itself
    explanation = ChurnExplainer(model).explain(today)
    raw = bool(getattr(args, "raw_names", False))
    priority = prioritize(
        risk, value=value, explanation=explanation, display_names=not raw
    )
    return priority, explanation


def _score(args) -> int:
    from churnkit.persistence import load

    _quiet()
    model = load(args.model)
    events = _events(args)
    scores, _ = _score_frame(model, events, args.at, args)
    out = Path(args.out)
    if out.suffix == ".parquet":
        scores.to_parquet(out, index=False)
    else:
        scores.to_csv(out, index=False)
    print(f"scored {len(scores):,} accounts; wrote {out}")
    print(scores.head(10).to_string(index=False))
    return 0


def _explain(args) -> int:
    from churnkit.explain import ChurnExplainer
    from churnkit.features import set_events
    from churnkit.labels import make_cutoffs
    from churnkit.persistence import load

    _quiet()
    model = load(args.model)
    events = _events(args)
    set_events(model, events)
    at = args.at or events.observed_until.floor("D")
    X = _inactive_out(events, make_cutoffs(events, at=at), args)
    X = X[X["customer_id"].astype(str) == str(args.customer)]
    if X.empty:
        raise ChurnkitError(
            f"Customer {args.customer!r} is not active at {at} (or unknown); check "
            "the id and --at."
        )
    explanation = ChurnExplainer(model).explain(X)
    customer = X["customer_id"].iloc[0]
    probability = model.predict_proba(X)[0, 1]
    print(
        f"{customer} at {X['cutoff_time'].iloc[0].date()}: churn probability "
        f"{probability:.1%}"
    )
    print("Risk drivers:")
    drivers = explanation.top_drivers(k=3, scale="probability")
    if drivers.empty:  # the account's "no strong risk drivers" line
        for reason in explanation.reasons(customer):
            print(f"  - {reason}")
    for row in drivers.itertuples(index=False):  # at most 3 rows
        name = row.feature if args.raw_names else row.display_name
        print(f"  - {row.reason}  [{name}: {row.contribution * 100:+.1f} pts]")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 5))
        explanation.plot(customer, ax=ax, display_names=not args.raw_names)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}")
    return 0


def _add_tables(parser):
    group = parser.add_argument_group("tables (CSV or parquet files)")
    for name in TABLES:
        group.add_argument(f"--{name}", metavar="FILE", help=f"the {name} table")
    group.add_argument(
        "--config",
        metavar="TOML",
        help="tables, column mappings and Events options in one file",
    )
    group.add_argument(
        "--map",
        action="append",
        metavar="TABLE.COL=NAME",
        help="rename a column, e.g. usage.ts=time (repeatable)",
    )
    group.add_argument(
        "--observed-until",
        metavar="DATE",
        help="exclusive end of the data (default: after the last event)",
    )


def _add_label(parser):
    group = parser.add_argument_group("label")
    group.add_argument(
        "--label",
        default="contractual",
        choices=["contractual", "inactivity"],
        help="contractual: churns recorded in --churn or --subscriptions "
        "(default); inactivity: no row in --activity-table for --horizon, for "
        "businesses without cancellations",
    )
    group.add_argument(
        "--activity-table",
        default="usage",
        choices=["usage", "billing", "support"],
        help="with --label inactivity: the table whose rows are activity "
        "(default: usage)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="churnkit",
        description="Predict which customers will churn and explain why.",
        epilog="Run `churnkit COMMAND --help` for the options of each command.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="the whole flow on built-in synthetic data",
        description="Generate a SaaS business, train, explain, report.",
    )
    demo.add_argument(
        "--customers",
        type=int,
        default=5_000,
        help="customers to simulate (default: 5000)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument(
        "--out", default="churnkit-demo", help="output folder (default: churnkit-demo)"
    )
    demo.set_defaults(func=_demo)

    train = sub.add_parser(
        "train",
        help="train a model on your tables",
        description="Build monthly cutoffs and churn labels, "
        "validate forward in time, train and save a model.",
    )
    _add_tables(train)
    _add_label(train)
    train.add_argument(
        "--horizon",
        default="30D",
        help="label horizon; with --label inactivity, the period without "
        "activity that is a churn (default: 30D)",
    )
    train.add_argument("--gap", default="0D", help="lead time before the horizon")
    train.add_argument("--freq", default="MS", help="cutoff frequency (default: MS)")
    train.add_argument(
        "--start",
        help="first cutoff (default: the first with 90 days of data before it)",
    )
    train.add_argument(
        "--end", help="last cutoff (default: the latest one whose horizon is observed)"
    )
    train.add_argument("--model", default="xgboost", choices=["xgboost", "logistic"])
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="model.ckm", help="model file to write")
    train.set_defaults(func=_train)

    score = sub.add_parser(
        "score",
        help="score current accounts with a saved model",
        description="Probability, risk tier, value at risk and "
        "top 3 reasons per active account.",
    )
    score.add_argument("--model", required=True, help="model file from `train`")
    _add_tables(score)
    _add_label(score)
    score.add_argument("--at", help="scoring date (default: the day of the last event)")
    score.add_argument("--out", default="scores.csv", help="CSV or .parquet output")
    score.add_argument(
        "--raw-names",
        action="store_true",
        help="name the features behind the reasons (driver_1..3) by their "
        "column names instead of their display names",
    )
    score.set_defaults(func=_score)

    explain = sub.add_parser(
        "explain",
        help="one account's churn drivers",
        description="Reasons and a waterfall for one account.",
    )
    explain.add_argument("--model", required=True, help="model file from `train`")
    _add_tables(explain)
    _add_label(explain)
    explain.add_argument("--customer", required=True, help="the customer id")
    explain.add_argument("--at", help="date (default: the day of the last event)")
    explain.add_argument("--plot", metavar="PNG", help="also write a waterfall plot")
    explain.add_argument(
        "--raw-names",
        action="store_true",
        help="show the features' column names instead of their display names",
    )
    explain.set_defaults(func=_explain)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ChurnkitError, FileNotFoundError, ValueError) as exc:
        if args.debug:
            raise
        print(f"churnkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``churnkit train``: cutoffs that use all the labelled data, a forward
validation, a model saved with its horizon and metrics."""

from __future__ import annotations

import pandas as pd

from churnkit.events._columns import activity_name
from churnkit.exceptions import ChurnkitError

HISTORY = "28D"  # the first cutoff has at least this much data before it
HORIZON_DEFAULT = "30D"  # --horizon of train when not given


def horizon_of(args) -> str:
    """The label horizon: --inactivity-days with --label inactivity, else
    --horizon."""
    check_inactivity_days(args)
    if args.label == "inactivity" and args.inactivity_days is not None:
        if args.inactivity_days < 1:
            raise ChurnkitError(
                f"--inactivity-days must be at least 1; got {args.inactivity_days}."
            )
        from churnkit._time import parse_duration

        given = getattr(args, "horizon", None)  # "30D" unless given
        days = pd.Timedelta(days=args.inactivity_days)
        if given not in (None, HORIZON_DEFAULT) and (
            parse_duration(given, name="horizon") != days
        ):
            raise ChurnkitError(
                f"--horizon {given} and --inactivity-days {args.inactivity_days} "
                "both set the inactivity horizon; pass one of them."
            )
        return f"{args.inactivity_days}D"
    return args.horizon


def check_inactivity_days(args) -> None:
    """--inactivity-days defines inactivity churn: refused with recorded churn."""
    if args.inactivity_days is not None and args.label != "inactivity":
        raise ChurnkitError(
            f"--inactivity-days {args.inactivity_days} applies to --label "
            f"inactivity, but --label is {args.label!r} (recorded churns, whose "
            "horizon is --horizon). Add --label inactivity, or pass --horizon "
            f"{args.inactivity_days}D."
        )


def choose_cutoffs(events, args, horizon, say=print):
    """Cutoffs from the first with :data:`HISTORY` of data (or --start) to
    the latest whose label window is observed (or --end); says what it chose."""
    from churnkit._time import latest_on_grid, parse_duration
    from churnkit.events._extent import first_full_cutoff, outcomes_known_until
    from churnkit.labels import make_cutoffs

    span = parse_duration(horizon, name="horizon", allow_zero=False)
    gap = parse_duration(args.gap, name="gap")
    start = pd.Timestamp(args.start) if args.start else None
    start = start or first_full_cutoff(events, args.freq, history=HISTORY)
    # the labels' own censoring: a churn is known up to observed_until - grace,
    # inactivity up to observed_until
    known = (
        events.observed_until
        if args.label == "inactivity"
        else outcomes_known_until(events)
    )
    end = (
        pd.Timestamp(args.end)
        if args.end
        else latest_on_grid(known, [gap, span], args.freq)
    )
    if end < start:
        given = (
            "--end"
            if args.end
            else (
                f"the latest cutoff whose {horizon} window is observed, "
                f"{end.floor('D').date()} (data until {events.observed_until.date()})"
            )
        )
        raise ChurnkitError(
            f"--start {start.date()} is after {given}: no cutoff can be labelled. "
            "Pass an earlier --start." + ("" if args.end else " or a shorter --horizon")
        )
    cutoffs = make_cutoffs(events, start=start, end=end, freq=args.freq)
    grid = pd.DatetimeIndex(sorted(cutoffs["cutoff_time"].unique()))
    if grid.empty:
        raise ChurnkitError(
            f"No {args.freq} cutoff between {start.date()} and {end.date()} (data "
            f"until {events.observed_until.date()}, horizon {horizon}); move "
            "--start/--end or shorten the horizon."
        )
    why_start = "--start" if args.start else f"the first with {HISTORY} of data"
    why_end = "--end" if args.end else f"the latest whose {horizon} window is observed"
    if not args.end and args.label != "inactivity" and events.grace > pd.Timedelta(0):
        g = events.grace
        g = f"{g.days}-day" if g == pd.Timedelta(days=g.days) else f"{g}"
        why_end += f" and followed by the {g} grace"
    say(
        f"cutoffs: {len(grid)} x {args.freq} from {grid[0].date()} ({why_start}) "
        f"to {grid[-1].date()} ({why_end})"
    )
    return cutoffs


def labels_of(events, cutoffs, args, horizon):
    from churnkit.labels import label_churn, label_inactivity

    if args.label == "inactivity":
        # the customers active within the horizon: one idle for longer has
        # churned already by the same rule (the population `score` scores)
        return label_inactivity(
            events,
            cutoffs,
            horizon=horizon,
            gap=args.gap,
            table=args.activity_table,
            active_within=horizon,
        )
    noticed = getattr(args, "noticed", "keep")
    return label_churn(events, cutoffs, horizon=horizon, gap=args.gap, noticed=noticed)


def too_few_labels(args, events, labels) -> str:
    """Why there is too little to train on, and the fix that applies."""
    n = len(labels)
    churners = int(labels["churned"].sum()) if n else 0
    head = f"{n:,} labelled rows with {churners:,} churners: not enough to train."
    excluded = labels.attrs.get("excluded", {})
    if args.label == "churn" and events.churns.empty:
        return (
            f"{head} These tables record no churn (no --churn or --subscriptions "
            "table, no churn in it, or subscriptions without an `end` column: "
            "--map subscriptions.<your end column>=end), so no customer ever "
            "churns. For a "
            "business without cancellations, label churn as inactivity: --label "
            "inactivity --horizon 90D (no row in the "
            f"{activity_name(args.activity_table)} table "
            "for 90 days; --activity-table picks another table)."
        )
    if excluded.get("censored", 0) and excluded["censored"] >= n:
        return (
            f"{head} {excluded['censored']} rows are censored: their label window "
            f"ends after the data (observed until {events.observed_until}). If the "
            "extract was taken later than its last event, pass --observed-until; "
            "otherwise move --end earlier or shorten --horizon."
        )
    if args.label == "inactivity" and n and not churners:
        return (
            f"{head} No customer is ever without a row of "
            f"{activity_name(args.activity_table)} for the horizon: if some rows "
            "are not the customer acting (interest or fees a bank posts, "
            "messages a system sends), count only the kinds that are with "
            "--activity-kinds KIND ... (see the warning above for the kinds)."
        )
    return (
        f"{head} Excluded: {excluded}. Widen --start/--end, or choose a --horizon "
        "in which both outcomes occur."
    )


def train(args, events, say=print) -> int:
    from churnkit._time import add_duration, parse_duration
    from churnkit.evaluation import evaluate
    from churnkit.models import make_churn_pipeline
    from churnkit.persistence import save

    horizon = horizon_of(args)
    cutoffs = choose_cutoffs(events, args, horizon, say)
    labels = labels_of(events, cutoffs, args, horizon)
    if labels.empty or labels["churned"].nunique() < 2:
        raise ChurnkitError(too_few_labels(args, events, labels))
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    excluded = labels.attrs.get("excluded", {})
    say(
        f"{len(X):,} labelled rows, {X['cutoff_time'].nunique()} cutoffs, "
        f"churn rate {y.mean():.2%}; excluded: "
        + (", ".join(f"{k} {v:,}" for k, v in excluded.items()) or "none")
    )
    model = make_churn_pipeline(events, model=args.model_type, random_state=args.seed)
    model.set_params(features__progress=not args.quiet)
    test_cutoff = X["cutoff_time"].max()
    span = parse_duration(horizon, name="horizon", allow_zero=False)
    window_end = add_duration(X["cutoff_time"].to_numpy("datetime64[ns]"), span)
    train_rows = window_end <= test_cutoff.to_datetime64()
    metrics = None
    if train_rows.any() and y[train_rows].nunique() == 2:
        model.fit(X[train_rows], y[train_rows])
        test = (X["cutoff_time"] == test_cutoff).to_numpy()
        metrics = evaluate(y[test], model.predict_proba(X[test])[:, 1])
        n_train = X.loc[train_rows, "cutoff_time"].nunique()
        say(
            f"\nValidation on the latest cutoff {test_cutoff.date()} "
            f"({int(test.sum()):,} accounts), trained on the {n_train} earlier "
            f"cutoff(s) whose {horizon} window closed by then:"
        )
        counts = {"n", "positives"}  # the others are rates, areas and ratios
        say(
            pd.Series(
                {
                    k: f"{v:,.0f}" if k in counts else f"{v:.3f}"
                    for k, v in metrics.items()
                }
            ).to_string()
        )
    elif not train_rows.any():
        say(
            f"No forward validation: no cutoff's {horizon} window closes by the "
            f"latest cutoff {test_cutoff.date()} (add earlier cutoffs with "
            "--start, or a shorter --freq); training on everything."
        )
    else:
        say(
            f"No forward validation: the {int(train_rows.sum()):,} rows of the "
            f"cutoffs before {test_cutoff.date()} hold a single outcome "
            f"({'all churned' if y[train_rows].all() else 'no churner'}); "
            "training on everything."
        )
    model.fit(X, y)
    path = save(
        model,
        args.model,
        horizon=horizon,
        metrics=metrics,
        label=args.label,
        activity_table=args.activity_table if args.label == "inactivity" else None,
    )
    kind = args.model_type
    search = getattr(model[-1], "search_", None)
    if search is not None:  # --model-type auto: say what the search chose
        kind = f"auto chose {search['chosen']}"
    say(f"\nwrote {path} ({kind}, trained on all {len(X):,} rows)")
    return 0

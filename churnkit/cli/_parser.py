"""The argparse definition of every ``churnkit`` command and flag."""

from __future__ import annotations

import argparse

from churnkit._version import VERSION
from churnkit.cli._data import TABLES
from churnkit.cli._values import date, duration, frequency

EPILOG = (
    "Exit status: 0 success; 1 an error in the data or its use (a missing "
    "file, a column that does not fit, too few labels), printed as one line "
    "naming the fix; 2 bad arguments (argparse's usage error). Warnings do "
    "not fail a command: they are summarised at the end, on stderr."
)


def _common():
    """--quiet and --debug, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print only errors and the warnings summary (no progress)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show full tracebacks on errors",
    )
    return common


def _add_data(parser):
    group = parser.add_argument_group(
        "data",
        "a saved store (--events), a folder of table files, a TOML config, "
        "or one CSV/parquet file per table",
    )
    group.add_argument(
        "--events",
        metavar="PATH",
        help="a store saved by `churnkit events build` (fast: no re-reading), a "
        "folder holding customers.csv, usage.parquet..., or a TOML config",
    )
    for name in TABLES:
        group.add_argument(f"--{name}", metavar="FILE", help=f"the {name} table")
    group.add_argument(
        "--config", metavar="TOML", help="tables, column mappings and Events options"
    )
    group.add_argument(
        "--map",
        action="append",
        metavar="TABLE.COL=NAME",
        help="rename a column, e.g. usage.ts=time (repeatable)",
    )
    group.add_argument(
        "--epoch",
        action="append",
        metavar="TABLE.COL=UNIT",
        help="read a column of numbers as times: UNIX epoch s, ms, us or ns, or "
        "dates written as YYYYMMDD, e.g. subscriptions.created=s (repeatable; "
        "the file's column name or the one --map gives it)",
    )
    group.add_argument(
        "--observed-until",
        metavar="DATE",
        type=date,
        help="exclusive end of the data (default: after the last event)",
    )
    group.add_argument(
        "--grace",
        metavar="DURATION",
        type=duration(allow_zero=True),
        help="a gap between subscriptions up to this long is no churn, e.g. 30D "
        "(default: 0D, or [events] grace of --config)",
    )


AT_DEFAULT = (
    "(default: the end of the data, --observed-until: with times, just after "
    "the latest event; only events before it count)"
)


def _add_label(parser, horizon_default="30D"):
    group = parser.add_argument_group("label")
    group.add_argument(
        "--label",
        default=None,
        choices=["churn", "inactivity", "contractual"],
        help="churn: the churns recorded in --churn or --subscriptions (the "
        "default of train; 'contractual' is a synonym); inactivity: no row in "
        "--activity-table "
        "for the horizon, for businesses without cancellations (the customers "
        "labelled and scored are those with activity within the horizon). "
        "score, explain and report default to the model's label",
    )
    group.add_argument(
        "--horizon",
        default=horizon_default,
        type=duration(allow_zero=False),
        help="label horizon, e.g. 30D, 1MS"
        + (
            f" (default: {horizon_default})"
            if horizon_default
            else " (default: the model's)"
        ),
    )
    group.add_argument(
        "--inactivity-days",
        type=int,
        metavar="N",
        help="with --label inactivity: N days without activity is a churn "
        "(the same as --horizon ND)",
    )
    group.add_argument(
        "--activity-table",
        default=None,
        choices=["usage", "billing", "support"],
        help="with --label inactivity: the table whose rows are activity "
        "(default: the model's, else usage)",
    )
    group.add_argument(
        "--activity-kinds",
        nargs="+",
        default=None,
        metavar="KIND",
        help="with --label inactivity: only rows of these kinds of the "
        "activity table count, e.g. --activity-table billing --activity-kinds "
        "payment (refunds and failed payments are not the customer acting; "
        "default: the model's, else every row)",
    )


def _model_file(parser, required=True, help_text="model file written by `train`"):
    parser.add_argument("--model", metavar="FILE", required=required, help=help_text)


def _missing_table(parser):
    parser.add_argument(
        "--missing-table",
        action="append",
        default=None,
        choices=["usage", "billing", "support"],
        metavar="TABLE",
        help="score without an event table the model was trained with, on "
        "purpose (an export failed): its features become missing and a warning "
        "names them (repeatable; usage, billing or support)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``churnkit`` argument parser."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="churnkit",
        description="Predict which customers will churn, explain why, report it.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"churnkit {VERSION}")
    parser.add_argument("--quiet", "-q", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--debug", action="store_true", help="full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="the whole flow on built-in synthetic data",
        description="Generate a SaaS business, train, explain, report.",
    )
    demo.add_argument(
        "--customers",
        type=int,
        default=5_000,
        help="customers to simulate, at least 100 (default: 5000)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--out", default="churnkit-demo", help="output folder")

    events = sub.add_parser(
        "events", help="build a saved event store", description="Event stores."
    )
    events_sub = events.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = events_sub.add_parser(
        "build",
        parents=[common],
        help="read and validate the tables once; save the store",
        description="Read, validate and group the tables and save the store, so "
        "that later commands load it in a fraction of a second (--events PATH).",
        epilog=EPILOG,
    )
    _add_data(build)
    build.add_argument("--out", required=True, metavar="DIR", help="store folder")

    train = sub.add_parser(
        "train",
        parents=[common],
        help="train a model on your tables",
        description="Choose monthly cutoffs using all labelled data, validate "
        "forward in time on the latest, train on all and save the model.",
        epilog=EPILOG,
    )
    _add_data(train)
    _add_label(train)
    train.add_argument(
        "--gap",
        default="0D",
        type=duration(allow_zero=True),
        help="lead time before the horizon",
    )
    train.add_argument(
        "--noticed",
        default="keep",
        choices=["keep", "exclude"],
        help="rows whose cancellation notice (cancel_time) is known at the "
        "cutoff: labelled as any (keep), or left out (exclude) to predict who "
        "will give notice (default: keep)",
    )
    train.add_argument(
        "--freq",
        default="MS",
        type=frequency,
        help="cutoff frequency (default: MS)",
    )
    train.add_argument(
        "--start",
        type=date,
        help="first cutoff (default: the first with 28 days of data)",
    )
    train.add_argument(
        "--end",
        type=date,
        help="last cutoff (default: the latest whose horizon is observed)",
    )
    train.add_argument(
        "--model-type",
        default="xgboost",
        choices=["xgboost", "logistic", "auto"],
        help=(
            "the algorithm (default: xgboost); auto: a small fixed search on the "
            "training rows (ChurnClassifier(model='auto'))"
        ),
    )
    _model_file(train, False, "model file to write (default: model.ckm)")
    train.add_argument("--out", dest="model", help=argparse.SUPPRESS)  # old name
    train.add_argument("--seed", type=int, default=0, help="random seed")

    score = sub.add_parser(
        "score",
        parents=[common],
        help="score current accounts with a saved model",
        description="Probability, risk tier, value at risk and top 3 reasons per "
        "account, keyed by customer_id and cutoff_time.",
        epilog=EPILOG,
    )
    _model_file(score)
    _add_data(score)
    _add_label(score, horizon_default=None)
    _missing_table(score)
    score.add_argument("--at", type=date, help="scoring date " + AT_DEFAULT)
    _value_option(score)
    score.add_argument("--out", default="scores.csv", help=".csv or .parquet output")
    score.add_argument(
        "--raw-names",
        action="store_true",
        help="driver_1..3 as column names, not display names",
    )

    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="one account's churn drivers",
        description="Reasons and a waterfall for one account.",
        epilog=EPILOG,
    )
    _model_file(explain)
    _add_data(explain)
    _add_label(explain, horizon_default=None)
    _missing_table(explain)
    explain.add_argument("--customer", required=True, help="the customer id")
    explain.add_argument("--at", type=date, help="date " + AT_DEFAULT)
    explain.add_argument("--plot", metavar="PNG", help="also write a waterfall plot")
    explain.add_argument(
        "--raw-names", action="store_true", help="column names instead of display names"
    )

    report = sub.add_parser(
        "report",
        parents=[common],
        help="write the HTML churn report",
        description="One self-contained HTML file: headline KPIs, trends, "
        "cohorts, churn by attribute, and with --model the risk of today's "
        "accounts and the model's quality.",
        epilog=EPILOG,
    )
    _model_file(
        report, False, "a model from `train` (adds the risk and model sections)"
    )
    _add_data(report)
    _add_label(report, horizon_default=None)
    _missing_table(report)
    report.add_argument(
        "--freq", default="MS", type=frequency, help="KPI period (default: MS)"
    )
    report.add_argument(
        "--by",
        action="append",
        metavar="COLUMN",
        help="customer attribute to break churn down by "
        "(repeatable; default: every low-cardinality one)",
    )
    report.add_argument("--at", type=date, help="scoring date " + AT_DEFAULT)
    report.add_argument("--top", type=int, default=50, help="accounts in the call list")
    report.add_argument("--title", default="Churn report", help="the report's title")
    report.add_argument(
        "--currency",
        default="$",
        metavar="SIGN",
        help="the sign money is shown with, e.g. '£' or 'EUR ' (default: $)",
    )
    _value_option(report)
    report.add_argument("--out", default="churn-report.html", help="HTML file")
    return parser


def _value_option(parser) -> None:
    parser.add_argument(
        "--value",
        metavar="COLUMN",
        default=None,
        help="a numeric column of the customers table holding each account's "
        "value (a balance, an ARR) for the call list and value at risk "
        "(default: 12 x MRR, else what was paid in the past 365 days, else 1)",
    )

"""The ``churnkit`` command line, for a data team running churn in production.

argparse over the public API, with no modelling logic of its own::

    churnkit --version
    churnkit events build --config churnkit.toml --out store/    # once per extract
    churnkit train  --events store/ --model-type xgboost --model model.ckm
    churnkit score  --events store/ --model model.ckm --out scores.parquet
    churnkit explain --events store/ --model model.ckm --customer C-00042
    churnkit report --events store/ --model model.ckm --out report.html
    churnkit demo

One meaning per flag: ``--model`` is always a model file (written by
``train``, read by the others), ``--model-type`` the algorithm. ``--events``
takes a store saved by ``churnkit events build`` (loaded in a fraction of a
second instead of re-reading the raw files), a folder of table files
(``customers.csv``, ``usage.parquet``...) or a TOML config; the table flags
(``--customers``, ``--usage``...) and ``--map TABLE.COL=NAME`` still work.

A business without cancellations labels churn as inactivity: ``--label
inactivity --inactivity-days 90``.

Warnings never fail a command: they are collected while it runs and
summarised at the end (class, message, count) on stderr. Exit status: 0
success, 1 an error in the data or its use (one line naming the fix; ``--debug``
shows the traceback), 2 bad arguments (argparse). ``--quiet`` prints only
errors and the warnings summary.
"""

from __future__ import annotations

import re
import sys
import warnings

from churnkit._memory import set_memory_tuning
from churnkit.cli._parser import build_parser
from churnkit.exceptions import ChurnkitError

__all__ = ["main", "build_parser"]

OK, DATA_ERROR, USAGE_ERROR = 0, 1, 2


def _summary(caught, out) -> None:
    """Warnings grouped by class and message (numbers aside: "26 rows" and "32
    rows" are one group), with counts, most frequent first."""
    if not caught:
        return
    groups: dict = {}
    for w in caught:
        message = for_the_command_line(str(w.message).strip())
        key = (w.category.__name__, re.sub(r"\d[\d,.]*", "#", message))
        count, first = groups.get(key, (0, message))
        groups[key] = (count + 1, first)
    print(f"\n{len(caught)} warning(s), {len(groups)} distinct:", file=out)
    for (category, pattern), (n, message) in sorted(
        groups.items(), key=lambda kv: -kv[1][0]
    ):
        example = " (e.g.)" if n > 1 and message != pattern else ""
        print(f"  {n:>4} x {category}{example}: {message}", file=out)


def _run(args, say) -> int:
    from churnkit.cli import _data, _score, _train

    if args.command == "demo":
        from churnkit.demo import run_demo

        run_demo(
            args.customers,
            random_state=args.seed,
            out=args.out,
            progress=not args.quiet,
        )
        return OK
    if args.command == "events":
        return _data.events_build(args, say)
    if getattr(args, "label", None) == "contractual":
        args.label = "churn"
    events = _data.load_events(args, say)
    if args.command == "train":
        say(repr(events))
        args.label = args.label or "churn"
        args.activity_table = args.activity_table or "usage"
        if args.activity_kinds:
            args.activity_table = (args.activity_table, tuple(args.activity_kinds))
        return _train.train(args, events, say)
    return getattr(_score, args.command)(args, events, say)


def _map_spelling(match) -> str:
    """A `columns` mapping of absent columns, as the --map options given."""
    table, present = match.group(1), match.group(3)
    sources = re.findall(r"'([^']*)'", match.group(2))
    maps = " ".join(f"--map {table}.{source}=..." for source in sources)
    lacks = "names a column" if len(sources) == 1 else "name columns"
    return (
        f"Table '{table}': {maps} {lacks} the table lacks. Columns present: "
        f"{present}; rename one of those with --map {table}.COLUMN=NAME (in a "
        f'--config file: COLUMN = "NAME" under [columns.{table}]).'
    )


# the Python fixes that library errors name, as the command line spells them
_CLI_SPELLING = (
    (
        re.compile(r"`?columns=\{'(\w+)': \{((?:'[^']+': '[^']+'(?:, )?)+)\}\}`?"),
        lambda m: (
            "`"
            + " ".join(
                f"--map {m.group(1)}.{old}={new}"
                for old, new in re.findall(r"'([^']+)': '([^']+)'", m.group(2))
            )
            + "`"
        ),
    ),
    (
        re.compile(r"`(errors|unknown_customers)='drop'`"),
        r'`\1 = "drop"` under [events] in a --config file',
    ),
    (re.compile(r"; see `labels\.attrs\['excluded'\]`"), ""),
    (
        re.compile(r"map yours with `columns=\{'(\w+)': \{\.\.\.\}\}`"),
        r"map yours with `--map \1.YOUR_COLUMN=mrr`",
    ),
    (
        re.compile(r" Pass `test=` \(later labelled rows\) for honest figures\."),
        " Save the model with `churnkit train` to show its forward validation.",
    ),
    (re.compile(r"`table`='([^']+)'"), r"`--activity-table \1`"),
    (re.compile(r"Pass `table=` naming"), "Pass `--activity-table` naming"),
    (re.compile(r"`by`: "), "`--by`: "),
    (
        re.compile(
            r"`ck\.Events\(\.\.\., observed_until='([^']+)'\)` or "
            r"`events\.with_observed_until\('[^']+'\)`"
        ),
        r"`--observed-until \1` (events build)",
    ),
    (
        re.compile(r"ck\.make_cutoffs\(events, at=\.\.\.\) lists them"),
        "the default --at scores those active at the end of the data",
    ),
    (
        re.compile(
            r"Fit on more rows, or pass calibration=None to silence this "
            r"warning\."
        ),
        "Train on more cutoffs to calibrate it: an earlier --start where the "
        "data allow, or more frequent ones (--freq W-MON).",
    ),
    # a table the model used and the data lack: add it, or --missing-table
    (
        re.compile(
            r"Add the '(\w+)' table to the extract, or score without it on "
            r"purpose with ck\.set_events\(model, events, "
            r"missing_tables=\('\w+',\)\): its features then become missing "
            r"\(NaN\) and a warning names them\."
        ),
        r"Add the '\1' table to the data (--\1 FILE; a saved store: `churnkit "
        r"events build` it again with the table), or score without it on "
        r"purpose with --missing-table \1: its features then become missing "
        r"(NaN) and a warning names them.",
    ),
    (
        re.compile(r"\(or a `mapping=` that renames them\), or refit\."),
        "(or --map TABLE.YOUR_COLUMN=NAME options that rename them), or retrain "
        "the model (`churnkit train`).",
    ),
    (
        re.compile(
            r"Table '(\w+)': `columns` maps \[([^\]]*)\] but the table has no "
            r"such column\. Columns present: (\[[^\]]*\])\."
        ),
        _map_spelling,
    ),
    (
        re.compile(r"`columns` names unknown table\(s\) (\[[^\]]*\]); tables are"),
        r"--map names unknown table(s) \1 (--map TABLE.COLUMN=NAME); tables are",
    ),
    # the options of dates and durations, as the library names its parameters
    (
        re.compile(r"`(at|horizon|gap|freq|observed_until)`"),
        lambda m: "--" + m.group(1).replace("_", "-"),
    ),
    (
        re.compile(r"Pass a string such as '2024-01-01' or a pandas\.Timestamp\."),
        "Write it as 2024-01-01.",
    ),
    (re.compile(r"leave it out \(None\) instead"), "leave the option out instead"),
    (re.compile(r"pass `noticed='exclude'`"), "pass --noticed exclude to train"),
)


_TABLE = re.compile(r"Table '(\w+)'")
_EPOCH = re.compile(r"`df\['([^']+)'\] = pd\.to_datetime\(df\['\1'\], unit='(\w+)'\)`")
_YMD = re.compile(
    r"`df\['([^']+)'\] = pd\.to_datetime\(df\['\1'\]\.astype\('Int64'\)"
    r"\.astype\('string'\), format='%Y%m%d'\)`"
)
#: make_cutoffs' and the KPIs' `start` and `end`, which subscriptions' columns share
_START_END = re.compile(r"`(start|end)`")


def for_the_command_line(message: str) -> str:
    """``message`` with its Python fixes spelled as command-line options."""
    for pattern, spelling in _CLI_SPELLING:
        message = pattern.sub(spelling, message)
    table = _TABLE.search(message)
    if table:  # the library's conversion of numbers to times, as --epoch
        message = _EPOCH.sub(lambda m: f"`--epoch {table[1]}.{m[1]}={m[2]}`", message)
        message = _YMD.sub(lambda m: f"`--epoch {table[1]}.{m[1]}=YYYYMMDD`", message)
    if "subscription" not in message:  # there, `start` and `end` are columns
        message = _START_END.sub(lambda m: "--" + m.group(1), message)
    return message


def main(argv=None) -> int:
    """Run ``churnkit`` with ``argv`` (default: the command line); return the
    exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.quiet = bool(getattr(args, "quiet", False))
    args.debug = bool(getattr(args, "debug", False))
    if args.command == "train" and args.model in ("xgboost", "logistic", "auto"):
        parser.error(
            f"--model is the model file to write; for the algorithm use "
            f"--model-type {args.model}"
        )
    if args.command == "train" and args.model is None:
        args.model = "model.ckm"

    def say(text="") -> None:
        if not args.quiet:
            print(text, flush=True)

    status = OK
    # a command runs churnkit alone in its process: the allocator tuning that
    # library calls leave off is safe here (restored for in-process callers)
    tuning = set_memory_tuning(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = _run(args, say)
        except (ChurnkitError, FileNotFoundError, ValueError, OSError) as exc:
            if args.debug:
                raise
            message = for_the_command_line(str(exc))
            # as argparse names it: "churnkit events build", "churnkit train"
            command = " ".join(
                filter(None, (args.command, getattr(args, "action", None)))
            )
            print(f"churnkit {command}: error: {message}", file=sys.stderr)
            status = DATA_ERROR
        finally:
            set_memory_tuning(tuning)
    _summary(caught, sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())

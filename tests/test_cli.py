"""The command line: train -> score -> explain on files, and clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

import churnkit as ck
from churnkit.cli import main


@pytest.fixture(scope="module")
def tables(tmp_path_factory, saas):
    folder = tmp_path_factory.mktemp("tables")
    data = saas  # make_saas_events(n_customers=300, random_state=0)
    paths = {}
    for name in ("customers", "usage", "billing", "support", "churn"):
        frame = data[name].copy()
        if name != "customers":
            frame["customer_id"] = frame["customer_id"].astype(str)
        frame = frame.rename(columns={"customer_id": "account"})
        paths[name] = folder / f"{name}.parquet"
        frame.to_parquet(paths[name])
    return paths


def _table_args(paths):
    args = []
    for name, path in paths.items():
        args += [f"--{name}", str(path), "--map", f"{name}.account=customer_id"]
    return args


def test_train_score_explain(tables, tmp_path, capsys):
    model = tmp_path / "model.ckm"
    assert (
        main(
            [
                "train",
                *_table_args(tables),
                "--model-type",
                "logistic",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert "Validation on the latest cutoff" in capsys.readouterr().out
    scores = tmp_path / "scores.csv"
    assert (
        main(
            ["score", "--model", str(model), *_table_args(tables), "--out", str(scores)]
        )
        == 0
    )
    frame = pd.read_csv(scores)
    assert {
        "customer_id",
        "churn_probability",
        "tier",
        "value_at_risk",
        "reason_1",
    } <= set(frame.columns)
    assert frame["churn_probability"].between(0, 1).all()
    customer = frame["customer_id"].iloc[0]
    plot = tmp_path / "account.png"
    assert (
        main(
            [
                "explain",
                "--model",
                str(model),
                *_table_args(tables),
                "--customer",
                customer,
                "--plot",
                str(plot),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert customer in out and "Risk drivers" in out
    assert plot.stat().st_size > 0
    # an account with no row to explain: the error says why
    churn = pd.read_parquet(tables["churn"])
    gone = churn.sort_values("time").iloc[0]
    for who, why in [
        ("no-such-id", "'no-such-id' is not in the data; check the id"),
        (gone["account"], f"churned on {pd.Timestamp(gone['time']).date()}, before"),
    ]:
        args = ["explain", "--model", str(model), *_table_args(tables)]
        assert main([*args, "--customer", str(who)]) == 1
        assert why in capsys.readouterr().err


def test_data_errors_exit_1_without_traceback(tables, tmp_path, capsys):
    code = main(["train", "--customers", str(tmp_path / "missing.csv")])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    code = main(["train", *_table_args(tables), "--map", "usage-ts"])
    assert code == 1
    assert "TABLE.YOUR_COLUMN=CHURNKIT_COLUMN" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, error",
    [
        (
            ["train", "--start", "June"],
            "churnkit train: error: argument --start: 'June' is not a date; "
            "write it as 2024-06-01",
        ),
        (
            ["train", "--end", "9999-12-31"],
            "churnkit train: error: argument --end: '9999-12-31' is outside the "
            "dates churnkit can hold (1677-09-22 to 2262-04-11); write a date "
            "such as 2024-06-01, or leave the option out for an open end",
        ),
        (
            ["events", "build", "--observed-until", "tomorrow", "--out", "x"],
            "churnkit events build: error: argument --observed-until: 'tomorrow' "
            "is not a date; write it as 2024-06-01",
        ),
        (
            ["score", "--model", "m.ckm", "--at", "notadate"],
            "churnkit score: error: argument --at: 'notadate' is not a date; "
            "write it as 2024-06-01",
        ),
        (
            ["train", "--horizon", "xyz"],
            "churnkit train: error: argument --horizon: 'xyz' is not a duration; "
            "write a positive number and a unit, e.g. 30D (days), 12h or 1MS "
            "(one calendar month; 1M is ambiguous)",
        ),
        (
            ["train", "--gap=-3D"],
            "churnkit train: error: argument --gap: '-3D' is not a duration; "
            "write a number (0 or more) and a unit, e.g. 0D, 7D (days) or 1MS "
            "(one calendar month; 1M is ambiguous)",
        ),
        (
            ["train", "--freq", "XX"],
            "churnkit train: error: argument --freq: 'XX' is not a frequency; "
            "write a pandas offset alias, e.g. MS (month starts), W-MON "
            "(Mondays) or 7D",
        ),
        (
            ["report", "--freq", "XX"],
            "churnkit report: error: argument --freq: 'XX' is not a frequency; "
            "write a pandas offset alias, e.g. MS (month starts), W-MON "
            "(Mondays) or 7D",
        ),
    ],
)
def test_a_bad_date_duration_or_frequency_names_its_option(argv, error, capsys):
    # refused as the arguments are parsed, before any data is read
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == error


def test_library_parameters_are_spelled_as_options():
    from churnkit._time import parse_duration, to_timestamp
    from churnkit.cli import for_the_command_line
    from churnkit.exceptions import SchemaError

    def spelled(call, *args, **kwargs):
        with pytest.raises(SchemaError) as error:
            call(*args, **kwargs)
        return for_the_command_line(str(error.value))

    assert spelled(to_timestamp, "June", name="start") == (
        "--start is 'June', outside the dates churnkit can hold (1677-09-22 to "
        "2262-04-11). For an open end, such as a 9999-12-31 placeholder, leave "
        "the option out instead."
    )
    assert spelled(to_timestamp, "tomorrow", name="observed_until") == (
        "--observed-until could not be read as a date; got 'tomorrow'. Write it "
        "as 2024-01-01."
    )
    assert spelled(parse_duration, "xyz", name="horizon") == (
        "--horizon must be a duration with a unit, such as '30D' (days), '12h' "
        "or '1MS' (one calendar month); got 'xyz'."
    )
    assert spelled(to_timestamp, "notadate", name="at").startswith("--at could not")


def test_a_map_of_an_absent_column_names_the_option(tables, tmp_path, capsys):
    args = ["events", "build", *_table_args(tables), "--map", "usage.nosuch=time"]
    assert main([*args, "--out", str(tmp_path / "store")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "churnkit events build: error: Table 'usage': --map usage.nosuch=... "
        "names a column the table lacks. Columns present: ['account', 'time', "
        "'event', 'quantity']; rename one of those with --map usage.COLUMN=NAME "
        '(in a --config file: COLUMN = "NAME" under [columns.usage]).'
    )


def _small_tables(folder, usage_name="usage.csv"):
    """Three customers and their usage as CSV files in ``folder``."""
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text(
        "customer_id,signup_time\na,2024-01-01\nb,2024-01-01\nc,2024-01-02\n"
    )
    (folder / usage_name).write_text(
        "customer_id,time,event\na,2024-01-03,login\nb,2024-01-04,login\n"
    )


def test_a_folder_file_not_read_is_noted(tmp_path, capsys):
    folder = tmp_path / "data"
    _small_tables(folder, usage_name="events.csv")
    (folder / "notes.md").write_text("not data\n")
    build = ["events", "build", "--events", str(folder)]
    assert main([*build, "--out", str(tmp_path / "s1")]) == 0
    assert (
        f"1 x ChurnkitWarning: --events {str(folder)!r}: not read: events.csv. "
        "A folder's tables are found by file name: customers, usage, billing, "
        "support, churn, subscriptions, each with .parquet, .csv, .csv.gz, .tsv, "
        ".txt. Rename a file to its table (e.g. usage.csv) or pass it with its "
        "table's option (e.g. --usage FILE)."
    ) in capsys.readouterr().err
    # given by its flag, the file is read: nothing to note
    usage = ["--usage", str(folder / "events.csv")]
    assert main([*build, *usage, "--out", str(tmp_path / "s2"), "-q"]) == 0
    assert "not read" not in capsys.readouterr().err


def test_a_missing_config_table_names_the_config_key(tmp_path, capsys):
    _small_tables(tmp_path)
    config = tmp_path / "churnkit.toml"
    config.write_text(
        '[tables]\ncustomers = "customers.csv"\nusage = "usage_export.csv"\n'
    )
    missing = str(tmp_path / "usage_export.csv")
    for flag in ("--events", "--config"):
        assert main(["score", "--model", "m.ckm", flag, str(config)]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"churnkit score: error: {flag} {config}: [tables] usage = "
            f"'usage_export.csv' does not exist (looked for {missing!r}; the "
            "paths of a config file are relative to it)."
        )
    # a table flag given on the command line is still named by its flag
    args = ["score", "--model", "m.ckm", "--usage", missing]
    assert main([*args, "--customers", str(tmp_path / "customers.csv")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"churnkit score: error: --usage: file {missing!r} does not exist."
    )


def test_a_config_observed_until_not_a_date_names_the_config_key(tmp_path, capsys):
    _small_tables(tmp_path)
    config = tmp_path / "churnkit.toml"
    config.write_text(
        '[tables]\ncustomers = "customers.csv"\nusage = "usage.csv"\n'
        '[events]\nobserved_until = "tomorrow"\n'
    )
    assert main(["events", "build", "--config", str(config), "--out", "x"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"churnkit events build: error: --config {config}: [events] "
        "observed_until: 'tomorrow' is not a date; write it as 2024-06-01."
    )


def test_grace_is_a_flag_of_events_build(tmp_path, capsys):
    # a renewal 10 days after a's month ends: a churn without a grace, no churn
    # with --grace 30D (was: only through [events] grace in a TOML config)
    (tmp_path / "subscriptions.csv").write_text(
        "customer_id,start,end\na,2024-01-01,2024-02-01\na,2024-02-11,\nb,2024-01-01,\n"
    )
    subs = ["--subscriptions", str(tmp_path / "subscriptions.csv")]
    build = ["events", "build", *subs, "--observed-until", "2024-06-01"]
    assert main([*build, "--out", str(tmp_path / "plain")]) == 0
    assert main([*build, "--grace", "30D", "--out", str(tmp_path / "grace")]) == 0
    capsys.readouterr()
    assert len(ck.Events.load(tmp_path / "plain").churns) == 1
    graced = ck.Events.load(tmp_path / "grace")
    assert (len(graced.churns), graced.grace) == (0, pd.Timedelta("30D"))
    # not a duration: argparse names the flag; a saved store keeps its grace
    with pytest.raises(SystemExit):
        main([*build, "--grace", "a month", "--out", "x"])
    assert "argument --grace: 'a month' is not a duration" in capsys.readouterr().err
    store = ["events", "build", "--events", str(tmp_path / "plain")]
    assert main([*store, "--grace", "30D", "--out", str(tmp_path / "again")]) == 1
    assert "keeps the grace it was built with (0 days" in capsys.readouterr().err

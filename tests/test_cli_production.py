"""The production CLI: --version, a saved store every command accepts, cutoff
choice, flags with one meaning, score's table, warnings summary, exit codes,
--quiet; on the built-in data (fast) and on fightchurn (skipped without it)."""

from __future__ import annotations

import argparse
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.cli import main
from churnkit.cli._train import labels_of
from churnkit.reporting._risk import scoring_rows

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FIGHTCHURN = DATASETS / "fightchurn_socialnet7_sim"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, saas):
    """The built-in tables as files named by table, a saved store, a model."""
    root = tmp_path_factory.mktemp("cli")
    tables = root / "tables"
    tables.mkdir()
    for name in ("customers", "usage", "billing", "support", "churn"):
        saas[name].to_parquet(tables / f"{name}.parquet")
    store = root / "store"
    until = str(saas["end"].date())  # the raw files do not say where the data ends
    build = ["events", "build", "--events", str(tables), "--observed-until", until]
    assert main([*build, "--out", str(store)]) == 0
    model = root / "model.ckm"
    assert (
        main(
            [
                "train",
                "--events",
                str(store),
                "--model-type",
                "logistic",
                "--model",
                str(model),
                "--quiet",
            ]
        )
        == 0
    )
    return {"tables": tables, "store": store, "model": model, "root": root}


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"churnkit \S+\n", capsys.readouterr().out)


def test_bad_arguments_exit_2_and_data_errors_exit_1(folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--model-type", "forest"])
    assert exit_.value.code == 2
    # --model is a file everywhere; the algorithm is --model-type
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--events", str(folder["store"]), "--model", "logistic"])
    assert exit_.value.code == 2
    assert "--model-type logistic" in capsys.readouterr().err
    code = main(
        [
            "score",
            "--events",
            str(folder["store"]),
            "--model",
            str(tmp_path / "none.ckm"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["score", "--events", str(empty), "--model", str(folder["model"])]) == 1
    assert "neither a saved store" in capsys.readouterr().err


def test_saved_store_is_the_same_data(folder, saas):
    loaded = ck.Events.load(folder["store"])
    assert loaded.n_customers == saas.events.n_customers
    assert loaded.observed_until == saas.events.observed_until
    pd.testing.assert_frame_equal(loaded.summary(), saas.events.summary())


def test_train_uses_every_labelled_cutoff_and_says_so(folder, tmp_path, capsys, saas):
    model = tmp_path / "m.ckm"
    args = [
        "train",
        "--events",
        str(folder["store"]),
        "--model-type",
        "logistic",
        "--model",
        str(model),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    # data from 2024-01-01 (the events start), observed until 2025-07-01, 30D:
    # the first cutoff with 28 days of data is 2024-02-01, the last whose
    # window is observed 2025-06-01 (+30 days = 2025-07-01)
    assert "cutoffs: 17 x MS from 2024-02-01" in out
    assert "to 2025-06-01" in out
    header = ck.read_header(model)
    assert header["horizon"] == "30D"
    cutoffs = header["training_cutoffs"]
    assert pd.Timestamp(cutoffs["first"]) == pd.Timestamp("2024-02-01")
    assert pd.Timestamp(cutoffs["last"]) == pd.Timestamp("2025-06-01")
    assert cutoffs["distinct"] == 17


def test_score_table_keyed_by_customer_and_cutoff(folder, tmp_path, capsys):
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"scores{suffix}"
        args = [
            "score",
            "--events",
            str(folder["store"]),
            "--model",
            str(folder["model"]),
            "--out",
            str(out),
        ]
        assert main(args) == 0
        frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
        assert list(frame.columns[:7]) == [
            "customer_id",
            "cutoff_time",
            "churn_probability",
            "tier",
            "value",
            "value_at_risk",
            "rank",
        ]
        assert {"reason_1", "reason_2", "reason_3", "driver_1"} <= set(frame.columns)
        assert not frame.duplicated(["customer_id", "cutoff_time"]).any()
        assert frame["churn_probability"].between(0, 1).all()
        vr = frame["churn_probability"] * frame["value"]
        assert (frame["value_at_risk"] - vr).abs().max() < 1e-6
        assert frame["value_at_risk"].is_monotonic_decreasing
        # relative tiers: the top 10% of probability is high
        high = frame["tier"] == "high"
        assert abs(high.mean() - 0.10) < 0.02
    assert "tiers: high: the top 10%" in capsys.readouterr().out


def test_every_command_accepts_store_folder_and_files(folder, tmp_path, capsys, saas):
    until = ["--observed-until", str(saas["end"].date())]
    sources = [
        ["--events", str(folder["store"])],
        ["--events", str(folder["tables"]), *until],
        [
            *until,
            *(
                a
                for n in ("customers", "usage", "billing", "support", "churn")
                for a in (f"--{n}", str(folder["tables"] / f"{n}.parquet"))
            ),
        ],
    ]
    scores = []
    for i, source in enumerate(sources):
        out = tmp_path / f"s{i}.csv"
        assert (
            main(
                [
                    "score",
                    *source,
                    "--model",
                    str(folder["model"]),
                    "--out",
                    str(out),
                    "--quiet",
                ]
            )
            == 0
        )
        scores.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(scores[0], scores[1])
    pd.testing.assert_frame_equal(scores[0], scores[2])
    customer = scores[0]["customer_id"].iloc[0]
    capsys.readouterr()
    assert (
        main(
            [
                "explain",
                "--events",
                str(folder["store"]),
                "--model",
                str(folder["model"]),
                "--customer",
                customer,
            ]
        )
        == 0
    )
    assert f"{customer} at " in capsys.readouterr().out


def test_report_command(folder, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert (
        main(
            [
                "report",
                "--events",
                str(folder["store"]),
                "--model",
                str(folder["model"]),
                "--out",
                str(out),
                "--by",
                "plan",
            ]
        )
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert 'id="call-list-table"' in html and "Churn rate by plan" in html
    assert "segment" not in html.split('id="breakdown"')[1].split("</section>")[0]
    # without a model: the KPI sections only
    assert main(["report", "--events", str(folder["store"]), "--out", str(out)]) == 0
    assert 'id="risk"' not in out.read_text(encoding="utf-8")
    # money in the business's currency
    euros = ["report", "--events", str(folder["store"]), "--currency", "€"]
    assert main([*euros, "--out", str(out)]) == 0
    cards = out.read_text(encoding="utf-8").split('id="headline"')[1][:3000]
    assert "€" in cards and "$" not in cards


def test_quiet_prints_nothing_but_warnings_are_summarised(folder, tmp_path, capsys):
    def noisy(*args, **kwargs):
        for _ in range(3):
            warnings.warn("a thing worth knowing", ck.DataQualityWarning, stacklevel=1)
        for n in (26, 32):  # one group: they differ only by a number
            warnings.warn(f"{n} rows of the positive class", UserWarning, stacklevel=1)
        return 0

    import churnkit.cli._score as score_module

    original = score_module.score
    score_module.score = noisy
    try:
        code = main(
            [
                "score",
                "--events",
                str(folder["store"]),
                "--model",
                str(folder["model"]),
                "--quiet",
            ]
        )
    finally:
        score_module.score = original
    captured = capsys.readouterr()
    assert code == 0  # warnings never fail a command
    assert captured.out == ""
    assert "5 warning(s), 2 distinct" in captured.err
    assert "3 x DataQualityWarning: a thing worth knowing" in captured.err
    assert "2 x UserWarning (e.g.): 26 rows of the positive class" in captured.err


def test_inactivity_days_is_the_inactivity_horizon(folder, tmp_path, capsys):
    model = tmp_path / "m.ckm"
    args = [
        "train",
        "--events",
        str(folder["store"]),
        "--label",
        "inactivity",
        "--inactivity-days",
        "45",
        "--model-type",
        "logistic",
        "--model",
        str(model),
    ]
    assert main(args) == 0
    assert ck.read_header(model)["horizon"] == "45D"
    assert "whose 45D window is observed" in capsys.readouterr().out


def test_conflicting_horizons_and_a_start_after_the_data_are_named(
    folder, tmp_path, capsys
):
    base = ["train", "--events", str(folder["store"]), "--model", str(tmp_path / "m")]
    both = ["--label", "inactivity", "--inactivity-days", "45", "--horizon", "90D"]
    assert main([*base, *both]) == 1
    err = capsys.readouterr().err
    assert "--horizon 90D and --inactivity-days 45 both set the inactivity" in err
    # a --start after every labelled cutoff names the end it was given, and
    # not an --end the user never passed
    assert main([*base, "--start", "2031-01-01"]) == 1
    err = capsys.readouterr().err
    assert "--start 2031-01-01 is after the latest cutoff whose 30D window" in err
    assert "--end" not in err and "00:00:00" not in err


def test_an_unknown_config_key_is_a_message_not_a_traceback(tmp_path, capsys):
    config = tmp_path / "data.toml"
    config.write_text('[tables]\ncustomers = "c.csv"\n[events]\nfoo = 1\n')
    (tmp_path / "c.csv").write_text("customer_id,signup_time\na,2024-01-01\n")
    assert main(["events", "build", "--config", str(config), "--out", "x"]) == 1
    err = capsys.readouterr().err
    assert "[events] has unknown key(s) ['foo']" in err
    assert "Traceback" not in err


def test_inactivity_days_needs_the_inactivity_label(folder, tmp_path, capsys):
    model = str(tmp_path / "m.ckm")
    args = ["train", "--events", str(folder["store"]), "--inactivity-days", "45"]
    assert main([*args, "--model", model]) == 1
    err = capsys.readouterr().err
    assert "--inactivity-days 45 applies to --label inactivity" in err
    assert "--horizon 45D" in err


def test_inactivity_labels_the_customers_active_within_the_horizon():
    # b's only purchase is 200 days before the cutoff: churned already by the
    # 90-day rule, so neither labelled (train) nor scored (score)
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "time": ["2024-05-20", "2023-12-13", "2024-07-10"],
            "event": "purchase",
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["a", "b"], "signup_time": ["2023-12-01"] * 2}
    )
    events = ck.Events(customers=customers, usage=usage, observed_until="2024-12-01")
    args = argparse.Namespace(
        label="inactivity", gap="0D", activity_table="usage", inactivity_days=None
    )
    cutoffs = ck.make_cutoffs(events, at="2024-07-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = labels_of(events, cutoffs, args, "90D")
    assert labels["customer_id"].tolist() == ["a"]
    scored = scoring_rows(events, "2024-07-01", "inactivity", "usage", "90D")
    assert scored["customer_id"].tolist() == ["a"]


@pytest.mark.slow
@pytest.mark.skipif(not FIGHTCHURN.exists(), reason="shared data sets absent")
def test_fightchurn_end_to_end(tmp_path, capsys):
    f = FIGHTCHURN
    raw = [
        "--customers",
        str(f / "account.csv"),
        "--usage",
        str(f / "event.csv.gz"),
        "--subscriptions",
        str(f / "subscription.csv"),
        "--map",
        "customers.account_id=customer_id",
        "--map",
        "usage.account_id=customer_id",
        "--map",
        "usage.event_time=time",
        "--map",
        "usage.event_type=event",
        "--map",
        "subscriptions.account_id=customer_id",
        "--map",
        "subscriptions.start_date=start",
        "--map",
        "subscriptions.end_date=end",
        "--observed-until",
        "2020-07-01",
    ]
    store, model = tmp_path / "store", tmp_path / "m.ckm"
    assert main(["events", "build", *raw, "--out", str(store)]) == 0
    assert main(["train", "--events", str(store), "--model", str(model)]) == 0
    out = capsys.readouterr().out
    # five monthly cutoffs 2020-02-01 .. 2020-06-01 (the default history of
    # 90 days used to start at 2020-04-01 and lose two of them)
    assert "cutoffs: 5 x MS from 2020-02-01" in out and "to 2020-06-01" in out
    scores = tmp_path / "s.parquet"
    assert (
        main(
            [
                "score",
                "--events",
                str(store),
                "--model",
                str(model),
                "--out",
                str(scores),
            ]
        )
        == 0
    )
    assert len(pd.read_parquet(scores)) > 1000
    report = tmp_path / "r.html"
    assert (
        main(
            [
                "report",
                "--events",
                str(store),
                "--model",
                str(model),
                "--out",
                str(report),
            ]
        )
        == 0
    )
    assert "Churn rate by channel" in report.read_text(encoding="utf-8")


def test_train_auto_says_what_the_search_chose(folder, tmp_path, capsys):
    path = tmp_path / "auto.ckm"
    args = ["train", "--events", str(folder["store"]), "--model-type", "auto"]
    assert main([*args, "--model", str(path)]) == 0
    out = capsys.readouterr().out
    model = ck.load(path)
    search = model[-1].search_
    names = [c["name"] for c in search["candidates"]]
    assert search["chosen"] in names and len(names) > 1
    assert f"(auto chose {search['chosen']}, trained on all" in out
    # --model auto is a file name mistake, as for the other algorithms
    with pytest.raises(SystemExit) as exit_:
        main([*args[:3], "--model", "auto"])
    assert exit_.value.code == 2
    assert "--model-type auto" in capsys.readouterr().err


def test_python_fixes_are_spelled_as_options():
    from churnkit.cli import for_the_command_line

    message = (
        "Rename yours with `columns={'usage': {'your_name': 'time'}}`. Perhaps "
        "map 'date': columns={'usage': {'date': 'time'}}. Or: "
        "columns={'usage': {'date': 'time', 'kind': 'event'}}. Or pass "
        "`errors='drop'` or `unknown_customers='drop'`."
    )
    assert for_the_command_line(message) == (
        "Rename yours with `--map usage.your_name=time`. Perhaps map 'date': "
        "`--map usage.date=time`. Or: `--map usage.date=time --map usage.kind=event`."
        ' Or pass `errors = "drop"` under [events] in a '
        '--config file or `unknown_customers = "drop"` under [events] in a '
        "--config file."
    )


def test_warnings_quote_options_too():
    from churnkit.cli import for_the_command_line

    assert for_the_command_line(
        "label_churn excluded 3 of 4 cutoff rows (3 censored); see "
        "`labels.attrs['excluded']`. Say when, e.g. `ck.Events(..., "
        "observed_until='2020-07-31')` or `events.with_observed_until("
        "'2020-07-31')`. Fit on more rows, or pass calibration=None to silence "
        "this warning."
    ) == (
        "label_churn excluded 3 of 4 cutoff rows (3 censored). Say when, e.g. "
        "`--observed-until 2020-07-31` (events build). Train on more cutoffs to "
        "calibrate it: an earlier --start where the data allow, or more frequent "
        "ones (--freq W-MON)."
    )


def test_activity_table_and_by_are_spelled_as_options():
    from churnkit.cli import for_the_command_line

    message = (
        "`table`='billing': this Events store has no such table, so there is no "
        "activity to measure; it has ['usage']. Pass `table=` naming the table "
        "whose rows are activity. `by`: the customers table has no column ['x']."
    )
    assert for_the_command_line(message) == (
        "`--activity-table billing`: this Events store has no such table, so "
        "there is no activity to measure; it has ['usage']. Pass "
        "`--activity-table` naming the table whose rows are activity. `--by`: "
        "the customers table has no column ['x']."
    )


def test_a_file_of_another_separator_is_named(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("customer_id,signup_time\na,2024-01-01\n")
    (tmp_path / "u.csv").write_text("customer_id time event\na 2024-01-02 x\n")
    args = ["events", "build", "--customers", str(tmp_path / "c.csv")]
    assert main([*args, "--usage", str(tmp_path / "u.csv"), "--out", "x"]) == 1
    err = capsys.readouterr().err
    assert "Its header reads as one column" in err and "Perhaps" not in err
    # with --map too (it names the columns the one-column header lacks)
    (tmp_path / "v.csv").write_text("user;time;event\na;2024-01-02;x\n")
    mapped = [
        *args,
        "--usage",
        str(tmp_path / "v.csv"),
        "--map",
        "usage.user=customer_id",
    ]
    assert main([*mapped, "--out", "x"]) == 1
    assert "Its header reads as one column" in capsys.readouterr().err
    # a typo in the table of a --map is named as the option
    assert main([*args, "--map", "custmers.id=customer_id", "--out", "x"]) == 1
    assert "--map names unknown table(s) ['custmers']" in capsys.readouterr().err


def test_a_demo_too_small_to_evaluate_says_so(tmp_path, capsys):
    assert main(["demo", "--customers", "10", "--out", str(tmp_path / "d")]) == 1
    assert "needs at least 100 customers (got 10)" in capsys.readouterr().err


def _log_files(tmp_path, name, rows, until) -> list:
    """A log of ``rows`` as CSV files (customers signed up a day before their
    first row) and the command-line options that read them."""
    customers = rows.groupby("customer_id", as_index=False)["time"].min()
    customers["signup_time"] = customers.pop("time") - pd.Timedelta("1D")
    customers.to_csv(tmp_path / "customers.csv", index=False)
    rows.to_csv(tmp_path / f"{name}.csv", index=False)
    return [
        "--customers", str(tmp_path / "customers.csv"),
        f"--{name}", str(tmp_path / f"{name}.csv"), "--observed-until", until,
    ]  # fmt: skip


def test_score_defaults_to_the_label_the_model_was_trained_with(tmp_path, capsys):
    # an inactivity model scored without --label scores the customers active
    # within its horizon, as it was trained; a different --label warns
    usage = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(40) for _ in range(3)],
            "time": [
                pd.Timestamp("2024-01-05") + pd.Timedelta(days=int(d))
                for i in range(40)
                for d in (0, 5 * i, 10 * i)
            ],
            "event": "purchase",
        }
    )
    tables = _log_files(tmp_path, "usage", usage, "2025-02-15")
    model = str(tmp_path / "m.ckm")
    train = ["train", *tables, "--label", "inactivity", "--horizon", "60D"]
    assert main([*train, "--model-type", "logistic", "--model", model, "-q"]) == 0
    header = ck.read_header(model)
    assert (header["label"], header["activity_table"]) == ("inactivity", "usage")
    out = tmp_path / "s.csv"
    assert main(["score", *tables, "--model", model, "--out", str(out), "-q"]) == 0
    scored = pd.read_csv(out)
    at = pd.Timestamp("2025-02-15")
    recent = usage[(usage["time"] >= at - pd.Timedelta("60D")) & (usage["time"] < at)]
    assert set(scored["customer_id"]) == set(recent["customer_id"])
    capsys.readouterr()
    args = ["score", *tables, "--model", model, "--label", "churn", "--out", str(out)]
    assert main(args) == 0
    assert (
        "differs from the label the model was trained with" in capsys.readouterr().err
    )


def test_activity_kinds_are_trained_saved_and_scored_with(tmp_path):
    # a prepaid business: top-ups are activity, refunds are not. The model
    # keeps ("billing", ["payment"]) and score reads it back: a customer whose
    # only recent row is a refund is not scored as active
    rows = []
    for i in range(40):
        for d in (0, 5 * i, 10 * i):
            rows.append((f"c{i}", pd.Timestamp("2024-01-05") + pd.Timedelta(days=d)))
    billing = pd.DataFrame(rows, columns=["customer_id", "time"])
    billing["kind"], billing["amount"] = "payment", 10.0
    refund = {"customer_id": "c0", "time": pd.Timestamp("2025-02-01")}
    billing = pd.concat([billing, pd.DataFrame([{**refund, "kind": "refund"}])])
    tables = _log_files(tmp_path, "billing", billing, "2025-02-15")
    model = str(tmp_path / "m.ckm")
    train = ["train", *tables, "--label", "inactivity", "--horizon", "60D"]
    train += ["--activity-table", "billing", "--activity-kinds", "payment"]
    assert main([*train, "--model-type", "logistic", "--model", model, "-q"]) == 0
    header = ck.read_header(model)
    assert header["activity_table"] == ["billing", ["payment"]]
    out = tmp_path / "s.csv"
    assert main(["score", *tables, "--model", model, "--out", str(out), "-q"]) == 0
    scored = set(pd.read_csv(out)["customer_id"])
    at = pd.Timestamp("2025-02-15")
    paid = billing[(billing["kind"] == "payment") & (billing["time"] < at)]
    recent = paid[paid["time"] >= at - pd.Timedelta("60D")]
    assert scored == set(recent["customer_id"]) and "c0" not in scored


def test_a_customer_id_read_as_a_float_is_found_as_typed(tmp_path, capsys):
    # Online Retail's `Customer ID` reads as 12347.0 (the column has missing
    # ids); `--customer 12347` finds it (was: "not in the data")
    rows = [(12300.0 + i, d) for i in range(40) for d in (0, 5 * i, 10 * i)]
    usage = pd.DataFrame(rows, columns=["customer_id", "day"])
    usage["time"] = pd.Timestamp("2024-01-05") + pd.to_timedelta(usage.pop("day"), "D")
    usage["event"] = "purchase"
    tables = _log_files(tmp_path, "usage", usage, "2024-12-15")
    model = str(tmp_path / "m.ckm")
    train = ["train", *tables, "--label", "inactivity", "--horizon", "90D"]
    assert main([*train, "--model-type", "logistic", "--model", model, "-q"]) == 0
    capsys.readouterr()
    explain = ["explain", *tables, "--model", model, "--customer", "12330"]
    assert main(explain) == 0
    assert "\n12330.0 at 2024-12-15: churn probability" in capsys.readouterr().out
    assert main([*explain[:-1], "99999"]) == 1
    assert "Customer '99999' is not in the data" in capsys.readouterr().err


def test_a_table_the_model_used_and_the_data_lacks_names_cli_fixes(
    folder, tmp_path, capsys, saas
):
    # the usage export failed: the model's usage features cannot be computed
    for name in ("customers", "billing", "support", "churn"):
        (tmp_path / f"{name}.parquet").symlink_to(folder["tables"] / f"{name}.parquet")
    until = ["--observed-until", str(saas["end"].date())]
    args = ["score", "--events", str(tmp_path), *until, "--model", str(folder["model"])]
    assert main([*args, "--out", str(tmp_path / "s.csv")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "churnkit score: error: UsageFeatures was fitted with the 'usage' table, "
        "which the Events store attached now lacks (a failed export?). Scoring "
        "without it would silently change the predictions. Add the 'usage' table "
        "to the data (--usage FILE; a saved store: `churnkit events build` it "
        "again with the table), or score without it on purpose with "
        "--missing-table usage: its features then become missing (NaN) and a "
        "warning names them."
    )
    # the fix it names scores, warning about the usage features
    assert (
        main([*args, "--missing-table", "usage", "--out", str(tmp_path / "s.csv")]) == 0
    )
    err = capsys.readouterr().err
    assert "usage" in err and "missing" in err
    assert len(pd.read_csv(tmp_path / "s.csv")) > 0
    report = [
        "report",
        "--events",
        str(tmp_path),
        *until,
        "--model",
        str(folder["model"]),
    ]
    html = tmp_path / "r.html"
    assert main([*report, "--missing-table", "usage", "--out", str(html)]) == 0
    assert "Churn probability" in html.read_text(encoding="utf-8")


def test_score_and_report_take_the_value_from_a_customers_column(
    folder, tmp_path, capsys
):
    # a bank's balance or a B2B ARR kept on the customers table: the call list
    # and value at risk use it (was: no way to pass a value from the CLI)
    out = tmp_path / "s.csv"
    args = ["score", "--events", str(folder["store"]), "--model", str(folder["model"])]
    assert main([*args, "--value", "seats", "--out", str(out), "-q"]) == 0
    scored = pd.read_csv(out)
    events = ck.Events.load(folder["store"])
    seats = events.customers.set_index("customer_id")["seats"]
    np.testing.assert_array_equal(scored["value"], seats.loc[scored["customer_id"]])
    np.testing.assert_allclose(
        scored["value_at_risk"], scored["value"] * scored["churn_probability"]
    )
    capsys.readouterr()
    assert main([*args, "--value", "plan", "--out", str(out)]) == 1
    assert "value(s) of customers.plan are not numbers" in capsys.readouterr().err
    report = [
        "report",
        *args[1:],
        "--value",
        "seats",
        "--out",
        str(tmp_path / "r.html"),
    ]
    assert main([*report, "--top", "5", "-q"]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert re.search(r"the customers(&#39;|')\s+`seats`", html)


def test_a_subscriptions_end_column_is_not_spelled_as_the_end_option():
    from churnkit.cli import for_the_command_line

    # `end` there is the subscriptions' column, not train's --end cutoff option
    message = "'a' churns 2024-05-01 after it; set that subscription's `end`."
    assert for_the_command_line(message) == message
    assert for_the_command_line("`end` (2024-01-01) is before `start`.") == (
        "--end (2024-01-01) is before --start."
    )


@pytest.mark.parametrize(
    ("label", "horizon", "gap", "last"),
    [
        # churns known to 03-31 - 29 days = 03-02: March's window (to 04-01) is
        # not, though 03-02 minus a month start is 03-01
        ("churn", "1MS", "0D", "2017-02-01"),
        ("churn", "30D", "0D", "2017-01-01"),
        ("churn", "25D", "0D", "2017-02-01"),
        ("churn", "25D", "10D", "2017-01-01"),  # 02-01 + 35 days: 03-08
        # inactivity is known to observed_until: the grace is for renewals
        ("inactivity", "1MS", "0D", "2017-02-01"),
        ("inactivity", "30D", "0D", "2017-03-01"),
    ],
)
def test_train_cutoffs_end_where_the_labels_are_known(label, horizon, gap, last):
    from churnkit.cli._train import choose_cutoffs

    months = pd.date_range("2016-01-01", "2017-02-01", freq="MS")
    subs = pd.DataFrame(
        {
            "customer_id": np.repeat(["a", "b"], len(months)),
            "start": np.tile(months, 2),
            "end": np.tile(months + pd.offsets.MonthBegin(), 2),
        }
    )
    usage = pd.DataFrame(
        {"customer_id": "a", "time": pd.date_range("2016-01-02", "2017-03-30")}
    )
    events = ck.Events(
        subscriptions=subs,
        usage=usage.assign(event="login"),
        grace="29D",
        observed_until="2017-03-31",
    )
    args = argparse.Namespace(start="2016-06-01", end=None, freq="MS", gap=gap)
    args.label, args.activity_table = label, "usage"
    said = []
    cutoffs = choose_cutoffs(events, args, horizon, said.append)
    assert cutoffs["cutoff_time"].max() == pd.Timestamp(last)
    labels = labels_of(events, cutoffs, args, horizon)
    assert labels.attrs["excluded"].get("censored", 0) == 0
    assert said[0].endswith(
        f"to {last} (the latest whose {horizon} window is "
        "observed" + (" and followed by the 29-day grace)" if label == "churn" else ")")
    )


def test_scoring_defaults_to_the_end_of_the_data_with_its_last_day():
    # an extract ending 2024-06-30 22:59: scored at its midnight, the last
    # day's events were left out (42 of 375 high-tier accounts changed)
    from churnkit.cli._score import _at

    usage = pd.DataFrame(
        {"customer_id": ["a", "a"], "event": "call",
         "time": pd.to_datetime(["2024-06-01 10:00", "2024-06-30 22:59"])}
    )  # fmt: skip
    customers = pd.DataFrame({"customer_id": ["a"], "signup_time": ["2024-01-01"]})
    events = ck.Events(customers=customers, usage=usage)
    at = _at(argparse.Namespace(at=None), events)
    assert at == events.observed_until > pd.Timestamp("2024-06-30 22:59")
    features = ck.UsageFeatures(events).fit_transform(ck.make_cutoffs(events, at=at))
    assert features["usage__days_since_last"].iloc[0] < 1e-6  # the 22:59 call
    assert _at(argparse.Namespace(at="2024-06-15"), events) == pd.Timestamp(
        "2024-06-15"
    )


def test_epoch_numbers_are_read_as_times_from_the_command_line(tmp_path, capsys):
    # a Stripe export's times are UNIX seconds: the fix was Python only, in
    # churnkit's column names; --epoch converts by the file's or the mapped name
    subs = pd.DataFrame(
        {"customer": ["a", "b"], "created": [1704067200, 1704153600],
         "ended_at": [1709251200, None], "mrr": [10.0, 20.0]}
    )  # fmt: skip
    subs.to_csv(tmp_path / "subs.csv", index=False)
    build = ["events", "build", "--subscriptions", str(tmp_path / "subs.csv")]
    build += ["--map", "subscriptions.customer=customer_id"]
    build += [
        "--map",
        "subscriptions.created=start",
        "--map",
        "subscriptions.ended_at=end",
    ]
    build += ["--observed-until", "2024-06-01", "--out", str(tmp_path / "store")]
    assert main(build) == 1
    err = capsys.readouterr().err
    assert "`--epoch subscriptions.start=s`" in err
    assert (
        main(
            [
                *build,
                "--epoch",
                "subscriptions.start=s",
                "--epoch",
                "subscriptions.ended_at=s",
            ]
        )
        == 0
    )
    events = ck.Events.load(tmp_path / "store")
    assert events.churns["time"].tolist() == [pd.Timestamp("2024-03-01")]
    assert events.customers["signup_time"].min() == pd.Timestamp("2024-01-01")
    # a unit that does not fit, or a column the table lacks: named
    assert main([*build, "--epoch", "subscriptions.start=days"]) == 1
    assert "the unit is one of" in capsys.readouterr().err
    assert main([*build, "--epoch", "subscriptions.nope=s"]) == 1
    assert "has no column 'nope'" in capsys.readouterr().err


def test_epoch_keeps_a_mapped_csv_id_column_as_text(tmp_path, capsys):
    # --epoch re-read its table without the --map names: the renamed id
    # column came back int64 while every other CSV's ids are text, and the
    # build refused every billing row as belonging to no customer
    pd.DataFrame(
        {"player_id": [1, 2], "signup_time": [1704067200000, 1704153600000]}
    ).to_csv(tmp_path / "players.csv", index=False)
    pd.DataFrame(
        {"player_id": ["01", "2"], "purchase_ts": ["2024-01-05", "2024-01-06"],
         "price_usd": [0.99, 4.99], "kind": "payment"}
    ).to_csv(tmp_path / "iap.csv", index=False)  # fmt: skip
    build = ["events", "build", "--customers", str(tmp_path / "players.csv")]
    build += [
        "--billing",
        str(tmp_path / "iap.csv"),
        "--epoch",
        "customers.signup_time=ms",
    ]
    for item in ("customers.player_id=customer_id", "billing.player_id=customer_id",
                 "billing.purchase_ts=time", "billing.price_usd=amount"):  # fmt: skip
        build += ["--map", item]
    assert main([*build, "--out", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err  # '01' is no '1': one unknown row, named
    assert "1 row(s) belong to customers that are not in `customers`" in err
    assert "leading zeros" in err


def test_train_can_leave_noticed_rows_out():
    # --noticed exclude reaches label_churn (a gym's members give notice
    # months ahead: kept, the model reads the notice)
    from types import SimpleNamespace

    from churnkit.cli._parser import build_parser
    from churnkit.cli._train import labels_of

    args = build_parser().parse_args(["train", "--noticed", "exclude", "--model", "m"])
    assert args.noticed == "exclude"
    subs = pd.DataFrame(
        {"customer_id": ["a", "b"], "start": "2024-01-01",
         "end": [None, "2024-06-30"], "cancel_time": [None, "2024-04-15"]}
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-12-01")
    cutoffs = ck.make_cutoffs(events, at="2024-06-15")
    given = SimpleNamespace(label="churn", gap="0D", noticed="exclude")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = labels_of(events, cutoffs, given, "30D")
    assert labels["customer_id"].tolist() == ["a"]
    assert labels.attrs["excluded"] == {"notice given": 1}

"""The command line: train -> score -> explain on files, and clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

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


def test_data_errors_exit_1_without_traceback(tables, tmp_path, capsys):
    code = main(["train", "--customers", str(tmp_path / "missing.csv")])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    code = main(["train", *_table_args(tables), "--map", "usage-ts"])
    assert code == 1
    assert "TABLE.YOUR_COLUMN=CHURNKIT_COLUMN" in capsys.readouterr().err

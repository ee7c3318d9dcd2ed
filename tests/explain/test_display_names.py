"""Display names from describe_features in tables and the CLI; raw names on request."""

from __future__ import annotations

import pandas as pd
import pytest

import churnkit as ck
from churnkit import ChurnkitTypeError
from churnkit.cli import main


def _drivers():
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "rank": [1, 2, 1],
            "feature": ["usage__login_events_30d", "billing__mrr", "billing__mrr"],
            "display_name": ["Logins, last 30 days", "MRR", "MRR"],
            "reason": ["1 login (typical: 9)", "MRR $10 (typical: $90)", "MRR $5"],
        }
    )


RISK = pd.Series({"A": 0.6, "B": 0.3, "C": 0.1}).rename_axis("customer_id")


@pytest.mark.parametrize(
    ("display_names", "names"),
    [
        (True, ["Logins, last 30 days", "MRR", "MRR"]),
        (False, ["usage__login_events_30d", "billing__mrr", "billing__mrr"]),
    ],
)
def test_prioritize_names_the_driver_of_each_reason(display_names, names):
    with pytest.warns(ck.ChurnkitWarning, match="no drivers for 1 of 3"):
        out = ck.prioritize(
            RISK, 100.0, explanation=_drivers(), k=2, display_names=display_names
        )
    out = out.set_index("customer_id")
    assert list(out.columns[-4:]) == ["driver_1", "driver_2", "reason_1", "reason_2"]
    assert out.loc["A", ["driver_1", "driver_2"]].tolist() == names[:2]
    assert out.loc["A", "reason_2"] == "MRR $10 (typical: $90)"
    assert out.loc["B", "driver_1"] == names[2]
    assert out.loc[["B", "C"], "driver_2"].isna().all()
    assert out.loc["C", ["driver_1", "reason_1"]].isna().all()


def test_prioritize_uses_the_names_a_users_table_has():
    only_raw = _drivers().drop(columns="display_name")
    with pytest.warns(ck.ChurnkitWarning):
        out = ck.prioritize(RISK, 100.0, explanation=only_raw, k=1)
    assert out.set_index("customer_id").loc["A", "driver_1"] == (
        "usage__login_events_30d"
    )
    bare = _drivers()[["customer_id", "rank", "reason"]]
    with pytest.warns(ck.ChurnkitWarning):
        out = ck.prioritize(RISK, 100.0, explanation=bare, k=1)
    assert "driver_1" not in out and out["reason_1"].iloc[0] == "1 login (typical: 9)"


def test_prioritize_display_names_must_be_a_bool():
    with pytest.raises(ChurnkitTypeError, match="`display_names` must be True"):
        ck.prioritize(RISK, 100.0, explanation=_drivers(), display_names="yes")


def test_explanation_tables_carry_display_names(saas):
    events = saas.events
    X = ck.make_cutoffs(events, start="2024-04-01", end="2024-09-01", freq="MS")
    labels = ck.label_churn(events, X, horizon="30D")
    model = ck.make_churn_pipeline(
        events, model="logistic", calibration=None, random_state=0
    )
    model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    ex = ck.ChurnExplainer(model).explain(labels[["customer_id", "cutoff_time"]][:40])
    desc = ck.describe_features(model).set_index("feature")["display_name"]
    imp = ex.global_importance()
    assert (imp["display_name"] == imp["feature"].map(desc)).all()
    drivers = ex.top_drivers(k=3)
    assert (drivers["display_name"] == drivers["feature"].map(desc)).all()
    out = ck.prioritize(
        pd.Series(model.predict_proba(ex.data)[:, 1], index=ex.index, name="p"),
        1.0,
        explanation=ex,
    )
    named = out["driver_1"].dropna()
    assert len(named) and named.isin(set(desc)).all()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, saas):
    folder = tmp_path_factory.mktemp("display")
    args = []
    for name in ("customers", "usage", "billing", "support", "churn"):
        frame = saas[name].copy()
        frame["customer_id"] = frame["customer_id"].astype(str)
        frame.to_parquet(folder / f"{name}.parquet")
        args += [f"--{name}", str(folder / f"{name}.parquet")]
    model = folder / "model.ckm"
    train = ["train", *args, "--model-type", "logistic", "--model", str(model)]
    assert main(train) == 0
    return folder, model, args


@pytest.mark.parametrize("raw", [False, True])
def test_cli_score_and_explain_name_features(trained, tmp_path, capsys, raw):
    folder, model, args = trained
    flag = ["--raw-names"] if raw else []
    scores = tmp_path / "scores.csv"
    assert (
        main(["score", "--model", str(model), *args, "--out", str(scores), *flag]) == 0
    )
    frame = pd.read_csv(scores)
    named = frame["driver_1"].dropna()
    assert len(named)
    assert bool(named.str.contains("__").all()) == raw  # raw: group__name
    assert bool(named.str.contains("__").any()) == raw
    customer = frame.loc[frame["driver_1"].notna(), "customer_id"].iloc[0]
    capsys.readouterr()
    assert main(["explain", "--model", str(model), *args, "--customer",
                 str(customer), *flag]) == 0  # fmt: skip
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert lines and all(" pts]" in line for line in lines)
    first = frame.loc[frame["customer_id"] == customer, "driver_1"].iloc[0]
    assert f"[{first}: " in lines[0]
    assert "(typical" in lines[0]

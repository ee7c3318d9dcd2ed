#!/usr/bin/env python
"""Are the reasons a retention team reads right? Counted on three data sets.

For every explained account, the top-3 risk-raising reasons of
``ChurnExplainer(model).explain(X).top_drivers(k=3)`` are checked for:

- **contradictions**: the value is on the *safe* side of its reference by the
  feature's ``direction`` in ``describe_features`` (a risk-raising reason with
  direction "higher" whose value is below "typical", or "lower" and above);
- **value = reference**: the value and "typical" read the same at the shown
  precision ("0 events per month of tenure (typical: 0)");
- **raw floats**: a number printed with more decimals than its unit shows
  (counts and days: none; money: cents; anything: at most 2 decimals);
- **unknown/nan**: "unknown", "nan", "None", "NaT" or "inf" in a sentence;
- **present but unshown**: the account has a value, but the sentence shows
  none (a text level read as missing: "No contract recorded" for a
  month-to-month contract);
- **what-if fails**: the account's row with the reason's feature (and its
  twins, ``twins_``) set to the reference shown scores a margin that is not
  lower (``decision_function``): the reason does not hold for this model
  (MLC: "Number customer service calls: 6 (typical: 1)" with +24 points, and
  0.238 -> 0.366 with one call). Reasons at the typical level ("(most
  common)") cannot be tested and are not counted.

Target: 0 of each. Data sets:

(a) built-in: ``make_saas_events(n_customers=2000, random_state=0)``, xgboost
    pipeline on monthly cutoffs with a 30-day horizon; the latest cutoff is
    explained.
(b) fightchurn socialnet7 simulation (``../shared/datasets``, mapped as its
    README says): subscriptions give signup and churn, events are usage;
    train on monthly cutoffs 2020-02..2020-05 (1-month horizon), explain
    2020-06-01.
(c) CDNOW (real purchases): cutoff 1997-10-01, ``label_inactivity`` over 39
    weeks (273 days); half of the customers train, the other half is explained.
(d) the four static tables (IBM Telco, Churn_Modelling, MLC telecom,
    BankChurners, loaded as ``model_quality.py`` does, text columns as text):
    ``ChurnClassifier("xgboost")`` on the first 80 % of the rows, 400 of the
    rest explained.

Run::

    python benchmarks/reason_quality.py                   # all seven
    python benchmarks/reason_quality.py --datasets builtin --show 5

The reference of a reason is the ``reference`` column of ``top_drivers`` when
there is one; otherwise (older releases) the median of the explained rows,
which is what those releases printed as "typical".
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import churnkit as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import fightchurn_events as fightchurn_events_shared  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
_TYPICAL = re.compile(r"\(typical: ([^()]*)\)")
_BAD_WORDS = re.compile(r"\b(unknown|nan|none|nat|inf)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.(\d+))?")
_INTEGER_UNITS = {"events", "tickets", "days", "units", "payments"}
KEYS = ["customer_id", "cutoff_time"]


# ---------------------------------------------------------------- data sets
def builtin():
    data = ck.datasets.make_saas_events(n_customers=2000, random_state=0)
    events = data.events
    cutoffs = ck.make_cutoffs(events, start="2024-03-01", end="2025-06-01", freq="MS")
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    latest = labels["cutoff_time"].max()
    return events, labels, labels.loc[labels["cutoff_time"] == latest]


def fightchurn():
    events = fightchurn_events_shared()
    if events is None:
        return None
    cutoffs = ck.make_cutoffs(events, start="2020-02-01", end="2020-05-01")
    labels = ck.label_churn(events, cutoffs, horizon="1MS")
    return events, labels, ck.make_cutoffs(events, at="2020-06-01")


def cdnow():
    path = DATASETS / "cdnow" / "CDNOW_master.txt"
    if not path.exists():
        return None
    tx = pd.read_csv(
        path,
        sep=r"\s+",
        skiprows=1,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
    )
    tx["time"] = pd.to_datetime(tx["date"].astype(str), format="%Y%m%d")
    first = tx.groupby("customer_id")["time"].min()
    customers = pd.DataFrame(
        {"customer_id": first.index, "signup_time": first.values - pd.Timedelta("1s")}
    )
    usage = tx.assign(event="purchase", quantity=tx["number_of_cds"])[
        ["customer_id", "time", "event", "quantity"]
    ]
    billing = tx.assign(kind="payment", amount=tx["dollar_value"])[
        ["customer_id", "time", "kind", "amount"]
    ]
    events = ck.Events(
        customers=customers, usage=usage, billing=billing, observed_until="1998-07-01"
    )
    X = ck.make_cutoffs(events, at="1997-10-01")
    labels = ck.label_inactivity(events, X, horizon="273D")
    rng = np.random.default_rng(0)
    train = rng.random(len(labels)) < 0.5
    return events, labels.loc[train], labels.loc[~train]


LOADERS = {"builtin": builtin, "fightchurn": fightchurn, "cdnow": cdnow}
STATIC = {
    "telco": "load_telco",
    "bank": "load_bank",
    "mlc": "load_mlc",
    "churners": "load_bank_churners",
}


def static(name):
    """(X_train, y_train, X_explain) of a static table, None when absent."""
    import model_quality

    try:
        X, y = getattr(model_quality, STATIC[name])()
    except FileNotFoundError:
        return None
    n = int(0.8 * len(X))
    return X.iloc[:n], np.asarray(y)[:n], X.iloc[n : n + 400]


# ---------------------------------------------------------------- checks
def _shown(template, sentence):
    """(value text, typical text) read from ``sentence`` by its template, or None."""
    if not isinstance(template, str) or not template:
        return None
    parts = re.split(r"(\{(?:value|typical)(?:![rsa])?(?::[^{}]*)?\})", template)
    pattern = ""
    seen = set()
    for part in parts:
        field = re.match(r"\{(value|typical)", part)
        if field and field.group(1) not in seen:
            seen.add(field.group(1))
            pattern += f"(?P<{field.group(1)}>.+?)"
        elif field:
            pattern += ".+?"
        else:
            pattern += re.escape(part)
    match = re.fullmatch(pattern, sentence, flags=re.IGNORECASE)
    if not match or "value" not in seen:
        return None
    return match.group("value"), match.groupdict().get("typical")


def _raw_float(sentence, unit):
    for match in _NUMBER.finditer(sentence):
        decimals = match.group(1)
        if decimals and (len(decimals) > 2 or unit in _INTEGER_UNITS):
            return True
    return False


def check(model, explain_rows, *, k=3, keys=True):
    """Top-k reasons of ``explain_rows`` and the five counts.

    ``keys``: explain the rows' ``customer_id`` and ``cutoff_time`` (a churn
    pipeline), else the rows as given (a classifier on a static table).
    """
    rows = explain_rows[["customer_id", "cutoff_time"]] if keys else explain_rows
    explanation = ck.ChurnExplainer(model).explain(rows)
    drivers = explanation.top_drivers(k=k)
    try:
        desc = ck.describe_features(model).set_index("feature")
    except (ck.ChurnkitError, AttributeError, TypeError):  # no builder
        desc = pd.DataFrame(columns=["direction", "unit", "template"])
    feature = drivers["feature"]
    direction = feature.map(desc["direction"]).fillna("either")
    # a direction the fit found contradicted is not held (explained as "either")
    released = getattr(
        getattr(model, "steps", [[None, model]])[-1][1], "monotone_released_", None
    )
    direction = direction.mask(feature.isin(list(released or ())), "either")
    unit = feature.map(desc["unit"]).fillna("")
    template = feature.map(desc["template"]).fillna("")
    if "reference" in drivers:
        reference = drivers["reference"]
    else:  # older releases: the median (mode) of the explained rows
        data = explanation.data
        typical = {}
        for name in feature.unique():
            col = data[name]
            if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
                typical[name] = np.nan
            else:
                typical[name] = float(np.nanmedian(col.to_numpy(dtype="float64")))
        reference = feature.map(typical)
    value = pd.to_numeric(drivers["value"], errors="coerce").to_numpy(dtype="float64")
    ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype="float64")
    sign = np.sign(drivers["contribution"].to_numpy(dtype="float64"))
    sentences = drivers["reason"].astype(str)
    has_typical = sentences.str.contains(_TYPICAL)
    known = ~np.isnan(value) & ~np.isnan(ref) & has_typical.to_numpy()
    higher = direction.eq("higher").to_numpy()
    lower = direction.eq("lower").to_numpy()
    contradiction = known & (
        (higher & (sign * (value - ref) < 0)) | (lower & (sign * (value - ref) > 0))
    )
    equal = np.zeros(len(drivers), dtype=bool)
    for i, (tmpl, sentence, name) in enumerate(
        zip(template, sentences, feature, strict=True)
    ):
        generic = f"Value of {name}: {{value}} (typical: {{typical}})"
        shown = _shown(tmpl or generic, sentence) or _shown(generic, sentence)
        if shown and shown[1] is not None:
            equal[i] = shown[0].strip().lower() == shown[1].strip().lower()
    raw = np.array(
        [_raw_float(s, u) for s, u in zip(sentences, unit, strict=True)], dtype=bool
    )
    bad = sentences.str.contains(_BAD_WORDS).to_numpy()
    present = drivers["value"].notna().to_numpy()
    unshown = present & drivers["value_text"].astype(str).eq("").to_numpy()
    drivers = drivers.assign(
        whatif_fails=_whatif_fails(model, explanation, drivers),
        contradiction=contradiction,
        equal=equal,
        raw_float=raw,
        unknown=bad,
        unshown=unshown,
    )
    return explanation, drivers


def _whatif_fails(model, explanation, drivers):
    """Which reasons the model does not bear out (see the module docstring)."""
    clf = model.steps[-1][1] if hasattr(model, "steps") else model
    index = explanation.index
    if isinstance(index, pd.MultiIndex):
        keys = pd.MultiIndex.from_frame(drivers[list(index.names)])
    else:
        keys = pd.Index(drivers["customer_id"])
    pos = index.get_indexer(keys)
    data = explanation.data
    before = data.iloc[pos].reset_index(drop=True)
    after = before.copy()
    reference = explanation.reference.iloc[pos].reset_index(drop=True)
    twins = {f: g for g in getattr(clf, "twins_", None) or () for f in g}
    feature = drivers["feature"].to_numpy()
    testable = ~drivers["reason"].str.endswith("(most common)").to_numpy()
    for name in np.unique(feature):
        at = np.flatnonzero((feature == name) & testable)
        for member in twins.get(name, [name]):
            column = after[member]
            if isinstance(column.dtype, pd.CategoricalDtype):
                cells = column.astype(object).to_numpy().copy()
                cells[at] = reference[member].to_numpy()[at]
                after[member] = pd.Categorical(cells, dtype=column.dtype)
            elif pd.api.types.is_numeric_dtype(column.dtype):
                cells = column.to_numpy(dtype="float64", na_value=np.nan).copy()
                cells[at] = pd.to_numeric(reference[member].iloc[at]).to_numpy()
                after[member] = cells
            else:
                cells = column.to_numpy(dtype=object).copy()
                cells[at] = reference[member].to_numpy()[at]
                after[member] = cells
    columns = [list(data.columns).index(f) for f in feature]
    shown = reference.to_numpy()[np.arange(len(feature)), columns]
    known = testable & pd.notna(shown)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        margin = clf.decision_function(pd.concat([before, after], ignore_index=True))
    before_m, after_m = margin[: len(before)], margin[len(before) :]
    sign = np.sign(drivers["contribution"].to_numpy(dtype="float64"))
    return known & (sign * (before_m - after_m) <= 0)


def run(name, *, show=0):
    loaded = static(name) if name in STATIC else LOADERS[name]()
    if loaded is None:
        print(f"{name}: data not available under {DATASETS}; skipped")
        return None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name in STATIC:
            X, y, explain_rows = loaded
            model = ck.ChurnClassifier("xgboost", random_state=0).fit(X, y)
            explanation, drivers = check(model, explain_rows, keys=False)
        else:
            events, train, explain_rows = loaded
            model = ck.make_churn_pipeline(events, model="xgboost", random_state=0)
            model.fit(train[["customer_id", "cutoff_time"]], train["churned"])
            explanation, drivers = check(model, explain_rows)
    n_accounts = len(explanation)
    row = {
        "data": name,
        "accounts": n_accounts,
        "reasons": len(drivers),
        "no_driver_accounts": n_accounts
        - drivers[[c for c in KEYS if c in drivers]].drop_duplicates().shape[0],
        "contradictions": int(drivers["contradiction"].sum()),
        "value=reference": int(drivers["equal"].sum()),
        "raw_floats": int(drivers["raw_float"].sum()),
        "unknown/nan": int(drivers["unknown"].sum()),
        "present_unshown": int(drivers["unshown"].sum()),
        "whatif_fails": int(drivers["whatif_fails"].sum()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if show:
        checks = ("contradiction", "equal", "raw_float", "unknown", "unshown")
        for col in (*checks, "whatif_fails"):
            bad = drivers.loc[drivers[col], ["customer_id", "feature", "reason"]]
            for _, r in bad.head(show).iterrows():
                print(f"  [{col}] {r['customer_id']} {r['feature']}: {r['reason']}")
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=[*LOADERS, *STATIC])
    parser.add_argument("--show", type=int, default=0, help="examples per check")
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        row = run(name, show=args.show)
        if row is not None:
            rows.append(row)
            print(row, flush=True)
    if rows:
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

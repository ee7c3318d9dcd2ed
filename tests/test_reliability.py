"""Reliability: a catalogue of bad inputs and the accounting of every input row.

Part 1 is the catalogue of ``docs/reliability.md``: one test (or one parameter
of a test) per bad input, asserting the error type and message, or what churnkit
does with the input when it is not an error. Cases that single-table tests in
``tests/test_events.py`` (and the module tests) already cover are referenced by
name in the catalogue instead of repeated here.

Part 2 is row accounting: with ``errors="drop"`` every event row is either used
or counted, once, under the first of its defects in the documented order.
"""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

import churnkit as ck
from churnkit import ChurnkitTypeError, ChurnkitWarning, NotFittedError, SchemaError

T = pd.Timestamp("2024-03-01")


def _customers(ids=("a", "b", "c"), signups=("2024-01-01", "2024-01-05", "2024-01-10")):
    return pd.DataFrame({"customer_id": list(ids), "signup_time": list(signups)})


def _usage(ids=("a", "b", "c", "a"), times=None, **extra):
    times = times or ("2024-02-01", "2024-02-02", "2024-02-03", "2024-02-20")
    df = pd.DataFrame({"customer_id": list(ids), "time": list(times), "event": "login"})
    for col, values in extra.items():
        df[col] = values
    return df


def _events(**tables):
    tables.setdefault("customers", _customers())
    return ck.Events(**tables)


def _X(ids=("a", "b", "c"), cutoff=T):
    return pd.DataFrame(
        {"customer_id": list(ids), "cutoff_time": pd.to_datetime([cutoff] * len(ids))}
    )


def _static(n=300, seed=0):
    """A user's own feature table: one number, one category; and its labels."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"a": rng.normal(size=n), "plan": rng.choice(["basic", "pro"], size=n)}
    )
    y = (X["a"] + rng.normal(size=n) > 1).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted(fitted_logistic, labelled):
    """The session's logistic churn pipeline (conftest), and its X, y.

    Shared: tests copy.deepcopy() it before refitting or attaching events.
    """
    X, y = labelled
    return fitted_logistic, X, y


def _extract(saas, **changes):
    """The synthetic business's tables, some replaced, as a new Events store."""
    tables = {k: saas[k] for k in ("customers", "usage", "billing", "support", "churn")}
    tables.update(changes)
    return ck.Events(**tables)


# ===================================================================== part 1
# ------------------------------------------------------- tables and columns
def test_misnamed_id_column_names_the_table_and_suggests_a_mapping():
    usage = _usage().rename(columns={"customer_id": "user_id"})
    with pytest.raises(
        SchemaError,
        match=r"Table 'usage' is missing required column\(s\) \['customer_id'\]\. "
        r"Columns present: \['user_id', 'time', 'event'\]\. Rename yours with "
        r"`columns=\{'usage': \{'your_name': 'customer_id'\}\}`",
    ):
        _events(usage=usage)


def test_float_ids_against_text_ids_say_which_types_differ():
    usage = _usage(ids=(1.0, 2.0, 3.0, 1.0))
    with pytest.raises(
        SchemaError,
        match=r"(?s)Table 'usage': 4 row\(s\) belong to customers that are not in "
        r"`customers`.*The ids are float64 here but \w+ in customers: convert",
    ):
        _events(usage=usage)


# ------------------------------------------------------------------ times
@pytest.mark.parametrize(
    ("table", "column"),
    [("usage", "time"), ("customers", "signup_time")],
)
def test_numbers_mixed_with_text_timestamps_are_an_error(table, column):
    # pandas would read the int 19970101 of an object column as nanoseconds
    tables = {"customers": _customers()}
    if table == "customers":
        tables["customers"] = _customers(signups=(19970101, "2024-01-05", "2024-01-10"))
    else:
        tables["usage"] = _usage(
            times=(19970101, "2024-02-02", "2024-02-03", "2024-02-20")
        )
    with pytest.raises(
        SchemaError,
        match=rf"Table '{table}', column '{column}': 1 timestamp\(s\) are numbers "
        r"\(e\.g\. \[19970101\]\)\. Numbers are ambiguous: 19970101 would be read "
        r"as nanoseconds since 1970\. Parse them first",
    ):
        ck.Events(**tables)


def test_timezone_aware_mixed_with_naive_closed_times():
    support = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "time": ["2024-02-01", "2024-02-02"],
            "closed_time": ["2024-02-03T10:00:00+01:00", "2024-02-04"],
        }
    )
    with pytest.raises(
        SchemaError,
        match=r"Table 'support', column 'closed_time' mixes timezone-aware and naive "
        r"timestamps \(1 aware, 1 naive\)",
    ):
        _events(support=support)


def test_out_of_range_time_is_counted_once_when_dropped():
    usage = _usage(times=("2024-02-01", "3000-01-01", "1500-01-01", "2024-02-20"))
    events = _events(usage=usage, errors="drop")
    assert events.report.to_dict("records") == [
        {
            "table": "usage",
            "reason": "out-of-range time",
            "rows": 2,
            "action": "dropped",
        }
    ]
    assert len(events.frame("usage")) == 2


# ------------------------------------------------------------- numbers
def test_missing_amounts_mrr_and_csat_are_kept_as_missing():
    billing = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "time": ["2024-02-01", "2024-02-02"],
            "kind": ["payment", "invoice"],
            "amount": [np.nan, 10.0],
            "mrr": [20.0, np.nan],
        }
    )
    support = pd.DataFrame(
        {"customer_id": ["a"], "time": ["2024-02-01"], "csat": [np.nan]}
    )
    events = _events(billing=billing, support=support)
    assert events.report.empty
    frame = events.frame("billing")
    assert frame["amount"].isna().tolist() == [True, False]
    assert frame["mrr"].isna().tolist() == [False, True]
    assert events.frame("support")["csat"].isna().all()


# --------------------------------------------------------------- empty data
EMPTY = {
    "usage": pd.DataFrame({"customer_id": [], "time": [], "event": []}),
    "billing": pd.DataFrame({"customer_id": [], "time": [], "kind": [], "amount": []}),
    "support": pd.DataFrame({"customer_id": [], "time": [], "closed_time": []}),
    "churn": pd.DataFrame({"customer_id": [], "time": []}),
    "subscriptions": pd.DataFrame({"customer_id": [], "start": [], "end": []}),
}


def test_empty_tables_build_a_store():
    events = _events(**EMPTY)
    summary = events.summary()
    assert summary.loc[["usage", "billing", "support", "churn"], "rows"].eq(0).all()
    assert events.report.empty
    # no customer and no date: nothing to date the store by but the clock
    with pytest.raises(SchemaError, match="the `customers` table has no rows"):
        ck.Events(customers=_customers().iloc[:0])
    empty = ck.Events(customers=_customers().iloc[:0], observed_until="2024-06-01")
    assert empty.n_customers == 0 and repr(empty) == "Events(0 customers; empty)"


def test_an_empty_usage_table_gives_zero_counts():
    events = _events(usage=EMPTY["usage"], observed_until="2024-06-01")
    out = ck.UsageFeatures(events, windows=("30D",)).fit_transform(_X())
    assert (out["usage__events_30d"] == 0).all()
    assert (out["usage__active_days_30d"] == 0).all()
    assert out["usage__days_since_last"].isna().all()
    with pytest.warns(ChurnkitWarning, match=r"3 no activity before cutoff"):
        labels = ck.label_inactivity(events, _X(), horizon="30D")
    assert labels.empty


def test_an_empty_cutoff_table_gives_empty_results(fitted):
    model, X, _ = fitted
    empty = X.iloc[:0]
    features = model[0].transform(empty)
    assert features.shape == (0, len(model[0].get_feature_names_out()))
    assert model.predict_proba(empty).shape == (0, 2)
    assert ck.label_churn(model[0].events, empty).empty


def test_a_single_customer_flows_end_to_end():
    events = _events(
        customers=_customers(ids=("a",), signups=("2024-01-01",)),
        usage=_usage(ids=("a",) * 4),
        observed_until="2024-06-01",
    )
    cutoffs = ck.make_cutoffs(events, start="2024-02-01", end="2024-04-01")
    assert cutoffs["customer_id"].tolist() == ["a"] * 3
    labels = ck.label_churn(events, cutoffs, horizon="30D")
    assert labels["churned"].tolist() == [0, 0, 0]
    features = ck.ChurnFeatures(events).fit_transform(cutoffs)
    assert features.loc[("a", pd.Timestamp("2024-03-01")), "usage__events_30d"] == 4


# ------------------------------------------------------- no or only churners
def _business(churned):
    """Three customers with usage; ``churned`` of them cancel in March."""
    churn = pd.DataFrame(
        {"customer_id": list("abc")[:churned], "time": ["2024-03-10"] * churned}
    )
    return _events(usage=_usage(), churn=churn, observed_until="2024-06-01")


def test_no_churners_labels_all_zero_fit_raises_and_evaluate_warns():
    events = _business(churned=0)
    labels = ck.label_churn(events, _X(), horizon="30D")
    assert labels["churned"].tolist() == [0, 0, 0]
    X, _ = _static()
    with pytest.raises(
        SchemaError,
        match=r"y contains only one class \(0\); the classifier needs rows of both "
        r"classes \(churned and not churned\)\. With labels from ck\.label_churn, use "
        r"more or later cutoffs, or a longer `horizon`",
    ):
        ck.ChurnClassifier("logistic").fit(X, np.zeros(len(X), dtype=int))
    with pytest.warns(ChurnkitWarning, match=r"`y_true` has no churners \(all 0\)"):
        scores = ck.evaluate(labels["churned"], [0.1, 0.2, 0.3])
    assert np.isnan(scores["roc_auc"])


def test_every_customer_churned_labels_all_one_fit_raises_and_evaluate_warns(fitted):
    events = _business(churned=3)
    labels = ck.label_churn(events, _X(), horizon="30D")
    assert labels["churned"].tolist() == [1, 1, 1]
    model, X, _ = fitted
    with pytest.raises(SchemaError, match=r"y contains only one class \(1\)"):
        copy.deepcopy(model).fit(X, np.ones(len(X), dtype=int))
    with pytest.warns(ChurnkitWarning, match=r"`y_true` has only churners \(all 1\)"):
        ck.evaluate(labels["churned"], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------- cutoffs
def test_cutoffs_after_the_end_of_the_data_are_scored_but_never_labelled(fitted):
    events = _business(churned=0)
    cutoffs = ck.make_cutoffs(events, at="2030-01-01")
    assert cutoffs["customer_id"].tolist() == ["a", "b", "c"]
    with pytest.warns(
        ChurnkitWarning,
        match=r"label_churn excluded 3 of 3 cutoff rows \(3 censored\)",
    ):
        assert ck.label_churn(events, cutoffs, horizon="30D").empty
    model, X, _ = fitted
    late = X.drop_duplicates("customer_id").assign(
        cutoff_time=pd.Timestamp("2030-01-01")
    )
    assert np.isfinite(model.predict_proba(late)).all()


def test_y_is_matched_to_X_by_position_like_scikit_learn():
    X, y = _static()
    # the same seed: the hold-out that chooses C is drawn at random here
    model = ck.ChurnClassifier("logistic", calibration=None, random_state=0)
    by_position = clone(model).fit(X, y.values)
    shifted = clone(model).fit(X, y.set_axis(y.index + 1000))
    np.testing.assert_array_equal(
        by_position.predict_proba(X), shifted.predict_proba(X)
    )


# --------------------------------------------------------- scoring new data
def test_a_new_plan_at_scoring_becomes_missing_and_still_scores(saas, fitted):
    model, X, _ = fitted
    customers = saas.customers.astype({"plan": object})
    customers.loc[customers.index[:50], "plan"] = "enterprise-plus"
    scored = ck.set_events(copy.deepcopy(model), _extract(saas, customers=customers))
    features = scored[0].transform(X)
    new = X["customer_id"].isin(customers["customer_id"][:50]).to_numpy()
    assert features["profile__plan"][new].isna().all()
    assert features["profile__plan"][~new].notna().all()
    assert np.isfinite(scored.predict_proba(X)).all()


def test_text_in_a_numeric_feature_at_scoring_warns_naming_the_column():
    X, y = _static()
    model = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    with pytest.warns(
        ChurnkitWarning,
        match=r"Column `a` held numbers at fit, but 2 of 300 value\(s\) here are not "
        r"numbers \(e\.g\. 'n/a'\); they are treated as missing",
    ):
        proba = model.predict_proba(
            X.assign(a=X["a"].astype(object).where(X.index > 1, "n/a"))
        )
    assert np.isfinite(proba).all()


# -------------------------------------------- errors of the public functions
def _clf_on_static():
    X, y = _static()
    return ck.ChurnClassifier("logistic", calibration=None).fit(X, y), X


def _unfitted_pipeline(saas):
    return ck.make_churn_pipeline(saas.events)


RAISES = [
    # (id, call(saas, fitted), error, message)
    (
        "cutoff-time-numbers-in-labels",
        lambda s, f: ck.label_churn(
            _business(0), _X().assign(cutoff_time=20240301), horizon="30D"
        ),
        SchemaError,
        r"`cutoffs\['cutoff_time'\]` holds numbers \(dtype int64, e\.g\. \[20240301",
    ),
    (
        "cutoff-time-numbers-in-X",
        lambda s, f: ck.UsageFeatures(_business(0)).fit(
            _X().assign(cutoff_time=20240301)
        ),
        SchemaError,
        r"`X\['cutoff_time'\]` holds numbers \(dtype int64, e\.g\. \[20240301",
    ),
    (
        "cutoffs-before-any-data",
        lambda s, f: ck.make_cutoffs(
            _business(0), start="2020-01-01", end="2020-03-01"
        ),
        SchemaError,
        r"No customer is eligible at any cutoff \['2020-01-01', '2020-02-01', "
        r"'2020-03-01'\]: the data spans 2024-01-01",
    ),
    (
        "horizon-number",
        lambda s, f: ck.label_churn(_business(0), _X(), horizon=30),
        SchemaError,
        r"`horizon` must carry a unit, such as '30D' or '1MS'; got 30",
    ),
    (
        "horizon-negative",
        lambda s, f: ck.label_churn(_business(0), _X(), horizon="-30D"),
        SchemaError,
        r"`horizon` must be positive; got '-30D'",
    ),
    (
        "windows-one-string-in-pipeline",
        lambda s, f: ck.make_churn_pipeline(s.events, windows="30D").fit(*f[1:]),
        ChurnkitTypeError,
        r"`windows` must be a tuple of strings; got '30D'\. Did you mean \('30D',\)\?",
    ),
    (
        "windows-number",
        lambda s, f: ck.UsageFeatures(_business(0), windows=(30,)).fit(_X()),
        SchemaError,
        r"`windows` must carry a unit",
    ),
    (
        "spec-unknown-table",
        lambda s, f: ck.compute_features(
            _business(0), _X(), [ck.FeatureSpec("visits_30d", "visits", "count")]
        ),
        SchemaError,
        r"Feature 'visits_30d': `table` must be one of \['usage', 'billing', "
        r"'support', 'customers', 'subscriptions'\]; got 'visits'",
    ),
    (
        "spec-offset-without-unit",
        lambda s, f: ck.compute_features(
            _business(0),
            _X(),
            [ck.FeatureSpec("x", "usage", "count", window="30D", offset="7")],
        ),
        SchemaError,
        r"`offset` must be a duration with a unit, such as '30D'.*got '7'",
    ),
    (
        "X-without-customer_id",
        lambda s, f: ck.ChurnFeatures(s.events).fit(f[1][["cutoff_time"]]),
        SchemaError,
        r"`X` needs columns 'customer_id' and 'cutoff_time'; columns present: "
        r"\['cutoff_time'\]\. It holds one row per customer and cutoff",
    ),
    (
        "X-without-cutoff_time-at-scoring",
        lambda s, f: f[0].predict_proba(f[1][["customer_id"]]),
        SchemaError,
        r"`X` needs columns 'customer_id' and 'cutoff_time'.*columns present: "
        r"\['customer_id'\]",
    ),
    (
        "cutoffs-without-cutoff_time",
        lambda s, f: ck.label_churn(s.events, f[1][["customer_id"]]),
        SchemaError,
        r"`cutoffs` needs columns 'customer_id' and 'cutoff_time'; columns present: "
        r"\['customer_id'\]",
    ),
    (
        "y-length-mismatch-classifier",
        lambda s, f: ck.ChurnClassifier("logistic").fit(
            _static()[0], _static()[1][:200]
        ),
        SchemaError,
        r"y has 200 label\(s\) but X has 300 row\(s\): pass one label per row of X",
    ),
    (
        "y-length-mismatch-pipeline",
        lambda s, f: copy.deepcopy(f[0]).fit(f[1], f[2][:-1]),
        SchemaError,
        r"y has \d+ label\(s\) but X has \d+ row\(s\)",
    ),
    (
        "y-multiclass",
        lambda s, f: ck.ChurnClassifier("logistic").fit(
            _static()[0], np.arange(300) % 3
        ),
        SchemaError,
        r"Only binary classification is supported\. The type of the target is "
        r"multiclass",
    ),
    (
        "scoring-frame-missing-a-column",
        lambda s, f: _clf_on_static()[0].predict_proba(
            _clf_on_static()[1].drop(columns="plan")
        ),
        SchemaError,
        r"(?s)X does not have the columns of fit\..*seen at fit time, yet now "
        r"missing:\n- plan.*fitted on the columns \['a', 'plan'\]",
    ),
    (
        "scoring-frame-extra-column",
        lambda s, f: _clf_on_static()[0].predict_proba(
            _clf_on_static()[1].assign(b=1.0)
        ),
        SchemaError,
        r"(?s)X does not have the columns of fit\..*unseen at fit time:\n- b",
    ),
    (
        "scoring-extract-missing-a-customer-column",
        lambda s, f: ck.set_events(
            copy.deepcopy(f[0]), _extract(s, customers=s.customers.drop(columns="plan"))
        ).predict_proba(f[1]),
        SchemaError,
        r"ProfileFeatures was fitted on an Events store with a column the store "
        r"attached now lacks: Feature 'profile__plan': customers has no column "
        r"'plan'.*Give the new extract the same columns",
    ),
    (
        "scoring-extract-missing-a-billing-column",
        lambda s, f: ck.set_events(
            copy.deepcopy(f[0]), _extract(s, billing=s.billing.drop(columns="mrr"))
        ).predict_proba(f[1]),
        SchemaError,
        r"BillingFeatures was fitted on an Events store with a column the store "
        r"attached now lacks: Feature '[\w_]+': table 'billing' has no column 'mrr'",
    ),
    (
        "unfitted-classifier",
        lambda s, f: ck.ChurnClassifier().predict_proba(_static()[0]),
        NotFittedError,
        r"This ChurnClassifier instance is not fitted yet\. Call 'fit'",
    ),
    (
        "unfitted-explainer",
        lambda s, f: ck.ChurnExplainer(_unfitted_pipeline(s)).explain(f[1]),
        NotFittedError,
        r"not fitted yet: call `fit\(X, y\)`",
    ),
    (
        "unfitted-describe-features",
        lambda s, f: ck.describe_features(_unfitted_pipeline(s)),
        NotFittedError,
        r"This ChurnFeatures instance is not fitted yet\. Call 'fit'",
    ),
    (
        "unfitted-save",
        lambda s, f: ck.save(_unfitted_pipeline(s), "never-written.ckpt"),
        NotFittedError,
        r"This Pipeline is not fitted yet: call 'fit' before ck\.save",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [pytest.param(*case[1:], id=case[0]) for case in RAISES],
)
def test_bad_input_raises_a_clear_error(call, error, match, saas, fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        with pytest.raises(error, match=match):
            call(saas, fitted)


@pytest.mark.parametrize(
    "builder",
    [
        "UsageFeatures",
        "BillingFeatures",
        "SupportFeatures",
        "ProfileFeatures",
        "CustomFeatures",
        "ChurnFeatures",
    ],
)
@pytest.mark.parametrize("method", ["transform", "get_feature_names_out"])
def test_unfitted_builders_say_call_fit(builder, method, saas, fitted):
    estimator = getattr(ck, builder)(saas.events)
    args = (fitted[1],) if method == "transform" else ()
    with pytest.raises(
        NotFittedError,
        match=rf"This {builder} instance is not fitted yet\. Call 'fit' with the "
        r"training cutoffs first",
    ):
        getattr(estimator, method)(*args)


def test_unfitted_pipeline_says_call_fit(saas, fitted):
    # scikit-learn's Pipeline raises its own NotFittedError (a ValueError too)
    with pytest.raises(
        SklearnNotFittedError,
        match=r"This Pipeline instance is not fitted yet\. Call 'fit'",
    ):
        _unfitted_pipeline(saas).predict_proba(fitted[1])


# ===================================================================== part 2
# Row accounting: the documented order of reasons, per table (docs/reliability.md).
ID_REASONS = ["null customer_id", "unknown customer"]
TIME_REASONS = ["out-of-range time", "unparseable time", "null time"]
ORDER = {
    "usage": [
        *ID_REASONS,
        *TIME_REASONS,
        "non-numeric quantity",
        "infinite quantity",
        "null quantity",
        "negative quantity",
    ],
    "billing": [
        *ID_REASONS,
        *TIME_REASONS,
        "non-numeric amount",
        "infinite amount",
        "non-numeric mrr",
        "infinite mrr",
        "negative mrr",
        "negative amount",
    ],
    "support": [
        *ID_REASONS,
        *TIME_REASONS,
        "out-of-range closed_time",
        "unparseable closed_time",
        "non-numeric csat",
        "infinite csat",
        "closed before opened",
    ],
    "churn": [*ID_REASONS, *TIME_REASONS, "churn before signup", "several churns"],
}
DAY0 = pd.Timestamp("2024-01-01")
IDS = ["c0", "c1", "c2", "c3", "c4"]


def _when(days, hours=0):
    return (DAY0 + pd.Timedelta(days=days, hours=hours)).isoformat()


def _set(column, value):
    def inject(row, original, signups):
        row[column] = value

    return inject


def _before_signup(row, original, signups):
    row["time"] = _when(signups[original["customer_id"]] - 1)


def _closed_before_opened(row, original, signups):
    opened = pd.Timestamp(original["time"])
    row["closed_time"] = (opened - pd.Timedelta("1h")).isoformat()


def _negative_payment(row, original, signups):
    row["kind"], row["amount"] = "payment", -5.0


# defect -> (the cell it overwrites, how); one defect per cell and row
ID_DEFECTS = {
    "null customer_id": ("id", _set("customer_id", None)),
    "unknown customer": ("id", _set("customer_id", "zz")),
}
TIME_DEFECTS = {
    "out-of-range time": ("time", _set("time", "3000-01-01")),
    "unparseable time": ("time", _set("time", "not a date")),
    "null time": ("time", _set("time", None)),
}
DEFECTS = {
    "usage": {
        **ID_DEFECTS,
        **TIME_DEFECTS,
        "non-numeric quantity": ("quantity", _set("quantity", "lots")),
        "infinite quantity": ("quantity", _set("quantity", np.inf)),
        "null quantity": ("quantity", _set("quantity", np.nan)),
        "negative quantity": ("quantity", _set("quantity", -2.0)),
    },
    "billing": {
        **ID_DEFECTS,
        **TIME_DEFECTS,
        "non-numeric amount": ("amount", _set("amount", "ten")),
        "infinite amount": ("amount", _set("amount", np.inf)),
        "negative amount": ("amount", _negative_payment),
        "non-numeric mrr": ("mrr", _set("mrr", "lots")),
        "infinite mrr": ("mrr", _set("mrr", np.inf)),
        "negative mrr": ("mrr", _set("mrr", -10.0)),
    },
    "support": {
        **ID_DEFECTS,
        **TIME_DEFECTS,
        "unparseable closed_time": ("closed", _set("closed_time", "whenever")),
        "closed before opened": ("closed", _closed_before_opened),
        "non-numeric csat": ("csat", _set("csat", "good")),
        "infinite csat": ("csat", _set("csat", np.inf)),
    },
    "churn": {
        **ID_DEFECTS,
        **TIME_DEFECTS,
        "churn before signup": ("time", _before_signup),
    },
}
BILLING_KINDS = ["invoice", "payment", "payment_failed", "refund", "plan_change"]


@st.composite
def _row(draw, table, ids, signups):
    customer = draw(st.sampled_from(ids))
    row = {"customer_id": customer, "time": _when(draw(st.integers(0, 120)), 9)}
    if table == "usage":
        row["event"] = draw(st.sampled_from(["login", "export"]))
        row["quantity"] = float(draw(st.integers(0, 5)))
    elif table == "billing":
        row["kind"] = draw(st.sampled_from(BILLING_KINDS))
        amount = draw(st.one_of(st.just(np.nan), st.integers(0, 100).map(float)))
        row["amount"] = -amount if row["kind"] == "refund" else amount
        row["mrr"] = draw(st.one_of(st.just(np.nan), st.integers(0, 50).map(float)))
    elif table == "support":
        opened = pd.Timestamp(row["time"])
        hours = draw(st.one_of(st.none(), st.integers(0, 200)))
        row["closed_time"] = (
            None if hours is None else (opened + pd.Timedelta(hours=hours)).isoformat()
        )
        row["csat"] = draw(st.one_of(st.just(np.nan), st.integers(1, 5).map(float)))
    elif table == "churn":
        row["time"] = _when(signups[customer] + draw(st.integers(0, 100)), 12)
        row["kind"] = draw(st.sampled_from(["voluntary", "involuntary"]))
    # defects: at most one per cell, a few rows with two or more
    defects = {}
    for name, (cell, _) in DEFECTS[table].items():
        if (
            cell not in {DEFECTS[table][d][0] for d in defects}
            and draw(st.integers(0, 9)) == 0
        ):
            defects[name] = cell
    return row, sorted(defects, key=ORDER[table].index)


@st.composite
def dirty_business(draw):
    n = draw(st.integers(1, len(IDS)))
    ids = IDS[:n]
    signups = {c: draw(st.integers(0, 20)) for c in ids}
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_time": [_when(signups[c]) for c in ids]}
    )
    tables, expected, clean = {}, {}, {}
    for table in ("usage", "billing", "support", "churn"):
        size = draw(st.integers(0, 12 if table != "churn" else n))
        if table == "churn":  # one churn per customer at most
            churners = draw(st.permutations(ids))[:size]
            rows = [draw(_row(table, [c], signups)) for c in churners]
        else:
            rows = [draw(_row(table, ids, signups)) for _ in range(size)]
        records, keep, counts = [], [], {}
        for row, defects in rows:
            dirty = dict(row)
            for name in defects:
                DEFECTS[table][name][1](dirty, row, signups)
            records.append(dirty)
            keep.append(not defects)
            if defects:  # counted once, for the first reason in the order
                counts[defects[0]] = counts.get(defects[0], 0) + 1
        columns = list(rows[0][0]) if rows else _columns(table)
        tables[table] = pd.DataFrame(records, columns=columns)
        clean[table] = pd.DataFrame(
            [row for (row, _), k in zip(rows, keep, strict=True) if k], columns=columns
        )
        expected[table] = counts
    return customers, tables, expected, clean


def _columns(table):
    return {
        "usage": ["customer_id", "time", "event", "quantity"],
        "billing": ["customer_id", "time", "kind", "amount", "mrr"],
        "support": ["customer_id", "time", "closed_time", "csat"],
        "churn": ["customer_id", "time", "kind"],
    }[table]


def _canonical(frame):
    """Comparable rows: times as datetime64[ns], numbers float, the rest text."""
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        values = frame[col].reset_index(drop=True)
        if col in ("time", "closed_time"):
            out[col] = pd.to_datetime(values).astype("datetime64[ns]")
        elif col in ("quantity", "amount", "mrr", "csat"):
            out[col] = values.astype("float64")
        else:
            out[col] = values.astype(object).astype(str)
    return out.sort_values(list(out.columns), kind="stable").reset_index(drop=True)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(dirty_business())
def test_every_row_is_used_or_counted_once_for_its_first_defect(business):
    customers, tables, expected, clean = business
    emptied = [
        t
        for t, frame in tables.items()
        if len(frame) and not len(clean[t]) and set(expected[t]) - {"unknown customer"}
    ]
    if emptied:  # errors="drop" refuses to empty a table
        with pytest.raises(SchemaError, match=r"so `errors='drop'` would empty it"):
            ck.Events(customers=customers, **tables, errors="drop")
        return
    events = ck.Events(customers=customers, **tables, errors="drop")
    report = events.report
    assert set(report["action"]) <= {"dropped"}
    summary = events.summary()
    for table, frame in tables.items():
        # (a) per-reason counts equal the injected defects
        mine = report[report["table"] == table]
        assert dict(zip(mine["reason"], mine["rows"], strict=True)) == expected[table]
        # (b) the rows used are exactly the clean rows
        if table == "churn":
            used = events.churns.astype({"kind": object})
        else:
            used = events.frame(table)[_columns(table)]
        pd.testing.assert_frame_equal(_canonical(used), _canonical(clean[table]))
        # (c) rows + rows_excluded == input rows
        row = summary.loc[table]
        assert row["rows"] + row["rows_excluded"] == len(frame)


SUBSCRIPTION_ORDER = [
    "null customer_id",
    "out-of-range start",
    "unparseable start",
    "null start",
    "out-of-range end",
    "unparseable end",
    "end before start",
    "non-numeric mrr",
    "infinite mrr",
    "negative mrr",
    "unknown customer",
]


def test_subscription_defects_are_counted_in_the_documented_order():
    subs = pd.DataFrame(
        {
            "customer_id": ["a", None, "a", "b", "b", "b", "c", "zz", "zz", "c"],
            "start": [
                "2024-01-01",
                "2024-01-01",  # null customer_id
                "not a date",  # unparseable start
                None,  # null start ... and unparseable end: counted as null start
                "2024-02-01",  # end before start
                "2024-02-01",  # non-numeric mrr
                "2024-01-10",
                "2024-01-10",  # unknown customer
                "3000-01-01",  # unknown customer, out-of-range start: out-of-range
                "2024-03-01",  # negative mrr
            ],
            "end": [
                None,
                None,
                None,
                "never",
                "2024-01-15",
                None,
                None,
                None,
                None,
                None,
            ],
            "mrr": [10, 10, 10, 10, 10, "ten", 10, 10, 10, -1],
        }
    )
    events = ck.Events(customers=_customers(), subscriptions=subs, errors="drop")
    report = events.report[events.report["table"] == "subscriptions"]
    counts = dict(zip(report["reason"], report["rows"], strict=True))
    assert counts == {
        "null customer_id": 1,
        "out-of-range start": 1,
        "unparseable start": 1,
        "null start": 1,
        "end before start": 1,
        "non-numeric mrr": 1,
        "negative mrr": 1,
        "unknown customer": 1,
    }
    assert list(counts) == [r for r in SUBSCRIPTION_ORDER if r in counts]
    assert events.spells["customer_id"].tolist() == ["a", "c"]


def test_the_documented_order_is_the_one_in_docs():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
    text = doc.read_text()
    for table, reasons in {**ORDER, "subscriptions": SUBSCRIPTION_ORDER}.items():
        line = next(
            (ln for ln in text.splitlines() if ln.startswith(f"| {table} |")), None
        )
        assert line is not None, f"docs/reliability.md has no order row for {table}"
        listed = re.findall(r"`([^`]+)`", line)
        assert listed == reasons, table

"""Tests for churnkit.models: ChurnClassifier, TablePrep and the calibrators."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score

from churnkit import (
    ChurnkitTypeError,
    ChurnkitWarning,
    LeakageWarning,
    NotFittedError,
    SchemaDriftWarning,
    SchemaError,
)
from churnkit.models import ChurnClassifier
from churnkit.models._calibration import IsotonicCalibrator, SigmoidCalibrator
from churnkit.models._leakage import _level_rates, _single_feature_auc
from churnkit.models._linear import C_GRID
from churnkit.models._prep import INFREQUENT, TablePrep

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def panel(n_customers=400, n_cutoffs=5, seed=0):
    """Customers x monthly cutoffs, MultiIndex (customer_id, cutoff_time)."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [[f"C{i:04d}" for i in range(n_customers)], cutoffs],
        names=["customer_id", "cutoff_time"],
    )
    n = len(index)
    usage = rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "team"], size=n, p=[0.5, 0.3, 0.2])
    X = pd.DataFrame(
        {
            "usage": usage,
            "noise": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "plan": pd.Categorical(plan, categories=["basic", "pro", "team"]),
            "autopay": rng.random(n) < 0.5,
        },
        index=index,
    )
    logit_p = -1.5 - 1.2 * usage + 0.8 * (plan == "basic") - 0.5 * X["autopay"]
    y = pd.Series((rng.random(n) < expit(logit_p)).astype(int), index=index)
    return X, y


def static_table(n=600, seed=0):
    """A user's own table: numbers, bools, text numbers, text categories, NaN."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, size=n).astype(float)
    contract = rng.choice(["monthly", "yearly", "two-year"], size=n)
    charges = rng.uniform(20, 100, size=n).round(2)
    total = (charges * tenure).round(2).astype(str).astype(object)
    total[:3] = " "  # blanks: the IBM Telco "TotalCharges" case
    X = pd.DataFrame(
        {
            "tenure": tenure,
            "contract": pd.Series(contract, dtype=object),
            "monthly_charges": charges,
            "total_charges": total,
            "paperless": rng.random(n) < 0.5,
            "region": pd.Series(rng.choice(["n", "s", None], size=n), dtype=object),
        }
    )
    logit_p = 0.5 - 0.05 * tenure + 1.0 * (contract == "monthly") + 0.01 * charges
    y = (rng.random(n) < expit(logit_p)).astype(int)
    return X, y


def fit_quiet(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        return clf.fit(X, y)


# --------------------------------------------------------------------------- #
# Preprocessing
# --------------------------------------------------------------------------- #
def test_text_numbers_are_converted_with_a_warning_that_counts_unreadable():
    X, y = static_table()
    with pytest.warns(ChurnkitWarning, match=r"`total_charges`.*3 of 600 non-missing"):
        clf = ChurnClassifier("logistic", random_state=0).fit(X, y)
    prep = clf.preprocessor_.named_steps["table"]
    assert "total_charges" in prep.numeric_columns_
    assert prep.categorical_columns_ == ["contract", "region"]
    out = clf.model_input(X)
    # the three blanks are missing, so they got an indicator column
    assert out["missingindicator_total_charges"].nunique() == 2
    assert clf.feature_map_["missingindicator_total_charges"] == "total_charges"


def test_feature_map_sends_one_hot_levels_back_to_their_column():
    X, y = static_table()
    clf = fit_quiet(ChurnClassifier("logistic", random_state=0), X, y)
    cols = list(clf.model_input(X).columns)
    assert list(clf.feature_map_) == cols
    assert set(clf.feature_map_.values()) == set(X.columns)
    contract = sorted(k for k, v in clf.feature_map_.items() if v == "contract")
    assert contract == ["contract_monthly", "contract_two-year", "contract_yearly"]
    # region has None values: "nan" is a level of its own
    assert sorted(k for k, v in clf.feature_map_.items() if v == "region") == [
        "region_n",
        "region_nan",
        "region_s",
    ]
    assert clf.feature_map_["paperless"] == "paperless"


def test_xgboost_input_keeps_native_types():
    X, y = static_table()
    clf = fit_quiet(ChurnClassifier("xgboost", random_state=0), X, y)
    Xm = clf.model_input(X)
    assert Xm.index.equals(X.index)
    assert isinstance(Xm["contract"].dtype, pd.CategoricalDtype)
    assert list(Xm["contract"].cat.categories) == ["monthly", "two-year", "yearly"]
    assert Xm["paperless"].dtype == np.float64
    assert Xm["total_charges"].isna().sum() == 3
    assert clf.feature_map_ == {c: c for c in X.columns}


@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_unseen_category_at_predict_time_does_not_crash(model):
    X, y = static_table()
    clf = fit_quiet(ChurnClassifier(model, random_state=0), X, y)
    new = X.head(3).copy()
    new["contract"] = ["lifetime", "monthly", None]
    with pytest.warns(SchemaDriftWarning, match=r"`contract`: 1 value\(s\) not seen"):
        proba = clf.predict_proba(new)
    assert proba.shape == (3, 2)
    assert np.isfinite(proba).all()
    # contract has no infrequent level, so an unseen level is the same as missing
    missing = new.copy()
    missing.loc[missing.index[0], "contract"] = None
    assert clf.predict_proba(missing)[0, 1] == proba[0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaDriftWarning)
        model_input = clf.model_input(new)
    if model == "xgboost":
        assert model_input["contract"].isna().tolist() == [True, False, True]
    else:  # one-hot with handle_unknown="ignore": all contract columns are 0
        row = model_input.iloc[0]
        assert (row.filter(like="contract_") == 0).all()


def test_rare_levels_merge_into_infrequent_and_cardinality_is_capped():
    rng = np.random.default_rng(0)
    common = rng.choice(["a", "b"], size=500)
    rare = np.array([f"r{i}" for i in range(50)] * 2)  # 50 levels, 2 rows each
    X = pd.DataFrame({"city": np.concatenate([common, rare])})
    prep = TablePrep().fit(X)
    assert prep.categories_["city"] == ["a", "b", INFREQUENT]
    # r3 was seen at fit (a rare level): no warning; "unseen" never was
    with pytest.warns(SchemaDriftWarning) as records:
        out = prep.transform(pd.DataFrame({"city": ["a", "r3", "unseen", None]}))
    assert out["city"].tolist()[:3] == ["a", INFREQUENT, INFREQUENT]
    assert pd.isna(out["city"].iloc[3])
    (record,) = records
    assert "`city`: 1 value(s) not seen in training, in 1 of 4 row(s): " in str(
        record.message
    )
    assert "'unseen' (1)" in str(record.message) and "r3" not in str(record.message)
    assert f"scored as the level '{INFREQUENT}'" in str(record.message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SchemaDriftWarning)
        prep.transform(pd.DataFrame({"city": ["r3", "b", None]}))
        # the same values as a pandas Categorical take the cached path
        cat = pd.Categorical(["r3", "a"], categories=["a", "r3", "zz"])
        prep.transform(pd.DataFrame({"city": cat}))
    cat = pd.Categorical(["zz", "a", "zz"], categories=["a", "zz"])
    with pytest.warns(SchemaDriftWarning, match=r"'zz' \(2\)"):
        prep.transform(pd.DataFrame({"city": cat}))
    many = pd.DataFrame({"id": np.repeat([f"L{i:03d}" for i in range(300)], 12)})
    capped = TablePrep(max_categories=100).fit(many)
    assert len(capped.categories_["id"]) == 101  # 100 most frequent + infrequent


def test_identifier_like_column_warns():
    X, y = static_table()
    X = X.drop(columns="total_charges")
    X["customer_ref"] = [f"id-{i}" for i in range(len(X))]
    with pytest.warns(ChurnkitWarning, match="`customer_ref` has a different value"):
        ChurnClassifier("logistic").fit(X, y)


def test_numeric_text_at_predict_time_is_read():
    X, y = static_table()
    clf = fit_quiet(ChurnClassifier("xgboost", random_state=0), X, y)
    new = X.head(2).copy()
    new["tenure"] = pd.Series(["12", "not a number"], dtype=object, index=new.index)
    values = clf.model_input(new)["tenure"].tolist()
    assert values[0] == 12.0 and np.isnan(values[1])


@pytest.mark.parametrize(
    ("column", "match"),
    [
        (pd.to_datetime(["2024-01-01"] * 4), "`when` holds dates or durations"),
        (pd.to_timedelta(["1D"] * 4), "`when` holds dates or durations"),
    ],
)
def test_datetime_columns_are_an_error(column, match):
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "when": column})
    with pytest.raises(SchemaError, match=match):
        ChurnClassifier("logistic").fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-01-31", "2023-12-01", "2024-02-29", None],
        ["31/01/2024", "1/12/2023", "29/02/2024", "01/03/2024"],
        ["2024-01-31 10:00:00", "2024-01-31T23:59:59Z", "2023/1/2", "2023.01.02"],
    ],
)
def test_dates_written_as_text_are_an_error(dates):
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "signup": dates})
    with pytest.raises(SchemaError, match=r"`signup` holds dates written as text"):
        ChurnClassifier("logistic").fit(X, [0, 1, 0, 1])
    # levels that merely contain digits stay categories
    X["signup"] = ["plan 2024-A", "v1.2.3", "12-month", "2 year"]
    TablePrep().fit(X)


def test_cutoff_time_column_error_suggests_the_index():
    X = pd.DataFrame(
        {"x": [1.0, 2.0], "cutoff_time": pd.to_datetime(["2024-01-01"] * 2)}
    )
    with pytest.raises(SchemaError, match=r"move it to the index: X.set_index"):
        ChurnClassifier("logistic").fit(X, [0, 1])


def test_infinite_values_are_an_error_naming_the_column():
    X = pd.DataFrame({"ok": [1.0, 2, 3, 4], "bad": [1.0, np.inf, 3, 4]})
    with pytest.raises(SchemaError, match=r"Column `bad` contains infinite values"):
        ChurnClassifier("logistic").fit(X, [0, 1, 0, 1])


def test_duplicate_column_names_are_an_error():
    X = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"])
    with pytest.raises(SchemaError, match=r"duplicate column names \['a'\]"):
        ChurnClassifier("logistic").fit(X, [0, 1])


def test_xgboost_rejects_column_names_it_cannot_store():
    X = pd.DataFrame({"income<40k": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(SchemaError, match=r"Rename those columns"):
        ChurnClassifier("xgboost").fit(X, [0, 1, 0, 1])


# --------------------------------------------------------------------------- #
# Leak check
# --------------------------------------------------------------------------- #
def test_single_feature_auc_matches_roc_auc_and_skips_nan():
    y = np.array([0, 0, 1, 1] * 10)
    frame = pd.DataFrame(
        {
            "hand": np.tile([0.1, 0.4, 0.35, 0.8], 10),  # AUC 0.75 per block
            "with_nan": np.tile([0.1, np.nan, 0.35, 0.8], 10),
        }
    )
    auc = _single_feature_auc(frame, y)
    assert auc["hand"] == pytest.approx(roc_auc_score(y, frame["hand"]))
    assert auc["hand"] == pytest.approx(0.75)
    keep = frame["with_nan"].notna().to_numpy()
    assert auc["with_nan"] == pytest.approx(
        roc_auc_score(y[keep], frame["with_nan"][keep])
    )


@pytest.mark.parametrize("sign", [1, -1])
def test_a_feature_that_separates_the_classes_warns_as_a_leak(sign):
    X, y = static_table()
    X = X.drop(columns="total_charges")
    X["days_to_cancel"] = sign * (y * 10.0 + np.random.default_rng(1).random(len(y)))
    X.loc[X.index[:5], "days_to_cancel"] = np.nan
    reverse = ", read in reverse" if sign < 0 else ""
    # a falling column separates as well: its AUC reads 1, never 0
    match = (
        rf"`days_to_cancel` alone separates .* \(ROC-AUC 1\.0000 on its own{reverse}\)"
    )
    with pytest.warns(ChurnkitWarning, match=match):
        ChurnClassifier("logistic").fit(X, y)


def test_the_label_as_text_warns_as_a_leak():
    # a copy of the label as "Yes"/"No" (Telco's Churn column left in X)
    X, y = static_table()
    X = X.drop(columns="total_charges")
    X["Churn"] = np.where(y == 1, "Yes", "No")
    with pytest.warns(LeakageWarning, match=r"`Churn` alone separates"):
        ChurnClassifier("logistic").fit(X, y)


def test_level_rates_by_hand():
    frame = pd.DataFrame({"c": pd.Categorical(["a", "a", "b", None, "b", "b"])})
    rates = _level_rates(frame, np.array([1.0, 0, 1, 1, 1, 1]))
    np.testing.assert_allclose(rates["c"], [0.5, 0.5, 1, np.nan, 1, 1])


def test_no_leak_warning_on_honest_features():
    X, y = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        ChurnClassifier("logistic", random_state=0).fit(X, y)


# --------------------------------------------------------------------------- #
# Outputs: margin, calibration, determinism
# --------------------------------------------------------------------------- #
def test_xgboost_margin_is_recomputable_from_preprocessor_and_booster():
    import xgboost as xgb

    X, y = panel()
    clf = ChurnClassifier("xgboost", random_state=0).fit(X, y)
    dmat = xgb.DMatrix(clf.preprocessor_.transform(X), enable_categorical=True)
    margin = clf.estimator_.get_booster().predict(
        dmat, output_margin=True, iteration_range=(0, clf.best_iteration_ + 1)
    )
    np.testing.assert_allclose(clf.decision_function(X), margin, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1], clf.calibrate_margin(clf.decision_function(X))
    )


def test_logistic_margin_is_recomputable_from_preprocessor_and_estimator():
    X, y = panel()
    clf = ChurnClassifier("logistic", random_state=0).fit(X, y)
    margin = clf.estimator_.decision_function(clf.preprocessor_.transform(X))
    np.testing.assert_allclose(clf.decision_function(X), margin, rtol=0, atol=1e-12)
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    cal = clf.calibrator_
    np.testing.assert_allclose(p[:, 1], expit(cal.slope_ * margin + cal.intercept_))


def test_two_fits_with_the_same_random_state_are_identical():
    X, y = static_table()
    a = fit_quiet(ChurnClassifier("xgboost", random_state=7), X, y).predict_proba(X)
    b = fit_quiet(ChurnClassifier("xgboost", random_state=7), X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_temporal_holdout_is_the_latest_cutoff_and_base_model_is_refit_on_all():
    X, y = panel(n_customers=400, n_cutoffs=5)  # 2,000 rows, 400 per cutoff
    clf = ChurnClassifier("logistic", random_state=0).fit(X, y)
    # 20% of 2,000 rows = exactly the last cutoff
    assert clf.holdout_["kind"] == "latest_cutoffs"
    assert clf.holdout_["cutoffs"] == [pd.Timestamp("2024-05-01")]
    assert clf.holdout_["n_rows"] == 400
    assert clf.holdout_["refit"] is True
    assert isinstance(clf.calibrator_, SigmoidCalibrator)
    # C is the one of C_GRID whose model, fit on the first four cutoffs, has
    # the lowest log-loss on the last; the calibrator was fit on that model's
    # margins there; the final base model is refit on every row with that C
    early = X.index.get_level_values("cutoff_time") < "2024-05-01"
    Xm = clf.model_input(X)
    fits = {
        c: LogisticRegression(C=c, max_iter=1000, tol=1e-8).fit(Xm[early], y[early])
        for c in C_GRID
    }
    losses = {
        c: log_loss(y[~early], m.predict_proba(Xm[~early])) for c, m in fits.items()
    }
    chosen = min(losses, key=losses.get)
    assert clf.estimator_.C == chosen
    first = fits[chosen]
    ref_cal = SigmoidCalibrator().fit(first.decision_function(Xm[~early]), y[~early])
    assert clf.calibrator_.slope_ == pytest.approx(ref_cal.slope_, rel=1e-3)
    assert clf.calibrator_.intercept_ == pytest.approx(ref_cal.intercept_, rel=1e-3)
    final = LogisticRegression(C=chosen, max_iter=1000, tol=1e-8).fit(Xm, y)
    np.testing.assert_allclose(clf.estimator_.coef_, final.coef_, rtol=0, atol=1e-3)


def test_xgboost_temporal_holdout_uses_early_stopping_then_scaled_refit():
    X, y = panel(n_customers=400, n_cutoffs=5)
    clf = ChurnClassifier("xgboost", random_state=0).fit(X, y)
    assert clf.holdout_["kind"] == "latest_cutoffs"
    rounds = clf.holdout_["rounds"]  # chosen on the hold-out, a multiple of 5
    assert rounds % 5 == 0 and 5 <= rounds <= 1000
    # refit on all 2,000 rows with the rounds scaled by 2,000 / 1,600
    assert clf.best_iteration_ + 1 == round(rounds * 2000 / 1600)
    n_trees = clf.estimator_.get_booster().num_boosted_rounds()
    assert n_trees == clf.best_iteration_ + 1


def test_random_holdout_refits_on_all_rows_with_the_chosen_rounds():
    X, y = static_table(n=2000)
    clf = fit_quiet(ChurnClassifier("xgboost", random_state=0), X, y)
    assert clf.holdout_["kind"] == "stratified_random"
    assert clf.holdout_["refit"] is True
    assert clf.holdout_["n_rows"] == 400
    rounds = clf.estimator_.get_booster().num_boosted_rounds()
    assert rounds == clf.best_iteration_ + 1
    assert rounds == round(clf.holdout_["rounds"] * 2000 / 1600)


def test_small_data_skips_calibration_with_a_warning():
    X, y = static_table(n=150)
    with pytest.warns(ChurnkitWarning, match=r"calibration='sigmoid' was skipped"):
        clf = ChurnClassifier("logistic").fit(X.drop(columns="total_charges"), y)
    assert clf.calibrator_ is None
    m = clf.decision_function(X.drop(columns="total_charges"))
    np.testing.assert_allclose(
        clf.predict_proba(X.drop(columns="total_charges"))[:, 1], expit(m)
    )


def test_tiny_data_fits_xgboost_with_fixed_rounds():
    X = np.arange(12, dtype=float).reshape(-1, 1)
    y = np.array([0, 1] * 6)
    clf = ChurnClassifier("xgboost", calibration=None).fit(X, y)
    assert clf.holdout_["kind"] is None
    assert clf.best_iteration_ == 99
    assert clf.predict(X).shape == (12,)


def test_calibration_none_logistic_still_chooses_c_on_the_holdout():
    X, y = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChurnkitWarning)
        clf = ChurnClassifier("logistic", calibration=None).fit(X, y)
        calibrated = ChurnClassifier("logistic").fit(X, y)
    # the hold-out chooses C (as it chooses xgboost's rounds), then the model
    # is refit on every row: with or without calibration, the same base model
    assert clf.holdout_["kind"] == "latest_cutoffs" and clf.holdout_["refit"]
    assert clf.calibrator_ is None
    assert clf.estimator_.C == calibrated.estimator_.C
    np.testing.assert_array_equal(clf.estimator_.coef_, calibrated.estimator_.coef_)


def test_isotonic_calibration_clips_away_from_zero_and_one():
    X, y = panel(n_customers=600)
    clf = ChurnClassifier("xgboost", calibration="isotonic", random_state=0).fit(X, y)
    assert isinstance(clf.calibrator_, IsotonicCalibrator)
    p = clf.predict_proba(X)[:, 1]
    bound = 1 / (clf.holdout_["n_rows"] + 2)
    assert p.min() >= bound and p.max() <= 1 - bound


def test_balanced_class_weight_is_recalibrated_to_the_churn_rate():
    X, y = panel(n_customers=1000)
    latest = X.index.get_level_values("cutoff_time") == "2024-05-01"
    clf = ChurnClassifier("logistic", class_weight="balanced", random_state=0)
    clf.fit(X, y)
    raw = expit(clf.decision_function(X[latest])).mean()
    calibrated = clf.predict_proba(X[latest])[:, 1].mean()
    assert raw > 0.4  # balanced weights push the base model toward 50%
    assert calibrated == pytest.approx(y[latest].mean(), abs=0.01)


def test_sigmoid_calibrator_recovers_an_affine_map():
    rng = np.random.default_rng(0)
    m = rng.normal(scale=2, size=20000)
    y = (rng.random(m.size) < expit(0.5 * m - 1)).astype(int)
    cal = SigmoidCalibrator().fit(m, y)
    assert cal.slope_ == pytest.approx(0.5, abs=0.05)
    assert cal.intercept_ == pytest.approx(-1.0, abs=0.05)


def test_sigmoid_calibrator_never_reverses_the_ranking():
    m = np.arange(100.0)
    y = (m < 30).astype(int)  # anti-informative margins
    cal = SigmoidCalibrator().fit(m, y)
    assert cal.slope_ == 0.0
    # a constant: the mean of Platt's targets, (30 * 31/32 + 70 * 1/72) / 100
    assert cal.predict(m) == pytest.approx((30 * 31 / 32 + 70 / 72) / 100, abs=1e-6)


# --------------------------------------------------------------------------- #
# Targets and models
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("y", "classes"),
    [
        (np.array([False, True] * 50), [False, True]),
        # churn sorts second; "left" / "stay" is refused (tests/models/test_target.py)
        (np.array(["No", "Yes"] * 50), ["No", "Yes"]),
    ],
)
def test_bool_and_string_labels(y, classes):
    X = np.random.default_rng(0).normal(size=(100, 2))
    clf = ChurnClassifier("logistic", calibration=None).fit(X, y)
    assert clf.classes_.tolist() == classes
    assert set(clf.predict(X)) <= set(classes)


def test_user_estimator_is_cloned_and_margin_is_logit_of_its_proba():
    X, y = static_table()
    rf = RandomForestClassifier(n_estimators=20, random_state=0)
    clf = fit_quiet(ChurnClassifier(rf, calibration=None), X, y)
    assert not hasattr(rf, "estimators_")  # the user's object stays unfitted
    assert clf.model_kind_ == "estimator"
    proba = clf.estimator_.predict_proba(clf.model_input(X))[:, 1]
    np.testing.assert_allclose(
        clf.decision_function(X), logit(np.clip(proba, 1e-12, 1 - 1e-12))
    )


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"model": "forest"}, SchemaError, r"got 'forest'"),
        (
            {"model": LogisticRegression},
            ChurnkitTypeError,
            r"pass LogisticRegression\(",
        ),
        ({"model": object()}, ChurnkitTypeError, r"classifier with `fit`"),
        ({"calibration": "platt"}, SchemaError, r"`calibration` must be"),
        ({"validation_fraction": 0.7}, SchemaError, r"`validation_fraction`.*0.7"),
        (
            {"model": LogisticRegression(), "class_weight": "balanced"},
            SchemaError,
            r"set it on your estimator",
        ),
    ],
)
def test_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        ChurnClassifier(**params).fit(np.zeros((4, 1)), [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("y", "match"),
    [
        ([0, 1, 2, 1], "Only binary classification is supported"),
        ([1, 1, 1, 1], r"only one class \(1\); the classifier needs rows of both"),
        ([0, 1, np.nan, 1], r"1 missing label\(s\)"),
        (None, "requires y to be passed"),
    ],
)
def test_bad_targets(y, match):
    with pytest.raises(ValueError, match=match):
        ChurnClassifier("logistic").fit(np.zeros((4, 1)), y)


def test_missing_cutoff_time_is_an_error():
    X, y = panel(n_customers=50, n_cutoffs=2)
    idx = X.index.to_frame()
    idx.loc[idx.index[0], "cutoff_time"] = pd.NaT
    X.index = pd.MultiIndex.from_frame(idx)
    with pytest.raises(
        SchemaError,
        match=r"`cutoff_time` index level of `X` has 1 null value\(s\), e.g. at "
        r"rows \[0\]",
    ):
        ChurnClassifier("logistic").fit(X, y)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        ChurnClassifier().predict_proba(np.zeros((2, 2)))
    with pytest.raises(SklearnNotFittedError, match="not fitted yet"):
        ChurnClassifier().decision_function(np.zeros((2, 2)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ChurnClassifier().calibrate_margin(0.0)


# --------------------------------------------------------------------------- #
# Real data: IBM Telco (skipped when the shared data sets are not present)
# --------------------------------------------------------------------------- #
@pytest.mark.skipif(
    not (DATASETS / "telco_ibm").exists(), reason="shared data sets not available"
)
@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_ibm_telco_roc_auc(model):
    df = pd.read_csv(DATASETS / "telco_ibm" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
    y = (df.pop("Churn") == "Yes").astype(int)
    X = df.drop(columns=["customerID"])
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        aucs = cross_val_score(
            ChurnClassifier(model, random_state=0), X, y, cv=cv, scoring="roc_auc"
        )
    # 5-fold benchmark: 0.845 (logistic), 0.849 (xgboost); a stable floor here
    assert aucs.mean() >= 0.83


def test_table_prep_shares_float_columns_instead_of_copying_them():
    """A large float feature block passes through without a copy (memory)."""
    X = pd.DataFrame(
        {
            "a": np.arange(6.0),
            "b": np.ones(6),
            "n": np.arange(6),
            "plan": ["x", "y"] * 3,
        }
    )
    out = TablePrep().fit(X).transform(X)
    assert np.shares_memory(out["a"].to_numpy(), X["a"].to_numpy())
    assert out["n"].dtype == np.float64
    assert isinstance(out["plan"].dtype, pd.CategoricalDtype)
    assert list(out.columns) == list(X.columns)
    out.loc[0, "a"] = 99.0  # copy-on-write: X is never changed through it
    assert X.loc[0, "a"] == 0.0


def test_consecutive_hold_out_rows_are_taken_as_a_view():
    from churnkit.models._xgboost import _as_range

    assert _as_range(np.arange(3, 9)) == slice(3, 9)
    rows = np.array([0, 2, 3])
    assert _as_range(rows) is rows
    assert len(_as_range(np.array([], dtype=int))) == 0


def test_integer_cutoff_level_is_refused_like_everywhere_else():
    # the classifier reads its hold-out cutoffs with the one cutoff reader
    X = pd.DataFrame(
        {"x": np.arange(8.0)},
        index=pd.MultiIndex.from_arrays(
            [list("abcdabcd"), [20240101] * 4 + [20240201] * 4],
            names=["customer_id", "cutoff_time"],
        ),
    )
    y = np.array([0, 1] * 4)
    with pytest.raises(SchemaError, match=r"holds numbers.*%Y%m%d"):
        ChurnClassifier("logistic").fit(X, y)


def _feature_table(column, train, score):
    """Frames shaped as ChurnFeatures outputs (a directions attr, one
    Categorical dtype holding every level the builder knows)."""
    dtype = pd.CategoricalDtype(sorted({*train, *score} - {None}))
    frames = []
    for values in (train, score):
        frame = pd.DataFrame({column: pd.Categorical(values, dtype=dtype)})
        frame["usage"] = np.arange(len(frame), dtype=float)
        frame.attrs["feature_directions"] = {"usage": "lower"}
        frames.append(frame)
    return frames


def test_new_signup_cohorts_are_scored_as_the_newest_trained_one():
    # trained on 2024Q1..2024Q4; scoring meets 2025Q1 and 2025Q2 (new signups)
    # and 2023Q4 (before every training row): the nearest trained cohort
    # scores them, with one warning that counts them
    train = ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * 15
    score = ["2025Q1", "2025Q2", "2025Q2", "2024Q3", "2023Q4", None]
    fit_rows, scored = _feature_table("profile__signup_cohort", train, score)
    prep = TablePrep().fit(fit_rows)
    with pytest.warns(SchemaDriftWarning) as records:
        out = prep.transform(scored)
    assert out["profile__signup_cohort"].tolist()[:5] == [
        "2024Q4",
        "2024Q4",
        "2024Q4",
        "2024Q3",
        "2024Q1",
    ]
    assert pd.isna(out["profile__signup_cohort"].iloc[5])  # missing stays missing
    (record,) = records
    assert str(record.message).startswith(
        "Column `profile__signup_cohort`: 4 of 6 row(s) signed up in a quarter "
        "no training row had (2023Q4 (1), 2025Q1 (1), 2025Q2 (2)); they are "
        "scored as the nearest cohort the model learned (2024Q1 .. 2024Q4)"
    )


def test_a_level_the_builder_knows_but_no_training_row_had_warns():
    # a plan introduced after the training cutoffs: ChurnFeatures knows the
    # level (the store has it), the model does not; it scores as missing
    fit_rows, scored = _feature_table(
        "profile__plan", ["basic", "pro"] * 20, ["basic", "enterprise"]
    )
    prep = TablePrep().fit(fit_rows)
    with pytest.warns(SchemaDriftWarning, match=r"`profile__plan`: 1 value\(s\) not"):
        out = prep.transform(scored)
    assert out["profile__plan"].isna().tolist() == [False, True]
    # the training rows themselves say nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", SchemaDriftWarning)
        prep.transform(fit_rows)

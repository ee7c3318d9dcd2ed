"""The fit's and the model input's fast paths give what the paths they replace give.

``TablePrep.fit_transform`` codes each text column once (``fit`` then
``transform`` coded it up to three times); ``transform`` keeps Categorical
columns that already carry the fitted levels and recodes other Categoricals
through a per-category map; the early-stopping pass of a small table trains
on a ``DMatrix`` instead of a ``QuantileDMatrix``; the sigmoid calibrator runs
L-BFGS-B with one BLAS thread. Each is pinned against its reference, bit for
bit. No timings (those are in ``benchmarks/fit_cost.py``).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest

from churnkit.models import _calibration, _prep, _xgboost
from churnkit.models._calibration import SigmoidCalibrator, choose_holdout
from churnkit.models._prep import INFREQUENT, TablePrep

xgb = pytest.importorskip("xgboost")


def _mixed_table(n=300, seed=0) -> pd.DataFrame:
    """Every kind of column TablePrep types: text, numbers as text, mixtures."""
    rng = np.random.default_rng(seed)
    plans = np.array(["basic", "pro", "team", "rare"], dtype=object)
    plan = plans[rng.choice(4, size=n, p=[0.5, 0.3, 0.17, 0.03])]
    plan[rng.random(n) < 0.1] = None
    charges = np.round(rng.gamma(2.0, 30.0, size=n), 2).astype(str).astype(object)
    charges[:4] = [" ", "n/a", None, " 12.5 "]
    mixed = np.where(rng.random(n) < 0.5, "7", "8").astype(object)
    mixed[::7] = True  # bools among numbers as text: the general object path
    cohort = pd.Categorical(
        rng.choice(["2023Q1", "2023Q2", "2024Q1"], size=n),
        categories=["2024Q1", "2023Q2", "2023Q1"],
    )
    return pd.DataFrame(
        {
            "plan_str": pd.array(plan, dtype="str"),
            "plan_obj": plan,
            "charges": charges,
            "mixed": mixed,
            "cohort": cohort,
            "int_cat": pd.Categorical(rng.integers(0, 3, size=n)),
            "flag": rng.random(n) < 0.3,
            "count": rng.integers(0, 9, size=n),
            "value": rng.normal(size=n),
        }
    )


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        assert a[col].dtype == b[col].dtype, col
        if isinstance(a[col].dtype, pd.CategoricalDtype):
            assert a[col].dtype.categories.dtype == b[col].dtype.categories.dtype
            assert a[col].cat.codes.dtype == b[col].cat.codes.dtype


def test_fit_transform_equals_fit_then_transform():
    X = _mixed_table()
    one = TablePrep(min_frequency=15)
    fused = one.fit_transform(X)
    two = TablePrep(min_frequency=15).fit(X)
    _assert_same(fused, two.transform(X))
    assert one.categories_ == two.categories_
    assert one.numeric_columns_ == two.numeric_columns_
    assert one.notes_ == two.notes_
    assert one._text_numbers == two._text_numbers == ["charges"]
    # what the rules say: rare text merged, numbers read from text
    assert one.categories_["plan_str"] == ["basic", "pro", "team", INFREQUENT]
    assert fused["charges"].iloc[3] == 12.5 and np.isnan(fused["charges"].iloc[0])


def test_fit_transform_of_an_all_missing_text_column_is_numeric():
    X = pd.DataFrame({"empty": pd.array([None] * 5, dtype="str"), "x": np.arange(5.0)})
    prep = TablePrep()
    out = prep.fit_transform(X)
    assert prep.numeric_columns_ == ["empty", "x"]
    _assert_same(out, TablePrep().fit(X).transform(X))


def _reference_transform(prep, X) -> pd.DataFrame:
    """``transform`` with every Categorical through the general path."""
    original = _prep._has_levels, _prep._recode
    _prep._has_levels = lambda dtype, levels: False
    _prep._recode = lambda owner, col, series, levels: _prep._to_categorical(
        series, levels
    )
    try:
        return prep.transform(X)
    finally:
        _prep._has_levels, _prep._recode = original


def test_categorical_fast_paths_equal_the_general_path():
    X = _mixed_table()
    prep = TablePrep(min_frequency=5).fit(X)
    prepared = prep.transform(X)  # its Categoricals carry the fitted levels
    for col in prep.categorical_columns_:
        assert _prep._has_levels(prepared[col].dtype, prep.categories_[col])
    _assert_same(prep.transform(prepared), _reference_transform(prep, prepared))
    _assert_same(prep.transform(X), _reference_transform(prep, X))


def test_recode_map_follows_the_categories_it_meets():
    levels = ["basic", "pro", INFREQUENT]
    prep = TablePrep()  # only the owner of the cached maps here
    calls = [
        pd.Categorical(["pro", "x", None, "basic"], categories=["x", "pro", "basic"]),
        pd.Categorical(["pro", "x", None, "basic"], categories=["x", "pro", "basic"]),
        pd.Categorical(["basic", "pro"], categories=["pro", "basic"]),  # reordered
        pd.Categorical([1, 2], categories=[1, 2]),  # same count, other values
        pd.Categorical(["1", "2"], categories=["1", "2"]),  # same text, other type
    ]
    expected = [
        ["pro", INFREQUENT, None, "basic"],
        ["pro", INFREQUENT, None, "basic"],
        ["basic", "pro"],
        [INFREQUENT, INFREQUENT],
        [INFREQUENT, INFREQUENT],
    ]
    for values, want in zip(calls, expected, strict=True):
        series = pd.Series(values)
        fast = _prep._recode(prep, "plan", series, levels)
        slow = _prep._to_categorical(series, levels)
        assert fast.dtype == slow.dtype
        np.testing.assert_array_equal(fast.codes, slow.codes)
        got = [None if pd.isna(v) else v for v in fast.astype(object)]
        assert got == want


def test_has_levels_needs_the_same_levels_in_order_and_unordered():
    levels = ["basic", "pro"]
    assert _prep._has_levels(pd.CategoricalDtype(levels), levels)
    assert not _prep._has_levels(pd.CategoricalDtype(levels[::-1]), levels)
    assert not _prep._has_levels(pd.CategoricalDtype(levels, ordered=True), levels)
    assert not _prep._has_levels(pd.CategoricalDtype(["basic"]), levels)
    assert not _prep._has_levels(np.dtype("float64"), levels)
    assert not _prep._has_levels(pd.CategoricalDtype([]), [])


def _boost_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    plan = pd.Categorical.from_codes(
        rng.integers(-1, 3, size=n), categories=["basic", "pro", "team"]
    )
    Xm = pd.DataFrame(
        {
            "logins": rng.poisson(5, n).astype(float),
            "plan": plan,
            "noise": rng.normal(size=n),
        }
    )
    Xm.loc[rng.random(n) < 0.1, "logins"] = np.nan
    risk = -0.4 * Xm["logins"].fillna(5) + (plan.codes == 2) + rng.logistic(size=n)
    y = (risk > np.quantile(risk, 0.7)).astype(np.int64).to_numpy()
    return Xm, y


@pytest.mark.parametrize(
    "weights, monotone",
    [(None, None), ("random", {"logins": -1})],
)
def test_early_stop_on_a_dmatrix_equals_a_quantile_dmatrix(
    weights, monotone, monkeypatch
):
    Xm, y = _boost_table()
    w = None if weights is None else np.random.default_rng(1).uniform(0.5, 2, len(y))
    split, _ = choose_holdout(Xm.index, y, 0.2, 0)
    runs = []
    for cells in (10**9, 0):  # DMatrix, then QuantileDMatrix
        monkeypatch.setattr(_xgboost, "SMALL_DMATRIX_CELLS", cells)
        booster, best = _xgboost.early_stop(
            Xm, y, w, split, seed=3, n_jobs=1, monotone=monotone
        )
        margin = booster.predict(
            xgb.DMatrix(Xm, enable_categorical=True),
            output_margin=True,
            iteration_range=(0, best),
        )
        runs.append((best, margin, booster.save_raw("json")))
    (best_a, margin_a, raw_a), (best_b, margin_b, raw_b) = runs
    assert best_a == best_b
    np.testing.assert_array_equal(margin_a, margin_b)
    assert raw_a == raw_b  # the same trees, splits and leaf values


def test_calibrator_with_one_blas_thread_gives_the_same_fit(monkeypatch):
    rng = np.random.default_rng(0)
    margin = rng.normal(size=2_000)
    y = (rng.random(2_000) < 1 / (1 + np.exp(-(0.7 * margin - 1)))).astype(int)
    limited = SigmoidCalibrator().fit(margin, y)
    monkeypatch.setattr(_calibration, "_one_blas_thread", contextlib.nullcontext)
    free = SigmoidCalibrator().fit(margin, y)
    assert (limited.slope_, limited.intercept_) == (free.slope_, free.intercept_)
    assert limited.slope_ == pytest.approx(0.7, abs=0.1)
    assert limited.intercept_ == pytest.approx(-1.0, abs=0.15)


def test_one_blas_thread_restores_the_threads():
    from threadpoolctl import threadpool_info

    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    with _calibration._one_blas_thread():
        inside = {
            i["filepath"]: i["num_threads"]
            for i in threadpool_info()
            if i["user_api"] == "blas"
        }
    assert set(inside.values()) <= {1}
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()] == before

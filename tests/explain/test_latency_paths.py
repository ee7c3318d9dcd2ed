"""The one-account fast paths give exactly what the paths they replace give.

Predict + explain of a few accounts skips fixed per-call work: the second
feature transform of the same rows (``features._memo``), xgboost's pandas
conversion (``models._dmatrix``), column-by-column reads of the features and
their references (``explain._cells``, ``explain._typical``,
``typical_matrix``), the re-typing of categorical columns that already carry
the fitted levels (``models._prep``) and the per-call feature descriptions.
Each is pinned here against the reference path, bit for bit. No timings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.exceptions import SchemaDriftWarning
from churnkit.explain import _reasons
from churnkit.explain._cells import numeric_matrix, objects_as_float
from churnkit.explain._reasons import typical_matrix
from churnkit.explain._typical import typical_block
from churnkit.features import _memo
from churnkit.features._reference import ALL, typical_rows
from churnkit.models import _prep
from churnkit.models._dmatrix import MAX_FAST_ROWS, dmatrix
from churnkit.models._text import text_codes

xgb = pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def fitted():
    data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-03-01")
    labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    model = ck.make_churn_pipeline(data.events, random_state=0).fit(X, y)
    return data, model, X.tail(3).reset_index(drop=True)


def _forget(model) -> None:
    """Drop what the memos keep for ``model``'s feature step: the cold path."""
    step = model.steps[0][1]
    _memo.LAST_TRANSFORM._entries.pop(step, None)
    _memo._DESCRIBED.pop(step, None)


# ----------------------------------------------------------- feature memo
def test_transform_reuse_is_a_fresh_equal_copy(fitted):
    _, model, X = fitted
    features = model.steps[0][1]
    _forget(model)
    cold = features.transform(X)
    again = features.transform(X)
    pd.testing.assert_frame_equal(again, cold, check_exact=True)
    assert again is not cold
    assert dict(again.attrs["feature_directions"]) == dict(
        cold.attrs["feature_directions"]
    )
    again.iloc[0, 0] = -12345.0  # a caller's edit does not leak into the memo
    third = features.transform(X)
    pd.testing.assert_frame_equal(third, cold, check_exact=True)


def test_transform_memo_keys_on_rows_store_and_fit(fitted):
    data, model, X = fitted
    features = model.steps[0][1]
    _forget(model)
    features.transform(X)
    assert _memo.LAST_TRANSFORM.get(features, *_ids_times(X)) is not None
    other = X.iloc[::-1].reset_index(drop=True)  # other order: other rows
    assert _memo.LAST_TRANSFORM.get(features, *_ids_times(other)) is None
    later = X.assign(cutoff_time=X["cutoff_time"] + pd.Timedelta("1D"))
    assert _memo.LAST_TRANSFORM.get(features, *_ids_times(later)) is None
    pd.testing.assert_frame_equal(
        features.transform(other),
        features.transform(X).iloc[::-1],
        check_exact=True,
    )
    copy = ck.datasets.make_saas_events(n_customers=300, random_state=0).events
    ck.set_events(model, copy)  # another store object: recomputed
    try:
        assert _memo.LAST_TRANSFORM.get(features, *_ids_times(X)) is None
    finally:
        ck.set_events(model, data.events)


class _Store:
    """Stands in for an Events store (weakly referable)."""


def test_transform_memo_holds_the_store_weakly():
    import gc
    import weakref

    store = _Store()
    owner = type("Owner", (), {})()
    owner.builders_, owner.events = [], store
    ids, times = np.array([1]), np.array(["2025-01-01"], "datetime64[ns]")
    _memo.keep(owner, ids, times, pd.DataFrame({"a": [1.0]}), [])
    assert _memo.reuse(owner, ids, times) is not None
    alive = weakref.ref(store)
    owner.events = None  # detached: no reuse, and the store can go
    del store
    gc.collect()
    assert alive() is None
    assert _memo.reuse(owner, ids, times) is None


def test_transform_memo_not_kept_for_large_batches():
    owner = type("Owner", (), {"builders_": [], "events": _Store()})()
    ids = np.arange(_memo.MAX_ROWS + 1)
    times = np.zeros(len(ids), dtype="datetime64[ns]")
    frame = pd.DataFrame({"a": np.zeros(len(ids))})
    _memo.keep(owner, ids, times, frame, [])
    assert _memo.reuse(owner, ids, times) is None
    _memo.keep(owner, ids[:2], times[:2], frame.head(2), None)  # nested: no
    assert _memo.reuse(owner, ids[:2], times[:2]) is None


def test_transform_memo_reports_its_warnings_again():
    owner = type("Owner", (), {"builders_": [], "events": _Store()})()
    ids, times = np.array([1, 2]), np.array(["2025-01-01"] * 2, "datetime64[ns]")
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    _memo.keep(owner, ids, times, frame, ["usage.event: 1 value(s) not seen"])
    with pytest.warns(SchemaDriftWarning, match="not seen"):
        out = _memo.reuse(owner, ids, times)
    pd.testing.assert_frame_equal(out, frame)
    owner.builders_ = []  # a refit replaces the list: the entry is stale
    assert _memo.reuse(owner, ids, times) is None


def test_object_ids_compare_by_type_and_value():
    a = np.array(["C-1", 2], dtype=object)
    assert _memo._same_array(a, np.array(["C-1", 2], dtype=object))
    assert not _memo._same_array(a, np.array(["C-1", 2.0], dtype=object))
    assert not _memo._same_array(a, np.array(["C-1", "2"], dtype=object))


def _ids_times(X):
    from churnkit.features._frame import read_X

    return read_X(X)


def test_describe_features_cached_copy(fitted):
    _, model, _ = fitted
    features = model.steps[0][1]
    _forget(model)
    first = features.describe_features()
    first.loc[0, "feature"] = "edited"
    second = features.describe_features()
    assert second.loc[0, "feature"] != "edited"
    _memo._DESCRIBED.pop(features, None)
    pd.testing.assert_frame_equal(features.describe_features(), second)


# ------------------------------------------------- predict then explain
def test_explain_after_predict_equals_cold_explain(fitted):
    _, model, X = fitted
    _forget(model)
    cold = ck.ChurnExplainer(model).explain(X)
    cold_drivers = cold.top_drivers(k=3)
    cold_proba = model.predict_proba(X)
    _forget(model)
    warm_proba = model.predict_proba(X)  # fills the memo
    warm = ck.ChurnExplainer(model).explain(X)  # reuses the features
    np.testing.assert_array_equal(warm_proba, cold_proba)
    pd.testing.assert_frame_equal(warm.values, cold.values, check_exact=True)
    pd.testing.assert_series_equal(warm.base_values, cold.base_values)
    pd.testing.assert_frame_equal(warm.data, cold.data, check_exact=True)
    pd.testing.assert_frame_equal(warm.top_drivers(k=3), cold_drivers)
    pd.testing.assert_frame_equal(warm.reference, cold.reference)


# ------------------------------------------------------------- DMatrix
def _model_input(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    plan = pd.Categorical.from_codes(
        rng.integers(-1, 3, size=n), categories=["basic", "pro", "team"]
    )
    index = pd.MultiIndex.from_arrays(
        [np.arange(n), np.full(n, np.datetime64("2025-01-01", "ns"))],
        names=["customer_id", "cutoff_time"],
    )
    Xm = pd.DataFrame({"x": x, "plan": plan, "z": rng.normal(size=n)}, index=index)
    y = (np.nan_to_num(x) + (plan.codes == 1) + rng.normal(size=n) > 0.5).astype(int)
    return Xm, y


def test_dmatrix_gives_the_pandas_path_predictions():
    Xm, y = _model_input()
    booster = xgb.train(
        {"max_depth": 3, "objective": "binary:logistic"},
        xgb.DMatrix(Xm, label=y, enable_categorical=True),
        num_boost_round=20,
    )
    for rows in (Xm.iloc[:1], Xm.iloc[::7], Xm):
        slow = xgb.DMatrix(rows, enable_categorical=True, nthread=1)
        fast = dmatrix(rows, nthread=1)
        assert fast.feature_names == slow.feature_names
        assert fast.feature_types == slow.feature_types
        for kw in ({"output_margin": True}, {"pred_contribs": True}):
            np.testing.assert_array_equal(
                booster.predict(fast, **kw), booster.predict(slow, **kw)
            )


def test_dmatrix_falls_back_for_other_inputs():
    Xm, _ = _model_input(n=5)
    ints = Xm.assign(z=np.arange(5))  # int64: xgboost's own path decides
    assert dmatrix(ints, nthread=1).feature_types == ["float", "c", "int"]
    big, _ = _model_input(n=MAX_FAST_ROWS + 1)
    assert dmatrix(big, nthread=1).num_row() == MAX_FAST_ROWS + 1
    arr = np.zeros((2, 3))
    assert dmatrix(arr, nthread=1).num_col() == 3


# -------------------------------------------------------- numeric cells
def _numeric_by_column(frame):
    """The per-column reading ``numeric_matrix`` replaces."""
    cols = []
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype("float64")
            codes[codes < 0] = np.nan
            cols.append(codes)
        elif pd.api.types.is_numeric_dtype(col.dtype):
            cols.append(col.to_numpy(dtype="float64", na_value=np.nan))
        else:
            cols.append(np.full(len(col), np.nan))
    return np.column_stack(cols)


def test_numeric_matrix_equals_column_by_column():
    frame = pd.DataFrame(
        {
            "f": [1.5, np.nan, -2.0],
            "plan": pd.Categorical(["a", None, "b"], categories=["b", "a"]),
            "i": [1, 2, 3],
            "flag": [True, False, True],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "text": ["x", "y", None],
            "g": [0.0, 1.0, 2.0],
        }
    )
    expected = _numeric_by_column(frame)
    np.testing.assert_array_equal(numeric_matrix(frame), expected)
    assert numeric_matrix(frame.iloc[:0]).shape == (0, 7)


_plain = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**53), max_value=2**53),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_plain, min_size=3, max_size=3), min_size=1, max_size=6))
def test_objects_as_float_equals_to_numeric(rows):
    block = np.array(rows, dtype=object).reshape(len(rows), 3)
    fast = objects_as_float(block)
    assert fast is not None
    for j in range(3):
        slow = pd.to_numeric(pd.Series(block[:, j]), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        np.testing.assert_array_equal(fast[:, j], slow)


@pytest.mark.parametrize("odd", [True, "3", pd.NA, np.bool_(False)])
def test_objects_as_float_declines_non_numbers(odd):
    assert objects_as_float(np.array([[1.0, odd]], dtype=object)) is None


# ------------------------------------------------------ typical values
def _band_table():
    table = pd.DataFrame(
        {"a": [1.0, 2.0, np.nan], "b": ["x", "y", "z"], "c": [5, 6, 7]},
        index=pd.Index([ALL, 0, 3], name="tenure_band"),
    )
    return table.astype(object)


def test_typical_block_equals_typical_rows():
    table = _band_table()
    bands = np.array([0, 3, 5, ALL, 0, 1])
    block = typical_block(table, bands, ["a", "b", "c"])
    for j, c in enumerate("abc"):
        expected = typical_rows(table, bands, c)
        assert [repr(v) for v in block[:, j]] == [repr(v) for v in expected]


def test_typical_block_declines_unsorted_or_duplicate_bands():
    table = _band_table()
    assert typical_block(table.iloc[[1, 0, 2]], [0], ["a"]) is None
    assert typical_block(table.iloc[[0, 1, 1, 2]], [0], ["a"]) is None
    assert typical_block(table.iloc[1:], [0], ["a"]) is None  # no all-rows band


def test_typical_matrix_fast_equals_slow(monkeypatch):
    index = pd.MultiIndex.from_arrays(
        [["C-1", "C-2", "C-3"], pd.to_datetime(["2025-01-01"] * 3)],
        names=["customer_id", "cutoff_time"],
    )
    data = pd.DataFrame(
        {
            "n": [1.0, 2.0, np.nan],
            "plan": pd.Categorical(["a", "b", None], categories=["a", "b"]),
            "k": [3.0, 4.0, 5.0],
        },
        index=index,
    )
    given = pd.DataFrame(
        {"n": [2.0, None, 7], "plan": ["b", "a", None], "k": [1, 2.5, np.nan]},
        index=index,
    ).astype(object)
    fast = typical_matrix(data, given, None, 3)
    monkeypatch.setattr(_reasons, "objects_as_float", lambda block: None)
    slow = typical_matrix(data, given, None, 3)
    np.testing.assert_array_equal(fast, slow)
    assert np.isnan(fast[1, 0]) and fast[0, 1] == 1.0 and fast[2, 2] != fast[2, 2]


# ------------------------------------------- categorical re-typing
def test_to_categorical_of_fitted_levels_equals_general_path():
    levels = ["basic", "pro", _prep.INFREQUENT]
    series = pd.Series(
        pd.Categorical(["pro", None, _prep.INFREQUENT, "basic"], categories=levels)
    )
    fast = _prep._to_categorical(series, levels)
    codes, text = text_codes(series)
    level_of_text = pd.Index(levels, dtype=object).get_indexer(text)
    slow = pd.Categorical.from_codes(
        np.append(level_of_text, -1)[codes], categories=levels
    )
    assert fast.dtype == slow.dtype
    np.testing.assert_array_equal(fast.codes, slow.codes)
    other = pd.Series(pd.Categorical(["pro", "x"], categories=["x", "pro"]))
    moved = _prep._to_categorical(other, levels)  # other levels: general path
    assert list(moved.astype(object)) == ["pro", _prep.INFREQUENT]


def test_no_warning_from_reuse_without_reports(fitted):
    _, model, X = fitted
    _forget(model)
    model.predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SchemaDriftWarning)
        ck.ChurnExplainer(model).explain(X)


# ------------------------------------------------ unseen-value counts
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 5), st.integers(0, 50)), min_size=0, max_size=40
    ),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.lists(st.integers(-5, 60), min_size=1, max_size=4),
)
def test_unseen_counts_equal_a_full_scan(events, known, cutoffs):
    from churnkit.features._unseen import unseen_counts

    table = type("Table", (), {})()
    table.columns = {"kind": np.array([c for c, _ in events], dtype=np.int32)}
    table.time = np.array([t for _, t in events], dtype=np.int64)
    known = np.array(known)
    for max_cutoff in cutoffs:  # the first call scans, the others reuse
        codes = table.columns["kind"][table.time < max_cutoff]
        full = np.bincount(codes[codes >= 0].astype(np.int64), minlength=6)
        got = unseen_counts(table, "kind", known, max_cutoff)
        np.testing.assert_array_equal(got[~known], full[~known])
        assert not got[known].any()


def test_typical_by_tenure_block_gives_the_same_references(fitted, monkeypatch):
    from churnkit.explain import _explainer

    _, model, X = fitted
    F = model.steps[0][1].transform(X)
    fast = _explainer.typical_by_tenure(model, F)
    monkeypatch.setattr(_explainer, "typical_block", lambda *args: None)
    slow = _explainer.typical_by_tenure(model, F)  # column by column
    assert list(fast.columns) == list(slow.columns) and len(fast.columns) > 10
    np.testing.assert_array_equal(
        typical_matrix(F, fast, None, len(F)), typical_matrix(F, slow, None, len(F))
    )

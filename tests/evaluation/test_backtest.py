"""Tests for churnkit.evaluation._backtest: CutoffSplit and backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone

from churnkit import ChurnkitTypeError, SchemaError
from churnkit.evaluation import CutoffSplit, backtest
from churnkit.models import ChurnClassifier

MONTHS = pd.to_datetime(
    ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
)


def cutoff_table(times=MONTHS, per_cutoff=2):
    """The cutoff table: customer_id, cutoff_time; rows grouped by cutoff."""
    return pd.DataFrame(
        {
            "customer_id": np.tile(np.arange(per_cutoff), len(times)),
            "cutoff_time": np.repeat(pd.DatetimeIndex(times), per_cutoff),
        }
    )


def folds(cv, X):
    return [(train.tolist(), test.tolist()) for train, test in cv.split(X)]


def panel(n_customers=300, n_cutoffs=6, seed=0):
    """Features indexed by (customer_id, cutoff_time), as the builders return."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [np.arange(n_customers), cutoffs], names=["customer_id", "cutoff_time"]
    )
    n = len(index)
    X = pd.DataFrame(
        {"usage": rng.normal(size=n), "tickets": rng.poisson(1.0, size=n)},
        index=index,
    ).astype(float)
    p = expit(-1.0 - 1.5 * X["usage"] + 0.4 * X["tickets"])
    y = pd.Series((rng.random(n) < p).astype(int), index=index, name="churned")
    return X, y


# --------------------------------------------------------------------------- #
# CutoffSplit: hand-checked folds
# --------------------------------------------------------------------------- #
def test_each_fold_tests_one_later_cutoff_and_trains_on_closed_windows():
    X = cutoff_table()  # rows 0-1 Jan, 2-3 Feb, 4-5 Mar, 6-7 Apr, 8-9 May
    cv = CutoffSplit(n_splits=2, horizon="30D")
    # test Apr 1: Mar 1 + 30D = Mar 31 <= Apr 1, so Jan..Mar train
    # test May 1: Apr 1 + 30D = May 1 <= May 1 (the window is half-open)
    assert folds(cv, X) == [
        ([0, 1, 2, 3, 4, 5], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]),
    ]
    assert cv.get_n_splits() == 2


def test_rows_whose_label_window_reaches_into_the_test_period_are_dropped():
    X = cutoff_table()
    # Mar 1 + 32D = Apr 2 > Apr 1: March is dropped from the April fold;
    # Apr 1 + 32D = May 3 > May 1: April is dropped from the May fold.
    cv = CutoffSplit(n_splits=2, horizon="32D")
    assert folds(cv, X) == [
        ([0, 1, 2, 3], [6, 7]),
        ([0, 1, 2, 3, 4, 5], [8, 9]),
    ]


def test_gap_moves_the_label_window():
    X = cutoff_table()
    # Feb 1 + 15D + 30D = Mar 17 <= Apr 1; Mar 1 + 45D = Apr 15 > Apr 1
    cv = CutoffSplit(n_splits=1, horizon="30D", gap="15D", test_size=1)
    assert folds(cv, X) == [([0, 1, 2, 3, 4, 5], [8, 9])]
    cv = CutoffSplit(n_splits=2, horizon="30D", gap="15D")
    assert folds(cv, X)[0] == ([0, 1, 2, 3], [6, 7])


def test_calendar_offset_horizon():
    times = pd.to_datetime(["2024-01-01", "2024-02-15", "2024-03-01", "2024-03-20"])
    X = cutoff_table(times, per_cutoff=1)
    # test Mar 20: Feb 15 + 1MS = Mar 1 <= Mar 20; Mar 1 + 1MS = Apr 1 > Mar 20
    assert folds(CutoffSplit(1, horizon="1MS"), X) == [([0, 1], [3])]
    # the same span as a Timedelta: Feb 15 + 30D = Mar 16 <= Mar 20 as well
    assert folds(CutoffSplit(1, horizon="30D"), X) == [([0, 1], [3])]


def test_test_size_groups_consecutive_cutoffs():
    X = cutoff_table()
    cv = CutoffSplit(n_splits=1, horizon="30D", test_size=2)
    # test Apr + May; training is bounded by the earliest test cutoff, Apr 1
    assert folds(cv, X) == [([0, 1, 2, 3, 4, 5], [6, 7, 8, 9])]


def test_rows_in_any_order_and_cutoff_as_index_level():
    X = cutoff_table().sample(frac=1, random_state=0)
    cv = CutoffSplit(n_splits=2, horizon="30D")
    times = X["cutoff_time"].to_numpy()
    for (train, test), month in zip(cv.split(X), MONTHS[3:], strict=True):
        assert (times[test] == month).all() and len(test) == 2
        assert (times[train] < month).all() and len(train) == 2 * (month.month - 1)
    indexed = X.set_index(["customer_id", "cutoff_time"])
    assert folds(cv, indexed) == folds(cv, X)


def test_timezone_aware_cutoffs():
    X = cutoff_table(MONTHS.tz_localize("Europe/Paris"))
    # compared in UTC: Apr 1 00:00 CEST + 30D = May 1 00:00 CEST, still <= May 1
    assert folds(CutoffSplit(1, horizon="30D"), X) == [(list(range(8)), [8, 9])]
    assert folds(CutoffSplit(1, horizon="31D"), X) == [(list(range(6)), [8, 9])]


def test_repr_shows_the_parameters():
    assert repr(CutoffSplit(2, horizon="1MS")) == (
        "CutoffSplit(gap='0D', horizon='1MS', n_splits=2, test_size=1)"
    )


# --------------------------------------------------------------------------- #
# CutoffSplit: errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"horizon": "30"}, SchemaError, r"`horizon` must be a duration with a unit"),
        ({"horizon": "-30D"}, SchemaError, r"`horizon` must be positive"),
        ({"horizon": "0D"}, SchemaError, r"`horizon` must be positive"),
        ({"horizon": 30}, SchemaError, r"`horizon` must carry a unit"),
        ({"horizon": "30D", "gap": "-1D"}, SchemaError, r"`gap` must be non-negative"),
        (
            {"horizon": "30D", "n_splits": 0},
            SchemaError,
            r"`n_splits` must be at least",
        ),
        ({"horizon": "30D", "n_splits": 2.0}, ChurnkitTypeError, r"`n_splits` must be"),
        ({"horizon": "30D", "test_size": 0}, SchemaError, r"`test_size` must be at"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        CutoffSplit(**kwargs)


def test_horizon_is_required():
    with pytest.raises(TypeError, match="horizon"):
        CutoffSplit(3)


def test_too_few_cutoffs():
    X = cutoff_table(MONTHS[:3])
    with pytest.raises(SchemaError, match=r"needs at least 4 distinct cutoff times"):
        list(CutoffSplit(3, horizon="30D").split(X))


def test_no_training_rows_for_a_fold():
    X = cutoff_table(MONTHS[:2])
    with pytest.raises(SchemaError, match=r"nothing to train on"):
        list(CutoffSplit(1, horizon="60D").split(X))


def test_x_without_cutoff_time():
    with pytest.raises(SchemaError, match=r"needs X with a `cutoff_time` column"):
        list(CutoffSplit(1, horizon="30D").split(pd.DataFrame({"a": [1, 2]})))
    with pytest.raises(SchemaError, match=r"got ndarray"):
        list(CutoffSplit(1, horizon="30D").split(np.zeros((4, 2))))


def test_missing_cutoff_time():
    X = cutoff_table()
    X.loc[3, "cutoff_time"] = pd.NaT
    with pytest.raises(SchemaError, match=r"1 null value\(s\), e.g. at rows \[3\]"):
        list(CutoffSplit(1, horizon="30D").split(X))


def test_numbers_as_cutoff_times_are_an_error():
    # 20240301 must not be read as nanoseconds since 1970 (it once failed later
    # with "Fold 0 tests on cutoff 1970-01-01 00:00:00.020240401")
    X = cutoff_table().assign(
        cutoff_time=np.repeat([20240101, 20240201, 20240301, 20240401, 20240501], 2)
    )
    with pytest.raises(
        SchemaError,
        match=r"`X\['cutoff_time'\]` holds numbers \(dtype int64, e\.g\. \[20240101, "
        r"20240101, 20240201\]\), which are ambiguous: 20240301 would be read as "
        r"nanoseconds since 1970\. Pass dates, e\.g\. "
        r"`pd\.to_datetime\(X\['cutoff_time'\]\.astype\(str\), format='%Y%m%d'\)`",
    ):
        list(CutoffSplit(1, horizon="30D").split(X))
    index = pd.MultiIndex.from_frame(X)
    with pytest.raises(SchemaError, match=r"`cutoff_time` index level of `X` holds"):
        list(CutoffSplit(1, horizon="30D").split(pd.Series(0.0, index=index)))


def _error(call):
    with pytest.raises(SchemaError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (
            [20240301, 20240401],
            "`X['cutoff_time']` holds numbers (dtype int64, e.g. [20240301, "
            "20240401]), which are ambiguous: 20240301 would be read as nanoseconds "
            "since 1970. "
            "Pass dates, e.g. `pd.to_datetime(X['cutoff_time'].astype(str), "
            "format='%Y%m%d')`.",
        ),
        (
            ["2024-03-01", "soon"],
            "`X['cutoff_time']` could not be read as dates, e.g. ['soon']. Pass "
            "datetimes or text such as '2024-03-01'.",
        ),
        (
            [pd.Timestamp("2024-03-01"), pd.NaT],
            "`X['cutoff_time']` has 1 null value(s), e.g. at rows [1]; every row "
            "needs a cutoff time.",
        ),
    ],
)
def test_every_cutoff_reader_gives_the_same_error(saas, times, message):
    # label_churn, the feature builders and CutoffSplit share one reader
    import churnkit as ck

    events = saas.events
    ids = events._engine.customer_ids[:2].tolist()
    good = pd.DataFrame({"customer_id": ids, "cutoff_time": pd.Timestamp("2024-03-01")})
    bad = pd.DataFrame({"customer_id": ids, "cutoff_time": times})
    builder = ck.UsageFeatures(events).fit(good)
    errors = [
        _error(lambda: ck.label_churn(events, bad)).replace("cutoffs['", "X['"),
        _error(lambda: builder.transform(bad)),
        _error(lambda: list(CutoffSplit(1, horizon="30D").split(bad))),
    ]
    assert errors == [message] * 3


# --------------------------------------------------------------------------- #
# backtest
# --------------------------------------------------------------------------- #
def test_backtest_returns_one_row_per_fold_with_evaluate_metrics():
    from churnkit import evaluate

    X, y = panel()
    est = ChurnClassifier("logistic", calibration=None)
    cv = CutoffSplit(n_splits=2, horizon="1MS")
    result = backtest(est, X, y, cv=cv)
    assert list(result.index) == [0, 1]
    assert result.index.name == "fold"
    assert result["test_cutoff"].tolist() == [
        pd.Timestamp("2024-05-01"),
        pd.Timestamp("2024-06-01"),
    ]
    assert result["last_train_cutoff"].tolist() == [
        pd.Timestamp("2024-04-01"),
        pd.Timestamp("2024-05-01"),
    ]
    assert result["n_train"].tolist() == [1200, 1500]
    assert result["n_test"].tolist() == [300, 300]
    # fold 0 by hand
    train, test = next(cv.split(X))
    fitted = clone(est).fit(X.iloc[train], y.iloc[train])
    expected = evaluate(y.iloc[test], fitted.predict_proba(X.iloc[test])[:, 1])
    for name, value in expected.items():
        assert result.loc[0, name] == pytest.approx(value), name


def test_backtest_maps_string_labels_and_accepts_an_int_cv():
    X, y = panel(n_customers=100, n_cutoffs=2)
    labels = np.where(y == 1, "churned", "active")  # classes_[1] == "churned"
    result = backtest(ChurnClassifier("logistic", calibration=None), X, labels, cv=3)
    assert len(result) == 3
    # stratified 3-fold mixes both cutoffs: the earliest test cutoff is January
    assert (result["test_cutoff"] == pd.Timestamp("2024-01-01")).all()
    assert (result["last_train_cutoff"] == pd.Timestamp("2024-02-01")).all()
    assert result["positives"].sum() == (labels == "churned").sum()


def test_backtest_parallel_matches_sequential():
    X, y = panel(n_customers=100)
    est = ChurnClassifier("logistic", calibration=None)
    cv = CutoffSplit(n_splits=2, horizon="30D")
    pd.testing.assert_frame_equal(
        backtest(est, X, y, cv=cv), backtest(est, X, y, cv=cv, n_jobs=2)
    )


def test_backtest_needs_predict_proba():
    from sklearn.svm import LinearSVC

    X, y = panel(n_customers=50, n_cutoffs=3)
    with pytest.raises(ChurnkitTypeError, match=r"LinearSVC has none"):
        backtest(LinearSVC(), X, y, cv=CutoffSplit(1, horizon="30D"))

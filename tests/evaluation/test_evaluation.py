"""Tests of churnkit.evaluation: every expected number below is computed by hand."""

from __future__ import annotations

import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import churnkit as ck
from churnkit.evaluation import (
    campaign_profit,
    emp_fraction,
    emp_score,
    evaluate,
    expected_calibration_error,
    lift_table,
    plot_calibration,
    plot_gains,
    plot_lift,
)
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError

matplotlib.use("Agg")

# Ten customers, already in descending score order; 4 churners at ranks 1, 2, 4, 7.
Y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------


def test_evaluate_hand_computed():
    scores = evaluate(Y, P)
    # each churner beats 6, 6, 5 and 3 of the 6 non-churners: 20 of 24 pairs
    roc_auc = 20 / 24
    # precision at the churners' ranks 1, 2, 4, 7
    pr_auc = (1 / 1 + 2 / 2 + 3 / 4 + 4 / 7) / 4
    log_loss = -np.mean(
        np.log([0.9, 0.8, 0.3, 0.6, 0.5, 0.6, 0.3, 0.8, 0.9, 0.95])  # p or 1 - p
    )
    brier = (0.01 + 0.04 + 0.49 + 0.16 + 0.25 + 0.16 + 0.49 + 0.04 + 0.01 + 0.0025) / 10
    # ten distinct values in ten quantile bins: one customer per bin
    ece = (0.1 + 0.2 + 0.7 + 0.4 + 0.5 + 0.4 + 0.7 + 0.2 + 0.1 + 0.05) / 10
    expected = pd.Series(
        {
            "n": 10.0,
            "positives": 4.0,
            "base_rate": 0.4,
            "roc_auc": roc_auc,
            "pr_auc": pr_auc,
            "log_loss": log_loss,
            "brier": brier,
            "ece": ece,
            "lift@5%": 2.5,  # half a customer, a churner: 0.5 / 4 / 0.05
            "capture@5%": 0.125,
            "lift@10%": 2.5,  # top 1: one of four churners, / 0.1
            "capture@10%": 0.25,
            "lift@20%": 2.5,  # top 2: both churners
            "capture@20%": 0.5,
        },
        name="score",
    )
    pd.testing.assert_series_equal(scores, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("k", "capture"),
    [
        (0.3, 2 / 4),  # top 3: churners at ranks 1 and 2
        (0.25, 2 / 4),  # 2.5 customers: 2 + half of a non-churner
        (0.35, 2.5 / 4),  # 3.5 customers: 2 + half of the rank-4 churner
        (1.0, 1.0),
    ],
)
def test_evaluate_lift_at_fractional_cutoffs(k, capture):
    scores = evaluate(Y, P, fractions=(k,))
    label = f"{100 * k:g}%"
    assert scores[f"capture@{label}"] == pytest.approx(capture)
    assert scores[f"lift@{label}"] == pytest.approx(capture / k)


def test_evaluate_ties_count_pro_rata_and_ignore_row_order():
    # the top 2 of 4 cut a group of 3 tied scores holding 1 churner: 2/3 expected
    y = [1, 0, 0, 1]
    s = [0.5, 0.5, 0.5, 0.2]
    scores = evaluate(y, s, fractions=(0.5,))
    assert scores["capture@50%"] == pytest.approx((2 / 3) / 2)
    assert scores["lift@50%"] == pytest.approx((1 / 3) / 0.5)
    shuffled = evaluate([0, 0, 1, 1], [0.5, 0.5, 0.2, 0.5], fractions=(0.5,))
    pd.testing.assert_series_equal(scores, shuffled)


def test_constant_score_has_lift_one_even_when_rows_are_sorted_by_label():
    y = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    scores = evaluate(y, [0.2] * 10, fractions=(0.1, 0.2))
    assert scores["lift@10%"] == pytest.approx(1.0)
    assert scores["lift@20%"] == pytest.approx(1.0)
    assert scores["roc_auc"] == pytest.approx(0.5)


def test_evaluate_accepts_bool_and_series_and_aligns_on_index():
    index = list("abcdefghij")
    y = pd.Series(Y.astype(bool), index=index)
    p = pd.Series(P, index=index)
    expected = evaluate(Y, P)
    pd.testing.assert_series_equal(evaluate(y, p), expected)
    pd.testing.assert_series_equal(evaluate(y, p.iloc[::-1]), expected)
    pd.testing.assert_series_equal(evaluate(y.to_frame(), p), expected)


def test_top_level_name_calls_the_function():
    pd.testing.assert_series_equal(ck.evaluate(Y, P), evaluate(Y, P))
    assert ck.lift_table is lift_table
    assert ck.prioritize.__module__ == "churnkit.targeting"


@pytest.mark.parametrize(
    ("y", "why"), [([0, 0, 0], "no churners"), ([1, 1, 1], "only churners")]
)
def test_single_class_gives_nan_auc_with_a_warning(y, why):
    with pytest.warns(ChurnkitWarning, match=why):
        scores = evaluate(y, [0.2, 0.5, 0.9])
    assert np.isnan(scores["roc_auc"]) and np.isnan(scores["pr_auc"])
    assert np.isfinite(scores["log_loss"]) and np.isfinite(scores["brier"])
    if why == "only churners":
        assert scores["lift@10%"] == pytest.approx(1.0)
        assert scores["capture@10%"] == pytest.approx(0.1)
    else:
        assert np.isnan(scores["lift@10%"])


def test_log_loss_clips_certain_mistakes():
    scores = evaluate([1, 0], [0.0, 0.0])  # p = 0 for a churner: clipped to 1e-15
    expected = (-math.log(1e-15) - math.log1p(-1e-15)) / 2
    assert scores["log_loss"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("y", "s", "error", "match"),
    [
        ([0, 1, 1], [0.2, 1.5, -0.1], SchemaError, r"2 values are not, e\.g\. \[1\.5"),
        ([0, 1, 1], [0.2, np.nan, 0.1], SchemaError, r"1 missing values \(NaN\)"),
        (
            [0, 1, 1],
            [0.2, 0.3],
            SchemaError,
            r"`y_true` has 3 rows but `y_score` has 2",
        ),
        ([0, 2, 1], [0.2, 0.3, 0.4], SchemaError, r"must hold 0/1.*\[2\]"),
        (["no", "yes"], [0.2, 0.3], SchemaError, r"must hold 0/1"),
        ([0, np.nan], [0.2, 0.3], SchemaError, r"`y_true` has 1 missing values"),
        ([0, 1], [[0.8, 0.2], [0.3, 0.7]], SchemaError, r"predict_proba\(X\)\[:, 1\]"),
        ([0, 1], ["a", "b"], SchemaError, r"must be numeric"),
        ([], [], SchemaError, r"empty"),
        ([0, 1], 0.5, ChurnkitTypeError, r"one value per customer"),
    ],
)
def test_evaluate_errors(y, s, error, match):
    with pytest.raises(error, match=match):
        evaluate(y, s)


def test_misaligned_series_name_the_extra_labels():
    y = pd.Series([0, 1], index=["a", "b"])
    p = pd.Series([0.1, 0.9], index=["a", "z"])
    with pytest.raises(SchemaError, match=r"different indexes: 1 index labels.*'z'"):
        evaluate(y, p)


@pytest.mark.parametrize(
    ("fractions", "error", "match"),
    [
        (0.1, ChurnkitTypeError, r"sequence of fractions.*\(0\.1,\)"),
        ((1.5,), SchemaError, r"fraction in \(0, 1\]"),
        ((0,), SchemaError, r"fraction in \(0, 1\]"),
    ],
)
def test_evaluate_bad_fractions(fractions, error, match):
    with pytest.raises(error, match=match):
        evaluate(Y, P, fractions=fractions)


# --------------------------------------------------------------------------
# lift and gains tables
# --------------------------------------------------------------------------


def test_lift_table_by_quintile():
    table = lift_table(Y, P, n_bins=5)
    # bins of two: churners (1, 1), (0, 1), (0, 0), (1, 0), (0, 0); base rate 0.4
    expected = pd.DataFrame(
        {
            "n": [2, 2, 2, 2, 2],
            "churners": [2.0, 1.0, 0.0, 1.0, 0.0],
            "churn_rate": [1.0, 0.5, 0.0, 0.5, 0.0],
            "cum_fraction": [0.2, 0.4, 0.6, 0.8, 1.0],
            "cum_churners": [2.0, 3.0, 3.0, 4.0, 4.0],
            "cum_capture": [0.5, 0.75, 0.75, 1.0, 1.0],
            "lift": [2.5, 1.25, 0.0, 1.25, 0.0],
            "cum_lift": [2.5, 1.875, 1.25, 1.25, 1.0],
            "min_score": [0.8, 0.6, 0.4, 0.2, 0.05],
            "max_score": [0.9, 0.7, 0.5, 0.3, 0.1],
        },
        index=pd.RangeIndex(1, 6, name="bin"),
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table["n"].dtype.kind == "i"


def test_lift_table_uneven_bins_and_shuffled_rows():
    order = np.random.default_rng(0).permutation(10)
    table = lift_table(Y[order], P[order], n_bins=3)
    # sizes 4, 3, 3 (first bins get the remainder): churners 3, 1, 0
    assert table["n"].tolist() == [4, 3, 3]
    assert table["churners"].tolist() == [3.0, 1.0, 0.0]
    assert table["cum_lift"].iloc[0] == pytest.approx((3 / 4) / 0.4)


def test_lift_table_splits_ties_across_bins_pro_rata():
    # four tied scores with 2 churners straddle the boundary of two bins of 3
    table = lift_table([1, 1, 0, 0, 1, 0], [0.9, 0.5, 0.5, 0.5, 0.5, 0.1], n_bins=2)
    # bin 1: the 0.9 churner + 2 of the 4 tied (2 churners): 1 + 2 * 2 / 4
    assert table["churners"].tolist() == [2.0, 1.0]
    assert table["min_score"].tolist() == [0.5, 0.1]


def test_lift_table_without_churners_warns():
    with pytest.warns(ChurnkitWarning, match="no churners"):
        table = lift_table([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4], n_bins=2)
    assert table["churners"].tolist() == [0.0, 0.0]
    assert table["lift"].isna().all()


@pytest.mark.parametrize(
    ("bins", "error", "match"),
    [
        (11, SchemaError, r"cannot split 10 customers into 11 bins"),
        (0, SchemaError, r"`n_bins` must be at least 1"),
        (2.5, ChurnkitTypeError, r"`n_bins` must be an integer"),
    ],
)
def test_lift_table_bad_bins(bins, error, match):
    with pytest.raises(error, match=match):
        lift_table(Y, P, n_bins=bins)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.1, 0.3, 0.5, 0.7])),
        min_size=4,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_row_order_never_matters(rows, random):
    y, s = map(np.array, zip(*rows, strict=True))
    shuffled = list(range(len(rows)))
    random.shuffle(shuffled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChurnkitWarning)
        first = evaluate(y, s)
        second = evaluate(y[shuffled], s[shuffled])
        table = lift_table(y, s, n_bins=4)
        table_shuffled = lift_table(y[shuffled], s[shuffled], n_bins=4)
    pd.testing.assert_series_equal(first, second, rtol=1e-9)
    pd.testing.assert_frame_equal(table, table_shuffled, rtol=1e-9)
    assert np.isclose(table["churners"].sum(), y.sum())


# --------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_bins", "strategy", "expected"),
    [
        # bins: {.05 .. .4} rate .2 vs mean .21; {.5 .. .9} rate .6 vs mean .7
        (2, "quantile", 0.5 * 0.01 + 0.5 * 0.1),
        # [0, .25]: 0 vs .35/3; (.25, .5]: 1/3 vs .4; (.5, .75]: .5 vs .65;
        # (.75, 1]: 1 vs .85
        (
            4,
            "uniform",
            0.3 * (0.35 / 3) + 0.3 * (0.4 - 1 / 3) + 0.2 * 0.15 + 0.2 * 0.15,
        ),
        (10, "quantile", 0.335),
    ],
)
def test_expected_calibration_error(n_bins, strategy, expected):
    ece = expected_calibration_error(Y, P, n_bins=n_bins, strategy=strategy)
    assert ece == pytest.approx(expected)


def test_ece_matches_sklearn_calibration_curve_bins():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(1)
    p = np.round(rng.uniform(size=300), 2)  # many ties
    y = (rng.uniform(size=300) < p).astype(int)
    for strategy in ("quantile", "uniform"):
        rate, mean_p = calibration_curve(y, p, n_bins=7, strategy=strategy)
        edges = (
            np.quantile(p, np.linspace(0, 1, 8))
            if strategy == "quantile"
            else np.linspace(0, 1, 8)
        )
        count = np.bincount(np.searchsorted(edges[1:-1], p), minlength=7)
        count = count[count > 0]
        expected = np.sum(count * np.abs(rate - mean_p)) / 300
        got = expected_calibration_error(y, p, n_bins=7, strategy=strategy)
        assert got == pytest.approx(expected)


def test_ece_errors():
    with pytest.raises(SchemaError, match="'quantile'.*'uniform'.*got 'equal'"):
        expected_calibration_error(Y, P, strategy="equal")
    with pytest.raises(SchemaError, match=r"`y_prob` must be probabilities"):
        expected_calibration_error([0, 1], [0.5, 2.0])


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


@pytest.fixture
def ax(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show called"))
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_plot_gains_draws_the_curve_and_overlays(ax):
    out = plot_gains(Y, P, ax=ax, label="model A", color="C1")
    assert out is ax
    curve = ax.get_lines()[-1]
    np.testing.assert_allclose(curve.get_xdata(), np.linspace(0, 1, 11))
    np.testing.assert_allclose(
        curve.get_ydata(), [0, 0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1, 1, 1]
    )
    plot_gains(Y, P[::-1], ax=ax, label="model B")
    assert len(ax.get_lines()) == 3  # one diagonal, two models
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Random", "model A", "model B"]


def test_plots_fall_back_to_current_axes(ax):
    import matplotlib.pyplot as plt

    plt.sca(ax)
    assert plot_lift(Y, P) is ax
    assert plot_calibration(Y, P) is ax
    assert plot_gains(Y, P) is ax
    assert ax.get_legend() is None


def test_plot_lift_values(ax):
    plot_lift(Y, P, ax=ax, label="m")
    plot_lift(Y, P, ax=ax)
    assert len(ax.get_lines()) == 3  # the lift = 1 line is drawn once
    curve = ax.get_lines()[1]
    x, lift = curve.get_xdata(), curve.get_ydata()
    assert lift[np.isclose(x, 0.1)][0] == pytest.approx(2.5)
    assert lift[np.isclose(x, 0.4)][0] == pytest.approx(0.75 / 0.4)
    assert lift[-1] == pytest.approx(1.0)


def test_plot_calibration_points(ax):
    plot_calibration(Y, P, n_bins=2, ax=ax, label="m")
    plot_calibration(Y, P, n_bins=2, ax=ax, label="again")
    diagonal, points = ax.get_lines()[0], ax.get_lines()[1]
    assert diagonal.get_label() == "Perfectly calibrated"
    np.testing.assert_allclose(points.get_xdata(), [0.21, 0.7])
    np.testing.assert_allclose(points.get_ydata(), [0.2, 0.6])
    assert points.get_marker() == "o"
    assert len(ax.get_lines()) == 3


def test_plot_gains_without_churners_raises(ax):
    with pytest.raises(SchemaError, match="no churners"):
        plot_gains([0, 0], [0.1, 0.2], ax=ax)


# --------------------------------------------------------------------------
# campaign profit
# --------------------------------------------------------------------------

COSTS = {"contact_cost": 1, "incentive": 10, "accept_rate": 0.5}


def test_campaign_profit_every_cutoff():
    profit = campaign_profit([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], value=100, **COSTS)
    # a churner: 0.5 * (100 - 10) - 1 = 44; a non-churner: -10 - 1 = -11
    expected = pd.DataFrame(
        {
            "fraction": [0.0, 0.25, 0.5, 0.75, 1.0],
            "n_targeted": [0, 1, 2, 3, 4],
            "threshold": [np.inf, 0.9, 0.8, 0.3, 0.1],
            "churners_targeted": [0.0, 1.0, 1.0, 2.0, 2.0],
            "expected_saved": [0.0, 0.5, 0.5, 1.0, 1.0],
            "profit": [0.0, 44.0, 33.0, 77.0, 66.0],
        }
    )
    pd.testing.assert_frame_equal(profit, expected, check_dtype=False)
    assert profit.attrs == {
        "best_fraction": 0.75,
        "best_n_targeted": 3,
        "best_threshold": 0.3,
        "best_profit": 77.0,
    }


def test_campaign_profit_per_customer_value_and_nonchurner_acceptance():
    value = pd.Series([200.0, 50.0, 20.0, 10.0], index=list("abcd"))
    y = pd.Series([1, 0, 1, 0], index=list("abcd"))
    s = pd.Series([0.9, 0.8, 0.3, 0.1], index=list("abcd"))
    profit = campaign_profit(
        y, s, value=value.iloc[::-1], nonchurner_accept_rate=0.5, **COSTS
    )
    # churners: 0.5 * (200 - 10) - 1 = 94 and 0.5 * (20 - 10) - 1 = 4;
    # non-churners: -0.5 * 10 - 1 = -6
    assert profit["profit"].tolist() == pytest.approx([0, 94, 88, 92, 86])
    assert profit.attrs["best_fraction"] == 0.25
    assert profit.attrs["best_profit"] == pytest.approx(94)


def test_campaign_profit_on_a_grid_with_ties():
    # gains 44, -11, -11 for the three tied scores, then 44
    y, s = [1, 0, 0, 1], [0.5, 0.5, 0.5, 0.2]
    every = campaign_profit(y, s, value=100, **COSTS)
    assert every["n_targeted"].tolist() == [0, 3, 4]
    assert every["profit"].tolist() == pytest.approx([0, 22, 66])
    grid = campaign_profit(y, s, value=100, fractions=[0, 0.3, 0.5, 1], **COSTS)
    # 0.3 * 4 rounds to 1 customer, 0.5 to 2: a third, two thirds of the tie
    assert grid["n_targeted"].tolist() == [0, 1, 2, 4]
    assert grid["churners_targeted"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2])
    assert grid["profit"].tolist() == pytest.approx([0, 22 / 3, 44 / 3, 66])
    assert grid["threshold"].tolist() == [np.inf, 0.5, 0.5, 0.2]


def test_campaign_profit_nobody_when_nothing_pays():
    profit = campaign_profit([0, 0, 1], [0.9, 0.8, 0.1], value=5, **COSTS)
    assert profit.attrs["best_fraction"] == 0.0
    assert profit.attrs["best_threshold"] == np.inf
    assert profit.attrs["best_profit"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"accept_rate": 1.5}, SchemaError, r"`accept_rate` must be in \[0, 1\]"),
        (
            {"contact_cost": -1},
            SchemaError,
            r"`contact_cost` must be a finite number >= 0",
        ),
        ({"incentive": "10"}, ChurnkitTypeError, r"`incentive` must be a number"),
        ({"value": [1, 2, 3]}, SchemaError, r"has 4 rows but `value` has 3"),
        ({"value": [1, 2, np.nan, 4]}, SchemaError, r"`value` has 1 missing"),
        ({"fractions": [0.5, 2]}, SchemaError, r"fraction in \[0, 1\]"),
    ],
)
def test_campaign_profit_errors(kwargs, error, match):
    args = {"value": 100, **COSTS, **kwargs}
    with pytest.raises(error, match=match):
        campaign_profit([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], **args)


# --------------------------------------------------------------------------
# expected maximum profit
# --------------------------------------------------------------------------


def _emp_brute_force(y, s, value=200, incentive=10, contact_cost=1, alpha=6, beta=14):
    clv, d, f = value, incentive, contact_cost
    """Integrate max-over-all-thresholds profit on a fine gamma grid."""
    from scipy.stats import beta as beta_dist
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    pi0 = np.mean(y)
    delta, phi = d / clv, f / clv
    gamma = np.linspace(0, 1, 200_001)
    profit = clv * (
        np.outer(gamma * (1 - delta) - phi, pi0 * tpr)
        - (delta + phi) * (1 - pi0) * fpr[None, :]
    )
    best = profit.argmax(axis=1)
    density = beta_dist.pdf(gamma, alpha, beta)
    emp = np.trapezoid(profit[np.arange(len(gamma)), best] * density, gamma)
    targeted = pi0 * tpr[best] + (1 - pi0) * fpr[best]
    return emp, np.trapezoid(targeted * density, gamma)


def test_emp_hand_computed_small_case():
    from scipy.stats import beta as beta_dist

    # ROC points (fpr, tpr): (0,0) (0,.5) (.5,.5) (.5,1) (1,1); the convex hull
    # drops (.5,.5). pi0 = pi1 = .5, delta = .05, phi = .005.
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]
    g0 = 0.005 / 0.95  # (0,0) -> (0,.5): vertical, pays once gamma(1-delta) > phi
    g1 = (0.5 * 0.055 * 0.5) / (0.5 * 0.95 * 0.5) + 0.005 / 0.95  # -> (.5, 1)
    # (.5,1) -> (1,1) is flat: never pays. Profit at each vertex, per customer:
    #   (0,.5): 200 * (.2375 gamma - .00125)   (.5,1): 200 * (.475 gamma - .01625)
    cdf = lambda g: beta_dist.cdf(g, 6, 14)  # noqa: E731
    cdf1 = lambda g: beta_dist.cdf(g, 7, 14)  # noqa: E731
    mean = 6 / 20
    expected = 200 * (
        0.2375 * mean * (cdf1(g1) - cdf1(g0))
        - 0.00125 * (cdf(g1) - cdf(g0))
        + 0.475 * mean * (1 - cdf1(g1))
        - 0.01625 * (1 - cdf(g1))
    )
    fraction = 0.25 * (cdf(g1) - cdf(g0)) + 0.75 * (1 - cdf(g1))
    emp, targeted = emp_score(y, s), emp_fraction(y, s)
    assert emp == pytest.approx(expected, rel=1e-12)
    assert targeted == pytest.approx(fraction, rel=1e-12)
    assert emp == pytest.approx(25.25, abs=0.01)  # ~ 200 * (.475 * .3 - .01625)
    assert emp_score(y, s) == pytest.approx(emp)


def test_emp_matches_the_published_example():
    # docstring example of empulse.metrics.empc, equal to the R package EMP
    y = [0, 1, 0, 1, 0, 1, 0, 1]
    score = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9]
    emp, fraction = emp_score(y, score), emp_fraction(y, score)
    assert emp == pytest.approx(23.875593418348124, rel=1e-9)
    assert fraction == pytest.approx(0.8743700763487141, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "costs",
    [{}, {"value": 50, "incentive": 20, "contact_cost": 5, "alpha": 2, "beta": 3}],
    ids=["defaults", "expensive"],
)
def test_emp_equals_brute_force_integration(seed, costs):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=40)
    s = np.round(0.3 * y + rng.uniform(size=40), 1)  # ties included
    emp, fraction = emp_score(y, s, **costs), emp_fraction(y, s, **costs)
    brute_emp, brute_fraction = _emp_brute_force(y, s, **costs)
    assert emp == pytest.approx(brute_emp, rel=1e-4, abs=1e-6)
    assert fraction == pytest.approx(brute_fraction, rel=1e-3, abs=1e-4)


def test_emp_depends_on_the_ranking_only():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=50)
    s = rng.uniform(size=50)
    order = rng.permutation(50)
    assert emp_score(y, s) == pytest.approx(emp_score(y, np.exp(3 * s)))
    assert emp_score(y, s) == pytest.approx(emp_score(y[order], s[order]))


def test_emp_single_class_is_nan():
    with pytest.warns(ChurnkitWarning, match="no churners"):
        assert np.isnan(emp_score([0, 0], [0.1, 0.2]))
    with pytest.warns(ChurnkitWarning, match="only churners"):
        emp = emp_score([1, 1], [0.1, 0.2])
    with pytest.warns(ChurnkitWarning, match="only churners"):
        fraction = emp_fraction([1, 1], [0.1, 0.2])
    assert np.isnan(emp) and np.isnan(fraction)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"incentive": 200}, r"`incentive` \(200\.0\) must cost less"),
        ({"value": 0}, r"`value` must be positive"),
        ({"alpha": 0}, r"`alpha` must be positive"),
        ({"contact_cost": -1}, r"`contact_cost` must be a finite number >= 0"),
    ],
)
def test_emp_errors(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        emp_score([0, 1], [0.1, 0.2], **kwargs)

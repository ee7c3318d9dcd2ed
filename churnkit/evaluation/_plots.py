"""Plots of a churn model: cumulative gains, lift and reliability diagram.

Each function draws one model on a matplotlib Axes; call it again on the same
``ax`` with another ``label`` to compare models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from churnkit._validation import check_choice, check_int, validate_scores
from churnkit.evaluation._scores import STRATEGIES, Ranking, calibration_bins
from churnkit.exceptions import SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_gains", "plot_lift", "plot_calibration"]


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


def _reference_line(ax: Axes, gid: str, draw: Callable[[], Any]) -> None:
    """Draw a reference line once per Axes, so overlaid models share it."""
    if not any(line.get_gid() == gid for line in ax.get_lines()):
        line = draw()
        line.set_gid(gid)


def _finish(ax: Axes, label: str | None, legend_loc: str) -> None:
    if label is not None:
        ax.legend(loc=legend_loc)


def _gains_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction targeted and fraction of churners captured at every cutoff."""
    ranking = Ranking(s)
    positives = y.sum()
    if positives == 0:
        raise SchemaError(
            "`y_true` has no churners, so gains and lift are undefined; plot on a "
            "sample that holds churners."
        )
    return ranking.ends / ranking.n, ranking.cumulative(y) / positives


def plot_gains(
    y_true: Any,
    y_score: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the cumulative gains curve: churners captured vs customers targeted.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` with another
        model and label to compare models.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    lift_table : The same curve, read at every decile.

    Notes
    -----
    The curve joins the points (fraction of customers with a score at least
    ``t``, fraction of churners among them) for every distinct score ``t``; a
    straight segment across tied scores is the expected result of targeting
    them at random. The diagonal (random targeting) is drawn once per Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> y = [0, 0, 1, 1, 0, 1, 0, 0]
    >>> risk = [0.1, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.1]
    >>> ax = ck.plot_gains(y, risk, label="model")
    >>> ax.get_xlabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    y, s = validate_scores(y_true, y_score)
    x, gain = _gains_points(y, s)
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-gains-random",
        lambda: ax.plot([0, 1], [0, 1], ls="--", color="gray", label="Random")[0],
    )
    ax.plot(x, gain, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Fraction of customers targeted")
    ax.set_ylabel("Fraction of churners captured")
    _finish(ax, label, "lower right")
    return ax


def plot_lift(
    y_true: Any,
    y_score: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the cumulative lift curve: how much better than random the list's top is.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` to overlay
        another model.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    lift_table : Lift by decile.

    Notes
    -----
    The lift at fraction ``f`` is the share of churners captured in the top
    ``f`` of customers divided by ``f`` (the ``cum_lift`` of :func:`lift_table`),
    drawn at every distinct score and on a grid of 200 fractions, so that tied
    scores give the expected (random tie-break) curve. Random targeting has a
    lift of 1, drawn once per Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> y = [0, 0, 1, 1, 0, 1, 0, 0]
    >>> risk = [0.1, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.1]
    >>> ax = ck.plot_lift(y, risk, label="model")
    >>> ax.get_xlabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    y, s = validate_scores(y_true, y_score)
    x_points, gain_points = _gains_points(y, s)
    x = np.union1d(x_points[1:], np.linspace(0, 1, 201)[1:])
    lift = np.interp(x, x_points, gain_points) / x
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-lift-random",
        lambda: ax.axhline(1.0, ls="--", color="gray", label="Random"),
    )
    ax.plot(x, lift, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_xlabel("Fraction of customers targeted")
    ax.set_ylabel("Cumulative lift")
    _finish(ax, label, "upper right")
    return ax


def plot_calibration(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "quantile",
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot a reliability diagram: observed churn rate vs predicted probability.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_prob : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        Equal-frequency or equal-width bins, as in
        :func:`expected_calibration_error`.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` to overlay
        another model.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (default ``marker="o"``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    expected_calibration_error : The weighted mean gap to the diagonal.

    Notes
    -----
    One point per non-empty bin, at (mean predicted probability, observed churn
    rate). Points on the diagonal, drawn once per Axes, are perfectly
    calibrated; points below it mean the model over-predicts churn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> y = [0, 0, 1, 1, 0, 1, 0, 0]
    >>> risk = [0.1, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.1]
    >>> ax = ck.plot_calibration(y, risk, label="model")
    >>> ax.get_xlabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    n_bins = check_int(n_bins, "n_bins")
    strategy = check_choice(strategy, "strategy", STRATEGIES)
    y, p = validate_scores(y_true, y_prob, name="y_prob", probability=True)
    _, mean_p, rate = calibration_bins(y, p, n_bins, strategy)
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-calibration-diagonal",
        lambda: ax.plot(
            [0, 1], [0, 1], ls="--", color="gray", label="Perfectly calibrated"
        )[0],
    )
    kwargs.setdefault("marker", "o")
    ax.plot(mean_p, rate, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Mean predicted churn probability")
    ax.set_ylabel("Observed churn rate")
    _finish(ax, label, "upper left")
    return ax

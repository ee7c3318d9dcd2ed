"""Plots of the KPI tables: :func:`plot_churn_rate`, :func:`plot_revenue_churn`
and :func:`plot_cohort_retention`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churnkit.events import Events
from churnkit.exceptions import ChurnkitTypeError, SchemaError
from churnkit.metrics._cohorts import cohort_retention
from churnkit.metrics._rates import churn_rate
from churnkit.metrics._revenue import revenue_churn

if TYPE_CHECKING:
    from matplotlib.axes import Axes


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


def _table(data: Any, compute, required: list[str]) -> pd.DataFrame:
    name = compute.__name__
    if isinstance(data, Events):
        return compute(data)
    if not isinstance(data, pd.DataFrame):
        raise ChurnkitTypeError(
            f"Pass an Events store or the DataFrame of `ck.{name}(events)`; got "
            f"{type(data).__name__}."
        )
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise SchemaError(
            f"The table lacks column(s) {missing} (it has "
            f"{list(data.columns)[:8]}); pass the output of "
            f"`ck.{name}(events)` or the Events store itself."
        )
    return data


def _rate_lines(ax, table, lines, kwargs) -> None:
    from matplotlib.ticker import PercentFormatter

    for column, label, style in lines:
        ax.plot(
            table.index,
            table[column],
            **{"label": label, "marker": "o", "linestyle": style, **kwargs},
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Period")
    ax.legend()


def plot_churn_rate(
    data: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot the customer churn rate by period, split by voluntary/involuntary.

    Parameters
    ----------
    data : DataFrame or Events
        The output of :func:`churn_rate`, or an Events store (then
        ``churn_rate(events)`` with monthly periods).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for every line.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    The voluntary and involuntary lines are drawn when the table has them and
    some churn has a known kind. Partial periods have no rate and no point.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> ax = ck.plot_churn_rate(ck.churn_rate(data.events))
    >>> ax.get_title() != "" or ax.get_ylabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    table = _table(data, churn_rate, ["churn_rate"])
    ax = plt.gca() if ax is None else ax
    lines = [("churn_rate", "Churn rate", "-")]
    kinds = ["churned_voluntary", "churned_involuntary"]
    if all(c in table for c in kinds) and table[kinds].to_numpy().sum() > 0:
        lines += [
            ("voluntary_churn_rate", "Voluntary", "--"),
            ("involuntary_churn_rate", "Involuntary", ":"),
        ]
        if table.get("churned_unknown_kind", pd.Series(0)).sum() > 0:
            lines.append(("unknown_kind_churn_rate", "Kind not recorded", "-."))
    _rate_lines(ax, table, lines, kwargs)
    ax.set_ylabel("Customers lost, share of the period's start")
    return ax


def plot_revenue_churn(
    data: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot the gross and net MRR churn rates by period.

    Parameters
    ----------
    data : DataFrame or Events
        The output of :func:`revenue_churn`, or an Events store (then
        ``revenue_churn(events)`` with monthly periods).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for both lines.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Notes
    -----
    A net MRR churn below the zero line (drawn in gray) means expansion
    outgrew contraction and churn: net negative churn, NRR above 100%.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> ax = ck.plot_revenue_churn(ck.revenue_churn(data.events))
    >>> ax.get_title() != "" or ax.get_ylabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    required = ["gross_mrr_churn_rate", "net_mrr_churn_rate"]
    table = _table(data, revenue_churn, required)
    ax = plt.gca() if ax is None else ax
    ax.axhline(0.0, color="gray", linewidth=0.8)
    lines = [
        ("gross_mrr_churn_rate", "Gross MRR churn", "-"),
        ("net_mrr_churn_rate", "Net MRR churn", "--"),
    ]
    _rate_lines(ax, table, lines, kwargs)
    ax.set_ylabel("MRR lost, share of the period's start")
    return ax


def _cohort_label(ts: pd.Timestamp) -> str:
    if ts != ts.normalize():
        return f"{ts:%Y-%m-%d %H:%M}"
    return f"{ts:%Y-%m}" if ts.day == 1 else f"{ts:%Y-%m-%d}"


def plot_cohort_retention(
    data: pd.DataFrame | Events, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Plot cohort retention as a heatmap: cohorts down, periods since signup across.

    Parameters
    ----------
    data : DataFrame or Events
        The output of :func:`cohort_retention`, or an Events store (then
        ``cohort_retention(events)``: monthly, by customers).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (``cmap``, ``vmin``,
        ``vmax``...).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on; its image is ``ax.images[0]``, e.g. for
        ``fig.colorbar(ax.images[0], ax=ax)``.

    Notes
    -----
    NaN cells (the future) stay blank. Tables of at most 400 cells are
    annotated with their percentages.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=200, random_state=0)
    >>> ax = ck.plot_cohort_retention(ck.cohort_retention(data.events))
    >>> ax.get_title() != "" or ax.get_ylabel() != ""
    True
    """
    import matplotlib.pyplot as plt

    table = _table(data, cohort_retention, [])
    ax = plt.gca() if ax is None else ax
    values = table.to_numpy(dtype=float)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    style = {"cmap": "Blues", "aspect": "auto", "vmin": 0.0, "vmax": max(1.0, top)}
    style.update(kwargs)
    ax.imshow(np.ma.masked_invalid(values), **style)
    n_rows, n_cols = values.shape
    x_step = max(1, math.ceil(n_cols / 24))
    y_step = max(1, math.ceil(n_rows / 24))
    ax.set_xticks(np.arange(0, n_cols, x_step))
    ax.set_xticklabels([str(c) for c in table.columns[::x_step]])
    ax.set_yticks(np.arange(0, n_rows, y_step))
    ax.set_yticklabels(
        [
            _cohort_label(pd.Timestamp(t)) if isinstance(t, pd.Timestamp) else str(t)
            for t in table.index[::y_step]
        ]
    )
    if values.size <= 400:
        for i, j in zip(*np.nonzero(np.isfinite(values)), strict=True):
            dark = values[i, j] > 0.6 * style["vmax"]
            ax.text(
                j,
                i,
                f"{values[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    ax.set_xlabel("Periods since signup")
    ax.set_ylabel("Signup cohort")
    return ax

"""The report's charts: matplotlib figures rendered to inline SVG.

SVG keeps the report one self-contained file with sharp charts at any zoom,
no JavaScript and no network at view time; text stays text (searchable,
rendered in the page's font). Every axis is formatted by its unit, date axes
use a concise formatter so ticks never overprint, and figure sizes are chosen
for a laptop-width column (the SVG scales to the column's width).
"""

from __future__ import annotations

import io
import re
import textwrap
import warnings

import numpy as np
import pandas as pd

from churnkit.reporting._format import axis_formatter, fmt_count, fmt_percent

WIDTH = 7.5  # inches; the page column is about 760 px wide
COLORS = ["#2563eb", "#dc2626", "#f59e0b", "#059669", "#7c3aed", "#6b7280"]
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "churnkit-report",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


def _figure(height: float, width: float = WIDTH):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), layout="constrained")


def to_svg(fig, name: str) -> str:
    """The figure as an inline ``<svg>`` element that scales to its container."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with warnings.catch_warnings():
        # text stays text in the SVG ("svg.fonttype": "none"): the browser
        # draws ログイン or an emoji that matplotlib's own font lacks
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from font")
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # ids of one chart must not collide with another's in the same page
    svg = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', svg)
    # scale down to narrow columns, never up beyond the drawn size (1 pt = 4/3 px)
    width = float(re.search(r'width="([\d.]+)pt"', svg).group(1)) * 4 / 3
    svg = re.sub(
        r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
        rf'<svg\1 class="chart" data-chart="{name}" role="img" '
        rf'style="max-width: {width:.0f}px"',
        svg,
        count=1,
    )
    return svg


def _dates(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _percent_ticks():
    """A percent tick formatter with as many decimals as the ticks need.

    ``axis_formatter("percent")`` picks 0 or 1 decimals per tick, so the ticks
    of a narrow range (0.05 %, 0.10 %, 0.15 %) read "0.1%" twice. Here all
    ticks share the fewest decimals that show each tick exactly, so they are
    distinct and aligned ("0.0%", "0.5%", "1.0%").
    """
    from matplotlib.ticker import Formatter

    class PercentTicks(Formatter):
        def format_ticks(self, values):
            digits = _tick_decimals(values)
            return [fmt_percent(v, digits=digits) for v in values]

        def __call__(self, x, pos=None):  # one value alone, e.g. a readout
            return fmt_percent(x, digits=_tick_decimals([x]))

    return PercentTicks()


def _percent_axis(axis, nbins: int = 5) -> None:
    """Percent ticks for a narrow axis: at most ``nbins`` steps of 1, 2 or 5.

    Leaving out the default 2.5 step saves a decimal ("0.25%") that would
    crowd the labels of a small chart.
    """
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(_percent_ticks())


def _tick_decimals(locs) -> int:
    """The fewest decimals (at most 4) that print every tick exactly."""
    percents = np.asarray(locs, dtype=float) * 100
    for digits in range(4):
        if np.allclose(percents, np.round(percents, digits), rtol=0, atol=1e-9):
            return digits
    return 4


def _formatter(unit: str):
    return _percent_ticks() if unit == "percent" else axis_formatter(unit)


def line_chart(name, title, frame: pd.DataFrame, series: dict, unit: str) -> str:
    """Lines over periods: ``series`` maps a column of ``frame`` to its label."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = _figure(2.8)
        x = pd.to_datetime(frame.index)
        for color, (column, label) in zip(COLORS, series.items(), strict=False):
            ax.plot(
                x,
                frame[column].to_numpy(float),
                marker="o",
                ms=3,
                lw=1.8,
                color=color,
                label=label,
            )
        ax.yaxis.set_major_formatter(_formatter(unit))
        if unit == "percent":
            ax.set_ylim(bottom=min(0.0, float(np.nanmin(frame[list(series)]))))
        _dates(ax)
        ax.set_title(title, loc="left")
        if len(series) > 1:
            # above the axes, opposite the title: never over the lines
            ax.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                ncols=len(series),
                fontsize=8,
            )
        return to_svg(fig, name)


def nrr_chart(name, frame: pd.DataFrame) -> str:
    """NRR by period around the 100 % line."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = _figure(2.6)
        x = pd.to_datetime(frame.index)
        ax.axhline(1.0, color="#6b7280", lw=1, ls="--")
        ax.plot(x, frame["nrr"].to_numpy(float), marker="o", ms=3, color=COLORS[3])
        _percent_axis(ax.yaxis)
        _dates(ax)
        ax.set_title("Net revenue retention (100% = no net loss)", loc="left")
        return to_svg(fig, name)


def cohort_heatmap(name, table: pd.DataFrame) -> str:
    """Customer retention by signup cohort, one row per cohort."""
    import matplotlib.pyplot as plt

    values = table.to_numpy(float)
    rows, cols = values.shape
    with plt.rc_context({**RC, "axes.grid": False}):
        fig, ax = _figure(0.9 + 0.26 * rows)
        image = ax.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(values):
            if not np.isnan(v):
                ax.text(
                    j,
                    i,
                    fmt_percent(v, digits=0),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 else "#111827",
                )
        ax.set_yticks(
            range(rows), [pd.Timestamp(t).strftime("%b %Y") for t in table.index]
        )
        ax.set_xticks(range(cols), [str(c) for c in table.columns])
        ax.set_xlabel("periods since signup")
        ax.tick_params(length=0)
        ax.set_title("Share of each signup cohort still active", loc="left")
        fig.colorbar(image, ax=ax, shrink=0.8, format=_percent_ticks())
        return to_svg(fig, name)


ZERO_SPAN = 0.01  #: x range of a breakdown where no group churned (0 % to 1 %)


def breakdown_chart(name, column: str, table: pd.DataFrame) -> str:
    """Churn rate by the values of one attribute, with the accounts behind it."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = _figure(0.8 + 0.3 * len(table), width=WIDTH * 0.6)
        labels = [textwrap.shorten(str(v), 28) for v in table.index]
        y = np.arange(len(table))[::-1]
        rates = table["churn_rate"].to_numpy(float)
        top = float(np.nanmax(rates)) if np.isfinite(rates).any() else 0.0
        digits = _rate_digits(rates)
        ax.barh(y, rates, color=COLORS[0], height=0.6)
        for yi, r, n in zip(y, rates, table["customers"], strict=True):
            ax.annotate(
                f"{fmt_percent(r, digits=digits)} of {fmt_count(n)}",
                (r if np.isfinite(r) else 0.0, yi),
                xytext=(3, 0),  # points: clear of the bar end and the spine
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)  # they touched labels of 0 % bars
        # room right of the longest bar for its label; a fixed span when all
        # rates are 0 (a zero-width range has no sensible ticks)
        ax.set_xlim(0, top * 1.45 if top > 0 else ZERO_SPAN)
        _percent_axis(ax.xaxis)
        if top == 0:
            ax.set_xlabel("no churn in any group")
        ax.grid(axis="y", visible=False)
        ax.set_title(f"Churn rate by {column}", loc="left")
        return to_svg(fig, name)


def _rate_digits(rates: np.ndarray) -> int:
    """Decimals that keep every non-zero rate from reading as 0.0 %."""
    small = rates[np.isfinite(rates) & (rates > 0)]
    for digits in (1, 2, 3):
        if not (np.round(small * 100, digits) == 0).any():
            return digits
    return 3


def histogram(name, probability: np.ndarray, tiers: dict) -> str:
    """Distribution of today's churn probabilities, with the tier thresholds."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = _figure(3.0, width=WIDTH * 0.6)
        top = float(np.quantile(probability, 0.995)) if len(probability) else 1.0
        bins = np.linspace(0, min(max(top, 1e-3) * 1.05, 1.0), 40)
        ax.hist(np.clip(probability, 0, bins[-1]), bins=bins, color=COLORS[0])
        for tier, color in (("high", COLORS[1]), ("medium", COLORS[2])):
            if tier not in tiers:
                continue
            ax.axvline(
                tiers[tier],
                color=color,
                ls="--",
                lw=1.2,
                label=f"{tier} from {fmt_percent(tiers[tier])}",
            )
        _percent_axis(ax.xaxis)
        ax.yaxis.set_major_formatter(axis_formatter("count"))
        ax.set_xlabel("churn probability (the top 0.5% in the last bar)")
        ax.set_ylabel("accounts")
        if ax.get_legend_handles_labels()[0]:  # below the axes: never on the bars
            fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
        ax.set_title("Churn probability of today's accounts", loc="left")
        return to_svg(fig, name)


def gains_chart(name, y: np.ndarray, p: np.ndarray, note: str = "") -> str:
    """Cumulative share of churners found vs share of accounts contacted."""
    import matplotlib.pyplot as plt

    order = np.argsort(-p, kind="stable")
    found = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1)])
    share = np.linspace(0, 1, len(found))
    with plt.rc_context(RC):
        fig, ax = _figure(3.0, width=WIDTH / 2)
        ax.plot(share, found, color=COLORS[0], lw=2, label="model")
        ax.plot([0, 1], [0, 1], color="#6b7280", ls="--", lw=1, label="random")
        _percent_axis(ax.xaxis)
        _percent_axis(ax.yaxis)
        ax.set_xlabel("accounts contacted, highest risk first")
        ax.set_ylabel("churners found")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_title(f"Cumulative gains{note}", loc="left")
        return to_svg(fig, name)


def calibration_chart(name, bins: pd.DataFrame, note: str = "") -> str:
    """Predicted vs observed churn, zoomed to the range of the predictions."""
    import matplotlib.pyplot as plt

    top = float(np.nanmax(bins[["predicted", "observed"]].to_numpy())) * 1.1
    top = max(top, 1e-3)
    with plt.rc_context(RC):
        fig, ax = _figure(3.0, width=WIDTH / 2)
        ax.plot(
            [0, top],
            [0, top],
            color="#6b7280",
            ls="--",
            lw=1,
            label="perfect calibration",
        )
        ax.plot(
            bins["predicted"],
            bins["observed"],
            marker="o",
            color=COLORS[0],
            label="model (10 equal-size bins)",
        )
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        _percent_axis(ax.xaxis)
        _percent_axis(ax.yaxis)
        ax.set_xlabel("predicted churn probability")
        ax.set_ylabel("observed churn rate")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title(f"Calibration{note}", loc="left")
        return to_svg(fig, name)


def drivers_chart(name, drivers: pd.DataFrame) -> str:
    """Mean absolute contribution of each feature, in probability points."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = _figure(0.8 + 0.3 * len(drivers))
        y = np.arange(len(drivers))[::-1]
        points = drivers["importance"].to_numpy(float) * 100
        ax.barh(y, points, color=COLORS[4], height=0.6)
        names = [textwrap.shorten(str(n), 60) for n in drivers["display_name"]]
        ax.set_yticks(y, names)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("mean effect on the churn probability (percentage points)")
        ax.set_title("What drives churn risk (all accounts)", loc="left")
        return to_svg(fig, name)

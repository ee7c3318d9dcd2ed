"""Plots of an explanation: they draw on the Axes given and return it."""

from __future__ import annotations

import numpy as np

__all__ = ["waterfall", "importance_bars"]

RAISES = "#d62728"  # contribution raising the churn risk
LOWERS = "#1f77b4"  # contribution lowering it
GROUP_COLORS = {
    "usage": "#1f77b4",
    "billing": "#ff7f0e",
    "support": "#2ca02c",
    "profile": "#9467bd",
}
OTHER_COLOR = "#7f7f7f"


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ImportError(
            "matplotlib is not installed; run `pip install matplotlib` to plot."
        ) from None
    return plt.gca()


def waterfall(values, base, labels, *, ax=None, max_display=10, title="", xlabel=""):
    """Horizontal waterfall: bars walk from ``base`` to ``base + values.sum()``.

    The ``max_display - 1`` largest contributions get their own bar (largest on
    top); the others share the bottom bar when there are more features.
    """
    ax = _axes(ax)
    values = np.asarray(values, dtype="float64")
    order = np.argsort(-np.abs(values), kind="stable")
    if len(values) > max_display:
        shown, rest = order[: max(max_display - 1, 0)], order[max(max_display - 1, 0) :]
        bars = [(f"{len(rest)} other features", float(values[rest].sum()))]
    else:
        shown, bars = order, []
    bars += [(labels[j], float(values[j])) for j in shown[::-1]]  # bottom to top
    start = base
    for y, (_, width) in enumerate(bars):
        color = RAISES if width > 0 else LOWERS
        ax.barh(y, width, left=start, color=color, height=0.7)
        ax.annotate(
            f"{width:+.3g}",
            (start + width, y),
            xytext=(3 if width >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if width >= 0 else "right",
            va="center",
            fontsize=8,
        )
        start += width
    ax.axvline(base, color="#999999", linestyle="--", linewidth=1)
    ax.axvline(start, color="#333333", linestyle=":", linewidth=1)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([label for label, _ in bars])
    ax.set_xlabel(f"{xlabel} (base {base:.3g} -> {start:.3g})" if xlabel else "")
    if title:
        ax.set_title(title)
    return ax


def importance_bars(importance, labels, groups, *, ax=None, xlabel=""):
    """Horizontal bars, first label on top, coloured by group."""
    ax = _axes(ax)
    importance = np.asarray(importance, dtype="float64")[::-1]
    labels, groups = list(labels)[::-1], list(groups)[::-1]
    colors = [GROUP_COLORS.get(g, OTHER_COLOR) for g in groups]
    ax.barh(np.arange(len(labels)), importance, color=colors, height=0.7)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_xlabel(xlabel)
    seen = dict.fromkeys(groups[::-1])
    if len(seen) > 1:
        from matplotlib.patches import Patch

        handles = [Patch(color=GROUP_COLORS.get(g, OTHER_COLOR), label=g) for g in seen]
        ax.legend(handles=handles, loc="lower right", frameon=False)
    return ax

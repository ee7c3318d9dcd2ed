"""Plots of an explanation: they draw on the Axes given and return it."""

from __future__ import annotations

import numpy as np

__all__ = ["waterfall", "importance_bars", "global_bars"]

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


LABEL_COLUMN = (0.01, 0.43)  #: axes fraction holding the feature labels
BAR_COLUMN = (0.46, 0.84)  #: axes fraction the bars span
VALUE_RIGHT = 0.99  #: right edge of the value labels (axes fraction)


MIN_FONT = 3.0  #: smallest font a label shrinks to before its value is cut


def _fit_text(text, renderer, width_px, keep=""):
    """Fit ``text`` in ``width_px``: shorten its head with "…", never ``keep``.

    ``keep`` is the label's tail (" = 0.57"): a reader can guess a shortened
    name, not a missing value (the full label stays the text's gid). Only when
    "… = value" alone is too wide does the font shrink; below ``MIN_FONT`` the
    tail is cut too, so the label always stays in its column.
    """
    full = text.get_text()
    head = full[: len(full) - len(keep)] if keep else full

    def fits(n):
        text.set_text(_shortened(head, n) + keep)
        return text.get_window_extent(renderer).width <= width_px

    if fits(len(head)):
        return
    lo, hi = 0, len(head) - 1  # longest prefix that fits, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    if fits(lo) or not keep:
        return
    while text.get_fontsize() > MIN_FONT:
        text.set_fontsize(max(text.get_fontsize() * 0.9, MIN_FONT))
        if fits(0):
            return
    text.set_text(full)
    _fit_text(text, renderer, width_px)  # last resort: cut the value as well


def _shortened(head, n):
    """The first ``n`` characters of ``head``, with "…" when any are dropped."""
    return head if n >= len(head) else head[:n].rstrip() + "…"


def _value_tail(label):
    """The value part of a waterfall label ("name = value", "name: none")."""
    if " = " in label:
        return " = " + label.rpartition(" = ")[2]
    return ": none" if label.endswith(": none") else ""


def waterfall(
    values, base, labels, *, ax=None, max_display=10, title="", xlabel="", points=False
):
    """Horizontal waterfall: bars walk from ``base`` to ``base + values.sum()``.

    The ``max_display - 1`` largest contributions get their own bar (largest on
    top); the others share the bottom bar when there are more features. All
    text is drawn inside the axes in three columns (feature labels, bars,
    values), the font sized to the bar height and labels fitted to their
    column by shortening the feature name with "…" (never its value), so
    nothing overlaps or leaves the axes at any figure size (a label's full
    text is its ``gid``).
    ``points`` shows probabilities as % and contributions in points.
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
    path = base + np.cumsum([0.0] + [w for _, w in bars])
    lo, hi = float(path.min()), float(path.max())
    span = (hi - lo) or max(abs(hi), 1e-3)
    width = span / (BAR_COLUMN[1] - BAR_COLUMN[0])
    xmin = lo - BAR_COLUMN[0] * width
    ax.set_xlim(xmin, xmin + width)
    ax.set_ylim(-0.6, len(bars) - 0.4)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    row_px = box.height / max(len(bars), 1)
    size = float(np.clip(row_px * 0.45 * 72 / fig.dpi, 3.0, 9.0))
    transform = ax.get_yaxis_transform()  # x in axes fraction, y in data
    start = base
    for y, (label, w) in enumerate(bars):
        ax.barh(y, w, left=start, color=RAISES if w > 0 else LOWERS, height=0.7)
        shown_value = f"{w * 100:+.1f} pts" if points else f"{w:+.2f}"
        ax.text(VALUE_RIGHT, y, shown_value, transform=transform, ha="right",
                va="center", fontsize=size)  # fmt: skip
        name = ax.text(LABEL_COLUMN[0], y, label, transform=transform, ha="left",
                       va="center", fontsize=size, gid=label)  # fmt: skip
        column_px = (LABEL_COLUMN[1] - LABEL_COLUMN[0]) * box.width
        _fit_text(name, renderer, column_px, keep=_value_tail(label))
        start += w
    ax.axvline(base, color="#999999", linestyle="--", linewidth=1)
    ax.axvline(start, color="#333333", linestyle=":", linewidth=1)
    ax.set_yticks([])
    ax.set_xticks([])
    fmt = (lambda v: f"{v:.1%}") if points else (lambda v: f"{v:+.2f}")
    if xlabel:
        ax.set_xlabel(f"{xlabel}: base {fmt(base)} -> {fmt(start)}", fontsize=size)
    if title:
        ax.set_title(title, fontsize=min(size + 1, 10))
    return ax


def importance_bars(
    importance, labels, groups, *, ax=None, xlabel="", points=False, names=None
):
    """Horizontal bars, first label on top, coloured by group.

    Laid out like :func:`waterfall`: labels, bars and values in three columns
    inside the axes, the font sized to the bar height, labels shortened with
    "…" to their column (the full text is the label's ``gid``; ``names``, when
    given, become the gids instead), the group legend above the axes.
    ``points`` shows the importances in probability points.
    """
    ax = _axes(ax)
    importance = np.asarray(importance, dtype="float64")[::-1]
    labels, groups = list(labels)[::-1], list(groups)[::-1]
    gids = labels if names is None else list(names)[::-1]
    n = len(labels)
    colors = [GROUP_COLORS.get(g, OTHER_COLOR) for g in groups]
    top = float(importance.max()) if n else 0.0
    width = (top or 1.0) / (BAR_COLUMN[1] - BAR_COLUMN[0])
    xmin = -BAR_COLUMN[0] * width
    ax.set_xlim(xmin, xmin + width)
    ax.set_ylim(-0.6, max(n, 1) - 0.4)
    ax.barh(np.arange(n), importance, color=colors, height=0.7)
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    size = float(np.clip(box.height / max(n, 1) * 0.45 * 72 / fig.dpi, 3.0, 9.0))
    transform = ax.get_yaxis_transform()
    for y, (label, gid, v) in enumerate(zip(labels, gids, importance, strict=True)):
        value = f"{v * 100:.1f} pts" if points else f"{v:.2f}"
        ax.text(VALUE_RIGHT, y, value, transform=transform, ha="right",
                va="center", fontsize=size)  # fmt: skip
        name = ax.text(LABEL_COLUMN[0], y, label, transform=transform, ha="left",
                       va="center", fontsize=size, gid=gid)  # fmt: skip
        _fit_text(name, renderer, (LABEL_COLUMN[1] - LABEL_COLUMN[0]) * box.width)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_xlabel(xlabel, fontsize=size)
    seen = dict.fromkeys(groups[::-1])
    if len(seen) > 1:
        from matplotlib.patches import Patch

        handles = [Patch(color=GROUP_COLORS.get(g, OTHER_COLOR), label=g) for g in seen]
        ax.legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=len(seen),
            frameon=False,
            fontsize=size,
            handlelength=1.0,
            columnspacing=0.8,
            borderaxespad=0.2,
        )
    return ax


def global_bars(frame, *, by, scale, ax=None, display_names=True):
    """:func:`importance_bars` of a ``global_importance`` table (top rows first)."""
    key = "feature" if by == "feature" else "group"
    use = "display_name" if by == "feature" and display_names else key
    unit = "log-odds" if scale == "log-odds" else "probability points"
    return importance_bars(
        frame["importance"].to_numpy(),
        frame[use].tolist(),
        frame["group"].tolist(),
        ax=ax,
        xlabel=f"mean |contribution| ({unit})",
        points=scale == "probability",
        names=frame[key].tolist(),
    )

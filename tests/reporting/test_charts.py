"""The report's charts: readable percent axes at any range, labels in the figure."""

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from churnkit.reporting import _charts

matplotlib.use("Agg")


@pytest.fixture
def drawn(monkeypatch):
    """The figures the charts draw, drawn and captured before they become SVG.

    Each figure carries its Agg renderer as ``renderer``: to_svg closes it.
    """
    figures = []
    to_svg = _charts.to_svg

    def capture(fig, name):
        fig.canvas.draw()
        fig.renderer = fig.canvas.get_renderer()
        figures.append(fig)
        return to_svg(fig, name)

    monkeypatch.setattr(_charts, "to_svg", capture)
    return figures


def breakdown(rates, customers=(7, 10, 1)):
    index = pd.Index(["appstore1", "appstore2", "web"], name="channel")
    return pd.DataFrame(
        {"customers": list(customers), "churned": 0, "churn_rate": rates}, index
    )


def tick_labels(axis):
    """The labels of the ticks inside the axis' view (not the clipped extras).

    Read after to_svg: the ticks of the 72-dpi SVG the page shows.
    """
    lo, hi = sorted(axis.get_view_interval())
    pad = (hi - lo) * 1e-6
    locs, labels = axis.get_majorticklocs(), axis.get_ticklabels()
    return [
        label.get_text()
        for tick, label in zip(locs, labels, strict=True)
        if lo - pad <= tick <= hi + pad
    ]


def svg_ticks(svg):
    """The percent tick texts of a breakdown's SVG (bar labels read "x% of n")."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    return [t for t in texts if re.fullmatch(r"[\d.,]+%", t)]


RATES = {
    "all zero": [0.0, 0.0, 0.0],
    "max 0.3%": [0.003, 0.001, 0.0],
    "max 0.03%": [0.0003, 0.0001, 0.0],
    "max 2.5%": [0.025, 0.0125, 0.0],
    "max 40%": [0.25, 0.125, 0.4],
    "all 100%": [1.0, 1.0, 1.0],
}


@pytest.mark.parametrize("rates", RATES.values(), ids=RATES.keys())
def test_breakdown_ticks_are_distinct_at_any_range(drawn, rates):
    svg = _charts.breakdown_chart("by-0", "channel", breakdown(rates))
    (ax,) = drawn[0].axes
    labels = tick_labels(ax.xaxis)
    assert svg_ticks(svg) == labels
    assert len(labels) >= 3
    assert len(set(labels)) == len(labels), labels
    assert all(label.endswith("%") for label in labels)
    assert ax.get_xlim()[1] > max(rates)


def test_breakdown_with_no_churn_has_a_fixed_axis_and_says_so(drawn):
    svg = _charts.breakdown_chart("by-0", "channel", breakdown([0.0, 0.0, 0.0]))
    (ax,) = drawn[0].axes
    assert tick_labels(ax.xaxis) == ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%"]
    assert ax.get_xlabel() == "no churn in any group"
    assert svg_ticks(svg) == ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%"]
    assert "no churn in any group" in svg


@pytest.mark.parametrize(
    ("rates", "shown"),
    [
        ([0.0, 0.0, 0.0], ["0.0% of 7", "0.0% of 10", "0.0% of 1"]),
        ([0.0003, 0.0001, 0.0], ["0.03% of 7", "0.01% of 10", "0.00% of 1"]),
        ([0.25, 0.125, 0.4], ["25.0% of 7", "12.5% of 10", "40.0% of 1"]),
    ],
)
def test_breakdown_bar_labels_read_clear_of_the_axis(drawn, rates, shown):
    _charts.breakdown_chart("by-0", "channel", breakdown(rates))
    fig = drawn[0]
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == shown  # non-zero never reads 0
    renderer = fig.renderer
    frame = ax.get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= frame.x0 + 2  # off the spine, not on its tick marks
        assert box.x1 <= fig.bbox.x1
        assert not any(box.overlaps(tick) for tick in ticks)
    assert all(t.tick1line.get_markersize() == 0 for t in ax.yaxis.get_major_ticks())


def test_small_probabilities_have_distinct_percent_ticks(drawn):
    probability = np.linspace(0, 2e-4, 200)
    _charts.histogram("hist", probability, {"high": 1.5e-4, "medium": 1e-4})
    bins = pd.DataFrame({"predicted": [1e-4, 3e-4], "observed": [0.0, 5e-4]})
    _charts.calibration_chart("calibration", bins)
    axes = [drawn[0].axes[0].xaxis, drawn[1].axes[0].xaxis, drawn[1].axes[0].yaxis]
    for axis in axes:
        labels = tick_labels(axis)
        assert len(labels) >= 3 and len(set(labels)) == len(labels), labels


def test_percent_ticks_share_the_fewest_exact_decimals():
    assert _charts._tick_decimals([0.0, 0.2, 0.4]) == 0
    assert _charts._tick_decimals([0.0, 0.005, 0.01]) == 1
    assert _charts._tick_decimals([0.0, 0.0005, 0.001]) == 2
    formatter = _charts._percent_ticks()
    assert formatter.format_ticks([0.0, 0.001, 0.002]) == ["0.0%", "0.1%", "0.2%"]


def test_labels_beyond_matplotlibs_font_stay_text_without_warnings():
    # event kinds in Japanese or with an emoji: DejaVu Sans lacks the glyphs,
    # but the SVG keeps the text for the browser to draw, so the report does
    # not pass matplotlib's five "Glyph ... missing" warnings to the user
    import warnings

    fig, ax = _charts._figure(2.0)
    ax.barh([0, 1], [3, 4])
    ax.set_yticks([0, 1], ["ログイン", "🎵 play"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = _charts.to_svg(fig, "kinds")
    assert "ログイン" in svg and "🎵 play" in svg

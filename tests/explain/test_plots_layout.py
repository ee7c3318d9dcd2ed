"""The account waterfall at several figure sizes: text inside the axes, no overlap."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from churnkit import Explanation

matplotlib.use("Agg")

LONG = "A very long display name that would never fit next to a bar, last 90 days"


def explanation(n_features=12):
    rng = np.random.default_rng(0)
    names = [f"usage__feature_{i}" for i in range(n_features)]
    index = pd.Index(["C-1"], name="customer_id")
    data = pd.DataFrame(rng.normal(size=(1, n_features)) * 1000, index, names)
    desc = pd.DataFrame(
        {
            "feature": names,
            "group": "usage",
            "unit": "events",
            "direction": "lower",
            "template": "x: {value}",
            "display_name": [
                LONG if i % 3 == 0 else f"Logins {i}" for i in range(n_features)
            ],
        }
    )
    values = rng.normal(size=(1, n_features))
    return Explanation(values, [-2.0], data, calibrate=expit, descriptions=desc)


def _boxes(ax):
    renderer = ax.figure.canvas.get_renderer()
    return renderer, [t.get_window_extent(renderer) for t in ax.texts]


@pytest.mark.parametrize(
    ("size", "max_display", "scale"),
    [
        ((3, 2), 10, "probability"),
        ((4, 3), 6, "log-odds"),
        ((6.4, 4.8), 10, "probability"),
        ((10, 6), 13, "log-odds"),
        ((8, 2.5), 10, "probability"),
    ],
)
def test_waterfall_text_stays_inside_and_apart(size, max_display, scale):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    explanation().plot("C-1", ax=ax, max_display=max_display, scale=scale)
    fig.canvas.draw()
    renderer, boxes = _boxes(ax)
    frame = ax.get_window_extent(renderer)
    assert len(boxes) == 2 * min(max_display, 12)
    for box in boxes:
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5
        assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b) or (
            min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5
            or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5
        )
    figure = fig.bbox
    for text in (ax.title, ax.xaxis.label):
        box = text.get_window_extent(renderer)
        assert figure.x0 <= box.x0 and box.x1 <= figure.x1 + 0.5
    plt.close(fig)


def test_waterfall_reads_probability_points_and_display_names():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    ex = explanation(4)
    ex.plot("C-1", ax=ax)
    values = [t.get_text() for t in ax.texts if t.get_ha() == "right"]
    assert all(v.endswith(" pts") for v in values)
    points = sorted(float(v[:-4]) for v in values)
    expected = sorted(np.round(ex.probability_values.iloc[0].to_numpy() * 100, 1))
    np.testing.assert_allclose(points, expected)
    labels = [t.get_gid() for t in ax.texts if t.get_ha() == "left"]
    assert any(label.startswith("Logins ") for label in labels)
    assert "churn probability" in ax.get_xlabel() and "%" in ax.get_xlabel()
    plt.close(fig)


def _check_inside_and_apart(fig, ax):
    fig.canvas.draw()
    renderer, boxes = _boxes(ax)
    frame = ax.get_window_extent(renderer)
    for box in boxes:
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5
        assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b) or (
            min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5
            or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5
        )
    figure = fig.bbox
    legend = ax.get_legend()
    extras = [ax.xaxis.label] + ([legend] if legend is not None else [])
    for text in extras:
        box = text.get_window_extent(renderer)
        assert figure.x0 - 0.5 <= box.x0 and box.x1 <= figure.x1 + 0.5
        assert figure.y0 - 0.5 <= box.y0 and box.y1 <= figure.y1 + 0.5
        assert not box.overlaps(frame) or box.y0 >= frame.y1 - 0.5 or text is not legend
    return boxes


def grouped_explanation(n_features=12):
    ex = explanation(n_features)
    desc = ex_descriptions(n_features)
    return Explanation(
        ex.values.to_numpy(), [-2.0], ex.data, calibrate=expit, descriptions=desc
    )


def ex_descriptions(n_features):
    groups = ["usage", "billing", "support", "profile"]
    return pd.DataFrame(
        {
            "feature": [f"usage__feature_{i}" for i in range(n_features)],
            "group": [groups[i % 4] for i in range(n_features)],
            "unit": "events",
            "direction": "lower",
            "template": "x: {value}",
            "display_name": [
                LONG if i % 3 == 0 else f"Logins {i}" for i in range(n_features)
            ],
        }
    )


@pytest.mark.parametrize(
    ("size", "max_display", "scale", "by"),
    [
        ((3, 2), 20, "probability", "feature"),
        ((4, 3), 6, "log-odds", "feature"),
        ((6.4, 4.8), 20, "probability", "feature"),
        ((10, 6), 13, "log-odds", "feature"),
        ((8, 2.5), 10, "probability", "group"),
    ],
)
def test_plot_global_text_stays_inside_and_apart(size, max_display, scale, by):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    ex = grouped_explanation()
    ex.plot_global(ax=ax, max_display=max_display, scale=scale, by=by)
    boxes = _check_inside_and_apart(fig, ax)
    n_bars = min(max_display, 12 if by == "feature" else 4)
    assert len(boxes) == 2 * n_bars
    plt.close(fig)


@pytest.mark.parametrize("display_names", [True, False])
def test_plot_global_labels_display_names_or_raw_names(display_names):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 6))
    ex = grouped_explanation(4)
    ex.plot_global(ax=ax, display_names=display_names, scale="probability")
    labels = [t for t in ax.texts if t.get_ha() == "left"]
    imp = ex.global_importance(scale="probability")
    # top bar first in the table, drawn last (on top)
    assert [t.get_gid() for t in labels[::-1]] == imp["feature"].tolist()
    shown = [t.get_text() for t in labels[::-1]]
    expected = imp["display_name" if display_names else "feature"].tolist()
    for text, full in zip(shown, expected, strict=True):  # long ones shortened
        assert text == full or (text.endswith("…") and full.startswith(text[:-1]))
    assert ("Logins 1" in shown) is display_names
    values = [t.get_text() for t in ax.texts if t.get_ha() == "right"][::-1]
    assert values == [f"{v * 100:.1f} pts" for v in imp["importance"]]
    plt.close(fig)


def test_global_importance_has_raw_and_display_names():
    ex = grouped_explanation(4)
    imp = ex.global_importance()
    assert list(imp.columns) == [
        "feature", "display_name", "group", "importance", "share"
    ]  # fmt: skip
    desc = ex_descriptions(4).set_index("feature")["display_name"]
    assert (imp["display_name"] == imp["feature"].map(desc)).all()
    np.testing.assert_allclose(
        imp.set_index("feature")["importance"].sort_index(),
        ex.values.abs().mean().sort_index(),
    )


GAP = "Days since last activity / usual gap"  # the CDNOW trial's cut label


def gap_explanation(value=0.5712, unit="ratio"):
    names = ["usage__gap_ratio", "usage__logins"]
    index = pd.Index(["C-1"], name="customer_id")
    data = pd.DataFrame([[value, 3.0]], index, names)
    desc = pd.DataFrame(
        {
            "feature": names,
            "group": "usage",
            "unit": [unit, "events"],
            "direction": "higher",
            "template": "x: {value}",
            "display_name": [GAP, "Logins"],
        }
    )
    values = np.array([[-0.3, 0.8]])
    return Explanation(values, [-2.0], data, calibrate=expit, descriptions=desc)


@pytest.mark.parametrize("size", [(8, 5), (4, 3), (3, 2)])
@pytest.mark.parametrize(
    ("value", "unit"), [(0.5712, "ratio"), (1234567.891, "currency")]
)
def test_waterfall_shortens_the_name_never_the_value(size, value, unit):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    gap_explanation(value, unit).plot("C-1", ax=ax)
    fig.canvas.draw()
    boxes = _check_inside_and_apart(fig, ax)
    assert len(boxes) == 4
    (label,) = [t for t in ax.texts if (t.get_gid() or "").startswith(GAP)]
    name, _, shown_value = label.get_gid().rpartition(" = ")
    assert name == GAP and shown_value  # the full label stays the gid
    text = label.get_text()
    assert text.endswith(f" = {shown_value}")
    head = text[: -len(f" = {shown_value}")]
    assert head == GAP or (head.endswith("…") and GAP.startswith(head[:-1]))
    plt.close(fig)


def test_waterfall_value_too_wide_for_the_column_stays_inside():
    import matplotlib.pyplot as plt

    from churnkit.explain._plots import waterfall

    value = "a category spelled out at great length, far wider than the column"
    fig, ax = plt.subplots(figsize=(3, 2))
    waterfall([0.2, -0.1], 0.3, [f"{GAP} = {value}", "Logins = 3"], ax=ax)
    _check_inside_and_apart(fig, ax)
    label = next(t for t in ax.texts if (t.get_gid() or "").startswith(GAP))
    assert label.get_text().endswith("…")  # last resort: cut, but inside
    plt.close(fig)

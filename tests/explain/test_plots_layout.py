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

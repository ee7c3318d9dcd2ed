"""Probability points: SHAP values of the margin spread onto the probability."""

from __future__ import annotations

import numpy as np

__all__ = ["probability_points", "secant_slope"]


def probability_points(values: np.ndarray, base: np.ndarray, calibrate) -> tuple:
    """(probability points, base probability, probability) of each row.

    ``values`` are log-odds contributions (rows x features), ``base`` the
    base values and ``calibrate`` the map margin -> probability. Each row's
    ``p(margin) - p(base)`` is spread over its features in proportion to
    their contributions: the secant slope of ``calibrate`` between the base
    value and the margin, its derivative where the two are within 1e-6.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import expit
    >>> points, p0, p = probability_points(np.array([[1.0, 1.0]]), np.zeros(1), expit)
    >>> round(float(p0[0] + points.sum()), 6) == round(float(p[0]), 6)
    True
    """
    margin = base + values.sum(axis=1)
    p = np.asarray(calibrate(margin), dtype="float64")
    p0 = np.asarray(calibrate(base), dtype="float64")
    slope = secant_slope(base, margin, p0, p, calibrate)
    return values * slope[:, None], p0, p


def secant_slope(m0, m1, p0, p1, calibrate) -> np.ndarray:
    """Slope of ``calibrate`` between the margins ``m0`` and ``m1`` (with
    probabilities ``p0``, ``p1``): the secant, or the derivative at their
    midpoint where they are within 1e-6."""
    dm = m1 - m0
    close = np.abs(dm) < 1e-6
    slope = np.empty_like(dm)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope[~close] = (p1 - p0)[~close] / dm[~close]
    if close.any():
        mid, h = (m0 + m1)[close] / 2, 1e-4
        up = np.asarray(calibrate(mid + h), dtype="float64")
        down = np.asarray(calibrate(mid - h), dtype="float64")
        slope[close] = (up - down) / (2 * h)
    return slope

"""Calibration on a time-ordered hold-out.

The hold-out is the latest cutoffs when the rows have a ``cutoff_time`` index
level with two or more values, a stratified random share otherwise. The
calibrators map the base model's margin (log-odds) to a probability.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import train_test_split

from churnkit._validation import CUTOFF_TIME, read_cutoff_table

__all__ = [
    "SigmoidCalibrator",
    "IsotonicCalibrator",
    "Holdout",
    "canonical_order",
    "choose_holdout",
    "n_holdout_cutoffs",
    "too_few",
]

MIN_CLASS_HOLDOUT = 10  # rows of each class, in hold-out and rest, to hold out
MIN_CLASS_CALIBRATION = 50  # rows of each class in the hold-out to calibrate

CUTOFF_LEVEL = CUTOFF_TIME


# --------------------------------------------------------------------------- #
# Calibrators: map the base model's margin to a probability
# --------------------------------------------------------------------------- #
@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # scikit-learn's dependency

    return ThreadpoolController()


def _one_blas_thread():
    """A context in which BLAS libraries run on one thread.

    scipy's L-BFGS-B calls BLAS on vectors of two elements, and OpenBLAS's
    worker threads, once woken, spin for a while after each call: on IBM Telco
    (5,282 rows) that spinning was about 15 % of a whole ``ChurnClassifier``
    fit's CPU. The fit's numbers do not depend on the threads.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


class SigmoidCalibrator(BaseEstimator):
    """Platt scaling of a margin: ``p = expit(slope_ * margin + intercept_)``.

    Fitted by maximum likelihood with Platt's smoothed targets
    (``(n1 + 1) / (n1 + 2)`` and ``1 / (n0 + 2)``), which keeps the fit finite on
    separable hold-outs, and ``slope_ >= 0``, so it never reverses the ranking
    of the base model.

    Attributes
    ----------
    slope_ : float
        Multiplies the base model's log-odds.
    intercept_ : float
        Added after scaling: the calibrated log-odds are
        ``slope_ * margin + intercept_``, an affine function of the margin.
    """

    def fit(self, margin, y, sample_weight=None) -> SigmoidCalibrator:
        """Fit on hold-out margins and 0/1 labels (weighted when given)."""
        m = np.asarray(margin, dtype="float64")
        y = np.asarray(y, dtype="float64")
        w = (
            np.ones_like(m)
            if sample_weight is None
            else np.asarray(sample_weight, dtype="float64")
        )
        n1 = w @ y  # weighted class totals (the counts when unweighted)
        n0 = w.sum() - n1
        t = np.where(y == 1, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))

        def loss(params):
            z = params[0] * m + params[1]
            value = w @ (np.logaddexp(0, z) - t * z)
            residual = w * (expit(z) - t)
            return value, np.array([residual @ m, residual.sum()])

        with _one_blas_thread():  # same numbers, without spinning BLAS threads
            result = minimize(
                loss,
                x0=[1.0, 0.0],
                jac=True,
                method="L-BFGS-B",
                bounds=[(0, None), (None, None)],
            )
        self.slope_, self.intercept_ = (float(v) for v in result.x)
        return self

    def predict(self, margin) -> np.ndarray:
        """Calibrated probability of each margin."""
        return expit(
            self.slope_ * np.asarray(margin, dtype="float64") + self.intercept_
        )


class IsotonicCalibrator(BaseEstimator):
    """Isotonic (monotone step) map from margin to probability.

    Probabilities are clipped to ``[1 / (n + 2), 1 - 1 / (n + 2)]``, with ``n``
    the hold-out size: a hold-out of ``n`` rows cannot justify a probability of
    exactly 0 or 1.

    Attributes
    ----------
    isotonic_ : sklearn.isotonic.IsotonicRegression
        The fitted step function (margins outside the hold-out range are clipped).
    clip_ : float
        The clipping bound ``1 / (n + 2)``.
    """

    def fit(self, margin, y, sample_weight=None) -> IsotonicCalibrator:
        """Fit on hold-out margins and 0/1 labels (weighted when given)."""
        m = np.asarray(margin, dtype="float64")
        self.isotonic_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        self.isotonic_.fit(
            m, np.asarray(y, dtype="float64"), sample_weight=sample_weight
        )
        self.clip_ = 1.0 / (len(m) + 2)
        return self

    def predict(self, margin) -> np.ndarray:
        """Calibrated probability of each margin."""
        p = self.isotonic_.predict(np.asarray(margin, dtype="float64").ravel())
        return np.clip(p, self.clip_, 1 - self.clip_)


# --------------------------------------------------------------------------- #
# Hold-out selection
# --------------------------------------------------------------------------- #
@dataclass
class Holdout:
    train: np.ndarray  # positions of the rows the base model is fit on
    hold: np.ndarray  # positions of the hold-out rows
    kind: str  # "latest_cutoffs" | "stratified_random"
    cutoffs: list  # the hold-out cutoffs (latest_cutoffs only)


def canonical_order(index: pd.Index) -> np.ndarray | None:
    """Positions that sort the rows by index (cutoff time first), or None.

    Fitting in this order makes the model independent of the row order of X
    (xgboost's row sampling and floating-point sums follow the row order).
    None when the rows are already in order or the index cannot be sorted.
    """
    names = list(index.names)
    levels = list(range(index.nlevels))
    if CUTOFF_LEVEL in names:  # primary key: cutoff time, as make_cutoffs orders
        levels.remove(names.index(CUTOFF_LEVEL))
        levels.insert(0, names.index(CUTOFF_LEVEL))
    try:
        keys = [
            pd.factorize(index.get_level_values(i), sort=True)[0]
            for i in reversed(levels)
        ]
    except TypeError:  # ids of mixed types: keep the given order
        return None
    order = np.lexsort(keys)
    if (order == np.arange(len(order))).all():
        return None
    return order


def cutoff_codes(index: pd.Index):
    """(codes, sorted unique cutoffs) of the cutoff_time level, or None."""
    names = list(index.names) if index.names is not None else []
    if CUTOFF_LEVEL not in names:
        return None
    # the one reader of cutoff times: numbers, text, time zones and nulls are
    # read (or refused) as everywhere else
    _, times = read_cutoff_table(
        pd.Series(0, index=index), ids=False, caller="ChurnClassifier"
    )
    codes, uniques = pd.factorize(times, sort=True)
    return codes, pd.DatetimeIndex(uniques)


def n_holdout_cutoffs(per_cutoff, fraction) -> int:
    """How many of the latest cutoffs form the hold-out.

    ``per_cutoff``: the number of rows at each distinct cutoff time, in time
    order (two or more). The latest cutoffs that together hold at least
    ``fraction`` of the rows, leaving at least one cutoff to train on. Engines
    count rows per cutoff and call this too (``churnkit.models._engine_fit``).
    """
    per_cutoff = np.asarray(per_cutoff)
    from_latest = np.cumsum(per_cutoff[::-1])
    k = int(np.searchsorted(from_latest, fraction * per_cutoff.sum())) + 1
    return min(k, len(per_cutoff) - 1)


def choose_holdout(index, y01, fraction, seed) -> tuple[Holdout | None, str]:
    """Split off the hold-out; return (None, reason) when it would be too small."""
    n = len(y01)
    coded = cutoff_codes(index)
    if coded is not None and len(coded[1]) >= 2:
        codes, uniques = coded
        k = n_holdout_cutoffs(np.bincount(codes, minlength=len(uniques)), fraction)
        hold_mask = codes >= len(uniques) - k
        split = Holdout(
            np.flatnonzero(~hold_mask),
            np.flatnonzero(hold_mask),
            "latest_cutoffs",
            list(uniques[len(uniques) - k :]),
        )
    else:
        expected = np.floor(np.bincount(y01, minlength=2) * fraction)
        if expected.min() < MIN_CLASS_HOLDOUT:
            return None, too_few("hold-out", expected, MIN_CLASS_HOLDOUT)
        train, hold = train_test_split(
            np.arange(n), test_size=fraction, stratify=y01, random_state=seed
        )
        split = Holdout(np.sort(train), np.sort(hold), "stratified_random", [])
    for part, rows in (("hold-out", split.hold), ("training part", split.train)):
        counts = np.bincount(y01[rows], minlength=2)
        if counts.min() < MIN_CLASS_HOLDOUT:
            return None, too_few(part, counts, MIN_CLASS_HOLDOUT)
    return split, ""


def too_few(part, counts, minimum) -> str:
    return (
        f"the {part} would have {int(counts[1])} rows of the positive class and "
        f"{int(counts[0])} of the negative class; at least {minimum} of each are "
        "needed"
    )

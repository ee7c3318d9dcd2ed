"""Leak check: warn about a column that alone separates the classes."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["leak_notes"]

LEAK_AUC = 0.99  # single-feature ROC-AUC above this (or below 1 - this) warns
_MIN_CLASS_LEAK = 10  # rows of each class needed before checking for leaks
_LEAK_MAX_ROWS = 100_000  # rows sampled for the leak check


def _single_feature_auc(frame: pd.DataFrame, y01: np.ndarray) -> pd.Series:
    """ROC-AUC of each column alone, NaN rows skipped, ties counted half.

    This is the Mann-Whitney rank-sum statistic, computed per distinct value
    (positives at a value times negatives below it, plus half the ties), on
    at most ``_LEAK_MAX_ROWS`` rows drawn with a fixed seed: plenty to tell
    0.99 from chance, and it keeps the check fast on millions of rows.
    """
    positive = y01.astype(bool)
    if len(frame) > _LEAK_MAX_ROWS:
        rows = np.sort(
            np.random.default_rng(0).choice(len(frame), _LEAK_MAX_ROWS, False)
        )
        frame, positive = frame.iloc[rows], positive[rows]
    values = frame.to_numpy(dtype="float64")
    auc = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        present = ~np.isnan(values[:, j])
        pos_j = positive[present]
        n1 = int(pos_j.sum())
        n0 = len(pos_j) - n1
        if min(n1, n0) < _MIN_CLASS_LEAK:
            continue
        _, level = np.unique(values[present, j], return_inverse=True)
        pos = np.bincount(level, weights=pos_j)
        neg = np.bincount(level) - pos
        below = np.cumsum(neg) - neg
        auc[j] = pos @ (below + 0.5 * neg) / (n1 * n0)
    return pd.Series(auc, index=frame.columns)


def _level_rates(frame: pd.DataFrame, y01: np.ndarray) -> pd.DataFrame:
    """Each categorical column as its level's churn rate (missing: NaN).

    A column whose levels each hold one class (the label as text, "Yes" and
    "No") ranks the rows perfectly by that rate. Levels hold at least
    ``min_frequency`` rows (TablePrep), so a column of many small levels
    cannot reach the leak threshold by chance.
    """
    out = {}
    for col in frame.columns:
        codes = np.asarray(frame[col].cat.codes)
        present = codes >= 0
        n = np.bincount(codes[present])
        pos = np.bincount(codes[present], weights=y01[present], minlength=len(n))
        rate = np.append(pos / np.maximum(n, 1), np.nan)
        out[col] = rate[np.where(present, codes, len(n))]
    return pd.DataFrame(out, index=frame.index)


def leak_notes(frame: pd.DataFrame, y01: np.ndarray) -> list:
    """Notes on the columns that alone separate the classes (numeric, or
    pandas Categorical through their levels' churn rates)."""
    if frame.shape[1] == 0:
        return []
    categorical = [
        c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    if categorical:
        rates = _level_rates(frame[categorical], np.asarray(y01, dtype=float))
        columns = list(frame.columns)
        frame = pd.concat([frame.drop(columns=categorical), rates], axis=1)[columns]
    auc = _single_feature_auc(frame, y01)
    leaky = auc[(auc > LEAK_AUC) | (auc < 1 - LEAK_AUC)]
    # a column that falls as churn rises separates as well: its AUC is 1 - value
    return [
        f"Column `{col}` alone separates the classes almost perfectly (ROC-AUC "
        f"{max(value, 1 - value):.4f} on its own"
        f"{', read in reverse' if value < 0.5 else ''}): it probably leaks the "
        "label, e.g. a value recorded at or after the cutoff. Check how it is "
        "computed, or drop it."
        for col, value in leaky.items()
    ]

"""Drift between two scoring runs: population stability per feature and of the scores.

The population stability index (PSI) compares the distribution of a variable
in a later run (``after``) with a reference run (``before``) over bins fixed
on the reference:

``PSI = sum_i (a_i - b_i) * ln(a_i / b_i)``

with ``b_i`` and ``a_i`` the shares of rows in bin ``i``. Conventions from
credit scoring (Siddiqi, *Credit Risk Scorecards*, 2006), used here:
PSI < 0.1 stable, 0.1 - 0.25 a moderate shift worth a look, >= 0.25 a major
shift (the model's inputs no longer look like its training data: check the
data pipeline, then consider refitting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from churnkit._logging import warn
from churnkit._validation import as_series, check_int, check_number, check_scores
from churnkit.exceptions import ChurnkitTypeError, SchemaDriftWarning, SchemaError

__all__ = ["feature_drift", "score_drift", "population_stability_index"]

MODERATE, MAJOR = 0.1, 0.25  #: PSI conventions (Siddiqi 2006)
EPS = 1e-4  #: floor on bin shares, so an empty bin gives a finite PSI


def population_stability_index(before, after, *, n_bins=10):
    """Population stability index of one variable between two runs.

    Parameters
    ----------
    before : array-like or Series
        Values of the reference run (numbers, or categories).
    after : array-like or Series
        Values of the later run.
    n_bins : int, default=10
        Numeric values: quantile bins of ``before`` (fewer when it has ties).
        Categories: one bin per level, whatever ``n_bins``.

    Returns
    -------
    float
        ``sum_i (a_i - b_i) ln(a_i / b_i)`` over the bins (missing values are
        a bin of their own; shares are floored at 1e-4). 0 when the two
        distributions agree bin by bin.

    See Also
    --------
    feature_drift : The PSI of every feature of two tables.

    Examples
    --------
    >>> import numpy as np
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> before = rng.normal(size=5000)
    >>> ck.population_stability_index(before, rng.normal(size=5000)) < 0.1
    True
    >>> round(ck.population_stability_index(before, rng.normal(0.5, size=5000)), 1)
    0.3
    """
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    b, a = as_series(before, "before"), as_series(after, "after")
    return float(_psi(b, a, n_bins)[0])


def feature_drift(before, after, *, n_bins=10, threshold=MAJOR):
    """Population stability of every feature between two scoring runs.

    Parameters
    ----------
    before : DataFrame
        Features of the reference run (e.g. the training rows, or last
        month's scoring), one column per feature: the output of a churn
        pipeline's feature step, ``model[:-1].transform(cutoffs)``.
    after : DataFrame
        Features of the later run, same columns.
    n_bins : int, default=10
        Quantile bins of each numeric feature in ``before``.
    threshold : float, default=0.25
        PSI at or above which a feature is reported in a
        :class:`~churnkit.SchemaDriftWarning` (0.25: a major shift by the
        usual convention; 0.1 to warn on moderate shifts too).

    Returns
    -------
    DataFrame
        Indexed by feature, largest PSI first: ``psi``, ``status`` ("stable"
        below 0.1, "moderate" below 0.25, else "major"), ``mean_before``,
        ``mean_after`` (NaN for categories), ``missing_before``,
        ``missing_after`` (shares of missing values) and ``n_bins`` (bins
        used).

    See Also
    --------
    score_drift : The same for the churn scores.

    Notes
    -----
    Bins are fixed on ``before``: quantile edges for numbers (values of
    ``after`` outside the range fall in the end bins), one bin per level for
    categories (levels new in ``after`` get bins of their own), and one for
    missing values. Columns in only one of the tables are left out, named in
    a warning.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> before = pd.DataFrame({"logins": rng.poisson(20, 2000),
    ...                        "tickets": rng.poisson(1, 2000)})
    >>> after = pd.DataFrame({"logins": rng.poisson(12, 2000),
    ...                       "tickets": rng.poisson(1, 2000)})
    >>> table = ck.feature_drift(before, after)  # warns: logins drifted
    >>> table["status"].to_dict()
    {'logins': 'major', 'tickets': 'stable'}
    """
    for name, frame in (("before", before), ("after", after)):
        if not isinstance(frame, pd.DataFrame):
            raise ChurnkitTypeError(
                f"feature_drift: `{name}` must be a DataFrame of features (one "
                f"column each); got {type(frame).__name__}."
            )
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    threshold = check_number(threshold, "threshold", low=0)
    shared = [c for c in before.columns if c in set(after.columns)]
    only = [c for c in before.columns if c not in set(shared)]
    only += [c for c in after.columns if c not in set(before.columns)]
    if not shared:
        raise SchemaError(
            "feature_drift: `before` and `after` share no column; pass two "
            f"feature tables of the same model (before: {list(before.columns)[:5]}, "
            f"after: {list(after.columns)[:5]})."
        )
    if only:
        warn(
            f"feature_drift left out {len(only)} column(s) found in only one of "
            f"the tables: {only[:5]}.",
            SchemaDriftWarning,
        )
    rows = []
    for col in shared:
        psi, bins = _psi(before[col], after[col], n_bins)
        rows.append((col, psi, bins, *_summary(before[col]), *_summary(after[col])))
    out = pd.DataFrame(
        rows,
        columns=[
            "feature",
            "psi",
            "n_bins",
            "mean_before",
            "missing_before",
            "mean_after",
            "missing_after",
        ],
    ).set_index("feature")
    out.insert(1, "status", status(out["psi"].to_numpy()))
    out = out[
        [
            "psi",
            "status",
            "mean_before",
            "mean_after",
            "missing_before",
            "missing_after",
            "n_bins",
        ]
    ].sort_values("psi", ascending=False, kind="stable")
    drifted = out.index[out["psi"] >= threshold]
    if len(drifted):
        shown = ", ".join(f"{f} ({out.at[f, 'psi']:.2f})" for f in drifted[:5])
        warn(
            f"{len(drifted)} of {len(out)} features drifted (PSI >= {threshold:g}): "
            f"{shown}{' ...' if len(drifted) > 5 else ''}. Check the data "
            "pipeline for these columns, then consider refitting the model on "
            "recent cutoffs.",
            SchemaDriftWarning,
        )
    return out


def score_drift(before, after, *, n_bins=10, threshold=MAJOR):
    """Shift of the churn-score distribution between two scoring runs.

    Parameters
    ----------
    before : array-like or Series
        Scores of the reference run (e.g. ``model.predict_proba(X)[:, 1]``).
    after : array-like or Series
        Scores of the later run.
    n_bins : int, default=10
        Quantile bins of ``before`` for the PSI.
    threshold : float, default=0.25
        PSI at or above which a :class:`~churnkit.SchemaDriftWarning` is
        issued.

    Returns
    -------
    Series
        ``psi``, ``status`` (as in :func:`feature_drift`), ``ks_statistic``
        and ``ks_pvalue`` (two-sample Kolmogorov-Smirnov), ``mean_before``,
        ``mean_after``, ``median_before``, ``median_after``, ``p90_before``,
        ``p90_after``, ``n_before``, ``n_after``.

    Examples
    --------
    >>> import numpy as np
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> shift = ck.score_drift(rng.beta(1, 9, 3000), rng.beta(1, 9, 3000))
    >>> shift["status"]
    'stable'
    """
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    threshold = check_number(threshold, "threshold", low=0)
    b = check_scores(as_series(before, "before"), "before", True, False)
    a = check_scores(as_series(after, "after"), "after", True, False)
    if not len(b) or not len(a):
        raise SchemaError("score_drift: `before` and `after` need at least one score.")
    psi, _ = _psi(pd.Series(b), pd.Series(a), n_bins)
    ks = ks_2samp(b, a)
    out = pd.Series(
        {
            "psi": psi,
            "status": str(status(np.array([psi]))[0]),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "mean_before": float(b.mean()),
            "mean_after": float(a.mean()),
            "median_before": float(np.median(b)),
            "median_after": float(np.median(a)),
            "p90_before": float(np.quantile(b, 0.9)),
            "p90_after": float(np.quantile(a, 0.9)),
            "n_before": len(b),
            "n_after": len(a),
        },
        dtype=object,
        name="score_drift",
    )
    if psi >= threshold:
        warn(
            f"The churn scores drifted: PSI {psi:.2f} >= {threshold:g} (mean "
            f"{b.mean():.3f} -> {a.mean():.3f}). Check the inputs with "
            "ck.feature_drift before acting on the new scores.",
            SchemaDriftWarning,
        )
    return out


def status(psi) -> np.ndarray:
    """ "stable" / "moderate" / "major" by the 0.1 and 0.25 conventions."""
    return np.where(
        psi < MODERATE, "stable", np.where(psi < MAJOR, "moderate", "major")
    )


def _psi(before: pd.Series, after: pd.Series, n_bins: int):
    """(PSI, number of bins) of two Series, bins fixed on ``before``."""
    cb, ca, n = _codes(before, after, n_bins)
    share_b = np.bincount(cb, minlength=n) / max(len(cb), 1)
    share_a = np.bincount(ca, minlength=n) / max(len(ca), 1)
    used = (share_b > 0) | (share_a > 0)
    b, a = np.maximum(share_b[used], EPS), np.maximum(share_a[used], EPS)
    return float(np.sum((a - b) * np.log(a / b))), int(used.sum())


def _codes(before, after, n_bins):
    """Bin codes of both Series; the last bin holds the missing values."""
    numeric = _is_numeric(before) and _is_numeric(after)
    if numeric:
        b = before.to_numpy(dtype="float64", na_value=np.nan)
        a = after.to_numpy(dtype="float64", na_value=np.nan)
        finite = b[~np.isnan(b)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))
            if len(finite)
            else np.array([])
        )
        n = len(edges) + 1
        codes = [
            np.where(np.isnan(x), n, np.searchsorted(edges, x, side="right"))
            for x in (b, a)
        ]
        return codes[0], codes[1], n + 1
    levels = pd.Index(pd.unique(pd.concat([before, after], ignore_index=True).dropna()))
    codes = []
    for x in (before, after):
        c = levels.get_indexer(x.astype(object))
        codes.append(np.where(c < 0, len(levels), c))
    return codes[0], codes[1], len(levels) + 1


def _is_numeric(s) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(
        s.dtype, pd.CategoricalDtype
    )


def _summary(s):
    missing = float(s.isna().mean()) if len(s) else np.nan
    if _is_numeric(s) and s.notna().any():
        return float(np.nanmean(s.to_numpy(dtype="float64", na_value=np.nan))), missing
    return np.nan, missing

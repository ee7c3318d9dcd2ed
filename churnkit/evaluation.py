"""Evaluate churn models: scores, lift and gains, calibration and campaign profit.

Every function takes ``(y_true, y_score)`` in scikit-learn's order, where
``y_true`` holds 1 for a churner and 0 for a customer who stayed, and
``y_score`` is the model's churn score (``model.predict_proba(X)[:, 1]``).
Arrays, lists and Series are accepted; two Series are matched on their index.

Ranking ("the top 10% by score") is the core of lift, gains and profit. It is
defined once, here, for every function of this module:

* customers are sorted by score, highest first;
* customers with equal scores are never ordered among themselves: when a
  cutoff falls inside a group of tied scores, the group contributes its
  churners pro rata (the expected result of breaking the tie at random). The
  result therefore never depends on row order, and a constant score has a
  lift of exactly 1;
* the top fraction ``k`` holds exactly ``k * n`` customers; when that is not a
  whole number, the boundary customer counts for the fractional part (the
  cumulative gains curve, linear between customers, read at ``k``).

The functions are:

* :func:`evaluate`: one Series with ROC-AUC, PR-AUC, log loss, Brier score,
  calibration error, and lift and capture at 5%, 10% and 20%;
* :func:`lift_table` (alias :func:`gains_table`): the decile table;
* :func:`expected_calibration_error`;
* :func:`plot_gains`, :func:`plot_lift`, :func:`plot_calibration`;
* :func:`campaign_profit`: profit of a retention campaign by fraction targeted;
* :func:`emp_score` and :data:`emp_scorer`: the expected maximum profit measure
  for customer churn (Verbraken, Verbeke & Baesens, 2013), for model selection.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score

from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "evaluate",
    "lift_table",
    "gains_table",
    "expected_calibration_error",
    "plot_gains",
    "plot_lift",
    "plot_calibration",
    "campaign_profit",
    "emp_score",
    "emp_scorer",
]

_EPS = 1e-15  # probabilities are clipped to [_EPS, 1 - _EPS] in the log loss
_N_EXAMPLES = 5  # offending values shown in an error message


# --------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------


def _as_series(values: Any, name: str) -> pd.Series:
    """Return ``values`` as a 1-D Series (positional index unless it was a Series)."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise SchemaError(
                f"`{name}` must be one column; got a DataFrame with "
                f"{values.shape[1]} columns {list(values.columns)[:_N_EXAMPLES]!r}. "
                "Pass a single column, e.g. df['churned']."
            )
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values
    if values is None or np.isscalar(values):
        raise ChurnkitTypeError(
            f"`{name}` must be an array, list or Series with one value per "
            f"customer; got {values!r}."
        )
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 2 and name != "y_true":
        raise SchemaError(
            f"`{name}` must be 1-D; got shape {array.shape}, which looks like the "
            "output of predict_proba. Pass the churn column: "
            "model.predict_proba(X)[:, 1]."
        )
    if array.ndim != 1:
        raise SchemaError(
            f"`{name}` must be 1-D with one value per customer; got shape "
            f"{array.shape}."
        )
    return pd.Series(array)


def _where(series: pd.Series, mask: np.ndarray, positional: bool) -> str:
    """Describe a few rows selected by ``mask``: their positions or index labels."""
    hits = np.flatnonzero(mask)[:_N_EXAMPLES]
    if positional:
        return f"at positions {hits.tolist()}"
    return f"at index {series.index[hits].tolist()!r}"


def _align(
    first: pd.Series, second: pd.Series, names: tuple[str, str]
) -> tuple[pd.Series, pd.Series]:
    """Match two inputs by index (two Series) or by position (anything else)."""
    if len(first) != len(second):
        raise SchemaError(
            f"`{names[0]}` has {len(first)} rows but `{names[1]}` has "
            f"{len(second)}; pass one {names[1]} per customer of {names[0]}, "
            "in the same order."
        )
    if first.index.equals(second.index):
        return first, second
    extra = second.index.difference(first.index)
    if first.index.is_unique and second.index.is_unique and len(extra) == 0:
        return first, second.reindex(first.index)
    raise SchemaError(
        f"`{names[0]}` and `{names[1]}` are Series with different indexes: "
        f"{len(extra)} index labels of `{names[1]}` are not in `{names[0]}`, "
        f"e.g. {extra[:_N_EXAMPLES].tolist()!r}. Index both like X, or pass "
        "arrays (.to_numpy()) to match them by position."
    )


def _check_labels(series: pd.Series, positional: bool) -> np.ndarray:
    """Return ``y_true`` as a float array of 0/1, or raise a SchemaError."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise SchemaError(
            f"`y_true` has {missing.sum()} missing values "
            f"{_where(series, missing, positional)}; drop those rows (and their "
            "scores) before evaluating."
        )
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = (numeric.isna() | ~numeric.isin([0, 1])).to_numpy()
    if bad.any():
        examples = pd.unique(series[bad])[:_N_EXAMPLES].tolist()
        raise SchemaError(
            f"`y_true` must hold 0/1 or True/False (1 = churned); {bad.sum()} "
            f"values are something else, e.g. {examples!r} "
            f"{_where(series, bad, positional)}. Encode churn as 1 and staying as 0."
        )
    return numeric.to_numpy(dtype=float)


def _check_scores(
    series: pd.Series, name: str, positional: bool, probability: bool
) -> np.ndarray:
    """Return scores as a float array; NaN, inf and (for probabilities) values
    outside [0, 1] raise a SchemaError."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype(float)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise SchemaError(
            f"`{name}` must be numeric churn scores; got dtype {series.dtype} "
            f"with values such as {series.head(3).tolist()!r}."
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise SchemaError(
            f"`{name}` has {missing.sum()} missing values (NaN) "
            f"{_where(series, missing, positional)}; impute them or drop those "
            "rows (and their labels) before evaluating."
        )
    if probability:
        bad = (values < 0) | (values > 1)
        what = "probabilities in [0, 1]"
        fix = "Pass model.predict_proba(X)[:, 1], not decision_function or raw margins."
    else:
        bad = ~np.isfinite(values)
        what = "finite"
        fix = "Replace infinite scores before evaluating."
    if bad.any():
        raise SchemaError(
            f"`{name}` must be {what}; {bad.sum()} values are not, e.g. "
            f"{values[bad][:_N_EXAMPLES].tolist()!r} "
            f"{_where(series, bad, positional)}. {fix}"
        )
    return values


def _validate(
    y_true: Any, y_score: Any, *, name: str = "y_score", probability: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and align labels and scores; return two float arrays."""
    labels = _as_series(y_true, "y_true")
    scores = _as_series(y_score, name)
    positional = not (
        isinstance(_unwrap(y_true), pd.Series)
        and isinstance(_unwrap(y_score), pd.Series)
    )
    if positional:
        labels = labels.reset_index(drop=True)
        scores = scores.reset_index(drop=True)
    labels, scores = _align(labels, scores, ("y_true", name))
    if len(labels) == 0:
        raise SchemaError(
            "`y_true` and `y_score` are empty; there is nothing to evaluate."
        )
    y = _check_labels(labels, positional)
    s = _check_scores(scores, name, positional, probability)
    return y, s


def _unwrap(values: Any) -> Any:
    """A one-column DataFrame counts as a Series for index alignment."""
    if isinstance(values, pd.DataFrame) and values.shape[1] == 1:
        return values.iloc[:, 0]
    return values


def _check_fraction(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A fraction of the customer base in (0, 1] (or [0, 1])."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ChurnkitTypeError(f"`{name}` must be a number in (0, 1]; got {value!r}.")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise SchemaError(
            f"`{name}` must be a fraction in {interval}, e.g. 0.1 for the top 10%; "
            f"got {value!r}."
        )
    return float(value)


def _check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ChurnkitTypeError(f"`{name}` must be an integer; got {value!r}.")
    if value < minimum:
        raise SchemaError(f"`{name}` must be at least {minimum}; got {value!r}.")
    return int(value)


def _check_number(
    value: Any, name: str, *, low: float | None = None, high: float | None = None
) -> float:
    """A finite real number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ChurnkitTypeError(f"`{name}` must be a number; got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise SchemaError(f"`{name}` must be finite; got {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise SchemaError(f"`{name}` must be in [{lo}, {hi}]; got {value!r}.")
    return value


def _check_strategy(strategy: Any) -> str:
    if strategy not in ("quantile", "uniform"):
        raise SchemaError(
            f"`strategy` must be 'quantile' (equal-frequency bins) or 'uniform' "
            f"(equal-width bins); got {strategy!r}."
        )
    return strategy


def _percent(k: float) -> str:
    """0.1 -> '10%', 0.025 -> '2.5%'."""
    return f"{100 * k:.10g}%"


# --------------------------------------------------------------------------
# ranking: the cumulative gains curve
# --------------------------------------------------------------------------


class _Ranking:
    """Customers sorted by score (highest first), with tied scores grouped.

    ``ends[j]`` is the number of customers with a score at least the ``j``-th
    distinct score (``ends[0] = 0``); :meth:`cumulative` sums a per-customer
    quantity over them, and :meth:`at` reads such a sum at any (fractional)
    number of customers, linear within a group of ties and between customers.
    """

    def __init__(self, y_score: np.ndarray) -> None:
        self.order = np.argsort(-y_score, kind="stable")
        self.sorted_scores = y_score[self.order]
        n = len(y_score)
        new = np.r_[True, self.sorted_scores[1:] != self.sorted_scores[:-1]]
        starts = np.flatnonzero(new)
        self.thresholds = self.sorted_scores[starts]  # distinct scores, descending
        self.ends = np.r_[0, starts[1:], n]  # customers at or above each score

    @property
    def n(self) -> int:
        return len(self.order)

    def cumulative(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the customers at or above each distinct score."""
        csum = np.r_[0.0, np.cumsum(values[self.order], dtype=float)]
        return csum[self.ends]

    def at(self, n_targeted: np.ndarray | float, cumulative: np.ndarray) -> np.ndarray:
        """``cumulative`` read at ``n_targeted`` customers (ties pro rata)."""
        return np.interp(n_targeted, self.ends, cumulative)


def _no_class_warning(y: np.ndarray, what: str, stacklevel: int = 3) -> bool:
    """Warn (and return True) when ``y_true`` holds a single class."""
    positives = y.sum()
    if 0 < positives < len(y):
        return False
    if positives == 0:
        why = "`y_true` has no churners (all 0)"
    else:
        why = "`y_true` has only churners (all 1)"
    warnings.warn(
        f"{why}, so {what} undefined and returned as NaN. Evaluate on a sample "
        "holding both churners and customers who stayed.",
        ChurnkitWarning,
        stacklevel=stacklevel,
    )
    return True


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------


def evaluate(
    y_true: Any,
    y_score: Any,
    *,
    at: Sequence[float] = (0.05, 0.1, 0.2),
    n_bins: int = 10,
) -> pd.Series:
    """Score churn probabilities: ranking, probability quality and lift.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a customer who churned, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1], e.g.
        ``model.predict_proba(X)[:, 1]``. Two Series are matched on their index,
        anything else by position.
    at : sequence of float, default=(0.05, 0.1, 0.2)
        Fractions of the customer base, ranked by score, at which lift and
        capture are reported.
    n_bins : int, default=10
        Number of equal-frequency bins of the calibration error (see
        :func:`expected_calibration_error`).

    Returns
    -------
    scores : Series of float, name "score"
        Indexed by metric:

        - ``n``: number of customers; ``positives``: number of churners;
          ``base_rate``: their share.
        - ``roc_auc``: area under the ROC curve; ``pr_auc``: average precision
          (:func:`sklearn.metrics.average_precision_score`). Both are NaN, with
          a :class:`~churnkit.ChurnkitWarning`, when ``y_true`` holds one class.
        - ``log_loss``: mean negative log-likelihood, natural log, probabilities
          clipped to [1e-15, 1 - 1e-15]; ``brier``: mean squared error of the
          probabilities.
        - ``ece``: expected calibration error, ``n_bins`` equal-frequency bins.
        - ``lift@10%``: churn rate among the 10% highest scores divided by the
          base rate; ``capture@10%``: share of all churners found there (recall,
          the cumulative gain). One pair per entry of ``at``.

    See Also
    --------
    lift_table : Lift and capture for every decile.
    campaign_profit : What targeting the top of the list earns.

    Notes
    -----
    The top fraction ``k`` holds exactly ``k * n`` customers, highest scores
    first. A group of tied scores straddling the cutoff contributes its churners
    pro rata, the expected result of breaking the tie at random, and a boundary
    customer counts for the fractional part of ``k * n``. So the result never
    depends on row order, a constant score gets a lift of exactly 1, and when
    ``k * n`` is whole, ``lift@k`` equals the first row of
    ``lift_table(bins=round(1 / k))``.

    Examples
    --------
    >>> import churnkit as ck
    >>> scores = ck.evaluate([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], at=(0.5,))
    >>> scores["roc_auc"], scores["lift@50%"]
    (np.float64(0.75), np.float64(1.0))
    """
    return _evaluate(y_true, y_score, at=at, n_bins=n_bins, stacklevel=3)


def _evaluate(
    y_true: Any, y_score: Any, *, at: Sequence[float], n_bins: int, stacklevel: int
) -> pd.Series:
    fractions = [_check_fraction(k, "at") for k in _as_sequence(at, "at")]
    n_bins = _check_int(n_bins, "n_bins")
    y, p = _validate(y_true, y_score, probability=True)
    n = len(y)
    positives = y.sum()
    result: dict[str, float] = {
        "n": float(n),
        "positives": float(positives),
        "base_rate": positives / n,
    }
    if _no_class_warning(y, "ROC-AUC and PR-AUC are", stacklevel=stacklevel):
        result["roc_auc"] = result["pr_auc"] = np.nan
    else:
        result["roc_auc"] = float(roc_auc_score(y, p))
        result["pr_auc"] = float(average_precision_score(y, p))
    clipped = np.clip(p, _EPS, 1 - _EPS)
    result["log_loss"] = float(
        -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped))
    )
    result["brier"] = float(np.mean((p - y) ** 2))
    result["ece"] = _ece(y, p, n_bins, "quantile")

    ranking = _Ranking(p)
    cum_pos = ranking.cumulative(y)
    for k in fractions:
        captured = float(ranking.at(k * n, cum_pos))
        capture = captured / positives if positives > 0 else np.nan
        result[f"lift@{_percent(k)}"] = capture / k
        result[f"capture@{_percent(k)}"] = capture
    return pd.Series(result, name="score", dtype=float)


def _as_sequence(values: Any, name: str) -> list:
    if isinstance(values, str) or not isinstance(values, (Sequence, np.ndarray)):
        raise ChurnkitTypeError(
            f"`{name}` must be a sequence of fractions such as (0.05, 0.1, 0.2); "
            f"got {values!r}. For one fraction, pass ({values!r},)."
        )
    return list(values)


# --------------------------------------------------------------------------
# lift and gains tables
# --------------------------------------------------------------------------


def lift_table(y_true: Any, y_score: Any, *, bins: int = 10) -> pd.DataFrame:
    """Lift and gains by decile of predicted risk (bin 1 = highest scores).

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters, so any finite score works.
    bins : int, default=10
        Number of bins: 10 for deciles, 20 for ventiles.

    Returns
    -------
    table : DataFrame
        One row per bin, indexed by ``bin`` (1 = the highest scores), with
        columns:

        - ``n``: customers in the bin; ``churners``: churners among them;
          ``churn_rate``: their share.
        - ``cum_fraction``: share of all customers in bins 1 to this one.
        - ``cum_churners``: churners in bins 1 to this one; ``cum_capture``:
          their share of all churners (the cumulative gains curve).
        - ``lift``: ``churn_rate`` divided by the overall churn rate;
          ``cum_lift``: the same for bins 1 to this one
          (``cum_capture / cum_fraction``).
        - ``min_score`` / ``max_score``: the range of scores in the bin.

    See Also
    --------
    gains_table : The same table under its other common name.
    plot_gains, plot_lift : The same curves at every cutoff.

    Notes
    -----
    Bins are as equal as possible: the first ``n % bins`` bins hold one extra
    customer (as :func:`numpy.array_split`). Customers are ranked by score,
    highest first. Tied scores straddling a bin boundary share their churners
    pro rata between the bins (the expected result of a random tie-break), so
    ``churners`` may be fractional when scores tie, and the table never depends
    on row order. With no churners, lift and capture are NaN (with a warning).

    Examples
    --------
    >>> import churnkit as ck
    >>> table = ck.lift_table([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], bins=2)
    >>> table[["n", "churners", "lift"]]  # doctest: +NORMALIZE_WHITESPACE
         n  churners  lift
    bin
    1    2       1.0   1.0
    2    2       1.0   1.0
    """
    return _lift_table(y_true, y_score, bins=bins)


def gains_table(y_true: Any, y_score: Any, *, bins: int = 10) -> pd.DataFrame:
    """Cumulative gains by decile of predicted risk: same table as :func:`lift_table`.

    "Gains table" and "lift table" name the same decile table in marketing
    analytics; both names are provided so either one is found.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    bins : int, default=10
        Number of bins: 10 for deciles.

    Returns
    -------
    table : DataFrame
        See :func:`lift_table`; ``cum_capture`` is the cumulative gain.

    See Also
    --------
    lift_table : Column definitions and tie handling.
    """
    return _lift_table(y_true, y_score, bins=bins)


def _lift_table(y_true: Any, y_score: Any, *, bins: int) -> pd.DataFrame:
    bins = _check_int(bins, "bins")
    y, s = _validate(y_true, y_score)
    n = len(y)
    if bins > n:
        raise SchemaError(
            f"cannot split {n} customers into {bins} bins; pass `bins` <= {n}."
        )
    sizes = np.full(bins, n // bins)
    sizes[: n % bins] += 1
    bounds = np.r_[0, np.cumsum(sizes)]
    ranking = _Ranking(s)
    cum_churners = ranking.at(bounds, ranking.cumulative(y))
    churners = np.diff(cum_churners)
    positives = y.sum()
    base_rate = positives / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if positives == 0:
            _no_class_warning(y, "lift and capture are", stacklevel=4)
        churn_rate = churners / sizes
        cum_fraction = bounds[1:] / n
        cum_capture = cum_churners[1:] / positives if positives else np.nan
        table = pd.DataFrame(
            {
                "n": sizes,
                "churners": churners,
                "churn_rate": churn_rate,
                "cum_fraction": cum_fraction,
                "cum_churners": cum_churners[1:],
                "cum_capture": cum_capture,
                "lift": churn_rate / base_rate if positives else np.nan,
                "cum_lift": cum_capture / cum_fraction,
                "min_score": ranking.sorted_scores[bounds[1:] - 1],
                "max_score": ranking.sorted_scores[bounds[:-1]],
            },
            index=pd.RangeIndex(1, bins + 1, name="bin"),
        )
    return table


# --------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------


def _calibration_bins(
    y: np.ndarray, p: np.ndarray, n_bins: int, strategy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per non-empty bin: count, mean predicted probability, observed churn rate."""
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], p)  # (lower, upper]; bin 0 also holds its lower
    count = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    keep = count > 0
    return count[keep], sum_p[keep] / count[keep], sum_y[keep] / count[keep]


def _ece(y: np.ndarray, p: np.ndarray, n_bins: int, strategy: str) -> float:
    count, mean_p, rate = _calibration_bins(y, p, n_bins, strategy)
    return float(np.sum(count * np.abs(rate - mean_p)) / count.sum())


def expected_calibration_error(
    y_true: Any, y_prob: Any, *, n_bins: int = 10, strategy: str = "quantile"
) -> float:
    """Expected calibration error: how far predicted churn rates are from observed ones.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_prob : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        "quantile": equal-frequency bins, edges at the quantiles of ``y_prob``
        (robust when probabilities crowd near 0, as churn probabilities do);
        "uniform": equal-width bins on [0, 1].

    Returns
    -------
    ece : float
        ``sum_b (n_b / n) * |observed churn rate_b - mean predicted probability_b|``
        over the non-empty bins ``b``, in probability points (0 is perfect).

    See Also
    --------
    plot_calibration : The reliability diagram drawn from the same bins.

    Notes
    -----
    The bins are those of :func:`sklearn.calibration.calibration_curve`: a
    probability goes to bin ``(lower, upper]``, the first bin also holds its
    lower edge, and empty bins are skipped. Tied probabilities always share a
    bin, so with many ties quantile bins can be unequal (or fewer).

    Examples
    --------
    >>> import churnkit as ck
    >>> y, p = [0, 1, 0, 1], [0.2, 0.2, 0.7, 0.7]
    >>> ece = ck.expected_calibration_error(y, p, n_bins=2)
    >>> round(ece, 4)  # bins {0.2, 0.2}: |0.5 - 0.2|; {0.7, 0.7}: |0.5 - 0.7|
    0.25
    """
    n_bins = _check_int(n_bins, "n_bins")
    strategy = _check_strategy(strategy)
    y, p = _validate(y_true, y_prob, name="y_prob", probability=True)
    return _ece(y, p, n_bins, strategy)


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


def _reference_line(ax: Axes, gid: str, draw: Callable[[], Any]) -> None:
    """Draw a reference line once per Axes, so overlaid models share it."""
    if not any(line.get_gid() == gid for line in ax.get_lines()):
        line = draw()
        line.set_gid(gid)


def _finish(ax: Axes, label: str | None, legend_loc: str) -> None:
    if label is not None:
        ax.legend(loc=legend_loc)


def _gains_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction targeted and fraction of churners captured at every cutoff."""
    ranking = _Ranking(s)
    positives = y.sum()
    if positives == 0:
        raise SchemaError(
            "`y_true` has no churners, so gains and lift are undefined; plot on a "
            "sample that holds churners."
        )
    return ranking.ends / ranking.n, ranking.cumulative(y) / positives


def plot_gains(
    y_true: Any,
    y_score: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the cumulative gains curve: churners captured vs customers targeted.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` with another
        model and label to compare models.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    lift_table : The same curve, read at every decile.

    Notes
    -----
    The curve joins the points (fraction of customers with a score at least
    ``t``, fraction of churners among them) for every distinct score ``t``; a
    straight segment across tied scores is the expected result of targeting
    them at random. The diagonal (random targeting) is drawn once per Axes.
    """
    import matplotlib.pyplot as plt

    y, s = _validate(y_true, y_score)
    x, gain = _gains_points(y, s)
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-gains-random",
        lambda: ax.plot([0, 1], [0, 1], ls="--", color="gray", label="Random")[0],
    )
    ax.plot(x, gain, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Fraction of customers targeted")
    ax.set_ylabel("Fraction of churners captured")
    _finish(ax, label, "lower right")
    return ax


def plot_lift(
    y_true: Any,
    y_score: Any,
    *,
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the cumulative lift curve: how much better than random the list's top is.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` to overlay
        another model.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    lift_table : Lift by decile.

    Notes
    -----
    The lift at fraction ``f`` is the share of churners captured in the top
    ``f`` of customers divided by ``f`` (the ``cum_lift`` of :func:`lift_table`),
    drawn at every distinct score and on a grid of 200 fractions, so that tied
    scores give the expected (random tie-break) curve. Random targeting has a
    lift of 1, drawn once per Axes.
    """
    import matplotlib.pyplot as plt

    y, s = _validate(y_true, y_score)
    x_points, gain_points = _gains_points(y, s)
    x = np.union1d(x_points[1:], np.linspace(0, 1, 201)[1:])
    lift = np.interp(x, x_points, gain_points) / x
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-lift-random",
        lambda: ax.axhline(1.0, ls="--", color="gray", label="Random"),
    )
    ax.plot(x, lift, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_xlabel("Fraction of customers targeted")
    ax.set_ylabel("Cumulative lift")
    _finish(ax, label, "upper right")
    return ax


def plot_calibration(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "quantile",
    ax: Axes | None = None,
    label: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot a reliability diagram: observed churn rate vs predicted probability.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_prob : array-like or Series of shape (n_customers,)
        Predicted churn probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        Equal-frequency or equal-width bins, as in
        :func:`expected_calibration_error`.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; the current Axes (``plt.gca()``) when None.
    label : str, default=None
        Legend label of this curve; call again on the same ``ax`` to overlay
        another model.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (default ``marker="o"``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    See Also
    --------
    expected_calibration_error : The weighted mean gap to the diagonal.

    Notes
    -----
    One point per non-empty bin, at (mean predicted probability, observed churn
    rate). Points on the diagonal, drawn once per Axes, are perfectly
    calibrated; points below it mean the model over-predicts churn.
    """
    import matplotlib.pyplot as plt

    n_bins = _check_int(n_bins, "n_bins")
    strategy = _check_strategy(strategy)
    y, p = _validate(y_true, y_prob, name="y_prob", probability=True)
    _, mean_p, rate = _calibration_bins(y, p, n_bins, strategy)
    ax = plt.gca() if ax is None else ax
    _reference_line(
        ax,
        "churnkit-calibration-diagonal",
        lambda: ax.plot(
            [0, 1], [0, 1], ls="--", color="gray", label="Perfectly calibrated"
        )[0],
    )
    kwargs.setdefault("marker", "o")
    ax.plot(mean_p, rate, label=label, **kwargs)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Mean predicted churn probability")
    ax.set_ylabel("Observed churn rate")
    _finish(ax, label, "upper left")
    return ax


# --------------------------------------------------------------------------
# profit
# --------------------------------------------------------------------------


def _check_value(value: Any, y_true: Any, n: int) -> np.ndarray:
    """Customer value: a scalar, or one finite number per customer."""
    if isinstance(value, bool):
        raise ChurnkitTypeError(f"`value` must be a number or an array; got {value!r}.")
    if np.isscalar(value):
        return np.full(n, _check_number(value, "value"))
    series = _as_series(value, "value")
    positional = not (
        isinstance(_unwrap(y_true), pd.Series) and isinstance(_unwrap(value), pd.Series)
    )
    if positional:
        series = series.reset_index(drop=True)
        labels = pd.Series(np.zeros(n))
    else:
        labels = _unwrap(y_true)
    _, series = _align(labels, series, ("y_true", "value"))
    return _check_scores(series, "value", positional, probability=False)


def campaign_profit(
    y_true: Any,
    y_score: Any,
    *,
    value: Any,
    contact_cost: float,
    incentive: float,
    accept_rate: float,
    nonchurner_accept_rate: float = 1.0,
    fractions: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Expected profit of a retention campaign that targets the top of the list.

    The campaign contacts the customers with the highest churn scores and
    offers them an incentive to stay.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a customer who churned (without a campaign), 0 otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    value : float or array-like of shape (n_customers,)
        Value of keeping a customer, e.g. the customer lifetime value (CLV):
        one number for everyone, or one per customer (a Series is matched to
        ``y_true`` on its index).
    contact_cost : float
        Cost of contacting one customer (a call, a mailing), paid for everyone
        targeted.
    incentive : float
        Cost of the incentive (a discount, a free month), paid for every
        targeted customer who accepts it.
    accept_rate : float
        Probability that a contacted churner accepts the offer and stays.
    nonchurner_accept_rate : float, default=1.0
        Probability that a contacted customer who would have stayed anyway takes
        the incentive. 1.0 is the assumption of Neslin et al. (2006) and
        Verbraken et al. (2013): nobody refuses a free gift.
    fractions : sequence of float, default=None
        Fractions of the customer base to evaluate, e.g.
        ``np.linspace(0, 1, 101)``, each rounded to a whole number of customers.
        By default, every distinct score is a cutoff: one row per distinct
        score, plus a first row for targeting nobody.

    Returns
    -------
    profit : DataFrame
        One row per cutoff, sorted by fraction targeted, with columns

        - ``fraction``: share of customers targeted; ``n_targeted``: how many;
        - ``threshold``: target customers with a score at least this (inf for
          nobody);
        - ``churners_targeted``: churners among them;
        - ``expected_saved``: ``accept_rate * churners_targeted``;
        - ``profit``: expected profit of the campaign, in the units of ``value``.

        ``profit.attrs`` holds the best cutoff: ``"best_fraction"``,
        ``"best_n_targeted"``, ``"best_threshold"`` and ``"best_profit"`` (the
        smallest campaign among equally profitable ones). Read them as
        ``profit.attrs["best_fraction"]``; they do not survive every pandas
        operation, so read them before filtering.

    See Also
    --------
    emp_score : The expected maximum profit when the accept rate is uncertain.

    Notes
    -----
    The expected profit of targeting the set ``T`` is (Neslin et al., 2006;
    Verbraken, Verbeke & Baesens, 2013)::

        sum over churners in T     of  accept_rate * (value_i - incentive)
      - sum over non-churners in T of  nonchurner_accept_rate * incentive
      - |T| * contact_cost

    A churner who accepts is kept, and brings ``value`` minus the incentive; one
    who refuses leaves, costing only the contact. Without a campaign the profit
    is 0. Ties are handled as in :func:`evaluate`: a cutoff inside a group of
    tied scores targets part of the group at random, and counts its churners
    and values pro rata.

    Examples
    --------
    >>> import churnkit as ck
    >>> profit = ck.campaign_profit(
    ...     [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1],
    ...     value=100, contact_cost=1, incentive=10, accept_rate=0.5,
    ... )
    >>> profit.attrs["best_fraction"], profit.attrs["best_profit"]
    (0.75, 77.0)
    """
    y, s = _validate(y_true, y_score)
    n = len(y)
    values = _check_value(value, y_true, n)
    contact_cost = _check_number(contact_cost, "contact_cost", low=0)
    incentive = _check_number(incentive, "incentive", low=0)
    accept_rate = _check_number(accept_rate, "accept_rate", low=0, high=1)
    nonchurner_accept_rate = _check_number(
        nonchurner_accept_rate, "nonchurner_accept_rate", low=0, high=1
    )
    gain = (
        y * accept_rate * (values - incentive)
        - (1 - y) * nonchurner_accept_rate * incentive
        - contact_cost
    )
    ranking = _Ranking(s)
    cum_churners = ranking.cumulative(y)
    cum_profit = ranking.cumulative(gain)
    if fractions is None:
        n_targeted = ranking.ends.astype(float)
        threshold = np.r_[np.inf, ranking.thresholds]
        churners, profit = cum_churners, cum_profit
    else:
        grid = [
            _check_fraction(f, "fractions", allow_zero=True)
            for f in _as_sequence(fractions, "fractions")
        ]
        n_targeted = np.unique(np.floor(np.asarray(grid, dtype=float) * n + 0.5))
        positions = n_targeted.astype(int)
        threshold = np.where(
            positions > 0, ranking.sorted_scores[np.maximum(positions - 1, 0)], np.inf
        )
        churners = ranking.at(n_targeted, cum_churners)
        profit = ranking.at(n_targeted, cum_profit)
    table = pd.DataFrame(
        {
            "fraction": n_targeted / n,
            "n_targeted": n_targeted.astype(int),
            "threshold": threshold,
            "churners_targeted": churners,
            "expected_saved": accept_rate * churners,
            "profit": profit,
        }
    )
    best = int(np.argmax(table["profit"].to_numpy()))
    table.attrs.update(
        best_fraction=float(table["fraction"].iat[best]),
        best_n_targeted=int(table["n_targeted"].iat[best]),
        best_threshold=float(table["threshold"].iat[best]),
        best_profit=float(table["profit"].iat[best]),
    )
    return table


# --------------------------------------------------------------------------
# expected maximum profit (EMP) for customer churn
# --------------------------------------------------------------------------


def _roc_convex_hull(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (fpr, tpr) of the ROC convex hull, from (0, 0) to (1, 1).

    Built on integer counts (false positives, true positives), so collinear
    points are detected exactly and dropped.
    """
    ranking = _Ranking(s)
    tp = np.rint(ranking.cumulative(y)).astype(np.int64)
    fp = ranking.ends - tp
    hull: list[tuple[int, int]] = []
    for point in zip(fp.tolist(), tp.tolist(), strict=True):
        while len(hull) >= 2:
            (x0, y0), (x1, y1) = hull[-2], hull[-1]
            if (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0) < 0:
                break  # a right (clockwise) turn keeps hull[-1] on the upper hull
            hull.pop()
        hull.append(point)
    counts = np.asarray(hull, dtype=float)
    return counts[:, 0] / fp[-1], counts[:, 1] / tp[-1]


def emp_score(
    y_true: Any,
    y_score: Any,
    *,
    clv: float = 200.0,
    d: float = 10.0,
    f: float = 1.0,
    alpha: float = 6.0,
    beta: float = 14.0,
    return_fraction: bool = False,
) -> float | tuple[float, float]:
    """Expected maximum profit measure for customer churn (EMPC), per customer.

    The profit, per customer in the base, of a retention campaign run at the
    most profitable cutoff, averaged over an uncertain acceptance rate
    (Verbraken, Verbeke & Baesens, 2013). Higher is better; use it to select
    models with :data:`emp_scorer`.

    Parameters
    ----------
    y_true : array-like or Series of shape (n_customers,)
        1 (or True) for a churner, 0 (or False) otherwise.
    y_score : array-like or Series of shape (n_customers,)
        Churn scores; only their order matters.
    clv : float, default=200
        Customer lifetime value of a retained churner.
    d : float, default=10
        Cost of the incentive offered, paid by everyone who accepts it
        (``0 <= d < clv``).
    f : float, default=1
        Cost of contacting one customer.
    alpha, beta : float, default=6, 14
        Parameters of the Beta distribution of the probability ``gamma`` that a
        contacted churner accepts the offer (mean ``alpha / (alpha + beta)``,
        0.3 by default).
    return_fraction : bool, default=False
        Also return the expected fraction of customers targeted at the optimum.

    Returns
    -------
    emp : float
        Expected maximum profit per customer, in the units of ``clv``. NaN, with
        a :class:`~churnkit.ChurnkitWarning`, when ``y_true`` holds one class.
    fraction : float
        Expected fraction of the customer base targeted; only returned when
        ``return_fraction=True``.

    See Also
    --------
    campaign_profit : Profit at every cutoff for known costs and accept rate.

    Notes
    -----
    With ``delta = d / clv``, ``phi = f / clv``, churn prior ``pi0`` and
    ``pi1 = 1 - pi0``, targeting the customers scored at least ``t`` earns, per
    customer (churners accept with probability ``gamma``; non-churners always
    take the incentive)::

        P(t; gamma) = clv * [(gamma * (1 - delta) - phi) * pi0 * F0(t)
                             - (delta + phi) * pi1 * F1(t)]

    where ``F0(t)`` is the fraction of churners targeted (the true positive
    rate) and ``F1(t)`` the fraction of non-churners targeted (the false
    positive rate). The optimal cutoff is a vertex ``i = 0..m`` of the ROC
    convex hull, from ``(F1, F0) = (0, 0)`` to ``(1, 1)``. Moving from vertex
    ``i`` to ``i + 1`` pays when ``gamma`` exceeds::

        gamma_i = (pi1 * (delta + phi) * (F1[i+1] - F1[i]))
                  / (pi0 * (1 - delta) * (F0[i+1] - F0[i]))  +  phi / (1 - delta)

    which increases with ``i`` on a convex hull. With ``gamma_{-1} = 0``,
    ``gamma_m = inf``, ``B`` the Beta(alpha, beta) CDF and ``B1`` the
    Beta(alpha + 1, beta) CDF (so that the integral of ``gamma * h(gamma)`` over
    ``[a, b]`` is ``alpha / (alpha + beta) * (B1(b) - B1(a))``)::

        EMP = clv * sum_i [ (1 - delta) * pi0 * F0[i] * alpha / (alpha + beta)
                              * (B1(gamma_i) - B1(gamma_{i-1}))
                            - (phi * pi0 * F0[i] + (delta + phi) * pi1 * F1[i])
                              * (B(gamma_i) - B(gamma_{i-1})) ]

    and the expected fraction targeted is
    ``sum_i (pi0 * F0[i] + pi1 * F1[i]) * (B(gamma_i) - B(gamma_{i-1}))``.
    Tied scores form one ROC point, as in :func:`sklearn.metrics.roc_curve`.
    The defaults are those of the paper and of the R package ``EMP``.

    References
    ----------
    T. Verbraken, W. Verbeke and B. Baesens (2013). A novel profit maximizing
    metric for measuring classification performance of customer churn prediction
    models. IEEE Transactions on Knowledge and Data Engineering, 25(5), 961-973.

    S. A. Neslin, S. Gupta, W. Kamakura, J. Lu and C. H. Mason (2006). Defection
    detection: measuring and understanding the predictive accuracy of customer
    churn models. Journal of Marketing Research, 43(2), 204-211.

    Examples
    --------
    >>> import churnkit as ck
    >>> y = [0, 1, 0, 1, 0, 1, 0, 1]
    >>> score = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9]
    >>> round(ck.emp_score(y, score), 4)
    23.8756

    Model selection, e.g. with a higher lifetime value::

        from sklearn.metrics import make_scorer
        scorer = make_scorer(ck.emp_score, response_method="predict_proba", clv=500)
        GridSearchCV(model, grid, scoring=scorer)  # or scoring=ck.emp_scorer
    """
    from scipy.stats import beta as beta_dist

    clv = _check_number(clv, "clv")
    if clv <= 0:
        raise SchemaError(f"`clv` must be positive; got {clv!r}.")
    d = _check_number(d, "d", low=0)
    if d >= clv:
        raise SchemaError(
            f"the incentive `d` ({d!r}) must cost less than the lifetime value "
            f"`clv` ({clv!r}); otherwise no churner is worth saving."
        )
    f = _check_number(f, "f", low=0)
    for name, shape in (("alpha", alpha), ("beta", beta)):
        if _check_number(shape, name) <= 0:
            raise SchemaError(f"`{name}` must be positive; got {shape!r}.")
    y, s = _validate(y_true, y_score)
    if _no_class_warning(y, "the EMP is"):
        return (np.nan, np.nan) if return_fraction else np.nan

    delta, phi = d / clv, f / clv
    pi0 = y.mean()
    pi1 = 1 - pi0
    fpr, tpr = _roc_convex_hull(y, s)
    d_fpr, d_tpr = np.diff(fpr), np.diff(tpr)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = (pi1 * (delta + phi) * d_fpr) / (pi0 * (1 - delta) * d_tpr) + phi / (
            1 - delta
        )
    gamma = np.where(d_tpr > 0, gamma, np.inf)  # a flat segment never pays
    gamma = np.maximum.accumulate(gamma)  # guards against rounding only
    bounds = np.r_[0.0, gamma, np.inf]
    weight = np.diff(beta_dist.cdf(bounds, alpha, beta))
    weight1 = np.diff(beta_dist.cdf(bounds, alpha + 1, beta))
    mean_gamma = alpha / (alpha + beta)
    emp = clv * np.sum(
        (1 - delta) * pi0 * tpr * mean_gamma * weight1
        - (phi * pi0 * tpr + (delta + phi) * pi1 * fpr) * weight
    )
    if return_fraction:
        fraction = np.sum((pi0 * tpr + pi1 * fpr) * weight)
        return float(emp), float(fraction)
    return float(emp)


emp_scorer = make_scorer(emp_score, response_method="predict_proba")
"""Scorer for model selection by EMP with the paper's default costs.

``GridSearchCV(model, grid, scoring=ck.emp_scorer)``. For other costs, build one:
``make_scorer(ck.emp_score, response_method="predict_proba", clv=500, d=25)``.
"""

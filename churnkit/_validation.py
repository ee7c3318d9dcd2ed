"""Input checks shared by every stage: the one place their error messages live.

* :func:`read_cutoff_table` reads the cutoff table (``customer_id`` and
  ``cutoff_time``, as columns or index levels) for ``label_churn``, the feature
  builders, :class:`~churnkit.CutoffSplit` and ``backtest``, with one set of
  errors: not a DataFrame, missing columns, numbers as dates, unparsable text,
  nulls; time-zone-aware times are converted to naive UTC.
* :func:`check_int`, :func:`check_fraction`, :func:`check_fractions`,
  :func:`check_number` and :func:`check_choice` check scalar parameters.
* :func:`as_series`, :func:`align`, :func:`check_labels`, :func:`check_scores`
  and :func:`validate_scores` read ``(y_true, y_score)`` pairs.
* :func:`examples` picks the few offending values an error message shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = [
    "CUSTOMER_ID",
    "CUTOFF_TIME",
    "N_EXAMPLES",
    "examples",
    "read_cutoff_table",
    "check_int",
    "check_fraction",
    "check_fractions",
    "check_number",
    "check_choice",
    "as_series",
    "unwrap",
    "align",
    "check_labels",
    "check_scores",
    "validate_scores",
]

CUSTOMER_ID = "customer_id"
CUTOFF_TIME = "cutoff_time"
N_EXAMPLES = 5  # offending values shown in an error message


def examples(values: Any, mask: Any = None, k: int = N_EXAMPLES) -> list:
    """The first ``k`` of ``values`` (where ``mask`` is True), as a list.

    Examples
    --------
    >>> import numpy as np
    >>> examples(np.array([10, 20, 30, 40]), np.array([False, True, True, True]), k=2)
    [20, 30]
    """
    if mask is not None:
        positions = np.flatnonzero(np.asarray(mask))[:k]
        if isinstance(values, (pd.Series, pd.DataFrame)):
            return values.iloc[positions].tolist()
        if isinstance(values, pd.Index):
            return values[positions].tolist()
        return np.asarray(values)[positions].tolist()
    if isinstance(values, (pd.Series, pd.Index)):
        return values[:k].tolist()
    return list(np.asarray(values)[:k].tolist())


# --------------------------------------------------------------------------
# the cutoff table
# --------------------------------------------------------------------------


def read_cutoff_table(
    X: Any,
    *,
    name: str = "X",
    ids: bool = True,
    required: bool = True,
    caller: str | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Customer ids and cutoff times of a cutoff table.

    Parameters
    ----------
    X : DataFrame
        ``customer_id`` and ``cutoff_time`` columns, or index levels (both of
        them in the columns, or both in the index). With ``ids=False`` only
        ``cutoff_time`` is needed, and a Series with a ``cutoff_time`` index
        level works too.
    name : str, default="X"
        The argument's name in error messages.
    ids : bool, default=True
        Read the customer ids too; False reads only the times.
    required : bool, default=True
        With ``ids=False``: when False, a missing ``cutoff_time`` gives
        ``(None, None)`` instead of an error.
    caller : str, default=None
        With ``ids=False``: who needs the times ("CutoffSplit"), for the
        message when they are missing.

    Returns
    -------
    ids : ndarray or None
        The customer ids, None when ``ids=False``.
    times : ndarray of datetime64[ns] or None
        The cutoff times, naive UTC (time-zone-aware times are converted).

    Raises
    ------
    ChurnkitTypeError
        ``X`` is not a DataFrame (when the ids are read).
    SchemaError
        A column is missing, or ``cutoff_time`` holds numbers (20240301 would
        be read as nanoseconds since 1970), unparsable text or nulls.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"customer_id": ["a"], "cutoff_time": ["2024-03-01"]})
    >>> ids, times = read_cutoff_table(X)
    >>> ids.tolist(), times.tolist()
    (['a'], [1709251200000000000])
    """
    if ids:
        customer_ids, values, column = _locate_both(X, name)
    else:
        customer_ids = None
        located = _locate_times(X, name, required, caller)
        if located is None:
            return None, None
        values, column = located
    return customer_ids, _parse_times(values, name, column)


def _locate_both(X: Any, name: str) -> tuple[np.ndarray, Any, bool]:
    """(ids, raw times, whether they are columns) of a cutoff table."""
    if not isinstance(X, pd.DataFrame):
        raise ChurnkitTypeError(
            f"`{name}` must be a DataFrame with columns customer_id and cutoff_time "
            "(the cutoff table, from ck.make_cutoffs or ck.label_churn); got "
            f"{type(X).__name__}."
        )
    needed = {CUSTOMER_ID, CUTOFF_TIME}
    if needed <= set(X.columns):
        return X[CUSTOMER_ID].to_numpy(), X[CUTOFF_TIME], True
    if needed <= set(X.index.names):
        ids = np.asarray(X.index.get_level_values(CUSTOMER_ID))
        return ids, X.index.get_level_values(CUTOFF_TIME), False
    raise SchemaError(
        f"`{name}` needs columns 'customer_id' and 'cutoff_time'; columns present: "
        f"{list(X.columns)}. It holds one row per customer and cutoff (as columns or "
        "index levels): build it with ck.make_cutoffs(events, ...) or "
        "ck.label_churn(...)."
    )


def _locate_times(
    X: Any, name: str, required: bool, caller: str | None
) -> tuple[Any, bool] | None:
    """(raw times, whether a column) of anything with a ``cutoff_time``."""
    if isinstance(X, pd.DataFrame) and CUTOFF_TIME in X.columns:
        return X[CUTOFF_TIME], True
    if isinstance(X, (pd.DataFrame, pd.Series)) and CUTOFF_TIME in (
        X.index.names or []
    ):
        return X.index.get_level_values(CUTOFF_TIME), False
    if not required:
        return None
    got = (
        f"a DataFrame with columns {list(X.columns)[:8]} and index levels "
        f"{list(X.index.names)}."
        if isinstance(X, pd.DataFrame)
        else f"{type(X).__name__}."
    )
    raise SchemaError(
        f"{caller or 'This'} needs {name} with a `cutoff_time` column or index level "
        "(as ck.make_cutoffs, ck.label_churn and the feature builders return); got "
        + got
    )


def _parse_times(values: Any, name: str, column: bool) -> np.ndarray:
    """Raw cutoff times as naive-UTC datetime64[ns], or a SchemaError."""
    where = (
        f"`{name}['cutoff_time']`"
        if column
        else f"the `cutoff_time` index level of `{name}`"
    )
    times = pd.Series(values).reset_index(drop=True)
    if len(times) and (
        pd.api.types.is_numeric_dtype(times) or pd.api.types.is_bool_dtype(times)
    ):
        source = f"{name}['cutoff_time']" if column else "values"
        raise SchemaError(
            f"{where} holds numbers (dtype {times.dtype}, e.g. "
            f"{examples(times, k=3)}), which are ambiguous: 20240301 would be read "
            "as nanoseconds since 1970. Pass dates, e.g. "
            f"`pd.to_datetime({source}.astype(str), format='%Y%m%d')`."
        )
    if not pd.api.types.is_datetime64_any_dtype(times):
        try:
            times = pd.to_datetime(times)
        except (ValueError, TypeError, OverflowError):
            raise SchemaError(
                f"{where} could not be read as dates, e.g. "
                f"{_unparsable(times)}. Pass datetimes or text such as "
                "'2024-03-01'."
            ) from None
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = times.isna().to_numpy()
    if missing.any():
        raise SchemaError(
            f"{where} has {int(missing.sum())} null value(s), e.g. at rows "
            f"{examples(np.flatnonzero(missing), k=3)}; every row needs a cutoff "
            "time."
        )
    return times.to_numpy("datetime64[ns]")


def _unparsable(times: pd.Series) -> list:
    """A few values that do not parse as dates (the first few if none stands out)."""
    bad = []
    for value in pd.unique(times.dropna()):
        try:
            pd.to_datetime(value)
        except (ValueError, TypeError, OverflowError):
            bad.append(value)
            if len(bad) == 3:
                break
    return bad or examples(times, k=3)


# --------------------------------------------------------------------------
# scalar parameters
# --------------------------------------------------------------------------


def check_int(value: Any, name: str, *, minimum: int = 1, hint: str = "") -> int:
    """An integer at least ``minimum`` (booleans are refused).

    ``hint`` follows the requirement in messages, e.g. ``" (customers)"``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ChurnkitTypeError(
            f"`{name}` must be an integer{hint}; got {type(value).__name__} {value!r}."
        )
    if value < minimum:
        least = "0 or more" if minimum == 0 else f"at least {minimum}"
        raise SchemaError(f"`{name}` must be {least}{hint}; got {value!r}.")
    return int(value)


def check_fraction(value: Any, name: str, *, allow_zero: bool = False) -> float:
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


def check_fractions(values: Any, name: str, *, allow_zero: bool = False) -> list[float]:
    """A sequence of fractions, each checked by :func:`check_fraction`."""
    if isinstance(values, str) or not isinstance(values, (Sequence, np.ndarray)):
        raise ChurnkitTypeError(
            f"`{name}` must be a sequence of fractions such as (0.05, 0.1, 0.2); "
            f"got {values!r}. For one fraction, pass ({values!r},)."
        )
    return [check_fraction(v, name, allow_zero=allow_zero) for v in values]


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    hint: str = "",
) -> float:
    """A finite real number within [low, high]; ``hint`` follows in messages."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ChurnkitTypeError(
            f"`{name}` must be a number{hint}; got {type(value).__name__} {value!r}."
        )
    value = float(value)
    below = low is not None and value < low
    above = high is not None and value > high
    if not np.isfinite(value) or below or above:
        if low is not None and high is not None:
            need = f"in [{low:g}, {high:g}]"
        elif low is not None:
            need = f"a finite number >= {low:g}"
        elif high is not None:
            need = f"a finite number <= {high:g}"
        else:
            need = "a finite number"
        raise SchemaError(f"`{name}` must be {need}{hint}; got {value!r}.")
    return value


def check_choice(
    value: Any,
    name: str,
    choices: Mapping[str, str] | Sequence[str],
    *,
    alternative: str | None = None,
) -> str:
    """One of ``choices`` (a mode or strategy); the message explains each.

    ``choices`` maps each accepted string to a short description, or lists
    them; ``alternative`` describes another accepted kind of value (checked
    by the caller), e.g. "a callable f(probability, value)".

    Examples
    --------
    >>> check_choice("uniform", "strategy", {"quantile": "equal-frequency bins",
    ...                                      "uniform": "equal-width bins"})
    'uniform'
    """
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(choices, Mapping):
        options = [f"{key!r} ({text})" for key, text in choices.items()]
    else:
        options = [repr(key) for key in choices]
    if alternative is not None:
        options.append(alternative)
    listed = (
        options[0]
        if len(options) == 1
        else ", ".join(options[:-1]) + " or " + options[-1]
    )
    raise SchemaError(f"`{name}` must be {listed}; got {value!r}.")


# --------------------------------------------------------------------------
# labels and scores, (y_true, y_score)
# --------------------------------------------------------------------------


def as_series(values: Any, name: str) -> pd.Series:
    """Return ``values`` as a 1-D Series (positional index unless it was a Series)."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise SchemaError(
                f"`{name}` must be one column; got a DataFrame with "
                f"{values.shape[1]} columns {examples(values.columns)!r}. "
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


def unwrap(values: Any) -> Any:
    """A one-column DataFrame counts as a Series for index alignment."""
    if isinstance(values, pd.DataFrame) and values.shape[1] == 1:
        return values.iloc[:, 0]
    return values


def _where(series: pd.Series, mask: np.ndarray, positional: bool) -> str:
    """Describe a few rows selected by ``mask``: their positions or index labels."""
    if positional:
        return f"at positions {examples(np.flatnonzero(mask))}"
    return f"at index {examples(series.index, mask)!r}"


def align(
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
        f"e.g. {examples(extra)!r}. Index both like X, or pass "
        "arrays (.to_numpy()) to match them by position."
    )


def check_labels(series: pd.Series, positional: bool) -> np.ndarray:
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
        raise SchemaError(
            f"`y_true` must hold 0/1 or True/False (1 = churned); {bad.sum()} "
            f"values are something else, e.g. {examples(pd.unique(series[bad]))!r} "
            f"{_where(series, bad, positional)}. Encode churn as 1 and staying as 0."
        )
    return numeric.to_numpy(dtype=float)


def check_scores(
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
            f"{examples(values, bad)!r} "
            f"{_where(series, bad, positional)}. {fix}"
        )
    return values


def validate_scores(
    y_true: Any, y_score: Any, *, name: str = "y_score", probability: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and align labels and scores; return two float arrays."""
    labels = as_series(y_true, "y_true")
    scores = as_series(y_score, name)
    positional = not (
        isinstance(unwrap(y_true), pd.Series) and isinstance(unwrap(y_score), pd.Series)
    )
    if positional:
        labels = labels.reset_index(drop=True)
        scores = scores.reset_index(drop=True)
    labels, scores = align(labels, scores, ("y_true", name))
    if len(labels) == 0:
        raise SchemaError(
            "`y_true` and `y_score` are empty; there is nothing to evaluate."
        )
    y = check_labels(labels, positional)
    s = check_scores(scores, name, positional, probability)
    return y, s

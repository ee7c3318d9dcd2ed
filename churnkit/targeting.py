"""Who to save first: expected value at risk, risk tiers and reasons.

:func:`prioritize` turns churn probabilities and customer values into a call
list, sorted by the revenue each customer is expected to take away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._validation import (
    CUSTOMER_ID,
    CUTOFF_TIME,
    check_choice,
    check_int,
    examples,
)
from churnkit.exceptions import (
    ChurnkitTypeError,
    DataQualityWarning,
    SchemaError,
)
from churnkit.explain._reasons import NO_DRIVERS

__all__ = ["prioritize"]

_ID_COLUMNS = (CUSTOMER_ID, CUTOFF_TIME)
_DEFAULT_TIERS = {"high": 0.5, "medium": 0.2, "low": 0.0}
_DRIVER_COLUMNS = (CUSTOMER_ID, "rank", "reason")


def _to_series(obj: Any, name: str, column: str) -> pd.Series:
    """``risk`` or ``value`` as a Series indexed by ids.

    Series keep their index; DataFrames are indexed by their ``customer_id``
    (and ``cutoff_time``) columns and reduced to their one value column (or the
    column called ``column``).
    """
    if isinstance(obj, pd.DataFrame):
        keys = [c for c in _ID_COLUMNS if c in obj.columns]
        frame = obj.set_index(keys) if keys else obj
        if frame.shape[1] == 1:
            series = frame.iloc[:, 0]
        elif column in frame.columns:
            series = frame[column]
        else:
            raise SchemaError(
                f"`{name}` is a DataFrame with columns {list(obj.columns)!r}; expected "
                f"customer_id (and cutoff_time) plus one value column, or a column "
                f"named {column!r}."
            )
    elif isinstance(obj, pd.Series):
        series = obj
    elif isinstance(obj, (np.ndarray, list, tuple)):
        raise SchemaError(
            f"`{name}` is a bare {type(obj).__name__} without customer ids, so its "
            "rows cannot be matched to customers. Pass a Series indexed like X, "
            "e.g. pd.Series(model.predict_proba(X)[:, 1], "
            "index=pd.MultiIndex.from_frame(X[['customer_id', 'cutoff_time']])), "
            f"or a DataFrame such as X.assign({column}=...)."
        )
    else:
        raise ChurnkitTypeError(
            f"`{name}` must be a Series indexed by customer_id (and cutoff_time) or a "
            f"DataFrame with those columns; got {type(obj).__name__}."
        )
    return _name_index(series, name)


def _name_index(series: pd.Series, name: str) -> pd.Series:
    """Give an unnamed single-level index of ids the name ``customer_id``."""
    index = series.index
    if index.nlevels == 1 and index.name is None:
        if isinstance(index, pd.RangeIndex):
            raise SchemaError(
                f"`{name}` is indexed by row numbers (an unnamed RangeIndex), not by "
                "customer ids. Index it like X, by customer_id (and cutoff_time), or "
                f"pass a DataFrame with a customer_id column."
            )
        return series.rename_axis("customer_id")
    if any(level is None for level in index.names):
        raise SchemaError(
            f"`{name}` has an index with unnamed levels {list(index.names)!r}; name "
            "them, e.g. series.rename_axis(['customer_id', 'cutoff_time'])."
        )
    return series


def _check_unique(series: pd.Series, name: str) -> None:
    duplicated = series.index.duplicated()
    if duplicated.any():
        raise SchemaError(
            f"`{name}` has {duplicated.sum()} duplicated ids "
            f"{list(series.index.names)!r}, e.g. "
            f"{examples(series.index, duplicated)!r}; keep one row per customer "
            "and cutoff."
        )


def _check_numeric(series: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        raise SchemaError(
            f"`{name}` must be numeric; got dtype {series.dtype} with values such as "
            f"{series.head(3).tolist()!r}."
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise SchemaError(
            f"`{name}` has {missing.sum()} missing values (of {len(values)}), e.g. "
            f"for {examples(series.index, missing)!r}; fill or drop them first."
        )
    infinite = ~np.isfinite(values)
    if infinite.any():
        raise SchemaError(
            f"`{name}` has {infinite.sum()} infinite values, e.g. for "
            f"{examples(series.index, infinite)!r}."
        )
    return values


def _align_value(risk: pd.Series, value: Any) -> np.ndarray:
    """One value per row of ``risk``; ``value`` may be indexed by fewer levels."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        series = pd.Series([value], dtype=float)
        _check_numeric(series, "value")
        return np.full(len(risk), float(value))
    value = _to_series(value, "value", "value")
    _check_unique(value, "value")
    _check_numeric(value, "value")
    keys = list(value.index.names)
    if not set(keys) <= set(risk.index.names):
        raise SchemaError(
            f"cannot match `value` to `risk`: `risk` is indexed by "
            f"{list(risk.index.names)!r} but `value` by {keys!r}. Index `value` by "
            "the same ids, or by customer_id alone for one value per customer."
        )
    left = risk.index.to_frame(index=False)[keys]
    right = value.rename("__value__").reset_index()
    try:
        merged = left.merge(right, on=keys, how="left", sort=False)
    except (ValueError, TypeError) as error:
        raise SchemaError(
            f"cannot match `value` to `risk` on {keys!r}: {error}. Give the ids the "
            "same type in both."
        ) from error
    missing = merged["__value__"].isna().to_numpy()
    if missing.any():
        raise SchemaError(
            f"`value` is missing for {missing.sum()} of {len(risk)} rows of `risk`, "
            f"e.g. {examples(risk.index, missing)!r}. Pass a value for every scored "
            "customer (0 for customers who bring no revenue)."
        )
    return merged["__value__"].to_numpy(dtype=float)


def _assign_tiers(probability: np.ndarray, tiers: Any) -> pd.Categorical:
    """Label each probability with the tier of the highest threshold it reaches."""
    if not isinstance(tiers, Mapping) or not tiers:
        raise ChurnkitTypeError(
            "`tiers` must be a non-empty mapping of label to minimum probability, "
            f"e.g. {_DEFAULT_TIERS!r}; got {tiers!r}."
        )
    labels = list(tiers)
    thresholds = []
    for label, threshold in tiers.items():
        if isinstance(threshold, bool) or not isinstance(
            threshold, (int, float, np.number)
        ):
            raise ChurnkitTypeError(
                f"`tiers[{label!r}]` must be a probability; got {threshold!r}."
            )
        if not 0 <= threshold <= 1:
            raise SchemaError(
                f"`tiers[{label!r}]` must be a probability in [0, 1]; got "
                f"{threshold!r}."
            )
        thresholds.append(float(threshold))
    if len(set(thresholds)) != len(thresholds):
        raise SchemaError(
            f"`tiers` thresholds must differ from each other; got {dict(tiers)!r}."
        )
    order = np.argsort(thresholds)
    edges = np.asarray(thresholds)[order]
    categories = [labels[i] for i in order]  # lowest risk first: low < medium < high
    codes = np.searchsorted(edges, probability, side="right") - 1
    return pd.Categorical.from_codes(codes, categories=categories, ordered=True)


def _reasons(
    out: pd.DataFrame, explanation: Any, k: int, display_names: bool = True
) -> pd.DataFrame:
    """Columns reason_1..n (and driver_1..n) for the rows of ``out``."""
    if isinstance(explanation, pd.DataFrame):
        drivers = explanation
    elif callable(getattr(explanation, "top_drivers", None)):
        drivers = explanation.top_drivers(k=k)
    else:
        raise ChurnkitTypeError(
            "`explanation` must be an Explanation (from ChurnExplainer.explain) or "
            "the DataFrame of its top_drivers(); got "
            f"{type(explanation).__name__}."
        )
    drivers = drivers.reset_index(drop=True)
    # a table indexed by its own id column (Telco's "customerID"): the risk and
    # the explanation share that name, read as the customer id
    id_name = out.columns[0]
    if CUSTOMER_ID not in out.columns and id_name in drivers.columns:
        out = out.rename(columns={id_name: CUSTOMER_ID})
        drivers = drivers.rename(columns={id_name: CUSTOMER_ID})
    else:
        id_name = CUSTOMER_ID
    absent = [c for c in _DRIVER_COLUMNS if c not in drivers.columns]
    if absent:
        hint = ""
        if CUSTOMER_ID in absent:
            hint = (
                f" Index `risk` and the explained rows by the same id: `risk` is "
                f"indexed by {out.columns[0]!r}; e.g. X.rename_axis('customer_id') "
                "before scoring and explaining."
            )
        raise SchemaError(
            f"the top drivers of `explanation` lack columns {absent!r}; they have "
            f"{list(drivers.columns)!r}.{hint}"
        )
    if "customer_id" not in out.columns:
        raise SchemaError(
            "reasons are matched on customer_id, but `risk` is indexed by "
            f"{[c for c in out.columns if c not in _COLUMNS]!r} and the "
            f"explanation's drivers by {list(drivers.columns[:2])!r}; index both "
            "by the same id, e.g. X.rename_axis('customer_id') before scoring and "
            "explaining."
        )
    keys = [c for c in _ID_COLUMNS if c in out.columns and c in drivers.columns]
    if "cutoff_time" in drivers.columns and "cutoff_time" not in keys:
        # one explanation per customer: keep the latest cutoff
        latest = drivers.groupby("customer_id")["cutoff_time"].transform("max")
        drivers = drivers[drivers["cutoff_time"] == latest]
    drivers = drivers.sort_values([*keys, "rank"], kind="stable", ignore_index=True)
    position = drivers.groupby(keys, sort=False).cumcount() + 1
    drivers = drivers[position <= k].assign(__pos__=position)
    name = "display_name" if display_names else "feature"
    if name not in drivers.columns:  # a user's table: the names it has
        name = next((c for c in ("display_name", "feature") if c in drivers), None)
    parts = ([(name, "driver")] if name else []) + [("reason", "reason")]
    wide = pd.concat(
        [
            drivers.pivot(index=keys, columns="__pos__", values=column)
            .reindex(columns=range(1, k + 1))
            .set_axis([f"{prefix}_{i}" for i in range(1, k + 1)], axis=1)
            for column, prefix in parts
        ],
        axis=1,
    )
    wide = wide.reset_index().assign(__explained__=True)
    try:
        joined = out.merge(wide, on=keys, how="left", sort=False)
    except (ValueError, TypeError) as error:
        raise SchemaError(
            f"cannot match the explanation's {keys!r} to `risk`: {error}. Give the "
            "ids the same type in both."
        ) from error
    unexplained = joined.pop("__explained__").isna().to_numpy().copy()
    quiet = unexplained & _explained_rows(joined, explanation, keys, id_name)
    if quiet.any():  # explained, but no driver passes the reason rules
        # object dtype: with no driver at all the column is float NaN
        joined["reason_1"] = joined["reason_1"].astype(object)
        joined.loc[quiet, "reason_1"] = NO_DRIVERS
        unexplained &= ~quiet
    if unexplained.any():
        warn(
            f"`explanation` has no drivers for {unexplained.sum()} of {len(out)} "
            f"customers, e.g. {joined.loc[unexplained, keys[0]].head(3).tolist()!r}; "
            "their reason columns are empty. Explain the same rows you prioritize.",
            DataQualityWarning,
        )
    return joined.rename(columns={CUSTOMER_ID: id_name})


_COLUMNS = ("churn_probability", "value", "value_at_risk", "rank", "tier")


def _explained_rows(
    joined: pd.DataFrame, explanation: Any, keys, id_name=CUSTOMER_ID
) -> np.ndarray:
    """Which rows of ``joined`` the Explanation covers (False for a DataFrame).

    ``id_name``: the explanation's name of the customer id level.
    """
    index = getattr(explanation, "index", None)
    if isinstance(explanation, pd.DataFrame) or not isinstance(index, pd.Index):
        return np.zeros(len(joined), dtype=bool)
    frame = index.to_frame(index=False).rename(columns={id_name: CUSTOMER_ID})
    if list(frame.columns) == [None] or list(frame.columns) == [0]:
        frame.columns = ["customer_id"]
    if not set(keys) <= set(frame.columns):
        return np.zeros(len(joined), dtype=bool)
    seen = pd.MultiIndex.from_frame(frame[keys].drop_duplicates())
    return pd.MultiIndex.from_frame(joined[keys]).isin(seen)


def prioritize(
    risk: Any,
    value: Any,
    *,
    value_at_risk: str | Callable[[np.ndarray, np.ndarray], Any] = "expected",
    tiers: Mapping[str, float] | None = None,
    explanation: Any = None,
    k: int = 3,
    top: int | None = None,
    display_names: bool = True,
) -> pd.DataFrame:
    """Rank customers by the revenue they are expected to take away if they churn.

    Parameters
    ----------
    risk : Series or DataFrame
        Churn probabilities (calibrated, in [0, 1]), as a Series indexed like X:
        by (``customer_id``, ``cutoff_time``), or by customer id alone. A
        DataFrame with ``customer_id`` (and ``cutoff_time``) columns and one
        probability column (or one called ``churn_probability``) also works, e.g.
        ``X.assign(churn_probability=model.predict_proba(X)[:, 1])``.
    value : float, Series or DataFrame
        What each customer is worth: annual revenue, margin or lifetime value.
        Indexed like ``risk``, or by ``customer_id`` alone (one value per
        customer, used for each of their cutoffs), or one number for everyone.
        Customers of ``value`` that are not in ``risk`` are ignored. Negative
        values (unprofitable customers) are allowed; they sort last.
    value_at_risk : "expected" or callable, default="expected"
        "expected": ``churn_probability * value``, the revenue expected to be
        lost to churn. A callable ``f(probability, value)`` returning one number
        per customer defines another measure, e.g. a margin after the cost of
        the retention offer.
    tiers : mapping of str to float, default=None
        Risk tiers by minimum churn probability: a customer gets the label of the
        highest threshold their probability reaches. None means
        ``{"high": 0.5, "medium": 0.2, "low": 0.0}``. Probabilities below every
        threshold get a missing tier.
    explanation : Explanation or DataFrame, default=None
        An object with a ``top_drivers(k)`` method (the
        :class:`~churnkit.Explanation` of ``ChurnExplainer(model).explain(X)``),
        or its ``top_drivers()`` DataFrame (columns ``customer_id``,
        ``cutoff_time``, ``rank``, ``reason``, ...). Adds the columns
        ``driver_1`` ... ``driver_{k}`` (the feature behind each reason) and
        ``reason_1`` ... ``reason_{k}`` (the sentences).
    k : int, default=3
        Number of reason columns taken from ``explanation``.
    top : int, default=None
        Return only the first ``top`` customers; None returns all.
    display_names : bool, default=True
        ``driver_1`` ... ``driver_{k}`` hold the features' display names from
        ``describe_features`` ("Logins, last 30 days"); False gives the raw
        column names (``usage__login_events_30d``).

    Returns
    -------
    priorities : DataFrame
        One row per row of ``risk``, sorted by ``value_at_risk`` (highest first),
        with a fresh RangeIndex and columns: the ids (``customer_id`` and
        ``cutoff_time`` when ``risk`` has them, else the names of its index
        levels), ``churn_probability``, ``value``, ``value_at_risk``, ``rank``
        (1 = save first), ``tier`` (an ordered Categorical, lowest risk first, so
        ``priorities[priorities.tier >= "medium"]`` works) and, with
        ``explanation``, ``driver_1`` ... ``driver_{k}`` then ``reason_1`` ...
        ``reason_{k}`` (empty where an account has fewer reasons).

    See Also
    --------
    churnkit.campaign_profit : How many customers of the list are worth a call.

    Notes
    -----
    Retention budgets are limited, and the likeliest leavers are not the ones
    worth saving: a customer who is 90% likely to leave but pays 10 a month puts
    less at risk than one 30% likely to leave who pays 1,000. Gupta, Lehmann &
    Stuart (2004) value customers by their expected future margin; following
    them, the list is sorted by expected value at risk, so that the campaign
    goes first to the profitable at-risk customers. Ties in ``value_at_risk``
    are broken by higher probability, then by the order of ``risk``. A high
    probability also does not mean a customer can be saved (Ascarza, 2018):
    ``campaign_profit`` helps decide how far down the list to go.

    Rows of ``risk`` are matched to ``value`` (and to the explanation) by id,
    never by position. When ``risk`` has no ``cutoff_time`` but the explanation
    does, each customer's latest cutoff supplies the reasons.

    References
    ----------
    S. Gupta, D. R. Lehmann and J. A. Stuart (2004). Valuing customers. Journal of
    Marketing Research, 41(1), 7-18.

    E. Ascarza (2018). Retention futility: targeting high-risk customers might be
    ineffective. Journal of Marketing Research, 55(1), 80-98.

    Examples
    --------
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> ids = pd.Index(["A", "B", "C"], name="customer_id")
    >>> risk = pd.Series([0.9, 0.3, 0.1], index=ids)
    >>> revenue = pd.Series([100.0, 1000.0, 50.0], index=ids)
    >>> ck.prioritize(risk, revenue)[["customer_id", "value_at_risk", "rank", "tier"]]
      customer_id  value_at_risk  rank    tier
    0           B          300.0     1  medium
    1           A           90.0     2    high
    2           C            5.0     3     low
    """
    risk = _to_series(risk, "risk", "churn_probability")
    _check_unique(risk, "risk")
    probability = _check_numeric(risk, "risk")
    outside = (probability < 0) | (probability > 1)
    if outside.any():
        raise SchemaError(
            f"`risk` must be churn probabilities in [0, 1]; {outside.sum()} values "
            f"are not, e.g. {examples(probability, outside)!r} for "
            f"{examples(risk.index, outside)!r}. Pass predict_proba(X)[:, 1]."
        )
    values = _align_value(risk, value)
    at_risk = _value_at_risk(value_at_risk, probability, values)
    if top is not None and (
        isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1
    ):
        raise SchemaError(f"`top` must be a positive integer or None; got {top!r}.")
    k = check_int(k, "k")

    out = risk.index.to_frame(index=False)
    out["churn_probability"] = probability
    out["value"] = values
    out["value_at_risk"] = at_risk
    if tiers is None:
        tiers = _DEFAULT_TIERS
    out["tier"] = _assign_tiers(probability, tiers)
    order = np.lexsort((np.arange(len(out)), -probability, -at_risk))
    out = out.iloc[order].reset_index(drop=True)
    out.insert(out.columns.get_loc("tier"), "rank", np.arange(1, len(out) + 1))
    if top is not None:
        out = out.head(int(top))
    if explanation is not None:
        if not isinstance(display_names, (bool, np.bool_)):
            raise ChurnkitTypeError(
                f"`display_names` must be True or False; got {display_names!r}."
            )
        out = _reasons(out, explanation, k, bool(display_names))
    return out


def _value_at_risk(how: Any, probability: np.ndarray, values: np.ndarray) -> np.ndarray:
    if isinstance(how, str):
        check_choice(
            how,
            "value_at_risk",
            {"expected": "probability x value"},
            alternative="a callable f(probability, value)",
        )
        return probability * values
    if not callable(how):
        raise ChurnkitTypeError(
            f"`value_at_risk` must be 'expected' or a callable; got {how!r}."
        )
    result = np.asarray(how(probability, values), dtype=float)
    if result.shape != probability.shape or not np.isfinite(result).all():
        raise SchemaError(
            "`value_at_risk` must return one finite number per customer "
            f"(shape {probability.shape}); got shape {result.shape}."
        )
    return result

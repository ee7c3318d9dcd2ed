"""Finding an account's row, and the small checks the Explanation shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._stats import middle_value
from churnkit._validation import CUTOFF_TIME
from churnkit.exceptions import AccountNotFoundError, ChurnkitTypeError, SchemaError

__all__ = [
    "locate",
    "check_k",
    "check_points",
    "index_columns",
    "row_label",
    "missing_account",
    "median_or_mode",
]


def locate(index, customer_id, cutoff_time) -> int:
    """Position of the account's row (latest cutoff when none is given)."""
    names = list(index.names)
    if isinstance(index, pd.MultiIndex) and CUTOFF_TIME in names and index.nlevels == 2:
        id_level = 1 - names.index(CUTOFF_TIME)
        pos = np.flatnonzero(index.get_level_values(id_level) == customer_id)
        if not len(pos):
            raise AccountNotFoundError(missing_account(customer_id, index, id_level))
        times = index.get_level_values(CUTOFF_TIME)[pos]
        if cutoff_time is None:
            return int(pos[np.argmax(times.to_numpy())])
        try:
            when = pd.Timestamp(cutoff_time)
        except (TypeError, ValueError):
            raise SchemaError(
                f"`cutoff_time` must be a date such as '2025-01-01'; got "
                f"{cutoff_time!r}."
            ) from None
        match = pos[times == when]
        if not len(match):
            shown = ", ".join(str(t.date()) for t in times.sort_values()[:5])
            raise AccountNotFoundError(
                f"Account {customer_id!r} has no explained row at cutoff "
                f"{str(cutoff_time)!r}; its cutoffs are: {shown}."
            )
        return int(match[-1])
    if cutoff_time is not None:
        raise ChurnkitTypeError(
            f"`cutoff_time` applies to rows indexed by (customer_id, "
            f"cutoff_time); these rows are indexed by {names}. Call "
            f"reasons({customer_id!r}) without it."
        )
    pos = np.flatnonzero(index == customer_id) if index.nlevels == 1 else []
    if not len(pos):
        raise AccountNotFoundError(missing_account(customer_id, index, None))
    return int(pos[-1])


def check_points(points) -> float:
    if (
        isinstance(points, bool)
        or not isinstance(points, (int, float, np.integer, np.floating))
        or not 0 <= float(points) < 1
    ):
        raise SchemaError(
            "`min_points` must be a number of probability points in [0, 1) "
            f"(0.01 = 1 point); got {points!r}."
        )
    return float(points)


def median_or_mode(col: pd.Series):
    if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        col.dtype
    ):
        mode = col.mode(dropna=True)
        return mode.iloc[0] if len(mode) else np.nan
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return middle_value(values)


def check_k(k, n_features):
    if k is None and n_features is not None:
        return n_features
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SchemaError(f"`k` must be a positive integer; got {k!r}.")
    return int(k) if n_features is None else min(int(k), max(n_features, 1))


def index_columns(index: pd.Index, rows) -> dict:
    names = list(index.names)
    if len(names) == 1 and names[0] is None:
        names = ["customer_id"]
    out = {}
    for level, name in enumerate(names):
        values = index.get_level_values(level)[rows]
        out[name if name is not None else f"level_{level}"] = values
    return out


def row_label(key) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for part in parts:
        if isinstance(part, pd.Timestamp) and part == part.normalize():
            out.append(str(part.date()))
        else:
            out.append(str(part))
    return " at ".join(out)


def missing_account(customer_id, index, level) -> str:
    ids = index.get_level_values(level) if level is not None else index
    examples = ", ".join(
        repr(v.item() if isinstance(v, np.generic) else v)
        for v in pd.unique(np.asarray(ids))[:3]
    )
    return (
        f"Account {customer_id!r} is not among the {len(index):,} explained rows "
        f"(e.g. {examples}). Explain rows that include it: "
        "explainer.explain(X[X['customer_id'] == ...])."
    )

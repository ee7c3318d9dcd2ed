"""Reasons that hold when tested: the account's score falls at the typical value.

A reason reads "Number customer service calls: 6 (typical: 1)": had the
account the typical value, its risk would be lower. SHAP credit does not
promise that. It measures a feature against the training distribution, not
against the typical value shown, and where causes stand in for each other
(MLC's service calls and day minutes) the model can score the account
*higher* with the typical value: customer 2553 had +24 points from six calls,
and 0.238 -> 0.366 with one call. Each candidate reason is therefore tested
before it is shown: the account's row with that feature (all members of a
twin group) set to its typical value goes through the model, and a risk
reason stays only when the margin falls (a protective one: when it rises).
A candidate that fails gives its slot to the next one.

Cells without a typical value, or whose value is the typical level
("(most common)"), cannot be tested and are kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import held

__all__ = ["WhatIf", "keep_tested", "top_cells"]


def top_cells(S: np.ndarray, k: int) -> tuple:
    """(columns, finite) of the ``k`` largest entries of each row of ``S``,
    largest first; ``finite`` marks the entries that are candidates."""
    if k < S.shape[1]:
        idx = np.argpartition(S, S.shape[1] - k, axis=1)[:, -k:]
    else:
        idx = np.broadcast_to(np.arange(S.shape[1]), S.shape)
    top = np.take_along_axis(S, idx, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    return idx, np.isfinite(np.take_along_axis(top, order, axis=1))


def keep_tested(S: np.ndarray, k: int, passes, restate) -> np.ndarray:
    """``S`` with every candidate among each row's top ``k`` tested.

    ``passes(i, j)`` (arrays of positions in ``S``) says which candidates
    hold; those that do not are dropped (-inf) and the next ones move up,
    until each row's top ``k`` after ``restate`` (which drops restated
    candidates) are tested. Each round tests the ``2 k`` strongest untested
    candidates of the rows that need it, in one call.
    """
    S = S.copy()
    tested = np.zeros(S.shape, dtype=bool)
    depth = min(S.shape[1], 2 * k)
    while True:
        shown = restate(S)
        idx, live = top_cells(shown, min(k, S.shape[1]))
        rows = np.arange(len(S))[:, None]
        waiting = live & ~tested[rows, idx]
        need = waiting.any(axis=1)
        if not need.any():
            return shown
        deep, deep_live = top_cells(shown[need], depth)
        r = np.broadcast_to(np.flatnonzero(need)[:, None], deep.shape)
        ask = deep_live & ~tested[r, deep]
        i, j = r[ask], deep[ask]
        ok = np.asarray(passes(i, j), dtype=bool)
        tested[i, j] = True
        S[i[~ok], j[~ok]] = -np.inf


class WhatIf:
    """The model's margin of explained rows with some cells set to their
    typical values.

    Parameters
    ----------
    margin_of : callable
        Feature table (like ``data``) -> the base model's margin, one per row.
    data : DataFrame
        The explained features.
    twins : list of ndarray
        Positions of features that state one fact: set together.
    """

    def __init__(self, margin_of, data: pd.DataFrame, twins):
        self._margin_of = margin_of
        self._data = data
        self._twins = {int(j): g for g in twins for j in g}
        self._bool = np.array([pd.api.types.is_bool_dtype(d) for d in data.dtypes])
        self._actual = np.full(len(data), np.nan)
        self._delta = {}  # row * columns + column -> margin at typical - margin

    def holds(self, rows, cols, sign, rules) -> np.ndarray:
        """Which reasons of ``sign`` (+1 risk, -1 protective) at the cells
        (rows, cols) the model bears out. ``rules`` is the explanation's
        ``ReasonRules``: its numbers, typical values and their levels."""
        value, typical = rules.numeric[rows, cols], rules.typical[rows, cols]
        ok = np.isnan(typical) | (value == typical)  # nothing to test
        ok |= self._bool[cols] & (typical != 0) & (typical != 1)  # "typical: 0.5"
        delta = self.deltas(rows[~ok], cols[~ok], rules.reference_cells)
        ok[~ok] = sign * delta < 0
        return ok

    def deltas(self, rows, cols, reference) -> np.ndarray:
        """Margin with the cells (rows, cols) at their typical values minus
        the row's margin. ``reference(rows, cols)`` gives the typical values
        as the table holds them (levels for categorical columns)."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, np.int64)
        keys = (rows * self._data.shape[1] + cols).tolist()
        out = np.array([self._delta.get(key, np.nan) for key in keys], dtype=float)
        todo = np.isnan(out)
        if todo.any():
            out[todo] = self._compute(rows[todo], cols[todo], reference)
        return out

    def _compute(self, rows, cols, reference) -> np.ndarray:
        fresh = np.unique(rows[np.isnan(self._actual[rows])])
        changed = self._data.iloc[np.concatenate([rows, fresh])].copy()
        members = [self._twins.get(int(j), np.array([j])) for j in cols]
        owner = np.repeat(np.arange(len(rows)), [len(g) for g in members])
        where = np.concatenate(members) if members else np.zeros(0, np.int64)
        values = reference(rows[owner], where)
        known = ~pd.isna(values)  # a twin without a typical value keeps its own
        owner, where, values = owner[known], where[known], values[known]
        for j in np.unique(where):
            at = owner[where == j]
            name = changed.columns[j]
            changed[name] = _with(changed.iloc[:, j], at, values[where == j])
        with held():  # the rows warned when first scored
            margin = np.asarray(self._margin_of(changed), dtype="float64").ravel()
        self._actual[fresh] = margin[len(rows) :]
        delta = margin[: len(rows)] - self._actual[rows]
        keys = (rows * self._data.shape[1] + cols).tolist()
        self._delta.update(zip(keys, delta.tolist(), strict=True))
        return delta


def _with(column: pd.Series, at: np.ndarray, values: np.ndarray):
    """The cells of ``column`` with the positions ``at`` set to ``values``, in
    its own type where the values fit it (a count's median 3.5 makes it float)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cells = column.to_numpy(dtype=object).copy()
        cells[at] = values
        return pd.Categorical(cells, dtype=dtype)
    if pd.api.types.is_bool_dtype(dtype):  # typical 0.0 / 1.0 (tested ones)
        cells = column.to_numpy(dtype=object).copy()
        cells[at] = [bool(v) for v in values]
        return pd.array(cells, dtype=dtype)
    if not pd.api.types.is_numeric_dtype(dtype):
        cells = column.to_numpy(dtype=object).copy()
        cells[at] = values
        return cells if dtype == np.dtype(object) else pd.array(cells, dtype=dtype)
    cells = column.to_numpy(dtype="float64", na_value=np.nan).copy()
    cells[at] = np.asarray(values, dtype="float64")
    return cells

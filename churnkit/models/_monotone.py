"""Monotone constraints for xgboost from the features' known direction of risk.

A feature builder's ``describe_features`` gives each column a ``direction``:
``"higher"`` (more is riskier), ``"lower"`` (less is riskier) or ``"either"``.
:class:`~churnkit.ChurnFeatures` stores these directions on its output table
(``features.attrs["feature_directions"]``), so a :class:`~churnkit.ChurnClassifier`
fitted after it in a pipeline can read them; a user's own table can pass them
as a dict.

A stored direction is a prior, not a fact about this business: every event
kind of a usage table is read as engagement ("fewer is riskier"), which is
wrong for kinds such as 'unfriend', 'error' or 'dislike'. With ``"auto"`` a
direction the training rows clearly contradict is dropped
(:func:`contradicted`): forcing it made the model learn, and the reasons
say, "last 'unfriend' 113 days ago" raises the risk on the fightchurn
simulation, where recent unfriends go with 2.8x the churn.
"""

from __future__ import annotations

import numpy as np

from churnkit.exceptions import SchemaError

__all__ = [
    "DIRECTIONS_ATTR",
    "contradicted",
    "model_directions",
    "monotone_constraints",
]

#: key of ``DataFrame.attrs`` under which feature builders store directions
DIRECTIONS_ATTR = "feature_directions"

#: a direction is contradicted below this z-score of its one-column ROC-AUC
CONTRADICTED_Z = -2.0
#: rows the contradiction test reads at most (a seeded sample beyond)
TEST_ROWS = 50_000

_SIGNS = {"higher": 1, "lower": -1, "either": 0, 1: 1, -1: -1, 0: 0}


def _sign(column, value) -> int:
    key = value.item() if isinstance(value, np.generic) else value
    if isinstance(key, bool) or key not in _SIGNS:
        raise SchemaError(
            f"`monotone` gives column {column!r} the direction {value!r}; use "
            "'higher' (more is riskier, +1), 'lower' (less is riskier, -1) or "
            "'either' (unconstrained, 0)."
        )
    return _SIGNS[key]


def monotone_constraints(
    setting, X, columns, numeric_columns, values=None, y01=None
) -> tuple[dict, list, dict]:
    """``({column: +1 or -1}, notes, released)`` for xgboost's constraints.

    Parameters
    ----------
    setting : {"auto", True, False} or dict
        The classifier's ``monotone``: False (none), "auto" (the directions
        stored on ``X.attrs`` by the feature builder, when there are any), True
        (the same, warning when there are none) or ``{column: direction}``.
    X : object
        The table given to ``fit`` (its ``attrs`` are read when True).
    columns : list of str
        Columns of ``X`` as the model sees them.
    numeric_columns : list of str
        The numeric ones; categorical columns are never constrained.
    values : DataFrame, default=None
        The numeric model inputs of the fit rows, and ``y01`` their 0/1
        labels: when given, each direction is tested (:func:`contradicted`).
    y01 : ndarray, default=None

    Returns
    -------
    constraints : dict
        Constrained columns only, in column order.
    notes : list of str
        Warnings: True without stored directions; categorical columns given a
        direction in a dict (left unconstrained); directions you gave (True or
        a dict) that the labels contradict (kept: you asked for them).
    released : dict
        ``{column: z}``: stored directions the labels contradict, which
        ``"auto"`` leaves unconstrained.
    """
    if setting is False or setting is None:
        return {}, [], {}
    notes = []
    if setting is True or setting == "auto":
        attrs = getattr(X, "attrs", None) or {}
        given = attrs.get(DIRECTIONS_ATTR)
        if not given and setting == "auto":
            return {}, notes, {}
        if not given:
            notes.append(
                "monotone=True but X carries no feature directions (they come "
                "from a churnkit feature builder, e.g. in make_churn_pipeline); "
                "the model is unconstrained. Pass monotone={column: 'higher' | "
                "'lower'} for your own table."
            )
            return {}, notes, {}
        given = {c: d for c, d in given.items() if c in set(columns)}
    else:
        given = dict(setting)
        unknown = [c for c in given if c not in set(columns)]
        if unknown:
            raise SchemaError(
                f"`monotone` names {len(unknown)} column(s) not in X: "
                f"{unknown[:5]}. X has columns {list(columns)[:5]}"
                f"{' ...' if len(columns) > 5 else ''}; fix the names or drop them."
            )
    signs = {c: _sign(c, d) for c, d in given.items()}
    numeric = set(numeric_columns)
    dropped = [c for c, s in signs.items() if s and c not in numeric]
    if dropped and isinstance(setting, dict):
        notes.append(
            f"monotone: {len(dropped)} categorical column(s) left unconstrained "
            f"(a direction needs an ordered, numeric column): {dropped[:5]}."
        )
    out = {c: signs[c] for c in columns if signs.get(c, 0) and c in numeric}
    released = {} if values is None else contradicted(values, y01, out)
    if setting == "auto":
        out = {c: v for c, v in out.items() if c not in released}
    elif released:
        shown = ", ".join(f"{c} (z = {z})" for c, z in list(released.items())[:5])
        notes.append(
            f"monotone: the training labels contradict {len(released)} of the "
            f"directions you gave: {shown}; they are kept because you asked for "
            "them. monotone='auto' drops the ones the data contradict."
        )
        released = {}
    return out, notes, released


def contradicted(values, y01, signs: dict, *, limit=CONTRADICTED_Z, seed=0) -> dict:
    """``{column: z}`` of the constrained columns the labels contradict.

    For each column, the ROC-AUC of its values alone for the churn label
    (Mann-Whitney, missing values left out, ties at their mean rank) becomes
    the z-score ``(auc - 0.5) / se`` with ``se = sqrt((n1 + n0 + 1) /
    (12 n1 n0))``, signed so that a positive z agrees with the column's
    direction. Columns with ``z < limit`` are returned. Ties shrink the true
    spread, so ``se`` is an upper bound and the test errs on keeping a
    constraint. At most :data:`TEST_ROWS` rows are read (a seeded sample).

    Parameters
    ----------
    values : DataFrame
        Numeric model inputs, one row per fit row.
    y01 : ndarray of 0/1
    signs : dict
        ``{column: +1 | -1}``, the constraints to test.
    limit : float, default=-2.0
    seed : int, default=0

    Returns
    -------
    dict

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"errors": [0, 0, 1, 2, 3, 5] * 2,
    ...                   "logins": [9, 8, 7, 3, 2, 1] * 2})
    >>> y = np.array([0, 0, 0, 1, 1, 1] * 2)
    >>> contradicted(X, y, {"errors": -1, "logins": -1})  # "fewer errors is riskier"?
    {'errors': -2.88}
    """
    columns = [c for c in signs if c in values]
    y01 = np.asarray(y01)
    if not columns or len(y01) < 2:
        return {}
    block = values[columns]
    if len(y01) > TEST_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(y01), TEST_ROWS, False))
        block, y01 = block.iloc[rows], y01[rows]
    ranks = block.rank(method="average").to_numpy(dtype="float64")
    seen = ~np.isnan(ranks)
    churn = (y01 == 1)[:, None]
    n1 = (seen & churn).sum(axis=0).astype("float64")
    n0 = (seen & ~churn).sum(axis=0).astype("float64")
    r1 = np.where(seen & churn, ranks, 0.0).sum(axis=0)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (r1 - n1 * (n1 + 1) / 2) / (n1 * n0)
        z = (auc - 0.5) / np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    for j, c in enumerate(columns):
        zj = z[j] * signs[c]
        if n1[j] and n0[j] and zj < limit:
            out[c] = round(float(zj), 2)
    return out


def model_directions(kind, setting, *args) -> tuple[dict, list, dict]:
    """:func:`monotone_constraints` for a model of ``kind``.

    xgboost is held to the constraints. Other models are never constrained,
    but their reasons are filtered by the directions, so with ``"auto"`` the
    ones the labels contradict are released all the same (a logistic model's
    'error' events raise the risk, and a reason must be able to say so).
    """
    if kind != "xgboost" and setting != "auto":
        return {}, [], {}
    constraints, notes, released = monotone_constraints(setting, *args)
    return (constraints if kind == "xgboost" else {}), notes, released

"""Monotone constraints for xgboost from the features' known direction of risk.

A feature builder's ``describe_features`` gives each column a ``direction``:
``"higher"`` (more is riskier), ``"lower"`` (less is riskier) or ``"either"``.
:class:`~churnkit.ChurnFeatures` stores these directions on its output table
(``features.attrs["feature_directions"]``), so a :class:`~churnkit.ChurnClassifier`
fitted after it in a pipeline can read them; a user's own table can pass them
as a dict.
"""

from __future__ import annotations

import numpy as np

from churnkit.exceptions import SchemaError

__all__ = ["DIRECTIONS_ATTR", "monotone_constraints"]

#: key of ``DataFrame.attrs`` under which feature builders store directions
DIRECTIONS_ATTR = "feature_directions"

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


def monotone_constraints(setting, X, columns, numeric_columns) -> tuple[dict, list]:
    """``({column: +1 or -1}, notes)`` for xgboost's ``monotone_constraints``.

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

    Returns
    -------
    constraints : dict
        Constrained columns only, in column order.
    notes : list of str
        Warnings: True without stored directions; categorical columns given a
        direction in a dict (left unconstrained).
    """
    if setting is False or setting is None:
        return {}, []
    notes = []
    if setting is True or setting == "auto":
        attrs = getattr(X, "attrs", None) or {}
        given = attrs.get(DIRECTIONS_ATTR)
        if not given and setting == "auto":
            return {}, notes
        if not given:
            notes.append(
                "monotone=True but X carries no feature directions (they come "
                "from a churnkit feature builder, e.g. in make_churn_pipeline); "
                "the model is unconstrained. Pass monotone={column: 'higher' | "
                "'lower'} for your own table."
            )
            return {}, notes
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
    return out, notes

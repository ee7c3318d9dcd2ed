"""Why did the score move: change explanations between two scorings.

The same accounts are explained at two cutoffs (or two scoring runs, or by two
model versions); the change in calibrated churn probability is split into
per-feature contributions that add up to it exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from churnkit._logging import warn
from churnkit._validation import examples
from churnkit.exceptions import ChurnkitWarning, SchemaError
from churnkit.explain._explainer import ChurnExplainer
from churnkit.explain._points import secant_slope
from churnkit.explain._score_change import ScoreChange

__all__ = ["explain_change"]


def explain_change(
    model,
    before,
    after,
    *,
    previous_model=None,
    background=None,
    n_jobs=None,
    random_state=None,
):
    """Split each account's change in churn risk into per-feature contributions.

    Parameters
    ----------
    model : Pipeline, ChurnClassifier, XGBClassifier or Booster
        The fitted model that scored ``after`` (anything
        :class:`~churnkit.ChurnExplainer` takes).
    before, after : DataFrame
        The same accounts at two cutoffs or in two scoring runs: cutoff tables
        (``customer_id``, ``cutoff_time``) for a churn pipeline, feature
        tables for a classifier. Rows are matched by ``customer_id`` (the
        index for a table without one); accounts in only one of them are
        left out and counted in a :class:`~churnkit.ChurnkitWarning`.
    previous_model : same types as ``model``, default=None
        The model that scored ``before``, when the model changed between the
        runs; the change is then split into a data part (per feature) and a
        model part. None: ``model`` scored both.
    background : DataFrame, default=None
        Rows like ``before`` that define "typical" and the reference of
        linear models (see :class:`~churnkit.ChurnExplainer`); None uses
        ``before``, so both sides share one reference.
    n_jobs : int, default=None
        Threads for xgboost's TreeSHAP.
    random_state : int, RandomState instance or None, default=None
        Seeds the generic SHAP explainer of models that are neither trees nor
        linear.

    Returns
    -------
    ScoreChange
        Per account: probabilities before and after, the change, its split
        by feature and by group, reasons and the accounts that moved most.

    See Also
    --------
    ChurnExplainer : Explanations of one scoring.

    Notes
    -----
    With one model ``f`` and SHAP values ``phi`` of its log-odds ``m``, the
    change of feature ``j`` is ``d_j = phi_j(after) - phi_j(before)`` in
    log-odds, and ``sum_j d_j = m(after) - m(before)`` (the base value is the
    same for both). It is spread onto probability points by the rule of
    :class:`~churnkit.Explanation`: the secant slope of the calibration map,
    ``points_j = d_j * (p(after) - p(before)) / (m(after) - m(before))`` (the
    derivative when the two margins are within 1e-6), so the points add up to
    the change in calibrated probability and a feature whose contribution did
    not move gets none.

    With two models (``previous_model`` scored ``before``), the change
    ``p_new(after) - p_old(before)`` is split between the data and the model
    by the Shapley rule of two players: ``data = (p_old(after) - p_old(before)
    + p_new(after) - p_new(before)) / 2`` (per feature: the mean of the two
    models' splits) and ``model = (p_new(before) - p_old(before) +
    p_new(after) - p_old(after)) / 2``, so that ``data + model`` is the change
    and neither depends on an order.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-03-01")
    >>> labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    >>> X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    >>> model = ck.make_churn_pipeline(data.events, random_state=0).fit(X, y)
    >>> before = ck.make_cutoffs(data.events, at="2025-04-01")
    >>> after = ck.make_cutoffs(data.events, at="2025-05-01")  # active then
    >>> change = ck.explain_change(model, before, after)
    >>> total = change.values.sum(axis=1) + change.base_change + change.model_change
    >>> bool(np.allclose(total, change.change, atol=1e-9))
    True
    >>> table = change.movers(k=5)  # the accounts whose risk moved most
    """
    base_rows = before if background is None else background
    kwargs = {"background": base_rows, "n_jobs": n_jobs, "random_state": random_state}
    new = _Scored(model, before, after, kwargs)
    old = (
        new
        if previous_model is None
        else _Scored(previous_model, before, after, kwargs)
    )
    keys_b, keys_a = _keys(new.before, "before"), _keys(new.after, "after")
    rows_b, rows_a = _match(keys_b, keys_a)
    features = list(dict.fromkeys([*new.features, *old.features]))
    p_old_b, p_new_a = old.p_before[rows_b], new.p_after[rows_a]
    points_new, base_new = new.points(rows_b, rows_a, features)
    if previous_model is None:
        points, base_change = points_new, base_new
        model_change = np.zeros(len(rows_a))
    else:
        points_old, base_old = old.points(rows_b, rows_a, features)
        points = (points_new + points_old) / 2
        base_change = (base_new + base_old) / 2
        model_change = (
            new.p_before[rows_b] - p_old_b + p_new_a - old.p_after[rows_a]
        ) / 2
    index = pd.Index(keys_a[rows_a], name="customer_id")
    return ScoreChange(
        values=pd.DataFrame(points, index=index, columns=features),
        log_odds=pd.DataFrame(
            new.delta(rows_b, rows_a, features), index=index, columns=features
        ),
        probability_before=pd.Series(p_old_b, index=index),
        probability_after=pd.Series(p_new_a, index=index),
        base_change=pd.Series(base_change, index=index),
        model_change=pd.Series(model_change, index=index),
        data_before=_rows(new.before.data, rows_b, index, features),
        data_after=_rows(new.after.data, rows_a, index, features),
        cutoffs=(_cutoffs(new.before.index, rows_b), _cutoffs(new.after.index, rows_a)),
        descriptions=_descriptions(new.explainer, new.before, features),
    )


class _Scored:
    """One model's explanations of ``before`` and ``after``."""

    def __init__(self, model, before, after, kwargs):
        self.explainer = ChurnExplainer(model, **kwargs)
        self.before = self.explainer.explain(before)
        self.after = self.explainer.explain(after)
        self.features = self.before.feature_names
        self.calibrate = _calibration_map(model)
        self.p_before = self.before.probability.to_numpy()
        self.p_after = self.after.probability.to_numpy()

    def delta(self, rows_b, rows_a, features):
        """Log-odds change per feature (0 for features this model lacks)."""
        a = self.after.values.reindex(columns=features, fill_value=0.0)
        b = self.before.values.reindex(columns=features, fill_value=0.0)
        return a.to_numpy()[rows_a] - b.to_numpy()[rows_b]

    def points(self, rows_b, rows_a, features):
        """(probability points per feature, points of the base-value change)."""
        d = self.delta(rows_b, rows_a, features)
        m_b = self.before.margin.to_numpy()[rows_b]
        m_a = self.after.margin.to_numpy()[rows_a]
        p_b, p_a = self.p_before[rows_b], self.p_after[rows_a]
        slope = secant_slope(m_b, m_a, p_b, p_a, self.calibrate)
        base = self.after.base_values.to_numpy()[rows_a]
        base = base - self.before.base_values.to_numpy()[rows_b]
        return d * slope[:, None], base * slope


def _calibration_map(model):
    """Margin -> calibrated probability of ``model`` (its final step)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(final, "calibrate_margin"):
        return final.calibrate_margin
    return expit


def _keys(explanation, name) -> np.ndarray:
    index = explanation.index
    if "customer_id" in (index.names or []):
        keys = index.get_level_values("customer_id")
    else:
        keys = index
    keys = np.asarray(keys, dtype=object)
    dup = pd.Index(keys).duplicated()
    if dup.any():
        raise SchemaError(
            f"explain_change: `{name}` holds {int(dup.sum())} account(s) more than "
            f"once (e.g. {examples(keys, dup)}); pass one row per account and "
            "compare two cutoffs as `before` and `after`."
        )
    return keys


def _match(keys_b, keys_a):
    """Positions in before and after of the accounts in both (after's order)."""
    pos_b = pd.Index(keys_b).get_indexer(keys_a)
    both = pos_b >= 0
    only_after = int((~both).sum())
    only_before = len(keys_b) - int(both.sum())
    if only_after or only_before:
        missing_b = pd.Index(keys_b).difference(pd.Index(keys_a[both]))
        shown = [*keys_a[~both][:3].tolist(), *missing_b[:3].tolist()]
        warn(
            f"explain_change compares the {int(both.sum())} accounts in both "
            f"`before` and `after`; left out: {only_after} only in `after`, "
            f"{only_before} only in `before` (e.g. {shown}).",
            ChurnkitWarning,
        )
    if not both.any():
        raise SchemaError(
            "explain_change: `before` and `after` share no account; pass the same "
            f"accounts at two cutoffs (before: {examples(keys_b)}, after: "
            f"{examples(keys_a)})."
        )
    return pos_b[both], np.flatnonzero(both)


def _rows(frame, rows, index, features):
    out = frame.iloc[rows].reindex(columns=features)
    out.index = index
    return out


def _cutoffs(index, rows):
    if "cutoff_time" in (index.names or []):
        return pd.DatetimeIndex(index.get_level_values("cutoff_time"))[rows]
    return None


def _descriptions(explainer, explanation, features):
    """[feature, group, display_name, unit, template] of every feature."""
    out = pd.DataFrame({"feature": features})
    groups = explanation.groups.reindex(features).fillna("other")
    names = explanation.display_names.reindex(features)
    out["group"] = groups.to_numpy()
    out["display_name"] = names.fillna(pd.Series(features, index=features)).to_numpy()
    desc = explainer.descriptions
    if desc is None and hasattr(explainer.model, "steps"):
        from churnkit.features import describe_features

        try:
            desc = describe_features(explainer.model)
        except (AttributeError, TypeError, ValueError, SchemaError):
            desc = None
    for col in ("unit", "template"):
        values = None
        if desc is not None and col in desc:
            values = desc.drop_duplicates("feature").set_index("feature")[col]
            values = values.reindex(features).to_numpy(dtype=object)
        out[col] = values if values is not None else None
    return out

"""ChurnExplainer: SHAP values of a fitted churn model, summed back to features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitError, SchemaError
from churnkit.explain._explanation import Explanation
from churnkit.explain._models import resolve
from churnkit.explain._typical import typical_block
from churnkit.features._reference import tenure_band, tenure_days, typical_rows

__all__ = ["ChurnExplainer"]


class ChurnExplainer:
    """Explain a fitted churn model's predictions, account by account.

    Parameters
    ----------
    model : Pipeline, ChurnClassifier, XGBClassifier or Booster
        A fitted churn pipeline (:func:`churnkit.make_churn_pipeline`), a fitted
        :class:`~churnkit.ChurnClassifier` (then ``X`` is the feature table
        itself), any fitted scikit-learn ``Pipeline`` ending in one, or a fitted
        binary ``xgboost.XGBClassifier`` / ``xgboost.Booster`` (``X`` is its
        input; probabilities are the sigmoid of its margin).
    background : DataFrame, default=None
        Rows like ``X`` (the cutoff table for a pipeline) that stand for the
        population. They define "typical" in reason sentences when the model
        keeps no training reference (a pipeline fitted with ``fit`` keeps the
        medians of each tenure band, a ChurnClassifier its ``typical_``, and
        those win, so a row reads the same in any batch); for logistic
        regression the reference point (their mean model input) and for other
        estimators the background of ``shap.Explainer``. TreeSHAP needs none
        (trees carry their training distribution). Transformed once, on first
        use.
    descriptions : DataFrame, default=None
        ``[feature, group, template, ...]`` describing the features; default:
        ``ck.describe_features(model)`` when the model has feature builders.
    n_jobs : int, default=None
        Threads for xgboost's TreeSHAP; None uses the model's own setting
        (one thread for a ChurnClassifier with ``n_jobs=None``), -1 all cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the background sample and the permutations of the generic
        explainer; pass an int for reproducible explanations of models that
        are neither trees nor linear (those are exact and need no seed).
    min_points : float, default=0.01
        Smallest move of the churn probability, in probability points (0.01 =
        1 point), for a driver to be a reason, or a tenth of the base
        probability when that is smaller (low churn rates); an account without
        one reads "No strong risk drivers". Settable per call of
        ``top_drivers`` and ``reasons``.
    currency : str, default=""
        Symbol shown before money values in reasons ("$", "EUR ").
    check_reasons : bool, default=True
        Test each reason on the model before it is shown: the account's row
        with the feature at its typical value must score lower (see
        :class:`Explanation`). It costs one more model call per
        ``top_drivers`` / ``reasons`` call on the candidate rows (about a
        third more for 100 accounts, a few ms for one); False shows SHAP's
        strongest drivers untested.

    Attributes
    ----------
    model_kind_ : str
        "xgboost", "logistic" or "estimator".
    method_ : str
        "tree_shap" (xgboost's ``pred_contribs``), "linear" (closed form) or
        "shap" (``shap.Explainer``: exact up to 10 model-input columns,
        permutation above).

    See Also
    --------
    Explanation : What :meth:`explain` returns.

    Notes
    -----
    SHAP values explain the **base model's log-odds** (``decision_function``):
    ``base value + contributions == decision_function(X)`` (to 1e-9 for
    logistic regression, about 1e-6 relative for xgboost, which computes in
    float32). Model-input columns (one-hot levels, missing indicators) are
    summed back to the feature they come from (``feature_map_``).

    - **xgboost**: ``booster.predict(DMatrix(..., enable_categorical=True),
      pred_contribs=True, iteration_range=(0, best_iteration_ + 1))``, the
      same values as ``shap.TreeExplainer`` (path-dependent TreeSHAP).
    - **logistic**: ``coef * (x - reference)``, base ``intercept + coef @
      reference``, on the scaled, encoded model input. ``reference`` is the
      mean model input of ``background`` when given; otherwise the training
      mean the classifier knows: ``input_mean_`` when it exposes one (a
      logistic ``ChurnClassifier`` does), else 0
      for the standardized columns (their training mean by construction) and
      the mean over the explained rows for one-hot columns.
    - **scikit-learn tree ensembles and LightGBM**
      (HistGradientBoosting, RandomForest, ExtraTrees, LGBMClassifier):
      ``shap.TreeExplainer``; forests explain the probability, spread onto the
      margin by the secant rule. They add up to the margin within 1e-6.
    - **any other estimator**: ``shap.Explainer`` on the margin with 100
      background rows (``background``, else a sample of the explained rows).

    Probability points spread ``p(x) - p(base)`` over the features in
    proportion to their log-odds contributions; see :class:`Explanation`.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2025-03-01")
    >>> labels = ck.label_churn(data.events, cutoffs, horizon="30D")
    >>> X, y = labels[["customer_id", "cutoff_time"]], labels["churned"]
    >>> model = ck.make_churn_pipeline(data.events, random_state=0).fit(X, y)
    >>> explanation = ck.ChurnExplainer(model).explain(X.tail(50))
    >>> drivers = explanation.top_drivers(k=3)
    >>> list(drivers.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['customer_id', 'cutoff_time', 'rank', 'feature', 'value', 'contribution',
     'group', 'reason', 'display_name', 'reference', 'value_text',
     'reference_text']
    """

    def __init__(
        self,
        model,
        *,
        background=None,
        descriptions=None,
        n_jobs=None,
        random_state=None,
        min_points=0.01,
        currency="",
        check_reasons=True,
    ):
        self.model = model
        self.background = background
        self.descriptions = descriptions
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.min_points = min_points
        self.currency = currency
        self.check_reasons = check_reasons
        self._target = resolve(model, n_jobs=n_jobs)
        self._descriptions = _descriptions(model, descriptions)
        self._background = None

    @property
    def model_kind_(self) -> str:
        return self._target.kind

    @property
    def method_(self) -> str:
        return self._target.method or "shap"

    def _background_rows(self):
        """(features, model input) of ``background``, or (None, None)."""
        if self.background is None:
            return None, None
        if self._background is None:
            F, Xm = self._target.prepare(self.background)
            if not len(F):
                raise SchemaError("`background` has no rows; pass None or some rows.")
            self._background = (F, Xm)
        return self._background

    def explain(self, X) -> Explanation:
        """SHAP values of every row of ``X``, summed back to the user's features.

        Parameters
        ----------
        X : DataFrame or array-like
            What the model predicts on: the cutoff table (``customer_id``,
            ``cutoff_time``) for a churn pipeline, the feature table for a
            ChurnClassifier, the input matrix for an xgboost model. Only these
            rows are computed.

        Returns
        -------
        Explanation
            Indexed like the features of ``X``.
        """
        target = self._target
        if hasattr(X, "shape") and len(X.shape) and X.shape[0] == 0:
            raise SchemaError("X has no rows; pass at least one row to explain.")
        F, Xm = target.prepare(X)
        bg_features, bg_input = self._background_rows()
        values, base = target.contributions(
            Xm, bg_input, random_state=self.random_state
        )
        columns = list(Xm.columns) if isinstance(Xm, pd.DataFrame) else list(F.columns)
        values = _sum_to_features(values, columns, target.feature_map, list(F.columns))
        return Explanation(
            values,
            base,
            F,
            calibrate=target.calibrate,
            descriptions=self._descriptions,
            reference=bg_features,
            model_kind=target.kind,
            method=target.method,
            typical=typical_by_tenure(self.model, F),
            min_points=self.min_points,
            currency=self.currency,
            numeric_levels=getattr(_classifier(self.model), "numeric_levels_", None),
            twins=getattr(_classifier(self.model), "twins_", None),
            margin_of=target.margin_of_features if self.check_reasons else None,
        )

    def __repr__(self) -> str:
        name = type(self.model).__name__
        return f"ChurnExplainer(model={name}, kind={self.model_kind_!r})"


def typical_by_tenure(model, F):
    """Per-row references from the training features, by tenure band, or None.

    A churn pipeline fitted with ``fit`` stores, in its feature step,
    ``reference_``: the feature medians per tenure band of the training rows
    (see ``ChurnFeatures.fit_transform``). Each explained row gets the
    reference of its own band (tenure = cutoff - signup).
    """
    steps = [s for _, s in getattr(model, "steps", [])[:-1]]
    step = next((s for s in steps if hasattr(s, "reference_")), None)
    if step is None or not isinstance(F.index, pd.MultiIndex):
        return _typical_of_classifier(model, F)
    table = step.reference_
    bands = tenure_band(tenure_days(getattr(step, "events", None), F.index))
    columns = [c for c in F.columns if c in table.columns]
    block = typical_block(table, bands, columns)
    if block is None:  # a table typical_block does not read: column by column
        return pd.DataFrame(
            {c: typical_rows(table, bands, c) for c in columns}, index=F.index
        )
    # one object block: no per-column type inference (typical_matrix reads
    # the cells as objects either way)
    return pd.DataFrame(block, index=F.index, columns=columns, dtype=object)


def _classifier(model):
    """``model``, or the last step of a pipeline."""
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _typical_of_classifier(model, F):
    """Each row's reference from a ChurnClassifier's ``typical_``, or None.

    The classifier is ``model`` or the last step of a pipeline; its training
    medians (most frequent levels) are the same for every row.
    """
    typical = getattr(_classifier(model), "typical_", None)
    if not isinstance(typical, dict):
        return None
    columns = [c for c in F.columns if c in typical]
    if not columns:
        return None
    row = np.array([typical[c] for c in columns], dtype=object)
    return pd.DataFrame(
        np.broadcast_to(row, (len(F), len(columns))).copy(),
        index=F.index,
        columns=columns,
        dtype=object,
    )


def _descriptions(model, descriptions):
    if descriptions is not None:
        if not isinstance(descriptions, pd.DataFrame) or "feature" not in descriptions:
            raise SchemaError(
                "`descriptions` must be a DataFrame with a `feature` column (and "
                "`group`, `template`), like ck.describe_features(model); got "
                f"{type(descriptions).__name__}."
            )
        return descriptions
    if not hasattr(model, "steps"):
        return None
    from churnkit.features import describe_features

    try:
        found = describe_features(model)
    except (ChurnkitError, AttributeError, TypeError, ValueError):
        return None
    # a direction the model was not held to (its labels contradicted it) must
    # not filter reasons either: "last 'unfriend' 5 days ago" is a reason
    released = getattr(model.steps[-1][1], "monotone_released_", None)
    if released and "direction" in found:
        found = found.copy()
        found.loc[found["feature"].isin(list(released)), "direction"] = "either"
    return found


def _sum_to_features(values, columns, feature_map, features) -> np.ndarray:
    """Sum model-input columns into the features they come from."""
    if feature_map is None or [feature_map.get(c) for c in columns] == features:
        return values
    position = {f: j for j, f in enumerate(features)}
    missing = [c for c in columns if feature_map.get(c) not in position]
    if missing:
        raise SchemaError(
            f"Model input columns {missing[:5]} map to no feature of X through "
            "`feature_map_`; refit the model on this feature table."
        )
    target = np.array([position[feature_map[c]] for c in columns])
    M = np.zeros((len(columns), len(features)))
    M[np.arange(len(columns)), target] = 1.0
    return values @ M

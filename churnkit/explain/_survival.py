"""Explanations of time to churn: the survival model's risk score, by feature."""

from __future__ import annotations

from churnkit.exceptions import ChurnkitTypeError
from churnkit.explain._explainer import typical_by_tenure
from churnkit.explain._explanation import Explanation

__all__ = ["explain_survival"]


def explain_survival(model, X, *, horizon=None, descriptions=None):
    """Why a time-to-churn model expects an account to churn soon.

    Parameters
    ----------
    model : ChurnSurvival or Pipeline
        A fitted :class:`~churnkit.ChurnSurvival`, or a fitted pipeline
        ending in one (then ``X`` is the cutoff table).
    X : DataFrame
        The rows to explain: features for a ChurnSurvival, cutoffs for a
        pipeline.
    horizon : str, default=None
        Probability points are of P(churn within ``horizon``); None uses the
        model's ``horizon``.
    descriptions : DataFrame, default=None
        ``[feature, group, template, ...]``; default: ``describe_features``
        of the pipeline's feature step.

    Returns
    -------
    Explanation
        ``values`` in the risk score's unit (log relative hazard of churn for
        ``model="cox"`` and "linear": +0.69 doubles the hazard at every
        horizon; log-odds of churn within the horizon for "xgboost"), adding
        up with ``base_values`` to ``predict``; ``probability_values`` in
        points of P(churn within ``horizon``), adding up to it. Drivers,
        reasons, groups and plots work as for the classifier.

    Examples
    --------
    >>> import churnkit as ck
    >>> from sklearn.pipeline import make_pipeline
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2025-03-01")
    >>> frame = ck.label_survival(data.events, cutoffs, max_horizon="180D")
    >>> X, y = frame[["customer_id", "cutoff_time"]], ck.survival_array(frame)
    >>> model = make_pipeline(ck.ChurnFeatures(data.events),
    ...                       ck.ChurnSurvival("cox", random_state=0)).fit(X, y)
    >>> explanation = ck.explain_survival(model, X.tail(20), horizon="90D")
    >>> drivers = explanation.top_drivers(k=2)
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(final, "risk_contributions"):
        raise ChurnkitTypeError(
            "explain_survival takes a fitted ck.ChurnSurvival (or a pipeline "
            f"ending in one); got {type(final).__name__}. Explain a classifier "
            "with ck.ChurnExplainer."
        )
    F = model[:-1].transform(X) if hasattr(model, "steps") else X
    if descriptions is None and hasattr(model, "steps"):
        from churnkit.features import describe_features

        try:
            descriptions = describe_features(model[:-1])
        except (AttributeError, TypeError, ValueError):
            descriptions = None
        released = getattr(final, "monotone_released_", None)
        if released and descriptions is not None and "direction" in descriptions:
            # as for the classifier: a direction the model was not held to
            # does not filter reasons ("Last 'unfriend' 3 days ago" is one)
            descriptions = descriptions.copy()
            descriptions.loc[
                descriptions["feature"].isin(list(released)), "direction"
            ] = "either"
    values, base, features = final.risk_contributions(F)
    # the typical values of the training rows (by tenure band), as the
    # classifier's explainer: an account reads the same alone or in a batch
    typical = typical_by_tenure(model, features) if hasattr(model, "steps") else None
    return Explanation(
        values,
        base,
        features,
        calibrate=final.probability_map(horizon),
        descriptions=descriptions,
        typical=typical,
        model_kind=f"survival {final.model}",
        method="tree_shap" if final.booster_ is not None else "linear",
        margin_of=final.predict,  # each reason tested on the risk score
    )

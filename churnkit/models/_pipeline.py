"""The churn pipeline: feature builders then a calibrated classifier."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from churnkit.features.union import ChurnFeatures
from churnkit.models._classifier import ChurnClassifier

__all__ = ["make_churn_pipeline"]

_FEATURE_PARAMS = ("windows", "horizon", "include", "custom")


def make_churn_pipeline(
    events,
    model="xgboost",
    *,
    calibration="sigmoid",
    random_state=None,
    monotone="auto",
    **feature_params,
):
    """``Pipeline([("features", ChurnFeatures), ("model", ChurnClassifier)])``.

    Parameters
    ----------
    events : Events
        The event store, shared by reference with every clone and CV fold.
    model : {"xgboost", "logistic", "auto"} or sklearn classifier, default="xgboost"
        The base model of :class:`ChurnClassifier`; ``"auto"`` chooses one by a
        small search on the fit rows (``ChurnClassifier.search_``).
    calibration : {"sigmoid", "isotonic"} or None, default="sigmoid"
        Calibration of :class:`ChurnClassifier` on a later hold-out.
    random_state : int, default=None
        Seed of the classifier.
    monotone : {"auto", True, False}, default="auto"
        ``ChurnClassifier(monotone=...)``: with "auto" or True, xgboost's
        log-odds are constrained to rise with every feature whose
        ``direction`` is "higher" and fall with every "lower" one; False
        leaves them free.
    **feature_params
        Parameters of :class:`ChurnFeatures`: ``windows`` (default "auto":
        chosen from the data at ``fit``), ``horizon``, ``include``, ``custom``.

    Returns
    -------
    Pipeline
        Fit it on the cutoff table ``X`` (``customer_id``, ``cutoff_time``) and
        labels ``y`` from :func:`label_churn`. Tune builder windows and model
        parameters together with ``GridSearchCV`` (``features__windows``,
        ``model__calibration``...).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-06-01", end="2024-12-01")
    >>> labels = ck.label_churn(data.events, cutoffs, horizon="30D")  # doctest: +SKIP
    >>> model = ck.make_churn_pipeline(data.events, model="logistic")
    >>> [name for name, _ in model.steps]
    ['features', 'model']
    """
    unknown = sorted(set(feature_params) - set(_FEATURE_PARAMS))
    if unknown:
        from churnkit.exceptions import ChurnkitTypeError

        raise ChurnkitTypeError(
            f"make_churn_pipeline got unknown parameter(s) {unknown}; feature "
            f"parameters are {list(_FEATURE_PARAMS)}. Set classifier parameters "
            "afterwards with `pipeline.set_params(model__...=...)`."
        )
    return Pipeline(
        [
            ("features", ChurnFeatures(events, **feature_params)),
            (
                "model",
                ChurnClassifier(
                    model,
                    calibration=calibration,
                    random_state=random_state,
                    monotone=monotone,
                ),
            ),
        ]
    )

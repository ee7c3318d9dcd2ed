"""Log churn models to MLflow and load them back with an events store.

MLflow 3 saves scikit-learn models with skops by default. A churnkit model is
skops-ready (its fitted state is plain, its Events store detached); these
helpers add what MLflow cannot guess: the trusted types to load it with, the
input schema (the cutoff table, or the feature table for a bare classifier),
the churnkit version and the validation metrics, and, on loading, the events
store to score against.

Requires ``mlflow`` (or ``mlflow-skinny``) and ``skops``:
``pip install churnkit[mlflow]``.
"""

from __future__ import annotations

from importlib import metadata

from churnkit._logging import get_logger
from churnkit._skops import skops_trusted_types
from churnkit._version import VERSION
from churnkit.exceptions import ChurnkitTypeError

__all__ = ["log_model", "load_model"]

logger = get_logger(__name__)


def _requirements() -> list[str]:
    """Pinned requirements of the logged model (no slow inference by MLflow)."""
    out = [f"churnkit=={VERSION}"]
    for package in ("scikit-learn", "xgboost", "pandas", "numpy", "skops"):
        try:
            out.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return out


def _import_mlflow():
    try:
        import mlflow
        import mlflow.sklearn
    except ImportError as exc:
        raise ChurnkitTypeError(
            "churnkit.mlflow needs MLflow and skops: pip install churnkit[mlflow]"
        ) from exc
    return mlflow


def log_model(model, name="model", *, X_example=None, metrics=None, horizon=None):
    """Log a fitted churn model to MLflow, in skops format.

    Parameters
    ----------
    model : estimator
        A fitted churn pipeline, :class:`~churnkit.ChurnClassifier` or builder,
        with its events store attached (it is left out of the logged model).
    name : str, default="model"
        The model's name in the run.
    X_example : DataFrame, default=None
        A few input rows (the cutoff table of a pipeline). Gives the model's
        input schema, and the output schema from the model's churn
        probability on them.
    metrics : dict or pandas.Series, default=None
        Validation metrics (e.g. ``ck.evaluate(...)``), logged to the run and
        to the logged model.
    horizon : str, default=None
        The label horizon, kept as a tag and in the model's metadata.

    Returns
    -------
    mlflow.models.model.ModelInfo
        MLflow's record of the logged model (``model_uri`` to load it).

    Examples
    --------
    With MLflow installed (``pip install churnkit[mlflow]``), ``pipe`` a fitted
    churn pipeline and ``X`` its cutoff table:

    >>> import mlflow  # doctest: +SKIP
    >>> import churnkit.mlflow as ck_mlflow
    >>> mlflow.set_tracking_uri("file:///tmp/mlruns")  # doctest: +SKIP
    >>> with mlflow.start_run():  # doctest: +SKIP
    ...     info = ck_mlflow.log_model(pipe, X_example=X.head(), horizon="30D")
    >>> ck_mlflow.log_model.__module__
    'churnkit.mlflow'
    """
    mlflow = _import_mlflow()
    from mlflow.models import infer_signature
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    signature = None
    if X_example is not None:
        output = model.predict_proba(X_example)[:, 1]
        signature = infer_signature(X_example, output)
    metrics = {} if metrics is None else dict(metrics)
    metrics = {str(k): float(v) for k, v in metrics.items() if _finite(v)}
    run = mlflow.active_run()
    started = run is None
    if started:
        run = mlflow.start_run()
    try:
        info = mlflow.sklearn.log_model(
            model,
            name=name,
            serialization_format="skops",
            skops_trusted_types=skops_trusted_types(),
            signature=signature,
            pip_requirements=_requirements(),
            pyfunc_predict_fn="predict_proba",
            metadata={
                "churnkit_version": VERSION,
                "horizon": None if horizon is None else str(horizon),
                "model_class": type(model).__name__,
            },
        )
        mlflow.set_tags({"churnkit_version": VERSION, "churnkit_horizon": str(horizon)})
        if metrics:
            mlflow.log_metrics(metrics, model_id=info.model_id)
    finally:
        if started:
            mlflow.end_run()
    logger.info("logged %s to MLflow as %s", type(model).__name__, info.model_uri)
    return info


def _finite(value) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number == number and abs(number) != float("inf")


def load_model(model_uri, *, events=None):
    """Load a churn model logged by :func:`log_model`, attaching ``events``.

    Parameters
    ----------
    model_uri : str
        ``ModelInfo.model_uri`` (``"models:/..."``, ``"runs:/<id>/model"``...).
    events : Events, default=None
        The store to score against; without it, attach one later with
        :func:`churnkit.set_events`.

    Returns
    -------
    estimator
        The fitted model, loaded from skops with churnkit's trusted types.

    Examples
    --------
    >>> import churnkit.mlflow as ck_mlflow
    >>> model = ck_mlflow.load_model("models:/churn/1", events=events)  # doctest: +SKIP
    >>> ck_mlflow.load_model.__module__
    'churnkit.mlflow'
    """
    mlflow = _import_mlflow()
    model = mlflow.sklearn.load_model(model_uri)
    if events is not None:
        from churnkit.features.union import set_events

        set_events(model, events)
    return model

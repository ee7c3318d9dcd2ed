"""ChurnFeatures (the union of the builders), set_events and describe_features."""

from __future__ import annotations

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone

from churnkit.exceptions import NotFittedError
from churnkit.features._base import DESCRIPTION_COLUMNS
from churnkit.features._frame import read_X
from churnkit.features.billing import BillingFeatures
from churnkit.features.custom import CustomFeatures
from churnkit.features.profile import ProfileFeatures
from churnkit.features.support import SupportFeatures
from churnkit.features.usage import UsageFeatures

__all__ = ["ChurnFeatures", "set_events", "describe_features"]

BUILDERS = {
    "usage": UsageFeatures,
    "billing": BillingFeatures,
    "support": SupportFeatures,
    "profile": ProfileFeatures,
}


class ChurnFeatures(TransformerMixin, BaseEstimator):
    """All churn features: usage, billing, support and profile, side by side.

    Parameters
    ----------
    events : Events, default=None
        The event store, handed to every builder (never copied).
    windows : tuple of str, default=("7D", "30D", "90D")
        Trailing windows of the usage, billing and support builders.
    include : tuple of str, default=("usage", "billing", "support", "profile")
        Which builders to use. Builders of tables the store lacks are skipped.
    custom : tuple of FeatureSpec or Derived, default=()
        Extra user-defined features (see :class:`CustomFeatures`).
    progress : bool, default=False
        Show a progress bar (tqdm) over the builders in ``transform``.

    Attributes
    ----------
    builders_ : list of (str, transformer)
        The fitted builders.
    training_cutoffs_ : dict
        Rows, first and last cutoff of the training cutoffs (kept by ck.save).
    feature_names_out_ : ndarray of str
        All output columns; names already carry their group (``usage__...``),
        so no second prefix is added.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> features = ck.ChurnFeatures(data.events).fit_transform(X)
    >>> features.index.names
    FrozenList(['customer_id', 'cutoff_time'])
    """

    def __init__(
        self,
        events=None,
        *,
        windows=("7D", "30D", "90D"),
        include=("usage", "billing", "support", "profile"),
        custom=(),
        progress=False,
    ):
        self.events = events
        self.windows = windows
        self.include = include
        self.custom = custom
        self.progress = progress

    def _make_builders(self):
        from churnkit.exceptions import ChurnkitTypeError, SchemaError

        if isinstance(self.include, str):
            raise ChurnkitTypeError(
                f"`include` must be a tuple of builder names; got {self.include!r}. "
                f"Did you mean ({self.include!r},)?"
            )
        unknown = [name for name in self.include if name not in BUILDERS]
        if unknown:
            raise SchemaError(
                f"`include` names unknown builders {unknown}; choose "
                f"from {list(BUILDERS)}."
            )
        builders = []
        for name in self.include:
            if name != "profile" and (
                self.events is not None and self.events._engine.table(name) is None
            ):
                continue  # builders of a missing table produce nothing
            params = {"events": self.events}
            if name != "profile":
                params["windows"] = self.windows
            builders.append((name, BUILDERS[name](**params)))
        if self.custom:
            builders.append(
                ("custom", CustomFeatures(self.events, specs=tuple(self.custom)))
            )
        return builders

    def fit(self, X, y=None):
        """Fit every builder on the training cutoffs ``X``."""
        self.builders_ = [(n, clone(b).fit(X, y)) for n, b in self._make_builders()]
        _, times = read_X(X)
        self.training_cutoffs_ = {
            "rows": int(len(times)),
            "first": str(pd.Timestamp(times.min())) if len(times) else None,
            "last": str(pd.Timestamp(times.max())) if len(times) else None,
            "distinct": int(len(pd.unique(times))),
        }
        names = [f for _, b in self.builders_ for f in b.get_feature_names_out()]
        self.feature_names_out_ = pd.Index(names).to_numpy(dtype=object)
        self.n_features_in_ = 2
        return self

    def transform(self, X):
        """Features of each row of ``X``, indexed by (customer_id, cutoff_time)."""
        if not hasattr(self, "builders_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        read_X(X)
        for _, builder in self.builders_:
            builder.events = self.events
        steps = self.builders_
        if self.progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="features", unit="builder", leave=False)
        parts = [b.transform(X) for _, b in steps]
        return pd.concat(parts, axis=1)

    def get_feature_names_out(self, input_features=None):
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        return self.feature_names_out_.copy()

    def describe_features(self) -> pd.DataFrame:
        """``[feature, group, unit, direction, template]`` for every output column."""
        if not hasattr(self, "builders_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        parts = [b.describe_features() for _, b in self.builders_]
        if not parts:
            return pd.DataFrame(columns=DESCRIPTION_COLUMNS)
        return pd.concat(parts, ignore_index=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def set_events(model, events):
    """Attach an Events store to a (fitted) builder, pipeline or model.

    Use it to score a newer extract with the same fitted model, or after
    :func:`churnkit.load`. Every step with an ``events`` parameter, and every
    fitted builder inside it, gets the new store; nothing is refitted.

    Returns
    -------
    model
        The same object, for chaining.
    """
    from churnkit.events import Events
    from churnkit.exceptions import ChurnkitTypeError

    if events is not None and not isinstance(events, Events):
        raise ChurnkitTypeError(
            f"`events` must be a churnkit.Events store; got {type(events).__name__}."
        )
    for est in iter_steps(model):
        if "events" in getattr(est, "__dict__", {}):
            est.events = events
    return model


def iter_steps(model):
    """Every estimator inside a model: pipeline steps, unions, fitted builders."""
    yield model
    children = []
    if hasattr(model, "steps"):
        children += [step for _, step in model.steps]
    if hasattr(model, "transformer_list"):
        children += [t for _, t in model.transformer_list]
    if hasattr(model, "builders_"):
        children += [b for _, b in model.builders_]
    for child in children:
        if hasattr(child, "get_params"):
            yield from iter_steps(child)


def describe_features(model) -> pd.DataFrame:
    """Feature descriptions of a fitted builder or of a pipeline's builder step."""
    for est in iter_steps(model):
        if (
            hasattr(est, "describe_features")
            and est is not model
            or (est is model and hasattr(model, "builders_"))
        ):
            return est.describe_features()
    raise NotFittedError(
        "No fitted feature builder found: fit the model first, or call "
        "describe_features() on a fitted builder."
    )

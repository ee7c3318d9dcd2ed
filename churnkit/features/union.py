"""ChurnFeatures (the union of the builders), set_events and describe_features."""

from __future__ import annotations

import time

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone

from churnkit._logging import get_logger
from churnkit._progress import progress_bar
from churnkit.exceptions import NotFittedError
from churnkit.features._auto_windows import (
    label_horizon,
    label_kind,
    resolve_windows,
    training_cutoffs,
)
from churnkit.features._base import DESCRIPTION_COLUMNS
from churnkit.features._contract import collect_reports, warn_unread_numbers
from churnkit.features._eligibility import check_rows
from churnkit.features._frame import read_X, shared_rows
from churnkit.features._frozen import FrozenMapping
from churnkit.features._memo import described, keep, reuse
from churnkit.features._naming import check_distinct_outputs
from churnkit.features._output import KeyedOutputMixin
from churnkit.features._reference import tenure_band, tenure_days, typical_by_band
from churnkit.features._statistics import current_statistics
from churnkit.features.billing import BillingFeatures
from churnkit.features.custom import CustomFeatures
from churnkit.features.profile import ProfileFeatures
from churnkit.features.support import SupportFeatures
from churnkit.features.usage import UsageFeatures

logger = get_logger(__name__)

__all__ = ["ChurnFeatures", "set_events", "describe_features"]

BUILDERS = {
    "usage": UsageFeatures,
    "billing": BillingFeatures,
    "support": SupportFeatures,
    "profile": ProfileFeatures,
}


class ChurnFeatures(KeyedOutputMixin, TransformerMixin, BaseEstimator):
    """All churn features: usage, billing, support and profile, side by side.

    Parameters
    ----------
    events : Events, default=None
        The event store, handed to every builder (never copied).
    windows : "auto" or tuple of str, default="auto"
        Trailing windows of the usage, billing and support builders. ``"auto"``
        chooses them at ``fit`` from the training rows: ``s = max(7 days, the
        typical gap between a customer's active days, horizon / 4)``, where the
        typical gap is the median over training rows of the customer's mean
        gap between active days before the cutoff (usage events, else billing,
        else support); the windows are about ``s``, ``12 s`` (at most a year)
        and their geometric mean, on the ladder 7, 14, 30, 60, 90, 180, 365,
        730 days. Daily activity with a 30-day horizon keeps ``("7D", "30D",
        "90D")``; quarterly buyers get ``("90D", "180D", "365D")``.
        ``windows_`` and ``window_choice_.summary()`` say what was chosen.
    horizon : str, default=None
        The label horizon ("30D", "1MS") that ``windows="auto"`` scales to.
        None reads it from the labels: ``label_churn`` and ``label_inactivity``
        record it in ``attrs["horizon"]``, which pandas keeps on ``X`` and
        ``y`` selected from them; without it only the gaps count.
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
    windows_ : tuple of str
        The windows every windowed builder used (as given, or chosen).
    window_choice_ : WindowChoice or None
        With ``windows="auto"``: what was measured and chosen;
        ``window_choice_.summary()`` is one sentence, also logged at INFO on
        the ``churnkit`` logger and kept in ``describe_features().attrs``.
    training_cutoffs_ : dict
        Rows, first and last cutoff of the training cutoffs, and the label
        horizon and kind ("label": "churn" or "inactivity", with its
        "activity_table") when the labels recorded them (kept by ck.save;
        the report reads them).
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
        windows="auto",
        horizon=None,
        include=("usage", "billing", "support", "profile"),
        custom=(),
        progress=False,
    ):
        self.events = events
        self.windows = windows
        self.horizon = horizon
        self.include = include
        self.custom = custom
        self.progress = progress

    def _make_builders(self, windows=None):
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
                params["windows"] = self.windows if windows is None else windows
            builders.append((name, BUILDERS[name](**params)))
        if self.custom:
            builders.append(
                ("custom", CustomFeatures(self.events, specs=tuple(self.custom)))
            )
        return builders

    def fit(self, X, y=None):
        """Fit every builder on the training cutoffs ``X``.

        Each builder learns its output columns (and categorical levels) from
        events before the latest cutoff in ``X``; ``training_cutoffs_`` keeps
        the number of rows and the first and last cutoff.

        Parameters
        ----------
        X : DataFrame
            Training cutoffs with columns ``customer_id`` and ``cutoff_time``
            (as from :func:`churnkit.make_cutoffs` or ``label_churn``).
        y : array-like of shape (n_samples,), default=None
            Ignored by the builders; present for the scikit-learn API.

        Returns
        -------
        self : ChurnFeatures
            The fitted transformer.
        """
        windows = self._resolve_windows(X, y)
        self.builders_ = [
            (n, clone(b).fit(X, y)) for n, b in self._make_builders(windows)
        ]
        stats = current_statistics()  # fitted on one bucket: all the rows'
        self.training_cutoffs_ = training_cutoffs(
            X, label_horizon(self.horizon, X, y), stats, label_kind(X, y)
        )
        names = [f for _, b in self.builders_ for f in b.get_feature_names_out()]
        check_distinct_outputs(names)
        self.feature_names_out_ = pd.Index(names).to_numpy(dtype=object)
        self.n_features_in_ = 2
        engine = getattr(self.events, "_engine", None)
        if engine is not None and stats is None:  # one store: a layout's buckets
            contracts = [getattr(b, "input_contract_", None) for _, b in self.builders_]
            tables = [
                n for n, _ in self.builders_ if n in ("usage", "billing", "support")
            ]
            warn_unread_numbers(engine, contracts, tables)
        return self

    def _resolve_windows(self, X, y):
        """The builders' windows: as given, or chosen once for all of them."""
        self.window_choice_ = None
        if not (isinstance(self.windows, str) and self.windows == "auto"):
            self.windows_ = (
                self.windows if isinstance(self.windows, str) else tuple(self.windows)
            )
            return self.windows
        if self.events is None:
            return self.windows  # the builders say that events are missing
        from churnkit.events import Events

        if not isinstance(self.events, Events):
            return self.windows  # the builders say what `events` must be
        ids, times = read_X(X)
        codes = self.events._engine.codes(ids, table="X")
        windows, self.window_choice_ = resolve_windows(
            "auto",
            self.events,
            codes,
            times.view("int64"),
            horizon=label_horizon(self.horizon, X, y),
            table=("usage", "billing", "support"),
        )
        self.windows_ = tuple(windows)
        return self.windows_

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on the training cutoffs ``X`` and return their features.

        Same as ``fit(X, y).transform(X)``, and also stores ``reference_``:
        the median of each feature (most frequent level for categorical ones)
        per tenure band of the training rows, which explanations use as
        "typical" for accounts of the same tenure.

        Parameters
        ----------
        X : DataFrame
            Training cutoffs with columns ``customer_id`` and ``cutoff_time``.
        y : array-like of shape (n_samples,), default=None
            Ignored by the builders; present for the scikit-learn API.
        **fit_params : dict
            Ignored; present for the scikit-learn API.

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
            As :meth:`transform`.
        """
        features = self.fit(X, y).transform(X)
        days = tenure_days(self.events, features.index)
        self.reference_ = typical_by_band(features, tenure_band(days))
        return features

    def transform(self, X):
        """Features of each row of ``X``, indexed by (customer_id, cutoff_time).

        Parameters
        ----------
        X : DataFrame
            Cutoffs with columns ``customer_id`` and ``cutoff_time``. Only
            events before each row's cutoff are used.

        Returns
        -------
        DataFrame of shape (n_samples, n_features)
            The builders' outputs side by side, rows in ``X``'s order, columns
            as in ``get_feature_names_out()``; numeric features are float64,
            categorical ones pandas Categorical with levels learned in ``fit``.
            ``attrs["feature_directions"]`` maps each column to its
            ``direction`` (see :meth:`describe_features`), which
            ``ChurnClassifier(monotone=True)`` reads.
        """
        if not hasattr(self, "builders_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        ids, times = read_X(X)
        for _, builder in self.builders_:
            builder.events = self.events
        if (out := reuse(self, ids, times)) is not None:  # explain after predict
            return out
        check_rows(self.events, ids, times)
        steps = self.builders_
        if self.progress:
            steps = progress_bar(steps, desc="features", unit="builder", leave=False)
        with collect_reports() as messages, shared_rows(X, ids, times):
            parts = []
            for name, builder in steps:
                start = time.perf_counter()
                parts.append(builder.transform(X))
                logger.debug(
                    "features: %s built %d rows x %d columns in %.3f s",
                    name,
                    *parts[-1].shape,
                    time.perf_counter() - start,
                )
        out = pd.concat(parts, axis=1)
        # each column's risk direction, read by ChurnClassifier(monotone=True)
        desc = self.describe_features()
        # immutable: pandas deep-copies attrs into every column read otherwise
        out.attrs["feature_directions"] = FrozenMapping(
            zip(desc["feature"], desc["direction"], strict=True)
        )
        keep(self, ids, times, out, messages)
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns of every builder, in output order.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        ndarray of str
            A copy of ``feature_names_out_``; names carry their group
            (``usage__events_30d``).
        """
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        return self.feature_names_out_.copy()

    def describe_features(self) -> pd.DataFrame:
        """``[feature, group, unit, direction, template, display_name]`` per column.

        Returns
        -------
        DataFrame
            One row per output column, in output order: its name, group
            (usage, billing, support, profile, or a custom feature's group,
            "custom" by default), unit, the direction
            of churn risk ("higher", "lower" or "either"), the reason-code
            template (a format string with ``{value}`` and ``{typical}``) and
            the display name shown in tables and plots ("Product events, last
            30 days").

        Examples
        --------
        >>> import churnkit as ck
        >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
        >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
        >>> features = ck.ChurnFeatures(data.events, windows=("30D",)).fit(X)
        >>> features.describe_features().columns.tolist()
        ['feature', 'group', 'unit', 'direction', 'template', 'display_name']
        """
        if not hasattr(self, "builders_"):
            raise NotFittedError(
                "This ChurnFeatures instance is not fitted yet. Call 'fit' with the "
                "training cutoffs first."
            )
        return described(self, self._describe)

    def _describe(self) -> pd.DataFrame:
        parts = [b.describe_features() for _, b in self.builders_]
        if not parts:
            out = pd.DataFrame(columns=DESCRIPTION_COLUMNS)
        else:
            out = pd.concat(parts, ignore_index=True)
        choice = getattr(self, "window_choice_", None)
        out.attrs["windows"] = tuple(getattr(self, "windows_", ()) or ())
        if choice is not None:
            out.attrs["window_choice"] = choice.summary()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def set_events(model, events, *, missing_tables=()):
    """Attach an Events store to a (fitted) builder, pipeline or model.

    Use it to score a newer extract with the same fitted model, or after
    :func:`churnkit.load`. Every step with an ``events`` parameter, and every
    fitted builder inside it, gets the new store; nothing is refitted.

    A fitted builder remembers its input contract (tables, columns and their
    kinds, vocabularies) and checks the store at ``transform``: a table it was
    fitted with and the store lacks is an error, unless named in
    ``missing_tables``.

    Parameters
    ----------
    model : estimator
        A feature builder, a pipeline containing one (as from
        :func:`churnkit.make_churn_pipeline`) or any estimator; fitted or not.
        It is changed in place.
    events : Events or None
        The store to attach; None detaches the current one.
    missing_tables : tuple of str, default=()
        Tables the model was fitted with that ``events`` may lack, to score
        without them on purpose (e.g. ``("billing",)`` when an export failed):
        their features become missing (NaN) and each ``transform`` warns with
        their names. Without it, a missing table is a ``SchemaError``.

    Returns
    -------
    model : estimator
        The same object, for chaining.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> features = ck.ChurnFeatures(data.events, windows=("30D",)).fit(X)
    >>> newer = ck.datasets.make_saas_events(n_customers=50, random_state=1)
    >>> ck.set_events(features, newer.events) is features
    True
    >>> features.events is newer.events
    True
    """
    from churnkit.events import Events
    from churnkit.exceptions import ChurnkitTypeError, SchemaError

    if events is not None and not isinstance(events, Events):
        raise ChurnkitTypeError(
            f"`events` must be a churnkit.Events store; got {type(events).__name__}."
        )
    if isinstance(missing_tables, str):
        raise ChurnkitTypeError(
            f"`missing_tables` must be a tuple of table names; got "
            f"{missing_tables!r}. Did you mean ({missing_tables!r},)?"
        )
    missing_tables = tuple(missing_tables)
    known = ("usage", "billing", "support")
    unknown = [t for t in missing_tables if t not in known]
    if unknown:
        raise SchemaError(
            f"`missing_tables` names {unknown}; only event tables {list(known)} "
            "can be scored as missing."
        )
    for est in iter_steps(model):
        if "events" in getattr(est, "__dict__", {}):
            est.events = events
            est._missing_tables = missing_tables
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
    """Feature descriptions of a fitted builder or of a pipeline's builder step.

    Parameters
    ----------
    model : estimator
        A fitted feature builder (:class:`ChurnFeatures`, ``UsageFeatures``,
        ...), or a fitted pipeline or model that contains one.

    Returns
    -------
    DataFrame
        ``[feature, group, unit, direction, template, display_name]``, one row
        per output column of the first fitted builder found (see
        :meth:`ChurnFeatures.describe_features`).

    Raises
    ------
    NotFittedError
        When ``model`` holds no fitted feature builder.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> features = ck.ChurnFeatures(data.events, windows=("30D",)).fit(X)
    >>> ck.describe_features(features)[["feature", "group"]].head(2)
                   feature  group
    0    usage__events_30d  usage
    1  usage__quantity_30d  usage
    """
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

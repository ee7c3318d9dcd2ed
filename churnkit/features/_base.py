"""The sklearn machinery shared by every feature builder."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from churnkit._memory import reuse_freed_memory
from churnkit._time import duration_label, parse_duration
from churnkit.exceptions import ChurnkitTypeError, NotFittedError, SchemaError
from churnkit.features._auto_windows import label_horizon, resolve_windows
from churnkit.features._contract import (
    check_contract,
    learn_contract,
    missing_features,
    report_once,
)
from churnkit.features._frame import (
    as_categorical,
    feature_frame,
    float_block,
    output_index,
    read_X,
)
from churnkit.features._naming import display_name, repeated
from churnkit.features._output import KeyedOutputMixin
from churnkit.features._spec import Derived, FeatureSpec, validate_spec
from churnkit.features._statistics import current_statistics, store_value_counts
from churnkit.features._windows import compute_specs

DESCRIPTION_COLUMNS = [
    "feature",
    "group",
    "unit",
    "direction",
    "template",
    "display_name",
]


def parse_windows(windows) -> list:
    """Validate ``windows``: a tuple of duration strings of at least one day."""
    if isinstance(windows, str) and windows == "auto":
        raise ChurnkitTypeError(
            '`windows="auto"` is resolved when the builder is fitted; read the '
            "chosen windows from the fitted builder's `windows_`."
        )
    if isinstance(windows, str):
        raise ChurnkitTypeError(
            f"`windows` must be a tuple of strings; got {windows!r}. Did you mean "
            f'({windows!r},)? (Or windows="auto" to choose them from the data.)'
        )
    try:
        windows = list(windows)
    except TypeError:
        raise ChurnkitTypeError(
            f"`windows` must be a tuple of strings such as ('7D', '30D'); got "
            f"{windows!r}."
        ) from None
    if not windows:
        raise SchemaError("`windows` must hold at least one window, such as ('30D',).")
    parsed = [parse_duration(w, name="windows", allow_zero=False) for w in windows]
    for raw, w in zip(windows, parsed, strict=True):
        if isinstance(w, pd.Timedelta) and w < pd.Timedelta("1D"):
            raise SchemaError(f"`windows` must each be at least one day; got {raw!r}.")
    labels = [duration_label(w) for w in parsed]
    if len(set(labels)) != len(labels):
        raise SchemaError(f"`windows` has duplicates: {windows!r}.")
    return parsed


def frequent_categories(table, column, max_cutoff, *, top, min_count=1) -> list:
    """The ``top`` most frequent values of a category column before ``max_cutoff``.

    Values seen fewer than ``min_count`` times are left out; the result keeps
    the store's category order, so columns come out in a stable order.
    """
    if table is None or column not in table.columns:
        return []
    values, counts = store_value_counts(table, column, max_cutoff)
    order = np.argsort(-counts, kind="stable")[:top]
    keep = sorted(int(i) for i in order if counts[i] >= max(min_count, 1))
    return [values[i] for i in keep]


def _check_unique_names(owner, specs) -> None:
    """Two specs with one name would make one column silently replace the other."""
    dup = repeated(s.name for s in specs)
    if dup:
        raise SchemaError(
            f"{owner}: the feature name(s) {dup[:5]} are given to more than one "
            "spec, so one column would silently replace the other. Give each "
            "FeatureSpec/Derived its own name."
        )


class WindowBuilder(KeyedOutputMixin, TransformerMixin, BaseEstimator):
    """Base class: a builder is a list of kernel specs made at ``fit``.

    Subclasses implement ``_make_specs(events, max_cutoff)`` returning specs
    and a dict of categorical features {name: table column}.
    """

    group = "custom"

    def _check_events(self):
        from churnkit.events import Events

        if self.events is None:
            raise SchemaError(
                f"{type(self).__name__} has no events: pass `events=` or attach a "
                "store to a fitted model with `ck.set_events(model, events)`."
            )
        if not isinstance(self.events, Events):
            raise ChurnkitTypeError(
                f"`events` must be a churnkit.Events store; got "
                f"{type(self.events).__name__}. Build one with ck.Events(...)."
            )
        return self.events

    def fit(self, X, y=None):
        """Learn the vocabulary (kinds, plans, categories) and the output columns.

        Only events before the latest cutoff in ``X`` are read, so the columns
        never depend on the future.

        Parameters
        ----------
        X : DataFrame
            Training cutoffs with columns ``customer_id`` and ``cutoff_time``.
        y : array-like, default=None
            Labels; read only by ``windows="auto"`` (the horizon in
            ``y.attrs``), otherwise ignored.

        Returns
        -------
        self
            The fitted builder.
        """
        events = self._check_events()
        ids, times = read_X(X)
        codes = events._engine.codes(ids, table="X")
        max_cutoff = int(times.view("int64").max()) if len(times) else 0
        stats = current_statistics()  # fitting on one bucket: the whole data's
        max_cutoff = max_cutoff if stats is None else stats.max_cutoff
        if hasattr(self, "windows"):  # "auto" is measured on the training rows
            windows, self.window_choice_ = resolve_windows(
                self.windows,
                events,
                codes,
                times.view("int64"),
                horizon=label_horizon(getattr(self, "horizon", None), X, y),
                table=self.group,
            )
            parse_windows(windows)  # clear errors for bad windows, before anything
            self.windows_ = tuple(windows)
        specs, categorical = self._make_specs(events, max_cutoff)
        for spec in specs:
            validate_spec(spec, events._engine)
        _check_unique_names(type(self).__name__, specs)
        self.specs_ = list(specs)
        self.categorical_ = categorical
        self.categories_ = {
            name: self._learn_categories(events, column, max_cutoff)
            for name, column in categorical.items()
        }
        self.input_contract_ = learn_contract(
            events, self.specs_, max_cutoff, extra_columns=categorical.values()
        )
        self.feature_names_out_ = np.asarray(
            [s.name for s in self.specs_ if s.output], dtype=object
        )
        self.n_features_in_ = 2
        return self

    def _check_contract(self, events, times) -> list[str]:
        """Check the input contract; the output features to score as missing."""
        contract = getattr(self, "input_contract_", None)
        if contract is None:  # fitted by a churnkit without contracts
            return []
        max_cutoff = int(times.view("int64").max()) if len(times) else 0
        allowed = tuple(getattr(self, "_missing_tables", ()) or ())
        missing = check_contract(
            contract, events, max_cutoff, owner=type(self).__name__, allowed=allowed
        )
        names = missing_features(self.specs_, missing) if missing else []
        if names:
            shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
            report_once(
                f"{type(self).__name__}: scoring without the table(s) "
                f"{sorted(missing)} as asked (missing_tables=...): {len(names)} "
                f"feature(s) are missing (NaN) for every row: {shown}."
            )
        return names

    def _learn_categories(self, events, column, max_cutoff):
        table_name, col = column
        table = events._engine.table(table_name)
        if table is None or col not in table.columns:
            return []
        values, counts = store_value_counts(table, col, max_cutoff)
        return [v for v, n in zip(values, counts, strict=True) if n > 0]

    @reuse_freed_memory()
    def transform(self, X):
        """Features of each (customer, cutoff) row of ``X``, in ``X``'s order.

        Parameters
        ----------
        X : DataFrame
            Cutoffs with columns ``customer_id`` and ``cutoff_time``; only
            events strictly before each row's cutoff are read.

        Returns
        -------
        DataFrame
            Indexed by (``customer_id``, ``cutoff_time``); numeric features are
            float64, categorical ones pandas Categorical with the categories
            learned in ``fit``.
        """
        self._check_fitted()
        events = self._check_events()
        self._check_specs(events)
        ids, times = read_X(X)
        codes = events._engine.codes(ids, table="X")
        absent = set(self._check_contract(events, times))
        outputs = [s for s in self.specs_ if s.output]
        block, out = float_block(
            [s.name for s in outputs if s.name not in self.categorical_], len(ids)
        )
        values = compute_specs(
            events._engine, self.specs_, codes, times.view("int64"), out
        )
        columns = {}
        for spec in outputs:
            if spec.name in self.categorical_:
                columns[spec.name] = self._as_category(events, spec, values[spec.name])
                if spec.name in absent:
                    columns[spec.name] = as_categorical(
                        [None] * len(ids), self.categories_[spec.name]
                    )
            else:
                columns[spec.name] = values[spec.name]
                if spec.name in absent:
                    columns[spec.name] = np.full(len(ids), np.nan)
        return feature_frame(columns, output_index(ids, times), block)

    def _as_category(self, events, spec, codes):
        table_name, col = self.categorical_[spec.name]
        table = events._engine.table(table_name)
        cats = self.categories_[spec.name]
        if table is None:
            return as_categorical([None] * len(codes), cats)
        store_cats = np.asarray(list(table.categories[col]) + [None], dtype=object)
        codes = np.where(codes >= 0, codes, len(store_cats) - 1).astype(np.int64)
        return as_categorical(store_cats[codes], cats)

    def _check_specs(self, events):
        """The store attached now must have the columns the specs were fit on."""
        for spec in self.specs_:
            try:
                validate_spec(spec, events._engine)
            except SchemaError as exc:
                raise SchemaError(
                    f"{type(self).__name__} was fitted on an Events store with a "
                    f"column the store attached now lacks: {exc} Give the new "
                    "extract the same columns as the training one, or refit."
                ) from None

    def _check_fitted(self):
        if not hasattr(self, "specs_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with the training cutoffs first."
            )

    def get_feature_names_out(self, input_features=None):
        """Output column names, ``group__what_window``.

        Parameters
        ----------
        input_features : None
            Ignored: the columns come from the event store, not from ``X``.

        Returns
        -------
        ndarray of str
            One name per output column, in the order of :meth:`transform`.
        """
        self._check_fitted()
        return self.feature_names_out_.copy()

    def describe_features(self) -> pd.DataFrame:
        """``[feature, group, unit, direction, template, display_name]`` per column.

        ``template`` is a format string with ``{value}`` (the account's value)
        and ``{typical}`` (a reference such as the population median);
        ``display_name`` is the short name shown in tables and plots.

        Returns
        -------
        DataFrame
            One row per output column, in the order of :meth:`transform`.
        """
        self._check_fitted()
        choice = getattr(self, "window_choice_", None)
        rows = [
            {
                "feature": s.name,
                "group": s.group or self.group,
                "unit": s.unit,
                "direction": s.direction,
                "template": s.template,
                "display_name": s.display_name or display_name(s.template, s.name),
            }
            for s in self.specs_
            if s.output
        ]
        out = pd.DataFrame(rows, columns=DESCRIPTION_COLUMNS)
        if hasattr(self, "windows_"):
            out.attrs["windows"] = self.windows_
        if choice is not None:
            out.attrs["window_choice"] = choice.summary()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


__all__ = [
    "WindowBuilder",
    "FeatureSpec",
    "Derived",
    "parse_windows",
]

"""Profile features: tenure, static customer attributes and signup cohort."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit._time import is_date_column
from churnkit.events._notices import has_notices
from churnkit.exceptions import DataQualityWarning
from churnkit.features._base import WindowBuilder
from churnkit.features._naming import unique_slugs, words
from churnkit.features._spec import FeatureSpec
from churnkit.features._statistics import current_statistics

__all__ = ["ProfileFeatures", "COHORT"]

#: the signup quarter feature ("2024Q1"): ordered in time, so a model meets
#: cohorts later than its training rows' at every scoring of new signups
COHORT = "profile__signup_cohort"
NOTICE = "profile__cancellation_notice"  # a notice given before the cutoff

# a date attribute that is a birth date: read as an age in years
_BIRTH = re.compile(r"birth|\bdob\b|^dob|dob$", re.IGNORECASE)
#: an attribute with a value for (nearly) every customer names them
NAMING_SHARE, MIN_NAMING = 0.9, 20
# a number that names a year (birth_year, YearBuilt): no thousands separator
_YEAR = re.compile(r"year", re.IGNORECASE)
# numbers that are codes, not quantities: district_id, zip, postcode
_CODE = re.compile(r"(?:^|[_\s])(?:id|code|zip|zipcode|postcode)$|[a-z](?:ID|Id|Code)$")


def is_code(column) -> bool:
    """Whether a numeric attribute is a code (a category), by its name:
    ``district_id``, ``DistrictID``, ``zip``, ``branch code``. A median of
    codes ("District 2 (typical: 40)") means nothing.

    >>> [is_code(c) for c in ("district_id", "DistrictID", "zip", "paid", "seats")]
    [True, True, True, False, False]
    """
    return bool(_CODE.search(str(column).strip()) or str(column).lower() == "zip")


def _date_spec(name: str, col) -> FeatureSpec:
    """A date attribute's feature: the days from the date to the cutoff, or
    for a birth date the age in years."""
    said = words(str(col))
    if _BIRTH.search(str(col)):
        unit, text = "years", f"age from {said}: {{value:,.0f}} years"
    else:
        unit, text = "days", f"{said}: {{value:,.0f}} days ago"
    return FeatureSpec(
        f"{name}_{unit}",
        "customers",
        "attribute",
        column=col,
        unit=unit,
        direction="either",
        template=text + f" (typical: {{typical:,.0f}} {unit})",
    )


def attribute_text(series: pd.Series, *, cohort: bool = False) -> np.ndarray:
    """A customer attribute as the text levels ProfileFeatures uses (None when
    missing); ``cohort``: signup times as their quarter ("2024Q1")."""
    if cohort:
        return series.dt.to_period("Q").astype(str).to_numpy()
    if (
        pd.api.types.is_float_dtype(series)
        and ((series % 1 == 0) | series.isna()).all()
    ):
        series = series.astype("Int64")  # a code read as float: 40, not 40.0
    values = series.astype(object).to_numpy()
    return np.where(pd.isna(values), None, values.astype(str))


class ProfileFeatures(WindowBuilder):
    """Tenure at each cutoff plus the customers table's static attributes.

    Parameters
    ----------
    events : Events, default=None
        The event store.
    attributes : tuple of str or "auto", default="auto"
        Columns of ``events.customers`` to use; "auto" takes every column but
        ``customer_id`` and ``signup_time``, in order of their names (so the
        input's column order never changes the features), and leaves out,
        with a warning, text or code columns with a value for nine customers
        in ten or more (a name, an id: they name customers, not describe
        them). Numeric ones become float64 (codes such as ``district_id``:
        categories); dates (datetime columns, or text that reads as dates)
        become ``profile__<name>_days``, the days from the date to the
        cutoff, and a birth date (a name with "birth" or "dob")
        ``profile__<name>_years``, the age at the cutoff; the others become
        pandas Categoricals.
    cohort : bool, default=True
        Add ``profile__signup_cohort``, the signup quarter as a category.
    max_categories : int, default=50
        Categories beyond the most frequent ``max_categories`` become missing,
        so high-cardinality attributes (free text, ids) cannot explode.

    Notes
    -----
    Customer attributes are treated as time-invariant; what changes over time
    (plan, seats, MRR) should come from billing, as of the cutoff.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> profile = ck.ProfileFeatures(data.events).fit_transform(X)
    >>> profile.dtypes.astype(str).to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'profile__tenure_days': 'float64', 'profile__plan': 'category',
     'profile__region': 'category', 'profile__seats': 'float64',
     'profile__segment': 'category', 'profile__signup_cohort': 'category'}
    """

    group = "profile"

    def __init__(
        self, events=None, *, attributes="auto", cohort=True, max_categories=50
    ):
        self.events = events
        self.attributes = attributes
        self.cohort = cohort
        self.max_categories = max_categories

    def _attribute_columns(self, events):
        customers = events.customers
        if isinstance(self.attributes, str) and self.attributes == "auto":
            # sorted by name: the input's column order never changes the model
            return sorted(
                (
                    c
                    for c in customers.columns
                    if c not in ("customer_id", "signup_time")
                ),
                key=str,
            )
        missing = [c for c in self.attributes if c not in customers]
        if missing:
            from churnkit.exceptions import SchemaError

            raise SchemaError(
                f"`attributes` names {missing}, which customers does not have; it has "
                f"{list(customers.columns)}."
            )
        return list(self.attributes)

    def _make_specs(self, events, max_cutoff):
        specs = [
            FeatureSpec(
                "profile__tenure_days",
                "customers",
                "tenure_days",
                unit="days",
                direction="lower",
                template="customer for {value:,.0f} days (typical: {typical:,.0f})",
            )
        ]
        if has_notices(events._engine):  # subscriptions with a cancel_time
            specs.append(
                FeatureSpec(
                    NOTICE,
                    "customers",
                    "notice_given",
                    unit="flag",
                    direction="higher",
                    template="cancellation notice given: {value}",
                    display_name="Cancellation notice given",
                )
            )
        self._categorical_attributes = {}
        customers = events.customers
        columns = self._attribute_columns(events)
        slugs = unique_slugs(
            columns, reserved=("tenure_days", "signup_cohort", "cancellation_notice")
        )
        for col in columns:
            name = f"profile__{slugs[col]}"
            if is_date_column(customers[col]):  # birth date, contract start
                specs.append(_date_spec(name, col))
            elif (
                pd.api.types.is_numeric_dtype(customers[col])
                and not pd.api.types.is_bool_dtype(customers[col])
                and not is_code(col)
            ):
                # a year reads 1967, not 1,967
                value = "{value:.0f}" if _YEAR.search(str(col)) else "{value:,.0f}"
                specs.append(
                    FeatureSpec(
                        name,
                        "customers",
                        "attribute",
                        column=col,
                        unit=col,
                        direction="either",
                        template=f"{words(str(col))} {value} (typical: "
                        + value.replace("value", "typical")
                        + ")",
                    )
                )
            elif self._names_customers(customers, col):
                continue  # an identifier: a level per customer, counted aloud
            else:
                specs.append(
                    FeatureSpec(
                        name,
                        "customers",
                        "attribute",
                        column=col,
                        unit="category",
                        direction="either",
                        template=f"{col}: {{value}}",
                    )
                )
                self._categorical_attributes[name] = col
        if self.cohort:
            specs.append(
                FeatureSpec(
                    COHORT,
                    "customers",
                    "attribute",
                    column="signup_time",
                    unit="category",
                    direction="either",
                    template="signed up in {value}",
                )
            )
            self._categorical_attributes[COHORT] = None
        return specs, {}

    def _names_customers(self, customers, col) -> bool:
        """Whether a text (or code) attribute names customers rather than
        describing them: as many values as customers (9 in 10 or more, with
        20 customers or more), such as an account name. Left out of "auto"
        attributes with a warning; kept when named in ``attributes``."""
        if not (isinstance(self.attributes, str) and self.attributes == "auto"):
            return False
        stats = current_statistics()  # fitted on one bucket: all customers'
        if stats is not None:
            counts = stats.attribute_counts(col)
            distinct, n = len(counts), int(counts.sum())
        else:
            distinct, n = customers[col].nunique(), int(customers[col].notna().sum())
        if n < MIN_NAMING or distinct < NAMING_SHARE * n:
            return False
        warn(
            f"customers.{col}: {distinct:,} distinct values for {n:,} customers: "
            "it names customers rather than describing them (a name, an id), "
            "so it is left out of the features; a model would learn who churned, "
            "not why. Pass `attributes=[...]` naming it to keep it.",
            DataQualityWarning,
        )
        return True

    def fit(self, X, y=None):
        """Learn the output columns and the levels of each categorical attribute.

        Levels are the ``max_categories`` most frequent values of each
        attribute (signup quarters for the cohort) over all customers.

        Parameters
        ----------
        X : DataFrame
            Training cutoffs with columns ``customer_id`` and ``cutoff_time``.
        y : None
            Ignored; present for the scikit-learn API.

        Returns
        -------
        self : ProfileFeatures
            The fitted builder.
        """
        super().fit(X, y)
        events = self.events
        self.attribute_categories_ = {}
        stats = current_statistics()  # fitted on one bucket: all customers'
        for name, col in self._categorical_attributes.items():
            if stats is not None:
                counts = stats.attribute_counts(col)
            else:
                values = self._raw_values(events, name, col)
                counts = pd.Series(values).value_counts(dropna=True)
            kept = counts.index[: self.max_categories]
            self.attribute_categories_[name] = sorted(map(str, kept))
            if col is not None:
                self.input_contract_["customer_vocabularies"] = {
                    **self.input_contract_.get("customer_vocabularies", {}),
                    col: tuple(sorted(map(str, counts.index))),
                }
        return self

    def _report_unseen_attributes(self, raws: dict) -> None:
        """Count rows whose attribute value was never seen in training.

        ``raws``: each categorical attribute's text of the rows scored.
        """
        from churnkit.features._contract import report_once, unseen_message

        contract = getattr(self, "input_contract_", None) or {}
        for name, col in self._categorical_attributes.items():
            vocab = contract.get("customer_vocabularies", {}).get(col)
            if vocab is None:
                continue
            raw = raws[name]
            present = pd.notna(raw)
            unseen = present & (pd.Index(vocab).get_indexer(raw) < 0)
            if unseen.any():
                values, counts = np.unique(raw[unseen].astype(str), return_counts=True)
                report_once(
                    unseen_message(
                        f"customers.{col}",
                        list(values),
                        counts,
                        unit="rows",
                        consequence=f"{name} is missing (NaN) for those rows",
                    )
                )

    def _raw_values(self, events, name, col, codes=None):
        """One attribute as text (None when missing), of customers ``codes``.

        All customers when ``codes`` is None. Batches smaller than the store
        convert their own rows only, so scoring one account costs one row
        whatever the number of customers.
        """
        customers = events.customers
        series = customers["signup_time" if col is None else col]
        take_first = codes is not None and len(codes) < len(customers)
        if take_first:
            series = series.iloc[codes]
        out = attribute_text(series, cohort=col is None)
        return out if take_first or codes is None else out[codes]

    def transform(self, X):
        """Profile features of each (customer, cutoff) row of ``X``, in its order.

        Parameters
        ----------
        X : DataFrame
            Cutoffs with columns ``customer_id`` and ``cutoff_time``.

        Returns
        -------
        DataFrame
            Indexed by (``customer_id``, ``cutoff_time``); tenure and numeric
            attributes are float64, the others pandas Categorical with the
            levels learned in ``fit`` (other values become missing).
        """
        self._check_fitted()
        events = self._check_events()
        self._check_specs(events)
        from churnkit.features._frame import (
            as_categorical,
            feature_frame,
            output_index,
            read_X,
        )
        from churnkit.features._windows import compute_specs

        ids, times = read_X(X)
        codes = events._engine.codes(ids, table="X")
        self._check_contract(events, times)
        raws = {  # each attribute's text of these rows, read once
            name: self._raw_values(events, name, col, codes)
            for name, col in self._categorical_attributes.items()
        }
        self._report_unseen_attributes(raws)
        numeric = [s for s in self.specs_ if s.name not in self.attribute_categories_]
        values = compute_specs(events._engine, numeric, codes, times.view("int64"))
        columns = {}
        for spec in self.specs_:
            name = spec.name
            if name in self.attribute_categories_:
                columns[name] = as_categorical(
                    raws[name], self.attribute_categories_[name]
                )
            else:
                columns[name] = values[name].astype(np.float64, copy=False)
        return feature_frame(columns, output_index(ids, times))

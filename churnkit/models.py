"""ChurnClassifier: one estimator for churn, preprocessing and calibration included.

``ChurnClassifier(model="xgboost")`` takes the feature table (builder output or a
user's own customer table), prepares it for the chosen base model, fits the base
model, and calibrates its log-odds on a later hold-out. It follows the
scikit-learn estimator contract, so it works in ``Pipeline``, ``clone``,
``cross_validate`` and ``GridSearchCV``.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from churnkit.exceptions import (
    ChurnkitTypeError,
    ChurnkitWarning,
    NotFittedError,
    SchemaError,
)

__all__ = ["ChurnClassifier"]

#: Booster settings for churn-sized tabular data (thousands to millions of rows,
#: tens to hundreds of features). Shallow trees keep TreeSHAP cheap and the model
#: smooth; the learning rate is low enough that early stopping, not the number of
#: rounds, decides the fit. Chosen a priori, never tuned on benchmark folds.
XGBOOST_PARAMS = {
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 1.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "tree_method": "hist",
    "eval_metric": "logloss",
}
MAX_ROUNDS = 500  # upper bound on boosting rounds
EARLY_STOPPING_ROUNDS = 50  # stop after this many rounds without hold-out gain
FALLBACK_ROUNDS = 100  # rounds used when no hold-out can be split off

MIN_CLASS_HOLDOUT = 10  # rows of each class, in hold-out and rest, to hold out
MIN_CLASS_CALIBRATION = 50  # rows of each class in the hold-out to calibrate

MIN_FREQUENCY = 10  # a category level needs this many rows at fit ...
MAX_CATEGORIES = 100  # ... and to be among this many most frequent levels
INFREQUENT = "(infrequent)"  # the level that collects the other ones

TEXT_NUMBER_SHARE = 0.9  # text columns whose values parse as numbers this often
LEAK_AUC = 0.99  # single-feature ROC-AUC above this (or below 1 - this) warns
_MIN_CLASS_LEAK = 10  # rows of each class needed before checking for leaks
_LEAK_MAX_ROWS = 100_000  # rows sampled for the leak check

_MODELS = ("xgboost", "logistic")
_CALIBRATIONS = ("sigmoid", "isotonic", None)
_CUTOFF_LEVEL = "cutoff_time"


class _NotFittedError(NotFittedError, _SklearnNotFittedError):
    """churnkit's NotFittedError that scikit-learn also recognises as its own."""


# --------------------------------------------------------------------------- #
# Table preparation: one dtype per column, categories fixed at fit
# --------------------------------------------------------------------------- #
class TablePrep(TransformerMixin, BaseEstimator):
    """Turn a customer table into float64 numerics and fixed-level categoricals.

    This is the first step of :attr:`ChurnClassifier.preprocessor_`; for
    ``model="xgboost"`` it is the whole preprocessor.

    Parameters
    ----------
    min_frequency : int, default=10
        A category level is kept when it has at least this many rows at fit.
    max_categories : int, default=100
        At most this many levels (the most frequent) are kept per column; the
        other levels seen at fit are merged into one level, ``"(infrequent)"``.

    Attributes
    ----------
    numeric_columns_ : list of str
        Columns output as float64 (numbers, bools, numbers stored as text).
    categorical_columns_ : list of str
        Columns output as pandas Categorical.
    categories_ : dict of str to list of str
        The levels of each categorical column, fixed at fit.
    notes_ : list of str
        What was converted for you (numbers read from text, identifier-like
        columns); :class:`ChurnClassifier` turns them into warnings.

    Notes
    -----
    Rules, learned at fit and applied unchanged at transform:

    - numbers and bools become float64, missing values NaN;
    - a text column is read as numbers when at least 90% of its non-missing
      values parse (after stripping blanks); the others become NaN and a note
      says how many;
    - other text columns and pandas Categorical columns become categorical: their
      values as strings, levels kept by ``min_frequency``/``max_categories``;
      rarer levels map to ``"(infrequent)"``; unseen levels at transform map to
      ``"(infrequent)"`` when that level exists and to NaN (missing) otherwise;
    - datetime and timedelta columns are an error (turn them into numbers first);
      infinite values are an error at fit and transform.
    """

    def __init__(self, *, min_frequency=MIN_FREQUENCY, max_categories=MAX_CATEGORIES):
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y=None) -> TablePrep:
        """Learn the type of each column and the levels of categorical ones.

        Parameters
        ----------
        X : DataFrame
            The feature table, string column names.
        y : None
            Ignored.

        Returns
        -------
        self : TablePrep
        """
        numeric, categorical, categories, notes = [], [], {}, []
        text_numbers = []
        for col in X.columns:
            kind, note = _column_kind(X[col], col)
            if note:
                notes.append(note)
            if kind == "numeric":
                numeric.append(col)
                if note:
                    text_numbers.append(col)
                continue
            categorical.append(col)
            categories[col] = self._levels(X[col], col, notes)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(X.columns)
        self.numeric_columns_ = numeric
        self.categorical_columns_ = categorical
        self.categories_ = categories
        self.notes_ = notes
        self._text_numbers = text_numbers
        return self

    def _levels(self, series: pd.Series, col: str, notes: list) -> list:
        counts = _as_text(series).value_counts(dropna=True)
        if len(counts) == len(series) and len(series) >= 20:
            notes.append(
                f"Column `{col}` has a different value in every row: it looks like "
                "an identifier and carries no signal. Drop it or move it to the "
                "index."
            )
        counts = counts.sort_index(kind="stable").sort_values(
            ascending=False, kind="stable"
        )
        kept = counts[counts >= self.min_frequency].index[: self.max_categories]
        levels = sorted(str(v) for v in kept)
        if len(levels) < len(counts):
            levels.append(INFREQUENT)
        return levels

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted column types and levels.

        Parameters
        ----------
        X : DataFrame
            Same columns as at fit.

        Returns
        -------
        DataFrame
            Indexed like ``X``: numeric columns float64, categorical columns
            pandas Categorical with the levels of ``categories_``.
        """
        names = list(self.feature_names_in_)
        # A shallow copy: float64 columns need no conversion and stay shared
        # with X (copy-on-write), so a large feature block is not copied.
        frame = X.copy(deep=False) if list(X.columns) == names else X.loc[:, names]
        text_numbers = getattr(self, "_text_numbers", ())
        for col in names:
            series = X[col]
            if col in self.categories_:
                frame[col] = _to_categorical(series, self.categories_[col])
            elif series.dtype != np.float64:
                values = _to_float(series, col)
                _warn_unread(series, values, col, text_numbers)
                frame[col] = values
        _check_finite(frame, self.numeric_columns_)
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: the input names, unchanged."""
        return self.feature_names_in_.copy()


def _column_kind(series: pd.Series, col: str) -> tuple[str, str | None]:
    """Return ("numeric" | "categorical", note or None) for one column."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", None
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric", None
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        raise SchemaError(_datetime_message(col, dtype))
    if pd.api.types.is_complex_dtype(dtype):
        raise SchemaError(f"Column `{col}` holds complex numbers; not supported.")
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric", None
    values = series.dropna()
    if len(values) == 0:
        return "numeric", None
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "boolean"):
        return "numeric", None
    if inferred in ("datetime64", "datetime", "date", "timedelta", "period"):
        raise SchemaError(_datetime_message(col, inferred))
    parsed = _parse_text_numbers(values)
    n_read = int(parsed.notna().sum())
    if n_read < TEXT_NUMBER_SHARE * len(values):
        return "categorical", None
    bad = values[parsed.isna()]
    examples = ", ".join(repr(v) for v in pd.unique(bad)[:3])
    note = (
        f"Column `{col}` holds numbers stored as text; it was converted to "
        f"numbers. {len(bad)} of {len(values)} non-missing values could not be "
        "read and are treated as missing"
        + (f" (e.g. {examples})" if len(bad) else "")
        + ". Convert it yourself (pd.to_numeric) to silence this warning, or pass "
        "it as a pandas Categorical to keep it categorical."
    )
    return "numeric", note


def _datetime_message(col, dtype) -> str:
    hint = (
        " If it is the cutoff time, move it to the index: "
        "X.set_index(['customer_id', 'cutoff_time'])."
        if col == _CUTOFF_LEVEL
        else ""
    )
    return (
        f"Column `{col}` holds dates or durations ({dtype}); the model needs "
        "numbers. Turn it into a number first, e.g. days since signup: "
        f"(cutoff - X['{col}']).dt.days.{hint}"
    )


def _parse_text_numbers(values: pd.Series) -> pd.Series:
    text = values.astype(object).map(str).str.strip()
    return pd.to_numeric(text, errors="coerce")


def _as_text(series: pd.Series) -> pd.Series:
    """Non-missing values as str, missing as NaN (object dtype)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.cat.categories.map(str)
        return pd.Series(
            np.asarray(cats, dtype=object)[series.cat.codes.to_numpy()],
            index=series.index,
            dtype=object,
        ).where(series.cat.codes.to_numpy() >= 0)
    values = series.astype(object)
    mask = values.notna().to_numpy()
    out = np.full(len(values), np.nan, dtype=object)
    out[mask] = values[mask].map(str).to_numpy()
    return pd.Series(out, index=series.index, dtype=object)


def _to_categorical(series: pd.Series, levels: list) -> pd.Categorical:
    text = _as_text(series)
    codes = pd.Index(levels, dtype=object).get_indexer(text)
    if INFREQUENT in levels:
        codes[text.notna().to_numpy() & (codes < 0)] = levels.index(INFREQUENT)
    return pd.Categorical.from_codes(codes, categories=levels)


def _to_float(series: pd.Series, col: str) -> np.ndarray:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
        and not pd.api.types.is_complex_dtype(dtype)
    ):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        raise SchemaError(_datetime_message(col, dtype))
    values = series.astype(object)
    mask = values.notna().to_numpy()
    out = np.full(len(values), np.nan)
    if mask.any():
        present = values[mask]
        bools = present.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy()
        present = present.where(~bools, present[bools].astype(float))
        out[mask] = _parse_text_numbers(present).to_numpy(dtype="float64")
    return out


def _warn_unread(series: pd.Series, values: np.ndarray, col: str, text_cols) -> None:
    """Warn when a column numeric at fit holds text that is not a number now.

    Columns already read from text at fit were reported by a note then.
    """
    if col in text_cols or pd.api.types.is_numeric_dtype(series.dtype):
        return
    unread = np.isnan(values) & series.notna().to_numpy()
    if not unread.any():
        return
    shown = ", ".join(repr(v) for v in pd.unique(series[unread])[:3])
    warnings.warn(
        f"Column `{col}` held numbers at fit, but {int(unread.sum())} of "
        f"{len(series)} value(s) here are not numbers (e.g. {shown}); they are "
        "treated as missing. Convert the column with pd.to_numeric first.",
        ChurnkitWarning,
        stacklevel=4,
    )


def _check_finite(frame: pd.DataFrame, columns: list) -> None:
    if not columns:
        return
    values = frame[columns].to_numpy(dtype="float64")
    bad = np.isinf(values)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad.any(axis=0))[0])
    rows = frame.index[bad[:, j]]
    raise SchemaError(
        f"Column `{columns[j]}` contains infinite values (inf) in "
        f"{int(bad[:, j].sum())} row(s), e.g. at index {list(rows[:3])}. Replace "
        "them with NaN (missing) or a finite value."
    )


# --------------------------------------------------------------------------- #
# Encoders for dense models (logistic regression, user estimators)
# --------------------------------------------------------------------------- #
def _make_encoder(numeric: list, categorical: list) -> ColumnTransformer:
    transformers = []
    if numeric:
        num = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(
                        strategy="median", add_indicator=True, keep_empty_features=True
                    ),
                ),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("num", num, list(numeric)))
    if categorical:
        ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers.append(("cat", ohe, list(categorical)))
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def _fit_encoder(Xp: pd.DataFrame, prep: TablePrep) -> ColumnTransformer:
    enc = _make_encoder(prep.numeric_columns_, prep.categorical_columns_)
    enc.set_output(transform="pandas")
    try:
        enc.fit(Xp)
    except ValueError as exc:  # two output names collide: keep the prefixes
        if "not unique" not in str(exc):
            raise
        enc.set_params(verbose_feature_names_out=True).fit(Xp)
    return enc


def _encoder_sources(enc: ColumnTransformer) -> list:
    """User feature of each output column of a fitted encoder, in order."""
    sources = []
    for name, trans, cols in enc.transformers_:
        if name == "num":
            sources += list(cols)
            indicator = trans.named_steps["impute"].indicator_
            if indicator is not None:
                sources += [cols[i] for i in indicator.features_]
        elif name == "cat":
            for col, levels in zip(cols, trans.categories_, strict=True):
                sources += [col] * len(levels)
    return sources


# --------------------------------------------------------------------------- #
# Calibrators: map the base model's margin to a probability
# --------------------------------------------------------------------------- #
class SigmoidCalibrator(BaseEstimator):
    """Platt scaling of a margin: ``p = expit(slope_ * margin + intercept_)``.

    Fitted by maximum likelihood with Platt's smoothed targets
    (``(n1 + 1) / (n1 + 2)`` and ``1 / (n0 + 2)``), which keeps the fit finite on
    separable hold-outs, and ``slope_ >= 0``, so it never reverses the ranking
    of the base model.

    Attributes
    ----------
    slope_ : float
        Multiplies the base model's log-odds.
    intercept_ : float
        Added after scaling: the calibrated log-odds are
        ``slope_ * margin + intercept_``, an affine function of the margin.
    """

    def fit(self, margin, y) -> SigmoidCalibrator:
        """Fit on hold-out margins and 0/1 labels."""
        m = np.asarray(margin, dtype="float64")
        y = np.asarray(y, dtype="float64")
        n1 = y.sum()
        n0 = len(y) - n1
        t = np.where(y == 1, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))

        def loss(params):
            z = params[0] * m + params[1]
            value = np.sum(np.logaddexp(0, z) - t * z)
            residual = expit(z) - t
            return value, np.array([residual @ m, residual.sum()])

        result = minimize(
            loss,
            x0=[1.0, 0.0],
            jac=True,
            method="L-BFGS-B",
            bounds=[(0, None), (None, None)],
        )
        self.slope_, self.intercept_ = (float(v) for v in result.x)
        return self

    def predict(self, margin) -> np.ndarray:
        """Calibrated probability of each margin."""
        return expit(
            self.slope_ * np.asarray(margin, dtype="float64") + self.intercept_
        )


class IsotonicCalibrator(BaseEstimator):
    """Isotonic (monotone step) map from margin to probability.

    Probabilities are clipped to ``[1 / (n + 2), 1 - 1 / (n + 2)]``, with ``n``
    the hold-out size: a hold-out of ``n`` rows cannot justify a probability of
    exactly 0 or 1.

    Attributes
    ----------
    isotonic_ : sklearn.isotonic.IsotonicRegression
        The fitted step function (margins outside the hold-out range are clipped).
    clip_ : float
        The clipping bound ``1 / (n + 2)``.
    """

    def fit(self, margin, y) -> IsotonicCalibrator:
        """Fit on hold-out margins and 0/1 labels."""
        m = np.asarray(margin, dtype="float64")
        self.isotonic_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        self.isotonic_.fit(m, np.asarray(y, dtype="float64"))
        self.clip_ = 1.0 / (len(m) + 2)
        return self

    def predict(self, margin) -> np.ndarray:
        """Calibrated probability of each margin."""
        p = self.isotonic_.predict(np.asarray(margin, dtype="float64").ravel())
        return np.clip(p, self.clip_, 1 - self.clip_)


# --------------------------------------------------------------------------- #
# Hold-out selection
# --------------------------------------------------------------------------- #
@dataclass
class _Holdout:
    train: np.ndarray  # positions of the rows the base model is fit on
    hold: np.ndarray  # positions of the hold-out rows
    kind: str  # "latest_cutoffs" | "stratified_random"
    cutoffs: list  # the hold-out cutoffs (latest_cutoffs only)


def _as_range(rows: np.ndarray):
    """``rows`` as a slice when they are consecutive positions, else as given."""
    rows = np.asarray(rows)
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all():
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _canonical_order(index: pd.Index) -> np.ndarray | None:
    """Positions that sort the rows by index (cutoff time first), or None.

    Fitting in this order makes the model independent of the row order of X
    (xgboost's row sampling and floating-point sums follow the row order).
    None when the rows are already in order or the index cannot be sorted.
    """
    names = list(index.names)
    levels = list(range(index.nlevels))
    if _CUTOFF_LEVEL in names:  # primary key: cutoff time, as make_cutoffs orders
        levels.remove(names.index(_CUTOFF_LEVEL))
        levels.insert(0, names.index(_CUTOFF_LEVEL))
    try:
        keys = [
            pd.factorize(index.get_level_values(i), sort=True)[0]
            for i in reversed(levels)
        ]
    except TypeError:  # ids of mixed types: keep the given order
        return None
    order = np.lexsort(keys)
    if (order == np.arange(len(order))).all():
        return None
    return order


def _cutoff_codes(index: pd.Index):
    """(codes, sorted unique cutoffs) of the cutoff_time level, or None."""
    names = list(index.names) if index.names is not None else []
    if _CUTOFF_LEVEL not in names:
        return None
    values = index.get_level_values(_CUTOFF_LEVEL)
    codes, uniques = pd.factorize(values, sort=True)
    if (codes < 0).any():
        rows = index[codes < 0][:3]
        raise SchemaError(
            f"The `{_CUTOFF_LEVEL}` index level has {int((codes < 0).sum())} missing "
            f"value(s), e.g. at {list(rows)}. Every row needs its cutoff time."
        )
    return codes, uniques


def _choose_holdout(index, y01, fraction, seed) -> tuple[_Holdout | None, str]:
    """Split off the hold-out; return (None, reason) when it would be too small."""
    n = len(y01)
    coded = _cutoff_codes(index)
    if coded is not None and len(coded[1]) >= 2:
        codes, uniques = coded
        per_cutoff = np.bincount(codes, minlength=len(uniques))
        from_latest = np.cumsum(per_cutoff[::-1])
        k = int(np.searchsorted(from_latest, fraction * n)) + 1
        k = min(k, len(uniques) - 1)
        hold_mask = codes >= len(uniques) - k
        split = _Holdout(
            np.flatnonzero(~hold_mask),
            np.flatnonzero(hold_mask),
            "latest_cutoffs",
            list(uniques[len(uniques) - k :]),
        )
    else:
        expected = np.floor(np.bincount(y01, minlength=2) * fraction)
        if expected.min() < MIN_CLASS_HOLDOUT:
            return None, _too_few("hold-out", expected, MIN_CLASS_HOLDOUT)
        train, hold = train_test_split(
            np.arange(n), test_size=fraction, stratify=y01, random_state=seed
        )
        split = _Holdout(np.sort(train), np.sort(hold), "stratified_random", [])
    for part, rows in (("hold-out", split.hold), ("training part", split.train)):
        counts = np.bincount(y01[rows], minlength=2)
        if counts.min() < MIN_CLASS_HOLDOUT:
            return None, _too_few(part, counts, MIN_CLASS_HOLDOUT)
    return split, ""


def _too_few(part, counts, minimum) -> str:
    return (
        f"the {part} would have {int(counts[1])} rows of the positive class and "
        f"{int(counts[0])} of the negative class; at least {minimum} of each are "
        "needed"
    )


# --------------------------------------------------------------------------- #
# Leak check
# --------------------------------------------------------------------------- #
def _single_feature_auc(frame: pd.DataFrame, y01: np.ndarray) -> pd.Series:
    """ROC-AUC of each column alone, NaN rows skipped, ties counted half.

    This is the Mann-Whitney rank-sum statistic, computed per distinct value
    (positives at a value times negatives below it, plus half the ties), on
    at most ``_LEAK_MAX_ROWS`` rows drawn with a fixed seed: plenty to tell
    0.99 from chance, and it keeps the check fast on millions of rows.
    """
    positive = y01.astype(bool)
    if len(frame) > _LEAK_MAX_ROWS:
        rows = np.sort(
            np.random.default_rng(0).choice(len(frame), _LEAK_MAX_ROWS, False)
        )
        frame, positive = frame.iloc[rows], positive[rows]
    values = frame.to_numpy(dtype="float64")
    auc = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        present = ~np.isnan(values[:, j])
        pos_j = positive[present]
        n1 = int(pos_j.sum())
        n0 = len(pos_j) - n1
        if min(n1, n0) < _MIN_CLASS_LEAK:
            continue
        _, level = np.unique(values[present, j], return_inverse=True)
        pos = np.bincount(level, weights=pos_j)
        neg = np.bincount(level) - pos
        below = np.cumsum(neg) - neg
        auc[j] = pos @ (below + 0.5 * neg) / (n1 * n0)
    return pd.Series(auc, index=frame.columns)


def _leak_notes(frame: pd.DataFrame, y01: np.ndarray) -> list:
    if frame.shape[1] == 0:
        return []
    auc = _single_feature_auc(frame, y01)
    leaky = auc[(auc > LEAK_AUC) | (auc < 1 - LEAK_AUC)]
    return [
        f"Column `{col}` alone separates the classes almost perfectly (ROC-AUC "
        f"{value:.4f} on its own): it probably leaks the label, e.g. a value "
        "recorded at or after the cutoff. Check how it is computed, or drop it."
        for col, value in leaky.items()
    ]


def _check_xgboost_names(columns) -> None:
    bad = [c for c in columns if any(ch in c for ch in "[]<")]
    if bad:
        raise SchemaError(
            f"xgboost cannot use column names containing '[', ']' or '<': {bad[:5]}. "
            "Rename those columns (e.g. 'income_lt_40k' for 'income<40k')."
        )


@contextmanager
def _columns_as_schema_error(estimator, reset: bool):
    """Column mismatches at predict time as a SchemaError naming the columns.

    scikit-learn's own message (which its checks match) is kept and the fix added.
    """
    try:
        yield
    except SchemaError:
        raise
    except ValueError as exc:
        if reset or "feature" not in str(exc):  # e.g. "Input contains infinity"
            raise
        fitted = getattr(estimator, "feature_names_in_", None)
        expected = (
            f" The model was fitted on the columns {list(fitted)}; pass X with "
            "exactly those, in that order (X[model.feature_names_in_])."
            if fitted is not None
            else ""
        )
        raise SchemaError(
            f"X does not have the columns of fit. {str(exc).strip()}{expected}"
        ) from None


# --------------------------------------------------------------------------- #
# The estimator
# --------------------------------------------------------------------------- #
class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """Churn classifier: preprocessing, a base model and a calibrator in one.

    Parameters
    ----------
    model : {"xgboost", "logistic"} or sklearn classifier, default="xgboost"
        The base model. ``"xgboost"``: gradient-boosted trees
        (:class:`xgboost.XGBClassifier` with the settings of ``XGBOOST_PARAMS``),
        native missing values and categoricals, early stopping on the hold-out.
        ``"logistic"``: :class:`~sklearn.linear_model.LogisticRegression`
        (``C=1``) on imputed, scaled and one-hot encoded columns. An estimator
        instance (with ``predict_proba`` or ``decision_function``) is cloned in
        fit and gets the same encoded columns as ``"logistic"``.
    calibration : {"sigmoid", "isotonic"} or None, default="sigmoid"
        How the base model's log-odds become probabilities: a calibrator fitted
        on the hold-out (the latest cutoffs). ``"sigmoid"`` (Platt scaling, two
        parameters) is the default because hold-outs of churners are small (a
        few hundred positives) and isotonic regression overfits them, giving
        step-shaped, tie-ridden probabilities; sigmoid is also an affine map of
        the log-odds, so explanations in log-odds carry over exactly. ``None``:
        ``predict_proba`` is the base model's own probability.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes while fitting the base model (``"xgboost"`` and
        ``"logistic"`` only; set it on your own estimator instead). The default
        keeps the base model's margin an honest log-odds of churn; with
        ``"balanced"``, rely on calibration to bring the probabilities back to
        the real churn rate.
    validation_fraction : float, default=0.2
        Share of rows held out for calibration and early stopping, in (0, 0.5].
    random_state : int, RandomState or None, default=None
        Seeds the random hold-out and xgboost's row and column sampling. With an
        int, two fits on the same data give identical probabilities.
    n_jobs : int or None, default=None
        Threads used by xgboost. None means 1, as everywhere in scikit-learn
        (parallelise over folds with ``GridSearchCV(n_jobs=...)`` or
        ``backtest(n_jobs=...)`` instead); -1 means all cores.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels, sorted; ``classes_[1]`` (1, True, or the larger label) is
        the churn class, the second column of ``predict_proba``.
    n_features_in_ : int
        Number of columns of ``X`` at fit.
    feature_names_in_ : ndarray of str
        Column names of ``X`` at fit (only when they are all strings).
    preprocessor_ : TablePrep or Pipeline
        Maps ``X`` to the base model's input, see :meth:`model_input`. For
        ``"xgboost"`` a :class:`TablePrep` (float64 numerics, pandas Categorical
        with fixed levels); otherwise ``Pipeline(table=TablePrep,
        encode=ColumnTransformer)`` that imputes medians, adds missing
        indicators (for columns with missing values at fit), scales, and one-hot
        encodes categoricals. It takes a DataFrame with the columns of
        ``feature_names_in_`` (``x0, x1, ...`` for array input); prefer
        :meth:`model_input`, which accepts anything ``fit`` accepted.
    estimator_ : XGBClassifier, LogisticRegression or estimator
        The fitted base model.
    best_iteration_ : int or None
        For ``"xgboost"``, the last boosting round used (0-based): predictions
        and explanations use trees ``[0, best_iteration_ + 1)``. None otherwise.
    calibrator_ : SigmoidCalibrator, IsotonicCalibrator or None
        Maps :meth:`decision_function` to ``predict_proba[:, 1]``; None when
        ``calibration=None`` or the hold-out was too small (then the map is
        ``expit``).
    feature_map_ : dict of str to str
        Model input column (see :meth:`model_input`) -> the user's feature it
        comes from. One-hot levels and missing indicators map to their column.
    holdout_ : dict
        How the hold-out was made: ``kind`` ("latest_cutoffs",
        "stratified_random" or None), ``n_rows``, ``cutoffs`` (the hold-out
        cutoff times) and ``refit`` (whether the base model was refit on all
        rows).
    model_kind_ : str
        "xgboost", "logistic" or "estimator".

    See Also
    --------
    churnkit.CutoffSplit : Forward-in-time cross-validation over cutoffs.
    churnkit.ChurnExplainer : Explains ``decision_function`` per customer.

    Notes
    -----
    **Fitting.** Rows are sorted by their index (the ``cutoff_time`` level
    first), so the fitted model does not depend on the row order of ``X``. A
    hold-out is split off: the latest cutoffs (together at least
    ``validation_fraction`` of the rows, leaving at least one cutoff to train
    on) when ``X`` has a ``cutoff_time`` index level with two or more values, a
    stratified random ``validation_fraction`` otherwise. The base model is fit on
    the other rows (xgboost: up to 500 rounds, stopping 50 rounds after the
    hold-out log-loss last improved). The calibrator is fit on the hold-out's
    margins. Then:

    - with a random hold-out, or without a calibrator, the base model is refit on
      all rows (xgboost with the chosen number of rounds), as
      ``CalibratedClassifierCV(ensemble=False)`` does;
    - with a calibrator fitted on the latest cutoffs, the base model is *not*
      refit: the calibrator maps that very model's margins to the churn level
      of the latest period, and a refit on that period would count any drift
      twice.

    The early-stopping round is chosen on the same hold-out the calibrator uses;
    one integer picked there adds a negligible optimism. The hold-out is split by
    cutoff only: the label windows of the last training cutoffs may overlap the
    hold-out period (use :class:`~churnkit.CutoffSplit` to evaluate without that
    overlap).

    **Small data.** The hold-out is used only when it and the remaining rows each
    have at least 10 rows of each class (for a random hold-out, 10 expected);
    otherwise the base model is fit on all rows (xgboost with a fixed 100
    rounds) with no calibrator. A calibrator is fitted only when the hold-out
    has at least 50 rows of each class: with fewer churners the two Platt
    parameters are noisier than the base model's own log-odds. A requested
    calibration that is skipped raises a :class:`~churnkit.ChurnkitWarning`.

    **Outputs.** :meth:`decision_function` is the base model's log-odds (margin),
    the quantity explanations add up to; ``predict_proba[:, 1]`` is
    ``calibrate_margin(decision_function(X))``; ``predict`` thresholds the
    calibrated probability at 0.5, so with a calibrator ``predict`` can differ
    from the sign of ``decision_function`` near the boundary. For an estimator
    instance the margin is ``logit(predict_proba[:, 1])`` (clipped to
    [1e-12, 1 - 1e-12]) or its ``decision_function``.

    **Columns.** Text columns holding numbers are read as numbers (a
    :class:`~churnkit.ChurnkitWarning` counts what could not be read); other text
    and Categorical columns are categorical with levels fixed at fit (see
    :class:`TablePrep`); unseen levels never fail. A numeric column whose
    ROC-AUC alone is above 0.99 or below 0.01 raises a warning: it probably
    leaks the label.

    Examples
    --------
    >>> import numpy as np
    >>> from churnkit import ChurnClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1).astype(int)
    >>> clf = ChurnClassifier("logistic", calibration=None).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        model="xgboost",
        *,
        calibration="sigmoid",
        class_weight=None,
        validation_fraction=0.2,
        random_state=None,
        n_jobs=None,
    ):
        self.model = model
        self.calibration = calibration
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(self, X, y) -> ChurnClassifier:
        """Fit the preprocessing, the base model and the calibrator.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features, one row per customer (and cutoff). A ``cutoff_time`` index
            level makes the hold-out the latest cutoffs.
        y : array-like of shape (n_samples,)
            Two classes: 0/1, bool, or two labels (``classes_[1]`` is churn).

        Returns
        -------
        self : ChurnClassifier
        """
        kind = self._check_params()
        frame = self._check_X(X, reset=True)
        y_raw, y01 = self._check_y(y, frame)
        order = _canonical_order(frame.index)
        if order is not None:  # the model never depends on the row order of X
            frame, y_raw, y01 = frame.iloc[order], y_raw[order], y01[order]
        prep = TablePrep().fit(frame)
        Xp = prep.transform(frame)
        notes = prep.notes_ + _leak_notes(Xp[prep.numeric_columns_], y01)
        for note in notes:
            warnings.warn(note, ChurnkitWarning, stacklevel=2)
        if kind == "xgboost":
            _check_xgboost_names(frame.columns)
            self.preprocessor_, Xm = prep, Xp
            self.feature_map_ = {c: c for c in Xp.columns}
        else:
            enc = _fit_encoder(Xp, prep)
            self.preprocessor_ = Pipeline([("table", prep), ("encode", enc)])
            Xm = enc.transform(Xp)
            self.feature_map_ = dict(
                zip(Xm.columns, _encoder_sources(enc), strict=True)
            )
        self.model_kind_ = kind
        weights = (
            None
            if self.class_weight is None
            else compute_sample_weight(self.class_weight, y_raw)
        )
        skipped = self._fit_models(Xm, y01, weights, frame.index)
        if skipped and self.calibration is not None:
            warnings.warn(
                f"calibration={self.calibration!r} was skipped: {skipped}. "
                "predict_proba is the base model's own probability. Fit on more "
                "rows, or pass calibration=None to silence this warning.",
                ChurnkitWarning,
                stacklevel=2,
            )
        return self

    def _check_params(self) -> str:
        model = self.model
        if isinstance(model, str):
            if model not in _MODELS:
                raise SchemaError(
                    f"`model` must be 'xgboost', 'logistic' or a scikit-learn "
                    f"classifier instance; got {model!r}."
                )
            kind = model
        elif isinstance(model, type):
            raise ChurnkitTypeError(
                f"`model` must be an estimator instance, not the class "
                f"{model.__name__}; pass {model.__name__}() instead."
            )
        elif hasattr(model, "fit") and (
            hasattr(model, "predict_proba") or hasattr(model, "decision_function")
        ):
            kind = "estimator"
        else:
            raise ChurnkitTypeError(
                "`model` must be 'xgboost', 'logistic' or a classifier with `fit` "
                f"and `predict_proba` or `decision_function`; got {model!r}."
            )
        if self.calibration not in _CALIBRATIONS:
            raise SchemaError(
                "`calibration` must be 'sigmoid', 'isotonic' or None; got "
                f"{self.calibration!r}."
            )
        if kind == "estimator" and self.class_weight is not None:
            raise SchemaError(
                "`class_weight` applies to model='xgboost' or 'logistic' only; set "
                "it on your estimator instead and leave class_weight=None."
            )
        fraction = self.validation_fraction
        if not isinstance(fraction, (float, int)) or not 0 < fraction <= 0.5:
            raise SchemaError(
                f"`validation_fraction` must be a number in (0, 0.5]; got {fraction!r}."
            )
        return kind

    def _check_X(self, X, *, reset: bool) -> pd.DataFrame:
        """Validate X and return it as a DataFrame with string column names."""
        if isinstance(X, pd.DataFrame):
            if X.columns.duplicated().any():
                dup = list(X.columns[X.columns.duplicated()].unique())
                raise SchemaError(
                    f"X has duplicate column names {dup}; rename them so each "
                    "feature has one name."
                )
            with _columns_as_schema_error(self, reset):
                validate_data(self, X, reset=reset, skip_check_array=True)
            n, p = X.shape
            if p == 0:
                raise SchemaError(
                    f"0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required."
                )
            if n == 0 and reset:
                raise SchemaError(
                    f"Found array with 0 sample(s) (shape=(0, {p})) while a minimum "
                    "of 1 is required."
                )
            frame = X.copy(deep=False)
        else:
            with _columns_as_schema_error(self, reset):
                values = validate_data(
                    self,
                    X,
                    reset=reset,
                    accept_sparse=False,
                    dtype=None,
                    ensure_all_finite="allow-nan",
                    ensure_min_samples=1 if reset else 0,
                )
            frame = pd.DataFrame(values)
        if reset:
            names = getattr(self, "feature_names_in_", None)
            self._columns = (
                [str(c) for c in names]
                if names is not None
                else [f"x{i}" for i in range(frame.shape[1])]
            )
        frame.columns = self._columns
        return frame

    def _check_y(self, y, frame) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        if len(y) != len(frame):
            raise SchemaError(
                f"y has {len(y)} label(s) but X has {len(frame)} row(s): pass one "
                "label per row of X, in X's order, e.g. X, y = labels[['customer_id', "
                "'cutoff_time']], labels['churned'] from the same ck.label_churn "
                "table."
            )
        check_consistent_length(frame, y)
        missing = pd.isna(y)
        if missing.any():
            rows = list(frame.index[missing][:3])
            raise SchemaError(
                f"y has {int(missing.sum())} missing label(s), e.g. at {rows}. Drop "
                "those rows (censored cutoffs must not be labelled)."
            )
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise SchemaError(
                "Only binary classification is supported. The type of the target "
                f"is {y_type}; churnkit predicts churn (1) against no churn (0)."
            )
        classes = np.unique(y)
        if len(classes) < 2:
            only = classes[0].item() if hasattr(classes[0], "item") else classes[0]
            raise SchemaError(
                f"y contains only one class ({only!r}); the classifier needs "
                "rows of both classes (churned and not churned). With labels from "
                "ck.label_churn, use more or later cutoffs, or a longer `horizon`, "
                "so that some customers churn."
            )
        self.classes_ = classes
        return y, (y == classes[1]).astype(np.int64)

    def _fit_models(self, Xm, y01, weights, index) -> str:
        """Fit base model (and calibrator); return why calibration was skipped."""
        rng = check_random_state(self.random_state)
        split_seed, model_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        needs_holdout = self.model_kind_ == "xgboost" or self.calibration is not None
        split, reason = (None, "no hold-out was requested")
        if needs_holdout:
            split, reason = _choose_holdout(
                index, y01, self.validation_fraction, split_seed
            )
        self.calibrator_ = None
        if split is None:
            self.estimator_, self.best_iteration_ = self._fit_base(
                Xm, y01, weights, model_seed, rounds=FALLBACK_ROUNDS
            )
            self.holdout_ = {"kind": None, "n_rows": 0, "cutoffs": [], "refit": False}
            return reason
        base, best = self._fit_base(Xm, y01, weights, model_seed, split=split)
        hold_y = y01[split.hold]
        margin = self._margin(base, best, Xm.iloc[split.hold])
        counts = np.bincount(hold_y, minlength=2)
        if self.calibration is not None and counts.min() >= MIN_CLASS_CALIBRATION:
            self.calibrator_ = (
                SigmoidCalibrator()
                if self.calibration == "sigmoid"
                else IsotonicCalibrator()
            ).fit(margin, hold_y)
            reason = ""
        elif self.calibration is not None:
            reason = _too_few("hold-out", counts, MIN_CLASS_CALIBRATION)
        refit = split.kind == "stratified_random" or self.calibrator_ is None
        if refit:
            rounds = None if best is None else best + 1
            base, best = self._fit_base(Xm, y01, weights, model_seed, rounds=rounds)
        self.estimator_, self.best_iteration_ = base, best
        self.holdout_ = {
            "kind": split.kind,
            "n_rows": len(split.hold),
            "cutoffs": split.cutoffs,
            "refit": refit,
        }
        return reason

    def _fit_base(self, Xm, y01, weights, seed, *, split=None, rounds=None):
        """Fit the base model on all rows, or on split.train with early stopping."""
        if self.model_kind_ == "xgboost":
            return self._fit_xgboost(Xm, y01, weights, seed, split, rounds)
        rows = slice(None) if split is None else split.train
        X_fit, y_fit = Xm.iloc[rows], y01[rows]
        w_fit = None if weights is None else weights[rows]
        if self.model_kind_ == "logistic":
            est = LogisticRegression(C=1.0, max_iter=1000)
            est.fit(X_fit, y_fit, sample_weight=w_fit)
        else:
            est = clone(self.model).fit(X_fit, y_fit)
        return est, None

    def _fit_xgboost(self, Xm, y01, weights, seed, split, rounds):
        from xgboost import XGBClassifier

        params = dict(
            XGBOOST_PARAMS,
            random_state=seed,
            n_jobs=effective_n_jobs(self.n_jobs),
            enable_categorical=True,
        )
        if split is None:
            est = XGBClassifier(n_estimators=rounds, **params)
            est.fit(Xm, y01, sample_weight=weights, verbose=False)
            return est, rounds - 1
        # a time hold-out is the latest cutoffs: in canonical order both parts
        # are row ranges, and a range of rows is a view, not a copy of X
        tr, ho = _as_range(split.train), _as_range(split.hold)
        est = XGBClassifier(
            n_estimators=MAX_ROUNDS,
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            **params,
        )
        est.fit(
            Xm.iloc[tr],
            y01[tr],
            sample_weight=None if weights is None else weights[tr],
            eval_set=[(Xm.iloc[ho], y01[ho])],
            sample_weight_eval_set=None if weights is None else [weights[ho]],
            verbose=False,
        )
        return est, int(est.best_iteration)

    # -------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise _NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )

    def model_input(self, X) -> pd.DataFrame:
        """The exact table the base model sees: ``preprocessor_`` applied to X.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Same columns as at fit.

        Returns
        -------
        DataFrame
            Indexed like ``X``; columns are the keys of ``feature_map_``. For
            ``"xgboost"``, float64 and pandas Categorical columns (build a
            ``xgboost.DMatrix(..., enable_categorical=True)`` from it); otherwise
            float64 columns.
        """
        self._check_fitted()
        return self.preprocessor_.transform(self._check_X(X, reset=False))

    def _margin(self, est, best, Xm) -> np.ndarray:
        if self.model_kind_ == "xgboost":
            from xgboost import DMatrix

            dmat = DMatrix(
                Xm, enable_categorical=True, nthread=effective_n_jobs(self.n_jobs)
            )
            margin = est.get_booster().predict(
                dmat, output_margin=True, iteration_range=(0, best + 1)
            )
            return np.asarray(margin, dtype="float64")
        if self.model_kind_ == "logistic" or not hasattr(est, "predict_proba"):
            return np.asarray(est.decision_function(Xm), dtype="float64").ravel()
        proba = est.predict_proba(Xm)[:, list(est.classes_).index(1)]
        return logit(np.clip(proba, 1e-12, 1 - 1e-12))

    def decision_function(self, X) -> np.ndarray:
        """Base model log-odds of churn (the margin) for each row.

        For ``"xgboost"`` this is ``estimator_.get_booster().predict(DMatrix(
        model_input(X), enable_categorical=True), output_margin=True,
        iteration_range=(0, best_iteration_ + 1))``; for ``"logistic"``,
        ``estimator_.decision_function(model_input(X))``. It is what explanations
        add up to; :meth:`calibrate_margin` turns it into ``predict_proba``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        self._check_fitted()
        frame = self._check_X(X, reset=False)
        if len(frame) == 0:  # nothing to score: no rows out, not an error
            return np.zeros(0, dtype="float64")
        Xm = self.preprocessor_.transform(frame)
        return self._margin(self.estimator_, self.best_iteration_, Xm)

    def calibrate_margin(self, margin) -> np.ndarray:
        """Map base-model log-odds to calibrated churn probabilities.

        Parameters
        ----------
        margin : float or array-like
            Values on the scale of :meth:`decision_function`.

        Returns
        -------
        ndarray
            Same shape as ``margin``: ``calibrator_.predict(margin)``, or
            ``expit(margin)`` when there is no calibrator.
        """
        self._check_fitted()
        m = np.asarray(margin, dtype="float64")
        if self.calibrator_ is None:
            return expit(m)
        return self.calibrator_.predict(m.ravel()).reshape(m.shape)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities; column 1 is the churn probability.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns ordered as ``classes_``.
        """
        p = self.calibrate_margin(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class (calibrated churn probability above 0.5).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

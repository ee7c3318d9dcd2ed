"""Table preparation: one dtype per column, categories fixed at fit.

:class:`TablePrep` turns a customer table into float64 numerics and
fixed-level pandas Categoricals; it is the first step of
``ChurnClassifier.preprocessor_`` (the whole of it for ``model="xgboost"``).
The encoders of the dense models (logistic regression, user estimators)
impute, scale and one-hot encode its output.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from churnkit._logging import warn
from churnkit._plainstate import PlainStateMixin
from churnkit.exceptions import SchemaDriftWarning, SchemaError
from churnkit.features.profile import COHORT
from churnkit.models._identifiers import free_text_note, numeric_identifier_note
from churnkit.models._text import (
    all_text,
    as_text,
    coded_text,
    column_kind,
    datetime_message,
    parse_text_numbers,
)

__all__ = ["TablePrep"]

MIN_FREQUENCY = 10  # a category level needs this many rows at fit ...
MAX_CATEGORIES = 100  # ... and to be among this many most frequent levels
INFREQUENT = "(infrequent)"  # the level that collects the other ones
MAX_RARE = 10_000  # rare levels kept per column to tell unseen values apart
LEVEL_SHARE = 50  # ... at most a fiftieth of the fit rows


# --------------------------------------------------------------------------- #
# Table preparation: one dtype per column, categories fixed at fit
# --------------------------------------------------------------------------- #
class TablePrep(
    PlainStateMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Turn a customer table into float64 numerics and fixed-level categoricals.

    This is the first step of :attr:`ChurnClassifier.preprocessor_`; for
    ``model="xgboost"`` it is the whole preprocessor.

    Parameters
    ----------
    min_frequency : int or "auto", default="auto"
        A category level is kept when it has at least this many rows at fit.
        "auto": 10, or a fiftieth of the fit rows when that is fewer (at least
        2), so 30 rows keep a level seen 6 times.
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
      ``"(infrequent)"`` when that level exists and to NaN (missing) otherwise,
      with a :class:`~churnkit.exceptions.SchemaDriftWarning` naming them;
    - datetime and timedelta columns, and dates written as text, are an error
      (turn them into numbers first);
      infinite values are an error at fit and transform.
    """

    def __init__(self, *, min_frequency="auto", max_categories=MAX_CATEGORIES):
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
        return self._fit(X, None)

    def fit_transform(self, X: pd.DataFrame, y=None) -> pd.DataFrame:
        """``fit(X).transform(X)``, coding each text column once.

        Parameters
        ----------
        X : DataFrame
            The feature table, string column names.
        y : None
            Ignored.

        Returns
        -------
        DataFrame
            What ``transform(X)`` returns after ``fit(X)``, to the bit.
        """
        coded = {}  # column -> (codes, text) of its values, made by fit
        return self._fit(X, coded)._transform(X, coded)

    def _fit(self, X: pd.DataFrame, coded: dict | None) -> TablePrep:
        """Fit; when ``coded`` is a dict, keep each text column's coding in it."""
        numeric, categorical, categories, notes = [], [], {}, []
        text_numbers = []
        self._rare_levels = {}
        from_features = "feature_directions" in X.attrs  # ChurnFeatures output
        for col in X.columns:
            kind, note = column_kind(X[col], col, coded)
            if note:
                notes.append(note)
            if kind == "numeric":
                numeric.append(col)
                if note:
                    text_numbers.append(col)
                elif not from_features and (
                    note := numeric_identifier_note(X[col], col)
                ):
                    notes.append(note)
                continue
            categorical.append(col)
            # a mixed column's note says enough about its many levels
            said = [] if note else notes
            categories[col] = self._levels(X[col], col, said, coded)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(X.columns)
        self.numeric_columns_ = numeric
        self.categorical_columns_ = categorical
        self.categories_ = categories
        self.notes_ = notes
        self._text_numbers = text_numbers
        return self

    def _levels(self, series: pd.Series, col: str, notes: list, coded=None) -> list:
        noted = len(notes)  # an identifier's note says enough about its levels
        codes, text = coded_text(series, col, coded)
        seen = np.bincount(codes[codes >= 0], minlength=len(text))
        counts = pd.Series(seen, index=pd.Index(text, dtype=object))[seen > 0]
        if len(counts) == len(series) and len(series) >= 20:
            notes.append(
                f"Column `{col}` has a different value in every row: it looks like "
                "an identifier and carries no signal. Drop it or move it to the "
                "index."
            )
        counts = counts.sort_index(kind="stable").sort_values(
            ascending=False, kind="stable"
        )
        least = self.min_frequency
        if least == "auto":  # on 30 rows a level seen 6 times is a real one
            least = min(MIN_FREQUENCY, max(2, len(series) // LEVEL_SHARE))
        kept = counts[counts >= least].index[: self.max_categories]
        if note := free_text_note(col, len(counts), len(series), len(kept)):
            notes.append(note)
        elif len(kept) == 0 and len(counts) > 1 and len(notes) == noted:
            notes.append(
                f"Column `{col}`: each of its {len(counts):,} values is seen fewer "
                f"than {least} times at fit, so they are merged into one "
                f"'{INFREQUENT}' level and the column carries no signal."
            )
        levels = sorted(str(v) for v in kept)
        if len(levels) < len(counts):
            levels.append(INFREQUENT)
            # the seen levels merged into INFREQUENT, so that a transform can
            # tell them from values never seen (too many: an identifier-like
            # column, not checked)
            rare = counts.index.difference(kept)
            self._rare_levels[col] = (
                sorted(str(v) for v in rare) if len(rare) <= MAX_RARE else None
            )
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
        return self._transform(X, None)

    def _transform(self, X: pd.DataFrame, coded: dict | None) -> pd.DataFrame:
        """Transform, reusing the codings in ``coded`` (made by ``_fit(X)``)."""
        names = list(self.feature_names_in_)
        # A shallow copy: float64 columns need no conversion and stay shared
        # with X (copy-on-write), so a large feature block is not copied.
        columns = X.columns.tolist()  # iterating a str Index goes through Arrow
        frame = X.copy(deep=False) if columns == names else X.loc[:, names]
        text_numbers = getattr(self, "_text_numbers", ())
        dtypes = dict(zip(columns, X.dtypes.tolist(), strict=True))
        from_features = "feature_directions" in X.attrs
        for col in names:
            if col not in self.categories_ and dtypes[col] == np.float64:
                continue  # as is; reading X[col] would copy X's MultiIndex
            levels = self.categories_.get(col)
            if levels is not None and _has_levels(dtypes[col], levels):
                continue  # already these levels (a ChurnFeatures output): as is
            series = X[col]
            if levels is not None:
                if isinstance(series.dtype, pd.CategoricalDtype):
                    out = _recode(self, col, series, levels)
                else:
                    out = _to_categorical(series, levels, col, coded)
                if from_features and col == COHORT:
                    out = _newest_cohort(self, series, out, levels)
                # values the builder knows (not missing in its output) but
                # that no training row had: scored as missing, so said here
                _warn_unseen(self, col, series, out, levels)
                frame[col] = out
            elif series.dtype != np.float64:
                values = _to_float(series, col, coded)
                _warn_unread(series, values, col, text_numbers)
                frame[col] = values
        _check_finite(frame, self.numeric_columns_)
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: the input names, unchanged."""
        return self.feature_names_in_.copy()


_TEXT_INDEX = pd.Index(["text"]).dtype  # what pandas makes of a list of str


def _has_levels(dtype, levels: list) -> bool:
    """Whether ``dtype`` is the dtype :func:`_to_categorical` gives ``levels``.

    A column of that dtype (``ChurnFeatures`` outputs one) is its own result:
    the same codes, levels, level dtype and order. The check reads the few
    levels, never the rows.
    """
    if not isinstance(dtype, pd.CategoricalDtype) or dtype.ordered or not levels:
        return False
    cats = dtype.categories
    if len(cats) != len(levels) or cats.dtype != _TEXT_INDEX:
        return False
    return cats.tolist() == levels


#: TablePrep -> {column: (levels, categories seen, level code of each)}: the
#: map of the last Categorical dtype a transform met per column, outside the
#: estimator (never pickled or cloned; gone with it)
_CATEGORY_MAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _recode(prep, col, series: pd.Series, levels: list) -> pd.Categorical:
    """``_to_categorical(series, levels)`` for a Categorical ``series``.

    The level of each row follows from the level of its category, which
    :func:`_to_categorical` finds once per set of categories (scoring calls
    meet the same categories call after call), then the codes are mapped.
    """
    dtype = series.dtype
    cats = dtype.categories
    seen = (cats.dtype, tuple((type(v), v) for v in cats.tolist()))
    maps = _CATEGORY_MAPS.setdefault(prep, {})
    hit = maps.get(col)
    if hit is None or hit[0] is not levels or hit[1] != seen:
        each = pd.Series(pd.Categorical.from_codes(np.arange(len(cats)), dtype=dtype))
        out = _to_categorical(each, levels)
        hit = (levels, seen, np.append(out.codes, -1), out.dtype)
        maps[col] = hit
    codes = hit[2][series.cat.codes.to_numpy()]
    return pd.Categorical.from_codes(codes, dtype=hit[3])


def _to_categorical(series: pd.Series, levels: list, col=None, coded=None):
    cats = getattr(series.dtype, "categories", None)
    if cats is not None and cats.inferred_type == "string" and list(cats) == levels:
        # already these levels (a ChurnFeatures output): the codes stand
        return pd.Categorical.from_codes(series.cat.codes, categories=levels)
    codes, text = coded_text(series, col, coded)
    # look up each distinct text once
    level_of_text = pd.Index(levels, dtype=object).get_indexer(text)
    if INFREQUENT in levels:
        level_of_text[level_of_text < 0] = levels.index(INFREQUENT)
    out = np.append(level_of_text, -1)[codes]
    return pd.Categorical.from_codes(out, categories=levels)


def _to_float(series: pd.Series, col: str, coded=None) -> np.ndarray:
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
        raise SchemaError(datetime_message(col, dtype))
    if all_text(series):  # parse each distinct text once
        codes, text = coded_text(series, col, coded)
        numbers = (coded or {}).get((col, "numbers"))
        if numbers is None:
            numbers = parse_text_numbers(pd.Series(text, dtype=object))
            numbers = numbers.to_numpy(dtype="float64")
        return np.append(numbers, np.nan)[codes]
    values = series.astype(object)
    mask = values.notna().to_numpy()
    out = np.full(len(values), np.nan)
    if mask.any():
        present = values[mask]
        bools = present.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy()
        present = present.where(~bools, present[bools].astype(float))
        out[mask] = parse_text_numbers(present).to_numpy(dtype="float64")
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
    warn(
        f"Column `{col}` held numbers at fit, but {int(unread.sum())} of "
        f"{len(series)} value(s) here are not numbers (e.g. {shown}); they are "
        "treated as missing. Convert the column with pd.to_numeric first.",
        SchemaDriftWarning,
    )


def _unseen(prep, col, series: pd.Series, out, levels: list):
    """``(rows, text)``: the rows of values never seen at fit (scored as
    missing or as the infrequent level) and their values as text."""
    codes = np.asarray(out.codes)
    infrequent = levels.index(INFREQUENT) if INFREQUENT in levels else None
    changed = (codes < 0) if infrequent is None else (codes == infrequent)
    changed &= series.notna().to_numpy()
    if not changed.any():
        return np.flatnonzero(changed), None
    text = as_text(series[changed])
    if infrequent is not None:
        rare = getattr(prep, "_rare_levels", {}).get(col)
        if rare is None:  # not known which were seen at fit
            return np.flatnonzero(changed[:0]), None
        new = ~text.isin(rare).to_numpy()
        changed[np.flatnonzero(changed)[~new]] = False
        text = text[new]
    return np.flatnonzero(changed), text


def _newest_cohort(prep, series: pd.Series, out, levels: list) -> pd.Categorical:
    """Signup quarters after the training rows' newest one ("2025Q2" when
    the model was trained on cutoffs up to 2025-03) scored as that newest one.

    Every scoring of new signups meets them; as missing, their score came
    from an arbitrary branch and their reason read "Signed up in 2025Q2" with
    a weight the model never learned. A quarter before the oldest trained is
    scored as the oldest. Warns with the counts.
    """
    trained = sorted(v for v in levels if v != INFREQUENT)
    rows, text = _unseen(prep, COHORT, series, out, levels)
    if not len(rows) or not trained:
        return out
    values = text.to_numpy(dtype=object).astype(str)
    late, early = values > trained[-1], values < trained[0]
    if not (late | early).any():
        return out
    codes = np.asarray(out.codes).copy()
    codes[rows[late]] = levels.index(trained[-1])
    codes[rows[early]] = levels.index(trained[0])
    counts = pd.Series(values[late | early]).value_counts().sort_index()
    listed = ", ".join(f"{v} ({n:,})" for v, n in counts.head(5).items())
    warn(
        f"Column `{COHORT}`: {int(counts.sum()):,} of {len(series):,} row(s) "
        f"signed up in a quarter no training row had ({listed}"
        f"{' ...' if len(counts) > 5 else ''}); they are scored as the nearest "
        f"cohort the model learned ({trained[0]} .. {trained[-1]}), which is "
        "what their reasons' weight means. Refit on later cutoffs to learn the "
        "new cohorts.",
        SchemaDriftWarning,
    )
    return pd.Categorical.from_codes(codes, dtype=out.dtype)


def _warn_unseen(prep, col, series: pd.Series, out, levels: list) -> None:
    """Warn when values never seen at fit reach the model: they score as
    missing (or as the infrequent level), which changes the prediction."""
    rows, text = _unseen(prep, col, series, out, levels)
    if not len(rows):
        return
    infrequent = levels.index(INFREQUENT) if INFREQUENT in levels else None
    counts = text.value_counts(sort=True)
    listed = ", ".join(f"{v!r} ({n:,})" for v, n in counts.head(5).items())
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    fate = (
        "treated as missing"
        if infrequent is None
        else f"scored as the level {INFREQUENT!r} (the rare levels of training)"
    )
    warn(
        f"Column `{col}`: {len(counts)} value(s) not seen in training, in "
        f"{int(counts.sum()):,} of {len(series):,} row(s): {listed}{more}; they "
        f"are {fate}, which changes their predictions. The training values are "
        f"{_preview(levels)}; values are matched exactly (case-sensitive): map "
        "them to a training value, or refit to learn them.",
        SchemaDriftWarning,
    )


def _preview(levels: list, k: int = 8) -> str:
    shown = ", ".join(repr(v) for v in levels if v != INFREQUENT)
    if len(levels) <= k:
        return shown
    return ", ".join(repr(v) for v in levels[:k]) + f", ... ({len(levels)} in all)"


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

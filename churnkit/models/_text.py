"""Text columns of a customer table: numbers, categories or an error.

:func:`column_kind` decides how :class:`~churnkit.models._prep.TablePrep`
reads a column: numbers (also numbers stored as text), categories, or a clear
error for dates and durations the model cannot use. :func:`text_codes` codes
a column's values as text once, so each distinct value is parsed once, not
each row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._time import DATE_SHARE, date_share
from churnkit.exceptions import SchemaError
from churnkit.models._calibration import CUTOFF_LEVEL

__all__ = [
    "all_text",
    "as_text",
    "coded_text",
    "column_kind",
    "datetime_message",
    "parse_text_numbers",
    "text_codes",
]

MIXED_SHARE = 0.5  # numbers among text from this share on: a mixed column noted
TEXT_NUMBER_SHARE = 0.9  # text columns whose values parse as numbers this often


def column_kind(series: pd.Series, col: str, coded=None) -> tuple[str, str | None]:
    """Return ("numeric" | "categorical", note or None) for one column.

    ``coded``: None, or a dict that keeps the column's text coding for later.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", None
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric", None
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        raise SchemaError(datetime_message(col, dtype))
    if pd.api.types.is_complex_dtype(dtype):
        raise SchemaError(f"Column `{col}` holds complex numbers; not supported.")
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric", None
    if not isinstance(dtype, pd.StringDtype):  # a str dtype holds only text
        values = series.dropna()
        if len(values) == 0:
            return "numeric", None
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred in (
            "integer",
            "floating",
            "mixed-integer-float",
            "decimal",
            "boolean",
        ):
            return "numeric", None
        if inferred in ("datetime64", "datetime", "date", "timedelta", "period"):
            raise SchemaError(datetime_message(col, inferred))
    # parse each distinct text once, not each row
    codes, text = coded_text(series, col, coded)
    n_values = int((codes >= 0).sum())
    if n_values == 0:
        return "numeric", None
    numbers = parse_text_numbers(pd.Series(text, dtype=object)).to_numpy("float64")
    if coded is not None:
        coded[col, "numbers"] = numbers  # for _to_float
    unread = np.isnan(numbers)
    per_text = np.bincount(codes[codes >= 0], minlength=len(text))
    n_bad = int(per_text[unread].sum())
    if n_values - n_bad < TEXT_NUMBER_SHARE * n_values:
        if date_share(text, per_text) >= DATE_SHARE:
            shown = ", ".join(repr(v) for v in text[:3])
            raise SchemaError(
                f"Column `{col}` holds dates written as text (e.g. {shown}); as "
                "text each date would be a category of its own. Turn it into a "
                "number first, e.g. days since the date: (cutoff - "
                f"pd.to_datetime(X['{col}'])).dt.days, or drop it."
            )
        return "categorical", _mixed_note(col, text, unread, per_text, n_values)
    examples = ", ".join(repr(v) for v in text[unread][:3])
    note = (
        f"Column `{col}` holds numbers stored as text; it was converted to "
        f"numbers. {n_bad} of {n_values} non-missing values could not be "
        "read and are treated as missing"
        + (f" (e.g. {examples})" if n_bad else "")
        + ". Convert it yourself (pd.to_numeric) to silence this warning, or pass "
        "it as a pandas Categorical to keep it categorical."
    )
    return "numeric", note


def _mixed_note(col, text, unread, per_text, n_values) -> str | None:
    """A note when most values are numbers but too few to read it as numbers:
    each number became a level of its own ('n/a' among amounts)."""
    n_numbers = n_values - int(per_text[unread].sum())
    if n_numbers < MIXED_SHARE * n_values:
        return None
    words = ", ".join(repr(v) for v in text[unread][:3])
    return (
        f"Column `{col}` mixes numbers ({n_numbers / n_values:.0%} of its values) "
        f"and text (e.g. {words}): it is read as categories, each number a level "
        "of its own. If the text means missing, read it as numbers: "
        f"X['{col}'] = pd.to_numeric(X['{col}'], errors='coerce')."
    )


def datetime_message(col, dtype) -> str:
    hint = (
        " If it is the cutoff time, move it to the index: "
        "X.set_index(['customer_id', 'cutoff_time'])."
        if col == CUTOFF_LEVEL
        else ""
    )
    return (
        f"Column `{col}` holds dates or durations ({dtype}); the model needs "
        "numbers. Turn it into a number first, e.g. days since signup: "
        f"(cutoff - X['{col}']).dt.days.{hint}"
    )


def parse_text_numbers(values: pd.Series) -> pd.Series:
    text = values.astype(object).map(str).str.strip()
    return pd.to_numeric(text, errors="coerce")


def as_text(series: pd.Series) -> pd.Series:
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


def all_text(series: pd.Series) -> bool:
    """Whether every non-missing value is a str (str dtype, or object of str)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    return pd.api.types.is_object_dtype(dtype) and (
        pd.api.types.infer_dtype(series, skipna=True) == "string"
    )


def text_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, text)``: ``text[codes[i]]`` is row i as str; -1 marks missing.

    ``text`` holds distinct strings, in order of first appearance. Text columns
    (``str`` dtype, or object holding only strings) and Categoricals are coded
    without converting each row; other object columns (mixed values, where
    ``1`` and ``True`` are equal as keys but not as text) go through ``str``.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.intp)
        text = np.asarray(series.cat.categories.map(str), dtype=object)
    elif all_text(series):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    else:
        codes, uniques = pd.factorize(as_text(series), use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    # distinct categories can share a text (1 and "1"): merge them
    merged, text = pd.factorize(pd.Series(text, dtype=object))
    merged = np.append(merged, -1)  # code -1 stays missing
    return merged[codes], np.asarray(text, dtype=object)


def coded_text(series: pd.Series, col, coded) -> tuple[np.ndarray, np.ndarray]:
    """:func:`text_codes` of ``series``, kept in (and read from) ``coded``.

    ``coded``: None (nothing kept) or a dict from column name to
    ``(codes, text)``, so ``TablePrep.fit_transform`` codes each column once.
    """
    if coded is None:
        return text_codes(series)
    if col not in coded:
        coded[col] = text_codes(series)
    return coded[col]

"""Category codes of text columns: known values first, then sorted.

Event kinds, plans, priorities and a table's other text columns are stored as
integer codes into a tuple of categories. The codes do not depend on the row
order, standard values (billing and churn kinds, priorities) match whatever
their case, and an id-like column with as many distinct values as rows costs
about as much as a column of numbers: the distinct values are handled in Arrow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from churnkit._logging import warn
from churnkit.exceptions import DataQualityWarning

__all__ = ["category_codes", "smallest_int"]

#: distinct values up to which values written alike are looked for
MAX_ALIKE_CHECK = 100_000


def category_codes(
    series: pd.Series, order: tuple[str, ...], *, where: str = "", report=None
):
    """Codes and categories with known values first, in ``order``, then sorted.

    Deterministic whatever the row order of the input. Missing values get -1.
    The standard values in ``order`` (billing kinds such as ``payment``, churn
    kinds ``voluntary``/``involuntary``, priorities) match case-insensitively
    and ignoring surrounding spaces: ``"Payment"`` or ``" PAYMENT"`` is read as
    ``payment``, counted in a :class:`ChurnkitWarning`. Other values (event
    kinds, plans, categories) are matched exactly, so case variants stay apart,
    with a :class:`DataQualityWarning` naming them and their row counts.
    ``report``: called with the number of rows read as a standard value of
    another spelling (for ``events.report``).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        raw_codes = series.cat.codes.to_numpy()
        used = np.zeros(len(cats), dtype=bool)
        used[raw_codes[raw_codes >= 0]] = True
    else:
        raw_codes, uniques = pd.factorize(series, sort=False)
        cats = pd.Index(uniques)
        used = np.ones(len(cats), dtype=bool)
    # one text per distinct value, in Arrow: an id-like column may have as
    # many distinct values as rows, so nothing here loops over them
    text = _arrow_text(cats)
    alias = {}
    if not isinstance(cats.dtype, pd.StringDtype) and (
        pc.count_distinct(text).as_py() < len(text)
    ):  # distinct values with one text, such as 1 and "1": merged
        return _codes_with_aliases(raw_codes, cats, text, used, order, {}, where)
    if order:
        standard = pa.array(list(order), type=text.type)
        key = pc.utf8_lower(pc.utf8_trim_whitespace(text))
        is_alias = pc.and_(
            pc.is_in(key, value_set=standard), pc.invert(pc.is_in(text, standard))
        )
        is_alias = is_alias.to_numpy(zero_copy_only=False)
        if is_alias.any():
            where_alias = np.flatnonzero(is_alias)
            alias = dict(
                zip(
                    text.take(where_alias).to_pylist(),
                    key.take(where_alias).to_pylist(),
                    strict=True,
                )
            )
            return _codes_with_aliases(
                raw_codes, cats, text, used, order, alias, where, report
            )
        is_known = pc.is_in(text, standard).to_numpy(zero_copy_only=False)
    else:
        is_known = np.zeros(len(cats), dtype=bool)
    # the distinct values are distinct texts: each one's category is its rank
    known_at = np.flatnonzero(used & is_known)
    known_text = dict(zip(text.take(known_at).to_pylist(), known_at, strict=True))
    known = [v for v in order if v in known_text]
    rest_at = np.flatnonzero(used & ~is_known)
    # Arrow sorts UTF-8 bytewise: the code point order of Python's sorted()
    rest_at = rest_at[pc.sort_indices(text.take(rest_at)).to_numpy()]
    lookup = np.full(len(cats) + 1, -1, dtype=np.int32)  # last slot: missing
    lookup[[known_text[v] for v in known]] = np.arange(len(known))
    lookup[rest_at] = np.arange(len(known), len(known) + len(rest_at))
    categories = tuple(known) + tuple(text.take(rest_at).to_pylist())
    codes = lookup[np.where(raw_codes < 0, len(cats), raw_codes)]
    _warn_written_alike(text.take(rest_at), rest_at, raw_codes, where)
    return codes, categories


def _warn_written_alike(text: pa.Array, at: np.ndarray, raw_codes, where) -> None:
    """Warn when distinct values differ only in case or surrounding spaces
    ('login', 'login ', 'Login'): each stays a category (an event kind, with
    features) of its own, which is rarely what the data mean."""
    if not 2 <= len(text) <= MAX_ALIKE_CHECK:  # ids, not categories, beyond
        return
    key = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    if pc.count_distinct(key).as_py() == len(key):
        return
    codes, uniques = pd.factorize(key.to_numpy(zero_copy_only=False))
    size = np.bincount(codes)
    alike = np.flatnonzero(size[codes] > 1)
    rows = np.bincount(raw_codes[raw_codes >= 0], minlength=int(at.max()) + 1)
    values = text.to_pylist()
    groups = {}
    for j in alike[np.argsort(codes[alike], kind="stable")]:  # few values
        groups.setdefault(codes[j], []).append(f"{values[j]!r} ({rows[at[j]]:,} rows)")
    shown = "; ".join(", ".join(g) for g in list(groups.values())[:3])
    more = f" and {len(groups) - 3} more groups" if len(groups) > 3 else ""
    col = repr(where.rsplit(".", 1)[-1]) if where else "col"
    warn(
        f"{where or 'a text column'}: {len(groups)} group(s) of values differ "
        f"only in case or surrounding spaces: {shown}{more}. They are kept apart "
        "(each its own category, and for event kinds its own features). If they "
        "mean the same, clean the column before building the store: "
        f"df[{col}] = df[{col}].str.strip().str.lower().",
        DataQualityWarning,
    )


def _arrow_text(cats: pd.Index) -> pa.Array:
    """The distinct values as one Arrow string array (``str(value)`` each)."""
    if isinstance(cats.dtype, pd.StringDtype | pd.ArrowDtype):
        arrow = pa.array(cats.array)
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            return arrow
    values = cats.to_numpy(dtype=object)
    if len(values) and all(type(v) is str for v in values[:1]):
        try:
            return pa.array(values, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([str(v) for v in values], type=pa.large_string())


def _codes_with_aliases(raw_codes, cats, text, used, order, alias, where, report=None):
    """category_codes, value by value: standard values in other cases, or
    distinct values written alike (``1`` and ``"1"``). Few values."""
    present_str = text.to_pylist()
    present_set = {alias.get(v, v) for v, u in zip(present_str, used, strict=True) if u}
    known = [v for v in order if v in present_set]
    categories = tuple(known + sorted(present_set - set(known)))
    position = {v: i for i, v in enumerate(categories)}
    lookup = np.full(len(cats) + 1, -1, dtype=np.int32)  # last slot: missing (-1)
    for i, value in enumerate(present_str):
        lookup[i] = position.get(alias.get(value, value), -1)
    if alias:
        rows = _warn_standard_aliases(raw_codes, cats, alias, where)
        if report is not None:
            report(rows)
    codes = lookup[np.where(raw_codes < 0, len(cats), raw_codes)]
    return codes, categories


def _warn_standard_aliases(raw_codes, cats, alias, where) -> int:
    """Warn, and return the number of rows read as another spelling."""
    counts = np.bincount(raw_codes[raw_codes >= 0], minlength=len(cats))
    rows = {str(v): int(counts[i]) for i, v in enumerate(cats)}
    listed = ", ".join(
        f"{v!r} ({rows.get(v, 0):,} rows) as {std!r}"
        for v, std in sorted(alias.items())
    )
    warn(
        f"{where or 'a kind column'}: read {listed}. Standard values match "
        "case-insensitively and ignoring surrounding spaces; write them in lower "
        "case to silence this warning.",
        DataQualityWarning,
    )
    return sum(rows.get(v, 0) for v in alias)


def smallest_int(codes: np.ndarray, n_values: int) -> np.ndarray:
    """Downcast category codes (with -1 for missing) to the smallest int type."""
    dtype = np.int8 if n_values < 127 else np.int16 if n_values < 32_767 else np.int32
    return codes.astype(dtype, copy=False)

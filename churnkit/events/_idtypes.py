"""Customer ids of one type, and hints when one table wrote them another way.

``1`` and ``"1"`` are different keys to pandas, so a table whose ids mix them
joins nothing to the rest: an error. Numpy and Python scalars of one kind
(``1`` and ``np.int64(2)``) are the same ids. Ids that match a customer once
written alike (leading zeros, a decimal ``.0``, a leading ``+``) get a hint in
the unknown-customer error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import SchemaError

__all__ = [
    "ids_like_customers",
    "as_customer_id_type",
    "check_id_types",
    "id_form_hint",
    "zero_padding_hint",
]


def _id_family(value) -> str:
    """Python and numpy scalars of one kind are one type: 1 and np.int64(2)."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):  # np.str_ is a str
        return "str"
    return type(value).__name__


def check_id_types(ids: pd.Series, table: str) -> None:
    """Raise when ``ids`` (an object column) mix ints and text, naming ``table``."""
    if ids.dtype == object:
        types = ids.map(type).value_counts()
        if len(types) > 1:
            families = ids.map(_id_family).value_counts()
            if len(families) == 1:
                return  # e.g. int and numpy.int64: the same ids
            raise SchemaError(
                f"Table {table!r}, column 'customer_id' mixes types "
                f"{list(families.index)} (e.g. {ids.head(4).tolist()}). "
                "Use one type in every table, e.g. `.astype(str)`."
            )


_WHOLE = r"0|-?[1-9][0-9]{0,17}"  # an int64 as text, written one way


def as_customer_id_type(ids: pd.Series, customer_ids: pd.Index) -> pd.Series | None:
    """``ids`` in the type of ``customer_ids`` when the two differ only in type:
    integers written as text (``"100105"``, as a CSV is read) against integer
    customer ids (other text, ``"x"``, stays unknown: missing here), or
    integers against text ones that are all such integers; else None. Each id
    keeps its one spelling, so no two ids merge: ``"0123"`` is not ``123``
    nor ``"-0"`` 0 (the unknown-customer error's hints say why)."""
    theirs = customer_ids.dtype
    text = pd.api.types.is_object_dtype  # or pandas' own str dtype
    if pd.api.types.is_integer_dtype(theirs) and (
        text(ids.dtype) or pd.api.types.is_string_dtype(ids.dtype)
    ):
        given = ids[ids.notna()]
        if not len(given) or not all(isinstance(v, str) for v in given[:1000]):
            return None
        whole = ids.astype(str).str.fullmatch(_WHOLE) & ids.notna()
        if not whole.any():
            return None
        # the integers among them, parsed as int64 (through floats, ids past
        # 2**53 would round onto another customer); the others ('x') missing
        out = pd.array([pd.NA] * len(ids), dtype="Int64")
        out[whole.to_numpy()] = ids[whole].astype(str).astype("int64").to_numpy()
        return pd.Series(out, index=ids.index)
    if (text(theirs) or pd.api.types.is_string_dtype(theirs)) and (
        pd.api.types.is_integer_dtype(ids.dtype)
    ):
        known = pd.Series(customer_ids, dtype=object)
        if not len(known) or not all(isinstance(v, str) for v in known[:1000]):
            return None
        if not known.astype(str).str.fullmatch(_WHOLE).all():
            return None
        return ids.astype(str).astype(object)
    return None


def ids_like_customers(frame: pd.DataFrame | None, lookup) -> pd.DataFrame | None:
    """``frame`` with its ids in the customers' type when they differ only in
    type and every id converts (integer subscriptions beside a customers CSV
    read as text); else as it is (the unknown-customer error says why)."""
    if frame is None or not len(frame) or not (lookup(frame["customer_id"]) < 0).any():
        return frame
    alike = as_customer_id_type(frame["customer_id"], lookup.ids)
    if alike is None or alike.isna().sum() > frame["customer_id"].isna().sum():
        return frame
    return frame.assign(customer_id=alike.to_numpy(dtype=object))


def _id_text(values) -> pd.Series:
    """The distinct ids of ``values`` as stripped text."""
    return (
        pd.Series(pd.unique(np.asarray(values, dtype=object))).astype(str).str.strip()
    )


def zero_padding_hint(unknown: pd.Series, ids: pd.Index) -> str:
    """A hint when unknown ids match customers once leading zeros are removed
    ('1' against '00001'): one table's ids were read as numbers."""
    ours, theirs = _id_text(unknown), _id_text(ids)
    if not (ours.str.match(r"0\d").any() or theirs.str.match(r"0\d").any()):
        return ""  # no id has a leading zero: other hints say why they differ

    def bare(text):
        return text.str.lstrip("0").replace("", "0")

    hit = bare(ours).isin(set(bare(theirs)))
    if not hit.any():
        return ""
    return (
        f"{int(hit.sum()):,} of these ids match a customer once leading zeros are "
        f"removed (e.g. {ours[hit].iloc[0]!r}): the ids lost their zeros in one "
        "table, read as numbers. Read the id column as text in every table, e.g. "
        "pd.read_csv(path, dtype={'customer_id': str})."
    )


def id_form_hint(unknown: pd.Series, ids: pd.Index) -> str:
    """A hint when unknown ids match customers once written alike: leading
    zeros (:func:`zero_padding_hint`), a decimal ``.0`` (ids read as floats)
    or a leading ``+`` (a phone number written two ways)."""
    zeros = zero_padding_hint(unknown, ids)
    if zeros:
        return zeros
    ours, theirs = _id_text(unknown), _id_text(ids)

    def bare(text):
        return text.str.replace(r"\.0+$", "", regex=True).str.lstrip("+")

    known = dict(zip(bare(theirs), theirs, strict=True))
    hit = bare(ours).map(known)
    if hit.isna().all():
        return ""
    ours_e = ours[hit.notna()].iloc[0]
    theirs_e = hit.dropna().iloc[0]
    pair = f"{ours_e}{theirs_e}"
    how = []
    if ".0" in pair:
        how.append(
            "one table's ids were read as floats (a missing id makes pandas "
            "read integer ids as floats): drop the missing ids and cast, e.g. "
            "`.astype('int64')`, or read the column as text"
        )
    if "+" in pair:
        how.append("a leading '+' in one table: strip it, e.g. `.str.lstrip('+')`")
    if not how:  # alike as text: the types differ (said beside, with the fix)
        return ""
    return (
        f"{int(hit.notna().sum()):,} of these ids match a customer once written "
        f"alike ({ours_e!r} here, {theirs_e!r} in customers): " + "; ".join(how) + "."
    )

"""The stable hash bucket of a customer id: FNV-1a (64 bit) of its UTF-8 text.

The bucket of an id is the same in every process, whatever ``PYTHONHASHSEED``,
the platform, the row order or the library versions, so that an engine that
writes a table (Dask, Spark) and churnkit reading it agree on which customers
a bucket holds. The exact function, to reproduce it in another engine:

1. the id's text: a string as it is; an integer in decimal (``123`` ->
   ``"123"``, ``-5`` -> ``"-5"``); any other value as Python's ``str``;
2. its UTF-8 bytes ``b_1 .. b_m``;
3. FNV-1a, 64 bit: ``h = 0xcbf29ce484222325``; for each byte
   ``h = ((h XOR b_i) * 0x100000001b3) mod 2**64``;
4. the bucket: ``h mod n_buckets``.

An integer id and its text (``123`` and ``"123"``) get the same bucket. An
Events store never mixes the two (every table holds one id type, and ``123``
and ``"123"`` are different customers to it), so this costs nothing, and a
table whose ids were read as text by one engine and as integers by another is
still split the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["bucket_of", "check_n_buckets", "HASH_NAME", "fnv1a_64"]

HASH_NAME = "fnv1a64-utf8"
_OFFSET = np.uint64(0xCBF29CE484222325)
_PRIME = np.uint64(0x100000001B3)


def _as_text(values) -> np.ndarray:
    """The ids as a fixed-width numpy unicode array (one row per id)."""
    if isinstance(values, pd.Series | pd.Index):
        if values.isna().any():
            bad = values[values.isna()]
            raise SchemaError(
                f"customer_id: {len(bad)} null id(s), e.g. at positions "
                f"{list(np.flatnonzero(np.asarray(values.isna()))[:5])}; every row "
                "needs a customer id to be given a bucket. Fill or drop them."
            )
        if isinstance(values.dtype, pd.CategoricalDtype):
            cats = _as_text(values.cat.categories)
            return cats[np.asarray(values.cat.codes)]
        array = values.to_numpy()
    else:
        array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype(str)
    if array.dtype.kind == "f":  # a CSV id column with a blank cell reads float
        whole = np.isfinite(array) & (array == np.trunc(array))
        if whole.all():  # 8.0 is customer 8, as one machine matches it
            return array.astype(np.int64).astype(str)
        raise ChurnkitTypeError(
            "customer_id must be text or integers to be given a bucket; got "
            f"numbers with fractions, e.g. {array[~whole][:3].tolist()}."
        )
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "b":
        raise ChurnkitTypeError(
            "customer_id must be text or integers to be given a bucket; got "
            f"booleans (e.g. {array[:3].tolist()})."
        )
    if array.dtype.kind == "O":
        series = pd.Series(array, copy=False)
        if series.isna().any():
            return _as_text(series)  # raises, naming the null ids
        if len(array) and all(isinstance(v, str) for v in array[:1]):
            try:
                return array.astype(str)
            except (TypeError, ValueError):  # pragma: no cover - mixed types
                pass
        return np.asarray([str(v) for v in array.tolist()], dtype=str)
    return array.astype(str)


def fnv1a_64(values) -> np.ndarray:
    """The 64-bit FNV-1a hash of each id's UTF-8 text (see the module doc).

    Parameters
    ----------
    values : array-like
        Customer ids: strings or integers.

    Returns
    -------
    ndarray of uint64
        One hash per id.

    Examples
    --------
    >>> from churnkit.distributed._hash import fnv1a_64
    >>> hex(int(fnv1a_64(["a"])[0]))
    '0xaf63dc4c8601ec8c'
    """
    text = _as_text(values)
    n = len(text)
    h = np.full(n, _OFFSET, dtype=np.uint64)
    if n == 0 or text.dtype.itemsize == 0:
        return h
    width = text.dtype.itemsize // 4
    points = np.ascontiguousarray(text).view(np.uint32).reshape(n, width)
    length = np.char.str_len(text)
    with np.errstate(over="ignore"):
        for j in range(width):  # one pass per character position, over all ids
            cp = points[:, j].astype(np.uint64)
            live = length > j
            if not live.any():
                break
            for byte, present in _utf8_bytes(cp, live):
                h = np.where(present, (h ^ byte) * _PRIME, h)
    return h


def _utf8_bytes(cp: np.ndarray, live: np.ndarray):
    """The (up to four) UTF-8 bytes of code points ``cp``, with presence masks."""
    one = cp < 0x80
    two = (cp >= 0x80) & (cp < 0x800)
    three = (cp >= 0x800) & (cp < 0x10000)
    four = cp >= 0x10000
    u = np.uint64
    first = np.where(
        one,
        cp,
        np.where(
            two,
            u(0xC0) | (cp >> u(6)),
            np.where(three, u(0xE0) | (cp >> u(12)), u(0xF0) | (cp >> u(18))),
        ),
    )
    yield first, live
    if not (live & ~one).any():
        return
    second = np.where(
        two,
        u(0x80) | (cp & u(0x3F)),
        np.where(
            three,
            u(0x80) | ((cp >> u(6)) & u(0x3F)),
            u(0x80) | ((cp >> u(12)) & u(0x3F)),
        ),
    )
    yield second, live & ~one
    third = np.where(
        three, u(0x80) | (cp & u(0x3F)), u(0x80) | ((cp >> u(6)) & u(0x3F))
    )
    yield third, live & (three | four)
    yield u(0x80) | (cp & u(0x3F)), live & four


def check_n_buckets(n_buckets) -> None:
    """Raise unless ``n_buckets`` is an integer in ``1 .. 2**31 - 1`` (checked
    before a layout's folder is touched: an overwrite must not empty it for
    nothing)."""
    if isinstance(n_buckets, bool) or not isinstance(n_buckets, int | np.integer):
        raise ChurnkitTypeError(
            f"`n_buckets` must be a positive integer; got {n_buckets!r}."
        )
    if n_buckets < 1 or n_buckets > 2**31 - 1:
        raise SchemaError(
            f"`n_buckets` must be a positive integer below 2**31; got {n_buckets!r}."
        )


def bucket_of(customer_id, n_buckets: int) -> np.ndarray:
    """The stable hash bucket of each customer id.

    ``FNV-1a-64(UTF-8 text of the id) mod n_buckets``: identical in every
    process, platform and library version, whatever ``PYTHONHASHSEED`` or the
    row order, so any engine can reproduce it (the text of an integer is its
    decimal form; see :mod:`churnkit.distributed._hash`).

    Parameters
    ----------
    customer_id : array-like or Series
        Customer ids (strings or integers); nulls are an error.
    n_buckets : int
        The number of buckets, at least 1.

    Returns
    -------
    ndarray of int32
        The bucket of each id, in ``0 .. n_buckets - 1``.

    Examples
    --------
    >>> from churnkit.distributed import bucket_of
    >>> bucket_of(["a", "b", "C-1042"], 16)
    array([12,  5, 14], dtype=int32)
    >>> bucket_of([123, 7], 16).tolist() == bucket_of(["123", "7"], 16).tolist()
    True
    """
    check_n_buckets(n_buckets)
    h = fnv1a_64(customer_id)
    return (h % np.uint64(n_buckets)).astype(np.int32)

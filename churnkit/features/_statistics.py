"""Fit-time statistics of a whole data set, read instead of one store's.

A builder fitted on one bucket of a partitioned layout (see
``churnkit.distributed``) must learn what it would learn from the whole data:
vocabularies, category counts before the latest training cutoff, the typical
gap ``windows="auto"`` measures, the latest training cutoff itself. While
:func:`using_statistics` is active, the few places of ``fit`` that read the
store for these ask :func:`current_statistics` first. The statistics object is
duck-typed (``churnkit.distributed`` makes it); its methods:

- ``max_cutoff`` (int ns), ``training_cutoffs`` (dict), ``horizon``;
- ``value_counts(table, column)`` -> (values in store order, counts before
  ``max_cutoff``), ``all_values(table, column)`` -> every value at any time;
- ``typical_gaps(table)`` -> the measured per-row mean gaps;
- ``attribute_counts(column)`` -> a customer attribute's value counts (the
  signup cohort for None), ordered like ``Series.value_counts``.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

__all__ = [
    "current_statistics",
    "using_statistics",
    "store_value_counts",
    "store_categories",
]

_CURRENT: contextvars.ContextVar = contextvars.ContextVar(
    "churnkit_store_statistics", default=None
)


def current_statistics():
    """The statistics builders fit from now, or None (read the store)."""
    return _CURRENT.get()


@contextlib.contextmanager
def using_statistics(statistics):
    """Fit builders from ``statistics`` instead of their store's contents."""
    token = _CURRENT.set(statistics)
    try:
        yield statistics
    finally:
        _CURRENT.reset(token)


def store_value_counts(table, column, max_cutoff):
    """(values in store order, counts of rows before ``max_cutoff``) of a
    category column: the whole data set's while statistics are in use."""
    stats = _CURRENT.get()
    if stats is not None:
        values, counts = stats.value_counts(table.name, column)
        return list(values), np.asarray(counts, dtype=np.int64)
    codes = table.columns[column][table.time < max_cutoff]
    counts = np.bincount(
        codes[codes >= 0].astype(np.int64), minlength=len(table.categories[column])
    )
    return list(table.categories[column]), counts


def store_categories(table, column) -> tuple:
    """Every value of a category column (at any time), in store order."""
    stats = _CURRENT.get()
    if stats is not None:
        return tuple(stats.all_values(table.name, column))
    return tuple(table.categories.get(column, ()))

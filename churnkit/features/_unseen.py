"""Counts of category values a fitted builder never saw, without a full scan per call.

At each transform the input contract counts, per category column, the events
before the latest cutoff whose value was not in the training vocabulary
(``_contract``). Scanning the whole table for that is a cost per call
proportional to the store, paid again by every one-account request.
:func:`unseen_counts` scans each (table, column, vocabulary) once, keeps the
times and codes of the events with unseen values only, and counts those
before the cutoff on each call: the same counts, in time proportional to the
unseen events. Kept per table object (weakly), so a new store starts afresh.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

__all__ = ["unseen_counts"]

_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_MAX_KEYS = 64  #: (column, vocabulary) pairs kept per table


def unseen_counts(table, col, known, max_cutoff) -> np.ndarray:
    """Events before ``max_cutoff`` per code of ``table.columns[col]``, unseen only.

    ``known`` marks the codes in the training vocabulary; their counts are 0.
    Equal to ``bincount(codes[time < max_cutoff])`` masked by ``~known``.
    """
    key = (col, known.tobytes(), len(known))
    try:
        with _LOCK:
            per_table = _KEPT.setdefault(table, {})
    except TypeError:  # not weakly referable: scan
        per_table = {}
    entry = per_table.get(key)
    if entry is None:
        codes = table.columns[col]
        valid = codes >= 0
        codes_valid = np.where(valid, codes, 0).astype(np.int64)
        pick = valid & ~known[codes_valid]
        entry = (table.time[pick], codes_valid[pick])
        with _LOCK:
            if len(per_table) >= _MAX_KEYS:
                per_table.clear()
            per_table[key] = entry
    times, codes = entry
    return np.bincount(codes[times < max_cutoff], minlength=len(known))

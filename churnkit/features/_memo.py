"""The last small transform of a fitted ``ChurnFeatures``, kept for the next call.

Scoring one account and then explaining it transforms the same cutoff rows
twice (``model.predict_proba(X)``, then ``ChurnExplainer(model).explain(X)``).
:class:`LastTransform` keeps, per fitted feature union, the output of its last
transform of at most :data:`MAX_ROWS` rows, with what it depends on: the
fitted builders (the list object ``builders_``, replaced by every ``fit``),
the Events store attached (by identity), the tables scored as missing, and the
cutoff rows (customer ids and cutoff times, compared by value and dtype). A
later transform of equal rows under the same state gets a deep copy of that
output (bit-identical: the same computation, done once) and re-reports the
contract messages the first transform reported, so warnings do not depend on
the cache. Entries live in a ``WeakKeyDictionary`` outside the estimator, so
they are neither pickled nor cloned, and vanish with the estimator.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from churnkit.features._contract import report_once

__all__ = ["LastTransform", "MAX_ROWS", "described", "keep", "reuse"]

MAX_ROWS = 1_000  #: larger transforms are not kept (memory; latency is per row)


def _weak(obj):
    """A weak reference to ``obj`` (a callable giving it back; None stays None).

    The memo must not keep a store alive after ``set_events(model, None)``.
    """
    if obj is None:
        return lambda: None
    try:
        return weakref.ref(obj)
    except TypeError:  # not weakly referable (a list): held strongly
        return lambda: obj


def _same_array(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O":
        pairs = zip(a, b, strict=True)
        return all(x is y or (type(x) is type(y) and x == y) for x, y in pairs)
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM"))


class LastTransform:
    """Per-estimator memo of its last small transform (see the module doc)."""

    def __init__(self):
        self._entries = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @staticmethod
    def _state(owner) -> tuple:
        """(builders, events, missing tables); the first two held weakly."""
        return (
            _weak(getattr(owner, "builders_", None)),
            _weak(getattr(owner, "events", None)),
            tuple(getattr(owner, "_missing_tables", ()) or ()),
        )

    def get(self, owner, ids, times):
        """``(frame copy, messages)`` of an equal earlier transform, or None."""
        with self._lock:
            entry = self._entries.get(owner)
        if entry is None:
            return None
        state, key_ids, key_times, frame, messages = entry
        builders = getattr(owner, "builders_", None)
        events = getattr(owner, "events", None)
        missing = tuple(getattr(owner, "_missing_tables", ()) or ())
        if events is None or builders is not state[0]() or events is not state[1]():
            return None  # no store, refitted, or another store attached
        if missing != state[2]:
            return None
        if not (_same_array(ids, key_ids) and _same_array(times, key_times)):
            return None
        return frame.copy(deep=True), list(messages)

    def put(self, owner, ids, times, frame, messages) -> None:
        """Keep ``frame`` (a deep copy) as ``owner``'s output for these rows."""
        if len(frame) > MAX_ROWS:
            with self._lock:
                self._entries.pop(owner, None)
            return
        entry = (
            self._state(owner),
            np.array(ids, copy=True),
            np.array(times, copy=True),
            frame.copy(deep=True),
            tuple(messages or ()),
        )
        with self._lock:
            self._entries[owner] = entry


LAST_TRANSFORM = LastTransform()  #: the last small transform of each union


def reuse(owner, ids, times):
    """The kept output of an equal earlier transform (its reports re-reported)."""
    hit = LAST_TRANSFORM.get(owner, ids, times)
    if hit is None:
        return None
    frame, messages = hit
    for message in messages:
        report_once(message)
    return frame


def keep(owner, ids, times, frame, messages) -> None:
    """Keep ``frame`` for :func:`reuse`; ``messages`` None (nested): keep nothing."""
    if messages is not None:
        LAST_TRANSFORM.put(owner, ids, times, frame, messages)


_DESCRIBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def described(owner, make):
    """``make()`` (a DataFrame describing ``owner``'s features), made once per fit.

    Kept while ``owner``'s fitted builders (the list ``builders_``), its
    ``window_choice_`` and ``windows_`` are the same objects (every ``fit``
    replaces them); each call gets a deep copy.
    """
    state = tuple(
        getattr(owner, name, None)
        for name in ("builders_", "window_choice_", "windows_")
    )
    entry = _DESCRIBED.get(owner)
    if entry is None or any(a is not b for a, b in zip(entry[0], state, strict=True)):
        entry = (state, make())
        _DESCRIBED[owner] = entry
    return entry[1].copy(deep=True)

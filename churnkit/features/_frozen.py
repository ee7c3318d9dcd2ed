"""A read-only mapping that pandas can carry in ``DataFrame.attrs`` for free.

pandas deep-copies a frame's ``attrs`` into every frame or column derived from
it: with a dict of one entry per feature (the risk directions a feature frame
carries), reading the ~200 columns of one scored account one by one cost
~170,000 ``deepcopy`` calls, most of a one-account explanation. An immutable
mapping needs no copy, so it hands itself out.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["FrozenMapping"]


class FrozenMapping(Mapping):
    """An immutable mapping; ``copy.copy`` and ``copy.deepcopy`` return it.

    Parameters
    ----------
    items : mapping or iterable of pairs
        The content (keys and values should be immutable: strings, numbers).
    """

    __slots__ = ("_data",)

    def __init__(self, items=()):
        self._data = dict(items)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return f"FrozenMapping({self._data!r})"

    def __eq__(self, other):
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (FrozenMapping, (self._data,))

"""A read-only mapping that pandas can carry in ``DataFrame.attrs`` for free.

pandas deep-copies a frame's ``attrs`` into every frame or column derived from
it: with a dict of one entry per feature (the risk directions a feature frame
carries), reading the ~200 columns of one scored account one by one cost
~170,000 ``deepcopy`` calls, most of a one-account explanation. An immutable
mapping needs no copy, so it hands itself out.
"""

from __future__ import annotations

__all__ = ["FrozenMapping"]


class FrozenMapping(dict):
    """An immutable mapping; ``copy.copy`` and ``copy.deepcopy`` return it.

    A ``dict`` whose writes raise, so what takes a dict takes it: pandas
    writes ``attrs`` into Parquet metadata as JSON (``to_parquet`` raised
    "Object of type FrozenMapping is not JSON serializable" on every feature
    table) and ``json.dumps`` reads dicts only.

    Parameters
    ----------
    items : mapping or iterable of pairs
        The content (keys and values should be immutable: strings, numbers).

    Examples
    --------
    >>> import json
    >>> m = FrozenMapping({"logins": "lower"})
    >>> json.dumps(m)
    '{"logins": "lower"}'
    >>> m["logins"] = "higher"
    Traceback (most recent call last):
    ...
    TypeError: FrozenMapping is read-only
    """

    __slots__ = ()

    def _read_only(self, *args, **kwargs):
        raise TypeError("FrozenMapping is read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __repr__(self):
        return f"FrozenMapping({dict(self)!r})"

    __hash__ = None

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (FrozenMapping, (dict(self),))

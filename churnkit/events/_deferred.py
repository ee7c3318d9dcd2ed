"""Columns no rule of the build reads, coded to categories on first use.

An event table may carry text columns beyond its contract (a request id, a
user agent, a free-text note). Coding such a column to categories hashes and
sorts every distinct value, which for an id unique per row costs more than
the whole build of the contract's columns. The build therefore keeps these
columns as they came (Arrow-backed text, no Python string per row) together
with the row order of the store, and codes one the first time something reads
it: a feature spec that filters or groups by it, ``events.tables``, a save.
Nobody else pays for it.

Ties at equal times are still broken by these columns, as by every other
column: only the tied rows' values are ranked, which gives the same order as
their codes would (codes are ranks of the sorted distinct values).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np
import pandas as pd

from churnkit.events._categories import category_codes, smallest_int

__all__ = ["DeferredColumn", "TableColumns", "TableCategories"]


class DeferredColumn:
    """A text column kept as given, coded to categories when first read.

    Parameters
    ----------
    raw : pandas.Series
        The column in input row order (rows later dropped included).
    where : str
        ``"table.column"``, for messages.
    """

    def __init__(self, raw: pd.Series, where: str):
        self._raw = raw.reset_index(drop=True)
        self._where = where
        self._rows = None  # stored row -> input row, set by place()
        self._value = None  # (codes, categories) once coded
        self._lock = threading.Lock()

    def place(self, rows: np.ndarray) -> None:
        """Set the input row of every stored row (the table's final order)."""
        self._rows = rows

    def tie_key(self, input_rows: np.ndarray) -> np.ndarray:
        """Ranks of the values at ``input_rows``, ordered like the codes."""
        codes, _ = category_codes(self._raw.iloc[input_rows], (), where=self._where)
        return codes

    @property
    def coded(self) -> bool:
        """Whether the column was coded already."""
        return self._value is not None

    def value(self) -> tuple[np.ndarray, tuple]:
        """``(codes, categories)``: codes in the store's row order, read-only."""
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                if self._rows is None:
                    raise RuntimeError(
                        f"{self._where}: read before the build placed it"
                    )
                codes, categories = category_codes(self._raw, (), where=self._where)
                codes = np.take(smallest_int(codes, len(categories)), self._rows)
                codes.flags.writeable = False
                self._value = (codes, categories)
                self._raw = self._rows = None
        return self._value

    def nbytes(self) -> int:
        """Bytes of the codes once coded (the raw column's are the caller's)."""
        if self._value is not None:
            return int(self._value[0].nbytes)
        return 0 if self._rows is None else int(self._rows.nbytes)

    # a pickled store (joblib workers, copies) carries codes, not the raw text
    def __getstate__(self):
        return {"value": self.value(), "where": self._where}

    def __setstate__(self, state):
        self.__init__(pd.Series([], dtype=object), state["where"])
        codes, categories = state["value"]
        if codes.flags.writeable and codes.flags.owndata:
            codes.flags.writeable = False
        self._value = (codes, categories)


class TableColumns(Mapping):
    """An event table's columns: arrays, and deferred columns coded when read.

    Iterates in the order the columns were given; ``deferred`` names the
    columns not coded at build time.
    """

    def __init__(self, arrays: dict, deferred: dict, order=None):
        self._arrays = arrays
        self._deferred = deferred
        self._order = list(order) if order is not None else [*arrays, *deferred]

    @property
    def deferred(self) -> tuple[str, ...]:
        """Names of the columns kept as given until first read."""
        return tuple(self._deferred)

    @property
    def arrays(self) -> dict:
        """The columns coded at build time, by name."""
        return self._arrays

    def __getitem__(self, key):
        try:
            return self._arrays[key]
        except KeyError:
            return self._deferred[key].value()[0]

    def __iter__(self):
        return iter(self._order)

    def __len__(self):
        return len(self._order)

    def __contains__(self, key) -> bool:
        return key in self._arrays or key in self._deferred

    def nbytes(self) -> int:
        """Bytes held: arrays, coded deferred columns and their row orders."""
        total = sum(int(a.nbytes) for a in self._arrays.values())
        rows = {id(d._rows): d.nbytes() for d in self._deferred.values() if not d.coded}
        coded = sum(d.nbytes() for d in self._deferred.values() if d.coded)
        return total + coded + sum(rows.values())


class TableCategories(Mapping):
    """Categories of a table's category columns, deferred ones when first read."""

    def __init__(self, categories: dict, deferred: dict):
        self._categories = categories
        self._deferred = deferred

    def __getitem__(self, key):
        try:
            return self._categories[key]
        except KeyError:
            return self._deferred[key].value()[1]

    def __iter__(self):
        return iter([*self._categories, *self._deferred])

    def __len__(self):
        return len(self._categories) + len(self._deferred)

    def __contains__(self, key) -> bool:
        return key in self._categories or key in self._deferred

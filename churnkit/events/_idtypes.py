"""Customer ids of one type: ints and text mixed in a column is an error.

``1`` and ``"1"`` are different keys to pandas, so a table whose ids mix them
joins nothing to the rest; numpy and Python scalars of one kind (``1`` and
``np.int64(2)``) are the same ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import SchemaError

__all__ = ["check_id_types"]


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

"""Feature tables as float matrices, read in blocks rather than column by column.

An explanation reads every feature of the explained rows as a float (its
"numeric coding": numbers as float64, categorical features as level codes,
NaN when missing). Reading a few hundred columns one Series at a time is a
fixed cost of every call, larger than the arithmetic for one account, so
:func:`numeric_matrix` takes all float64 columns in one block and only the
other columns one by one, and :func:`objects_as_float` converts an object
block of plain numbers in one step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["numeric_matrix", "objects_as_float", "MAX_BLOCK_CELLS"]

MAX_BLOCK_CELLS = 1_000_000  #: larger object blocks: column by column
_PLAIN_NUMBERS = (float, int, np.floating, np.integer, type(None))


def numeric_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Columns of ``frame`` as floats, shape ``(n_rows, n_columns)``.

    Categorical columns give their level codes (NaN when missing), numeric
    columns their values (NaN for missing), other columns NaN.
    """
    n, p = frame.shape
    out = np.empty((n, p), dtype=np.float64)
    dtypes = list(frame.dtypes)
    floats = [j for j, d in enumerate(dtypes) if _is_float64(d)]
    if floats:
        out[:, floats] = frame.iloc[:, floats].to_numpy(dtype=np.float64)
    for j in sorted(set(range(p)) - set(floats)):
        dtype, col = dtypes[j], frame.iloc[:, j]
        if isinstance(dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype("float64")
            codes[codes < 0] = np.nan
            out[:, j] = codes
        elif pd.api.types.is_numeric_dtype(dtype):
            out[:, j] = col.to_numpy(dtype="float64", na_value=np.nan)
        else:
            out[:, j] = np.nan
    return out


def _is_float64(dtype) -> bool:
    return isinstance(dtype, np.dtype) and dtype == np.float64


def objects_as_float(block: np.ndarray) -> np.ndarray | None:
    """An object block of plain numbers (or None) as float64, else None.

    Plain numbers are Python and numpy ints and floats (not bools); for them
    ``float`` is what ``pd.to_numeric(..., errors="coerce")`` gives, None and
    NaN become NaN. Anything else (text, bools, ``pd.NA``, decimals), or a
    block over :data:`MAX_BLOCK_CELLS` cells: None, and the caller converts
    column by column.
    """
    if block.size > MAX_BLOCK_CELLS:
        return None
    kinds = set(map(type, block.ravel().tolist()))
    if not all(issubclass(k, _PLAIN_NUMBERS) and k is not bool for k in kinds):
        return None
    return np.asarray(block, dtype=np.float64)

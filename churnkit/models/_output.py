"""What the classifier reads from its input under scikit-learn's output config.

* :func:`as_input`: a polars feature table (what a builder returns under
  ``set_output(transform="polars")``) becomes pandas with its
  ``customer_id`` / ``cutoff_time`` columns as the index again, so the
  classifier keeps its time-ordered hold-out and the feature directions.
* :func:`random_holdout_note`: the warning when the hold-out has to be random
  although ``X`` is a panel (customers repeat) without a ``cutoff_time``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.features._output import from_polars, is_polars

__all__ = ["as_input", "random_holdout_note"]


def as_input(X):
    """``X`` as the classifier reads it: polars frames as keyed pandas."""
    if is_polars(X):
        return from_polars(X, keys_to_index=True)
    return X


def random_holdout_note(index: pd.Index) -> str | None:
    """Why a random hold-out is a poor substitute here, or None.

    A random hold-out is fine for a static table (one row per customer). When
    customer ids repeat, rows of the same customer at later cutoffs end up on
    both sides, and early stopping and calibration see the future.
    """
    names = list(index.names)
    if CUTOFF_TIME in names:
        return None
    if CUSTOMER_ID in names:
        ids = index.get_level_values(CUSTOMER_ID)
    elif names == [None]:
        return None
    else:
        ids = index
    n_unique = len(pd.unique(np.asarray(ids)))
    if n_unique == len(ids):
        return None
    return (
        f"X has no `{CUTOFF_TIME}` index level but repeats customers "
        f"({len(ids)} rows, {n_unique} distinct ids), so the hold-out for early "
        "stopping and calibration is random instead of the latest cutoffs: "
        "later rows of a customer can inform earlier ones. Keep the "
        f"({CUSTOMER_ID}, {CUTOFF_TIME}) index of the feature table (it is kept "
        "under set_output 'pandas' and 'polars')."
    )

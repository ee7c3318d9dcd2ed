"""The cutoff table (X) in, feature frames out: pandas glue of the kernel."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
import pandas as pd

from churnkit._memory import reuse_freed_memory
from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME, read_cutoff_table

# the cutoff rows a feature union is transforming, read once for its builders
_shared = threading.local()


@contextmanager
def shared_rows(X, ids, times):
    """Within the block, :func:`read_X` of this very ``X`` and
    :func:`output_index` of these very arrays are computed once: a union's
    builders read the same cutoff table and index their outputs alike (five
    reads and four indexes were a fifth of scoring one account)."""
    previous = getattr(_shared, "rows", None)
    _shared.rows = [X, ids, times, None]
    try:
        yield
    finally:
        _shared.rows = previous


def read_X(X, *, name="X"):
    """(customer ids, cutoff times as datetime64[ns]) from the cutoff table.

    The errors are those of :func:`churnkit._validation.read_cutoff_table`,
    shared with ``label_churn`` and ``CutoffSplit``.
    """
    rows = getattr(_shared, "rows", None)
    if rows is not None and rows[0] is X:
        return rows[1], rows[2]
    return read_cutoff_table(X, name=name)


def as_categorical(values, categories) -> pd.Categorical:
    """Values as a Categorical with fixed categories; others become missing."""
    values = np.asarray(values, dtype=object)
    known = pd.Index(categories).get_indexer(values)
    return pd.Categorical.from_codes(known, categories=categories)


def float_block(names, n_rows: int) -> tuple[np.ndarray, dict]:
    """An empty F-ordered float64 block and its columns by name.

    Handed to ``compute_specs(..., out=columns)``, the features are written
    straight into the block that :func:`feature_frame` then wraps.
    """
    block = np.empty((n_rows, len(names)), dtype=np.float64, order="F")
    return block, {name: block[:, j] for j, name in enumerate(names)}


def feature_frame(columns: dict, index, block=None) -> pd.DataFrame:
    """A DataFrame of feature columns whose numerics share one float64 block.

    When ``block`` (from :func:`float_block`) already holds every numeric
    column, in order, it is used as it is. Otherwise the block is assembled
    here at one copy per column; letting pandas consolidate a dict of columns
    costs that plus a second, slower stacking.
    """
    names = list(columns)
    numeric = [n for n in names if not isinstance(columns[n], pd.Categorical)]
    if not _columns_of(block, [columns[n] for n in numeric]):
        block = np.empty((len(index), len(numeric)), dtype=np.float64, order="F")
        for j, name in enumerate(numeric):
            block[:, j] = columns[name]
    frame = pd.DataFrame(block, index=index, columns=numeric, copy=False)
    if len(numeric) == len(names):
        return frame
    categorical = pd.DataFrame(
        {n: columns[n] for n in names if n not in set(numeric)}, index=index
    )
    return pd.concat([frame, categorical], axis=1)[names]


def _columns_of(block, arrays) -> bool:
    """Whether ``arrays`` are exactly the columns of ``block``, in order."""
    if block is None or block.shape[1] != len(arrays):
        return False
    for j, array in enumerate(arrays):
        column = block[:, j]
        if not (
            isinstance(array, np.ndarray)
            and array.dtype == column.dtype
            and array.shape == column.shape
            and array.strides == column.strides
            and array.ctypes.data == column.ctypes.data
        ):
            return False
    return True


def output_index(ids, times) -> pd.MultiIndex:
    """The (customer_id, cutoff_time) index of a feature frame.

    Within :func:`shared_rows`, one index object for the rows shared: the
    union's concat of its builders' outputs then aligns them by identity.
    """
    rows = getattr(_shared, "rows", None)
    if rows is None or rows[1] is not ids or rows[2] is not times:
        return _output_index(ids, times)
    if rows[3] is None:
        rows[3] = _output_index(ids, times)
    return rows[3]


def _output_index(ids, times) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays(
        [ids, pd.DatetimeIndex(times)], names=[CUSTOMER_ID, CUTOFF_TIME]
    )


@reuse_freed_memory()
def compute_features(events, X, specs) -> pd.DataFrame:
    """Evaluate feature specs for each (customer, cutoff) row of ``X``.

    The functional core of every builder: no fitting, no vocabulary, just the
    kernel. Use :class:`churnkit.CustomFeatures` to get the same inside a
    scikit-learn pipeline.

    Parameters
    ----------
    events : Events
        The event store.
    X : DataFrame
        The cutoff table: ``customer_id`` and ``cutoff_time`` columns (or
        index levels).
    specs : sequence of FeatureSpec or Derived
        The features, in output order.

    Returns
    -------
    DataFrame
        Indexed by (``customer_id``, ``cutoff_time``) in ``X``'s order; numeric
        features float64, ``last``/``first`` of a category column as pandas
        Categorical.

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> spec = ck.FeatureSpec("logins_30d", "usage", "count", window="30D",
    ...                       where={"event": "login"})
    >>> list(ck.compute_features(data.events, X, [spec]).columns)
    ['logins_30d']
    """
    from churnkit.features._spec import FeatureSpec, validate_spec
    from churnkit.features._windows import compute_specs

    ids, times = read_X(X)
    codes = events._engine.codes(ids, table="X")
    for spec in specs:
        validate_spec(spec, events._engine)
    categories = {}  # the last/first value of a category column: Categorical
    for spec in specs:
        table = events._engine.table(spec.table) if spec.table != "customers" else None
        if (
            isinstance(spec, FeatureSpec)
            and table is not None
            and spec.match is None
            and table.kinds.get(spec.column) == "category"
            and spec.agg in ("last", "first")
        ):
            categories[spec.name] = list(table.categories[spec.column])
    outputs = [s.name for s in specs if s.output]
    block, out = float_block([n for n in outputs if n not in categories], len(ids))
    values = compute_specs(events._engine, specs, codes, times.view("int64"), out=out)
    columns = {}
    for name in outputs:
        if name in categories:
            columns[name] = pd.Categorical.from_codes(
                values[name].astype(np.int64), categories=categories[name]
            )
        else:
            columns[name] = values[name]
    return feature_frame(columns, output_index(ids, times), block)

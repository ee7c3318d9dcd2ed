"""Window reductions (sum, mean, min, max) over bounds in any row order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from churnkit.features._windows import _segment_reduce

UFUNCS = {"sum": (np.add, 0.0), "min": (np.fmin, np.nan), "max": (np.fmax, np.nan)}


def _naive(ufunc, values, lo, hi, empty):
    return np.array(
        [
            ufunc.reduce(values[a:b]) if b > a else empty
            for a, b in zip(lo, hi, strict=True)
        ],
        dtype=np.float64,
    )


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), min_size=1, max_size=40
    ),
    windows=st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45)), max_size=30),
    name=st.sampled_from(sorted(UFUNCS)),
)
def test_segment_reduce_equals_a_loop_in_any_row_order(values, windows, name):
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    lo = np.array([min(a, n) for a, _ in windows], dtype=np.int64)
    hi = np.array([min(max(a, b), n) for a, b in windows], dtype=np.int64)
    ufunc, empty = UFUNCS[name]
    got = _segment_reduce(ufunc, values, lo, hi, empty)
    # min and max are exact; a sum may add in another order (a few ulps of the
    # largest magnitude: 1.0 + 245760.0 + 16383.008 is 262144.00800000003)
    same = np.testing.assert_array_equal
    if name == "sum":
        scale = float(np.nanmax(np.abs(values), initial=1.0)) * len(values)

        def same(a, b):
            np.testing.assert_allclose(
                a, b, rtol=0, atol=4 * np.finfo(float).eps * scale
            )

    same(got, _naive(ufunc, values, lo, hi, empty))
    # the same windows sorted by start give the same values, row for row
    order = np.argsort(lo, kind="stable")
    sorted_got = _segment_reduce(ufunc, values, lo[order], hi[order], empty)
    same(sorted_got, got[order])


def test_unsorted_windows_cost_no_more_than_sorted_ones():
    # 2,000 windows of 10 rows in random order over 200,000 rows: reduceat's
    # gaps between consecutive windows must not be reduced across the table
    rng = np.random.default_rng(0)
    values = rng.normal(size=200_000)
    lo = rng.permutation(np.arange(0, 199_990, 100))[:2_000]
    hi = lo + 10
    got = _segment_reduce(np.add, values, lo, hi, 0.0)
    expected = np.add.reduceat(values, np.ravel(np.c_[lo, hi]))[0::2]
    np.testing.assert_allclose(got, expected)

"""A few rows far past the rest, in a layout written from raw tables.

On one machine ``Events`` warns when a handful of rows (scheduled future
invoices, a mistyped year) lie weeks past the rest of the data and so set
the default ``observed_until``: every day up to them would read as observed,
with no churn (:func:`churnkit.events._extent.warn_stray_latest_rows`). A
layout written by Dask or Spark from raw tables sets its ``observed_until``
from the files (:func:`churnkit.distributed._manifest.write_manifest`), and
no single machine sees the whole data: :class:`LatestTimes` keeps the latest
times of each file while they are scanned, and applies the same rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._extent import (
    MAX_STRAY_SHARE,
    MIN_BULK_ROWS,
    SPACING_SAMPLE,
    stray_cut,
)
from churnkit.exceptions import DataQualityWarning

__all__ = ["LatestTimes"]


class LatestTimes:
    """The latest times of the columns that set ``observed_until``.

    Parameters
    ----------
    max_rows : int
        An upper bound of the rows scanned (the layout's row counts): each
        file keeps its latest ``MAX_STRAY_SHARE * max_rows + 1 +
        SPACING_SAMPLE`` times, all the rule can need.
    """

    def __init__(self, max_rows: int):
        self.keep = int(MAX_STRAY_SHARE * max_rows) + 1 + SPACING_SAMPLE + 1
        self.n = 0
        self.names = []  # "'usage'.time", ...: a source's code is its position
        self.times = np.zeros(0, dtype=np.int64)
        self.codes = np.zeros(0, dtype=np.int16)

    def add(self, table: str, column: str, ns: np.ndarray) -> None:
        """Record the times (int64 ns, no missing) of one file's column.

        Only the latest ``keep`` times over all files so far are held, so the
        memory stays bounded however many files a layout has."""
        self.n += len(ns)
        name = f"{table!r}.{column}"
        if name not in self.names:
            self.names.append(name)
        code = np.full(len(ns), self.names.index(name), dtype=np.int16)
        self.times = np.concatenate([self.times, np.asarray(ns, dtype=np.int64)])
        self.codes = np.concatenate([self.codes, code])
        if len(self.times) > 2 * self.keep:  # merge: amortised O(rows)
            top = np.argpartition(self.times, len(self.times) - self.keep)
            top = top[len(self.times) - self.keep :]
            self.times, self.codes = self.times[top], self.codes[top]

    def warn_if_stray(self, until: pd.Timestamp) -> None:
        """Warn, as ``Events`` does, when a few rows far past the rest set
        ``until`` (the default ``observed_until``)."""
        max_stray = max(1, int(MAX_STRAY_SHARE * self.n))
        if not len(self.times) or self.n - max_stray < MIN_BULK_ROWS:
            return
        order = np.argsort(self.times, kind="stable")
        order = order[-(max_stray + 1 + SPACING_SAMPLE) :]
        times = self.times[order]
        sources = np.asarray(self.names, dtype=object)[self.codes[order]]
        cut = stray_cut(times, max_stray)
        if cut is None:
            return
        rest_end = pd.Timestamp(int(times[cut - 1]))
        counts = pd.Series(sources[cut:]).value_counts()
        where = ", ".join(f"{s}: {k:,}" for s, k in counts.items())
        days = (pd.Timestamp(int(times[cut])) - rest_end) // pd.Timedelta("1D")
        suggest = rest_end.normalize() + pd.Timedelta("1D")
        warn(
            f"write_layout: {len(times) - cut:,} row(s) ({where}) lie {days:,} "
            f"days or more after the rest of the data, which ends "
            f"{rest_end.date()} (every other row is earlier); the latest is "
            f"{pd.Timestamp(int(times[-1]))}. The default observed_until = "
            f"{until} would treat the days after {rest_end.date()} as observed: "
            "churn there is not in the data, so they would read as 'not "
            f"churned'. If the data ends on {rest_end.date()}, write the layout "
            f"with observed_until='{suggest.date()}'; or drop these rows "
            "(scheduled future invoices or renewals, mistyped years) first.",
            DataQualityWarning,
        )

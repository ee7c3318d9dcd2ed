"""Times written in a zone other than UTC: stored in UTC, and said so.

Calendar periods (the months of ``churn_rate`` and cohorts, a ``'1MS'``
horizon) start at UTC midnight, so a time just after local midnight on the
1st falls in the month before. Both a tz-aware column and text with UTC
offsets (``'2024-06-01T00:30:00+01:00'``, as a CSV export writes local times)
warn once, with the way to count in local time.
"""

from __future__ import annotations

import re

import pandas as pd

from churnkit._logging import warn
from churnkit.exceptions import DataQualityWarning

__all__ = ["warn_local_zone", "warn_text_offsets"]

#: a UTC offset at the end of a time: +01:00, -0700, +05
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?\s*$")


def warn_local_zone(series: pd.Series, table: str, column: str) -> None:
    """Times in a zone other than UTC are stored in UTC: say what that does
    to calendar periods, and how to count in local time instead."""
    zone = str(series.dtype.tz)
    if zone in ("UTC", "UTC+00:00", "Etc/UTC", "GMT", "Z"):
        return
    warn(
        f"Table {table!r}, column {column!r} is in {zone}: times are stored in "
        "UTC, so calendar periods (the months of churn_rate and cohorts, "
        "calendar horizons such as '1MS') start at UTC midnight, and a time "
        "just after local midnight on the 1st (e.g. 00:30 in a zone east of "
        "UTC) falls in the month before. To count in local time, give local "
        "wall-clock times to every table: "
        f"df[{column!r}] = df[{column!r}].dt.tz_localize(None).",
        DataQualityWarning,
    )


def warn_text_offsets(values: pd.Series, table: str, column: str) -> None:
    """Warn when text times carry UTC offsets other than 0 (local times)."""
    # the distinct texts first: a column of 10^8 times has a few thousand
    distinct = pd.Series(pd.unique(values.to_numpy(dtype=object)), dtype=object)
    distinct = distinct.astype(str)
    found = distinct.str.extract(_OFFSET).dropna(subset=[1])
    if found.empty:
        return
    minutes = found[1].astype(int) * 60 + found[2].fillna("0").astype(int)
    local = found[minutes != 0]
    if local.empty:
        return
    sign, hours, mins = local.iloc[0]
    example = f"{sign}{hours}:{mins if isinstance(mins, str) else '00'}"
    warn(
        f"Table {table!r}, column {column!r} holds local times with UTC offsets "
        f"(e.g. {example}): times are stored in UTC, so calendar periods (the "
        "months of churn_rate and cohorts, calendar horizons such as '1MS') "
        "start at UTC midnight, and a time just after local midnight on the "
        "1st falls in the month before. To count in local time, drop the "
        f"offsets: df[{column!r}] = pd.to_datetime(df[{column!r}].str.replace("
        "r'\\s*(Z|[+-]\\d\\d:?\\d\\d)$', '', regex=True)).",
        DataQualityWarning,
    )

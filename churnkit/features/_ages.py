"""Ages from birth dates: completed years, and the ones no customer can have."""

from __future__ import annotations

import numpy as np

from churnkit._logging import warn
from churnkit.events._store import NAT
from churnkit.exceptions import DataQualityWarning

__all__ = ["MAX_AGE", "completed_years", "plausible_ages"]

#: oldest age read as real; older (a 1900 placeholder) reads as missing
MAX_AGE = 120


def completed_years(t: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Whole years from ``dates`` to ``t`` (ns), as an age is told: a year
    counts from the birthday on. ``NAT`` dates give NaN.

    A fraction of 365.25 days rounded for the reasons told a customer of
    12.48 and then 12.57 years "12 -> 13" with no birthday between.

    >>> t = np.array(["2020-06-01", "2020-07-01"], "datetime64[ns]").view("i8")
    >>> born = np.array(["2007-12-07", "2007-06-15"], "datetime64[ns]").view("i8")
    >>> completed_years(t, born)
    array([12., 13.])
    """
    missing = dates == NAT
    day_t = t.view("datetime64[ns]").astype("datetime64[D]")
    day_d = np.where(missing, 0, dates).view("datetime64[ns]").astype("datetime64[D]")
    years = day_t.astype("datetime64[Y]").astype(np.int64) - day_d.astype(
        "datetime64[Y]"
    ).astype(np.int64)
    # day of the year as (month, day): before the birthday, a year fewer
    month_t, month_d = day_t.astype("datetime64[M]"), day_d.astype("datetime64[M]")
    key_t = (month_t.astype(np.int64) % 12) * 32 + (day_t - month_t).astype(np.int64)
    key_d = (month_d.astype(np.int64) % 12) * 32 + (day_d - month_d).astype(np.int64)
    out = (years - (key_t < key_d)).astype("float64")
    out[missing] = np.nan
    return out


def plausible_ages(years, column, ids) -> np.ndarray:
    """``years`` with ages below 0 or above :data:`MAX_AGE` set to NaN, counted.

    A birth date after the cutoff (a typo of the year, a date of the record's
    entry) or a placeholder such as 1900-01-01 gives an age of -8 or 124 that
    a model would read as a real customer; such ages read as missing instead
    and a :class:`~churnkit.DataQualityWarning` names the column, the count
    and a few customers.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     ages = plausible_ages(np.array([34.0, -8.0, np.nan]), "dob", "abc")
    >>> ages
    array([34., nan, nan])
    >>> "1 of 2 rows" in str(caught[0].message)
    True
    """
    years = np.asarray(years, dtype="float64")
    bad = (years < 0) | (years > MAX_AGE)
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(f"{ids[i]!r} ({years[i]:.0f} years)" for i in rows[:5])
        more = f" and {len(rows) - 5:,} more" if len(rows) > 5 else ""
        warn(
            f"customers.{column}: {len(rows):,} of {int(np.sum(~np.isnan(years))):,} "
            f"rows give an age below 0 or above {MAX_AGE} at the cutoff: {shown}"
            f"{more}. Those ages read as missing (NaN). Fix: correct the birth "
            "dates, or blank placeholders such as 1900-01-01 and dates after "
            "the cutoff.",
            DataQualityWarning,
        )
        years = np.where(bad, np.nan, years)
    return years

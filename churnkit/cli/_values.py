"""Argument types: dates, durations and frequencies checked as they are
parsed, so a bad value is named by its option before any data is read."""

from __future__ import annotations

import argparse
import re

import pandas as pd

from churnkit._time import parse_duration
from churnkit.exceptions import ChurnkitError

DATE_EXAMPLE = "2024-06-01"
# a date names its year in full: pandas reads "June" as 0001-06-01
_YEAR = re.compile(r"\d{4}")


def date_problem(text: str) -> str | None:
    """Why ``text`` is not a date churnkit can hold, or None when it is."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT or not _YEAR.search(text):
        return f"{text!r} is not a date; write it as {DATE_EXAMPLE}"
    try:
        ts.as_unit("ns")
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        return (
            f"{text!r} is outside the dates churnkit can hold (1677-09-22 to "
            f"2262-04-11); write a date such as {DATE_EXAMPLE}, or leave the "
            "option out for an open end"
        )
    return None


def date(text: str) -> str:
    """An argparse type: ``text`` when it is a date (kept as written)."""
    problem = date_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def duration(allow_zero: bool):
    """An argparse type for a horizon (``allow_zero=False``) or a gap."""
    number = "a number (0 or more)" if allow_zero else "a positive number"
    example = "0D, 7D (days)" if allow_zero else "30D (days), 12h"

    def parse(text: str) -> str:
        try:
            parse_duration(text, name="duration", allow_zero=allow_zero)
        except ChurnkitError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration; write {number} and a unit, e.g. "
                f"{example} or 1MS (one calendar month; 1M is ambiguous)"
            ) from None
        return text

    return parse


def frequency(text: str) -> str:
    """An argparse type: ``text`` when pandas reads it as an offset alias."""
    try:
        pd.tseries.frequencies.to_offset(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a frequency; write a pandas offset alias, e.g. MS "
            "(month starts), W-MON (Mondays) or 7D"
        ) from None
    return text

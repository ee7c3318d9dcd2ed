"""Unit formatting of every number the report shows."""

import numpy as np
import pandas as pd
import pytest

from churnkit.reporting._format import (
    MISSING,
    fmt,
    fmt_change,
    fmt_count,
    fmt_date,
    fmt_money,
    fmt_number,
    fmt_percent,
    fmt_ratio,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.025, "2.5%"),
        (0.0, "0.0%"),
        (1.0, "100.0%"),
        (0.98954, "99.0%"),
        (-0.0001, "0.0%"),
        (0.12345, "12.3%"),
        (np.nan, MISSING),
        (None, MISSING),
    ],
)
def test_percent(value, text):
    assert fmt_percent(value) == text


def test_percent_signed_and_digits():
    assert fmt_percent(0.004, signed=True) == "+0.4%"
    assert fmt_percent(0.5, digits=0) == "50%"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1038060.0, "$1,038,060"),
        (9.99, "$9.99"),
        (9.0, "$9"),
        (-1200.4, "-$1,200"),
        (0.001, "$0.00"),
        (123.456, "$123"),
        (np.nan, MISSING),
    ],
)
def test_money(value, text):
    assert fmt_money(value) == text


def test_money_signed_and_currency():
    assert fmt_money(1200, signed=True) == "+$1,200"
    assert fmt_money(-5.5, currency="€") == "-€5.50"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3708.0, "3,708"),
        (3708.4, "3,708"),
        (0, "0"),
        (1234567, "1,234,567"),
        (np.float64("nan"), MISSING),
    ],
)
def test_count(value, text):
    assert fmt_count(value) == text
    assert fmt(value, "count") == text


def test_date_and_number_and_ratio():
    assert fmt_date(pd.Timestamp("2025-06-30")) == "2025-06-30"
    assert fmt_date("2025-06-30 14:05") == "2025-06-30 14:05"
    assert fmt_date(pd.NaT) == MISSING
    assert fmt_number(0.70512, 3) == "0.705"
    assert fmt_number(12345.6) == "12,346"
    assert fmt_number(float("inf")) == "∞"
    assert fmt_ratio(2.345) == "2.3×"


def test_change_by_unit():
    assert fmt_change(0.029, 0.025, "percent") == "+0.4 pp"
    assert fmt_change(0.025, 0.025, "percent") == "+0.0 pp"
    assert fmt_change(1000, 2200, "money") == "-$1,200"
    assert fmt_change(3708, 3700, "count") == "+8"
    assert fmt_change(1.0, np.nan, "count") == MISSING


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit='furlongs'"):
        fmt(1, "furlongs")

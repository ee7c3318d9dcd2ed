"""Numbers formatted by their unit, for the report's text, tables and charts.

Every number the report shows goes through :func:`fmt`: a fraction is a
percent (``2.5%``), money has a currency sign and no cents above 100
(``$1,038,060``), a count is an integer with thousands separators (``3,708``),
a date is ``2025-06-30``. Missing values read ``–``. Changes between periods
are shown in the unit of the change: percentage points for rates
(``+0.4 pp``), signed money and counts otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np
import pandas as pd

MISSING = "–"
UNITS = ("percent", "money", "count", "date", "number", "ratio")

# the currency sign of money in the report being written (report(currency=))
_CURRENCY: contextvars.ContextVar[str] = contextvars.ContextVar(
    "churnkit_report_currency", default="$"
)


@contextlib.contextmanager
def using_currency(symbol: str):
    """Format money with ``symbol`` ("£", "€", "CHF ") inside the block."""
    token = _CURRENCY.set(symbol)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_percent(value, digits: int = 1, signed: bool = False) -> str:
    """A fraction as a percent: 0.025 -> ``2.5%``."""
    if _missing(value):
        return MISSING
    x = float(value) * 100.0
    if round(x, digits) == 0:
        x = 0.0  # no "-0.0%"
    sign = "+" if signed else ""
    return f"{x:{sign},.{digits}f}%"


def fmt_money(value, currency: str | None = None, signed: bool = False) -> str:
    """Money: cents below 100, whole units above (``$9.99``, ``$1,038,060``);
    the sign of :func:`using_currency` when ``currency`` is None."""
    if _missing(value):
        return MISSING
    currency = _CURRENCY.get() if currency is None else currency
    x = float(value)
    digits = 2 if abs(x) < 100 and x != round(x) else 0
    if round(x, digits) == 0:
        x = 0.0
    sign = "-" if x < 0 else ("+" if signed else "")
    return f"{sign}{currency}{abs(x):,.{digits}f}"


def fmt_count(value, signed: bool = False) -> str:
    """A count: 3708.0 -> ``3,708``."""
    if _missing(value):
        return MISSING
    x = int(round(float(value)))
    return f"{x:+,d}" if signed else f"{x:,d}"


def fmt_date(value) -> str:
    """A date: ``2025-06-30`` (with the time of day only when it is not 0:00)."""
    if _missing(value):
        return MISSING
    ts = pd.Timestamp(value)
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def fmt_number(value, digits: int = 2) -> str:
    """A unitless number: ``0.71``, ``12.5``, ``1,234``."""
    if _missing(value):
        return MISSING
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def fmt_ratio(value) -> str:
    """A multiple such as a lift: 2.345 -> ``2.3×``."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.1f}×"


def fmt(value, unit: str, **options) -> str:
    """Format ``value`` by ``unit`` (one of :data:`UNITS`)."""
    if unit == "percent":
        return fmt_percent(value, **options)
    if unit == "money":
        return fmt_money(value, **options)
    if unit == "count":
        return fmt_count(value, **options)
    if unit == "date":
        return fmt_date(value)
    if unit == "ratio":
        return fmt_ratio(value)
    if unit == "number":
        return fmt_number(value, **options)
    raise ValueError(f"unit={unit!r}: use one of {UNITS}")


def fmt_change(current, previous, unit: str, currency: str | None = None) -> str:
    """The change from ``previous`` to ``current``: ``+0.4 pp``, ``-$1,200``."""
    if _missing(current) or _missing(previous):
        return MISSING
    delta = float(current) - float(previous)
    if unit == "percent":
        pp = delta * 100.0
        if round(pp, 1) == 0:
            pp = 0.0
        return f"{pp:+.1f} pp"
    if unit == "money":
        return fmt_money(delta, currency=currency, signed=True)
    if unit == "count":
        return fmt_count(delta, signed=True)
    return f"{delta:+,.2f}"


def axis_formatter(unit: str, currency: str | None = None):
    """A matplotlib tick formatter for ``unit`` (money in the currency of
    :func:`using_currency` when the formatter is made)."""
    from matplotlib.ticker import FuncFormatter

    currency = _CURRENCY.get() if currency is None else currency

    if unit == "percent":
        return FuncFormatter(lambda v, _: fmt_percent(v, digits=_tick_digits(v)))
    if unit == "money":
        return FuncFormatter(lambda v, _: _short_money(v, currency))
    if unit == "count":
        return FuncFormatter(lambda v, _: fmt_count(v))
    return FuncFormatter(lambda v, _: fmt_number(v))


def _tick_digits(v: float) -> int:
    x = abs(v) * 100
    return 0 if np.isclose(x, round(x)) else 1


def _short_money(v: float, currency: str) -> str:
    x = abs(v)
    sign = "-" if v < 0 else ""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{sign}{currency}{x / div:,.3g}{suffix}"
    return f"{sign}{currency}{x:,.0f}"

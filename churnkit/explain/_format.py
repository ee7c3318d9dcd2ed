"""Numbers a person reads: values rounded and formatted by their unit.

Every number in a reason, a table or a plot goes through :func:`shown` (round
to the precision the unit is shown at) and :func:`text` (format the rounded
number). Two values "read the same" when their shown numbers are equal.

========================  ==================  ========================
unit (``describe_features``)  kind          shown as
========================  ==================  ========================
fraction, percent, rate   percent             ``-62%`` (``+3%`` when signed)
currency, money           money               ``$1,234``, ``$9.99``
days and counts           integer             ``1,234``
score                     score               ``4.5``
flag                      flag                ``yes`` / ``no``
anything else             number              ``0.13``, ``12.5``, ``1,234``
========================  ==================  ========================
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["unit_kind", "shown", "text", "format_numbers", "is_signed"]

_PERCENT = {"fraction", "percent", "share", "ratio of change"}
_MONEY = {"currency", "money", "revenue", "amount"}
_INTEGER = {
    "days",
    "events",
    "tickets",
    "units",
    "payments",
    "failed payments",
    "refunds",
    "discounts",
    "plan changes",
    "seats",
    "count",
    "customers",
    "purchases",
    "messages",
}


def unit_kind(unit) -> str:
    """How a unit is shown: percent, money, integer, score, flag or number."""
    u = str(unit or "").strip().lower()
    if u in _PERCENT:
        return "percent"
    if u in _MONEY:
        return "money"
    if u in ("score", "rating", "csat"):
        return "score"
    if u in ("flag", "boolean", "bool"):
        return "flag"
    if u in _INTEGER or (u.endswith("s") and " per " not in u and " " not in u):
        return "integer"
    return "number"


def is_signed(template) -> bool:
    """Does the template show the value with a sign (``{value:+.0%}``)?"""
    return bool(re.search(r"\{value(?:![rsa])?:[^{}]*\+", str(template or "")))


def shown(values, kind) -> np.ndarray:
    """The values rounded to the precision ``kind`` shows them at (NaN kept)."""
    x = np.asarray(values, dtype="float64")
    with np.errstate(invalid="ignore"):
        if kind == "percent":
            out = np.round(x * 100.0) / 100.0
        elif kind == "integer":
            out = np.round(x)
        elif kind == "score":
            out = np.round(x, 1)
        elif kind == "flag":
            out = np.where(np.isnan(x), np.nan, (x != 0).astype("float64"))
        elif kind == "money":
            out = np.where(np.abs(x) >= 100, np.round(x), np.round(x, 2))
        else:
            big = np.abs(x) >= 100
            mid = (np.abs(x) >= 10) & ~big
            out = np.where(
                big, np.round(x), np.where(mid, np.round(x, 1), np.round(x, 2))
            )
    return out + 0.0  # no negative zero


def _strip(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def _one(v: float, kind: str, signed: bool, currency: str) -> str:
    sign = "+" if signed and v > 0 else ""
    if kind == "percent":
        return f"{v:+.0%}" if signed and v != 0 else f"{v:.0%}"
    if kind == "flag":
        return "yes" if v else "no"
    if kind == "integer":
        return f"{sign}{v:,.0f}"
    if kind == "score":
        return f"{sign}{v:.1f}"
    if kind == "money":
        digits = 0 if abs(v) >= 100 or v == round(v) else 2
        minus = "-" if v < 0 else ""
        return f"{sign}{minus}{currency}{abs(v):,.{digits}f}"
    if abs(v) >= 100:
        return f"{sign}{v:,.0f}"
    return sign + _strip(f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}")


def text(values, kind, *, signed=False, currency="") -> np.ndarray:
    """Rounded values as strings (``""`` for NaN), formatted once per distinct value."""
    rounded = shown(values, kind)
    codes, uniques = pd.factorize(rounded, use_na_sentinel=True)
    labels = [_one(float(v), kind, signed, currency or "") for v in uniques]
    table = np.array([*labels, ""], dtype=object)
    return table[codes]


def format_numbers(values, unit, *, template=None, currency="") -> np.ndarray:
    """``text(values, unit_kind(unit), signed=is_signed(template))``."""
    return text(values, unit_kind(unit), signed=is_signed(template), currency=currency)

"""Money in several currencies: summed as one number, so said.

churnkit adds amounts and MRR up as they are given: 100 USD and 15,000 JPY
are 15,100 of one unit, and a USD customer's churn reads as 0.33 % of the MRR
instead of 25 %. A billing or subscriptions table with a currency column
holding more than one currency warns, naming the counts and the fix. So
does a customers column of amounts written as text ('39,90'), which would
become a category.
"""

from __future__ import annotations

import re

import pandas as pd

from churnkit._logging import warn
from churnkit.events._tables import number_format_hint
from churnkit.exceptions import DataQualityWarning

__all__ = ["warn_mixed_currencies", "warn_number_text_attributes"]

CURRENCY = re.compile(r"^(currency|currency_code|currency_iso|ccy|curr)$", re.I)
MONEY_TABLES = ("billing", "subscriptions")


def warn_mixed_currencies(name: str, frame: pd.DataFrame | None) -> None:
    """Warn when ``frame`` (table ``name``) has a currency column with more
    than one value (case and spaces ignored) beside an ``amount`` or ``mrr``."""
    if frame is None or name not in MONEY_TABLES:
        return
    if not {"amount", "mrr"} & set(frame.columns):  # no money is added up
        return
    for column in frame.columns:
        if not CURRENCY.match(str(column)):
            continue
        codes = frame[column].dropna().astype(str).str.strip().str.upper()
        counts = codes[codes != ""].value_counts()
        if len(counts) < 2:
            continue
        shown = ", ".join(f"{code} ({n:,} rows)" for code, n in counts.head(5).items())
        more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
        warn(
            f"Table {name!r}: column {column!r} holds {len(counts)} currencies "
            f"({shown}{more}); churnkit adds amounts and MRR up as given, so "
            "revenue KPIs and money features mix them (100 USD + 15,000 JPY = "
            "15,100). Convert `amount` and `mrr` to one currency before building "
            "the Events store (e.g. multiply by a rate per currency).",
            DataQualityWarning,
        )


# an amount as text: a currency sign or code, a decimal comma ('39,90',
# '1.299,00'), thousands commas or spaces ('1,200.50', '1 200,50'); plain
# numbers beside them ('40', '950.00'); not '+44 7700 900123' nor '114 55'
_SIGN = r"(?:[$€£¥]|\b(?:EUR|USD|GBP)\b)"
_WRITTEN = re.compile(
    rf"{_SIGN}\s?-?\d[\d.,]*|-?\d[\d.,]*\s?{_SIGN}"
    r"|-?\d{1,3}(?:\.\d{3})*,\d{1,2}|-?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|-?\d{1,3}(?: \d{3})+(?:,\d{1,2})?"
)
_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")


def warn_number_text_attributes(customers: pd.DataFrame) -> None:
    """Warn when a customers column holds numbers written as text with a
    currency sign or separators (a fee '39,90'): it becomes a category, each
    value a level of its own with no order, where a number was meant."""
    for col in customers.columns:
        if col in ("customer_id", "signup_time"):
            continue
        series = customers[col]
        if pd.api.types.is_numeric_dtype(series) or not (
            pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
        ):
            continue
        text = series.dropna().astype(str).str.strip().drop_duplicates().head(1000)
        written = text.str.fullmatch(_WRITTEN)
        if not written.any() or not (written | text.str.fullmatch(_PLAIN)).all():
            continue  # phone numbers, postcodes, words: no amount
        hint = number_format_hint(series, str(col))
        if hint:
            warn(
                f"Table 'customers', column {col!r}: numbers written as text "
                "become a category (each value a level of its own, in no order) "
                f"where a number was likely meant.{hint}",
                DataQualityWarning,
            )

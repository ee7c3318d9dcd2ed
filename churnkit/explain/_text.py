"""Reason sentences: a feature's template, the account's value and a reference.

Templates come from ``describe_features()`` (``"{value:.0f} failed payments in
the last 90 days (typical: {typical:.0f})"``); features without one get a
generic sentence. Sentences are formatted once per distinct value of a feature,
so explaining many accounts formats few strings.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["Phrase", "capitalize", "format_value", "plain"]

# a {value} or {typical} field, with its optional conversion and format spec
_FIELD = re.compile(r"\{(value|typical)(?:![rsa])?(?::([^{}]*))?\}")
# "(typical: {typical:.0f})" and the blank before it: dropped without a reference
_TYPICAL_PART = re.compile(r"\s*\([^()]*\{typical(?:![rsa])?(?::[^{}]*)?\}[^()]*\)")
# "last 'login' {value:.0f} days ago ..." : a missing value means "never"
_DAYS_AGO = re.compile(
    r"^last (?P<what>.+?) \{value(?::[^{}]*)?\} days ago(?P<rest>.*)$"
)
GENERIC_TEMPLATE = "value of {feature}: {value} (typical: {typical})"
_FORMAT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def capitalize(text: str) -> str:
    """Upper-case the first character when it is a lower-case letter."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def plain(value) -> str:
    """A value for a sentence without a format spec: ``1,234``, ``0.5``, ``pro``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if v == round(v):
            return f"{v:.0f}"
        return f"{v:.3g}"
    return str(value)


def _is_missing(value) -> bool:
    return value is None or (
        isinstance(value, (float, np.floating)) and np.isnan(value)
    )


def format_value(template, value) -> str:
    """The value as its template shows it (``-62%`` for ``{value:+.0%}``)."""
    if _is_missing(value):
        return "unknown"
    if template:
        match = re.search(r"\{value(?::([^{}]*))?\}", template)
        if match and match.group(1):
            try:
                return format(value, match.group(1))
            except _FORMAT_ERRORS:
                pass
    return plain(value)


class Phrase:
    """Turn one feature's values into sentences.

    Parameters
    ----------
    feature : str
        The feature name (used by the generic sentence only).
    template : str or None
        ``describe_features()`` template; None gives :data:`GENERIC_TEMPLATE`.
    typical : object
        The reference value (median or most frequent level), NaN when unknown.
    """

    def __init__(self, feature, template, typical):
        self.feature = feature
        generic = not isinstance(template, str) or not template.strip()
        if generic:
            escaped = str(feature).replace("{", "{{").replace("}", "}}")
            template = GENERIC_TEMPLATE.replace("{feature}", escaped)
        self.template = template
        self.typical = typical
        self.has_value = "{value" in template
        known_typical = not _is_missing(typical)
        text = template if known_typical else _TYPICAL_PART.sub("", template)
        if not known_typical:  # a {typical} left outside parentheses
            text = _FIELD.sub(
                lambda m: "unknown" if m.group(1) == "typical" else m.group(0), text
            )
        self._text = text
        self._missing = self._missing_sentence(text)

    def _missing_sentence(self, text: str) -> str:
        if not self.has_value:
            return "unknown whether " + text
        days = _DAYS_AGO.match(text)
        if days:
            return self._format(
                f"last {days.group('what')}: never{days.group('rest')}", ""
            )
        return self._format(text, "unknown", strip=True)

    def _format(self, text, value, *, strip=False):
        if strip:
            text = _FIELD.sub(lambda m: "{" + m.group(1) + "}", text)
        try:
            return text.format(value=value, typical=self.typical)
        except _FORMAT_ERRORS:
            if strip:
                return GENERIC_TEMPLATE.format(
                    feature=self.feature,
                    value=plain(value),
                    typical=plain(self.typical),
                )
            return self._format(text, plain(value), strip=True)

    def one(self, value) -> str:
        """The sentence for one value, capitalized."""
        if _is_missing(value):
            return capitalize(self._missing)
        if not self.has_value:
            flag = bool(value) if not isinstance(value, str) else value not in ("", "0")
            text = self._text if flag else "it is not the case that " + self._text
            return capitalize(text)
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        return capitalize(self._format(self._text, value))

    def many(self, values: np.ndarray) -> np.ndarray:
        """Sentences for an array of values (formatted once per distinct value)."""
        values = np.asarray(values)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = np.asarray(uniques).tolist()
        texts = None
        if values.dtype.kind == "f" and self.has_value and self._text[:1] != "{":
            # numbers into a template that starts with text: one str.format each
            text = capitalize(self._text)
            try:
                texts = [text.format(value=v, typical=self.typical) for v in uniques]
            except _FORMAT_ERRORS:
                texts = None
        if texts is None:
            texts = [self.one(v) for v in uniques]
        texts = np.array([*texts, self.one(np.nan)], dtype=object)
        return texts[codes]  # code -1 (missing) picks the last sentence

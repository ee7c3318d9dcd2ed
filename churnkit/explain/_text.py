"""Reason sentences: a feature's template, the account's value and its reference.

Templates come from ``describe_features()`` (``"failed payments in the last 90
days: {value:.0f} (typical: {typical:.0f})"``). The format specs in a template
are not used: values and references are formatted by the feature's unit
(:mod:`churnkit.explain._format`), so every number reads the same everywhere.
A template without a ``(typical: ...)`` part gets one; a feature without a
template reads ``"<display name>: <value> (typical: <reference>)"``. A missing
value is phrased ("no MRR at the start of the last 90 days to compare with",
"no 'login' on record", "too few active days to have a usual gap"), never
"unknown" or "nan".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["Sentence", "capitalize", "missing_phrase", "is_days_ago"]

# a {value} or {typical} field, with its optional conversion and format spec
_FIELD = re.compile(r"\{(value|typical)(?:![rsa])?(?::[^{}]*)?\}")
# "(typical: {typical:.0f})" and the blank before it
_TYPICAL_PART = re.compile(r"\s*\([^()]*\{typical(?:![rsa])?(?::[^{}]*)?\}[^()]*\)")
_ONE_DAYS = r"(?<![\d.,-])1 days\b"  # a count of one day, singular
_AHEAD = r"(?<![\w.,])-(\d[\d,]*(?:\.\d+)?) days ago"  # a date in the future
_AHEAD_TYPICAL = r"(\(typical: )-(\d[\d,]*(?:\.\d+)?)(?: days)?(?=\))"
_DAYS_AGO = re.compile(r"^last (?P<what>.+?) \{value\} days ago$")
_CHANGE_VS = re.compile(
    r"^(?P<what>.+?) changed(?: by)? \{value\} vs the previous (?P<w>.+)$"
)
_CHANGE_IN = re.compile(
    r"^(?P<what>.+?) changed(?: by)? \{value\} (?:over|in) the (?P<w>.+)$"
)
# the gaps between active days (mean, variability, days silent over the usual
# gap): missing when the customer has too few active days to have gaps
_GAP = re.compile(r"\bgaps?\b|\bbetween active days\b|^active every\b", re.IGNORECASE)
_DEFAULT_TYPICAL = (" (typical: ", ")")


def capitalize(text: str) -> str:
    """Upper-case the first character when it is a lower-case letter."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _body(template) -> str:
    """The template without its typical part, fields as bare ``{value}``."""
    body = _TYPICAL_PART.sub("", str(template or "")).strip()
    return _FIELD.sub(lambda m: "{" + m.group(1) + "}", body)


def is_days_ago(template) -> bool:
    """Is this a "last X {value} days ago" template (missing means never)?"""
    return bool(_DAYS_AGO.match(_body(template)))


def missing_phrase(template, display) -> str:
    """What a missing value says: "no 'login' on record", "no MRR recorded in ..."."""
    body = _body(template)
    days = _DAYS_AGO.match(body)
    if days:
        what = days.group("what")
        return "no activity on record" if what == "active" else f"no {what} on record"
    vs = _CHANGE_VS.match(body)
    if vs:
        # missing: nothing then, or an account younger than the window
        what, w = vs.group("what"), vs.group("w")
        return f"no full previous {w} of {what} to compare with"
    within = _CHANGE_IN.match(body)
    if within:  # no value at the window's start: a new account, or none then
        what, w = within.group("what"), within.group("w")
        return f"no {what} at the start of the {w} to compare with"
    if _GAP.search(body) or _GAP.search(display):  # e.g. a one-time buyer
        return "too few active days to have a usual gap"
    if body and "{value}" not in body:  # a statement, true or false
        # was "no latest payment attempt failed and is not recovered recorded"
        return f"no record to tell whether {body[:1].lower() + body[1:]}"
    if "," not in display and ":" not in display:
        return f"no {display[:1].lower() + display[1:]} recorded"
    return f"{display}: nothing recorded"


class Sentence:
    """Turn one feature's formatted values into sentences.

    Parameters
    ----------
    template : str or None
        ``describe_features()`` template; None or "" reads
        ``"<display>: {value}"``.
    display : str
        The feature's display name.
    """

    def __init__(self, template, display):
        has_template = isinstance(template, str) and bool(template.strip())
        body = _body(template) if has_template else f"{display}: {{value}}"
        self.has_value = "{value}" in body
        self._parts = body.replace("{typical}", "").split("{value}")
        self._parts[0] = capitalize(self._parts[0])
        typical = _TYPICAL_PART.search(str(template or "")) if has_template else None
        if typical:
            inner = _FIELD.sub(
                lambda m: "{" + m.group(1) + "}", typical.group(0)
            ).split("{typical}")
            self._typical = (inner[0], "".join(inner[1:]))
        else:
            self._typical = _DEFAULT_TYPICAL if self.has_value else None
        self._missing = capitalize(
            missing_phrase(template if has_template else None, display)
        )
        # a missing value's typical part says what it is typical of: "No
        # 'login' on record (typical: last 'login' 3 days ago)", not "(typical: 3)"
        self._typical_of = (
            body.replace("{typical}", "").split("{value}")
            if has_template and self.has_value and typical
            else None
        )
        self._negated = "It is not the case that " + body
        self._days = "days" in body
        self._ago = "days ago" in body  # a negative value: a date ahead

    def many(self, values, typical, missing, flags=None) -> np.ndarray:
        """Sentences for formatted values.

        Parameters
        ----------
        values, typical : ndarray of str
            The account's value and its reference, as shown (``""`` when the
            reference is unknown: no "(typical ...)" part).
        missing : ndarray of bool
            Rows whose value is missing.
        flags : ndarray of bool, default=None
            For templates without ``{value}``: whether the statement holds.
        """
        values = np.asarray(values, dtype=object)
        n = len(values)
        if self.has_value:
            out = np.full(n, self._parts[0], dtype=object)
            for part in self._parts[1:]:
                out = out + values + part
        else:
            holds = np.ones(n, dtype=bool) if flags is None else np.asarray(flags)
            out = np.where(holds, self._parts[0], self._negated).astype(object)
        missing = np.asarray(missing, dtype=bool)
        out[missing] = self._missing
        if self._typical is not None:
            typical = np.asarray(typical, dtype=object)
            known = typical != ""
            plain = known & ~missing if self._typical_of is not None else known
            if plain.any():
                pre, post = self._typical
                out[plain] = out[plain] + pre + typical[plain] + post
            described = known & ~plain
            if described.any():
                phrase = np.full(int(described.sum()), self._typical_of[0], object)
                for part in self._typical_of[1:]:
                    phrase = phrase + typical[described] + part
                pre, post = _DEFAULT_TYPICAL
                out[described] = out[described] + pre + phrase + post
        if self._days and n:  # "1 days ago" -> "1 day ago"
            text = pd.Series(out, dtype=object)
            if self._ago:  # a date still ahead (a fixed term's end): "in 4
                # days", not "-4 days ago"
                text = text.str.replace(_AHEAD, r"in \1 days", regex=True)
                text = text.str.replace(_AHEAD_TYPICAL, r"\1in \2 days", regex=True)
            out = text.str.replace(_ONE_DAYS, "1 day", regex=True).to_numpy(
                dtype=object
            )
        if self._parts[0] or not n:  # prefix and missing phrase capitalized once
            return out
        text = pd.Series(out, dtype=object)
        return (text.str[:1].str.upper() + text.str[1:]).to_numpy(dtype=object)

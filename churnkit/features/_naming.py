"""Feature names: ``group__what_window`` (e.g. ``usage__login_count_30d``)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

from churnkit._time import duration_label
from churnkit.exceptions import SchemaError

_MAX_SLUG = 48


def slug(value) -> str:
    """A category value as a name part, in any alphabet.

    'Payment Failed' -> 'payment_failed', 'Вход' -> 'вход', '登录' -> '登录',
    '🎉' -> 'party_popper'. Text is NFKC-normalised and case-folded; letters,
    digits and combining marks of every script are kept, symbols (emoji,
    currency, maths) are spelled by their Unicode names, anything else
    separates words. An empty result is 'blank'; long results are cut and
    given a digest of the value so they stay distinct. Different values may
    share a slug ('Log In', 'log-in'): :func:`unique_slugs` tells them apart.
    """
    raw = str(value)
    words, word = [], []
    for ch in unicodedata.normalize("NFKC", raw).casefold():
        category = unicodedata.category(ch)
        if category[0] in "LN" or (category[0] == "M" and word):
            word.append(ch)
            continue
        if word:
            words.append("".join(word))
            word = []
        if category[0] == "S":
            name = unicodedata.name(ch, "").casefold()
            words += [w for w in re.split(r"[^0-9a-z]+", name) if w]
    if word:
        words.append("".join(word))
    text = "_".join(words)
    if len(text) > _MAX_SLUG:
        text = f"{text[:_MAX_SLUG].rstrip('_')}_{_digest(raw, 3)}"
    return text or "blank"


def _digest(text: str, size: int) -> str:
    return hashlib.blake2s(text.encode("utf-8"), digest_size=size).hexdigest()


def unique_slugs(values, reserved=()) -> dict:
    """Distinct slugs for distinct values: ``{value: slug}``, stable.

    Values whose slugs collide ('Log In', 'log-in', 'Login' and 'login') each
    get a suffix made from a digest of the value itself, so a value's name does
    not depend on which other values are present or on their order; a value
    that is its own slug ('login') keeps it bare. A slug in ``reserved`` (a
    name part the builder uses itself, such as 'tenure_days') always gets a
    suffix.

    Examples
    --------
    >>> unique_slugs(["login", "Login", "вход"])["login"]
    'login'
    >>> len(set(unique_slugs(["Log In", "log-in", "LOG_IN"]).values()))
    3
    """
    values = list(dict.fromkeys(values))
    base = {v: slug(v) for v in values}
    out = dict(base)
    reserved = set(reserved)
    size = 2
    while True:
        counts = Counter([*out.values(), *reserved, *reserved])
        clashing = [
            v
            for v in values
            if counts[out[v]] > 1 and (str(v) != out[v] or out[v] in reserved)
        ]
        if not clashing:
            return out
        size += 1
        for v in clashing:
            out[v] = f"{base[v]}_{_digest(str(v), size)}"


def feature_name(group: str, what: str, window=None) -> str:
    """``group__what`` or ``group__what_30d``."""
    suffix = f"_{duration_label(window)}" if window is not None else ""
    return f"{group}__{what}{suffix}"


def window_phrase(window) -> str:
    """'30D' -> 'the last 30 days'."""
    label = duration_label(window)
    if label.endswith("d"):
        days = int(label[:-1])
        return "the last day" if days == 1 else f"the last {days} days"
    return f"the last {label}"


# ----------------------------------------------------------------- display names
_SPEC = re.compile(r"\{(value|typical)(?:![rsa])?(?::[^{}]*)?\}")
_TYPICAL_PART = re.compile(r"\s*\([^()]*\{typical[^()]*\)")
_WINDOW = re.compile(r" (?:in|over) the (last (?:\d+ days|day|\w+))")
_DISPLAY_RULES = (
    # a customer attribute that is a date: "Age from date of birth", "Days
    # since signup date" (not "Date of birth years")
    (re.compile(r"^age from (?P<a>.+): \{value\} years$"), "age from {a}"),
    (re.compile(r"^(?P<a>[^{}]+): \{value\} days ago$"), "days since {a}"),
    # "last 'login' {value} days ago" -> "Days since last 'login'"
    (re.compile(r"^last active \{value\} days ago$"), "days since last activity"),
    (re.compile(r"^last (?P<a>.+) \{value\} days ago$"), "days since last {a}"),
    (re.compile(r"^customer for \{value\} days$"), "tenure in days"),
    (re.compile(r"^signed up in \{value\}$"), "signup period"),
    (re.compile(r"^on the \{value\} (?P<a>\w+)$"), "{a}"),
    (re.compile(r"^paid \{value\}(?P<b>.*)$"), "amount paid{b}"),
    (
        re.compile(r"^(?P<a>.+) took \{value\} days to resolve(?P<b>.*)$"),
        "days to resolve {a}{b}",
    ),
    # "product events in the last 30 days: {value}" -> "Product events, last 30 days"
    (re.compile(r"^(?P<a>[^{}]+): \{value\}$"), "{a}"),
    # "MRR changed by {value} over the last 90 days" -> "MRR change over ..."
    (re.compile(r"^(?P<a>.+?) changed(?: by)? \{value\} (?P<b>.+)$"), "{a} change {b}"),
    # "{value} events per seat in the last 7 days" -> "Events per seat, last 7 days"
    (re.compile(r"^\{value\} (?P<a>.+)$"), "{a}"),
    # "usage volume {value} in the last 7 days" -> "Usage volume, last 7 days"
    (re.compile(r"^(?P<a>[^{}]+) \{value\}(?P<b>(?: (?:in|over) .+)?)$"), "{a}{b}"),
)


# a word boundary inside camelCase: "totalCharges", "PhoneService", "HTTPCode"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def words(name: str) -> str:
    """A column name in words: ``login_count_30d`` -> ``login count 30d``,
    ``TotalCharges`` -> ``Total charges``, ``customerID`` -> ``customer ID``.

    camelCase is split only in names without ``_`` or blanks (those already
    say where words end); a capitalized word after the first is lowercased,
    an all-capitals one (``ID``, ``MRR``) kept.
    """
    name = name.strip()
    if "_" in name or " " in name or not _CAMEL.search(name):
        return name.replace("_", " ").strip()
    words = _CAMEL.split(name)
    rest = [w.lower() if w[1:].islower() else w for w in words[1:]]
    return " ".join([words[0], *rest])


def display_name(template, feature) -> str:
    """A short, readable name for a feature: 'Product events, last 30 days'.

    Read from the reason ``template`` of its description (the ``{value}`` and
    ``(typical: ...)`` parts removed); a template that does not fit the usual
    shapes, or none, gives the feature name in words
    (``usage__login_count_30d`` -> ``Login count 30d``).
    """
    text = ""
    if isinstance(template, str) and template.strip():
        stripped = _TYPICAL_PART.sub("", template).strip()
        stripped = _SPEC.sub(lambda m: "{" + m.group(1) + "}", stripped)
        for pattern, out in _DISPLAY_RULES:
            match = pattern.match(stripped)
            if match:
                text = out.format(**match.groupdict())
                break
        if not text and "{value}" not in stripped:
            text = re.sub(r"^the ", "", stripped)
    if not text or "{" in text:
        what = str(feature).split("__", 1)[-1]
        text = words(what) or str(feature)
    text = _WINDOW.sub(r", \1", text)
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def repeated(names) -> list:
    """The names given more than once, sorted."""
    return sorted(name for name, n in Counter(names).items() if n > 1)


def check_distinct_outputs(names) -> None:
    """Raise when builders of one ``ChurnFeatures`` give a feature name twice:
    one column would replace the other."""
    dup = repeated(names)
    if dup:
        raise SchemaError(
            f"ChurnFeatures: the feature name(s) {dup[:5]} come from more than "
            "one builder (a custom spec named like a built-in feature?), so one "
            "column would replace the other. Rename the custom spec(s)."
        )

"""Feature names: ``group__what_window`` (e.g. ``usage__login_count_30d``)."""

from __future__ import annotations

import re

from churnkit._time import duration_label

_SAFE = re.compile(r"[^0-9a-z]+")


def slug(value) -> str:
    """A category value as a name part: 'Payment Failed' -> 'payment_failed'."""
    text = _SAFE.sub("_", str(value).lower()).strip("_")
    return text or "blank"


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

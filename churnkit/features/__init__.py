"""Feature builders: per-customer vectors as of each cutoff, on one kernel.

Names load lazily: the kernel (``compute_features``, ``FeatureSpec``) does not
import scikit-learn; the builders, which are scikit-learn transformers, do.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "ChurnFeatures": "churnkit.features.union",
    "set_events": "churnkit.features.union",
    "describe_features": "churnkit.features.union",
    "UsageFeatures": "churnkit.features.usage",
    "BillingFeatures": "churnkit.features.billing",
    "SupportFeatures": "churnkit.features.support",
    "ProfileFeatures": "churnkit.features.profile",
    "CustomFeatures": "churnkit.features.custom",
    "FeatureSpec": "churnkit.features._spec",
    "Derived": "churnkit.features._spec",
    "compute_features": "churnkit.features._frame",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'churnkit.features' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)

"""The pickle-free model format: skops, with churnkit's trusted types.

:func:`skops_trusted_types` is the list to pass to ``skops.io.load`` (and to
MLflow's ``skops_trusted_types``) for a churnkit model: churnkit's estimators,
whose state is rebuilt from plain values only (``churnkit._plainstate``), and
the xgboost and numpy types a fitted model holds. ``ck.save(...,
format="skops")`` writes this format inside a churnkit model file.
"""

from __future__ import annotations

import importlib

__all__ = ["skops_trusted_types", "skops_dumps", "skops_loads"]

# the modules whose estimators a churnkit model may hold
_MODULES = ("churnkit.features", "churnkit.models")
_OTHERS = (
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "numpy.dtype",
)


def _churnkit_estimators() -> list[str]:
    from sklearn.base import BaseEstimator

    for name in _MODULES:
        importlib.import_module(name)
    seen, stack = set(), [BaseEstimator]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in seen
        if cls.__module__.startswith("churnkit.") and "<locals>" not in cls.__qualname__
    )


def skops_trusted_types() -> list[str]:
    """The types a churnkit model file in skops format may hold.

    Pass them to ``skops.io.load(path, trusted=...)`` or to MLflow's
    ``skops_trusted_types``. churnkit's estimators are on it because skops
    rebuilds them from plain values only (numbers, strings, lists, dicts,
    numeric arrays): their pandas timestamps, frames and records are encoded
    as such and rebuilt by churnkit, which refuses any class outside
    churnkit. The xgboost types are the booster and its scikit-learn wrapper.

    Returns
    -------
    list of str
        Fully qualified type names, sorted.

    Examples
    --------
    >>> import churnkit as ck
    >>> trusted = ck.skops_trusted_types()
    >>> "churnkit.models._classifier.ChurnClassifier" in trusted
    True
    >>> "xgboost.core.Booster" in trusted
    True
    """
    return sorted({*_churnkit_estimators(), *_OTHERS})


def skops_dumps(model) -> bytes:
    """``model`` in skops format (the Events store detached)."""
    import zipfile

    import skops.io as sio

    return sio.dumps(model, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def skops_loads(payload: bytes):
    """A model from skops bytes, trusting :func:`skops_trusted_types` only."""
    import skops.io as sio

    trusted = skops_trusted_types()
    untrusted = [t for t in sio.get_untrusted_types(data=payload) if t not in trusted]
    if untrusted:
        from churnkit.exceptions import ChurnkitError

        raise ChurnkitError(
            f"The skops payload holds types churnkit does not trust: {untrusted[:5]}. "
            "Nothing was loaded. If you know where the file comes from, load it "
            "with skops.io.load(..., trusted=[...]) yourself."
        )
    return sio.loads(payload, trusted=trusted)

"""Saving and loading fitted churn models.

A model file is a small JSON header followed by a pickled payload::

    CHURNKIT-MODEL\\n
    <header length> <sha256 of header and payload>\\n
    {"format": 2, "sha256": "...", "churnkit": "0.1.0", ...}\\n
    <payload: the pickled model>

The checksum on the second line covers the header bytes and the payload, and
is checked before anything is unpickled (and by :func:`read_header`), so a
truncated, corrupted or edited file (a changed horizon or metric too) fails
with a clear error instead of a confusing one from deep inside pickle. A file
of a newer format, or one whose classes this churnkit cannot rebuild, says
which churnkit saved it and to upgrade. Files are written with the permissions
of the user's umask, like any other file they create.

.. warning::
   By default the payload is a pickle: loading one executes code. Only load
   such files from a source you trust, exactly as with ``joblib.load`` or
   ``pickle.load``. ``save(..., format="skops")`` writes a pickle-free payload
   (skops, format 3) that :func:`load` rebuilds from plain values, trusting
   churnkit's types only (:func:`~churnkit.skops_trusted_types`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from churnkit._logging import get_logger, warn
from churnkit._plainstate import jsonable
from churnkit._version import VERSION
from churnkit.events._columns import activity_json
from churnkit.exceptions import (
    ChurnkitError,
    ChurnkitTypeError,
    NotFittedError,
    SchemaDriftWarning,
    SchemaError,
)

__all__ = ["save", "load", "read_header"]

logger = get_logger(__name__)

MAGIC = b"CHURNKIT-MODEL\n"
FORMAT = 2
SKOPS_FORMAT = 3  # a skops payload: older churnkits refuse it and say upgrade
_READS = (1, 2, 3)  # format 1: the checksum covers the payload only
_PAYLOADS = ("pickle", "skops")
_EVENTS_TOKEN = "churnkit.Events"


def _versions() -> dict:
    out = {}
    for package in ("churnkit", "scikit-learn", "xgboost", "shap", "pandas", "numpy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    out["churnkit"] = VERSION
    return out


class _Pickler(pickle.Pickler):
    """Pickles a model but leaves its Events store out (a reference only)."""

    def __init__(self, file, include_events):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.include_events = include_events

    def persistent_id(self, obj):
        from churnkit.events import Events

        if isinstance(obj, Events) and not self.include_events:
            return _EVENTS_TOKEN
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, events):
        super().__init__(file)
        self.events = events

    def persistent_load(self, pid):
        if pid == _EVENTS_TOKEN:
            return self.events
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _model_metadata(model) -> dict:
    from churnkit.features.union import iter_steps

    info: dict = {"model_class": type(model).__name__}
    for est in iter_steps(model):
        if hasattr(est, "training_cutoffs_"):
            info["training_cutoffs"] = est.training_cutoffs_
        if hasattr(est, "get_feature_names_out") and "feature_names" not in info:
            try:
                info["feature_names"] = [str(n) for n in est.get_feature_names_out()]
            except Exception:  # unfitted or a step without names: leave it out
                pass
    return info


def _check_fitted(model) -> None:
    """A model saved before ``fit`` could never score: refuse it."""
    if not hasattr(model, "fit") or not hasattr(model, "get_params"):
        return
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except SklearnNotFittedError:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted yet: call 'fit' before "
            "ck.save (a saved model must be able to score)."
        ) from None


def _check_label(label):
    if label is not None and label not in ("churn", "inactivity"):
        raise SchemaError(f"`label` must be 'churn' or 'inactivity'; got {label!r}.")
    return label


def save(
    model,
    path,
    *,
    horizon=None,
    metrics=None,
    label=None,
    activity_table=None,
    include_events=False,
    format="pickle",
) -> Path:
    """Write a fitted model (pipeline, classifier or builder) to ``path``.

    Parameters
    ----------
    model : estimator
        A fitted churn pipeline, :class:`ChurnClassifier` or any estimator.
    path : str or Path
        Output file. It is written to a temporary file first and renamed, so an
        interrupted save never leaves a file that loads as a valid model.
    horizon : str, default=None
        The label horizon the model was trained for, kept as metadata; None
        keeps the one its training labels recorded, if any.
    metrics : dict or pandas.Series, default=None
        Validation metrics to keep with the model (e.g. ``ck.evaluate(...)``).
    label : {"churn", "inactivity"}, default=None
        How the training rows were labelled (``ck.label_churn`` or
        ``ck.label_inactivity``), kept as metadata: ``churnkit score``,
        ``explain`` and ``report`` then score the population the model was
        trained on. None keeps what its training labels recorded.
    activity_table : str or (str, list of str), default=None
        With ``label="inactivity"``: the table whose rows were the activity,
        or a pair of a table and the kinds that counted
        (``("billing", ["payment"])``, see :func:`churnkit.label_inactivity`).
    include_events : bool, default=False
        Keep the Events store in the file. By default it is left out (files
        stay small and hold no customer data); attach one with
        ``ck.load(path, events=...)`` or :func:`churnkit.set_events`.
    format : {"pickle", "skops"}, default="pickle"
        The payload. "skops" is pickle-free: loading rebuilds the model from
        plain values and runs no code from the file (needs the ``skops``
        package: ``pip install churnkit[mlflow]``); it never includes events.

    Returns
    -------
    Path
        The written file.

    Notes
    -----
    With ``format="pickle"`` loading the file executes code: only load such
    files from a trusted source, or save with ``format="skops"``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] + rng.normal(size=200) > 1).astype(int)
    >>> clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = ck.save(clf, os.path.join(tmp, "churn.ckm"), horizon="30D")
    ...     print(path.name, ck.read_header(path)["horizon"])
    churn.ckm 30D
    """
    _check_fitted(model)
    path = Path(path)
    payload = _payload(model, format, include_events)
    if isinstance(metrics, pd.Series):
        metrics = metrics.to_dict()
    meta = _model_metadata(model)
    trained = meta.get("training_cutoffs") or {}  # what its labels recorded
    horizon = trained.get("horizon") if horizon is None else horizon
    label = trained.get("label") if label is None else label  # the CLI scores
    if label == trained.get("label"):  # the population the model learned
        activity_table = activity_table or trained.get("activity_table")
    header = {
        "format": SKOPS_FORMAT if format == "skops" else FORMAT,
        "payload_format": format,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_bytes": len(payload),
        "versions": _versions(),
        "saved_at": pd.Timestamp.now("UTC").isoformat(),
        "horizon": None if horizon is None else str(horizon),
        "label": _check_label(label),
        "activity_table": activity_json(activity_table),
        "metrics": jsonable(metrics or {}),
        "includes_events": bool(include_events),
        **jsonable(meta),
    }
    header_bytes = json.dumps(header).encode()
    checksum = _checksum(header_bytes, payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: follow the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC)
            handle.write(f"{len(header_bytes)} {checksum}\n".encode())
            handle.write(header_bytes + b"\n")
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _checksum(header_bytes: bytes, payload) -> str:
    digest = hashlib.sha256(header_bytes)
    digest.update(b"\n")
    digest.update(payload)
    return digest.hexdigest()


def _umask() -> int:
    """The process umask (read without changing it where the OS allows)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_header(path) -> dict:
    """The JSON header of a model file (metadata only; nothing is unpickled).

    Safe to call on files from any source: the header and payload are read and
    their checksum checked, but nothing is unpickled.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save`.

    Returns
    -------
    dict
        ``format``, ``sha256`` and ``payload_bytes`` of the payload,
        ``versions`` (churnkit, scikit-learn, xgboost, shap, pandas, numpy at
        save time), ``saved_at``, ``horizon``, ``metrics``,
        ``includes_events``, ``model_class`` and, when the model has them,
        ``training_cutoffs`` and ``feature_names``.

    Raises
    ------
    ChurnkitError
        When the file does not exist, is not a churnkit model file, or its
        header is corrupted or of an unknown format.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] + rng.normal(size=200) > 1).astype(int)
    >>> clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = ck.save(clf, os.path.join(tmp, "churn.ckm"), metrics={"auc": 0.8})
    ...     header = ck.read_header(path)
    >>> header["model_class"], header["metrics"], header["includes_events"]
    ('ChurnClassifier', {'auc': 0.8}, False)
    """
    header, _ = _read(Path(path), payload=True)
    return header


def load(path, *, events=None):
    """Load a model written by :func:`save`, optionally attaching an Events store.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save`.
    events : Events, default=None
        The store to attach (for scoring); a model saved with
        ``include_events=True`` keeps its own unless this is given.

    Returns
    -------
    estimator
        The fitted model, with ``model.churnkit_metadata_`` set to the header;
        its ``"payload_format"`` tells which format was read ("pickle" or
        "skops"), also logged on the ``churnkit`` logger.

    Raises
    ------
    ChurnkitError
        When the file is not a churnkit model, is truncated or is corrupted
        (its sha256 does not match), checked before anything is unpickled.

    Notes
    -----
    A pickle payload executes code from the file on loading: only load trusted
    files. A skops payload (``save(..., format="skops")``) is rebuilt from
    plain values, trusting :func:`~churnkit.skops_trusted_types` only.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import churnkit as ck
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] + rng.normal(size=200) > 1).astype(int)
    >>> clf = ck.ChurnClassifier("logistic", calibration=None).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = ck.save(clf, os.path.join(tmp, "churn.ckm"))
    ...     loaded = ck.load(path)
    >>> np.allclose(loaded.predict_proba(X), clf.predict_proba(X))
    True
    >>> loaded.churnkit_metadata_["model_class"]
    'ChurnClassifier'
    """
    path = Path(path)
    header, payload = _read(path, payload=True)
    saved = header.get("versions", {}).get("churnkit")
    if saved != VERSION:
        warn(
            f"{path.name} was saved with churnkit {saved}; this is churnkit "
            f"{VERSION}. Predictions may differ: retrain to be sure.",
            SchemaDriftWarning,
        )
    kind = header.get("payload_format", "pickle")
    try:
        if kind == "skops":
            from churnkit._skops import skops_loads

            model = skops_loads(payload)
        else:
            model = _Unpickler(io.BytesIO(payload), events).load()
    except (AttributeError, ImportError, TypeError, pickle.UnpicklingError) as exc:
        if saved != VERSION:
            raise ChurnkitError(
                f"{path.name} was saved by churnkit {saved}, and this churnkit "
                f"({VERSION}) cannot rebuild it ({type(exc).__name__}: {exc}). "
                f"Upgrade churnkit to {saved} or later to load it, or retrain and "
                "save the model with this version."
            ) from exc
        raise
    if events is not None:
        from churnkit.features.union import set_events

        set_events(model, events)
    logger.info("loaded %s from %s (%s payload)", type(model).__name__, path, kind)
    try:
        model.churnkit_metadata_ = {**header, "payload_format": kind}
    except AttributeError:  # objects without a __dict__
        pass
    return model


def _payload(model, format, include_events) -> bytes:
    """The model's bytes in the chosen payload format."""
    if format not in _PAYLOADS:
        raise ChurnkitTypeError(
            f"`format` must be 'pickle' or 'skops'; got {format!r}."
        )
    if format == "skops":
        if include_events:
            raise ChurnkitTypeError(
                "format='skops' never stores the Events store (it is data, not "
                "model state); drop include_events=True and attach the store "
                "with ck.load(path, events=...)."
            )
        from churnkit._skops import skops_dumps

        try:
            return skops_dumps(model)
        except ImportError as exc:
            raise ChurnkitTypeError(
                "format='skops' needs the skops package: pip install skops "
                "(or churnkit[mlflow])."
            ) from exc
        except (TypeError, ValueError) as exc:
            raise ChurnkitTypeError(
                f"This model cannot be saved in skops format: {exc}. Save it with "
                "format='pickle'."
            ) from exc
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, include_events).dump(model)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ChurnkitTypeError(f"This model cannot be saved: {exc}") from exc
    return buffer.getvalue()


def _read(path: Path, payload: bool):
    if not path.exists():
        raise ChurnkitError(f"Model file {str(path)!r} does not exist.")
    with open(path, "rb") as handle:
        magic = handle.read(len(MAGIC))
        if magic != MAGIC:
            raise ChurnkitError(
                f"{str(path)!r} is not a churnkit model file (it does not start with "
                "the churnkit header). Save models with ck.save(model, path)."
            )
        try:
            size_text, _, checksum = handle.readline().strip().partition(b" ")
            size = int(size_text)
            header_bytes = handle.read(size)
            header = json.loads(header_bytes)
            handle.readline()
        except (ValueError, json.JSONDecodeError):
            raise ChurnkitError(
                f"{str(path)!r}: the model file's header is corrupted."
            ) from None
        version = header.get("format")
        if isinstance(version, int) and version > SKOPS_FORMAT:
            saved = (header.get("versions") or {}).get("churnkit", "a newer churnkit")
            raise ChurnkitError(
                f"{str(path)!r} was saved by churnkit {saved} in model file format "
                f"{version}; this churnkit ({VERSION}) reads formats up to "
                f"{SKOPS_FORMAT}. Upgrade churnkit to load it."
            )
        if version not in _READS:
            raise ChurnkitError(
                f"{str(path)!r} uses model file format {version}; this "
                f"churnkit reads formats {list(_READS)}."
            )
        if not payload:
            return header, None
        data = handle.read()
    if len(data) != header.get("payload_bytes"):
        raise ChurnkitError(
            f"{str(path)!r} is truncated: {len(data):,} of "
            f"{header.get('payload_bytes'):,} payload bytes. Save the model again."
        )
    if version >= 2:
        ok = checksum.decode("ascii", "replace") == _checksum(header_bytes, data)
    else:
        ok = hashlib.sha256(data).hexdigest() == header.get("sha256")
    if not ok:
        raise ChurnkitError(
            f"{str(path)!r} is corrupted: its checksum does not match. Nothing was "
            "unpickled. Save the model again or restore the file."
        )
    return header, data

"""scikit-learn's output configuration, on churnkit's terms.

scikit-learn wraps the output of every transformer in the container chosen by
``set_output(transform=...)`` or ``sklearn.set_config(transform_output=...)``.
Its wrapper knows nothing of the ``(customer_id, cutoff_time)`` index of a
feature table: with polars it drops the keys (the time-ordered hold-out of
:class:`~churnkit.ChurnClassifier` then silently became a random one), and it
also wrapped the builders that :class:`~churnkit.ChurnFeatures` calls
internally, whose outputs it concatenates with pandas.

The builders therefore opt out of scikit-learn's wrapping
(:class:`KeyedOutputMixin`) and apply the configuration themselves, once, on
the outermost call:

* ``"default"`` and ``"pandas"``: a pandas DataFrame indexed by
  ``(customer_id, cutoff_time)`` (churnkit's own output: features of mixed
  types, categorical columns as pandas Categorical);
* ``"polars"``: a polars DataFrame whose first two columns are ``customer_id``
  and ``cutoff_time``; the feature directions that pandas keeps in
  ``DataFrame.attrs`` are kept beside the frame (:func:`frame_attrs`), so a
  :class:`~churnkit.ChurnClassifier` after it still reads them.

Calls made inside a builder (ChurnFeatures calling its parts, ``fit_transform``
calling ``transform``) always get pandas.
"""

from __future__ import annotations

import contextvars
import functools
import weakref

import pandas as pd

from churnkit._plainstate import PlainStateMixin
from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME, check_choice

__all__ = [
    "KeyedOutputMixin",
    "output_kind",
    "to_container",
    "frame_attrs",
    "is_polars",
    "from_polars",
]

_OUTPUTS = ("default", "pandas", "polars")
_INSIDE = contextvars.ContextVar("churnkit_inside_builder", default=False)
# attrs of the polars frames handed out (polars frames carry no attrs):
# id(frame) -> (weak reference to the frame, attrs)
_POLARS_ATTRS: dict[int, tuple[weakref.ref, dict]] = {}


def is_polars(X) -> bool:
    """Whether ``X`` is a polars DataFrame (without importing polars)."""
    return type(X).__module__.startswith("polars") and hasattr(X, "to_pandas")


def frame_attrs(X) -> dict:
    """``X.attrs`` of a pandas frame, or the attrs kept for a polars frame."""
    if isinstance(X, pd.DataFrame):
        return X.attrs
    entry = _POLARS_ATTRS.get(id(X))
    if entry is not None and entry[0]() is X:
        return entry[1]
    return {}


def _keep_attrs(frame, attrs: dict) -> None:
    if not attrs:
        return
    key = id(frame)
    ref = weakref.ref(frame, lambda _, key=key: _POLARS_ATTRS.pop(key, None))
    _POLARS_ATTRS[key] = (ref, dict(attrs))


def from_polars(X, *, keys_to_index: bool) -> pd.DataFrame:
    """A polars frame as pandas; key columns become the index when asked.

    Parameters
    ----------
    X : polars.DataFrame
        A feature table (keys as columns) or a cutoff table.
    keys_to_index : bool
        Move ``customer_id`` / ``cutoff_time`` columns, when present, into the
        index (as a feature table from a builder has them).

    Returns
    -------
    DataFrame
        With the attrs kept for ``X`` (see :func:`frame_attrs`).
    """
    frame = X.to_pandas()
    if keys_to_index:
        keys = [k for k in (CUSTOMER_ID, CUTOFF_TIME) if k in frame.columns]
        if keys:
            frame = frame.set_index(keys)
    frame.attrs.update(frame_attrs(X))
    return frame


def output_kind(estimator) -> str:
    """The output chosen for ``estimator``: its own ``set_output``, else the
    global ``transform_output`` of scikit-learn's config."""
    kind = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    if kind is None or kind == "default":
        from sklearn import get_config

        kind = get_config().get("transform_output", "default")
    return kind


def to_container(frame, kind: str):
    """A builder's pandas output in the container ``kind`` (see module doc)."""
    if kind != "polars" or not isinstance(frame, pd.DataFrame):
        return frame
    import polars as pl

    table = frame.reset_index() if any(frame.index.names) else frame
    out = pl.from_pandas(table)
    _keep_attrs(out, frame.attrs)
    return out


def _wrap(method):
    @functools.wraps(method)
    def wrapped(self, X, *args, **kwargs):
        if _INSIDE.get():
            return method(self, X, *args, **kwargs)
        if is_polars(X):  # a cutoff table given as polars
            X = from_polars(X, keys_to_index=False)
        token = _INSIDE.set(True)
        try:
            out = method(self, X, *args, **kwargs)
        finally:
            _INSIDE.reset(token)
        return to_container(out, output_kind(self))

    wrapped._keyed_output = True
    return wrapped


class KeyedOutputMixin(PlainStateMixin):
    """``set_output`` that keeps the keys; scikit-learn's wrapping turned off.

    Put it before ``TransformerMixin`` among the bases of a builder: its
    subclasses' ``transform`` and ``fit_transform`` convert their pandas output
    once, on the outermost call. Under skops their state is plain
    (:class:`~churnkit._plainstate.PlainStateMixin`).
    """

    def __init_subclass__(cls, **kwargs):
        kwargs["auto_wrap_output_keys"] = None  # scikit-learn: do not wrap
        super().__init_subclass__(**kwargs)
        for name in ("transform", "fit_transform"):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_keyed_output", False):
                setattr(cls, name, _wrap(method))

    def set_output(self, *, transform=None):
        """Choose the container of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            ``"default"`` and ``"pandas"``: a pandas DataFrame indexed by
            ``(customer_id, cutoff_time)``; ``"polars"``: a polars DataFrame
            with ``customer_id`` and ``cutoff_time`` as its first columns.
            None leaves the setting unchanged. ``"default"`` follows
            ``sklearn.set_config(transform_output=...)``.

        Returns
        -------
        self : estimator
            The builder itself.
        """
        if transform is None:
            return self
        check_choice(transform, "transform", _OUTPUTS)
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
        return self

"""churnkit's logger and its one way of warning.

* :data:`logger` is the ``churnkit`` logger (``logging.getLogger("churnkit")``).
  The library logs progress and timings on it at ``INFO`` and ``DEBUG`` and
  never prints; it has a :class:`logging.NullHandler`, so nothing shows until
  the application configures logging (``logging.basicConfig(level="INFO")``).
* :func:`warn` issues a churnkit warning attributed to the first caller outside
  churnkit (and outside scikit-learn and joblib, which call churnkit's
  estimators for the user): the file and line a warning reports are the user's,
  however deep inside the library it was raised. Inside :func:`recording`,
  each warning is also kept (category and message), so an object can carry
  the warnings met while it was built (``Events.warnings``) after they have
  been shown, and through a save and a load.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
import warnings

__all__ = ["logger", "warn", "get_logger", "held", "recording"]

logger = logging.getLogger("churnkit")
logger.addHandler(logging.NullHandler())

# the list the warnings of the current build go to, per thread and task
_RECORD: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "churnkit_warnings_record", default=None
)


# the list warnings are held in instead of shown (see held()), per thread and task
_HELD: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "churnkit_warnings_held", default=None
)


def get_logger(name: str) -> logging.Logger:
    """The logger of a churnkit module: ``churnkit.<stage>``, a child of
    :data:`logger` (``get_logger("churnkit.events._events")``)."""
    return logging.getLogger(name)


def _library_dirs() -> tuple[str, ...]:
    """Directories whose frames are not "the caller" of a warning."""
    dirs = [os.path.dirname(os.path.abspath(__file__))]
    for name in ("sklearn", "joblib"):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            dirs.append(os.path.dirname(os.path.abspath(path)))
    return tuple(d + os.sep for d in dirs)


_WRAPPERS = {"contextlib.py", "functools.py"}  # decorator frames (e.g. @contextmanager)


def _is_library(filename: str, dirs: tuple[str, ...]) -> bool:
    if filename.startswith(dirs):
        return True
    return os.path.basename(filename) in _WRAPPERS and "site-packages" not in filename


def warn(message: str, category: type[Warning]) -> None:
    """Warn ``message`` as ``category``, reported at the first frame outside the
    library (churnkit, scikit-learn, joblib).

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning
        A subclass of :class:`~churnkit.ChurnkitWarning`.
    """
    dirs = _library_dirs()
    frame = sys._getframe(1)  # the churnkit function that calls warn()
    level = 2  # warnings.warn's stacklevel that points at `frame`
    while frame is not None and _is_library(frame.f_code.co_filename, dirs):
        frame = frame.f_back
        level += 1
    if frame is None:  # called from library code only (a worker thread)
        level -= 1
    held = _HELD.get()
    if held is not None:  # inside held(): kept for the caller, not shown
        held.append((str(message), category))
        return
    record = _RECORD.get()
    if record is not None:
        record.append({"category": category.__name__, "message": str(message)})
    warnings.warn(message, category, stacklevel=level)


@contextlib.contextmanager
def held():
    """Hold back the churnkit warnings issued inside the block.

    Yields the list they go to, ``(message, category)`` each, instead of
    being shown (or recorded). Unlike ``warnings.catch_warnings`` it changes
    no process-wide state: it is a context variable, so other threads (a
    Dask worker's other tasks) warn as usual, and the user's filters apply
    to whatever the caller issues again.
    """
    token = _HELD.set([])
    try:
        yield _HELD.get()
    finally:
        _HELD.reset(token)


@contextlib.contextmanager
def recording():
    """Keep the churnkit warnings issued inside the block, in order.

    Yields a list of ``{"category": ..., "message": ...}``; the warnings are
    still issued as usual. The record is a context variable, so threads (a
    Dask worker building its partitions) each keep their own; an inner block
    records its warnings in its own list and in the enclosing one.
    """
    outer = _RECORD.get()
    record: list = []
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)
        if outer is not None:
            outer.extend(record)

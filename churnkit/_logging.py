"""churnkit's logger and its one way of warning.

* :data:`logger` is the ``churnkit`` logger (``logging.getLogger("churnkit")``).
  The library logs progress and timings on it at ``INFO`` and ``DEBUG`` and
  never prints; it has a :class:`logging.NullHandler`, so nothing shows until
  the application configures logging (``logging.basicConfig(level="INFO")``).
* :func:`warn` issues a churnkit warning attributed to the first caller outside
  churnkit (and outside scikit-learn and joblib, which call churnkit's
  estimators for the user): the file and line a warning reports are the user's,
  however deep inside the library it was raised.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

__all__ = ["logger", "warn", "get_logger"]

logger = logging.getLogger("churnkit")
logger.addHandler(logging.NullHandler())


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
    warnings.warn(message, category, stacklevel=level)

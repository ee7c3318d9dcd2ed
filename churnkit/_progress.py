"""Progress bars that behave in terminals, notebooks and log files.

* In a terminal: a tqdm bar on stderr.
* In a Jupyter notebook: tqdm's widget when ``ipywidgets`` is installed, else
  tqdm's text bar (``tqdm.auto`` would warn ``TqdmWarning: IProgress not
  found`` instead).
* When stderr is not a terminal (a log file, a CI job, a pipe): no bar, no
  control characters; the steps are logged on the ``churnkit`` logger at
  ``INFO``.
"""

from __future__ import annotations

import importlib.util
import sys

from churnkit._logging import get_logger

__all__ = ["progress_bar"]

logger = get_logger("churnkit.progress")


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _logged(iterable, desc, unit, total):
    total = len(iterable) if total is None and hasattr(iterable, "__len__") else total
    for i, item in enumerate(iterable, start=1):
        yield item
        logger.info("%s: %d/%s %s", desc, i, "?" if total is None else total, unit)


def progress_bar(iterable, *, desc, unit, enabled=True, leave=True, total=None):
    """``iterable`` wrapped in the right progress display (see module doc).

    ``enabled=False`` (a ``progress=False`` or quiet setting) returns
    ``iterable`` itself.
    """
    if not enabled:
        return iterable
    options = {"desc": desc, "unit": unit, "leave": leave, "total": total}
    if _in_notebook():
        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.notebook import tqdm
        else:
            from tqdm.std import tqdm
        return tqdm(iterable, file=sys.stderr, **options)
    if _is_terminal(sys.stderr):
        from tqdm.std import tqdm

        return tqdm(iterable, file=sys.stderr, **options)
    return _logged(iterable, desc, unit, total)

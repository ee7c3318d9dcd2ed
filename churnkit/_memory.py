"""Reuse of freed memory in the large array passes (glibc only).

Building an Events store or a feature block allocates and frees many
temporaries of tens to hundreds of MB. By default glibc serves each of them
with a fresh ``mmap`` and hands it back to the kernel on ``free``, so every
temporary pays its page faults again. On virtual machines a page fault is
expensive: building the bench's medium store (14.5M rows) spent about as long
in the kernel as in numpy. Inside :func:`reuse_freed_memory` large blocks come
from the heap, and freed blocks stay there for the next temporary, as with the
retaining allocators of polars (jemalloc) and Arrow (mimalloc). On leaving,
glibc's defaults are restored; the free heap memory is kept for later
allocations (the next build or feature pass reuses it without faults), and
the peak is unchanged. Measured on the bench's medium size: 7.0-7.9 s without,
5.9-6.6 s with (whole process).

Inside the scope numpy also stops asking Linux for transparent huge pages
(``madvise(MADV_HUGEPAGE)`` on arrays of 4 MiB or more, numpy's default). A
huge page must be a fresh, zeroed 2 MiB block: on this project's virtual
machines each one cost about 5 ms to fault in, against about 2 us for a 4 KiB
page taken from recently freed memory. A warm feature pass at the bench's
medium size spent 1.3-1.6 s in the kernel with huge pages and 0.3 s without
(features 2.9-3.3 s against 1.5-1.9 s). Setting ``NUMPY_MADVISE_HUGEPAGE``
yourself (``1`` or ``0``) keeps numpy's setting as you chose it.

These settings are process-wide (the allocator of every thread, numpy's
switch), which is unusual and risky inside a larger process: a notebook, a web
service, a Spark executor. So they are **off by default** in library calls and
on only on request, through one switch: :func:`set_memory_tuning` (or the
environment variable ``CHURNKIT_REUSE_MEMORY=1`` at start-up). The ``churnkit``
command line and the benchmarks turn it on. The same switch lets
``Events`` swap pyarrow's memory pool for the system allocator while reading
Parquet. Call ``ctypes.CDLL("libc.so.6").malloc_trim(0)`` to hand free heap
memory back to the kernel. Elsewhere than glibc (macOS, Windows, musl) the
allocator part does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import threading

# mallopt parameters and glibc's defaults (malloc.h, mallopt(3))
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_MMAP_MAX = 65536
_DEFAULT_TRIM_THRESHOLD = 128 * 1024

_lock = threading.Lock()
_enabled = os.environ.get("CHURNKIT_REUSE_MEMORY", "0") == "1"
_depth = 0
_libc = None
_hugepage_restore = None  # (numpy's switch, its setting) while the scope holds it


def _glibc():
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``)."""
    global _libc
    if _libc is None:
        _libc = False
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
        except OSError:
            libc = None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            _libc = libc
    return _libc


def _numpy_hugepage_switch():
    """numpy's setter of its huge-page advice, unless the user chose a setting.

    The setter returns the previous setting. It is numpy's own switch behind
    ``NUMPY_MADVISE_HUGEPAGE`` (``numpy._core.multiarray`` from numpy 2).
    """
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return None
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    return getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)


def set_memory_tuning(enabled=True):
    """Turn churnkit's process-wide memory tuning on or off.

    Off by default. When on, building an Events store or a feature block
    keeps freed memory in the heap for the next temporary and stops numpy from
    asking Linux for transparent huge pages (glibc only), and reading Parquet
    uses the system allocator instead of pyarrow's own pool. On this project's
    virtual machines it made large builds 15-40% faster (see
    ``docs/performance.md``); it changes settings of the whole process for the
    duration of each build, so it is for a process that runs churnkit alone
    (the ``churnkit`` command line turns it on).

    Parameters
    ----------
    enabled : bool, default=True
        True to turn the tuning on, False to turn it off.

    Returns
    -------
    bool
        The previous setting, to restore it.

    Examples
    --------
    >>> import churnkit as ck
    >>> before = ck.set_memory_tuning(True)
    >>> ck.set_memory_tuning(before)
    True
    """
    global _enabled
    if not isinstance(enabled, bool):
        from churnkit.exceptions import ChurnkitTypeError

        raise ChurnkitTypeError(f"`enabled` must be True or False; got {enabled!r}.")
    with _lock:
        before, _enabled = _enabled, enabled
    return before


def memory_tuning_enabled() -> bool:
    """Whether :func:`set_memory_tuning` is on."""
    return _enabled


@contextlib.contextmanager
def reuse_freed_memory():
    """Serve large blocks from the heap and keep freed ones there for reuse.

    Nested and concurrent uses share one scope: settings are changed on the
    first entry and restored on the last exit.
    """
    global _depth, _hugepage_restore
    libc = _glibc() if _enabled else None
    if not libc:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
            switch = _numpy_hugepage_switch()
            if switch is not None:
                _hugepage_restore = (switch, switch(False))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                if _hugepage_restore is not None:
                    switch, before = _hugepage_restore
                    switch(before)
                    _hugepage_restore = None

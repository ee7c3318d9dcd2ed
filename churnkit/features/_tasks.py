"""Run the kernel's tasks on a few threads."""

from __future__ import annotations

import contextvars
import threading


def run_tasks(tasks, threads: int) -> None:
    """Run callables in order on the calling thread and ``threads - 1`` helpers.

    The calling thread takes tasks too: its large temporaries come from the
    main heap, where the memory scope keeps freed blocks for reuse (a helper
    thread allocates from a glibc arena of its own). Helpers see the caller's
    context (numpy's ``errstate`` lives there). The first error is raised once
    every thread has stopped; no new task starts after an error.
    """
    pending = iter(tasks)
    lock = threading.Lock()
    errors = []

    def drain():
        while True:
            with lock:
                task = None if errors else next(pending, None)
            if task is None:
                return
            try:
                task()
            except BaseException as exc:  # re-raised on the calling thread
                with lock:
                    errors.append(exc)

    helpers = [
        threading.Thread(target=contextvars.copy_context().run, args=(drain,))
        for _ in range(max(threads, 1) - 1)
    ]
    for helper in helpers:
        helper.start()
    drain()
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]

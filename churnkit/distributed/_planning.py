"""Warnings of the computations that only plan a distributed job.

Dask needs the columns of a result before it computes it (its ``meta``) and
Spark the schema of each step, so churnkit computes a step on this machine
first: on one bucket (Dask's ``from_buckets``, Spark's probe), or on the
first rows of the cutoff table (Dask's ``map_rows``). Their warnings are not
the job's: their counts are those of one bucket ("6 repeated subscription
rows" where the data has 50), and Spark's probe scores a row the user never
passed ("1 of 1 cutoff rows censored" on clean data). :func:`planning`
holds them back: a warning about the data read (a real sample) is issued
again once, saying what it is a sample of; one about the probe's own rows is
dropped. The job checks every bucket where it is computed; those warnings go
where the engine sends a worker's output (the caller with Dask's local
schedulers, the worker logs of a Dask cluster, the executors' stderr with
Spark).
"""

from __future__ import annotations

import contextlib

from churnkit._logging import held, logger, warn

__all__ = ["planning"]


@contextlib.contextmanager
def planning(sample: str | None):
    """Hold back the warnings of a planning computation (see the module).

    Parameters
    ----------
    sample : str or None
        What the computation read, as a phrase ("bucket 3 of 8", "the first
        5 rows of X"): each distinct warning is issued again once, ending
        with this said (so filters on the message still match it), also when
        the computation fails. None: the computation's rows are not the
        user's (a probe row), and its warnings are dropped (logged at DEBUG).
    """
    caught: list = []
    try:
        with held() as caught:
            yield
    finally:
        _issue_again(caught, sample)


def _issue_again(caught: list, sample: str | None) -> None:
    for message, category in dict.fromkeys(caught):
        if sample is None:
            logger.debug("planning warning dropped: %s", message)
            continue
        warn(
            f"{message} [Seen while planning the job on {sample}, read on "
            "this machine: the counts are of that sample; every bucket is "
            "checked where it is computed.]",
            category,
        )

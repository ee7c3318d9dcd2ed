"""Warnings of the computations that only plan a distributed job."""

from __future__ import annotations

import warnings

import pytest

import churnkit as ck
from churnkit._logging import warn
from churnkit.distributed._planning import planning


def _twice():
    for _ in range(2):
        warn("6 repeated subscription rows", ck.DataQualityWarning)


def test_a_sample_warning_is_issued_once_saying_what_it_is_a_sample_of():
    with pytest.warns(ck.DataQualityWarning) as caught:
        with planning("bucket 3 (8 buckets)"):
            _twice()
    assert len(caught) == 1
    message = str(caught[0].message)
    # the message first: the user's filters on it still match
    assert message.startswith("6 repeated subscription rows [Seen while planning")
    assert "on bucket 3 (8 buckets)" in message
    assert "the counts are of that sample" in message


def test_the_users_message_filters_still_apply():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="6 repeated subscription rows")
        with planning("bucket 3 (8 buckets)"):
            _twice()
    assert caught == []


def test_warnings_before_a_failure_are_issued_with_it():
    with pytest.warns(ck.DataQualityWarning, match="6 repeated"):
        with pytest.raises(ck.SchemaError, match="bad"):
            with planning("bucket 0 (1 buckets)"):
                _twice()
                raise ck.SchemaError("bad")


def test_other_threads_warn_as_usual_while_one_plans():
    # held warnings are a context variable: a Dask worker's other tasks
    # (threads) keep theirs, and the process's filters are left alone
    import threading

    filters = list(warnings.filters)
    inside, done = threading.Event(), threading.Event()

    def plan():
        with planning(None):
            inside.set()
            done.wait(5)

    thread = threading.Thread(target=plan)
    thread.start()
    inside.wait(5)
    with pytest.warns(ck.DataQualityWarning, match="6 repeated"):
        _twice()
    done.set()
    thread.join()
    assert warnings.filters == filters


def test_a_probe_row_warning_is_dropped():
    # Spark's probe labels one customer at observed_until: "1 of 1 cutoff rows
    # censored" on clean data is about a row the user never passed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with planning(None):
            warn("excluded 1 of 1 cutoff rows (1 censored)", ck.CensoringWarning)
    assert caught == []


def test_errors_pass_through():
    with pytest.raises(ck.SchemaError, match="bad"):
        with planning("bucket 0 (1 buckets)"):
            raise ck.SchemaError("bad")

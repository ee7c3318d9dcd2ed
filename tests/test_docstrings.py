"""numpydoc validation of every public object of the flat API.

Functions and classes need a summary, every parameter documented (and none
that does not exist), a Returns section and a runnable Examples section;
their public methods need the parameters and the Returns section.
"""

from __future__ import annotations

import inspect

import pytest
from numpydoc import validate as numpydoc_validate

import churnkit as ck
from tests.shapes import churnkit_members

# GL08: no docstring; SS01: no summary; PR01/PR02: parameters missing from,
# or unknown to, the docstring; RT01: no Returns section; EX01: no Examples
OBJECT_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
METHOD_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01"}
# sections that numpydoc asks of functions but that classes do not have
CLASS_SKIP = {"RT01"}
# methods whose contract is sklearn's or Python's, documented there
INHERITED = {"get_params", "set_params", "set_output", "get_metadata_routing"}


def _public_objects():
    for name in sorted(ck.__all__):
        obj = getattr(ck, name)
        if inspect.ismodule(obj) or name.startswith("__"):
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue  # exception classes carry a one-line docstring
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # an instance (emp_scorer is a scikit-learn scorer)
        yield f"{obj.__module__}.{obj.__qualname__}", obj


def _public_methods():
    for path, obj in _public_objects():
        if not isinstance(obj, type):
            continue
        for name, member in sorted(churnkit_members(obj).items()):
            if name.startswith("_") or name in INHERITED:
                continue
            if isinstance(member, property):
                continue
            func = getattr(member, "__func__", member)
            if callable(func):
                yield f"{path}.{name}"


OBJECTS = dict(_public_objects())


def _errors(path, checks):
    result = numpydoc_validate.validate(path)
    return [f"{code}: {msg}" for code, msg in result["errors"] if code in checks]


@pytest.mark.parametrize("path", sorted(OBJECTS))
def test_public_object_docstring(path):
    checks = OBJECT_CHECKS
    if isinstance(OBJECTS[path], type):
        checks = checks - CLASS_SKIP
    assert not _errors(path, checks), path


@pytest.mark.parametrize("path", sorted(_public_methods()))
def test_public_method_docstring(path):
    assert not _errors(path, METHOD_CHECKS), path

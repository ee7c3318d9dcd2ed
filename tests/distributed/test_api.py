"""The public API of churnkit.distributed: documented (numpydoc), importable
without the engines, and listed in the layout's stages."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from numpydoc import validate as numpydoc_validate

import churnkit.distributed as cd

OBJECT_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
METHOD_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01"}


def _objects():
    for name in cd.__all__:
        obj = getattr(cd, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield f"{obj.__module__}.{obj.__qualname__}", obj


OBJECTS = dict(_objects())
METHODS = [
    f"{path}.{name}"
    for path, obj in OBJECTS.items()
    if inspect.isclass(obj)
    for name, member in vars(obj).items()
    if not name.startswith("_") and inspect.isfunction(member)
]


@pytest.mark.parametrize("path", sorted(OBJECTS))
def test_public_docstrings(path):
    checks = OBJECT_CHECKS - ({"RT01"} if inspect.isclass(OBJECTS[path]) else set())
    errors = [
        f"{code}: {msg}"
        for code, msg in numpydoc_validate.validate(path)["errors"]
        if code in checks
    ]
    assert not errors, errors


@pytest.mark.parametrize("path", sorted(METHODS))
def test_public_method_docstrings(path):
    errors = [
        f"{code}: {msg}"
        for code, msg in numpydoc_validate.validate(path)["errors"]
        if code in METHOD_CHECKS
    ]
    assert not errors, errors


def test_importing_does_not_import_the_engines():
    code = (
        "import sys, churnkit, churnkit.distributed;"
        "print(sorted(m for m in ('dask', 'pyspark', 'distributed') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

"""One vocabulary across the public API, read from the signatures."""

from __future__ import annotations

import inspect

import pytest

import churnkit as ck
from tests.shapes import churnkit_members

# a name that is not used for its meaning -> the name that is
RENAMED = {
    "bins": "n_bins",
    "n_reasons": "k",
    "n_drivers": "k",
    "top_k": "k",
    "clv": "value",
    "d": "incentive",
    "f": "contact_cost",
    "return_fraction": "a separate function",
    "table_or_events": "data",
    "seed": "random_state",
}


def _callables():
    for name in sorted(ck.__all__):
        obj = getattr(ck, name)
        if inspect.ismodule(obj) or name.startswith("__"):
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        yield name, obj
        if isinstance(obj, type):
            for member, value in sorted(churnkit_members(obj).items()):
                if not member.startswith("_") and inspect.isfunction(value):
                    yield f"{name}.{member}", value


CALLABLES = dict(_callables())


def _parameters(obj):
    return inspect.signature(obj).parameters


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_no_retired_parameter_names(name):
    wrong = {p: RENAMED[p] for p in _parameters(CALLABLES[name]) if p in RENAMED}
    assert not wrong, f"{name}: rename {wrong}"


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_random_state_defaults_to_none(name):
    params = _parameters(CALLABLES[name])
    if "random_state" in params:
        assert params["random_state"].default is None, name


def test_at_means_a_time():
    # `at` is the time of make_cutoffs (and the report's scoring time, which it
    # passes on); contact fractions are `fractions`
    users = sorted(n for n, f in CALLABLES.items() if "at" in _parameters(f))
    assert users == ["make_cutoffs", "report"], users
    assert "fractions" in _parameters(ck.evaluate)
    assert "fractions" in _parameters(ck.campaign_profit)


@pytest.mark.parametrize("name", ["label_churn", "label_inactivity"])
def test_label_options_are_keyword_only(name):
    params = _parameters(CALLABLES[name])
    for option in ("horizon", "gap"):
        assert params[option].kind is inspect.Parameter.KEYWORD_ONLY, option
    if name == "label_churn":
        assert params["kind"].kind is inspect.Parameter.KEYWORD_ONLY


def test_profit_parameters_agree():
    emp = _parameters(ck.emp_score)
    profit = _parameters(ck.campaign_profit)
    for shared in ("value", "incentive", "contact_cost"):
        assert shared in emp and shared in profit, shared


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_one_return_type(name):
    # no flag that switches the return type (float or tuple)
    returns = str(inspect.signature(CALLABLES[name]).return_annotation)
    assert not ("tuple" in returns and "|" in returns), f"{name} returns {returns}"


def test_no_alias_names():
    assert not hasattr(ck, "gains_table")
    assert "persistence" not in ck.__all__
    assert ck.__version__ == _installed_version()


def _installed_version():
    from importlib.metadata import version

    return version("churnkit")

"""Fitted state in plain types when skops serializes a churnkit estimator.

skops (and so MLflow 3's default sklearn format) stores an object from its
``__getstate__`` and refuses, or cannot rebuild, what is not a plain type:
pandas ``Timestamp`` / ``Timedelta`` / frames, churnkit's own small records,
and the :class:`~churnkit.Events` store (a data set, not model state). When
skops asks, :class:`PlainStateMixin` hands it the state encoded with
:func:`encode`: built-in scalars, lists, dicts, numeric numpy arrays, and
scikit-learn estimators left as they are, everything else as tagged dicts
(``{"__ck__": kind, ...}``); the ``events`` are detached (``None``: attach a
store with ``ck.set_events`` after loading). :func:`decode` rebuilds the
objects on load and refuses any class outside churnkit, so loading runs no
code a model file names. Pickle, joblib, ``copy`` and ``clone`` are unchanged.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys

import numpy as np

__all__ = ["PlainStateMixin", "encode", "decode", "jsonable"]

_TAG = "__ck__"
_MARK = "__churnkit_plain_state__"


def _called_by_skops(depth: int = 2) -> bool:
    frame = sys._getframe(depth)
    return frame.f_globals.get("__name__", "").startswith("skops.")


def _churnkit_type(path: str):
    module, _, name = path.partition(":")
    if module != "churnkit" and not module.startswith("churnkit."):
        raise TypeError(f"refusing to rebuild {path!r}: not a churnkit type")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _type_path(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(value):
    """``value`` in types skops trusts (see the module docstring)."""
    import pandas as pd

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        if isinstance(value, (np.datetime64, np.timedelta64)):
            return {_TAG: "np_scalar", "array": np.asarray(value)}
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {
                _TAG: "object_array",
                "shape": list(value.shape),
                "items": [encode(v) for v in value.ravel().tolist()],
            }
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {_TAG: "set", "items": [encode(v) for v in sorted(value, key=repr)]}
    if type(value).__name__ == "FrozenMapping":  # churnkit's read-only dict
        return {
            _TAG: "mapping",
            "type": _type_path(type(value)),
            "items": encode(dict(value)),
        }
    if isinstance(value, dict):
        if all(isinstance(k, str) and k != _TAG for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {
            _TAG: "dict",
            "items": [[encode(k), encode(v)] for k, v in value.items()],
        }
    if type(value).__module__.startswith("churnkit.events"):
        return None  # the Events store is data: detached, re-attached on load
    if isinstance(value, pd.Timestamp):
        return {_TAG: "Timestamp", "iso": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {_TAG: "Timedelta", "ns": int(value.value)}
    if isinstance(value, pd.DateOffset):
        return {_TAG: "DateOffset", "freq": value.freqstr}
    if isinstance(value, pd.CategoricalDtype):
        return {
            _TAG: "CategoricalDtype",
            "categories": encode(value.categories),
            "ordered": bool(value.ordered),
        }
    if isinstance(value, pd.Categorical):
        return {
            _TAG: "Categorical",
            "codes": np.asarray(value.codes),
            "dtype": encode(value.dtype),
        }
    if isinstance(value, pd.MultiIndex):
        return {
            _TAG: "MultiIndex",
            "levels": [encode(level) for level in value.levels],
            "codes": [np.asarray(c) for c in value.codes],
            "names": encode(list(value.names)),
        }
    if isinstance(value, pd.Index):
        return {
            _TAG: "Index",
            "values": _encode_values(value),
            "name": encode(value.name),
        }
    if isinstance(value, pd.Series):
        return {
            _TAG: "Series",
            "values": _encode_values(value),
            "index": encode(value.index),
            "name": encode(value.name),
        }
    if isinstance(value, pd.DataFrame):
        return {
            _TAG: "DataFrame",
            "columns": encode(value.columns),
            "data": [_encode_values(value.iloc[:, i]) for i in range(value.shape[1])],
            "index": encode(value.index),
            "attrs": encode(dict(value.attrs)),
        }
    if dataclasses.is_dataclass(value) and type(value).__module__.startswith(
        "churnkit"
    ):
        state = {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return {_TAG: "dataclass", "type": _type_path(type(value)), "state": state}
    return value  # scikit-learn / xgboost objects, functions: skops' own


def _encode_values(values) -> dict:
    """The values of an Index or Series, by dtype."""
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return encode(pd.Categorical(values))
    if dtype.kind in "biufcmM" and not getattr(dtype, "tz", None):
        return {_TAG: "array", "array": np.asarray(values), "dtype": str(dtype)}
    if getattr(dtype, "tz", None) is not None:
        return {
            _TAG: "tz_array",
            "ns": np.asarray(values.astype("int64")),
            "tz": str(dtype.tz),
            "unit": getattr(dtype, "unit", "ns"),
        }
    return {
        _TAG: "values",
        "items": [encode(None if pd.isna(v) else v) for v in np.asarray(values)]
        if len(values)
        else [],
        "dtype": str(dtype),
    }


def decode(value):
    """The objects :func:`encode` encoded."""
    import pandas as pd

    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_TAG)
    if kind is None:
        return {k: decode(v) for k, v in value.items()}
    if kind == "np_scalar":
        return value["array"][()]
    if kind == "object_array":
        out = np.empty(len(value["items"]), dtype=object)
        out[:] = [decode(v) for v in value["items"]]
        return out.reshape(value["shape"])
    if kind == "tuple":
        return tuple(decode(v) for v in value["items"])
    if kind == "set":
        return {decode(v) for v in value["items"]}
    if kind == "dict":
        return {decode(k): decode(v) for k, v in value["items"]}
    if kind == "Timestamp":
        return pd.Timestamp(value["iso"])
    if kind == "Timedelta":
        return pd.Timedelta(value["ns"], unit="ns")
    if kind == "DateOffset":
        return pd.tseries.frequencies.to_offset(value["freq"])
    if kind == "CategoricalDtype":
        return pd.CategoricalDtype(decode(value["categories"]), value["ordered"])
    if kind == "Categorical":
        return pd.Categorical.from_codes(value["codes"], dtype=decode(value["dtype"]))
    if kind == "MultiIndex":
        return pd.MultiIndex(
            levels=[decode(level) for level in value["levels"]],
            codes=value["codes"],
            names=decode(value["names"]),
        )
    if kind == "Index":
        return pd.Index(_decode_values(value["values"]), name=decode(value["name"]))
    if kind == "Series":
        return pd.Series(
            _decode_values(value["values"]),
            index=decode(value["index"]),
            name=decode(value["name"]),
        )
    if kind == "DataFrame":
        columns = decode(value["columns"])
        data = {i: _decode_values(v) for i, v in enumerate(value["data"])}
        frame = pd.DataFrame(data, index=decode(value["index"]))
        frame.columns = columns
        frame.attrs.update(decode(value["attrs"]))
        return frame
    if kind == "dataclass":
        cls = _churnkit_type(value["type"])
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"refusing to rebuild {value['type']!r}: not a record")
        state = {k: decode(v) for k, v in value["state"].items()}
        init = {f.name: state[f.name] for f in dataclasses.fields(cls) if f.init}
        obj = cls(**init)
        for f in dataclasses.fields(cls):
            if not f.init:
                object.__setattr__(obj, f.name, state[f.name])
        return obj
    if kind == "mapping":
        return _churnkit_type(value["type"])(decode(value["items"]))
    if kind in ("array", "values", "tz_array"):
        return _decode_values(value)
    raise TypeError(f"unknown encoded value {kind!r}")


def _decode_values(value):
    import pandas as pd

    kind = value.get(_TAG) if isinstance(value, dict) else None
    if kind == "array":
        return value["array"]
    if kind == "tz_array":
        naive = pd.DatetimeIndex(value["ns"].astype("datetime64[ns]"))
        return naive.tz_localize("UTC").tz_convert(value["tz"]).as_unit(value["unit"])
    if kind == "values":
        items = [decode(v) for v in value["items"]]
        try:
            return pd.array(items, dtype=value["dtype"])
        except (TypeError, ValueError):
            return np.asarray(items, dtype=object)
    return decode(value)


class PlainStateMixin:
    """Plain, skops-trusted state when skops serializes the estimator."""

    def __getstate__(self):
        state = super().__getstate__()
        if not _called_by_skops():
            return state
        state = dict(state)
        # set_fit_request & co. keep objects that point at each other: keep
        # the requests themselves ({method: {param: True | False | alias}})
        request = state.pop("_metadata_request", None)
        out = {_MARK: True, **{k: encode(v) for k, v in state.items()}}
        if request is not None:
            out[_REQUESTS] = {
                method: dict(getattr(request, method).requests)
                for method in _request_methods()
                if hasattr(request, method)
            }
        return out

    def __setstate__(self, state):
        requests = None
        if state.get(_MARK):
            requests = state.get(_REQUESTS)
            skip = (_MARK, _REQUESTS)
            state = {k: decode(v) for k, v in state.items() if k not in skip}
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)
        if requests:
            from sklearn.utils._metadata_requests import MetadataRequest

            request = MetadataRequest(owner=type(self).__name__)
            for method, params in requests.items():
                for param, alias in params.items():
                    getattr(request, method).add_request(param=param, alias=alias)
            self._metadata_request = request


_REQUESTS = "__churnkit_metadata_requests__"


def _request_methods():
    from sklearn.utils._metadata_requests import SIMPLE_METHODS

    return SIMPLE_METHODS


def jsonable(value):
    """Metadata as plain JSON types (numpy numbers, timestamps, NaN -> None):
    what a model file's header keeps."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if hasattr(value, "isoformat"):  # a Timestamp, a datetime
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)

"""An Events store back to the tables that rebuild it, with each row's bucket.

``Events(customers=..., usage=..., ...)`` built from these tables, with the
store's ``grace`` and ``observed_until``, holds the same customers, event rows
and spells; restricted to the customers of one bucket it holds exactly their
part of the store. The spells go back as a ``churn`` table (one spell per
customer from signup) or as ``subscriptions`` (returns, cancellations) plus the
``churn`` rows that carry the churn kinds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.distributed._hash import bucket_of
from churnkit.events._spells import END_OF_TIME
from churnkit.events._store import NAT

__all__ = ["store_tables"]


def _ns(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).view("datetime64[ns]")


def _kinds(kind: np.ndarray, churn_kinds) -> pd.Categorical:
    return pd.Categorical.from_codes(
        kind.astype(np.int32), categories=list(churn_kinds)
    )


def _spell_tables(engine, ids: np.ndarray) -> dict[str, tuple]:
    """(table, customer code of each row) for the spells: churn or subscriptions."""
    if not getattr(engine, "contractual", True):
        return {}
    code = np.asarray(engine.spell_code, dtype=np.int64)
    start = np.asarray(engine.spell_start, dtype=np.int64)
    end = np.asarray(engine.spell_end, dtype=np.int64)
    kind = np.asarray(engine.spell_kind)
    cancel = getattr(engine, "spell_cancel", None)
    n = engine.n_customers
    ended = end < END_OF_TIME
    simple = (
        cancel is None
        and len(code) == n
        and np.array_equal(code, np.arange(n))
        and np.array_equal(start, np.asarray(engine.signup_time, dtype=np.int64))
    )
    out = {}
    if simple:
        churn = pd.DataFrame(
            {
                "customer_id": ids[code[ended]],
                "time": _ns(end[ended]),
                "kind": _kinds(kind[ended], engine.churn_kinds),
            }
        )
        out["churn"] = (churn, code[ended])
        return out
    subs = pd.DataFrame(
        {
            "customer_id": ids[code],
            "start": _ns(start),
            "end": _ns(np.where(ended, end, NAT)),
        }
    )
    if cancel is not None:
        subs["cancel_time"] = _ns(cancel)
    out["subscriptions"] = (subs, code)
    with_kind = ended & (kind >= 0)
    churn = pd.DataFrame(
        {
            "customer_id": ids[code[with_kind]],
            "time": _ns(end[with_kind]),
            "kind": _kinds(kind[with_kind], engine.churn_kinds),
        }
    )
    out["churn"] = (churn, code[with_kind])
    return out


def store_tables(events, n_buckets: int):
    """``{table: (DataFrame, bucket of each row)}`` rebuilding ``events``.

    Rows come in (customer_id, time) order, as the store keeps them.
    """
    engine = events._engine
    ids = engine.customer_ids.to_numpy()
    customer_bucket = bucket_of(engine.customer_ids, n_buckets)
    out = {"customers": (events.customers, customer_bucket)}
    for name, table in engine.tables.items():
        rows = np.repeat(customer_bucket, np.diff(np.asarray(table.offsets)))
        out[name] = (events.frame(name), rows)
    for name, (frame, codes) in _spell_tables(engine, ids).items():
        out[name] = (frame, customer_bucket[codes])
    return out

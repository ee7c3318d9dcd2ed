"""An Events store back to the tables that rebuild it, with each row's bucket.

``Events(customers=..., usage=..., ...)`` built from these tables, with the
store's ``grace`` and ``observed_until``, holds the same customers, event rows
and spells; restricted to the customers of one bucket it holds exactly their
part of the store. The spells go back as a ``churn`` table (one spell per
customer from signup) or as ``subscriptions`` (returns, cancellations) plus the
``churn`` rows that carry the churn kinds. The subscriptions' MRR kept beside
a billing table (``Events._engine.subscription_mrr``, which revenue KPIs fill
in with) goes as its own ``subscription_mrr`` table and is put back by
:func:`attach_subscription_mrr`; the cancellation notices, which the spells
cannot give (:mod:`churnkit.events._notices`), go as a ``notices`` table put
back by :func:`attach_notices`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.distributed._hash import bucket_of
from churnkit.events._notices import Notices
from churnkit.events._spells import END_OF_TIME
from churnkit.events._store import NAT, EventTable, offsets_from_codes

__all__ = ["store_tables", "attach_notices", "attach_subscription_mrr"]

#: the layout table of the subscriptions' MRR beside a billing table
SUBSCRIPTION_MRR = "subscription_mrr"
NOTICES = "notices"


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
    sub_mrr = getattr(engine, "subscription_mrr", None)
    if sub_mrr is not None:
        rows = np.repeat(customer_bucket, np.diff(np.asarray(sub_mrr.offsets)))
        out[SUBSCRIPTION_MRR] = (engine.table_frame(sub_mrr), rows)
    notices = getattr(engine, "notices", None)
    if notices is not None:
        frame = pd.DataFrame(
            {"customer_id": ids[notices.code], "since": notices.since}
            | {"until": notices.until}
        )
        out[NOTICES] = (frame, customer_bucket[notices.code])
    return out


def attach_notices(events, frame: pd.DataFrame) -> None:
    """Put the ``notices`` table :func:`store_tables` wrote back on ``events``
    (the bucket's store, whose spell-made subscriptions cannot give them)."""
    engine = events._engine
    codes = engine.customer_ids.get_indexer(frame["customer_id"]).astype(np.int64)
    keep = codes >= 0
    since = frame["since"].to_numpy(np.int64)[keep]
    until = frame["until"].to_numpy(np.int64)[keep]
    order = np.lexsort((since, codes[keep]))
    engine.notices = Notices(codes[keep][order], since[order], until[order])


def attach_subscription_mrr(events, frame: pd.DataFrame) -> None:
    """Put a ``subscription_mrr`` table :func:`store_tables` wrote back on
    ``events`` (the store of the bucket it was read with).

    Rows of customers the store does not hold cannot occur in a checked
    bucket; they are left out all the same, as Events leaves out the
    subscriptions of unknown customers.
    """
    engine = events._engine
    codes = engine.customer_ids.get_indexer(frame["customer_id"]).astype(np.int64)
    time = frame["time"].to_numpy("datetime64[ns]").view(np.int64)
    keep = codes >= 0
    order = np.lexsort((time[keep], codes[keep]))  # as the store keeps rows
    codes, time = codes[keep][order], time[keep][order]
    kind = pd.Categorical(
        frame["kind"].astype(object).to_numpy()[keep][order],
        categories=["subscription_end", "subscription_start"],
    )
    mrr = frame["mrr"].to_numpy(np.float64)[keep][order]
    engine.subscription_mrr = EventTable(
        "billing",
        offsets_from_codes(codes, engine.n_customers),
        time,
        {"kind": kind.codes.astype(np.int8), "mrr": mrr},
        {"kind": ("subscription_end", "subscription_start")},
        {"kind": "category", "mrr": "number"},
    )

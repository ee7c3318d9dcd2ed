"""Where the revenue KPIs take MRR from: the billing table, the subscriptions,
or both.

The billing table's ``mrr`` is the MRR in effect after each row; the
subscriptions' ``mrr`` gives it as the sum over a customer's open
subscriptions (:func:`~churnkit.events._overlap.billing_from_subscriptions`).
:func:`billing_mrr` combines them:

- billing has no ``mrr`` column, or no value in it: the subscriptions' MRR;
- no subscriptions with an ``mrr``: billing's rows with an ``mrr``;
- both: billing's ``mrr`` wins where it has values. A customer's history is
  cut at their churns into segments (a spell, with the gap before it); in a
  segment the subscriptions' MRR applies until the first billing row with an
  ``mrr``, and billing's rows from then on. A :class:`DataQualityWarning`
  counts the customers with segments that billing gives no MRR at all.
- neither: a :class:`SchemaError` naming both places.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._logging import warn
from churnkit.events._store import bisect_segments
from churnkit.exceptions import DataQualityWarning, SchemaError
from churnkit.metrics._periods import spells_of

COLUMNS = ["customer_id", "time", "kind", "mrr"]
MAX_NAMED = 5  # customers named in the warning


def _subscription_mrr(events) -> pd.DataFrame | None:
    """Rows of the subscriptions' MRR kept beside a given billing table."""
    engine = events._engine
    table = getattr(engine, "subscription_mrr", None)
    return None if table is None else engine.table_frame(table)


def _known(frame: pd.DataFrame | None, until: pd.Timestamp) -> pd.DataFrame | None:
    """The rows with an ``mrr`` before ``until`` (later ones, such as a future
    period end derived as an MRR drop, are not observed yet); None if none."""
    if frame is None or "mrr" not in frame:
        return None
    seen = frame["time"].to_numpy("datetime64[ns]") < until.asm8
    rows = frame[frame["mrr"].notna().to_numpy() & seen]
    return rows if len(rows) else None


def _no_mrr(events, billing: pd.DataFrame | None) -> SchemaError:
    """The error when neither billing nor the subscriptions give MRR."""
    if billing is None:
        where = "this Events store has no billing table"
    elif "mrr" not in billing:
        where = f"the billing table has no `mrr` column (columns: {list(billing)})"
    elif (
        "kind" in billing
        and billing["kind"].astype(str).str.startswith("subscription_").all()
    ):
        # the billing rows are the subscriptions' own: their mrr is what is empty
        return SchemaError(
            "Revenue metrics need MRR: the subscriptions' `mrr` is empty on "
            "every row (counted as 'null mrr' in `events.report`). Fill it (e.g. "
            "an annual premium / 12), or give a billing table with an `mrr`."
        )
    else:
        where = f"the billing table's `mrr` is empty on all its {len(billing):,} rows"
    return SchemaError(
        f"Revenue metrics need MRR: {where}, and no subscriptions with an `mrr` "
        "were given. MRR comes from the billing table's `mrr` (the MRR in effect "
        "after each row) or from the subscriptions' `mrr` (each subscription's "
        "MRR, summed over the open ones): add either, or map yours with "
        "`columns={'billing': {'your_column': 'mrr'}}` (or 'subscriptions')."
    )


def _segments(events, code: np.ndarray, time: np.ndarray) -> np.ndarray:
    """A key per row for its customer's segment: the spell holding ``time``
    or, between spells, the next one (a churn at ``t`` ends a segment that
    holds the rows at ``t``)."""
    spells = spells_of(events)
    offsets = np.searchsorted(spells.code, np.arange(events.n_customers + 1))
    pos = bisect_segments(spells.end, offsets[code], offsets[code + 1], time)
    return pos + code  # past a customer's last spell: unique too


def billing_mrr(events) -> pd.DataFrame:
    """Rows that set a customer's MRR: customer_id, time, kind, mrr.

    Billing rows with an ``mrr``, the subscriptions' MRR where billing has
    none (see the module docstring), rows before ``events.observed_until``.
    """
    engine = events._engine
    billing = None if engine.table("billing") is None else events.frame("billing")
    until = events.observed_until
    own = _known(billing, until)
    subs = _known(_subscription_mrr(events), until)
    if own is None and subs is None:
        if billing is not None and "mrr" in billing and billing["mrr"].notna().any():
            return billing.iloc[:0]  # mrr known only after the data: none yet
        raise _no_mrr(events, billing)
    if subs is None:
        return own
    if own is None:
        return subs[COLUMNS]
    return _fill_in(events, own, subs, len(billing))


def _fill_in(events, own: pd.DataFrame, subs: pd.DataFrame, n_rows: int):
    """Billing's MRR rows, and the subscriptions' rows of each segment before
    its first billing row with an ``mrr``; warns about segments billing gives
    no MRR at all."""
    ids = pd.Index(events.customers["customer_id"].to_numpy())
    b_code = ids.get_indexer(own["customer_id"]).astype(np.int64)
    s_code = ids.get_indexer(subs["customer_id"]).astype(np.int64)
    b_time = own["time"].to_numpy("datetime64[ns]").view("int64")
    s_time = subs["time"].to_numpy("datetime64[ns]").view("int64")
    b_key = _segments(events, b_code, b_time)
    s_key = _segments(events, s_code, s_time)
    # the first billing time of each segment, looked up for every row of subs
    order = np.lexsort((b_time, b_key))
    keys, at = np.unique(b_key[order], return_index=True)
    first = b_time[order][at]
    pos = np.minimum(np.searchsorted(keys, s_key), max(len(keys) - 1, 0))
    billed = (keys[pos] == s_key) if len(keys) else np.zeros(len(s_key), bool)
    keep = ~billed | (s_time < first[pos])
    unbilled = ~billed & (subs["mrr"].to_numpy(float) > 0)
    if unbilled.any():
        _warn_filled_in(subs["customer_id"].to_numpy()[unbilled], len(own), n_rows)
    kinds = [own["kind"].astype(object), subs["kind"].astype(object)[keep]]
    rows = pd.concat([own[COLUMNS], subs[COLUMNS][keep]], ignore_index=True)
    rows["kind"] = pd.concat(kinds, ignore_index=True).to_numpy()
    return rows


def _warn_filled_in(customers: np.ndarray, n_with_mrr: int, n_rows: int) -> None:
    names = pd.unique(customers)
    shown = ", ".join(repr(c) for c in names[:MAX_NAMED].tolist())  # plain ids
    more = f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else ""
    warn(
        f"Table 'billing': column `mrr` has a value on {n_with_mrr:,} of "
        f"{n_rows:,} rows, and {len(names):,} customer(s) ({shown}{more}) have "
        "subscriptions with an `mrr` but no billing row with an `mrr` in a spell: "
        "there revenue KPIs take their MRR from the subscriptions' `mrr` (as "
        "they do in any spell before its first billing row with an `mrr`). If "
        "billing's `mrr` is meant to be complete, fill it on every row; to use "
        "only the subscriptions' MRR, leave it out with "
        "`columns={'billing': {'mrr': None}}`.",
        DataQualityWarning,
    )

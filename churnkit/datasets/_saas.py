"""make_saas_events: random streams, the draws, and the tables they become."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from churnkit._time import to_timestamp
from churnkit._validation import check_int, check_number
from churnkit.datasets._params import (
    BILLING_KINDS,
    CATEGORIES,
    CHURN_CAUSES,
    CHURN_KINDS,
    FAILED,
    PLANS,
    PRIORITIES,
    REGIONS,
    SEGMENTS,
    USAGE_EVENTS_PER_MONTH,
    USAGE_KINDS,
    Clock,
    sort_order,
)
from churnkit.datasets._streams import (
    anniversaries,
    draw_churn,
    draw_customers,
    make_billing,
    make_support,
    make_usage,
)
from churnkit.exceptions import ChurnkitTypeError, SchemaError

DESCRIPTION = """\
Synthetic SaaS business (churnkit.datasets.make_saas_events)
=============================================================
All times are naive UTC datetime64[ns]. The data covers [start, end) with
end = start + months; no customer has an event at or after its churn time
(a support ticket may close later). Tables are sorted by time.

customers -- one row per customer, ordered by customer_id (= signup order)
  customer_id   str       "C-00042", zero-padded so ids sort like signups
  signup_time   datetime  half the customers signed up up to 2 years before
                          start, the rest arrive monthly during the period
  plan          category  starter | pro | business | enterprise (at signup)
  seats         int64     licensed seats at signup
  segment       category  smb | mid_market | enterprise
  region        category  na | emea | apac | latam

usage -- one row per product event (sessions carry a quantity)
  customer_id   category  the customers' ids
  time          datetime  weekday/office-hour seasonality, holiday dips
  event         category  login | page_view | dashboard_view | report_run |
                          export | api_call | invite_sent | integration_sync
  quantity      float64   >= 0: pages, rows, API calls or records synced

billing -- invoices, payments and MRR changes
  customer_id   category  the customers' ids
  time          datetime  invoices on the monthly billing anniversary (the
                          signup day), payments minutes later, retries of
                          failed payments after 3, 7 and 12 days
  kind          category  invoice | payment | payment_failed | refund |
                          plan_change | discount
  amount        float64   invoice/payment/payment_failed: the invoiced amount;
                          refund: amount refunded (> 0); plan_change: the MRR
                          delta (negative for downgrades); discount: the MRR
                          reduction (> 0)
  mrr           float64   monthly recurring revenue in effect after the row
  plan          category  plan in effect after the row

support -- tickets
  customer_id   category  the customers' ids
  time          datetime  opened
  closed_time   datetime  NaT while still open at the end of the data
  priority      category  low | normal | high | urgent
  category      category  billing | bug | how_to | feature_request | account
  csat          float64   1..5; NaN for ~40% of closed tickets and all open ones

churn -- at most one row per customer
  customer_id   category  the customers' ids
  time          datetime  end of service: a billing anniversary (voluntary)
                          or the end of dunning after failed payments
  kind          category  voluntary | involuntary

truth -- why each churner left (one row per row of churn)
  customer_id   category  the customers' ids
  churn_time    datetime  = churn.time
  kind          category  voluntary | involuntary
  cause         category  none | usage_decline | failed_payments |
                          support_trouble | price_increase | downgrade

events -- churnkit.Events built from the five raw tables, observed until end.
start, end -- pandas Timestamps: the data covers [start, end).
"""


def make_saas_events(
    n_customers: int = 5_000,
    *,
    start="2024-01-01",
    months: int = 18,
    usage_rate: float = 1.0,
    random_state=None,
) -> Bunch:
    """Simulate a SaaS business whose churners left for known, planted reasons.

    Parameters
    ----------
    n_customers : int, default=5_000
        Number of customers. Half signed up before ``start`` (the existing
        base, up to two years earlier); the others sign up during the period,
        a few percent more each month.
    start : str or Timestamp, default="2024-01-01"
        First instant of the data (rounded down to the second). Event tables
        start here, also for customers who signed up earlier.
    months : int, default=18
        Length of the data in calendar months: it ends (exclusively) at
        ``start + months``.
    usage_rate : float, default=1.0
        Multiplies the usage volume. At 1.0 an active customer has on average
        ~9 usage rows a month (``USAGE_EVENTS_PER_MONTH``, more on bigger plans
        and with more seats), ~100 over 18 months: ~10M rows for 100,000
        customers. Only the usage table depends on it: the other tables are
        identical whatever its value.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, \
default=None
        Seed of the simulation: equal arguments with an int seed give identical
        tables; None draws a fresh business each call.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``customers``, ``usage``, ``billing``, ``support``, ``churn`` (raw
        pandas DataFrames following churnkit's data contract), ``events`` (a
        :class:`churnkit.Events` of them, observed until ``end``), ``truth``
        (``customer_id``, ``churn_time``, ``kind``, ``cause`` per churner),
        ``start`` and ``end`` (Timestamps) and ``description`` (every column,
        documented).

    Notes
    -----
    **Tables.** ``customers``: ``customer_id`` ("C-00042"), ``signup_time``,
    ``plan``, ``seats``, ``segment``, ``region``. ``usage``: ``customer_id``,
    ``time``, ``event`` (login, page_view, dashboard_view, report_run, export,
    api_call, invite_sent, integration_sync) and ``quantity``. ``billing``:
    ``customer_id``, ``time``, ``kind`` (invoice, payment, payment_failed,
    refund, plan_change, discount), ``amount``, ``mrr`` (after the row) and
    ``plan``. ``support``: ``customer_id``, ``time`` (opened), ``closed_time``,
    ``priority``, ``category``, ``csat``. ``churn``: ``customer_id``, ``time``
    (end of service), ``kind`` (voluntary or involuntary). Times are naive
    UTC ``datetime64[ns]`` in ``[signup_time, min(churn time, end))``; tables
    are sorted by time; kinds, plans and categories are pandas Categoricals.
    ``data.description`` documents every column.

    **Churn.** At each billing anniversary a customer leaves with probability
    ``MONTHLY_CHURN`` (2.05%) times a plan factor (starter 1.5, pro 1.0,
    business 0.7, enterprise 0.45), a tenure factor (2.0 in the first three
    months, 0.75 after a year) and ``(seats / median seats of the plan) **
    -0.2``: about 2.2% of the customers active at a month's start churn in that
    month (1.5-3% in every month). Voluntary churn ends the service at the
    anniversary; involuntary churn ends it after dunning. Each churner gets
    exactly one cause (shares ``CAUSE_SHARES``):

    - ``none`` (25%): random churn, no planted signal.
    - ``usage_decline`` (20%): usage falls by 50-90%, starting 30-90 days
      before the churn and reaching the full drop halfway; then voluntary
      churn.
    - ``failed_payments`` (19%): the last invoice fails 1-3 times (retries
      after 3 and 7 days), is never recovered, no new invoice is issued, and
      the service ends 14-35 days after the last failure (involuntary churn);
      in 35% of cases the invoice before also failed once and was recovered.
    - ``support_trouble`` (14%): 3-6 tickets in the last 60 days, more often
      high or urgent and about bugs, resolved about eight times slower
      (some still open at the churn), with low CSAT.
    - ``price_increase`` (11%): a price rise of 10-40% (a ``plan_change`` row
      keeping the plan) 20-90 days before the churn.
    - ``downgrade`` (11%): a downgrade to the plan below (fewer seats on the
      starter plan) 15-90 days before the churn.

    A signal whose time falls before ``start`` is not in the data (the
    extract starts there); for customers who signed up less than 30-90 days
    before churning it is squeezed into their short life.

    **Noise and false alarms**, for churners and non-churners alike, at the
    rates of the module constants: usage dips of 50-85% lasting 3-6 weeks
    that recover (``USAGE_DIP_RATE``: 1.2% per customer-month, at most one per
    customer); failed payments recovered after 1-3 retries
    (``FAILED_PAYMENT_RATE``: 3% of payments); bursts of 2-5 tickets within
    three weeks (``TICKET_BURST_RATE``: 0.8% per customer-month); price
    increases of 5-30% (``PRICE_INCREASE_RATE``: 0.8% per customer-month);
    upgrades (``UPGRADE_RATE``: 1%), downgrades (``DOWNGRADE_RATE``: 0.4%) and
    discounts (``DISCOUNT_RATE``: 0.4% per customer-month); partial refunds
    (``REFUND_RATE``: 1% of invoices); a slow drift of each customer's usage
    (``USAGE_TREND_SD``: 3% per month); weekday, office-hour and holiday
    seasonality; usage and ticket volume that grow with the plan and seats.

    **Difficulty.** xgboost on simple point-in-time features (usage in the
    last 30 vs the previous 30 days, days since the last event, failed
    payments in 90 days, an unrecovered latest payment, tickets, open tickets
    and CSAT in 60-90 days, MRR change over 90 days, tenure, plan, seats),
    trained on monthly cutoffs of months 6-12 and tested on months 14-16 with
    a 30-day churn label, reaches a ROC-AUC of about 0.81 at 20,000 customers
    (``benchmarks/bench_datasets.py``). Failed payments, support trouble,
    price increases and downgrades are found well (AUC 0.9-0.96 against
    non-churners), usage declines less so (0.72: usage is sparse, ~9 rows per
    customer-month; 0.82 at ``usage_rate=5``), random churn
    barely (0.6, through plan, seats and tenure).

    Examples
    --------
    >>> from churnkit.datasets import make_saas_events
    >>> data = make_saas_events(n_customers=200, random_state=0)
    >>> data.customers.head(3)
      customer_id         signup_time     plan  seats segment region
    0     C-00000 2022-01-13 08:45:48      pro      4     smb   apac
    1     C-00001 2022-01-13 12:41:59  starter      2     smb     na
    2     C-00002 2022-01-18 13:07:10      pro     30     smb     na
    >>> data.truth["cause"].value_counts().sort_index()
    cause
    none               17
    usage_decline      12
    failed_payments     6
    support_trouble     8
    price_increase      2
    downgrade           5
    Name: count, dtype: int64
    >>> len(data.usage), len(data.billing), len(data.support)
    (20068, 4474, 399)
    """
    n, months, usage_rate = _check_params(n_customers, months, usage_rate)
    start = to_timestamp(start, name="start").floor("s")
    streams = _streams(random_state, 6)
    clock = Clock(start, months)
    cust = draw_customers(streams[0], n, clock)
    ann = anniversaries(cust["signup"], clock)
    life = draw_churn(streams[1], cust, ann, clock)
    usage = make_usage(streams[2], cust, life, clock, usage_rate)
    billing = make_billing(streams[3], cust, life, ann, clock)
    support = make_support(streams[4], cust, life, clock)
    return _assemble(cust, life, usage, billing, support, clock)


# --------------------------------------------------------------------------
# parameters and random streams


def _check_params(n_customers, months, usage_rate):
    n_customers = check_int(n_customers, "n_customers")
    months = check_int(months, "months")
    usage_rate = check_number(
        usage_rate,
        "usage_rate",
        low=0,
        hint=f" (1.0 gives about {USAGE_EVENTS_PER_MONTH} usage rows per "
        "customer-month)",
    )
    return n_customers, months, usage_rate


def _streams(random_state, k):
    """k independent generators: one per table, so usage_rate changes only usage."""
    if isinstance(random_state, np.random.Generator):
        return random_state.spawn(k)
    if isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(0, 2**31 - 1)
    elif random_state is None or (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
    ):
        seed = None if random_state is None else int(random_state)
        if seed is not None and seed < 0:
            raise SchemaError(
                f"`random_state` must be a non-negative integer; got {random_state!r}."
            )
    else:
        raise ChurnkitTypeError(
            "`random_state` must be an int, a numpy Generator or RandomState, or "
            f"None; got {type(random_state).__name__} {random_state!r}."
        )
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(k)]


# --------------------------------------------------------------------------
# frames


def _categorical(codes, categories):
    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int8), categories=categories
    )


def _times(clock, seconds, missing=None):
    out = clock.to_datetime(seconds)
    if missing is not None:
        out = out.copy()
        out[missing] = np.datetime64("NaT")
    return out


def _assemble(cust, life, usage, billing, support, clock):
    ids = pd.array(cust["ids"], dtype="str")

    def id_col(codes):
        # event tables repeat ids millions of times: a categorical over the
        # customers' ids costs 4 bytes a row and maps to Events codes at once
        return pd.Categorical.from_codes(
            np.asarray(codes, dtype=np.int32), categories=pd.Index(ids)
        )

    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_time": _times(clock, cust["signup"]),
            "plan": _categorical(cust["plan"], PLANS),
            "seats": cust["seats"],
            "segment": _categorical(cust["segment"], SEGMENTS),
            "region": _categorical(cust["region"], REGIONS),
        }
    )
    cid, t, kind, qty = usage
    usage_df = pd.DataFrame(
        {
            "customer_id": id_col(cid),
            "time": _times(clock, t),
            "event": _categorical(kind, USAGE_KINDS),
            "quantity": qty,
        }
    )
    c, t, kind, amount, mrr, plan = billing
    billing_df = pd.DataFrame(
        {
            "customer_id": id_col(c),
            "time": _times(clock, t),
            "kind": _categorical(kind, BILLING_KINDS),
            "amount": amount,
            "mrr": mrr,
            "plan": _categorical(plan, PLANS),
        }
    )
    c, t, closed, priority, category, csat = support
    support_df = pd.DataFrame(
        {
            "customer_id": id_col(c),
            "time": _times(clock, t),
            "closed_time": _times(clock, np.maximum(closed, 0), missing=closed < 0),
            "priority": _categorical(priority, PRIORITIES),
            "category": _categorical(category, CATEGORIES),
            "csat": csat,
        }
    )
    who = np.flatnonzero(life["churned"])
    who = who[sort_order([life["churn"][who], who], [clock.end_s, cust["n"]])]
    kind = _categorical((life["cause"][who] == FAILED).astype(np.int8), CHURN_KINDS)
    churn = pd.DataFrame(
        {
            "customer_id": id_col(who),
            "time": _times(clock, life["churn"][who]),
            "kind": kind,
        }
    )
    truth = pd.DataFrame(
        {
            "customer_id": id_col(who),
            "churn_time": churn["time"].to_numpy(),
            "kind": kind,
            "cause": _categorical(life["cause"][who], CHURN_CAUSES),
        }
    )
    tables = {
        "customers": customers,
        "usage": usage_df,
        "billing": billing_df,
        "support": support_df,
        "churn": churn,
    }
    return Bunch(
        **tables,
        events=_make_events(tables, clock.end),
        truth=truth,
        start=clock.start,
        end=clock.end,
        description=DESCRIPTION,
    )


def _make_events(tables, end):
    """The tables as a :class:`churnkit.Events`, observed until the end of the data."""
    from churnkit.events import Events

    return Events(**tables, observed_until=end)

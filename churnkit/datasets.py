"""Synthetic data sets: a SaaS business with planted, known churn causes.

:func:`make_saas_events` simulates the raw tables of a subscription software
company (customers, product usage, billing, support tickets, cancellations)
together with the *truth*: why each churner left. Models can be judged on
whether they rank churners high, explainers on whether the drivers they report
match the planted cause.

All generation is vectorised numpy: per-customer counts are drawn first, events
are laid out with :func:`numpy.repeat` and sorted once by time. The only Python
loops run over calendar months, event kinds or blocks of 65,536 customers.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from churnkit._time import to_timestamp
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["make_saas_events"]

# --------------------------------------------------------------------------
# Customers
PLANS = ("starter", "pro", "business", "enterprise")
PLAN_SHARES = (0.45, 0.30, 0.17, 0.08)
PLAN_MEDIAN_SEATS = (2, 6, 25, 120)
PLAN_SEAT_RANGE = ((1, 5), (2, 30), (10, 150), (50, 2000))
PRICE_PER_SEAT = (15.0, 29.0, 49.0, 79.0)  # list price per seat and month
SEGMENTS = ("smb", "mid_market", "enterprise")
PLAN_SEGMENT_SHARES = (  # rows: plan, columns: segment
    (0.95, 0.05, 0.00),
    (0.70, 0.30, 0.00),
    (0.15, 0.70, 0.15),
    (0.00, 0.20, 0.80),
)
REGIONS = ("na", "emea", "apac", "latam")
REGION_SHARES = (0.45, 0.30, 0.17, 0.08)
EXISTING_SHARE = 0.5  #: share of customers who signed up before ``start``
EXISTING_MAX_AGE_DAYS = 730  #: the existing base signed up up to 2 years earlier
SIGNUP_GROWTH = 0.03  #: month-over-month growth of new signups

# --------------------------------------------------------------------------
# Usage
USAGE_EVENTS_PER_MONTH = 8.6  #: mean usage rows per active customer-month
USAGE_KINDS = (
    "login",
    "page_view",
    "dashboard_view",
    "report_run",
    "export",
    "api_call",
    "invite_sent",
    "integration_sync",
)
USAGE_KIND_SHARES = (  # rows: plan, columns: USAGE_KINDS
    (0.22, 0.38, 0.14, 0.10, 0.06, 0.02, 0.05, 0.03),
    (0.18, 0.34, 0.15, 0.12, 0.06, 0.06, 0.04, 0.05),
    (0.15, 0.30, 0.16, 0.13, 0.06, 0.10, 0.03, 0.07),
    (0.12, 0.27, 0.16, 0.13, 0.05, 0.15, 0.03, 0.09),
)
USAGE_QUANTITY_MIN = (1, 1, 1, 1, 1, 1, 1, 0)  # quantity = min + floor(Exp * scale)
USAGE_QUANTITY_SCALE = (0, 4.0, 1.5, 0, 0.7, 60.0, 0.8, 250.0)
PLAN_USAGE_FACTOR = (0.6, 1.0, 1.5, 2.2)  #: usage volume by plan
USAGE_SEATS_ELASTICITY = 0.3  #: usage ~ (seats / median seats of the plan) ** 0.3
USAGE_LEVEL_SD = 0.5  #: log-sd of a customer's individual usage level
USAGE_TREND_SD = 0.03  #: sd of a customer's usage trend (share per month)

# --------------------------------------------------------------------------
# Churn and its planted causes
MONTHLY_CHURN = 0.0205  #: base probability of leaving at a billing anniversary
PLAN_CHURN_FACTOR = (1.5, 1.0, 0.7, 0.45)
TENURE_CHURN_FACTOR = (2.0, 1.0, 0.75)  #: months 1-3, 4-12, after 12
SEATS_CHURN_ELASTICITY = -0.2  #: churn ~ (seats / median seats of the plan) ** this
CHURN_CAUSES = (
    "none",
    "usage_decline",
    "failed_payments",
    "support_trouble",
    "price_increase",
    "downgrade",
)
CAUSE_SHARES = (0.25, 0.20, 0.19, 0.14, 0.11, 0.11)  #: share of churners per cause
DECLINE_DAYS = (30, 90)  #: usage declines over the last 30-90 days ...
DECLINE_DROP = (0.5, 0.9)  #: ... by 50-90% ...
DECLINE_FULL_AT = 0.5  #: ... reached halfway through the decline, then stays low
FINAL_FAILURE_SHARES = (0.3, 0.4, 0.3)  #: 1, 2 or 3 unrecovered failed payments
FAILURE_PRECURSOR_SHARE = 0.35  #: the invoice before also failed (then recovered)
PAYMENT_ATTEMPT_DAYS = (0, 3, 7, 12)  #: payment retry schedule after an invoice
DUNNING_GRACE_DAYS = (14, 35)  #: service ends this long after the last failure
TROUBLE_TICKETS = (3, 6)  #: tickets in the last TROUBLE_WINDOW_DAYS
TROUBLE_WINDOW_DAYS = 60
PRICE_INCREASE_DAYS = (20, 90)  #: price rise this long before the churn
PRICE_INCREASE_FACTOR = (1.10, 1.40)
DOWNGRADE_DAYS = (15, 90)  #: downgrade this long before the churn

# --------------------------------------------------------------------------
# Noise: the same kinds of signal without churn ("false alarms")
USAGE_DIP_RATE = 0.012  #: dips per customer-month (at most one per customer)
USAGE_DIP_DAYS = (21, 42)
USAGE_DIP_DROP = (0.5, 0.85)
FAILED_PAYMENT_RATE = 0.03  #: share of invoices whose payment fails, then recovers
NOISE_FAILURE_SHARES = (0.7, 0.22, 0.08)  #: 1, 2 or 3 failures before recovery
TICKET_RATE = {"smb": 0.10, "mid_market": 0.18, "enterprise": 0.35}  # per month
TICKET_BURST_RATE = 0.008  #: bursts of 2-5 tickets per customer-month
TICKET_BURST_SIZE = (2, 5)
TICKET_BURST_DAYS = 21
PRICE_INCREASE_RATE = 0.008  #: price increases per customer-month
NOISE_PRICE_FACTOR = (1.05, 1.30)
UPGRADE_RATE = 0.010  #: upgrades per customer-month
DOWNGRADE_RATE = 0.004  #: downgrades per customer-month
DISCOUNT_RATE = 0.004  #: discounts per customer-month
REFUND_RATE = 0.01  #: share of invoices partly refunded
CSAT_MISSING_RATE = 0.4  #: share of closed tickets without a CSAT answer

# --------------------------------------------------------------------------
# Support tickets, by ticket type: ordinary, burst (noise), trouble (cause)
PRIORITIES = ("low", "normal", "high", "urgent")
CATEGORIES = ("billing", "bug", "how_to", "feature_request", "account")
_TICKET_PRIORITY = (
    (0.30, 0.50, 0.15, 0.05),
    (0.15, 0.45, 0.30, 0.10),
    (0.05, 0.35, 0.40, 0.20),
)
_TICKET_CATEGORY = (
    (0.15, 0.25, 0.35, 0.15, 0.10),
    (0.10, 0.55, 0.20, 0.05, 0.10),
    (0.20, 0.50, 0.10, 0.10, 0.10),
)
_TICKET_CSAT = (
    (0.03, 0.05, 0.12, 0.35, 0.45),
    (0.10, 0.15, 0.25, 0.30, 0.20),
    (0.35, 0.35, 0.18, 0.08, 0.04),
)
_RESOLUTION_HOURS = (48.0, 24.0, 10.0, 3.0)  # median by priority
_RESOLUTION_FACTOR = (1.0, 2.0, 8.0)  # by ticket type
_RESOLUTION_SD = 0.9

BILLING_KINDS = (
    "invoice",
    "payment",
    "payment_failed",
    "refund",
    "plan_change",
    "discount",
)
CHURN_KINDS = ("voluntary", "involuntary")

# activity profile used to draw times: weekdays, office hours, holidays
_WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.3, 0.25])
_HOUR_WEIGHT = np.array(
    [0.15, 0.1, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0]
    + [0.9, 1.0, 1.0, 1.0, 0.9, 0.7, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2]
)
_HOLIDAYS = {
    (1, 1): 0.25,
    (7, 4): 0.6,
    (12, 24): 0.4,
    (12, 25): 0.2,
    (12, 26): 0.4,
    (12, 31): 0.5,
}

_DAY = 86_400
_WEEK = 7 * _DAY
_MONTH = 30.436875 * _DAY
_BLOCK = 65_536  # customers per usage block: bounds memory, fixes the random stream
_NONE, _DECLINE, _FAILED, _TROUBLE, _PRICE, _DOWNGRADE = range(6)
_UPGRADE_ROW, _DOWNGRADE_ROW, _PRICE_ROW, _DISCOUNT_ROW = 1, 2, 3, 4

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
    random_state=0,
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
default=0
        Seed of the simulation. Equal arguments give identical tables.

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
    clock = _Clock(start, months)
    cust = _draw_customers(streams[0], n, clock)
    ann = _anniversaries(cust["signup"], clock)
    life = _draw_churn(streams[1], cust, ann, clock)
    usage = _make_usage(streams[2], cust, life, clock, usage_rate)
    billing = _make_billing(streams[3], cust, life, ann, clock)
    support = _make_support(streams[4], cust, life, clock)
    return _assemble(cust, life, usage, billing, support, clock)


# --------------------------------------------------------------------------
# parameters, random streams and the clock


def _check_params(n_customers, months, usage_rate):
    for name, value in (("n_customers", n_customers), ("months", months)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ChurnkitTypeError(
                f"`{name}` must be an integer, such as 5000; got "
                f"{type(value).__name__} {value!r}."
            )
        if value < 1:
            raise SchemaError(f"`{name}` must be at least 1; got {value!r}.")
    if isinstance(usage_rate, bool) or not isinstance(usage_rate, numbers.Real):
        raise ChurnkitTypeError(
            "`usage_rate` must be a number, such as 1.0; got "
            f"{type(usage_rate).__name__} {usage_rate!r}."
        )
    if not np.isfinite(usage_rate) or usage_rate < 0:
        raise SchemaError(
            "`usage_rate` must be a finite number >= 0 (1.0 gives about "
            f"{USAGE_EVENTS_PER_MONTH} usage rows per customer-month); "
            f"got {usage_rate!r}."
        )
    return int(n_customers), int(months), float(usage_rate)


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


class _Clock:
    """Seconds since ``start`` and a seasonal activity profile to draw times from.

    ``mass(t)`` is the cumulative activity (hour x weekday x holiday weights)
    up to ``t`` seconds; drawing ``mass(lo) + u * (mass(hi) - mass(lo))`` and
    inverting gives seasonal times in ``[lo, hi)``.
    """

    def __init__(self, start: pd.Timestamp, months: int):
        self.start = start
        self.end = start + pd.DateOffset(months=months)
        self.start_ns = start.value
        self.end_s = int((self.end - start) // pd.Timedelta("1s"))
        self.months = months
        edges = pd.date_range(start.floor("D"), self.end.ceil("D"), freq="h")
        hours = edges[:-1]
        weight = _HOUR_WEIGHT[hours.hour] * _WEEKDAY_WEIGHT[hours.day_of_week]
        md = hours.month * 100 + hours.day
        for (month, day), factor in _HOLIDAYS.items():
            weight = np.where(md == month * 100 + day, weight * factor, weight)
        lull = (md >= 1220) | (md <= 103)  # the slow weeks around new year
        weight = np.where(lull, 0.75 * weight, weight)
        weight = np.where(hours.month == 8, 0.9 * weight, weight)  # summer
        self.grid = ((edges - start) // pd.Timedelta("1s")).to_numpy(np.float64)
        self.cum = np.concatenate([[0.0], np.cumsum(weight)])
        self.per_month = (self.mass(self.end_s) - self.mass(0)) / (self.end_s / _MONTH)
        self.month_starts = np.array(
            [
                (start + pd.DateOffset(months=m) - start) // pd.Timedelta("1s")
                for m in range(months + 1)
            ],
            dtype=np.int64,
        )

    def mass(self, t):
        return np.interp(t, self.grid, self.cum)

    def draw(self, rng, lo, hi):
        """Seasonal integer times in [lo, hi) (lo < hi, integer seconds)."""
        a, b = self.mass(lo), self.mass(hi)
        return self.invert(a + rng.random(len(a)) * (b - a), lo, hi)

    def invert(self, y, lo, hi):
        t = np.floor(np.interp(y, self.cum, self.grid)).astype(np.int64)
        return np.clip(t, lo, hi - 1)

    def to_datetime(self, seconds):
        ns = self.start_ns + np.asarray(seconds, dtype=np.int64) * 10**9
        return ns.view("datetime64[ns]")


def _draw_categorical(rng, probs, rows):
    """One category per element of ``rows`` from the probability row ``probs[row]``."""
    probs = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    k = probs.shape[1]
    flat = (cum + np.arange(len(probs))[:, None]).ravel()
    rows = np.asarray(rows, dtype=np.int64)
    out = np.searchsorted(flat, rng.random(len(rows)) + rows, side="right") - rows * k
    return np.minimum(out, k - 1).astype(np.int8)


def _uniform(rng, bounds, size):
    return rng.uniform(bounds[0], bounds[1], size)


def _days(rng, bounds, size):
    """Whole seconds in [bounds[0], bounds[1]) days."""
    return (rng.uniform(bounds[0], bounds[1], size) * _DAY).astype(np.int64)


def _sort_order(keys, maxima):
    """Row order sorting by ``keys`` (most significant first, non-negative ints).

    Packs the keys and the row number into one int64 and sorts that (several
    times faster than ``argsort``); falls back to ``lexsort`` when they do not
    fit. The row number breaks remaining ties, so the order is deterministic.
    """
    m = len(keys[0])
    bits = [int(mx).bit_length() for mx in maxima] + [max(m - 1, 1).bit_length()]
    if sum(bits) > 62:
        return np.lexsort(tuple(reversed(keys)))
    packed = np.zeros(m, dtype=np.int64)
    for key, b in zip([*keys, np.arange(m)], bits, strict=True):
        packed <<= b
        packed |= np.asarray(key, dtype=np.int64)
    packed.sort()
    return packed & ((1 << bits[-1]) - 1)


def _group_cumsum(values, first):
    """Cumulative sum restarting at each ``first`` row (rows grouped by customer)."""
    total = np.cumsum(values)
    idx = np.arange(len(values))
    start = np.maximum.accumulate(np.where(first, idx, 0))
    return total - total[start] + values[start]


# --------------------------------------------------------------------------
# customers, billing anniversaries and churn


def _draw_customers(rng, n, clock):
    n_old = int(round(EXISTING_SHARE * n))
    n_new = n - n_old
    old = -rng.integers(1, EXISTING_MAX_AGE_DAYS * _DAY + 1, n_old)
    weights = (1 + SIGNUP_GROWTH) ** np.arange(clock.months)
    month = rng.choice(clock.months, n_new, p=weights / weights.sum())
    new = clock.draw(rng, clock.month_starts[month], clock.month_starts[month + 1])
    signup = np.sort(np.concatenate([old, new]))
    plan = rng.choice(len(PLANS), n, p=PLAN_SHARES).astype(np.int8)
    low, high = np.array(PLAN_SEAT_RANGE).T
    seats = np.round(np.asarray(PLAN_MEDIAN_SEATS)[plan] * rng.lognormal(0, 0.7, n))
    seats = np.clip(seats, low[plan], high[plan]).astype(np.int64)
    width = max(5, len(str(n - 1)))
    return {
        "n": n,
        "ids": np.strings.add("C-", np.strings.zfill(np.arange(n).astype("U"), width)),
        "signup": signup,
        "plan": plan,
        "seats": seats,
        "segment": _draw_categorical(rng, PLAN_SEGMENT_SHARES, plan),
        "region": rng.choice(len(REGIONS), n, p=REGION_SHARES).astype(np.int8),
        "mrr": seats * np.asarray(PRICE_PER_SEAT)[plan],
        "delay": rng.integers(30, 2 * 3600, n),  # invoice -> payment, seconds
    }


def _anniversaries(signup, clock):
    """Monthly billing anniversaries in [max(signup, start), end) as (n, K) seconds.

    Returns ``(times, k, valid)``: the anniversary times, how many months after
    signup each one is, and which ones fall inside the data.
    """
    t = clock.to_datetime(signup)
    day = t.astype("M8[D]")
    month = t.astype("M8[M]")
    dom = (day - month.astype("M8[D]")).astype(np.int64)
    tod = (t - day).astype("m8[s]").astype(np.int64)
    start_month = np.datetime64(clock.start.to_datetime64(), "M")
    k0 = np.maximum((start_month - month).astype(np.int64) - 1, 0)
    k = k0[:, None] + np.arange(clock.months + 3)
    mk = month[:, None] + k
    first = mk.astype("M8[D]")
    dim = ((mk + 1).astype("M8[D]") - first).astype(np.int64)
    date = first + np.minimum(dom[:, None], dim - 1)
    days = (date - np.datetime64(clock.start.floor("D").to_datetime64(), "D")).astype(
        np.int64
    )
    offset = int((clock.start - clock.start.floor("D")) // pd.Timedelta("1s"))
    times = days * _DAY + tod[:, None] - offset
    valid = (times >= np.maximum(signup, 0)[:, None]) & (times < clock.end_s)
    return times, k, valid


def _draw_churn(rng, cust, ann, clock):
    """Who churns, when, and why; plus each customer's active span [lo, hi)."""
    times, k, valid = ann
    n = cust["n"]
    tenure = np.asarray(TENURE_CHURN_FACTOR)[np.digitize(k, [4, 13])]
    rel_seats = cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[cust["plan"]]
    hazard = (
        MONTHLY_CHURN
        * np.asarray(PLAN_CHURN_FACTOR)[cust["plan"]]
        * rel_seats**SEATS_CHURN_ELASTICITY
    )[:, None]
    hit = valid & (k >= 1) & (rng.random(times.shape) < hazard * tenure)
    initiated = hit.any(axis=1)
    col = hit.argmax(axis=1)
    anchor = times[np.arange(n), col]
    cause = rng.choice(len(CHURN_CAUSES), n, p=CAUSE_SHARES).astype(np.int8)
    cause[~initiated] = -1
    n_fail = rng.choice([1, 2, 3], n, p=FINAL_FAILURE_SHARES)
    last_fail = (
        anchor + cust["delay"] + np.asarray(PAYMENT_ATTEMPT_DAYS)[n_fail - 1] * _DAY
    )
    churn = np.where(
        cause == _FAILED, last_fail + _days(rng, DUNNING_GRACE_DAYS, n), anchor
    )
    churned = initiated & (churn < clock.end_s)
    lo = np.maximum(cust["signup"], 0)
    hi = np.where(churned, churn, clock.end_s)
    return {
        "cause": cause,  # -1: never initiated churn
        "churned": churned,
        "churn": churn,
        "col": col,  # anniversary column of the churn (the failing invoice)
        "n_fail": n_fail,
        "signup": cust["signup"],
        "lo": lo,
        "hi": hi,
        "precursor": rng.random(n) < FAILURE_PRECURSOR_SHARE,
    }


def _before_churn(rng, clock, life, who, days):
    """Seasonal times ``days[0]``-``days[1]`` days before the churn of ``who``.

    The part of a window before ``start`` is not in the extract: a time drawn
    there comes back as -1 (and is dropped). A window before a new customer's
    signup is squeezed into its life.
    """
    churn, lo = life["churn"][who], life["lo"][who]
    w_lo = churn - int(days[1] * _DAY)
    w_hi = churn - int(days[0] * _DAY)
    visible = w_lo + rng.random(len(who)) * (w_hi - w_lo) >= 0
    new = life["signup"][who] >= 0
    w_lo = np.maximum(w_lo, lo)
    w_hi = np.where(new & (w_hi <= lo), churn, w_hi)
    w_hi = np.maximum(w_hi, w_lo + 1)
    t = clock.draw(rng, w_lo, w_hi)
    return np.where(visible | new, t, -1)


def _noise_counts(rng, life, rate):
    """Occurrences per customer of a noise event happening ``rate`` times a month."""
    months = (life["hi"] - life["lo"]) / _MONTH
    return rng.poisson(rate * months)


# --------------------------------------------------------------------------
# usage


def _usage_params(rng, cust, life, usage_rate):
    n = cust["n"]
    plan = cust["plan"]
    level = rng.lognormal(-(USAGE_LEVEL_SD**2) / 2, USAGE_LEVEL_SD, n)
    rel_seats = cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[plan]
    rate = (
        usage_rate
        * USAGE_EVENTS_PER_MONTH
        * np.asarray(PLAN_USAGE_FACTOR)[plan]
        * rel_seats**USAGE_SEATS_ELASTICITY
        * level
    )
    lo, hi = life["lo"], life["hi"]
    dip_len = _days(rng, USAGE_DIP_DAYS, n)
    has_dip = rng.random(n) < -np.expm1(-USAGE_DIP_RATE * (hi - lo) / _MONTH)
    dip_start = lo + (rng.random(n) * np.maximum(hi - lo - dip_len, 0)).astype(np.int64)
    decline = life["churned"] & (life["cause"] == _DECLINE)
    return {
        "rate": rate,
        "slope": rng.normal(0, USAGE_TREND_SD, n),
        "dip_start": np.where(has_dip, dip_start, -1),
        "dip_end": np.where(has_dip, dip_start + dip_len, -1),
        "dip_keep": 1 - _uniform(rng, USAGE_DIP_DROP, n),
        "decline_start": life["churn"] - _days(rng, DECLINE_DAYS, n),
        "decline_drop": np.where(decline, _uniform(rng, DECLINE_DROP, n), 0.0),
    }


def _make_usage(rng, cust, life, clock, usage_rate):
    """Usage rows (customer, seconds, kind, quantity), sorted by time."""
    p = _usage_params(rng, cust, life, usage_rate)
    n_weeks = -(-clock.end_s // _WEEK)
    edges = np.minimum(np.arange(n_weeks + 1) * _WEEK, clock.end_s)
    parts = [
        _usage_block(rng, p, life, clock, edges, slice(i, min(i + _BLOCK, cust["n"])))
        for i in range(0, cust["n"], _BLOCK)
    ]
    cid = np.concatenate([q[0] for q in parts])
    t = np.concatenate([q[1] for q in parts])
    order = _sort_order([t], [clock.end_s])
    cid, t = cid[order], t[order]
    kind = _draw_categorical(rng, USAGE_KIND_SHARES, cust["plan"][cid])
    scale = np.asarray(USAGE_QUANTITY_SCALE)[kind]
    qty = np.asarray(USAGE_QUANTITY_MIN, dtype=np.float64)[kind] + np.floor(
        rng.exponential(1.0, len(kind)) * scale
    )
    return cid, t, kind, qty


def _usage_block(rng, p, life, clock, edges, sl):
    """Events of the customers in ``sl``, in week-major order (cheap to sort)."""
    lo, hi = life["lo"][sl], life["hi"][sl]
    weeks = np.arange(len(edges) - 1)[:, None]
    mid = ((edges[:-1] + edges[1:]) / 2)[:, None]
    mult = np.maximum(1.0 + mid / _MONTH * p["slope"][sl], 0.2)
    dip = np.flatnonzero(p["dip_start"][sl] >= 0)  # few customers: sparse updates
    in_dip = (mid >= p["dip_start"][sl][dip]) & (mid < p["dip_end"][sl][dip])
    mult[:, dip] *= np.where(in_dip, p["dip_keep"][sl][dip], 1.0)
    dec = np.flatnonzero(p["decline_drop"][sl] > 0)
    d0, d1 = p["decline_start"][sl][dec], life["churn"][sl][dec]
    ramp = np.clip((mid - d0) / np.maximum(DECLINE_FULL_AT * (d1 - d0), 1), 0.0, 1.0)
    mult[:, dec] *= 1.0 - p["decline_drop"][sl][dec] * ramp
    # activity mass of each (week, customer) cell inside [lo, hi)
    m_edges = clock.mass(edges)
    first, last = lo // _WEEK, (hi - 1) // _WEEK
    a = np.where(weeks == first, clock.mass(lo), m_edges[:-1, None])
    b = np.where(weeks == last, clock.mass(hi), m_edges[1:, None])
    active = (weeks >= first) & (weeks <= last) & (hi > lo)
    lam = np.where(active, (b - a) / clock.per_month, 0.0) * mult * p["rate"][sl]
    counts = rng.poisson(lam).ravel()
    cells = np.flatnonzero(counts)
    reps = counts[cells]
    a_e = np.repeat(a.ravel()[cells], reps)
    b_e = np.repeat(b.ravel()[cells], reps)
    cid = np.repeat(cells % lam.shape[1], reps) + sl.start
    y = a_e + rng.random(len(a_e)) * (b_e - a_e)
    return cid.astype(np.int32), clock.invert(y, life["lo"][cid], life["hi"][cid])


# --------------------------------------------------------------------------
# billing


def _payment_attempts(rng, cust, life, ann):
    """Invoice, payment and payment_failed rows: (customer, seconds, kind, invoice)."""
    times, _, valid = ann
    lo, hi = life["lo"], life["hi"]
    # no invoices while a failed-payment churner is in dunning
    dunning = life["cause"] == _FAILED
    is_inv = valid & (times >= lo[:, None]) & (times < hi[:, None])
    is_inv &= ~dunning[:, None] | (np.arange(times.shape[1]) <= life["col"][:, None])
    ci, cj = np.nonzero(is_inv)
    inv_t = times[ci, cj]
    row = np.full(times.shape, -1, dtype=np.int64)
    row[ci, cj] = np.arange(len(ci))
    n_fail = np.where(
        rng.random(len(ci)) < FAILED_PAYMENT_RATE,
        rng.choice([1, 2, 3], len(ci), p=NOISE_FAILURE_SHARES),
        0,
    )
    recovered = np.ones(len(ci), dtype=bool)
    fp = np.flatnonzero(life["cause"] == _FAILED)
    prev = row[fp, np.maximum(life["col"][fp] - 1, 0)]
    prev = prev[(life["col"][fp] > 0) & (prev >= 0) & life["precursor"][fp]]
    n_fail[prev] = 1
    final = row[fp, life["col"][fp]]  # always issued: the anchor is in [lo, hi)
    fp, final = fp[final >= 0], final[final >= 0]
    n_fail[final] = life["n_fail"][fp]
    recovered[final] = False
    tries = n_fail + recovered
    inv = np.repeat(np.arange(len(ci)), tries)
    attempt = np.arange(len(inv)) - np.repeat(np.cumsum(tries) - tries, tries)
    c = ci[inv]
    t = inv_t[inv] + cust["delay"][c] + np.asarray(PAYMENT_ATTEMPT_DAYS)[attempt] * _DAY
    kind = np.where(attempt < n_fail[inv], 2, 1)
    refund = rng.random(len(ci)) < REFUND_RATE
    r_t = inv_t[refund] + _days(rng, (1, 20), int(refund.sum()))
    return (
        np.concatenate([ci, c, ci[refund]]),
        np.concatenate([inv_t, t, r_t]),
        np.concatenate([np.zeros(len(ci)), kind, np.full(len(r_t), 3)]).astype(np.int8),
        np.concatenate(
            [np.zeros(len(ci) + len(t)), _uniform(rng, (0.1, 1.0), len(r_t))]
        ),
    )


def _plan_changes(rng, life, clock):
    """plan_change and discount rows: (customer, seconds, row type, factor)."""
    n = len(life["lo"])
    rows = []
    for kind, rate, bounds in (
        (_UPGRADE_ROW, UPGRADE_RATE, (1.1, 1.6)),
        (_DOWNGRADE_ROW, DOWNGRADE_RATE, (0.5, 0.85)),
        (_PRICE_ROW, PRICE_INCREASE_RATE, NOISE_PRICE_FACTOR),
        (_DISCOUNT_ROW, DISCOUNT_RATE, (0.75, 0.9)),
    ):
        who = np.repeat(np.arange(n), _noise_counts(rng, life, rate))
        who = who[life["hi"][who] > life["lo"][who]]
        t = clock.draw(rng, life["lo"][who], life["hi"][who])
        rows.append((who, t, kind, _uniform(rng, bounds, len(who))))
    for cause, kind, days, bounds in (
        (_PRICE, _PRICE_ROW, PRICE_INCREASE_DAYS, PRICE_INCREASE_FACTOR),
        (_DOWNGRADE, _DOWNGRADE_ROW, DOWNGRADE_DAYS, (0.5, 0.85)),
    ):
        who = np.flatnonzero(life["churned"] & (life["cause"] == cause))
        t = _before_churn(rng, clock, life, who, days)
        rows.append((who, t, kind, _uniform(rng, bounds, len(who))))
    return (
        np.concatenate([r[0] for r in rows]),
        np.concatenate([r[1] for r in rows]),
        np.concatenate([np.full(len(r[0]), r[2], dtype=np.int8) for r in rows]),
        np.concatenate([r[3] for r in rows]),
    )


def _make_billing(rng, cust, life, ann, clock):
    """Billing rows with amounts, MRR and plan, sorted by time."""
    pc, pt, pkind, pfrac = _payment_attempts(rng, cust, life, ann)
    cc, ct, ctype, cfactor = _plan_changes(rng, life, clock)
    c = np.concatenate([pc, cc])
    t = np.concatenate([pt, ct])
    ctype = np.concatenate([np.zeros(len(pc), dtype=np.int8), ctype])
    kind = np.where(ctype == 0, np.concatenate([pkind, np.zeros(len(cc))]), 4)
    kind = np.where(ctype == _DISCOUNT_ROW, 5, kind).astype(np.int8)
    value = np.concatenate([pfrac, cfactor])
    keep = (t >= life["lo"][c]) & (t < life["hi"][c])
    c, t, kind, ctype, value = c[keep], t[keep], kind[keep], ctype[keep], value[keep]
    order = _sort_order([c, t, kind], [cust["n"], clock.end_s, 5])
    c, t, kind, ctype, value = (
        c[order],
        t[order],
        kind[order],
        ctype[order],
        value[order],
    )
    amount, mrr, plan = _mrr_path(cust, c, kind, ctype, value)
    order = _sort_order([t, c, kind], [clock.end_s, cust["n"], 5])
    return c[order], t[order], kind[order], amount[order], mrr[order], plan[order]


def _mrr_path(cust, c, kind, ctype, value):
    """Plan and MRR after each row (rows grouped by customer, in time order)."""
    first = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, dtype=bool)
    step = np.select([ctype == _UPGRADE_ROW, ctype == _DOWNGRADE_ROW], [1, -1], 0)
    plan0 = cust["plan"][c].astype(np.int64)
    plan = np.clip(plan0 + _group_cumsum(step, first), 0, len(PLANS) - 1)
    plan_before = np.where(first, plan0, np.r_[0, plan[:-1]])
    price = np.asarray(PRICE_PER_SEAT)
    tier = price[plan] / price[plan_before]
    factor = np.where(ctype == 0, 1.0, np.where(plan != plan_before, tier, value))
    mrr = np.round(cust["mrr"][c] * np.exp(_group_cumsum(np.log(factor), first)), 2)
    mrr_before = np.where(first, np.round(cust["mrr"][c], 2), np.r_[0.0, mrr[:-1]])
    idx = np.arange(len(c))
    last_inv = np.maximum.accumulate(np.where(kind == 0, idx, -1))
    has_inv = (last_inv >= 0) & (c[np.maximum(last_inv, 0)] == c)
    invoiced = np.where(has_inv, mrr[np.maximum(last_inv, 0)], mrr_before)
    amount = np.select(
        [kind == 0, kind == 3, kind == 4, kind == 5],
        [
            mrr,
            np.round(value * invoiced, 2),
            np.round(mrr - mrr_before, 2),
            np.round(mrr_before - mrr, 2),
        ],
        invoiced,
    )
    return amount, mrr, plan.astype(np.int8)


# --------------------------------------------------------------------------
# support


def _make_support(rng, cust, life, clock):
    """Tickets: (customer, opened, closed or -1, priority, category, csat)."""
    n = cust["n"]
    lo, hi = life["lo"], life["hi"]
    seg_rate = np.array([TICKET_RATE[s] for s in SEGMENTS])[cust["segment"]]
    seg_rate = (
        seg_rate * (cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[cust["plan"]]) ** 0.2
    )
    base = np.repeat(np.arange(n), rng.poisson(seg_rate * (hi - lo) / _MONTH))
    base = base[hi[base] > lo[base]]
    base_t = clock.draw(rng, lo[base], hi[base])
    # bursts: several tickets within three weeks, no churn implied
    burst_c = np.repeat(np.arange(n), _noise_counts(rng, life, TICKET_BURST_RATE))
    burst_c = burst_c[hi[burst_c] > lo[burst_c]]
    b0 = clock.draw(rng, lo[burst_c], hi[burst_c])
    size = rng.integers(TICKET_BURST_SIZE[0], TICKET_BURST_SIZE[1] + 1, len(burst_c))
    burst = np.repeat(burst_c, size)
    burst_t = np.repeat(b0, size) + _days(rng, (0, TICKET_BURST_DAYS), len(burst))
    # trouble before a support-driven churn
    who = np.flatnonzero(life["churned"] & (life["cause"] == _TROUBLE))
    size = rng.integers(TROUBLE_TICKETS[0], TROUBLE_TICKETS[1] + 1, len(who))
    trouble = np.repeat(who, size)
    trouble_t = _before_churn(rng, clock, life, trouble, (0.5, TROUBLE_WINDOW_DAYS))
    c = np.concatenate([base, burst, trouble])
    t = np.concatenate([base_t, burst_t, trouble_t])
    typ = np.repeat([0, 1, 2], [len(base), len(burst), len(trouble)])
    keep = (t >= lo[c]) & (t < hi[c])
    c, t, typ = c[keep], t[keep], typ[keep]
    order = _sort_order([t, c], [clock.end_s, n])
    c, t, typ = c[order], t[order], typ[order]
    return (c, t, *_ticket_details(rng, t, typ, clock))


def _ticket_details(rng, t, typ, clock):
    priority = _draw_categorical(rng, _TICKET_PRIORITY, typ)
    category = _draw_categorical(rng, _TICKET_CATEGORY, typ)
    hours = (
        np.asarray(_RESOLUTION_HOURS)[priority]
        * np.asarray(_RESOLUTION_FACTOR)[typ]
        * rng.lognormal(0.0, _RESOLUTION_SD, len(t))
    )
    closed = t + np.maximum(np.round(hours * 3600), 60).astype(np.int64)
    is_open = closed >= clock.end_s
    csat = (_draw_categorical(rng, _TICKET_CSAT, typ) + 1).astype(np.float64)
    csat[is_open | (rng.random(len(t)) < CSAT_MISSING_RATE)] = np.nan
    return np.where(is_open, -1, closed), priority, category, csat


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
    who = who[_sort_order([life["churn"][who], who], [clock.end_s, cust["n"]])]
    kind = _categorical((life["cause"][who] == _FAILED).astype(np.int8), CHURN_KINDS)
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

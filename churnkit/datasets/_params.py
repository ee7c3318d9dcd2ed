"""The planted business of :func:`churnkit.datasets.make_saas_events`.

Rates, shares and the calendar of the simulated SaaS company; the clock that
turns seconds since ``start`` into seasonal event times; the vectorised draw
and sort helpers the generator is built from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
TICKET_PRIORITY = (
    (0.30, 0.50, 0.15, 0.05),
    (0.15, 0.45, 0.30, 0.10),
    (0.05, 0.35, 0.40, 0.20),
)
TICKET_CATEGORY = (
    (0.15, 0.25, 0.35, 0.15, 0.10),
    (0.10, 0.55, 0.20, 0.05, 0.10),
    (0.20, 0.50, 0.10, 0.10, 0.10),
)
TICKET_CSAT = (
    (0.03, 0.05, 0.12, 0.35, 0.45),
    (0.10, 0.15, 0.25, 0.30, 0.20),
    (0.35, 0.35, 0.18, 0.08, 0.04),
)
RESOLUTION_HOURS = (48.0, 24.0, 10.0, 3.0)  # median by priority
RESOLUTION_FACTOR = (1.0, 2.0, 8.0)  # by ticket type
RESOLUTION_SD = 0.9

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

DAY = 86_400
WEEK = 7 * DAY
MONTH = 30.436875 * DAY
# codes of CHURN_CAUSES (-1: the customer never initiated churn)
NONE, DECLINE, FAILED, TROUBLE, PRICE, DOWNGRADE = range(6)

# --------------------------------------------------------------------------
# the clock and vectorised draws


class Clock:
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
        self.per_month = (self.mass(self.end_s) - self.mass(0)) / (self.end_s / MONTH)
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


def draw_categorical(rng, probs, rows):
    """One category per element of ``rows`` from the probability row ``probs[row]``."""
    probs = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    k = probs.shape[1]
    flat = (cum + np.arange(len(probs))[:, None]).ravel()
    rows = np.asarray(rows, dtype=np.int64)
    out = np.searchsorted(flat, rng.random(len(rows)) + rows, side="right") - rows * k
    return np.minimum(out, k - 1).astype(np.int8)


def draw_uniform(rng, bounds, size):
    return rng.uniform(bounds[0], bounds[1], size)


def draw_days(rng, bounds, size):
    """Whole seconds in [bounds[0], bounds[1]) days."""
    return (rng.uniform(bounds[0], bounds[1], size) * DAY).astype(np.int64)


def sort_order(keys, maxima):
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


def group_cumsum(values, first):
    """Cumulative sum restarting at each ``first`` row (rows grouped by customer)."""
    total = np.cumsum(values)
    idx = np.arange(len(values))
    start = np.maximum.accumulate(np.where(first, idx, 0))
    return total - total[start] + values[start]

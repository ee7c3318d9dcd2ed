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

# the planted business (rates, shares, kinds) and DESCRIPTION stay importable from
# here, as the docstring of make_saas_events names them
from churnkit.datasets._params import (  # noqa: F401
    BILLING_KINDS,
    CATEGORIES,
    CAUSE_SHARES,
    CHURN_CAUSES,
    CHURN_KINDS,
    CSAT_MISSING_RATE,
    DECLINE_DAYS,
    DECLINE_DROP,
    DECLINE_FULL_AT,
    DISCOUNT_RATE,
    DOWNGRADE_DAYS,
    DOWNGRADE_RATE,
    DUNNING_GRACE_DAYS,
    EXISTING_MAX_AGE_DAYS,
    EXISTING_SHARE,
    FAILED_PAYMENT_RATE,
    FAILURE_PRECURSOR_SHARE,
    FINAL_FAILURE_SHARES,
    MONTHLY_CHURN,
    NOISE_FAILURE_SHARES,
    NOISE_PRICE_FACTOR,
    PAYMENT_ATTEMPT_DAYS,
    PLAN_CHURN_FACTOR,
    PLAN_MEDIAN_SEATS,
    PLAN_SEAT_RANGE,
    PLAN_SEGMENT_SHARES,
    PLAN_SHARES,
    PLAN_USAGE_FACTOR,
    PLANS,
    PRICE_INCREASE_DAYS,
    PRICE_INCREASE_FACTOR,
    PRICE_INCREASE_RATE,
    PRICE_PER_SEAT,
    PRIORITIES,
    REFUND_RATE,
    REGION_SHARES,
    REGIONS,
    SEATS_CHURN_ELASTICITY,
    SEGMENTS,
    SIGNUP_GROWTH,
    TENURE_CHURN_FACTOR,
    TICKET_BURST_DAYS,
    TICKET_BURST_RATE,
    TICKET_BURST_SIZE,
    TICKET_RATE,
    TROUBLE_TICKETS,
    TROUBLE_WINDOW_DAYS,
    UPGRADE_RATE,
    USAGE_DIP_DAYS,
    USAGE_DIP_DROP,
    USAGE_DIP_RATE,
    USAGE_EVENTS_PER_MONTH,
    USAGE_KIND_SHARES,
    USAGE_KINDS,
    USAGE_LEVEL_SD,
    USAGE_QUANTITY_MIN,
    USAGE_QUANTITY_SCALE,
    USAGE_SEATS_ELASTICITY,
    USAGE_TREND_SD,
)
from churnkit.datasets._saas import DESCRIPTION, make_saas_events  # noqa: F401

__all__ = ["make_saas_events"]

"""Business KPIs of a subscription business: churn rate, revenue churn, cohorts.

Every function reads an :class:`churnkit.Events` store and reports by period:
the periods of a pandas period-start frequency (``"MS"`` calendar months,
``"QS"``, ``"YS"``, ``"W-MON"``, ``"D"``...). Period ``k`` is the half-open
interval ``[t_k, t_{k+1})`` and is labelled by its start ``t_k``.

The rules below are those of DESIGN.md and hold for every function here:

* **Active.** A customer is active at ``t`` iff ``start < t <= end`` for one of
  their active spells (``end`` is the churn time, open while active). A
  customer who signs up at ``t`` is not yet active at ``t``; a customer who
  churns at ``t`` is still active at ``t``.
* **Events belong to the period that holds their time.** A signup, churn,
  return or MRR change at ``t_k <= time < t_{k+1}`` belongs to period ``k``.
  A churn exactly at a period start ``t_k`` therefore belongs to period ``k``:
  the customer is active at ``t_k`` (counted in ``customers_start``) and
  churns in that period.
* **MRR.** The ``mrr`` of a billing row is the MRR in effect after the row;
  rows without an ``mrr`` leave it unchanged. A customer's MRR at ``t`` is the
  ``mrr`` of their latest billing row with ``time < t`` while they are active
  at ``t``, and 0 while they are not: MRR drops to 0 at churn, a customer
  has no MRR before their first billing row, and a customer who returns has
  the MRR of their billing rows after the churn (0 without one).
* **Partial periods.** A period that ends after ``events.observed_until`` is
  not fully observed: it is flagged (``partial``) and its rates are NaN.
* **Returns.** A customer who comes back after a churn is counted as a
  reactivation, never as a new customer.

The functions are :func:`churn_rate`, :func:`revenue_churn`,
:func:`cohort_retention`, :func:`convert_rate`, and the plots
:func:`plot_churn_rate`, :func:`plot_revenue_churn` and
:func:`plot_cohort_retention`. ``docs/kpis.md`` works through all of them on a
five-customer example.
"""

from churnkit.metrics._cohorts import cohort_retention
from churnkit.metrics._plots import (
    plot_churn_rate,
    plot_cohort_retention,
    plot_revenue_churn,
)
from churnkit.metrics._rates import CHURN_RATE_COLUMNS as CHURN_RATE_COLUMNS
from churnkit.metrics._rates import churn_rate, convert_rate
from churnkit.metrics._revenue import REVENUE_CHURN_COLUMNS as REVENUE_CHURN_COLUMNS
from churnkit.metrics._revenue import revenue_churn

__all__ = [
    "churn_rate",
    "revenue_churn",
    "cohort_retention",
    "convert_rate",
    "plot_churn_rate",
    "plot_revenue_churn",
    "plot_cohort_retention",
]
